//! Stage 3: the typed model the emitters work from.
//!
//! Names are resolved once here (heck), inline objects are hoisted into
//! named models, and order is the schema's order. Emitters never look at the
//! YAML structs.

use std::collections::{BTreeMap, BTreeSet};

use heck::{ToSnakeCase, ToUpperCamelCase};

use crate::load::{self, FieldDef, SchemaFile};

/// The whole schema, ready to emit.
#[derive(Debug)]
pub struct Schema {
    pub modules: Vec<Module>,
    pub scopes: Vec<Scope>,
    /// Every named model and enum: name → module path (`["helix", "users"]`).
    pub types: BTreeMap<String, TypeInfo>,
    /// Kinds of ids, each its own type in `twitch::ids`.
    pub ids: Vec<IdKind>,
    /// What Twitch has withdrawn, in schema order.
    pub withdrawn: Vec<Withdrawn>,
}

/// Dates from Twitch's changelog (`YYYY-MM-DD`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lifecycle {
    pub beta: Option<String>,
    pub ga: Option<String>,
    pub added: Option<String>,
    pub deprecated: Option<String>,
    pub withdrawn: Option<String>,
}

impl Lifecycle {
    fn of(d: Option<&load::LifecycleDef>) -> Self {
        d.map(|d| Lifecycle {
            beta: d.beta.clone(),
            ga: d.ga.clone(),
            added: d.added.clone(),
            deprecated: d.deprecated.clone(),
            withdrawn: d.withdrawn.clone(),
        })
        .unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        *self == Lifecycle::default()
    }

    /// One sentence for the docs: `Open beta since 2026-05-01; generally
    /// available since 2026-05-19.` Empty when no date is known.
    pub fn sentence(&self) -> String {
        let mut parts = Vec::new();
        if let Some(d) = &self.added {
            parts.push(format!("added by Twitch on {d}"));
        }
        if let Some(d) = &self.beta {
            parts.push(format!("open beta since {d}"));
        }
        if let Some(d) = &self.ga {
            parts.push(format!("generally available since {d}"));
        }
        if let Some(d) = &self.deprecated {
            parts.push(format!("deprecated on {d}"));
        }
        if let Some(d) = &self.withdrawn {
            parts.push(format!("withdrawn on {d}"));
        }
        let mut s = parts.join("; ");
        if let Some(first) = s.get(..1) {
            s = format!("{}{}.", first.to_ascii_uppercase(), &s[1..]);
        }
        s
    }
}

/// Does version `a` come before `b` (`1` before `2`; numbers before `beta`)?
fn version_before(a: &str, b: &str) -> bool {
    match (a.parse::<u32>(), b.parse::<u32>()) {
        (Ok(x), Ok(y)) => x < y,
        _ => false,
    }
}

/// The struct of an error answer's extra fields: `CreateEventSubSubscription`
/// and 409 → `CreateEventSubSubscriptionConflict`.
pub fn error_struct_name(type_name: &str, status: u16) -> String {
    let reason = match status {
        400 => "BadRequest".to_owned(),
        401 => "Unauthorized".to_owned(),
        403 => "Forbidden".to_owned(),
        404 => "NotFound".to_owned(),
        409 => "Conflict".to_owned(),
        410 => "Gone".to_owned(),
        422 => "UnprocessableEntity".to_owned(),
        425 => "TooEarly".to_owned(),
        429 => "TooManyRequests".to_owned(),
        n => format!("Status{n}"),
    };
    format!("{type_name}{reason}")
}

/// A description with its lifecycle sentence after it, if any.
fn with_lifecycle(description: &str, lifecycle: &Lifecycle) -> String {
    let sentence = lifecycle.sentence();
    if sentence.is_empty() { description.to_owned() } else { format!("{} {sentence}", description.trim_end()) }
}

/// A withdrawn endpoint or subscription type-version.
#[derive(Debug, Clone)]
pub struct Withdrawn {
    /// `Some((method, path))` for an endpoint.
    pub endpoint: Option<(String, String)>,
    /// The endpoint id, or the subscription type.
    pub id: String,
    /// The subscription version.
    pub version: Option<String>,
    pub name: String,
    pub lifecycle: Lifecycle,
    pub replaced_by: Option<String>,
    pub status: u16,
    pub error: String,
    pub message: String,
    /// `hype_train` of `helix/hype_train.yaml`.
    pub module: Vec<String>,
}

