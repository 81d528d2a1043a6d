//! Observe mode: what decoding met that the schema does not describe.
//!
//! Live Twitch runs ahead of its docs. An [`Observer`] given to the client
//! (`ClientBuilder::observe` in the runtime), to EventSub
//! sessions and to the webhook verifier records, per endpoint and per event
//! type and version:
//!
//! - fields the schema does not know, with one example value and its JSON type;
//! - enum values that decoded as `Unknown`;
//! - `null` where the schema says a value is required (that answer fails to
//!   decode; the finding says where);
//! - events of types or versions the schema does not know.
//!
//! Each new finding is logged once (`tracing`, target `twitch::observe`);
//! [`Observer::report`] and [`Observer::write_report`] give all of them, the
//! input of `twitch-codegen learn`, which proposes the YAML.
//!
//! Off unless asked for: without an observer, decoding is the plain pass.
//! With one, responses decode in one pass that also notes what it skipped,
//! and EventSub events are read a second time for it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a finding was made.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A Helix endpoint, by Twitch's reference id (`get-users`).
    Endpoint(String),
    /// An EventSub event.
    Event {
        /// The subscription type.
        #[serde(rename = "type")]
        subscription_type: String,
        /// Its version.
        version: String,
    },
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Endpoint(id) => f.write_str(id),
            Self::Event { subscription_type, version } => write!(f, "{subscription_type} v{version}"),
        }
    }
}

/// One thing decoding met that the schema lacks.
///
/// Paths are JSON paths from the response body (`data[].broadcaster_type`)
/// or from the event object (`message.fragments[].text`); `[]` stands for
/// any element of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Finding {
    /// A field the schema does not know.
    UnknownField {
        /// Where.
        source: Source,
        /// The field's path.
        path: String,
        /// `string`, `integer`, `number`, `boolean`, `object`, `array` or `null`.
        json_type: String,
        /// The first value seen (secret-looking fields are not kept).
        example: Value,
    },
    /// A value of a string enum the schema does not list.
    UnknownEnumValue {
        /// Where.
        source: Source,
        /// The enum's name in the schema.
        #[serde(rename = "enum")]
        enum_name: String,
        /// The value.
        value: String,
    },
    /// `null` where the schema requires a value (the answer failed to decode).
    NullForRequired {
        /// Where.
        source: Source,
        /// The field's path.
        path: String,
    },
    /// An event of a type or version the schema does not know.
    UnknownEvent {
        /// The type and version.
        source: Source,
        /// The event as received.
        example: Value,
    },
}

impl Finding {
    /// Where it was made.
    pub fn source(&self) -> &Source {
        match self {
            Self::UnknownField { source, .. }
            | Self::UnknownEnumValue { source, .. }
            | Self::NullForRequired { source, .. }
            | Self::UnknownEvent { source, .. } => source,
        }
    }

    /// What makes two findings the same one (the example aside).
    fn key(&self) -> (Source, u8, String) {
        match self {
            Self::UnknownField { source, path, .. } => (source.clone(), 0, path.clone()),
            Self::UnknownEnumValue { source, enum_name, value } => (source.clone(), 1, format!("{enum_name}={value}")),
            Self::NullForRequired { source, path } => (source.clone(), 2, path.clone()),
            Self::UnknownEvent { source, .. } => (source.clone(), 3, String::new()),
        }
    }
}

/// Every finding of an [`Observer`], in a stable order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// The findings, ordered by source, then kind, then path.
    pub findings: Vec<Finding>,
}

impl Report {
    /// The report as pretty JSON, the format `twitch-codegen learn` reads.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report is plain JSON")
    }
}

/// Findings by what makes them the same one.
type Findings = BTreeMap<(Source, u8, String), Finding>;

/// Collects findings; cheap to clone (clones share them).
#[derive(Clone, Default)]
pub struct Observer {
    findings: Arc<Mutex<Findings>>,
}

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observer").field("findings", &self.len()).finish()
    }
}

impl Observer {
    /// An observer with nothing found yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many distinct findings so far.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every finding so far.
    pub fn report(&self) -> Report {
        Report { findings: self.lock().values().cloned().collect() }
    }

    /// Write [`report`](Self::report) as JSON to `path` (replacing it).
    pub fn write_report(&self, path: impl AsRef<std::path::Path>) -> std::io::Result<()> {
        std::fs::write(path, self.report().to_json())
    }

    /// Forget every finding.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Findings> {
        self.findings.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Record a finding; the first of its kind is logged.
    pub fn record(&self, finding: Finding) {
        let key = finding.key();
        let mut map = self.lock();
        if map.contains_key(&key) {
            return;
        }
        match &finding {
            Finding::UnknownField { source, path, json_type, .. } => {
                tracing::info!(target: "twitch::observe", %source, path, json_type, "a field the schema does not know");
            }
            Finding::UnknownEnumValue { source, enum_name, value } => {
                tracing::info!(target: "twitch::observe", %source, enum_name, value, "an enum value the schema does not know");
            }
            Finding::NullForRequired { source, path } => {
                tracing::info!(target: "twitch::observe", %source, path, "null where the schema requires a value");
            }
            Finding::UnknownEvent { source, .. } => {
                tracing::info!(target: "twitch::observe", %source, "an event type or version the schema does not know");
            }
        }
        map.insert(key, finding);
    }

