//! Stage 2: check the loaded files and report every problem at once.

use std::collections::{BTreeMap, BTreeSet};

use serde_saphyr::Spanned;

use crate::diag::{Diagnostic, Diagnostics};
use crate::load::{FieldDef, RuleDef, SchemaFile};
use crate::model::{Ty, fn_name_of_id, is_keyword, parse_example_request, scope_variant, subscription_type_name};

/// Starts every description `twitch-codegen learn` writes. Refused here, so
/// a proposal cannot reach the generated docs before a maintainer has
/// described each new field and value in their own words.
pub const PLACEHOLDER: &str = "TODO(learn):";

/// Cargo features of the generated crate that a schema file may name.
pub const FEATURES: &[&str] = &["beta"];

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];
const TOKENS: &[&str] = &["app", "user", "extension_jwt", "none"];
const SHAPES: &[&str] = &["data", "data_object", "object", "none", "text"];
const TRANSPORTS: &[&str] = &["webhook", "websocket", "conduit"];

struct Ctx<'a> {
    file: String,
    diags: &'a mut Diagnostics,
}

impl Ctx<'_> {
    fn err(&mut self, line: u64, item: &str, msg: impl Into<String>) {
        self.diags.push(Diagnostic::new(self.file.clone(), line as usize, item, msg));
    }
}

/// Where a named type was first defined, for duplicate reports.
struct Defined {
    file: String,
    line: u64,
}