/// A kind of id: `reward` → `RewardId`.
#[derive(Debug, Clone)]
pub struct IdKind {
    pub kind: String,
    pub rust: String,
    pub doc: String,
    /// Defined by the runtime and re-exported.
    pub runtime: bool,
}

/// `reward` → `RewardId`.
pub fn id_type_name(kind: &str) -> String {
    format!("{}Id", kind.to_upper_camel_case())
}

/// Where a named type lives and what it is.
#[derive(Debug, Clone)]
pub struct TypeInfo {
    pub module: Vec<String>,
    pub is_enum: bool,
    pub feature: Option<String>,
}

/// One schema file → one Rust module.
#[derive(Debug)]
pub struct Module {
    /// `helix/users.yaml`
    pub rel_path: String,
    /// `["helix", "users"]`
    pub path: Vec<String>,
    pub summary: Option<String>,
    pub feature: Option<String>,
    /// The slug of Twitch's reference page for the file's items.
    pub reference: String,
    pub endpoints: Vec<Endpoint>,
    pub subscriptions: Vec<Subscription>,
    pub models: Vec<Model>,
    pub enums: Vec<Enum>,
}

/// A type expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    String,
    /// A string that is a secret: never shown by `Debug`.
    Secret,
    UserId,
    UserLogin,
    Integer,
    Number,
    Boolean,
    Timestamp,
    Json,
    Vec(Box<Ty>),
    Named(String),
    /// A kind of id (`id:reward`): its own string type.
    Id(String),
    /// An integer parameter Twitch documents as never negative: the
    /// narrowest unsigned type that holds its documented maximum.
    Unsigned(UInt),
    /// A length of time (`seconds`, `minutes`, `decimal_seconds` in the
    /// schema): a number in that unit on the wire, `std::time::Duration` in Rust.
    Duration(TimeUnit),
}

/// Wire units of [`Ty::Duration`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Seconds,
    Minutes,
    DecimalSeconds,
}

impl TimeUnit {
    /// The variant of the runtime's `duration::Unit`.
    pub fn variant(self) -> &'static str {
        match self {
            TimeUnit::Seconds => "Seconds",
            TimeUnit::Minutes => "Minutes",
            TimeUnit::DecimalSeconds => "DecimalSeconds",
        }
    }

    /// The runtime's serde module for a field of this unit.
    pub fn serde_module(self, option: bool) -> String {
        let unit = match self {
            TimeUnit::Seconds => "seconds",
            TimeUnit::Minutes => "minutes",
            TimeUnit::DecimalSeconds => "decimal_seconds",
        };
        if option { format!("crate::__rt::duration::option_{unit}") } else { format!("crate::__rt::duration::{unit}") }
    }

    /// Seconds in one unit.
    pub fn seconds(self) -> u64 {
        if self == TimeUnit::Minutes { 60 } else { 1 }
    }
}

/// Unsigned widths for [`Ty::Unsigned`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UInt {
    U8,
    U16,
    U32,
    U64,
}

impl UInt {
    /// The narrowest that holds `max` (`None`: no documented maximum).
    pub fn for_max(max: Option<i64>) -> UInt {
        match max {
            Some(m) if m <= i64::from(u8::MAX) => UInt::U8,
            Some(m) if m <= i64::from(u16::MAX) => UInt::U16,
            Some(m) if m <= i64::from(u32::MAX) => UInt::U32,
            _ => UInt::U64,
        }
    }
}

