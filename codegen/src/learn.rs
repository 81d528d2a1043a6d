//! `twitch-codegen learn REPORT.json`: turn an observe-mode report (what
//! live Twitch sent that the schema lacks) into proposed YAML.
//!
//! Each finding becomes an edit of the schema's text, where a maintainer
//! would make it by hand: a new optional field appended to the object that
//! carried it (its type from the example, nested objects with their
//! fields), a new enum value, `nullable: true` on a field that came as
//! `null`. The endpoint or subscription type that saw it gets a decision
//! line, "seen from live Twitch on DATE". Events of unknown types are not
//! turned into YAML (a new subscription type needs Twitch's docs); they are
//! listed as notes. The edits are shown as a diff against `schema/` for
//! review; `--write` applies them.
//!
//! The report is read with the type that writes it, `twitch_base::observe::Report`
//! (`twitch::observe::Report`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use heck::ToUpperCamelCase;
use serde_json::Value;
use serde_saphyr::Spanned;

use twitch_base::observe::{Finding, Report, Source};

use crate::load::{FieldDef, SchemaFile};

/// One schema file before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Relative to the schema directory (`helix/users.yaml`).
    pub rel_path: String,
    pub old: String,
    pub new: String,
}

/// What `learn` proposes.
#[derive(Debug, Clone, Default)]
pub struct Proposal {
    pub changes: Vec<FileChange>,
    /// Findings that did not become YAML, and why.
    pub notes: Vec<String>,
}

impl Proposal {
    /// A unified diff of every change, paths as `schema/<file>`.
    pub fn diff(&self) -> String {
        let mut out = String::new();
        for c in &self.changes {
            let old = format!("a/schema/{}", c.rel_path);
            let new = format!("b/schema/{}", c.rel_path);
            let diff = similar::TextDiff::from_lines(&c.old, &c.new);
            out.push_str(&diff.unified_diff().context_radius(3).header(&old, &new).to_string());
        }
        out
    }

    /// Write the changed files into `schema_dir`.
    pub fn apply(&self, schema_dir: &Path) -> std::io::Result<()> {
        for c in &self.changes {
            std::fs::write(schema_dir.join(&c.rel_path), &c.new)?;
        }
        Ok(())
    }
}

