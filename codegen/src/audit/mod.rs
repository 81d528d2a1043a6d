//! The audit: compare the schema with saved copies of Twitch's reference
//! pages and list what differs — endpoints, parameters, body and response
//! fields, subscription types, condition and event fields, and coarse types.
//!
//! A difference the schema explains in its `decisions` is listed in the
//! item's `audit_accept` (the difference's text, as printed); everything else
//! is unrecorded and makes the command fail. An `audit_accept` entry that
//! matches nothing is reported too, so the lists stay honest.

pub mod html;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use html::{Block, Cell};

use crate::diag::Diagnostics;
use crate::model::{Model, Schema, Shape, TimeUnit, Ty};

/// One difference between the docs and the schema.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Difference {
    /// Endpoint id or `type vN`; empty for whole-page differences.
    pub item: String,
    /// What differs, e.g. `query first: in the docs, not in the schema`.
    pub what: String,
    /// Listed in the item's `audit_accept`.
    pub accepted: bool,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = if self.accepted { "accepted" } else { "NEW" };
        if self.item.is_empty() {
            write!(f, "[{mark}] {}", self.what)
        } else {
            write!(f, "[{mark}] {}: {}", self.item, self.what)
        }
    }
}

/// The audit's findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub differences: Vec<Difference>,
    /// Endpoints and subscription types found on the pages.
    pub endpoints_in_docs: usize,
    pub subscriptions_in_docs: usize,
}

impl Report {
    /// The summary line.
    pub fn summary(&self) -> String {
        let new = self.unrecorded().count();
        format!(
            "{} endpoints and {} subscription types in the docs; {} differences, {} accepted, {} unrecorded",
            self.endpoints_in_docs,
            self.subscriptions_in_docs,
            self.differences.len(),
            self.differences.len() - new,
            new
        )
    }

    /// Differences no decision explains.
    pub fn unrecorded(&self) -> impl Iterator<Item = &Difference> {
        self.differences.iter().filter(|d| !d.accepted)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.differences {
            writeln!(f, "{d}")?;
        }
        f.write_str(&self.summary())
    }
}

/// Coarse kinds that the docs' type column and the schema can both say.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Str,
    Int,
    Num,
    Bool,
    Obj,
    Arr(Box<Kind>),
    /// Anything (the schema's `json`) or a type the docs name by link.
    Any,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Str => f.write_str("string"),
            Kind::Int => f.write_str("integer"),
            Kind::Num => f.write_str("number"),
            Kind::Bool => f.write_str("boolean"),
            Kind::Obj => f.write_str("object"),
            Kind::Arr(k) => write!(f, "{k}[]"),
            Kind::Any => f.write_str("any"),
        }
    }
}

fn doc_kind(t: &str) -> Kind {
    let t = t.trim().to_ascii_lowercase();
    if let Some(inner) = t.strip_suffix("[]") {
        return Kind::Arr(Box::new(doc_kind(inner)));
    }
    match t.as_str() {
        "string" | "str" | "timestamp" | "date" => Kind::Str,
        "integer" | "int" | "int64" | "int32" | "long" | "unsigned integer" => Kind::Int,
        "float" | "number" | "double" | "decimal" => Kind::Num,
        "boolean" | "bool" => Kind::Bool,
        "object" | "map" => Kind::Obj,
        "array" => Kind::Arr(Box::new(Kind::Any)),
        _ => Kind::Any,
    }
}

fn compatible(a: &Kind, b: &Kind) -> bool {
    match (a, b) {
        (Kind::Any, _) | (_, Kind::Any) => true,
        (Kind::Int, Kind::Num) | (Kind::Num, Kind::Int) => true,
        (Kind::Arr(x), Kind::Arr(y)) => compatible(x, y),
        (x, y) => x == y,
    }
}

struct Types<'a> {
    models: BTreeMap<&'a str, &'a Model>,
    enums: BTreeSet<&'a str>,
}

impl<'a> Types<'a> {
    fn new(schema: &'a Schema) -> Self {
        Self {
            models: schema.modules.iter().flat_map(|m| &m.models).map(|m| (m.name.as_str(), m)).collect(),
            enums: schema.modules.iter().flat_map(|m| &m.enums).map(|e| e.name.as_str()).collect(),
        }
    }