impl Ty {
    /// Parse a type expression; `Err` says what is wrong.
    pub fn parse(s: &str) -> Result<Ty, String> {
        let s = s.trim();
        if let Some(inner) = s.strip_prefix('[') {
            let inner = inner.strip_suffix(']').ok_or_else(|| format!("unclosed '[' in type '{s}'"))?;
            return Ok(Ty::Vec(Box::new(Ty::parse(inner)?)));
        }
        Ok(match s {
            "string" => Ty::String,
            "secret" => Ty::Secret,
            "user_id" => Ty::UserId,
            "user_login" => Ty::UserLogin,
            "integer" => Ty::Integer,
            "number" => Ty::Number,
            "boolean" => Ty::Boolean,
            "timestamp" => Ty::Timestamp,
            "seconds" => Ty::Duration(TimeUnit::Seconds),
            "minutes" => Ty::Duration(TimeUnit::Minutes),
            "decimal_seconds" => Ty::Duration(TimeUnit::DecimalSeconds),
            "json" => Ty::Json,
            "object" => Ty::Named(String::new()),
            _ if s.starts_with("id:") => {
                let kind = &s[3..];
                if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    return Err(format!("id kind in '{s}' must be snake_case"));
                }
                Ty::Id(kind.to_owned())
            }
            _ => {
                let ok = s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && s.chars().all(|c| c.is_ascii_alphanumeric());
                if !ok {
                    return Err(format!("unknown type '{s}'"));
                }
                Ty::Named(s.to_owned())
            }
        })
    }

    /// The innermost type (`[[T]]` → `T`).
    pub fn leaf(&self) -> &Ty {
        match self {
            Ty::Vec(t) => t.leaf(),
            t => t,
        }
    }

    pub fn is_vec(&self) -> bool {
        matches!(self, Ty::Vec(_))
    }
}

/// A struct field, query parameter or body field.
#[derive(Debug, Clone)]
pub struct Field {
    pub wire: String,
    pub rust: String,
    pub ty: Ty,
    pub doc: String,
    pub required: bool,
    /// `Option<T>` in models.
    pub option: bool,
    pub deprecated: Option<String>,
    pub lifecycle: Lifecycle,
    pub repeat: Option<u32>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub max_len: Option<u32>,
}

#[derive(Debug)]
pub struct Model {
    pub name: String,
    pub doc: String,
    pub fields: Vec<Field>,
    /// Used in a request body or condition: gets a constructor and setters.
    pub input: bool,
    /// A tagged union on the wire: gets a `kind()` view.
    pub union: Option<Union>,
}

/// The `union:` of a model: the tag field's wire name, and for some of its
/// values (wire) the wire name of the field holding the details.
#[derive(Debug, Clone)]
pub struct Union {
    pub tag: String,
    pub variants: Vec<(String, String)>,
}

fn union_of(d: Option<&crate::load::UnionDef>) -> Option<Union> {
    d.map(|u| Union { tag: u.tag.clone(), variants: u.variants.iter().map(|(k, v)| (k.clone(), v.clone())).collect() })
}

#[derive(Debug)]
pub struct Enum {
    pub name: String,
    pub doc: String,
    pub values: Vec<EnumValue>,
}

#[derive(Debug)]
pub struct EnumValue {
    pub wire: String,
    pub rust: String,
    pub doc: String,
    pub lifecycle: Lifecycle,
}

#[derive(Debug)]
pub struct Scope {
    pub name: String,
    pub rust: String,
    pub doc: String,
    pub legacy: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Data,
    DataObject,
    Object,
    None,
    Text,
}

#[derive(Debug)]
pub struct Response {
    pub shape: Shape,
    pub status: u16,
    /// The item (or object) model.
    pub model: Option<String>,
    pub extra: Vec<Field>,
    pub paginated: bool,
    pub items: Items,
}

/// How many items a `data` list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Items {
    Many,
    One,
    ZeroOrOne,
}

/// A lookup call: `get_user_by_login(..)` over `get_users`.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// `get_user`
    pub name: String,
    /// The query parameters it looks up by.
    pub by: Vec<String>,
}

#[derive(Debug)]
pub struct Rule {
    pub kind: RuleKind,
    pub params: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    Exclusive,
    OneOf,
    AtLeastOne,
    MaxTotal(u32),
}

#[derive(Debug)]
pub struct ExampleRequest {
    pub method: String,
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    pub body: Option<serde_json::Value>,
    pub raw: String,
    pub raw_body: Option<String>,
}