/// Propose the YAML for `report` (JSON text) against the schema in
/// `schema_dir`; `date` goes into the decision lines (`2026-12-02`).
pub fn learn(schema_dir: &Path, report: &str, date: &str) -> Result<Proposal, String> {
    let report: Report = serde_json::from_str(report).map_err(|e| format!("not an observe report: {e}"))?;
    let files = crate::load::load_dir(schema_dir).map_err(|d| d.to_string())?;
    let mut texts = BTreeMap::new();
    for f in &files {
        let text = std::fs::read_to_string(schema_dir.join(&f.rel_path)).map_err(|e| format!("{}: {e}", f.rel_path))?;
        texts.insert(f.rel_path.clone(), text);
    }
    let index = Index::new(&files);
    let mut edits = Edits::default();
    let mut notes = Vec::new();
    // Decision lines per item, in the order the findings came.
    let mut decisions: BTreeMap<(String, usize), (usize, Vec<String>)> = BTreeMap::new();
    let mut decide = |item: &Item<'_>, line: String| {
        let entry = decisions.entry((item.file.to_owned(), item.line)).or_insert((item.col, Vec::new()));
        if !entry.1.contains(&line) {
            entry.1.push(line);
        }
    };
    let mut placed_fields = BTreeSet::new();
    for finding in &report.findings {
        match finding {
            Finding::UnknownField { source, path, example, .. } => {
                let Some((item, root)) = index.root(source) else {
                    notes.push(format!("{source}: not in the schema; field `{path}` not placed"));
                    continue;
                };
                let segs = segments(path);
                let Some((last, parents)) = segs.split_last() else { continue };
                let placed = (|| {
                    let parent = index.descend(root.clone(), parents)?;
                    if parent.fields.iter().any(|f| f.value.name == last.0) {
                        return Err(format!("`{}` is already in the schema", last.0));
                    }
                    let at = parent.fields.last().ok_or("the object has no fields to add beside")?;
                    Ok((parent.file, at, parent.name))
                })();
                match placed {
                    Ok((file, at, owner)) => {
                        let text = &texts[file];
                        let col = at.referenced.column() as usize;
                        let end = entry_end(text, at.referenced.line() as usize, col);
                        if placed_fields.insert((file.to_owned(), end, last.0.clone())) {
                            let field = new_field(&owner, &last.0, example, last.1, date);
                            edits.insert(file, end, indent(&field, col.saturating_sub(3)));
                        }
                        let line =
                            format!("seen from live Twitch on {date}, not in Twitch's docs: `{path}` ({})", describe(example));
                        // Every item whose answer holds the object learns of it, not only the one that saw it.
                        for other in index.items_using(&owner) {
                            decide(&other, line.clone());
                        }
                        decide(&item, line);
                        match example_edit(&texts[item.file], source, &item, path, &last.0, example) {
                            Some((at, text)) => edits.insert(item.file, at, text),
                            None => notes.push(format!("{source}: `{path}` not added to the example (add it by hand)")),
                        }
                    }
                    Err(why) => notes.push(format!("{source}: field `{path}` not placed: {why}")),
                }
            }
            Finding::UnknownEnumValue { source, enum_name, value } => {
                let Some((file, e)) = index.enums.get(enum_name.as_str()) else {
                    notes.push(format!("{source}: enum {enum_name} is not in the schema; value \"{value}\" not placed"));
                    continue;
                };
                if e.value.values.iter().any(|v| v.value.value == *value) {
                    notes.push(format!("{source}: enum {enum_name} already has \"{value}\""));
                    continue;
                }
                let Some(at) = e.value.values.last() else { continue };
                let text = &texts[*file];
                let col = at.referenced.column() as usize;
                let end = entry_end(text, at.referenced.line() as usize, col);
                if placed_fields.insert((file.to_string(), end, format!("={value}"))) {
                    edits.insert(file, end, indent(&new_enum_value(value, date), col.saturating_sub(3)));
                }
                if let Some((item, _)) = index.root(source) {
                    decide(&item, format!("seen from live Twitch on {date}, not in Twitch's docs: {enum_name} value \"{value}\""));
                }
            }
            Finding::NullForRequired { source, path } => {
                let Some((item, root)) = index.root(source) else {
                    notes.push(format!("{source}: not in the schema; null `{path}` not placed"));
                    continue;
                };
                let segs = segments(path);
                let Some((last, parents)) = segs.split_last() else { continue };
                let found = index.descend(root, parents).and_then(|parent| {
                    let f = parent.fields.iter().find(|f| f.value.name == last.0).ok_or("no such field")?;
                    Ok((parent.file, f))
                });
                match found {
                    Ok((_, f)) if f.value.nullable => notes.push(format!("{source}: `{path}` is nullable already")),
                    Ok((file, f)) => {
                        let line = f.referenced.line() as usize;
                        if placed_fields.insert((file.to_owned(), line, "nullable".into())) {
                            let col = f.referenced.column() as usize;
                            edits.insert(file, line, format!("{}nullable: true\n", " ".repeat(col - 1)));
                        }
                        decide(&item, format!("seen from live Twitch on {date}, not in Twitch's docs: `{path}` can be null"));
                    }
                    Err(why) => notes.push(format!("{source}: null `{path}` not placed: {why}")),
                }
            }
            Finding::UnknownEvent { source, example } => notes.push(format!(
                "{source}: a subscription type or version the schema lacks; add it from Twitch's docs (an event seen: {})",
                serde_json::to_string(example).unwrap_or_default()
            )),
            // A kind of finding newer than this generator.
            other => notes.push(format!("{}: a finding this learn does not place: {other:?}", other.source())),
        }
    }
    for ((file, line), (col, lines)) in decisions {
        let text = &texts[&file];
        let (at, block) = decision_block(text, line, col, &lines);
        edits.insert(&file, at, block);
    }
    let mut changes = Vec::new();
    for (file, text) in &texts {
        if let Some(new) = edits.apply(file, text) {
            changes.push(FileChange { rel_path: file.clone(), old: text.clone(), new });
        }
    }
    Ok(Proposal { changes, notes })
}

