//! Checks Twitch's examples against the schema without compiling anything:
//! every example response and notification is walked against its models
//! (unknown fields, missing fields, unexpected nulls, wrong JSON types,
//! enum values the schema lacks). The tests decode the same examples
//! through the generated Rust; this is the fast version for schema authors.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{Enum, Field, Model, Schema, Shape, TimeUnit, Ty};

struct Types<'a> {
    models: BTreeMap<&'a str, &'a Model>,
    enums: BTreeMap<&'a str, &'a Enum>,
}

impl<'a> Types<'a> {
    fn of(schema: &'a Schema) -> Self {
        Types {
            models: schema.modules.iter().flat_map(|m| &m.models).map(|m| (m.name.as_str(), m)).collect(),
            enums: schema.modules.iter().flat_map(|m| &m.enums).map(|e| (e.name.as_str(), e)).collect(),
        }
    }
}

/// Every mismatch between a response body of the endpoint `id` and the
/// schema (`None`: no such endpoint). Used for any body, not only the
/// examples: `learn`'s tests check observed payloads with it.
pub fn check_response_body(schema: &Schema, id: &str, body: &Value) -> Option<Vec<String>> {
    let types = Types::of(schema);
    let ep = schema.modules.iter().flat_map(|m| &m.endpoints).find(|e| e.id == id)?;
    let mut errs = Vec::new();
    check_response(&types, ep, body, &mut errs);
    Some(errs)
}

/// Every mismatch between an event (the `event` object, or a batched
/// type's `events` list) and the schema (`None`: no such type or version).
pub fn check_event(schema: &Schema, ty: &str, version: &str, event: &Value) -> Option<Vec<String>> {
    let types = Types::of(schema);
    let s = schema.modules.iter().flat_map(|m| &m.subscriptions).find(|s| s.ty == ty && s.version == version)?;
    let t = Ty::Named(s.event.clone());
    let t = if s.batched { Ty::Vec(Box::new(t)) } else { t };
    let mut errs = Vec::new();
    check_value(&types, &t, event, "", &mut errs);
    Some(errs)
}

/// Every mismatch between an example and its model.
pub fn check_examples(schema: &Schema) -> Diagnostics {
    let types = Types::of(schema);
    let mut diags = Diagnostics::default();
    for m in &schema.modules {
        let file = format!("schema/{}", m.rel_path);
        for ep in &m.endpoints {
            let Some(ex) = &ep.example_response else { continue };
            let mut errs = Vec::new();
            match serde_json::from_str::<Value>(ex) {
                Err(e) => errs.push(format!("not JSON: {e}")),
                Ok(v) => check_response(&types, ep, &v, &mut errs),
            }
            for e in errs {
                diags.push(Diagnostic::new(file.clone(), ep.line, ep.id.clone(), format!("example response: {e}")));
            }
        }
        for s in &m.subscriptions {
            let Some(ex) = &s.example else { continue };
            let item = format!("{} v{}", s.ty, s.version);
            let mut errs = Vec::new();
            match serde_json::from_str::<Value>(ex) {
                Err(e) => errs.push(format!("not JSON: {e}")),
                Ok(v) => {
                    let key = if s.batched { "events" } else { "event" };
                    match v.get(key) {
                        None => errs.push(format!("no `{key}`")),
                        Some(ev) => {
                            let t = Ty::Named(s.event.clone());
                            let t = if s.batched { Ty::Vec(Box::new(t)) } else { t };
                            check_value(&types, &t, ev, key, &mut errs);
                        }
                    }
                    if let Some(cond) = v.pointer("/subscription/condition") {
                        check_value(&types, &Ty::Named(s.type_name.clone()), cond, "subscription.condition", &mut errs);
                    }
                }
            }
            for e in errs {
                diags.push(Diagnostic::new(file.clone(), s.line, item.clone(), format!("example: {e}")));
            }
        }
    }
    diags
}

