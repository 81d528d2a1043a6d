//! Stage 1: read the YAML files into serde structs that mirror them.
//!
//! Unknown keys and duplicate keys are rejected by the parser; every item
//! keeps the line it was defined on so later stages can point at it.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::diag::{Diagnostic, Diagnostics};

/// One parsed schema file.
#[derive(Debug)]
pub struct SchemaFile {
    /// Path relative to the schema root, with `/` separators (`helix/users.yaml`).
    pub rel_path: String,
    /// The parsed contents.
    pub doc: FileDoc,
}

/// Everything one file may contain. A file usually holds one kind of item,
/// but models and enums may sit next to the endpoints that use them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDoc {
    /// One-line description of the file's area; becomes the module doc.
    pub summary: Option<String>,
    /// Cargo feature that gates the whole module (e.g. `beta`).
    pub feature: Option<String>,
    /// The slug of Twitch's reference page for the file's items
    /// (`https://dev.twitch.tv/docs/eventsub/reference/<slug>`); made from
    /// the file's name when not given (`channel_points` → `channel-points`).
    pub reference: Option<String>,
    #[serde(default)]
    pub endpoints: Vec<Spanned<EndpointDef>>,
    #[serde(default)]
    pub subscriptions: Vec<Spanned<SubscriptionDef>>,
    #[serde(default)]
    pub models: Vec<Spanned<ModelDef>>,
    #[serde(default)]
    pub enums: Vec<Spanned<EnumDef>>,
    #[serde(default)]
    pub scopes: Vec<Spanned<ScopeDef>>,
    /// Kinds of ids (only in `shared.yaml`): `reward` → `RewardId`, used as `type: id:reward`.
    #[serde(default)]
    pub ids: Vec<Spanned<IdDef>>,
    /// Endpoints and subscription type-versions Twitch has withdrawn: no
    /// longer callable, listed so that tools can say so and answer as
    /// Twitch does.
    #[serde(default)]
    pub withdrawn: Vec<Spanned<WithdrawnDef>>,
}

/// When Twitch opened, released, deprecated or withdrew something, as
/// `YYYY-MM-DD` dates from its changelog.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleDef {
    /// Opened as an open beta.
    pub beta: Option<String>,
    /// Generally available.
    pub ga: Option<String>,
    /// Added without a beta (a new parameter, field or value).
    pub added: Option<String>,
    /// Deprecated (the item's `deprecated` text says why and what instead).
    pub deprecated: Option<String>,
    /// Withdrawn: Twitch no longer serves it.
    pub withdrawn: Option<String>,
}

/// A withdrawn endpoint (`endpoint: <id>` with its method and path) or
/// subscription type-version (`subscription: <type>` with its version).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithdrawnDef {
    /// The endpoint's reference anchor, e.g. `get-hype-train-events`.
    pub endpoint: Option<String>,
    /// The subscription type, e.g. `channel.hype_train.begin`.
    pub subscription: Option<String>,
    pub version: Option<String>,
    /// Twitch's title.
    pub name: String,
    pub method: Option<String>,
    pub path: Option<String>,
    /// Needs `withdrawn`.
    pub lifecycle: LifecycleDef,
    /// What to use instead: an endpoint id or `type vN`.
    pub replaced_by: Option<String>,
    /// How Twitch answers a request for it now.
    pub answer: AnswerDef,
    #[serde(default)]
    pub decisions: Vec<String>,
}

/// An error answer Twitch gives: status and body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerDef {
    pub status: u16,
    /// The body's `error` (the status's reason phrase).
    pub error: String,
    pub message: String,
}

/// An error answer an endpoint documents, with the fields its body
/// carries beside `error`, `status` and `message`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorDef {
    pub status: u16,
    /// When Twitch answers it.
    pub when: String,
    #[serde(default)]
    pub fields: Vec<Spanned<FieldDef>>,
    /// `false` when Twitch's reference does not list this answer and the
    /// endpoint's decisions say where it comes from instead.
    #[serde(default = "yes")]
    pub documented: bool,
}

fn yes() -> bool {
    true
}