/// Insertions by file: after which line (1-based; 0 is the top) what text goes.
#[derive(Default)]
struct Edits(BTreeMap<String, BTreeMap<usize, String>>);

impl Edits {
    fn insert(&mut self, file: &str, after_line: usize, text: String) {
        self.0.entry(file.to_owned()).or_default().entry(after_line).or_default().push_str(&text);
    }

    fn apply(&self, file: &str, text: &str) -> Option<String> {
        let edits = self.0.get(file)?;
        let mut out = String::with_capacity(text.len() + 1024);
        if let Some(top) = edits.get(&0) {
            out.push_str(top);
        }
        for (i, line) in text.split_inclusive('\n').enumerate() {
            match edits.get(&(i + 1)) {
                // The line is replaced by what follows the marker.
                Some(add) if add.starts_with(REPLACE) => out.push_str(&add[REPLACE.len()..]),
                Some(add) => {
                    out.push_str(line);
                    if !line.ends_with('\n') {
                        out.push('\n');
                    }
                    out.push_str(add);
                }
                None => out.push_str(line),
            }
        }
        Some(out)
    }
}

/// An endpoint or subscription entry: its file, first line and key column.
#[derive(Clone)]
struct Item<'a> {
    file: &'a str,
    line: usize,
    col: usize,
}

/// An object's field list, in the file that holds it.
#[derive(Clone)]
struct Object<'a> {
    file: &'a str,
    fields: &'a [Spanned<FieldDef>],
    /// Its Rust model name, the prefix of a new inline object's name.
    name: String,
}

struct Index<'a> {
    files: &'a [SchemaFile],
    models: BTreeMap<&'a str, (&'a str, &'a [Spanned<FieldDef>])>,
    enums: BTreeMap<&'a str, (&'a str, &'a Spanned<crate::load::EnumDef>)>,
}

