//! Static descriptions of endpoints and subscription types, emitted by the
//! generator and read by the client (token checks) and by tools (mock servers).

/// Twitch's Helix base URL.
pub const HELIX_URL: &str = "https://api.twitch.tv/helix";
/// Twitch's OAuth base URL.
pub const AUTH_URL: &str = "https://id.twitch.tv/oauth2";
/// Twitch's EventSub WebSocket endpoint.
pub const EVENTSUB_WS_URL: &str = "wss://eventsub.wss.twitch.tv/ws";

/// HTTP method of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl Method {
    /// The method as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind of access token an endpoint accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// An app access token (client credentials).
    App,
    /// A user access token.
    User,
    /// A JWT signed by an extension's secret.
    ExtensionJwt,
    /// No token at all (public endpoints such as the iCalendar feed).
    None,
}

/// How a successful response body is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseShape {
    /// `{"data": [...]}`
    Data,
    /// `{"data": {...}}`
    DataObject,
    /// The body is the object itself.
    Object,
    /// No body.
    None,
    /// A body that is not JSON.
    Text,
}

/// What a parameter's value is on the wire: a JSON kind in a body; in a
/// query string the same, written as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireKind {
    /// A string (also ids, logins and enum values).
    String,
    /// An RFC 3339 date and time, as text.
    Timestamp,
    /// A whole number.
    Integer,
    /// Any number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A JSON object (a model).
    Object,
    /// A JSON array (a list in a body).
    Array,
    /// Any JSON value.
    Any,
}

/// A query or body parameter and its documented limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamMeta {
    /// Name on the wire.
    pub name: &'static str,
    /// The caller must give it.
    pub required: bool,
    /// Repeatable, at most this many times.
    pub repeat: Option<u32>,
    /// Smallest allowed value.
    pub min: Option<i64>,
    /// Largest allowed value.
    pub max: Option<i64>,
    /// Longest allowed string, in characters.
    pub max_len: Option<u32>,
    /// What each value is on the wire.
    pub kind: WireKind,
    /// The values Twitch takes, for a parameter of an enumerated type
    /// (empty: any value of its kind).
    pub values: &'static [&'static str],
}

/// A constraint between parameters of one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// At most one of the parameters may be given.
    Exclusive,
    /// Exactly one of the parameters must be given.
    OneOf,
    /// At least one of the parameters must be given.
    AtLeastOne,
    /// The parameters' values together may number at most this many.
    MaxTotal(u32),
}

/// A documented constraint between parameters (query or body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleMeta {
    /// What the rule demands.
    pub kind: RuleKind,
    /// The parameters' wire names.
    pub params: &'static [&'static str],
}

/// Dates from Twitch's changelog (`YYYY-MM-DD`), where the schema knows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lifecycle {
    /// Opened as an open beta.
    pub beta: Option<&'static str>,
    /// Generally available.
    pub ga: Option<&'static str>,
    /// Added without a beta.
    pub added: Option<&'static str>,
    /// Deprecated.
    pub deprecated: Option<&'static str>,
    /// Withdrawn: Twitch no longer serves it.
    pub withdrawn: Option<&'static str>,
}

impl Lifecycle {
    /// No date known.
    pub const NONE: Lifecycle = Lifecycle { beta: None, ga: None, added: None, deprecated: None, withdrawn: None };
}

/// A body list Twitch takes at most `max` items of per request: the client
/// sends a longer one as several requests, in order, and merges the
/// answers (their `data` and other lists joined).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitMeta {
    /// The body field's wire name.
    pub param: &'static str,
    /// Items per request.
    pub max: u32,
}

/// An error answer the schema lists for an endpoint, beyond the 400, 401
/// and 429 every endpoint may give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorMeta {
    /// The HTTP status.
    pub status: u16,
    /// When it comes: a clause that ends the sentence "403 when ...".
    pub when: &'static str,
    /// Listed in Twitch's reference; `false` when the schema's decisions
    /// for the endpoint give another source.
    pub documented: bool,
}

/// Something Twitch has withdrawn: an endpoint or a subscription
/// type-version that it no longer serves, and how it answers a request
/// for it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WithdrawnMeta {
    /// The endpoint's reference anchor, or the subscription type.
    pub id: &'static str,
    /// The subscription version (`None` for an endpoint).
    pub version: Option<&'static str>,
    /// Twitch's title.
    pub name: &'static str,
    /// The endpoint's method and path after `/helix` (`None` for a subscription type).
    pub endpoint: Option<(Method, &'static str)>,
    /// When it was opened, released, deprecated and withdrawn.
    pub lifecycle: Lifecycle,
    /// What to use instead: an endpoint id or `type vN`.
    pub replaced_by: Option<&'static str>,
    /// The status Twitch answers a request for it with.
    pub status: u16,
    /// The error body's `error`.
    pub error: &'static str,
    /// The error body's `message`.
    pub message: &'static str,
}