/// Twitch takes at most `max` items of the body list `param` per request:
/// the client sends a longer list as several requests and merges the answers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitDef {
    pub param: String,
    pub max: u32,
}

/// A Helix endpoint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointDef {
    /// Twitch's reference anchor, e.g. `get-users`.
    pub id: String,
    /// Twitch's title, e.g. `Get Users`.
    pub name: String,
    pub summary: String,
    pub docs: Option<String>,
    pub method: String,
    pub path: String,
    pub tokens: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<Vec<String>>,
    #[serde(default)]
    pub conditional_scopes: Vec<ConditionalScopes>,
    #[serde(default)]
    pub beta: bool,
    pub deprecated: Option<String>,
    /// Dates of beta, release, deprecation.
    pub lifecycle: Option<LifecycleDef>,
    /// The parameter naming the user the request acts as: a user token
    /// must be that user's, and an app token is accepted when that user
    /// has granted the app the endpoint's scopes.
    pub token_user: Option<String>,
    /// Safe to send twice (a retry after a transport error cannot do harm).
    pub idempotent: Option<bool>,
    /// A body list Twitch takes only so many items of per request.
    pub split: Option<Spanned<SplitDef>>,
    #[serde(default)]
    pub query: Vec<Spanned<FieldDef>>,
    #[serde(default)]
    pub rules: Vec<Spanned<RuleDef>>,
    #[serde(default)]
    pub body: Vec<Spanned<FieldDef>>,
    pub response: Spanned<ResponseDef>,
    pub lookup: Option<Spanned<LookupDef>>,
    /// Error answers Twitch documents that carry more than the usual body.
    #[serde(default)]
    pub errors: Vec<Spanned<ErrorDef>>,
    #[serde(default)]
    pub examples: ExamplesDef,
    /// Decisions taken where Twitch's docs disagree with themselves.
    #[serde(default)]
    pub decisions: Vec<String>,
    /// Differences the audit reports that the decisions above explain,
    /// copied from the audit's output.
    #[serde(default)]
    pub audit_accept: Vec<String>,
}

/// Scopes needed only in some situations.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionalScopes {
    pub scopes: Vec<Vec<String>>,
    pub when: String,
}

/// A cross-parameter rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum RuleDef {
    /// At most one of these parameters may be set.
    Exclusive(Vec<String>),
    /// Exactly one of these parameters must be set.
    OneOf(Vec<String>),
    /// At least one of these parameters must be set.
    AtLeastOne(Vec<String>),
    /// The values of these repeatable parameters count together against `max`.
    MaxTotal { params: Vec<String>, max: u32 },
}

/// The response of an endpoint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseDef {
    /// `data` (a `data` array), `data_object` (`data` is one object),
    /// `object` (the whole body is the model), `none` (no body), `text`.
    pub shape: String,
    /// HTTP status of success; 200 unless said.
    pub status: Option<u16>,
    /// The item model by name, or `fields` for an inline one.
    pub model: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub fields: Vec<Spanned<FieldDef>>,
    /// Top-level fields beside `data` (`total`, `points`, ...).
    #[serde(default)]
    pub extra: Vec<Spanned<FieldDef>>,
    #[serde(default)]
    pub paginated: bool,
    /// How many items a `data` list holds: `many` (the default), `one`
    /// (exactly one: `send()` answers the item) or `zero_or_one` (an
    /// `Option`).
    pub items: Option<String>,
}

/// Calls that look one thing up by one parameter and answer `Option<T>`:
/// `{name: get_user, by: [id, login]}` makes `get_user_by_id(..)` and
/// `get_user_by_login(..)`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupDef {
    pub name: String,
    pub by: Vec<String>,
}

/// Twitch's examples for an endpoint.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExamplesDef {
    #[serde(default)]
    pub requests: Vec<Spanned<ExampleRequestDef>>,
    /// The example response body, as Twitch's JSON text.
    pub response: Option<Spanned<String>>,
}

/// One example request: `GET /users?id=1` plus an optional JSON body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleRequestDef {
    pub request: String,
    pub body: Option<String>,
}