impl<'a> Index<'a> {
    fn new(files: &'a [SchemaFile]) -> Self {
        let mut models = BTreeMap::new();
        let mut enums = BTreeMap::new();
        // Inline objects with a `model` name are models too.
        fn inline<'a>(
            file: &'a str,
            fields: &'a [Spanned<FieldDef>],
            models: &mut BTreeMap<&'a str, (&'a str, &'a [Spanned<FieldDef>])>,
        ) {
            for f in fields {
                if let Some(name) = &f.value.model
                    && !f.value.fields.is_empty()
                {
                    models.entry(name.as_str()).or_insert((file, f.value.fields.as_slice()));
                }
                inline(file, &f.value.fields, models);
            }
        }
        for f in files {
            let file = f.rel_path.as_str();
            for m in &f.doc.models {
                models.insert(m.value.name.as_str(), (file, m.value.fields.as_slice()));
                inline(file, &m.value.fields, &mut models);
            }
            for e in &f.doc.endpoints {
                inline(file, &e.value.response.value.fields, &mut models);
                inline(file, &e.value.response.value.extra, &mut models);
            }
            for s in &f.doc.subscriptions {
                inline(file, &s.value.event_fields, &mut models);
            }
            for e in &f.doc.enums {
                enums.insert(e.value.name.as_str(), (f.rel_path.as_str(), e));
            }
        }
        Self { files, models, enums }
    }

    /// Every endpoint and subscription whose answer reaches the object
    /// named `model` (its fields, nested objects and named models).
    fn items_using(&self, model: &str) -> Vec<Item<'a>> {
        let mut out = Vec::new();
        for f in self.files {
            let file = f.rel_path.as_str();
            for e in &f.doc.endpoints {
                let r = &e.value.response.value;
                let base = e.value.id.to_upper_camel_case();
                let mut roots: Vec<(String, &[Spanned<FieldDef>])> = vec![(format!("{base}Response"), &r.extra[..])];
                match &r.model {
                    Some(m) if r.fields.is_empty() => {
                        if let Some((_, fields)) = self.models.get(m.as_str()) {
                            roots.push((m.clone(), fields));
                        }
                    }
                    m => roots.push((m.clone().unwrap_or_else(|| format!("{base}Item")), &r.fields[..])),
                }
                if roots.iter().any(|(name, fields)| self.reaches(name, fields, model, 0)) {
                    out.push(Item { file, line: e.referenced.line() as usize, col: e.referenced.column() as usize });
                }
            }
            for sub in &f.doc.subscriptions {
                let v = &sub.value;
                let (name, fields): (String, &[Spanned<FieldDef>]) = match &v.event {
                    Some(m) if v.event_fields.is_empty() => match self.models.get(m.as_str()) {
                        Some((_, fields)) => (m.clone(), fields),
                        None => continue,
                    },
                    _ => (
                        format!(
                            "{}Event",
                            crate::model::subscription_type_name(&v.ty, &v.version, v.rust_name.as_deref())
                        ),
                        &v.event_fields[..],
                    ),
                };
                if self.reaches(&name, fields, model, 0) {
                    out.push(Item {
                        file,
                        line: sub.referenced.line() as usize,
                        col: sub.referenced.column() as usize,
                    });
                }
            }
        }
        out
    }

    /// Is `model` the object `name` (with `fields`) or one below it?
    fn reaches(&self, name: &str, fields: &[Spanned<FieldDef>], model: &str, depth: usize) -> bool {
        if name == model {
            return true;
        }
        if depth > 8 {
            return false;
        }
        fields.iter().any(|f| {
            let ty = f.value.ty.trim_start_matches('[').trim_end_matches(']');
            if ty == "object" {
                let inner =
                    f.value.model.clone().unwrap_or_else(|| format!("{name}{}", f.value.name.to_upper_camel_case()));
                self.reaches(&inner, &f.value.fields, model, depth + 1)
            } else {
                self.models.get(ty).is_some_and(|(_, fs)| self.reaches(ty, fs, model, depth + 1))
            }
        })
    }

    /// The item a source names and the object its paths start from: the
    /// body of a Helix response (with `data` as a field), the event.
    fn root(&self, source: &Source) -> Option<(Item<'a>, Root<'a>)> {
        for f in self.files {
            let file = f.rel_path.as_str();
            match source {
                Source::Endpoint(id) => {
                    let Some(ep) = f.doc.endpoints.iter().find(|e| &e.value.id == id) else { continue };
                    let item = Item { file, line: ep.referenced.line() as usize, col: ep.referenced.column() as usize };
                    let r = &ep.value.response.value;
                    let base = id.to_upper_camel_case();
                    let data = match &r.model {
                        Some(m) => {
                            self.models.get(m.as_str()).map(|(file, fields)| Object { file, fields, name: m.clone() })
                        }
                        None => Some(Object { file, fields: &r.fields, name: format!("{base}Item") }),
                    };
                    let body = match r.shape.as_str() {
                        "object" => Root::Object(data?),
                        _ => Root::Body {
                            data,
                            extra: Object { file, fields: &r.extra, name: format!("{base}Response") },
                        },
                    };
                    return Some((item, body));
                }
                Source::Event { subscription_type, version } => {
                    let Some(s) = f
                        .doc
                        .subscriptions
                        .iter()
                        .find(|s| &s.value.ty == subscription_type && &s.value.version == version)
                    else {
                        continue;
                    };
                    let item = Item { file, line: s.referenced.line() as usize, col: s.referenced.column() as usize };
                    let event = match &s.value.event {
                        Some(m) => self.models.get(m.as_str()).map(|(file, fields)| Object {
                            file,
                            fields,
                            name: m.clone(),
                        })?,
                        None => {
                            let name = crate::model::subscription_type_name(
                                &s.value.ty,
                                &s.value.version,
                                s.value.rust_name.as_deref(),
                            );
                            Object { file, fields: &s.value.event_fields, name: format!("{name}Event") }
                        }
                    };
                    return Some((item, Root::Object(event)));
                }
            }
        }
        None
    }

    /// The object at `segs` below `root` (each segment a key and how many
    /// list levels follow it).
    fn descend(&self, root: Root<'a>, segs: &[(String, usize)]) -> Result<Object<'a>, String> {
        let mut segs = segs;
        let mut object = match root {
            Root::Object(o) => o,
            Root::Body { data, extra } => match segs.split_first() {
                Some(((k, _), rest)) if k == "data" => {
                    segs = rest;
                    data.ok_or("the response's data has no model")?
                }
                _ => extra,
            },
        };
        for (key, _) in segs {
            if key.is_empty() {
                continue; // a batched type's `events` list
            }
            let f = object.fields.iter().find(|f| &f.value.name == key).ok_or_else(|| format!("no field `{key}`"))?;
            let ty = f.value.ty.trim_start_matches('[').trim_end_matches(']');
            object = if ty == "object" {
                let name =
                    f.value.model.clone().unwrap_or_else(|| format!("{}{}", object.name, key.to_upper_camel_case()));
                Object { file: object.file, fields: &f.value.fields, name }
            } else if let Some((file, fields)) = self.models.get(ty) {
                Object { file, fields, name: ty.to_owned() }
            } else {
                return Err(format!("`{key}` is a {ty}, not an object"));
            };
        }
        Ok(object)
    }
}