fn check_response(types: &Types<'_>, ep: &crate::model::Endpoint, v: &Value, errs: &mut Vec<String>) {
    let item = ep.response.model.clone().map(Ty::Named).unwrap_or(Ty::Json);
    let Some(obj) = v.as_object() else {
        errs.push("the body is not an object".into());
        return;
    };
    match ep.response.shape {
        Shape::Object => {
            check_value(types, &item, v, "", errs);
            return;
        }
        Shape::None | Shape::Text => return,
        Shape::Data => match obj.get("data") {
            Some(d) => check_value(types, &Ty::Vec(Box::new(item)), d, "data", errs),
            None => errs.push("no `data`".into()),
        },
        Shape::DataObject => match obj.get("data") {
            Some(d) => check_value(types, &item, d, "data", errs),
            None => errs.push("no `data`".into()),
        },
    }
    for (k, val) in obj {
        if k == "data" {
            continue;
        }
        if k == "pagination" && ep.response.paginated {
            continue;
        }
        match ep.response.extra.iter().find(|f| &f.wire == k) {
            Some(f) => check_field(types, f, Some(val), k, errs),
            None => errs.push(format!("`{k}`: top-level field the schema lacks (add it to `extra`)")),
        }
    }
    for f in &ep.response.extra {
        if !obj.contains_key(&f.wire) {
            check_field(types, f, None, &f.wire, errs);
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

fn check_field(types: &Types<'_>, f: &Field, v: Option<&Value>, path: &str, errs: &mut Vec<String>) {
    match v {
        None if !(f.option || f.ty.is_vec() || f.deprecated.is_some() && crate::emit::has_default(&f.ty)) => {
            errs.push(format!("`{path}` is missing but not optional"))
        }
        None => {}
        Some(Value::Null) if !f.option && !f.ty.is_vec() => errs.push(format!("`{path}` is null but not nullable")),
        Some(Value::Null) => {}
        // Optional timestamps accept "" (read as None).
        Some(Value::String(s)) if s.is_empty() && f.option && f.ty == Ty::Timestamp => {}
        Some(v) => check_value(types, &f.ty, v, path, errs),
    }
}

fn check_value(types: &Types<'_>, ty: &Ty, v: &Value, path: &str, errs: &mut Vec<String>) {
    let bad = |errs: &mut Vec<String>, want: &str| errs.push(format!("`{path}` should be {want}, is {v}"));
    match ty {
        Ty::String | Ty::Secret | Ty::UserId | Ty::UserLogin | Ty::Id(_) => {
            if !v.is_string() {
                bad(errs, "a string");
            }
        }
        Ty::Integer | Ty::Unsigned(_) => {
            if !(v.is_i64() || v.is_u64()) {
                bad(errs, "an integer");
            }
        }
        Ty::Duration(TimeUnit::Seconds | TimeUnit::Minutes) => {
            if !v.is_u64() {
                bad(errs, "a whole number of seconds or minutes, not below 0");
            }
        }
        Ty::Duration(TimeUnit::DecimalSeconds) => {
            if !v.as_f64().is_some_and(|x| x >= 0.0) {
                bad(errs, "a number of seconds, not below 0");
            }
        }
        Ty::Number => {
            if !v.is_number() {
                bad(errs, "a number");
            }
        }
        Ty::Boolean => {
            if !v.is_boolean() {
                bad(errs, "a boolean");
            }
        }
        Ty::Timestamp => match v.as_str() {
            Some(s) if looks_like_rfc3339(s) => {}
            _ => bad(errs, "an RFC 3339 timestamp"),
        },
        Ty::Json => {}
        Ty::Vec(inner) => match v.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    check_value(types, inner, item, &format!("{path}[{i}]"), errs);
                }
            }
            None => bad(errs, "an array"),
        },
        Ty::Named(n) => {
            if let Some(e) = types.enums.get(n.as_str()) {
                match v.as_str() {
                    Some(s) if e.values.iter().any(|x| x.wire == s) => {}
                    Some(s) => errs.push(format!("`{path}`: value \"{s}\" is not in enum {n}")),
                    None => bad(errs, "a string"),
                }
            } else if let Some(m) = types.models.get(n.as_str()) {
                match v.as_object() {
                    Some(obj) => {
                        for k in obj.keys() {
                            if !m.fields.iter().any(|f| &f.wire == k) {
                                errs.push(format!("`{}`: field the model {n} lacks", join(path, k)));
                            }
                        }
                        for f in &m.fields {
                            check_field(types, f, obj.get(&f.wire), &join(path, &f.wire), errs);
                        }
                    }
                    None => bad(errs, &format!("an object ({n})")),
                }
            }
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`
pub fn looks_like_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    if b.len() < 20 || ![0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18].iter().all(|&i| digit(i)) {
        return false;
    }
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while digit(i) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len() && digit(i + 1) && digit(i + 2) && b[i + 3] == b':' && digit(i + 4) && digit(i + 5)
        }
        _ => false,
    }
}