    fn kind(&self, t: &Ty) -> Kind {
        match t {
            Ty::String | Ty::Secret | Ty::UserId | Ty::UserLogin | Ty::Id(_) | Ty::Timestamp => Kind::Str,
            Ty::Integer | Ty::Unsigned(_) | Ty::Duration(TimeUnit::Seconds | TimeUnit::Minutes) => Kind::Int,
            Ty::Number | Ty::Duration(TimeUnit::DecimalSeconds) => Kind::Num,
            Ty::Boolean => Kind::Bool,
            Ty::Json => Kind::Any,
            Ty::Vec(i) => Kind::Arr(Box::new(self.kind(i))),
            Ty::Named(n) if self.enums.contains(n.as_str()) => Kind::Str,
            Ty::Named(_) => Kind::Obj,
        }
    }

    /// Every field path below a model: `a`, `a.b`, ... with its kind.
    fn flatten(&self, model: &str, prefix: &str, out: &mut BTreeMap<String, Kind>, depth: usize) {
        let Some(m) = self.models.get(model) else { return };
        if depth > 8 {
            return;
        }
        for f in &m.fields {
            let path = if prefix.is_empty() { f.wire.clone() } else { format!("{prefix}.{}", f.wire) };
            out.insert(path.clone(), self.kind(&f.ty));
            if let Ty::Named(n) = f.ty.leaf() {
                self.flatten(n, &path, out, depth + 1);
            }
        }
    }
}

/// Rows of a table as `path → kind` (`type_col` is the type column's index).
fn doc_paths(rows: &[Vec<Cell>], type_col: usize, skip_depth0: &[&str]) -> BTreeMap<String, Kind> {
    let mut out = BTreeMap::new();
    doc_paths_into(rows, type_col, skip_depth0, None, "", &mut out, 0);
    out
}

/// As [`doc_paths`], expanding a row whose type links to another table of
/// `linked` (EventSub's shared objects) as that row's children.
fn doc_paths_into(
    rows: &[Vec<Cell>],
    type_col: usize,
    skip_depth0: &[&str],
    linked: Option<&BTreeMap<String, Vec<Vec<Cell>>>>,
    prefix: &str,
    out: &mut BTreeMap<String, Kind>,
    level: usize,
) {
    let mut stack: Vec<String> = Vec::new();
    for row in rows {
        let Some(name_cell) = row.first() else { continue };
        let name = name_cell.text.split_whitespace().next().unwrap_or("").trim_matches('`').to_owned();
        if name.is_empty() {
            continue;
        }
        let depth = name_cell.depth.min(stack.len());
        stack.truncate(depth);
        stack.push(name.clone());
        if depth == 0 && skip_depth0.contains(&name.as_str()) {
            continue;
        }
        let type_cell = row.get(type_col);
        let mut kind = type_cell.map(|c| doc_kind(&c.text)).unwrap_or(Kind::Any);
        let path = if prefix.is_empty() { stack.join(".") } else { format!("{prefix}.{}", stack.join(".")) };
        let target = type_cell.and_then(|c| c.link.as_deref()).and_then(anchor_of);
        if let (Some(tables), Some(anchor)) = (linked, target)
            && let Some(sub) = tables.get(&anchor).filter(|_| level < 4)
        {
            if kind == Kind::Any {
                kind = Kind::Obj;
            }
            doc_paths_into(sub, type_col, &[], linked, &path, out, level + 1);
        }
        out.insert(path, kind);
    }
}

fn compare(
    diffs: &mut Vec<(String, String)>,
    item: &str,
    what: &str,
    docs: &BTreeMap<String, Kind>,
    schema: &BTreeMap<String, Kind>,
) {
    for (path, dk) in docs {
        match schema.get(path) {
            None => diffs.push((item.to_owned(), format!("{what} {path}: in the docs, not in the schema"))),
            Some(sk) if !compatible(dk, sk) => {
                diffs.push((item.to_owned(), format!("{what} {path}: the docs say {dk}, the schema has {sk}")))
            }
            _ => {}
        }
    }
    for path in schema.keys() {
        if !docs.contains_key(path) {
            diffs.push((item.to_owned(), format!("{what} {path}: in the schema, not in the docs")));
        }
    }
}