#[derive(Debug)]
pub struct Endpoint {
    pub id: String,
    /// The cargo feature that turns it on (`helix-users`).
    pub area_feature: String,
    /// Twitch's reference page for it, with its anchor.
    pub reference_url: String,
    pub name: String,
    pub category: String,
    /// `GetUsers`
    pub type_name: String,
    /// `get_users`
    pub fn_name: String,
    pub summary: String,
    pub docs: Option<String>,
    pub method: String,
    pub path: String,
    pub tokens: Vec<String>,
    pub scopes: Vec<Vec<String>>,
    pub conditional_scopes: Vec<(Vec<Vec<String>>, String)>,
    pub beta: bool,
    pub deprecated: Option<String>,
    pub lifecycle: Lifecycle,
    /// The parameter naming the user the request acts as.
    pub token_user: Option<String>,
    pub idempotent: bool,
    /// `(body list, items per request)`.
    pub split: Option<(String, u32)>,
    /// Documented error answers with fields beside the usual ones.
    pub errors: Vec<ErrorAnswer>,
    pub query: Vec<Field>,
    pub rules: Vec<Rule>,
    pub body: Vec<Field>,
    pub response: Response,
    pub lookup: Option<Lookup>,
    pub example_requests: Vec<ExampleRequest>,
    pub example_response: Option<String>,
    pub decisions: Vec<String>,
    /// Audit differences explained by the decisions.
    pub audit_accept: Vec<String>,
    /// Line of the item in its schema file.
    pub line: usize,
}

impl Endpoint {
    /// Name of the generated response struct when the response has extra fields.
    pub fn response_struct(&self) -> Option<String> {
        (!self.response.extra.is_empty()).then(|| format!("{}Response", self.type_name))
    }

    /// Name of the private body struct.
    pub fn body_struct(&self) -> String {
        format!("{}Body", self.type_name)
    }

    /// Required parameters, in order: query first, then body.
    pub fn required(&self) -> impl Iterator<Item = &Field> {
        self.query.iter().chain(self.body.iter()).filter(|f| f.required)
    }
}

/// An error answer an endpoint documents.
#[derive(Debug, Clone)]
pub struct ErrorAnswer {
    pub status: u16,
    pub when: String,
    /// Fields of the body beside `error`, `status` and `message`.
    pub fields: Vec<Field>,
    /// Listed in Twitch's reference (`false`: the decisions give the source).
    pub documented: bool,
}

#[derive(Debug)]
pub struct Subscription {
    pub ty: String,
    /// The cargo feature that turns it on (`eventsub-channel`).
    pub area_feature: String,
    /// Twitch's reference page for it, with its anchor.
    pub reference_url: String,
    pub version: String,
    pub name: String,
    /// `ChannelFollowV2`
    pub type_name: String,
    pub summary: String,
    pub scopes: Vec<Vec<String>>,
    pub conditional_scopes: Vec<(Vec<Vec<String>>, String)>,
    pub transports: Vec<String>,
    pub beta: bool,
    pub lifecycle: Lifecycle,
    pub condition: Vec<Field>,
    /// The event model's name.
    pub event: String,
    pub batched: bool,
    pub example: Option<String>,
    pub decisions: Vec<String>,
    pub feature: Option<String>,
    /// Audit differences explained by the decisions.
    pub audit_accept: Vec<String>,
    /// Line of the item in its schema file.
    pub line: usize,
}

/// Rust's reserved words; a field named like one needs `rust_name`.
pub const KEYWORDS: &[&str] = &[
    "as", "async", "await", "box", "break", "const", "continue", "crate", "do", "dyn", "else", "enum", "extern",
    "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut",
    "override", "priv", "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "try",
    "type", "typeof", "union", "unsafe", "unsized", "use", "virtual", "where", "while", "yield", "abstract", "become",
];

pub fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

/// `get-users` → `GetUsers`; `get-eventsub-subscriptions` →
/// `GetEventSubSubscriptions` (Twitch's spelling of the product).
pub fn type_name_of_id(id: &str) -> String {
    id.split('-').map(|w| if w == "eventsub" { "EventSub".to_owned() } else { w.to_upper_camel_case() }).collect()
}

/// `get-users` → `get_users`.
pub fn fn_name_of_id(id: &str) -> String {
    id.to_snake_case()
}

/// `channel.follow`, `2` → `ChannelFollowV2`; version `beta` → `…Beta`.
/// A `rust_name` from the schema replaces the part made from the type.
pub fn subscription_type_name(ty: &str, version: &str, rust_name: Option<&str>) -> String {
    let base = rust_name.map_or_else(|| ty.replace('.', "_").to_upper_camel_case(), str::to_owned);
    if version.chars().all(|c| c.is_ascii_digit()) {
        format!("{base}V{version}")
    } else {
        format!("{base}{}", version.to_upper_camel_case())
    }
}