    /// Run `f` (a decode of something from `source`) with this observer
    /// noting what it meets (the client and sessions do this themselves).
    pub fn decoding<T>(&self, source: Source, f: impl FnOnce() -> T) -> T {
        let previous = CURRENT.with(|c| c.replace(Some((self.clone(), source))));
        let out = f();
        CURRENT.with(|c| *c.borrow_mut() = previous);
        out
    }
}

impl Observer {
    /// Observe one EventSub notification payload (`{"subscription", "event"}`,
    /// a webhook body or a WebSocket message's `payload`), decoding its
    /// event as `E` a second time. Sessions and the verifier do this when
    /// they have an observer; call it for payloads that reach you otherwise.
    /// A payload that is not a notification is passed over.
    pub fn observe_notification<E: crate::event::EventPayload>(&self, payload: &str) {
        let Ok(env) = serde_json::from_str::<crate::event::RawNotification<'_>>(payload) else { return };
        let Some(raw) = env.body() else { return };
        // Read as the decoders read it: a type or version given twice is refused.
        let Ok(kind) = crate::event::Kind::of(env.subscription) else { return };
        let source =
            Source::Event { subscription_type: kind.subscription_type.to_string(), version: kind.version.to_string() };
        let decoded = self.decoding(source.clone(), || decode_observed_seed(raw.get(), "", kind.seed::<E>()));
        if let Ok(event) = decoded
            && event.is_unknown()
        {
            let example = serde_json::from_str(raw.get()).unwrap_or_default();
            self.record(Finding::UnknownEvent { source, example });
        }
    }
}

thread_local! {
    /// The observer of the decode running on this thread, if any.
    static CURRENT: RefCell<Option<(Observer, Source)>> = const { RefCell::new(None) };
}

/// Whether a decode on this thread is observed.
#[doc(hidden)]
pub fn active() -> bool {
    CURRENT.with(|c| c.borrow().is_some())
}

fn with_current(f: impl FnOnce(&Observer, &Source)) {
    CURRENT.with(|c| {
        if let Some((o, s)) = c.borrow().as_ref() {
            f(o, s);
        }
    });
}

/// Called by generated enums for a value they do not know: recorded when a
/// decode is observed, nothing otherwise.
#[doc(hidden)]
pub fn unknown_enum_value(enum_name: &'static str, value: &str) {
    with_current(|o, source| {
        o.record(Finding::UnknownEnumValue {
            source: source.clone(),
            enum_name: enum_name.to_owned(),
            value: value.to_owned(),
        });
    });
}

/// Decode `json` as `T` noting, for the observed decode on this thread,
/// every field that was skipped (with its value from `json`) and a `null`
/// that failed a required field. `json` is the whole text decoded (paths
/// start there); `prefix` is prepended to paths. The decode itself is the
/// same as without observing; an error comes with its JSON path.
#[doc(hidden)]
pub fn decode_observed<'de, T: Deserialize<'de>>(
    json: &'de str,
    prefix: &str,
) -> Result<T, (String, serde_json::Error)> {
    decode_observed_seed(json, prefix, std::marker::PhantomData::<T>)
}

/// Decode `json` through `seed` the careful way: the JSON path of a
/// failure is tracked, and `skipped` hears of every field the decode
/// passed over. The deserializer has one type whatever is decoded (the
/// callback is a trait object), so a type's decoder is compiled once for
/// both uses of this way, explaining a failed decode and observing one,
/// beside the plain one of the fast path.
#[doc(hidden)]
pub fn decode_tracked_seed<'de, S: serde::de::DeserializeSeed<'de>>(
    json: &'de str,
    seed: S,
    mut skipped: &mut dyn FnMut(serde_ignored::Path<'_>),
) -> Result<S::Value, (String, serde_json::Error)> {
    let mut track = serde_path_to_error::Track::new();
    let de = &mut serde_json::Deserializer::from_str(json);
    let ignoring = serde_ignored::Deserializer::new(&mut *de, &mut skipped);
    let result = seed.deserialize(serde_path_to_error::Deserializer::new(ignoring, &mut track));
    result.and_then(|v| de.end().map(|()| v)).map_err(|e| (track.path().to_string(), e))
}

/// [`decode_observed`] through a seed.
#[doc(hidden)]
pub fn decode_observed_seed<'de, S: serde::de::DeserializeSeed<'de>>(
    json: &'de str,
    prefix: &str,
    seed: S,
) -> Result<S::Value, (String, serde_json::Error)> {
    let mut skipped = Vec::new();
    let result = decode_tracked_seed(json, seed, &mut |path| skipped.push(segments(&path)));
    record_findings(json, prefix, &skipped, result.as_ref().err());
    result
}

/// What an observed decode found, for the observer of this thread (apart
/// from the decode: compiled once, not for every type decoded).
fn record_findings(json: &str, prefix: &str, skipped: &[Vec<Segment>], error: Option<&(String, serde_json::Error)>) {
    let value = if skipped.is_empty() && error.is_none() { None } else { serde_json::from_str::<Value>(json).ok() };
    with_current(|o, source| {
        for segs in skipped {
            let example = value.as_ref().and_then(|v| at(v, segs)).cloned().unwrap_or(Value::Null);
            let path = join(prefix, &display(segs));
            let last = segs.iter().rev().find_map(|s| s.key()).unwrap_or_default();
            let secret = crate::error::SECRET_FIELDS.contains(&last) || looks_secret(last);
            o.record(Finding::UnknownField {
                source: source.clone(),
                path,
                json_type: json_type(&example).to_owned(),
                example: if secret { Value::String("[redacted]".into()) } else { example },
            });
        }
        if let Some((path, e)) = error
            && e.to_string().starts_with("invalid type: null")
        {
            // serde_path_to_error writes list elements as `[3]`, keys as `.key`.
            o.record(Finding::NullForRequired { source: source.clone(), path: join(prefix, &any_index(path)) });
        }
    });
}

fn looks_secret(name: &str) -> bool {
    ["secret", "token", "password"].iter().any(|w| name.contains(w))
}

fn join(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) if path.starts_with('[') => format!("{prefix}{path}"),
        (false, false) => format!("{prefix}.{path}"),
    }
}