/// Which table a heading introduces on the Helix page.
fn helix_table_kind(heading: &str) -> Option<&'static str> {
    let h = heading.to_ascii_lowercase();
    if h.contains("query param") {
        Some("query")
    } else if h.contains("request body") {
        Some("body")
    } else if h.contains("response body") {
        Some("response")
    } else {
        None
    }
}

/// Endpoint id → table kind → rows.
type HelixDocs = BTreeMap<String, BTreeMap<&'static str, Vec<Vec<Cell>>>>;

fn read_helix(page: &str) -> HelixDocs {
    let mut out: HelixDocs = BTreeMap::new();
    let mut endpoint: Option<String> = None;
    let mut table: Option<&'static str> = None;
    let mut pending_h2: Option<String> = None;
    for b in html::blocks(page) {
        match b {
            Block::Heading { level: 2, id, .. } => {
                pending_h2 = id;
                endpoint = None;
                table = None;
            }
            Block::Heading { level: 3, text, .. } => {
                if text.eq_ignore_ascii_case("URL")
                    && let Some(id) = pending_h2.clone()
                {
                    out.entry(id.clone()).or_default();
                    endpoint = Some(id);
                }
                table = helix_table_kind(&text);
            }
            Block::Table(rows) => {
                if let (Some(e), Some(t)) = (&endpoint, table) {
                    out.entry(e.clone()).or_default().entry(t).or_default().extend(rows);
                }
                table = None;
            }
            _ => {}
        }
    }
    out
}

fn audit_helix(schema: &Schema, types: &Types<'_>, page: &str, diffs: &mut Vec<(String, String)>) -> usize {
    let docs = read_helix(page);
    let endpoints: BTreeMap<&str, &crate::model::Endpoint> =
        schema.modules.iter().flat_map(|m| &m.endpoints).map(|e| (e.id.as_str(), e)).collect();
    for id in docs.keys() {
        if !endpoints.contains_key(id.as_str()) {
            diffs.push((id.clone(), "endpoint: in the docs, not in the schema".into()));
        }
    }
    for (id, ep) in &endpoints {
        let Some(tables) = docs.get(*id) else {
            diffs.push(((*id).to_owned(), "endpoint: in the schema, not in the docs".into()));
            continue;
        };
        let empty = Vec::new();
        // Query: names and kinds (repeatable parameters are documented as their element type).
        let dq = doc_paths(tables.get("query").unwrap_or(&empty), 1, &[]);
        let sq: BTreeMap<String, Kind> = ep.query.iter().map(|f| (f.wire.clone(), types.kind(&f.ty))).collect();
        compare(diffs, id, "query", &dq, &sq);
        // Body: top-level fields and everything nested below them.
        let db = doc_paths(tables.get("body").unwrap_or(&empty), 1, &[]);
        let mut sb = BTreeMap::new();
        for f in &ep.body {
            sb.insert(f.wire.clone(), types.kind(&f.ty));
            if let Ty::Named(n) = f.ty.leaf() {
                types.flatten(n, &f.wire, &mut sb, 0);
            }
        }
        compare(diffs, id, "body", &db, &sb);
        // Response: `data` items (or the object itself) and the extra top-level fields.
        let rows = tables.get("response").unwrap_or(&empty);
        let mut dr = doc_paths(rows, 1, &[]);
        let mut sr = BTreeMap::new();
        if ep.response.paginated {
            dr.retain(|p, _| p != "pagination" && !p.starts_with("pagination."));
        }
        if let Some(m) = &ep.response.model {
            match ep.response.shape {
                Shape::Data => {
                    sr.insert("data".to_owned(), Kind::Arr(Box::new(Kind::Obj)));
                    types.flatten(m, "data", &mut sr, 0);
                }
                Shape::DataObject => {
                    sr.insert("data".to_owned(), Kind::Obj);
                    types.flatten(m, "data", &mut sr, 0);
                }
                Shape::Object => types.flatten(m, "", &mut sr, 0),
                Shape::None | Shape::Text => {}
            }
        }
        for f in &ep.response.extra {
            sr.insert(f.wire.clone(), types.kind(&f.ty));
            if let Ty::Named(n) = f.ty.leaf() {
                types.flatten(n, &f.wire, &mut sr, 0);
            }
        }
        if matches!(ep.response.shape, Shape::None | Shape::Text) {
            dr.clear();
        }
        compare(diffs, id, "response", &dr, &sr);
    }
    docs.len()
}