/// A field of a model, a query parameter or a body field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    pub name: String,
    /// Type expression: a primitive, a model or enum name, `[T]`, or `object`/`[object]`
    /// with inline `fields`.
    #[serde(rename = "type")]
    pub ty: String,
    pub description: String,
    /// Rust name where the wire name would not do (keywords, clashes).
    pub rust_name: Option<String>,
    /// Query and body: the caller must give it.
    #[serde(default)]
    pub required: bool,
    /// Models: the field may be missing from the JSON.
    #[serde(default)]
    pub optional: bool,
    /// Models: the field may be `null`.
    #[serde(default)]
    pub nullable: bool,
    /// Reason the field is deprecated.
    pub deprecated: Option<String>,
    /// When Twitch added (or deprecated) it.
    pub lifecycle: Option<LifecycleDef>,
    /// Query: the parameter may repeat, at most this many times.
    pub repeat: Option<u32>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// Strings: maximum length in characters.
    pub max_len: Option<u32>,
    /// Inline object fields (with `type: object` or `type: "[object]"`).
    #[serde(default)]
    pub fields: Vec<Spanned<FieldDef>>,
    /// Name of the struct generated for inline `fields`.
    pub model: Option<String>,
    /// Inline objects: one enum field says which of the optional object
    /// fields holds the details (a tagged union on the wire).
    pub union: Option<UnionDef>,
}

/// `union: {tag: type, variants: {emote: emote, mention: mention}}`: the
/// field `tag` (a string enum) names the kind; for the listed values the
/// details are in the given (optional) field. Values not listed carry none.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnionDef {
    pub tag: String,
    pub variants: std::collections::BTreeMap<String, String>,
}

/// A named struct.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelDef {
    pub name: String,
    pub description: String,
    pub fields: Vec<Spanned<FieldDef>>,
    /// See [`FieldDef::union`].
    pub union: Option<UnionDef>,
}

/// A string enum; generated with an `Unknown(String)` variant.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnumDef {
    pub name: String,
    pub description: String,
    pub values: Vec<Spanned<EnumValueDef>>,
}

/// One value of a string enum.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnumValueDef {
    pub value: String,
    pub description: String,
    pub rust_name: Option<String>,
    /// When Twitch added (or withdrew) the value.
    pub lifecycle: Option<LifecycleDef>,
}

/// An EventSub subscription type at one version.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionDef {
    #[serde(rename = "type")]
    pub ty: String,
    pub version: String,
    /// Twitch's title, e.g. `Channel Follow`.
    pub name: String,
    /// The Rust name without the version, where the one made from the type
    /// reads badly (`ChannelPointsCustomRewardAdd`, not
    /// `ChannelChannelPointsCustomRewardAdd`).
    pub rust_name: Option<String>,
    pub summary: String,
    /// The slug of Twitch's reference page that documents the type, where
    /// it is not the file's.
    pub reference: Option<String>,
    #[serde(default)]
    pub scopes: Vec<Vec<String>>,
    #[serde(default)]
    pub conditional_scopes: Vec<ConditionalScopes>,
    /// `webhook`, `websocket`, `conduit`; all three unless said.
    pub transports: Option<Vec<String>>,
    #[serde(default)]
    pub beta: bool,
    /// Dates of beta, release, deprecation.
    pub lifecycle: Option<LifecycleDef>,
    pub condition: Vec<Spanned<FieldDef>>,
    /// The event model by name, or `event_fields` for an inline one.
    pub event: Option<String>,
    #[serde(default)]
    pub event_fields: Vec<Spanned<FieldDef>>,
    /// Notifications carry an `events` array instead of one `event`.
    #[serde(default)]
    pub batched: bool,
    /// Twitch's example notification payload, as JSON text.
    pub example: Option<Spanned<String>>,
    #[serde(default)]
    pub decisions: Vec<String>,
    /// Differences the audit reports that the decisions above explain.
    #[serde(default)]
    pub audit_accept: Vec<String>,
}