#[derive(Clone)]
enum Root<'a> {
    /// A Helix body: `data`'s items, and the fields beside `data`.
    Body {
        data: Option<Object<'a>>,
        extra: Object<'a>,
    },
    Object(Object<'a>),
}

/// `data[].a.b[]` → `[("data", 1), ("a", 0), ("b", 1)]`; a leading `[]`
/// (a batched type's list of events) is `("", 1)`.
fn segments(path: &str) -> Vec<(String, usize)> {
    path.split('.')
        .map(|s| {
            let key = s.trim_end_matches("[]");
            (key.to_owned(), (s.len() - key.len()) / 2)
        })
        .collect()
}

/// The last line (1-based) of the entry whose first key is at `col`
/// (1-based) on `line`: the lines after it that are blank or indented
/// deeper belong to it.
fn entry_end(text: &str, line: usize, col: usize) -> usize {
    let mut end = line;
    for (i, l) in text.lines().enumerate().skip(line) {
        let trimmed = l.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if l.len() - trimmed.len() < col - 1 {
            break;
        }
        end = i + 1;
    }
    end
}

/// A line that adds the field to the item's example, as the mock sends it
/// (strict example decoding then covers the field): after the opening
/// brace of the first object at the finding's path, in the example's own
/// indentation. `None` when the example has no such object on a line of
/// its own.
fn example_edit(
    text: &str,
    source: &Source,
    item: &Item<'_>,
    path: &str,
    name: &str,
    example: &Value,
) -> Option<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let end = entry_end(text, item.line, item.col);
    let key = match source {
        Source::Endpoint(_) => "response: |",
        Source::Event { .. } => "example: |",
    };
    let at = (item.line - 1..end).find(|&i| lines[i].trim_start() == key)?;
    // The block: the lines after the key, indented deeper.
    let key_indent = lines[at].len() - lines[at].trim_start().len();
    let block: Vec<(usize, &str)> = (at + 1..end)
        .map(|i| (i, lines[i]))
        .take_while(|(_, l)| l.trim().is_empty() || l.len() - l.trim_start().len() > key_indent)
        .collect();
    let json: String = block.iter().map(|(_, l)| format!("{l}\n")).collect();
    // The path of the object to add to: a notification's event, or the body.
    let mut want: Vec<String> = path.split('.').map(str::to_owned).collect();
    want.pop();
    if let Source::Event { .. } = source {
        let first = if json.contains("\"events\"") { "events[]" } else { "event" };
        want.insert(0, first.to_owned());
    }
    let want: Vec<String> = want.into_iter().filter(|s| !s.is_empty()).collect();
    let brace = json_objects(&json).into_iter().find(|(p, _)| *p == want)?.1;
    // Line of the brace within the block, which must end it.
    let before = &json[..brace];
    let row = before.matches('\n').count();
    if !json[brace + 1..].starts_with('\n') {
        return None;
    }
    let next = block.get(row + 1)?.1;
    let pad = &next[..next.len() - next.trim_start().len()];
    let comma = if next.trim_start().starts_with('}') { "" } else { "," };
    let value = serde_json::to_string(example).ok()?;
    Some((block[row].0 + 1, format!("{pad}{}: {value}{comma}\n", quote(name))))
}