/// `channel:read:subscriptions` → `ChannelReadSubscriptions`.
pub fn scope_variant(name: &str) -> String {
    name.replace([':', '.'], "_").to_upper_camel_case()
}

/// An enum value's variant name.
pub fn enum_variant(value: &str) -> String {
    value.to_upper_camel_case()
}

/// Module name of a file: `helix/users.yaml` → `["helix", "users"]`.
pub fn module_path(rel: &str) -> Vec<String> {
    let stem = rel.strip_suffix(".yaml").unwrap_or(rel);
    stem.split('/').map(|s| s.to_snake_case()).collect()
}

/// Build the model. The input has passed validation, so lookups here fall
/// back quietly rather than report.
pub fn build(files: &[SchemaFile]) -> Schema {
    let mut modules = Vec::new();
    let mut scopes = Vec::new();
    let mut types = BTreeMap::new();
    let mut input_models = BTreeSet::new();
    let mut ids = Vec::new();
    let mut withdrawn = Vec::new();

    for file in files {
        for d in &file.doc.ids {
            let d = &d.value;
            ids.push(IdKind {
                kind: d.name.clone(),
                rust: id_type_name(&d.name),
                doc: d.description.clone(),
                runtime: d.runtime,
            });
        }
        let doc = &file.doc;
        let path = module_path(&file.rel_path);
        let mut m = Module {
            rel_path: file.rel_path.clone(),
            path: path.clone(),
            summary: doc.summary.clone(),
            feature: doc.feature.clone(),
            reference: doc
                .reference
                .clone()
                .unwrap_or_else(|| path.last().cloned().unwrap_or_default().replace('_', "-")),
            endpoints: Vec::new(),
            subscriptions: Vec::new(),
            models: Vec::new(),
            enums: Vec::new(),
        };
        for s in &doc.scopes {
            let s = &s.value;
            scopes.push(Scope {
                name: s.name.clone(),
                rust: s.rust_name.clone().unwrap_or_else(|| scope_variant(&s.name)),
                doc: s.description.clone(),
                legacy: s.legacy.clone(),
            });
        }
        for e in &doc.enums {
            let e = &e.value;
            m.enums.push(Enum {
                name: e.name.clone(),
                doc: e.description.clone(),
                values: e
                    .values
                    .iter()
                    .map(|v| EnumValue {
                        wire: v.value.value.clone(),
                        rust: v.value.rust_name.clone().unwrap_or_else(|| enum_variant(&v.value.value)),
                        doc: with_lifecycle(&v.value.description, &Lifecycle::of(v.value.lifecycle.as_ref())),
                        lifecycle: Lifecycle::of(v.value.lifecycle.as_ref()),
                    })
                    .collect(),
            });
        }
        for md in &doc.models {
            let md = &md.value;
            let fields = fields(&md.fields, &mut m.models, Mode::Output);
            m.models.push(Model {
                name: md.name.clone(),
                doc: md.description.clone(),
                fields,
                input: false,
                union: union_of(md.union.as_ref()),
            });
        }
        for ep in &doc.endpoints {
            let line = ep.referenced.line() as usize;
            let ep = &ep.value;
            let type_name = type_name_of_id(&ep.id);
            let query = fields(&ep.query, &mut m.models, Mode::Input);
            let body = fields(&ep.body, &mut m.models, Mode::Input);
            for f in &body {
                if let Ty::Named(n) = f.ty.leaf() {
                    input_models.insert(n.clone());
                }
            }
            let r = &ep.response.value;
            let mut model = r.model.clone();
            if !r.fields.is_empty() {
                let name = model.clone().unwrap_or_else(|| format!("{type_name}Item"));
                let fs = fields(&r.fields, &mut m.models, Mode::Output);
                m.models.push(Model {
                    name: name.clone(),
                    doc: r.description.clone().unwrap_or_else(|| format!("An item returned by [`{type_name}`].")),
                    fields: fs,
                    input: false,
                    union: None,
                });
                model = Some(name);
            }
            let shape = match r.shape.as_str() {
                "data" => Shape::Data,
                "data_object" => Shape::DataObject,
                "object" => Shape::Object,
                "text" => Shape::Text,
                _ => Shape::None,
            };
            let extra = fields(&r.extra, &mut m.models, Mode::Output);
            let errors: Vec<ErrorAnswer> = ep
                .errors
                .iter()
                .map(|e| {
                    let fs = fields(&e.value.fields, &mut m.models, Mode::Output);
                    if !fs.is_empty() {
                        m.models.push(Model {
                            name: error_struct_name(&type_name, e.value.status),
                            doc: format!(
                                "What [`{type_name}`]'s {} answer carries beside `error`, `status` and `message`: \
                                 it comes when {}.",
                                e.value.status,
                                e.value.when.trim_end_matches('.')
                            ),
                            fields: fs.clone(),
                            input: false,
                            union: None,
                        });
                    }
                    ErrorAnswer {
                        status: e.value.status,
                        when: e.value.when.clone(),
                        fields: fs,
                        documented: e.value.documented,
                    }
                })
                .collect();
            let idempotent = ep.idempotent.unwrap_or(matches!(ep.method.as_str(), "GET" | "PUT" | "DELETE"));
            m.endpoints.push(Endpoint {
                area_feature: crate::emit::features::feature_of(&path).unwrap_or_default(),
                reference_url: format!("https://dev.twitch.tv/docs/api/reference/{}#{}", m.reference, ep.id),
                id: ep.id.clone(),
                name: ep.name.clone(),
                category: doc.summary.clone().unwrap_or_default(),
                fn_name: fn_name_of_id(&ep.id),
                type_name,
                summary: ep.summary.clone(),
                docs: ep.docs.clone(),
                method: ep.method.clone(),
                path: ep.path.clone(),
                tokens: ep.tokens.clone(),
                scopes: ep.scopes.clone(),
                conditional_scopes: ep.conditional_scopes.iter().map(|c| (c.scopes.clone(), c.when.clone())).collect(),
                beta: ep.beta || (ep.lifecycle.as_ref().is_some_and(|l| l.beta.is_some() && l.ga.is_none())),
                deprecated: ep.deprecated.clone(),
                lifecycle: Lifecycle::of(ep.lifecycle.as_ref()),
                token_user: ep.token_user.clone(),
                idempotent,
                split: ep.split.as_ref().map(|s| (s.value.param.clone(), s.value.max)),
                errors,
                query,
                rules: ep
                    .rules
                    .iter()
                    .map(|r| match &r.value {
                        load::RuleDef::Exclusive(p) => Rule { kind: RuleKind::Exclusive, params: p.clone() },
                        load::RuleDef::OneOf(p) => Rule { kind: RuleKind::OneOf, params: p.clone() },
                        load::RuleDef::AtLeastOne(p) => Rule { kind: RuleKind::AtLeastOne, params: p.clone() },
                        load::RuleDef::MaxTotal { params, max } => {
                            Rule { kind: RuleKind::MaxTotal(*max), params: params.clone() }
                        }
                    })
                    .collect(),
                body,
                response: Response {
                    shape,
                    status: r.status.unwrap_or(match shape {
                        Shape::None => 204,
                        _ => 200,
                    }),
                    model,
                    extra,
                    paginated: r.paginated,
                    items: match r.items.as_deref() {
                        Some("one") => Items::One,
                        Some("zero_or_one") => Items::ZeroOrOne,
                        _ => Items::Many,
                    },
                },
                lookup: ep.lookup.as_ref().map(|l| Lookup { name: l.value.name.clone(), by: l.value.by.clone() }),
                example_requests: ep
                    .examples
                    .requests
                    .iter()
                    .filter_map(|r| parse_example_request(&r.value.request, r.value.body.as_deref()).ok())
                    .collect(),
                example_response: ep.examples.response.as_ref().map(|s| s.value.clone()),
                decisions: ep.decisions.clone(),
                audit_accept: ep.audit_accept.clone(),
                line,
            });
        }
        for s in &doc.subscriptions {
            let line = s.referenced.line() as usize;
            let s = &s.value;
            let type_name = subscription_type_name(&s.ty, &s.version, s.rust_name.as_deref());
            let condition = fields(&s.condition, &mut m.models, Mode::Condition);
            m.models.push(Model {
                name: type_name.clone(),
                doc: format!("{} The condition of `{}` version `{}`.", s.summary, s.ty, s.version),
                fields: condition.clone(),
                input: true,
                union: None,
            });
            let event = match &s.event {
                Some(name) if s.event_fields.is_empty() => name.clone(),
                other => {
                    let name = other.clone().unwrap_or_else(|| format!("{type_name}Event"));
                    let fs = fields(&s.event_fields, &mut m.models, Mode::Output);
                    m.models.push(Model {
                        name: name.clone(),
                        doc: format!("The event of a `{}` version `{}` notification.", s.ty, s.version),
                        fields: fs,
                        input: false,
                        union: None,
                    });
                    name
                }
            };
            m.subscriptions.push(Subscription {
                area_feature: crate::emit::features::feature_of(&path).unwrap_or_default(),
                // The anchor, with its version, is set below, once every version is known.
                reference_url: format!(
                    "https://dev.twitch.tv/docs/eventsub/reference/{}",
                    s.reference.as_deref().unwrap_or(&m.reference)
                ),
                ty: s.ty.clone(),
                version: s.version.clone(),
                name: s.name.clone(),
                type_name,
                summary: s.summary.clone(),
                scopes: s.scopes.clone(),
                conditional_scopes: s.conditional_scopes.iter().map(|c| (c.scopes.clone(), c.when.clone())).collect(),
                transports: s
                    .transports
                    .clone()
                    .unwrap_or_else(|| vec!["webhook".into(), "websocket".into(), "conduit".into()]),
                beta: s.beta || (s.lifecycle.as_ref().is_some_and(|l| l.beta.is_some() && l.ga.is_none())),
                lifecycle: Lifecycle::of(s.lifecycle.as_ref()),
                condition,
                event,
                batched: s.batched,
                example: s.example.as_ref().map(|e| e.value.clone()),
                decisions: s.decisions.clone(),
                feature: doc.feature.clone(),
                audit_accept: s.audit_accept.clone(),
                line,
            });
        }
        for w in &doc.withdrawn {
            let w = &w.value;
            withdrawn.push(Withdrawn {
                endpoint: w.method.clone().zip(w.path.clone()),
                id: w.endpoint.clone().or_else(|| w.subscription.clone()).unwrap_or_default(),
                version: w.version.clone(),
                name: w.name.clone(),
                lifecycle: Lifecycle::of(Some(&w.lifecycle)),
                replaced_by: w.replaced_by.clone(),
                status: w.answer.status,
                error: w.answer.error.clone(),
                message: w.answer.message.clone(),
                module: path.clone(),
            });
        }
        for md in &m.models {
            types
                .insert(md.name.clone(), TypeInfo { module: path.clone(), is_enum: false, feature: m.feature.clone() });
        }
        for en in &m.enums {
            types.insert(en.name.clone(), TypeInfo { module: path.clone(), is_enum: true, feature: m.feature.clone() });
        }
        modules.push(m);
    }

    // Twitch's per-category EventSub pages anchor a type by its name
    // (`channel.chat.message` → `#channel-chat-message`); a later version
    // documented beside an earlier one adds `-v2`, `-v3`.
    let mut versions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in modules.iter().flat_map(|m| &m.subscriptions) {
        versions.entry(s.ty.clone()).or_default().push(s.version.clone());
    }
    for s in modules.iter_mut().flat_map(|m| &mut m.subscriptions) {
        let mut anchor = s.ty.replace(['.', '_'], "-");
        let earlier = versions[&s.ty].iter().any(|v| version_before(v, &s.version));
        if earlier {
            anchor.push_str(&format!("-v{}", s.version));
        }
        s.reference_url = format!("{}#{anchor}", s.reference_url);
    }

    // Models reachable from request bodies need constructors; follow nesting.
    let all: BTreeMap<String, Vec<String>> = modules
        .iter()
        .flat_map(|m| m.models.iter())
        .map(|md| {
            let deps = md
                .fields
                .iter()
                .filter_map(|f| match f.ty.leaf() {
                    Ty::Named(n) => Some(n.clone()),
                    _ => None,
                })
                .collect();
            (md.name.clone(), deps)
        })
        .collect();
    for m in &modules {
        for s in &m.subscriptions {
            input_models.insert(s.type_name.clone());
        }
    }
    let mut stack: Vec<String> = input_models.iter().cloned().collect();
    while let Some(n) = stack.pop() {
        for d in all.get(&n).into_iter().flatten() {
            if input_models.insert(d.clone()) {
                stack.push(d.clone());
            }
        }
    }
    for m in &mut modules {
        for md in &mut m.models {
            md.input = input_models.contains(&md.name);
        }
    }

    Schema { modules, scopes, types, ids, withdrawn }
}