/// `(type, version)` → anchor of its section, from the types page's index table.
fn read_subscription_index(blocks: &[Block]) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for b in blocks {
        let Block::Table(rows) = b else { continue };
        for row in rows {
            if row.len() < 3 {
                continue;
            }
            let ty = row[1].text.trim_matches('`').to_owned();
            let version = row[2].text.trim_matches('`').to_owned();
            if !ty.contains('.') || ty.contains(' ') || version.contains(' ') || version.is_empty() {
                continue;
            }
            if let Some(anchor) = row[0].link.as_deref().and_then(|l| l.strip_prefix('#')) {
                out.insert((ty, version), anchor.to_owned());
            }
        }
    }
    out
}

fn anchor_of(link: &str) -> Option<String> {
    link.rsplit_once('#').map(|(_, a)| a.to_owned())
}

/// What a subscription type's section says about its condition and event.
#[derive(Debug, Clone, Default)]
struct SectionLinks {
    /// Anchor of the condition table in the EventSub reference.
    condition: Option<String>,
    /// Anchor of the event table in the EventSub reference.
    event: Option<String>,
    /// Condition fields printed inline, under a `condition` row of the request-body table.
    inline_condition: Vec<Vec<Cell>>,
}

/// For each section anchor: the condition and event anchors its tables link
/// to, or the condition rows it prints inline.
fn read_subscription_links(blocks: &[Block], anchors: &BTreeSet<String>) -> BTreeMap<String, SectionLinks> {
    let mut out: BTreeMap<String, SectionLinks> = BTreeMap::new();
    let mut current: Option<String> = None;
    for b in blocks {
        match b {
            Block::Heading { id: Some(id), .. } if anchors.contains(id) => current = Some(id.clone()),
            Block::Heading { level: 2, .. } => current = None,
            Block::Table(rows) => {
                let Some(cur) = &current else { continue };
                let entry = out.entry(cur.clone()).or_default();
                let mut in_condition = false;
                for row in rows {
                    let Some(first) = row.first() else { continue };
                    let link = row.get(1).and_then(|c| c.link.as_deref()).and_then(anchor_of);
                    if first.depth == 0 {
                        in_condition = false;
                    } else if in_condition {
                        let mut row = row.clone();
                        row[0].depth -= 1;
                        entry.inline_condition.push(row);
                        continue;
                    }
                    match first.text.as_str() {
                        "condition" if entry.condition.is_none() && entry.inline_condition.is_empty() => {
                            in_condition = link.is_none();
                            entry.condition = link;
                        }
                        "event" | "events" if entry.event.is_none() => entry.event = link,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn read_reference_tables(page: &str) -> BTreeMap<String, Vec<Vec<Cell>>> {
    let mut out = BTreeMap::new();
    let mut current: Option<String> = None;
    for b in html::blocks(page) {
        match b {
            Block::Heading { id, .. } => current = id,
            Block::Table(rows) => {
                if let Some(id) = current.take() {
                    out.insert(id, rows);
                }
            }
        }
    }
    out
}

fn audit_eventsub(
    schema: &Schema,
    types: &Types<'_>,
    types_page: &str,
    reference_page: &str,
    diffs: &mut Vec<(String, String)>,
) -> usize {
    let blocks = html::blocks(types_page);
    let index = read_subscription_index(&blocks);
    let anchors: BTreeSet<String> = index.values().cloned().collect();
    let links = read_subscription_links(&blocks, &anchors);
    let reference = read_reference_tables(reference_page);
    let subs: BTreeMap<(String, String), &crate::model::Subscription> =
        schema.modules.iter().flat_map(|m| &m.subscriptions).map(|s| ((s.ty.clone(), s.version.clone()), s)).collect();
    for (ty, v) in index.keys() {
        if !subs.contains_key(&(ty.clone(), v.clone())) {
            diffs.push((format!("{ty} v{v}"), "subscription type: in the docs, not in the schema".into()));
        }
    }
    for ((ty, v), s) in &subs {
        let item = format!("{ty} v{v}");
        let Some(anchor) = index.get(&(ty.clone(), v.clone())) else {
            diffs.push((item, "subscription type: in the schema, not in the docs".into()));
            continue;
        };
        let section = links.get(anchor).cloned().unwrap_or_default();
        let (cond, event) = (section.condition.clone(), section.event.clone());
        let inline = (!section.inline_condition.is_empty()).then_some(&section.inline_condition);
        match cond.and_then(|c| reference.get(&c)).or(inline) {
            Some(rows) => {
                let dc = doc_paths(rows, 1, &[]);
                let mut sc = BTreeMap::new();
                types.flatten(&s.type_name, "", &mut sc, 0);
                compare(diffs, &item, "condition", &dc, &sc);
            }
            None => diffs.push((item.clone(), "condition: no condition table found in the docs".into())),
        }
        match event.and_then(|e| reference.get(&e)) {
            Some(rows) => {
                let mut de = BTreeMap::new();
                doc_paths_into(rows, 1, &[], Some(&reference), "", &mut de, 0);
                let mut se = BTreeMap::new();
                types.flatten(&s.event, "", &mut se, 0);
                compare(diffs, &item, "event", &de, &se);
            }
            None => diffs.push((item.clone(), "event: no event table found in the docs".into())),
        }
    }
    index.len()
}

/// An `audit_accept` entry matches a difference exactly, or, ending in
/// `*`, every difference that starts with what comes before the `*`
/// (`response data.guests.*` for a table Twitch printed flat).
fn matches_accept(pattern: &str, what: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => what.starts_with(prefix),
        None => pattern == what,
    }
}

/// Audit the schema against a directory holding Twitch's saved pages
/// (`reference.html`, `eventsub-subscription-types.html`, `eventsub-reference.html`).
pub fn audit(schema_dir: &Path, docs_dir: &Path) -> Result<Report, Diagnostics> {
    let schema = crate::check(schema_dir)?;
    let read = |name: &str| {
        std::fs::read_to_string(docs_dir.join(name)).map_err(|e| {
            Diagnostics::one(crate::Diagnostic::new(
                docs_dir.join(name).display().to_string(),
                0,
                "",
                format!("cannot read: {e}"),
            ))
        })
    };
    let helix = read("reference.html")?;
    let types_page = read("eventsub-subscription-types.html")?;
    let reference = read("eventsub-reference.html")?;
    Ok(audit_pages(&schema, &helix, &types_page, &reference))
}

/// The audit over pages already read.
pub fn audit_pages(schema: &Schema, helix: &str, types_page: &str, reference: &str) -> Report {
    let types = Types::new(schema);
    let mut raw = Vec::new();
    let endpoints_in_docs = audit_helix(schema, &types, helix, &mut raw);
    let subscriptions_in_docs = audit_eventsub(schema, &types, types_page, reference, &mut raw);

    let mut accept: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for m in &schema.modules {
        for e in &m.endpoints {
            accept.entry(e.id.clone()).or_default().extend(e.audit_accept.iter().map(String::as_str));
        }
        for s in &m.subscriptions {
            accept
                .entry(format!("{} v{}", s.ty, s.version))
                .or_default()
                .extend(s.audit_accept.iter().map(String::as_str));
        }
    }
    let mut used: BTreeSet<(String, String)> = BTreeSet::new();
    let mut differences: Vec<Difference> = raw
        .into_iter()
        .map(|(item, what)| {
            let hit = accept.get(&item).and_then(|a| a.iter().find(|p| matches_accept(p, &what)).copied());
            let accepted = hit.is_some();
            if let Some(p) = hit {
                used.insert((item.clone(), p.to_owned()));
            }
            Difference { item, what, accepted }
        })
        .collect();
    for (item, list) in &accept {
        for a in list {
            if !used.contains(&(item.clone(), (*a).to_owned())) {
                differences.push(Difference {
                    item: item.clone(),
                    what: format!("audit_accept entry matches nothing: {a}"),
                    accepted: false,
                });
            }
        }
    }
    differences.sort();
    differences.dedup();
    Report { differences, endpoints_in_docs, subscriptions_in_docs }
}