/// `data[3].x` → `data[].x`.
fn any_index(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push_str("[]");
            }
            ']' => in_index = false,
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

#[derive(Debug, Clone)]
enum Segment {
    Key(String),
    Index(usize),
}

impl Segment {
    fn key(&self) -> Option<&str> {
        match self {
            Self::Key(k) => Some(k),
            Self::Index(_) => None,
        }
    }
}

fn segments(path: &serde_ignored::Path<'_>) -> Vec<Segment> {
    use serde_ignored::Path;
    let mut out = Vec::new();
    let mut p = path;
    loop {
        p = match p {
            Path::Root => break,
            Path::Seq { parent, index } => {
                out.push(Segment::Index(*index));
                parent
            }
            Path::Map { parent, key } => {
                out.push(Segment::Key(key.clone()));
                parent
            }
            Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => parent,
        };
    }
    out.reverse();
    out
}

fn display(segs: &[Segment]) -> String {
    let mut out = String::new();
    for s in segs {
        match s {
            Segment::Key(k) if out.is_empty() => out.push_str(k),
            Segment::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Segment::Index(_) => out.push_str("[]"),
        }
    }
    out
}

fn at<'v>(v: &'v Value, segs: &[Segment]) -> Option<&'v Value> {
    segs.iter().try_fold(v, |v, s| match s {
        Segment::Key(k) => v.get(k),
        Segment::Index(i) => v.get(i),
    })
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        id: String,
        #[serde(default)]
        items: Vec<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        n: i64,
    }

    #[test]
    fn skipped_fields_and_nulls_are_found_with_their_paths() {
        let o = Observer::new();
        let source = Source::Endpoint("get-things".into());
        let json = r#"{"id":"1","extra":{"a":1},"items":[{"n":1},{"n":2,"new":"x","client_secret":"s"}]}"#;
        let item: Item = o.decoding(source.clone(), || decode_observed(json, "data[]")).unwrap();
        assert_eq!(item.items.len(), 2);
        let report = o.report();
        let found: Vec<_> = report
            .findings
            .iter()
            .map(|f| match f {
                Finding::UnknownField { path, json_type, example, .. } => {
                    (path.as_str(), json_type.as_str(), example.clone())
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            found,
            [
                ("data[].extra", "object", serde_json::json!({"a": 1})),
                ("data[].items[].client_secret", "string", serde_json::json!("[redacted]")),
                ("data[].items[].new", "string", serde_json::json!("x")),
            ]
        );
        let err = o.decoding(source.clone(), || decode_observed::<Item>(r#"{"id":"1","items":[{"n":null}]}"#, ""));
        assert!(err.is_err());
        assert!(o.report().findings.contains(&Finding::NullForRequired { source, path: "items[].n".into() }));
        // Not observed: nothing is recorded.
        let before = o.len();
        let _: Item = decode_observed(json, "").unwrap();
        unknown_enum_value("Kind", "new");
        assert_eq!(o.len(), before);
    }

    #[test]
    fn a_report_reads_back() {
        let o = Observer::new();
        o.decoding(Source::Event { subscription_type: "a.b".into(), version: "1".into() }, || {
            unknown_enum_value("Kind", "new");
            unknown_enum_value("Kind", "new");
        });
        let report = o.report();
        assert_eq!(report.findings.len(), 1);
        let json = report.to_json();
        assert!(json.contains(r#""finding": "unknown_enum_value""#), "{json}");
        assert_eq!(serde_json::from_str::<Report>(&json).unwrap(), report);
    }
}