/// How `required`/`optional` read for a list of fields.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Response models: present unless `optional`/`nullable`.
    Output,
    /// Query and body: optional unless `required`.
    Input,
    /// Subscription conditions: like parameters, optional unless `required`.
    Condition,
}

fn fields(defs: &[serde_saphyr::Spanned<FieldDef>], hoisted: &mut Vec<Model>, mode: Mode) -> Vec<Field> {
    defs.iter().map(|d| field(&d.value, hoisted, mode)).collect()
}

fn field(d: &FieldDef, hoisted: &mut Vec<Model>, mode: Mode) -> Field {
    let mut ty = Ty::parse(&d.ty).unwrap_or(Ty::Json);
    if !d.fields.is_empty() {
        let name = d.model.clone().unwrap_or_else(|| d.name.to_upper_camel_case());
        let fs = fields(&d.fields, hoisted, mode);
        hoisted.push(Model {
            name: name.clone(),
            doc: d.description.clone(),
            fields: fs,
            input: false,
            union: union_of(d.union.as_ref()),
        });
        ty = if ty.is_vec() { Ty::Vec(Box::new(Ty::Named(name))) } else { Ty::Named(name) };
    }
    // What callers send: a documented range that starts at 0 or above makes
    // the parameter unsigned, as narrow as its maximum allows. Answers keep
    // `i64`, so a value outside the documented range still decodes.
    if mode == Mode::Input && ty == Ty::Integer && d.min.is_some_and(|m| m >= 0) {
        ty = Ty::Unsigned(UInt::for_max(d.max));
    }
    let rust = d.rust_name.clone().unwrap_or_else(|| d.name.to_snake_case());
    let lifecycle = Lifecycle::of(d.lifecycle.as_ref());
    Field {
        wire: d.name.clone(),
        rust,
        ty,
        doc: with_lifecycle(&d.description, &lifecycle),
        required: match mode {
            Mode::Output => false,
            Mode::Input => d.required,
            Mode::Condition => d.required,
        },
        option: match mode {
            Mode::Output => d.optional || d.nullable,
            Mode::Input => !d.required,
            Mode::Condition => !d.required,
        },
        deprecated: d.deprecated.clone(),
        lifecycle,
        repeat: d.repeat,
        min: d.min,
        max: d.max,
        max_len: d.max_len,
    }
}

/// Parse `GET /users?id=1&login=a` (path after `/helix`).
pub fn parse_example_request(line: &str, body: Option<&str>) -> Result<ExampleRequest, String> {
    let line = line.trim();
    let (method, rest) = line.split_once(' ').ok_or("expected 'METHOD /path?query'")?;
    let method = method.trim().to_ascii_uppercase();
    if !matches!(method.as_str(), "GET" | "POST" | "PUT" | "PATCH" | "DELETE") {
        return Err(format!("unknown method '{method}'"));
    }
    let rest = rest.trim();
    let rest = rest.strip_prefix("https://api.twitch.tv").unwrap_or(rest);
    let rest = rest.strip_prefix("/helix").unwrap_or(rest);
    if !rest.starts_with('/') {
        return Err(format!("path '{rest}' must start with '/'"));
    }
    let (path, q) = rest.split_once('?').unwrap_or((rest, ""));
    let query = form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let parsed = match body {
        Some(b) => Some(serde_json::from_str(b).map_err(|e| format!("example body is not JSON: {e}"))?),
        None => None,
    };
    Ok(ExampleRequest {
        method,
        path: path.to_owned(),
        query,
        raw: line.to_owned(),
        raw_body: body.map(str::to_owned),
        body: parsed,
    })
}