/// Every object in a JSON text with its path (keys, and `key[]` for the
/// first element of a list) and the byte offset of its `{`. Text that is
/// not JSON ends the scan.
fn json_objects(text: &str) -> Vec<(Vec<String>, usize)> {
    fn skip_ws(b: &[u8], mut i: usize) -> usize {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    }
    fn string(b: &[u8], mut i: usize) -> Option<(String, usize)> {
        let start = i + 1;
        i += 1;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                b'"' => return Some((String::from_utf8_lossy(&b[start..i]).into_owned(), i + 1)),
                _ => i += 1,
            }
        }
        None
    }
    fn value(b: &[u8], i: usize, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, usize)>) -> Option<usize> {
        let i = skip_ws(b, i);
        match b.get(i)? {
            b'{' => {
                out.push((path.clone(), i));
                let mut j = skip_ws(b, i + 1);
                if b.get(j) == Some(&b'}') {
                    return Some(j + 1);
                }
                loop {
                    let (key, k) = string(b, skip_ws(b, j))?;
                    let k = skip_ws(b, k);
                    if b.get(k) != Some(&b':') {
                        return None;
                    }
                    path.push(key);
                    let after = value(b, k + 1, path, out);
                    path.pop();
                    j = skip_ws(b, after?);
                    match b.get(j)? {
                        b',' => j += 1,
                        b'}' => return Some(j + 1),
                        _ => return None,
                    }
                }
            }
            b'[' => {
                let mut j = skip_ws(b, i + 1);
                if b.get(j) == Some(&b']') {
                    return Some(j + 1);
                }
                let mut first = true;
                loop {
                    let after = if first {
                        let last = path.pop().unwrap_or_default();
                        path.push(format!("{last}[]"));
                        let a = value(b, j, path, out);
                        path.pop();
                        path.push(last);
                        a
                    } else {
                        value(b, j, &mut path.clone(), &mut Vec::new())
                    };
                    first = false;
                    j = skip_ws(b, after?);
                    match b.get(j)? {
                        b',' => j += 1,
                        b']' => return Some(j + 1),
                        _ => return None,
                    }
                }
            }
            b'"' => string(b, i).map(|(_, j)| j),
            _ => {
                let mut j = i;
                while j < b.len() && !matches!(b[j], b',' | b'}' | b']') && !b[j].is_ascii_whitespace() {
                    j += 1;
                }
                Some(j)
            }
        }
    }
    let mut out = Vec::new();
    let _ = value(text.as_bytes(), 0, &mut Vec::new(), &mut out);
    out
}

/// Where the decision lines go in the item at `line` (keys at `col`) and
/// the text to insert there.
fn decision_block(text: &str, line: usize, col: usize, lines: &[String]) -> (usize, String) {
    let pad = " ".repeat(col - 1);
    let items: String = lines.iter().map(|l| format!("{pad}  - {}\n", quote(l))).collect();
    let end = entry_end(text, line, col);
    let all: Vec<&str> = text.lines().collect();
    let key = format!("{pad}decisions:");
    if let Some(at) = (line - 1..end).find(|&i| all[i].starts_with(&key) && !all[i][key.len()..].starts_with(' ')) {
        let rest = all[at][key.len()..].trim();
        if rest == "[]" {
            return (at + 1, format!("{REPLACE}{pad}decisions:\n{items}"));
        }
        // The block list: its items are the lines after the key that are
        // indented deeper or start a `- ` at the key's column.
        let mut last = at + 1;
        for (i, l) in all.iter().enumerate().take(end).skip(at + 1) {
            let t = l.trim_start();
            let ind = l.len() - t.len();
            if t.is_empty() {
                continue;
            }
            if ind > col - 1 || (ind == col - 1 && t.starts_with("- ")) {
                last = i + 1;
            } else {
                break;
            }
        }
        return (last, items);
    }
    (end, format!("{pad}decisions:\n{items}"))
}