/// A kind of id: its own Rust type, so one kind cannot be passed for another.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdDef {
    /// snake_case kind: `reward`, `emote_set`.
    pub name: String,
    pub description: String,
    /// The runtime defines the type, because it needs it itself (sessions,
    /// conduits, subscription objects); the generated crate re-exports it.
    #[serde(default)]
    pub runtime: bool,
}

/// An OAuth scope.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeDef {
    pub name: String,
    pub description: String,
    /// `irc` or `pubsub` for scopes that do not apply to Helix or EventSub.
    pub legacy: Option<String>,
    pub rust_name: Option<String>,
}

/// Read every `*.yaml` below `root`, sorted by path. Parse errors are
/// collected, not returned on the first one.
pub fn load_dir(root: &Path) -> Result<Vec<SchemaFile>, Diagnostics> {
    let (files, diags) = load_dir_lenient(root);
    if diags.is_empty() { Ok(files) } else { Err(diags) }
}

/// Like [`load_dir`], but returns the files that did parse alongside the
/// problems of those that did not (for `--check`, which reports everything).
pub fn load_dir_lenient(root: &Path) -> (Vec<SchemaFile>, Diagnostics) {
    let mut paths = Vec::new();
    if let Err(e) = collect_yaml(root, &mut paths) {
        let d = Diagnostic::new(root.display().to_string(), 0, "", format!("cannot read schema directory: {e}"));
        return (Vec::new(), Diagnostics::one(d));
    }
    paths.sort();
    let mut files = Vec::new();
    let mut diags = Diagnostics::default();
    for path in paths {
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                diags.push(Diagnostic::new(format!("schema/{rel}"), 0, "", format!("cannot read: {e}")));
                continue;
            }
        };
        match parse_file(&rel, &text) {
            Ok(f) => files.push(f),
            Err(d) => diags.push(d),
        }
    }
    (files, diags)
}

/// Parse one file's text. `rel_path` is used in diagnostics.
pub fn parse_file(rel_path: &str, text: &str) -> Result<SchemaFile, Diagnostic> {
    match serde_saphyr::from_str::<FileDoc>(text) {
        Ok(doc) => Ok(SchemaFile { rel_path: rel_path.to_owned(), doc }),
        Err(e) => {
            let line = e.location().map(|l| l.line() as usize).unwrap_or(0);
            let msg = first_line(&e.to_string()).replace(", set DuplicateKeyPolicy in Options if acceptable", "");
            Err(Diagnostic::new(format!("schema/{rel_path}"), line, enclosing_item(text, line), msg))
        }
    }
}

/// The id of the list item a line belongs to: the nearest `- id:`,
/// `- type:` or `- name:` among the line's ancestors (the lines above it
/// indented less than everything between), so an error in a `decisions`
/// entry names its endpoint, not the parameter listed just before it.
fn enclosing_item(text: &str, line: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let Some(at) = line.checked_sub(1).filter(|&i| i < lines.len()) else { return String::new() };
    // The error's own line counts: it may be the item's first line.
    let mut limit = indent(lines[at]) + 1;
    for l in lines[..=at].iter().rev() {
        let t = l.trim_start();
        if t.is_empty() || t.starts_with('#') || indent(l) >= limit {
            continue;
        }
        limit = indent(l);
        if let Some(rest) = t.strip_prefix("- ") {
            for key in ["id:", "type:", "name:", "endpoint:", "subscription:"] {
                if let Some(v) = rest.strip_prefix(key) {
                    return v.trim().trim_matches(['"', '\'']).to_owned();
                }
            }
        }
        if limit == 0 {
            break;
        }
    }
    String::new()
}

/// serde-saphyr renders a snippet after the first line; diagnostics keep the
/// message itself so they read the same everywhere.
fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("").trim();
    let line = line.strip_prefix("error:").unwrap_or(line).trim();
    // Drop a leading "line N column M:" that repeats the location.
    match line.strip_prefix("line ").and_then(|r| r.split_once(": ")) {
        Some((loc, rest)) if loc.contains("column") => {
            format!("{rest} (column {})", loc.rsplit(' ').next().unwrap_or("?"))
        }
        _ => line.to_owned(),
    }
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_yaml(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
    Ok(())
}