/// Validate every file. Returns all problems, sorted by file and line.
pub fn validate(files: &[SchemaFile]) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::default();

    // Pass 1: collect global names (models, enums incl. inline ones, scopes).
    let mut types: BTreeMap<String, Defined> = BTreeMap::new();
    let mut scopes: BTreeSet<String> = BTreeSet::new();
    let mut scope_variants: BTreeMap<String, String> = BTreeMap::new();
    for f in files {
        let mut cx = Ctx { file: format!("schema/{}", f.rel_path), diags: &mut diags };
        let mut define = |cx: &mut Ctx<'_>, name: &str, line: u64| {
            if let Some(prev) = types.get(name) {
                cx.err(line, name, format!("type '{name}' is already defined at {}:{}", prev.file, prev.line));
            } else {
                types.insert(name.to_owned(), Defined { file: cx.file.clone(), line });
            }
        };
        for m in &f.doc.models {
            define(&mut cx, &m.value.name, m.referenced.line());
            inline_names(&m.value.fields, &mut |n, l| define(&mut cx, n, l));
        }
        for e in &f.doc.enums {
            define(&mut cx, &e.value.name, e.referenced.line());
        }
        for d in &f.doc.ids {
            let line = d.referenced.line();
            let kind = &d.value.name;
            if f.rel_path != "shared.yaml" {
                cx.err(line, kind, "ids are declared in shared.yaml (both areas use them)");
            }
            if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_lowercase() || c == '_') || kind.starts_with('_') {
                cx.err(line, kind, "an id kind is snake_case (`reward`, `emote_set`)");
            }
            if d.value.description.trim().is_empty() {
                cx.err(line, kind, "description is empty");
            }
            // The Rust name is taken, and so is the schema's `id:kind`.
            define(&mut cx, &crate::model::id_type_name(kind), line);
            define(&mut cx, &format!("id:{kind}"), line);
        }
        for ep in &f.doc.endpoints {
            let e = &ep.value;
            for list in [&e.query, &e.body, &e.response.value.fields, &e.response.value.extra] {
                inline_names(list, &mut |n, l| define(&mut cx, n, l));
            }
            for err in &e.errors {
                inline_names(&err.value.fields, &mut |n, l| define(&mut cx, n, l));
                if !err.value.fields.is_empty() {
                    let name = crate::model::error_struct_name(&crate::model::type_name_of_id(&e.id), err.value.status);
                    define(&mut cx, &name, err.referenced.line());
                }
            }
            if !e.response.value.fields.is_empty() {
                let name = e
                    .response
                    .value
                    .model
                    .clone()
                    .unwrap_or_else(|| format!("{}Item", crate::model::type_name_of_id(&e.id)));
                define(&mut cx, &name, e.response.referenced.line());
            }
        }
        for s in &f.doc.subscriptions {
            let v = &s.value;
            inline_names(&v.condition, &mut |n, l| define(&mut cx, n, l));
            inline_names(&v.event_fields, &mut |n, l| define(&mut cx, n, l));
            if !v.event_fields.is_empty() {
                let name = v.event.clone().unwrap_or_else(|| {
                    format!("{}Event", subscription_type_name(&v.ty, &v.version, v.rust_name.as_deref()))
                });
                define(&mut cx, &name, s.referenced.line());
            }
        }
        for s in &f.doc.scopes {
            let line = s.referenced.line();
            let name = &s.value.name;
            if !scopes.insert(name.clone()) {
                cx.err(line, name, "duplicate scope");
            }
            let variant = s.value.rust_name.clone().unwrap_or_else(|| scope_variant(name));
            if !is_ident(&variant) || is_keyword(&variant) {
                cx.err(line, name, format!("variant '{variant}' is not a Rust name; set rust_name"));
            }
            if let Some(prev) = scope_variants.insert(variant.clone(), name.clone()) {
                cx.err(line, name, format!("variant '{variant}' clashes with scope '{prev}'; set rust_name"));
            }
            if s.value.description.trim().is_empty() {
                cx.err(line, name, "description is empty");
            }
            if let Some(l) = &s.value.legacy
                && l != "irc"
                && l != "pubsub"
            {
                cx.err(line, name, format!("legacy must be 'irc' or 'pubsub', not '{l}'"));
            }
        }
    }
    let have_scope_file = files.iter().any(|f| !f.doc.scopes.is_empty());

    // Pass 2: per item checks.
    let mut endpoint_ids: BTreeMap<String, String> = BTreeMap::new();
    let mut fn_names: BTreeMap<String, String> = BTreeMap::new();
    let mut sub_ids: BTreeMap<String, String> = BTreeMap::new();
    for f in files {
        let mut cx = Ctx { file: format!("schema/{}", f.rel_path), diags: &mut diags };
        if let Some(feat) = &f.doc.feature
            && !FEATURES.contains(&feat.as_str())
        {
            cx.err(0, "", format!("unknown cargo feature '{feat}' (known: {})", FEATURES.join(", ")));
        }
        for m in &f.doc.models {
            let line = m.referenced.line();
            let item = m.value.name.clone();
            check_type_name(&mut cx, line, &item, &item);
            if m.value.description.trim().is_empty() {
                cx.err(line, &item, "description is empty");
            }
            check_fields(&mut cx, &item, &m.value.fields, &types, FieldKind::Model);
        }
        for e in &f.doc.enums {
            let line = e.referenced.line();
            let item = e.value.name.clone();
            check_type_name(&mut cx, line, &item, &item);
            if e.value.description.trim().is_empty() {
                cx.err(line, &item, "description is empty");
            }
            let mut seen = BTreeSet::new();
            let mut variants = BTreeSet::new();
            for v in &e.value.values {
                let l = v.referenced.line();
                if !seen.insert(v.value.value.clone()) {
                    cx.err(l, &item, format!("duplicate value '{}'", v.value.value));
                }
                let variant = v.value.rust_name.clone().unwrap_or_else(|| crate::model::enum_variant(&v.value.value));
                if !is_ident(&variant) || !variant.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
                    let why = match &v.value.rust_name {
                        Some(r) => format!("rust_name '{r}' is not a PascalCase Rust name"),
                        None => "needs a rust_name (PascalCase)".to_owned(),
                    };
                    cx.err(l, &item, format!("value '{}' {why}", v.value.value));
                } else if variant == "Unknown" || !variants.insert(variant.clone()) {
                    cx.err(l, &item, format!("variant '{variant}' is reserved or used twice; set rust_name"));
                } else if is_keyword(&variant) {
                    cx.err(l, &item, format!("variant '{variant}' is a Rust keyword; set rust_name"));
                }
                if v.value.description.trim().is_empty() {
                    cx.err(l, &item, format!("value '{}': description is empty", v.value.value));
                }
                if v.value.description.trim_start().starts_with(PLACEHOLDER) {
                    cx.err(
                        l,
                        &item,
                        format!("value '{}': description is learn's placeholder: describe it", v.value.value),
                    );
                }
                if let Some(lc) = &v.value.lifecycle {
                    check_dates(&mut cx, l, &format!("{item} value '{}'", v.value.value), lc);
                }
            }
        }
        for ep in &f.doc.endpoints {
            let line = ep.referenced.line();
            let e = &ep.value;
            let item = e.id.clone();
            if e.id.is_empty() || !e.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
                cx.err(line, &item, "id must be Twitch's anchor: lowercase letters, digits and '-'");
            }
            if let Some(prev) = endpoint_ids.insert(e.id.clone(), format!("{}:{line}", cx.file)) {
                cx.err(line, &item, format!("duplicate endpoint id (first at {prev})"));
            }
            let fname = fn_name_of_id(&e.id);
            for name in [&fname, &crate::model::type_name_of_id(&e.id)] {
                if !e.id.is_empty() && !is_ident(name) {
                    cx.err(line, &item, format!("id gives '{name}', which is not a Rust name (start with a letter)"));
                }
            }
            if let Some(prev) = fn_names.insert(fname.clone(), e.id.clone())
                && prev != e.id
            {
                cx.err(line, &item, format!("method name '{fname}' clashes with endpoint '{prev}'"));
            }
            if e.summary.trim().is_empty() {
                cx.err(line, &item, "summary is empty");
            }
            if !METHODS.contains(&e.method.as_str()) {
                cx.err(line, &item, format!("unknown method '{}'", e.method));
            }
            if !e.path.starts_with('/') || e.path.contains('?') {
                cx.err(line, &item, format!("path '{}' must start with '/' and have no query", e.path));
            }
            if e.tokens.is_empty() {
                cx.err(line, &item, "tokens is empty: say which token types the endpoint accepts");
            }
            for t in &e.tokens {
                if !TOKENS.contains(&t.as_str()) {
                    cx.err(line, &item, format!("unknown token type '{t}' (known: {})", TOKENS.join(", ")));
                }
            }
            check_scopes(&mut cx, line, &item, &e.scopes, &scopes, have_scope_file);
            for c in &e.conditional_scopes {
                check_scopes(&mut cx, line, &item, &c.scopes, &scopes, have_scope_file);
            }
            check_item_lifecycle(&mut cx, line, &item, e.lifecycle.as_ref(), e.beta, e.deprecated.is_some());
            if let Some(p) = &e.token_user {
                let param = e.query.iter().chain(&e.body).find(|f| &f.value.name == p);
                match param {
                    None => cx.err(line, &item, format!("token_user names '{p}', which is not a parameter")),
                    Some(f) if f.value.ty != "user_id" => {
                        cx.err(line, &item, format!("token_user '{p}' must be a user_id parameter"))
                    }
                    Some(_) => {}
                }
                if !(e.tokens.iter().any(|t| t == "app") && e.tokens.iter().any(|t| t == "user")) {
                    cx.err(line, &item, "token_user is for endpoints that take an app or a user token");
                }
            }
            if let Some(sp) = &e.split {
                let sl = sp.referenced.line();
                match e.body.iter().find(|f| f.value.name == sp.value.param) {
                    Some(f) if f.value.ty.starts_with('[') => {}
                    _ => cx.err(sl, &item, format!("split names '{}', which is not a body list", sp.value.param)),
                }
                if sp.value.max == 0 {
                    cx.err(sl, &item, "split max must be at least 1");
                }
            }
            let mut statuses = BTreeSet::new();
            for err in &e.errors {
                let el = err.referenced.line();
                if !(400..600).contains(&err.value.status) {
                    cx.err(el, &item, format!("error status {} is not an error (400-599)", err.value.status));
                }
                if !statuses.insert(err.value.status) {
                    cx.err(el, &item, format!("error status {} is listed twice", err.value.status));
                }
                if err.value.when.trim().is_empty() {
                    cx.err(el, &item, "error 'when' is empty");
                }
                if !err.value.documented && e.decisions.is_empty() {
                    cx.err(
                        el,
                        &item,
                        format!(
                            "error {} is not in Twitch's reference: a decision must say where it comes from",
                            err.value.status
                        ),
                    );
                }
                check_fields(&mut cx, &item, &err.value.fields, &types, FieldKind::Model);
            }
            check_fields(&mut cx, &item, &e.query, &types, FieldKind::Query);
            check_fields(&mut cx, &item, &e.body, &types, FieldKind::Body);
            let mut param_names: BTreeSet<&str> = e.query.iter().map(|q| q.value.name.as_str()).collect();
            for b in &e.body {
                if !param_names.insert(b.value.name.as_str()) {
                    cx.err(b.referenced.line(), &item, format!("'{}' is both a query and a body field", b.value.name));
                }
            }
            for r in &e.rules {
                let (params, max) = match &r.value {
                    RuleDef::Exclusive(p) | RuleDef::OneOf(p) | RuleDef::AtLeastOne(p) => (p, None),
                    RuleDef::MaxTotal { params, max } => (params, Some(*max)),
                };
                if params.len() < 2 {
                    cx.err(r.referenced.line(), &item, "a rule needs at least two parameters");
                }
                for p in params {
                    if !param_names.contains(p.as_str()) {
                        cx.err(r.referenced.line(), &item, format!("rule names unknown parameter '{p}'"));
                    }
                }
                if max.is_some() {
                    for p in params {
                        let repeats = e.query.iter().any(|q| &q.value.name == p && q.value.repeat.is_some());
                        if !repeats && param_names.contains(p.as_str()) {
                            cx.err(r.referenced.line(), &item, format!("max_total over '{p}', which does not repeat"));
                        }
                    }
                }
            }
            let r = &e.response.value;
            let rl = e.response.referenced.line();
            if !SHAPES.contains(&r.shape.as_str()) {
                cx.err(rl, &item, format!("unknown response shape '{}' (known: {})", r.shape, SHAPES.join(", ")));
            }
            let has_model = r.model.is_some() || !r.fields.is_empty();
            match r.shape.as_str() {
                "data" | "data_object" | "object" if !has_model => {
                    cx.err(rl, &item, format!("response shape '{}' needs a model or fields", r.shape));
                }
                "none" | "text" if has_model || !r.extra.is_empty() => {
                    cx.err(rl, &item, format!("response shape '{}' has no model or extra fields", r.shape));
                }
                _ => {}
            }
            if let (Some(m), true) = (&r.model, r.fields.is_empty())
                && !types.contains_key(m)
            {
                cx.err(rl, &item, format!("unknown model '{m}'"));
            }
            if let (Some(m), false) = (&r.model, r.fields.is_empty()) {
                check_type_name(&mut cx, rl, &item, m);
            }
            check_fields(&mut cx, &item, &r.fields, &types, FieldKind::Model);
            check_fields(&mut cx, &item, &r.extra, &types, FieldKind::Model);
            match r.items.as_deref() {
                None | Some("many") => {}
                Some("one" | "zero_or_one") => {
                    if r.shape != "data" || r.paginated || !r.extra.is_empty() {
                        cx.err(
                            rl,
                            &item,
                            "items one or zero_or_one needs a 'data' response without pagination or extra fields",
                        );
                    }
                }
                Some(other) => cx.err(rl, &item, format!("unknown items '{other}' (known: many, one, zero_or_one)")),
            }
            if let Some(l) = &e.lookup {
                let ll = l.referenced.line();
                let l = &l.value;
                if !is_ident(&l.name)
                    || !l.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                {
                    cx.err(ll, &item, format!("lookup name '{}' is not a snake_case Rust name", l.name));
                }
                if r.shape != "data" || r.paginated || !r.extra.is_empty() || r.items.is_some() {
                    cx.err(ll, &item, "a lookup needs a plain 'data' list response (not paginated, no extra fields)");
                }
                if l.by.is_empty() {
                    cx.err(ll, &item, "a lookup needs at least one parameter in 'by'");
                }
                let required: Vec<&str> =
                    e.query.iter().filter(|q| q.value.required).map(|q| q.value.name.as_str()).collect();
                for b in &l.by {
                    match e.query.iter().find(|q| &q.value.name == b) {
                        None => cx.err(ll, &item, format!("lookup by '{b}', which is not a query parameter")),
                        // By the one required parameter, or by an optional one when none is required.
                        Some(q) if q.value.required && required.len() != 1 => {
                            cx.err(ll, &item, format!("lookup by '{b}': the endpoint has other required parameters"))
                        }
                        Some(q) if !q.value.required && !required.is_empty() => {
                            cx.err(ll, &item, format!("lookup by '{b}': the endpoint requires other parameters"))
                        }
                        Some(_) => {}
                    }
                }
            }
            if r.paginated {
                if r.shape != "data" {
                    cx.err(rl, &item, "only a 'data' response can be paginated");
                }
                if !e.query.iter().any(|q| q.value.name == "after") {
                    cx.err(rl, &item, "paginated, but there is no 'after' query parameter to send the cursor in");
                }
            }
            for ex in &e.examples.requests {
                match parse_example_request(&ex.value.request, ex.value.body.as_deref()) {
                    Err(msg) => cx.err(ex.referenced.line(), &item, format!("example request: {msg}")),
                    Ok(req) => {
                        if req.method != e.method || req.path != e.path {
                            cx.err(
                                ex.referenced.line(),
                                &item,
                                format!(
                                    "example request is {} {}, endpoint is {} {}",
                                    req.method, req.path, e.method, e.path
                                ),
                            );
                        }
                        for (k, _) in &req.query {
                            if !e.query.iter().any(|q| &q.value.name == k) {
                                cx.err(
                                    ex.referenced.line(),
                                    &item,
                                    format!("example request sets unknown parameter '{k}'"),
                                );
                            }
                        }
                    }
                }
            }
            if let Some(resp) = &e.examples.response
                && let Err(err) = serde_json::from_str::<serde_json::Value>(&resp.value)
            {
                cx.err(resp.referenced.line(), &item, format!("example response is not JSON: {err}"));
            }
        }
        for s in &f.doc.subscriptions {
            let line = s.referenced.line();
            let v = &s.value;
            let item = format!("{} v{}", v.ty, v.version);
            if v.ty.is_empty() || !v.ty.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_') {
                cx.err(line, &item, "type must be lowercase words joined by '.' and '_'");
            }
            if v.version.is_empty() {
                cx.err(line, &item, "version is empty");
            }
            let type_name = subscription_type_name(&v.ty, &v.version, v.rust_name.as_deref());
            if let Some(r) = &v.rust_name {
                if !is_ident(r) || !r.starts_with(|c: char| c.is_ascii_uppercase()) {
                    cx.err(line, &item, format!("rust_name '{r}' is not a PascalCase Rust name"));
                }
            } else if !v.ty.is_empty() && !v.version.is_empty() && !is_ident(&type_name) {
                cx.err(line, &item, format!("type and version give '{type_name}', which is not a Rust name"));
            }
            if let (Some(name), false) = (&v.event, v.event_fields.is_empty()) {
                check_type_name(&mut cx, line, &item, name);
            }
            if let Some(prev) = sub_ids.insert(item.clone(), format!("{}:{line}", cx.file)) {
                cx.err(line, &item, format!("duplicate subscription type and version (first at {prev})"));
            }
            if v.summary.trim().is_empty() {
                cx.err(line, &item, "summary is empty");
            }
            check_scopes(&mut cx, line, &item, &v.scopes, &scopes, have_scope_file);
            for c in &v.conditional_scopes {
                check_scopes(&mut cx, line, &item, &c.scopes, &scopes, have_scope_file);
            }
            for t in v.transports.iter().flatten() {
                if !TRANSPORTS.contains(&t.as_str()) {
                    cx.err(line, &item, format!("unknown transport '{t}'"));
                }
            }
            check_item_lifecycle(&mut cx, line, &item, v.lifecycle.as_ref(), v.beta, false);
            check_fields(&mut cx, &item, &v.condition, &types, FieldKind::Condition);
            match (&v.event, v.event_fields.is_empty()) {
                (None, true) => cx.err(line, &item, "needs an event model or event_fields"),
                (Some(m), true) if !types.contains_key(m) => cx.err(line, &item, format!("unknown model '{m}'")),
                _ => {}
            }
            check_fields(&mut cx, &item, &v.event_fields, &types, FieldKind::Model);
            if let Some(ex) = &v.example {
                match serde_json::from_str::<serde_json::Value>(&ex.value) {
                    Err(err) => cx.err(ex.referenced.line(), &item, format!("example is not JSON: {err}")),
                    Ok(j) => {
                        let key = if v.batched { "events" } else { "event" };
                        if j.get(key).is_none() {
                            cx.err(ex.referenced.line(), &item, format!("example has no '{key}'"));
                        }
                        let sub = j.get("subscription");
                        let ty = sub.and_then(|s| s.get("type")).and_then(|t| t.as_str());
                        let ver = sub.and_then(|s| s.get("version")).and_then(|t| t.as_str());
                        if ty != Some(v.ty.as_str()) || ver != Some(v.version.as_str()) {
                            cx.err(
                                ex.referenced.line(),
                                &item,
                                format!(
                                    "example subscription is {ty:?} v{ver:?}; record a decision and fix the example"
                                ),
                            );
                        }
                    }
                }
            }
        }
    }

    for f in files {
        let mut cx = Ctx { file: format!("schema/{}", f.rel_path), diags: &mut diags };
        for w in &f.doc.withdrawn {
            let line = w.referenced.line();
            let w = &w.value;
            match (&w.endpoint, &w.subscription) {
                (Some(id), None) => {
                    if w.method.as_deref().is_none_or(|m| !METHODS.contains(&m)) || w.path.is_none() {
                        cx.err(line, id, "a withdrawn endpoint needs its method and path");
                    }
                    if w.version.is_some() {
                        cx.err(line, id, "version is for withdrawn subscription types");
                    }
                    if endpoint_ids.contains_key(id) {
                        cx.err(line, id, "withdrawn, but also listed as a live endpoint");
                    }
                }
                (None, Some(ty)) => {
                    let item = format!("{ty} v{}", w.version.as_deref().unwrap_or("?"));
                    if w.version.is_none() {
                        cx.err(line, &item, "a withdrawn subscription type needs its version");
                    }
                    if w.method.is_some() || w.path.is_some() {
                        cx.err(line, &item, "method and path are for withdrawn endpoints");
                    }
                    if sub_ids.contains_key(&item) {
                        cx.err(line, &item, "withdrawn, but also listed as a live subscription type");
                    }
                }
                _ => cx.err(line, &w.name, "a withdrawn item names exactly one of endpoint or subscription"),
            }
            let item = w.endpoint.clone().or_else(|| w.subscription.clone()).unwrap_or_default();
            check_dates(&mut cx, line, &item, &w.lifecycle);
            if w.lifecycle.withdrawn.is_none() {
                cx.err(line, &item, "a withdrawn item needs lifecycle.withdrawn, the date");
            }
            if !(400..600).contains(&w.answer.status) || w.answer.message.trim().is_empty() {
                cx.err(line, &item, "answer needs an error status (400-599) and Twitch's message");
            }
            if w.decisions.is_empty() {
                cx.err(line, &item, "a withdrawn item needs a decision naming its source");
            }
        }
    }

    check_areas(files, &types, &mut diags);
    check_unions(files, &mut diags);

    if diags.is_empty() { Ok(()) } else { Err(diags.sorted()) }
}