use crate::validate::PLACEHOLDER;

/// Starts an insertion that replaces the line it follows.
const REPLACE: &str = "\u{0}replace\u{0}";

fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("a string")
}

fn indent(block: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    block.lines().map(|l| format!("{pad}{l}\n")).collect()
}

/// A short account of an example for a decision line.
fn describe(example: &Value) -> String {
    let text = serde_json::to_string(example).unwrap_or_default();
    let shown: String = text.chars().take(60).collect();
    let shown = if shown.len() < text.len() { format!("{shown}...") } else { shown };
    format!("{}, e.g. {shown}", json_kind(example))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(s) if crate::examples_check::looks_like_rfc3339(s) => "timestamp",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// The schema type of an example value, with inline fields for objects.
fn type_of(v: &Value) -> (String, Option<&serde_json::Map<String, Value>>) {
    match v {
        Value::Null => ("json".into(), None),
        Value::Bool(_) => ("boolean".into(), None),
        Value::Number(n) if n.is_i64() || n.is_u64() => ("integer".into(), None),
        Value::Number(_) => ("number".into(), None),
        Value::String(s) if crate::examples_check::looks_like_rfc3339(s) => ("timestamp".into(), None),
        Value::String(_) => ("string".into(), None),
        Value::Object(o) => ("object".into(), Some(o)),
        Value::Array(items) => match items.first().map(type_of) {
            Some((inner, fields)) if inner != "json" => (format!("\"[{inner}]\""), fields),
            _ => ("json".into(), None),
        },
    }
}

/// A new optional field, at column 0 (the caller indents it). `lists` is
/// how many list levels the path put after the field's name.
fn new_field(owner: &str, name: &str, example: &Value, lists: usize, date: &str) -> String {
    // A path that ended in `[]` saw one element: the field is a list of it.
    let example = if lists > 0 { Value::Array(vec![example.clone()]) } else { example.clone() };
    let mut out = String::new();
    field_lines(&mut out, owner, name, &example, date, true);
    out
}

/// A field's lines; an object gets the model name `<owner><Name>`.
fn field_lines(out: &mut String, owner: &str, name: &str, example: &Value, date: &str, top: bool) {
    let (ty, fields) = type_of(example);
    out.push_str(&format!("- name: {name}\n  type: {ty}\n"));
    let model = format!("{owner}{}", name.to_upper_camel_case());
    if fields.is_some() {
        out.push_str(&format!("  model: {model}\n"));
    }
    let rust_keyword = crate::model::is_keyword(name);
    if rust_keyword {
        out.push_str(&format!("  rust_name: {name}_\n"));
    }
    let description = if top {
        format!("{PLACEHOLDER} seen from live Twitch on {date}; describe it from what it holds.")
    } else {
        format!("{PLACEHOLDER} part of a field seen from live Twitch on {date}; describe it.")
    };
    out.push_str(&format!("  description: {}\n  optional: true\n", quote(&description)));
    if example.is_null() {
        out.push_str("  nullable: true\n");
    }
    if let Some(fields) = fields {
        out.push_str("  fields:\n");
        for (k, v) in fields {
            let mut inner = String::new();
            field_lines(&mut inner, &model, k, v, date, false);
            out.push_str(&indent(&inner, 4));
        }
    }
}

fn new_enum_value(value: &str, date: &str) -> String {
    let rust = value.to_upper_camel_case();
    let mut out = format!("- value: {}\n", quote(value));
    if rust.is_empty() || rust.starts_with(|c: char| c.is_ascii_digit()) {
        out.push_str(&format!("  rust_name: Value{rust}\n"));
    }
    out.push_str(&format!(
        "  description: {}\n",
        quote(&format!("{PLACEHOLDER} seen from live Twitch on {date}; describe it."))
    ));
    out
}