/// Everything the schema says about one Helix endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointMeta {
    /// Twitch's reference anchor, e.g. `get-users`.
    pub id: &'static str,
    /// The cargo feature of the `twitch` crate that turns it on, e.g. `helix-users`.
    pub feature: &'static str,
    /// Twitch's title, e.g. `Get Users`.
    pub name: &'static str,
    /// One line on what it does.
    pub summary: &'static str,
    /// HTTP method.
    pub method: Method,
    /// Path after `/helix`, e.g. `/users`.
    pub path: &'static str,
    /// Token kinds it accepts.
    pub tokens: &'static [TokenKind],
    /// Scope groups: every group is needed, any scope of a group satisfies it.
    pub scopes: &'static [&'static [&'static str]],
    /// Safe to send again after a transport error.
    pub idempotent: bool,
    /// Responses carry a cursor.
    pub paginated: bool,
    /// Twitch marks it beta.
    pub beta: bool,
    /// When Twitch opened, released or deprecated it.
    pub lifecycle: Lifecycle,
    /// The parameter (query or body) naming the user the request acts as,
    /// on endpoints that take an app or a user token: a user token must be
    /// that user's; an app token works when that user has granted the app
    /// the endpoint's scopes. The client sends that user's token when it
    /// holds one (see the runtime's `RequestOptions`).
    pub token_user: Option<&'static str>,
    /// A body list sent in parts.
    pub split: Option<SplitMeta>,
    /// Status of a successful response.
    pub success_status: u16,
    /// Error answers beyond 400, 401 and 429, by status.
    pub errors: &'static [ErrorMeta],
    /// Shape of a successful response.
    pub response: ResponseShape,
    /// Query parameters.
    pub query: &'static [ParamMeta],
    /// Top-level JSON body fields.
    pub body: &'static [ParamMeta],
    /// Constraints between parameters.
    pub rules: &'static [RuleMeta],
    /// Twitch's example requests (`GET /users?id=1`).
    pub example_requests: &'static [&'static str],
    /// Twitch's example response body.
    pub example_response: Option<&'static str>,
}

impl EndpointMeta {
    /// Does a token with these scopes satisfy every scope group?
    /// Returns the groups that are not satisfied.
    pub fn missing_scopes<S: AsRef<str>>(&self, granted: &[S]) -> Vec<&'static [&'static str]> {
        self.scopes
            .iter()
            .copied()
            .filter(|group| !group.iter().any(|s| granted.iter().any(|g| g.as_ref() == *s)))
            .collect()
    }
}

/// Everything the schema says about one EventSub subscription type and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionMeta {
    /// e.g. `channel.follow`
    pub subscription_type: &'static str,
    /// e.g. `2`, or `beta`
    pub version: &'static str,
    /// The cargo feature of the `twitch` crate that turns it on, e.g. `eventsub-channel`.
    pub feature: &'static str,
    /// Twitch's title.
    pub name: &'static str,
    /// One line on when it fires.
    pub summary: &'static str,
    /// Scope groups needed for the subscription.
    pub scopes: &'static [&'static [&'static str]],
    /// `webhook`, `websocket`, `conduit`.
    pub transports: &'static [&'static str],
    /// Condition field names.
    pub condition: &'static [&'static str],
    /// Twitch marks it beta.
    pub beta: bool,
    /// When Twitch opened, released or deprecated it.
    pub lifecycle: Lifecycle,
    /// Notifications carry an `events` array.
    pub batched: bool,
    /// Twitch's example notification payload.
    pub example: Option<&'static str>,
}

/// A cargo feature of the `twitch` crate for one area of the API (a Helix
/// category or an EventSub group), and what it turns on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureMeta {
    /// e.g. `helix-chat`, `eventsub-channel`
    pub name: &'static str,
    /// Another feature its items also need (`beta` for Guest Star).
    pub also: Option<&'static str>,
    /// Whether this build has it on.
    pub enabled: bool,
    /// The ids of its endpoints (`send-chat-message`).
    pub endpoints: &'static [&'static str],
    /// Its subscription types and versions (`("channel.chat.message", "1")`).
    pub subscriptions: &'static [(&'static str, &'static str)],
}