/// Dates are `YYYY-MM-DD`, and a beta comes before its release.
fn check_dates(cx: &mut Ctx<'_>, line: u64, item: &str, lc: &crate::load::LifecycleDef) {
    let dates = [
        ("beta", &lc.beta),
        ("ga", &lc.ga),
        ("added", &lc.added),
        ("deprecated", &lc.deprecated),
        ("withdrawn", &lc.withdrawn),
    ];
    for (key, d) in dates {
        if let Some(d) = d
            && !is_date(d)
        {
            cx.err(line, item, format!("lifecycle {key} '{d}' is not a date (YYYY-MM-DD)"));
        }
    }
    if let (Some(b), Some(g)) = (&lc.beta, &lc.ga)
        && b > g
    {
        cx.err(line, item, format!("lifecycle: beta {b} is after ga {g}"));
    }
}

/// An endpoint's or subscription type's lifecycle against its `beta` and
/// `deprecated` keys.
fn check_item_lifecycle(
    cx: &mut Ctx<'_>,
    line: u64,
    item: &str,
    lc: Option<&crate::load::LifecycleDef>,
    beta: bool,
    deprecated: bool,
) {
    let Some(lc) = lc else { return };
    check_dates(cx, line, item, lc);
    if beta && lc.ga.is_some() {
        cx.err(line, item, "beta: true, but lifecycle says it is generally available");
    }
    if lc.deprecated.is_some() && !deprecated && !item.contains(' ') {
        cx.err(line, item, "lifecycle has a deprecated date but no deprecated text saying why");
    }
    if lc.withdrawn.is_some() {
        cx.err(line, item, "withdrawn items go under `withdrawn:`, not among the live ones");
    }
}

fn is_date(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && (1..=12).contains(&d[5..7].parse::<u8>().unwrap_or(0))
        && (1..=31).contains(&d[8..10].parse::<u8>().unwrap_or(0))
}

/// `helix` and `eventsub` are cargo features: code in one may not name a
/// type defined in the other, and shared files may name neither.
fn check_areas(files: &[SchemaFile], types: &BTreeMap<String, Defined>, diags: &mut Diagnostics) {
    let area_of = |file: &str| -> Option<&'static str> {
        let rel = file.strip_prefix("schema/").unwrap_or(file);
        if rel.starts_with("helix/") {
            Some("helix")
        } else if rel.starts_with("eventsub/") {
            Some("eventsub")
        } else {
            None
        }
    };
    for f in files {
        let file = format!("schema/{}", f.rel_path);
        let here = area_of(&file);
        let mut refs: Vec<(u64, String, String)> = Vec::new();
        for m in &f.doc.models {
            named_refs(&m.value.fields, &m.value.name, &mut refs);
        }
        for e in &f.doc.endpoints {
            let v = &e.value;
            for list in [&v.query, &v.body, &v.response.value.fields, &v.response.value.extra] {
                named_refs(list, &v.id, &mut refs);
            }
            if let Some(m) = &v.response.value.model {
                refs.push((v.response.referenced.line(), v.id.clone(), m.clone()));
            }
        }
        for s in &f.doc.subscriptions {
            let v = &s.value;
            let item = format!("{} v{}", v.ty, v.version);
            named_refs(&v.condition, &item, &mut refs);
            named_refs(&v.event_fields, &item, &mut refs);
            if let Some(m) = &v.event {
                refs.push((s.referenced.line(), item.clone(), m.clone()));
            }
        }
        for (line, item, name) in refs {
            let Some(def) = types.get(&name) else { continue };
            let there = area_of(&def.file);
            if there.is_some() && there != here {
                diags.push(Diagnostic::new(
                    file.clone(),
                    line as usize,
                    item,
                    format!(
                        "uses {name} from {}, which is behind the `{}` feature; move {name} to schema/shared.yaml",
                        def.file,
                        there.unwrap_or_default()
                    ),
                ));
            }
        }
    }
}

/// Every named type the fields (and their inline fields) use: (line, item, type).
fn named_refs(fields: &[Spanned<FieldDef>], item: &str, out: &mut Vec<(u64, String, String)>) {
    for fd in fields {
        if let Ok(t) = Ty::parse(&fd.value.ty)
            && let Ty::Named(n) = t.leaf()
            && !n.is_empty()
        {
            out.push((fd.referenced.line(), item.to_owned(), n.clone()));
        }
        named_refs(&fd.value.fields, item, out);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FieldKind {
    Model,
    Query,
    Body,
    Condition,
}

fn inline_names(fields: &[Spanned<FieldDef>], define: &mut dyn FnMut(&str, u64)) {
    for f in fields {
        if !f.value.fields.is_empty() {
            if let Some(m) = &f.value.model {
                define(m, f.referenced.line());
            }
            inline_names(&f.value.fields, define);
        }
    }
}

/// What the emitter can turn into an identifier: ASCII letters, digits and
/// `_`, not starting with a digit (`format_ident!` panics on anything else,
/// so validation must catch it first).
fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s != "_"
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn check_type_name(cx: &mut Ctx<'_>, line: u64, item: &str, name: &str) {
    let ok =
        name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) && name.chars().all(|c| c.is_ascii_alphanumeric());
    if !ok {
        cx.err(line, item, format!("type name '{name}' must be PascalCase"));
    }
}

fn check_scopes(
    cx: &mut Ctx<'_>,
    line: u64,
    item: &str,
    groups: &[Vec<String>],
    known: &BTreeSet<String>,
    have_scope_file: bool,
) {
    for g in groups {
        if g.is_empty() {
            cx.err(line, item, "empty scope group");
        }
        for s in g {
            if have_scope_file && !known.contains(s) {
                cx.err(line, item, format!("unknown scope '{s}'"));
            }
        }
    }
}

fn check_fields(
    cx: &mut Ctx<'_>,
    item: &str,
    fields: &[Spanned<FieldDef>],
    types: &BTreeMap<String, Defined>,
    kind: FieldKind,
) {
    let mut names = BTreeSet::new();
    let mut rust_names = BTreeSet::new();
    for f in fields {
        let line = f.referenced.line();
        let d = &f.value;
        let it = format!("{item}.{}", d.name);
        if !names.insert(d.name.clone()) {
            cx.err(line, &it, "duplicate field");
        }
        let rust = d.rust_name.clone().unwrap_or_else(|| heck::ToSnakeCase::to_snake_case(d.name.as_str()));
        if d.rust_name.is_none() && is_keyword(&rust) {
            cx.err(line, &it, format!("'{rust}' is a Rust keyword; set rust_name"));
        }
        if d.rust_name.as_deref().is_some_and(is_keyword) {
            cx.err(line, &it, "rust_name is a Rust keyword");
        }
        if !is_ident(&rust) {
            let what = if d.rust_name.is_some() { "rust_name" } else { "the name" };
            cx.err(line, &it, format!("{what} gives '{rust}', which is not a Rust name; set rust_name"));
        }
        if let (Some(m), false) = (&d.model, d.fields.is_empty()) {
            check_type_name(cx, line, &it, m);
        }
        if !rust_names.insert(rust.clone()) {
            cx.err(line, &it, format!("Rust name '{rust}' is used twice; set rust_name"));
        }
        if d.description.trim().is_empty() {
            cx.err(line, &it, "description is empty");
        }
        if d.description.trim_start().starts_with(PLACEHOLDER) {
            cx.err(line, &it, "description is learn's placeholder: describe the field in your own words");
        }
        if let Some(lc) = &d.lifecycle {
            check_dates(cx, line, &it, lc);
            if lc.deprecated.is_some() && d.deprecated.is_none() {
                cx.err(line, &it, "lifecycle has a deprecated date but no deprecated text saying why");
            }
            if lc.withdrawn.is_some() {
                cx.err(line, &it, "a withdrawn field is removed from the schema, its decision kept on the item");
            }
        }
        match Ty::parse(&d.ty) {
            Err(msg) => cx.err(line, &it, msg),
            Ok(ty) => {
                let leaf = ty.leaf();
                match leaf {
                    Ty::Named(n) if n.is_empty() => {
                        if d.fields.is_empty() {
                            cx.err(line, &it, "type 'object' needs fields");
                        } else if d.model.is_none() {
                            cx.err(line, &it, "an inline object needs a model name (model: ...)");
                        }
                    }
                    Ty::Id(k) => {
                        if !types.contains_key(&format!("id:{k}")) {
                            cx.err(line, &it, format!("unknown id kind '{k}' (declare it under ids: in shared.yaml)"));
                        }
                        if !d.fields.is_empty() {
                            cx.err(line, &it, "fields are only allowed with type 'object' or '[object]'");
                        }
                    }
                    Ty::Named(n) => {
                        if !types.contains_key(n) {
                            cx.err(line, &it, format!("unknown type '{n}'"));
                        }
                        if !d.fields.is_empty() {
                            cx.err(line, &it, "fields are only allowed with type 'object' or '[object]'");
                        }
                    }
                    _ => {
                        if !d.fields.is_empty() {
                            cx.err(line, &it, "fields are only allowed with type 'object' or '[object]'");
                        }
                    }
                }
                if d.repeat.is_some() && kind != FieldKind::Query {
                    cx.err(line, &it, "repeat is only for query parameters");
                }
                if d.repeat == Some(0) {
                    cx.err(line, &it, "repeat must be at least 1");
                }
                if kind == FieldKind::Query && (ty.is_vec() || matches!(leaf, Ty::Json | Ty::Named(_))) {
                    let is_enum_like = matches!(leaf, Ty::Named(n) if !n.is_empty());
                    if ty.is_vec() || !is_enum_like {
                        cx.err(line, &it, "a query parameter is a scalar or an enum; use repeat for lists");
                    }
                }
                if (d.min.is_some() || d.max.is_some()) && !matches!(leaf, Ty::Integer | Ty::Number | Ty::Duration(_)) {
                    cx.err(line, &it, "min/max only apply to integer, number or duration fields");
                }
                if matches!(leaf, Ty::Duration(_)) && (ty.is_vec() || d.repeat.is_some()) {
                    cx.err(line, &it, "a duration cannot be a list or a repeated parameter");
                }
                if let (Some(a), Some(b)) = (d.min, d.max)
                    && a > b
                {
                    cx.err(line, &it, format!("min {a} is greater than max {b}"));
                }
                if d.max_len.is_some() && !matches!(leaf, Ty::String | Ty::Secret) {
                    cx.err(line, &it, "max_len only applies to string fields");
                }
            }
        }
        if matches!(kind, FieldKind::Query | FieldKind::Body | FieldKind::Condition) && (d.optional || d.nullable) {
            cx.err(line, &it, "optional/nullable are for model fields; parameters are optional unless required");
        }
        if kind == FieldKind::Model && d.required {
            cx.err(line, &it, "required is for parameters; model fields are present unless optional or nullable");
        }
        if !d.fields.is_empty() {
            let sub = kind;
            check_fields(cx, item, &d.fields, types, if sub == FieldKind::Query { FieldKind::Body } else { sub });
        }
    }
}

/// `union:` keys: the tag is a field whose type is a string enum, each
/// variant is one of its values and names an optional object field.
fn check_unions(files: &[SchemaFile], diags: &mut Diagnostics) {
    let enums: BTreeMap<&str, Vec<&str>> = files
        .iter()
        .flat_map(|f| &f.doc.enums)
        .map(|e| (e.value.name.as_str(), e.value.values.iter().map(|v| v.value.value.as_str()).collect()))
        .collect();
    for f in files {
        let mut cx = Ctx { file: format!("schema/{}", f.rel_path), diags };
        let mut lists: Vec<(String, &[Spanned<FieldDef>])> = Vec::new();
        for sm in &f.doc.models {
            let m = &sm.value;
            if let Some(u) = &m.union {
                union_fields(&mut cx, &enums, &m.name, u, &m.fields, sm.referenced.line());
            }
            lists.push((m.name.clone(), &m.fields));
        }
        for e in &f.doc.endpoints {
            let r = &e.value.response.value;
            for list in [&e.value.query, &e.value.body, &r.fields, &r.extra] {
                lists.push((e.value.id.clone(), list));
            }
        }
        for s in &f.doc.subscriptions {
            lists.push((s.value.ty.clone(), &s.value.condition));
            lists.push((s.value.ty.clone(), &s.value.event_fields));
        }
        while let Some((item, list)) = lists.pop() {
            for fd in list {
                let d = &fd.value;
                let it = format!("{item}.{}", d.name);
                if let Some(u) = &d.union {
                    if d.fields.is_empty() {
                        cx.err(fd.referenced.line(), &it, "union needs inline fields (type object or [object])");
                    } else {
                        union_fields(&mut cx, &enums, &it, u, &d.fields, fd.referenced.line());
                    }
                }
                if !d.fields.is_empty() {
                    lists.push((it, &d.fields));
                }
            }
        }
    }
}

fn union_fields(
    cx: &mut Ctx<'_>,
    enums: &BTreeMap<&str, Vec<&str>>,
    item: &str,
    u: &crate::load::UnionDef,
    fields: &[Spanned<FieldDef>],
    line: u64,
) {
    let find = |name: &str| fields.iter().find(|f| f.value.name == name).map(|f| &f.value);
    let Some(tag) = find(&u.tag) else {
        cx.err(line, item, format!("union tag '{}' is not one of the fields", u.tag));
        return;
    };
    let Some(values) = enums.get(tag.ty.as_str()) else {
        cx.err(line, item, format!("union tag '{}' must have a string enum type, not '{}'", u.tag, tag.ty));
        return;
    };
    for (value, field) in &u.variants {
        if !values.contains(&value.as_str()) {
            cx.err(line, item, format!("union variant '{value}' is not a value of {}", tag.ty));
        }
        match find(field) {
            None => {
                cx.err(line, item, format!("union variant '{value}' names '{field}', which is not one of the fields"))
            }
            Some(f) if !(f.optional || f.nullable) => cx.err(
                line,
                item,
                format!("union field '{field}' must be optional or nullable (set only for its kind)"),
            ),
            Some(f)
                if f.fields.is_empty()
                    && (f.ty == "object"
                        || !f.ty.starts_with(|c: char| c.is_ascii_uppercase())
                        || enums.contains_key(f.ty.as_str())) =>
            {
                cx.err(line, item, format!("union field '{field}' must be an object"))
            }
            Some(_) => {}
        }
    }
}
