//! The one error type of the runtime.

use std::fmt;
use std::time::Duration;

use crate::base::scope::Scope;
use crate::base::types::UserId;
pub use twitch_base::error::{DecodeError, InvalidParam, ResponseBody, SECRET_FIELDS};

/// A `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when talking to Twitch.
///
/// Variants carry the endpoint id (`get-users`, or the path for raw calls)
/// so a log line says which call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Twitch answered with an error body: `{"error", "status", "message"}`.
    Api {
        /// Endpoint id.
        endpoint: String,
        /// HTTP status.
        status: u16,
        /// Twitch's short error name, e.g. `Bad Request`.
        error: String,
        /// Twitch's explanation.
        message: String,
        /// Fields of the body beside `error`, `status` and `message`, where
        /// Twitch sends any (Create EventSub Subscription's 409 names the
        /// subscription that exists as `id`). The generated crate reads
        /// the ones its schema documents, typed.
        details: ApiDetails,
    },
    /// 429: the rate limit bucket is empty.
    RateLimited {
        /// Endpoint id.
        endpoint: String,
        /// When the bucket refills, as Twitch's `Ratelimit-Reset` header says (Unix seconds).
        reset_at: Option<u64>,
        /// How long to wait, derived from `reset_at` at the time of the response.
        retry_after: Option<Duration>,
        /// A per-endpoint cooldown (commercials, raids, whispers, ...) rather
        /// than the bucket running dry: not retried automatically.
        cooldown: bool,
        /// Twitch's message.
        message: String,
    },
    /// 401: the token is missing, invalid or expired.
    Unauthorized {
        /// Endpoint id.
        endpoint: String,
        /// Twitch's message.
        message: String,
    },
    /// The endpoint needs a token the client does not have, or scopes the
    /// token lacks. Found before sending anything.
    MissingScope {
        /// Endpoint id.
        endpoint: String,
        /// Scope groups not satisfied: each needs one of its scopes.
        missing: Vec<Vec<Scope>>,
    },
    /// The endpoint accepts none of the token kinds the client holds.
    WrongToken {
        /// Endpoint id.
        endpoint: String,
        /// What the endpoint accepts, e.g. `user access token`.
        needs: String,
    },
    /// The request could not be sent or the response not read.
    Transport {
        /// Endpoint id.
        endpoint: String,
        /// The HTTP client's error.
        source: reqwest::Error,
    },
    /// The response did not match the schema.
    Decode {
        /// Endpoint id, or `type vN` for EventSub events.
        endpoint: String,
        /// JSON path of the field that failed, e.g. `data[0].created_at`.
        path: String,
        /// What was wrong.
        message: String,
        /// The raw body, so nothing is lost (its `Debug` shows only the length).
        body: ResponseBody,
    },
    /// A parameter broke a documented limit; nothing was sent.
    InvalidRequest {
        /// Endpoint id.
        endpoint: String,
        /// The parameter and what is wrong.
        source: InvalidParam,
    },
    /// A paginated walk got a cursor it had already followed.
    RepeatedCursor {
        /// Endpoint id.
        endpoint: String,
        /// The cursor.
        cursor: String,
    },
    /// A 401 that a new token cannot fix: the token belongs to another
    /// application than the client id sent (Twitch's "Client ID and OAuth
    /// token do not match"). A configuration error; nothing is refreshed.
    TokenMismatch {
        /// Endpoint id.
        endpoint: String,
        /// Twitch's message.
        message: String,
    },
    /// Twitch refused the token for good: `validate` answered 401 and the
    /// refresh was refused (or there is no refresh token). The user must
    /// authorize again; until the application adds a new token
    /// ([`TokenManager::add_user`](crate::TokenManager::add_user)), requests
    /// for this user fail at once with this error and send nothing.
    TokenInvalid {
        /// The user; `None` for the app token.
        user: Option<UserId>,
        /// What Twitch said.
        message: String,
    },
    /// A user's token was issued to another application than this
    /// program's client id: a configuration error (a wrong client id in
    /// the environment, a staging deployment pointed at production's
    /// tokens). Nothing is refreshed or removed; the token stays for the
    /// program that runs with its client id.
    WrongClient {
        /// The user whose token it is.
        user: UserId,
        /// The client id the token was issued to.
        token_client_id: String,
        /// The client id this program runs with.
        client_id: String,
    },
    /// The identity service refused this program's client id or secret
    /// (`invalid client`, `invalid client secret`): a configuration error,
    /// not a verdict on any token. Tokens are kept.
    ClientRefused {
        /// The client id sent.
        client_id: String,
        /// HTTP status.
        status: u16,
        /// What the identity service said.
        message: String,
    },
    /// A refresh failed for a reason that may pass (transport error,
    /// timeout, 5xx): the token is kept and tried again later.
    RefreshFailed {
        /// The user; `None` for the app token.
        user: Option<UserId>,
        /// What went wrong.
        message: String,
    },
    /// An OAuth flow failed (see [`OAuthError`]).
    OAuth(OAuthError),
    /// The client was configured wrongly (bad base URL, missing client id, ...).
    Config(String),
    /// An environment variable that configuration reads (see
    /// `ClientBuilder::from_env`) is missing or unusable.
    Env {
        /// The variable, e.g. `TWITCH_CLIENT_ID`.
        variable: String,
        /// What is wrong with it: "is not set", "is not valid UTF-8", ...
        problem: String,
    },
    /// There is no token to send: the token manager holds none for this
    /// user (or no app token, and no client secret to fetch one).
    NoToken {
        /// The user; `None` for the app token.
        user: Option<UserId>,
    },
    /// The token store failed to read or write (the I/O or decoding error
    /// is the `source`).
    TokenStore {
        /// Where: the store's file, table, ...
        location: String,
        /// What failed.
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// TLS could not be set up (no certificate verifier on this platform,
    /// or the HTTP client could not be built on it).
    Tls {
        /// What failed.
        message: String,
    },
    /// The local listener for the OAuth redirect failed (feature `callback`).
    Callback {
        /// The I/O error.
        source: std::io::Error,
    },
    /// The user did not finish logging in before the time given.
    LoginTimedOut {
        /// How long was waited.
        waited: Duration,
    },
    /// An EventSub WebSocket session or shard pool failed.
    EventSub(EventSubError),
}

/// The fields of an error body beside `error`, `status` and `message`
/// (mostly none). JSON values, as the body carried them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApiDetails(Option<Box<serde_json::Map<String, serde_json::Value>>>);

impl ApiDetails {
    /// From the fields of an error body; `error`, `status` and `message`
    /// are left out.
    pub fn from_body(mut body: serde_json::Map<String, serde_json::Value>) -> Self {
        for k in ["error", "status", "message"] {
            body.remove(k);
        }
        Self((!body.is_empty()).then(|| Box::new(body)))
    }

    /// One field, if the body had it.
    pub fn get(&self, name: &str) -> Option<&serde_json::Value> {
        self.0.as_ref().and_then(|m| m.get(name))
    }

    /// Every field.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &serde_json::Value)> {
        self.0.iter().flat_map(|m| m.iter())
    }

    /// No field beside the usual ones.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

impl Error {
    /// The HTTP status, where there was a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::RateLimited { .. } => Some(429),
            Error::Unauthorized { .. } | Error::TokenMismatch { .. } => Some(401),
            Error::Transport { source, .. } => source.status().map(|s| s.as_u16()),
            Error::OAuth(OAuthError::Rejected { status, .. }) | Error::ClientRefused { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api { endpoint, status, error, message, .. } => {
                write!(f, "{endpoint}: Twitch answered {status} {error}: {message}")
            }
            Error::RateLimited { endpoint, retry_after, cooldown, .. } => {
                let what = if *cooldown { "in cooldown" } else { "rate limited" };
                match retry_after {
                    Some(d) => write!(f, "{endpoint}: {what}; retry in {:.1} s", d.as_secs_f64()),
                    None => write!(f, "{endpoint}: {what}"),
                }
            }
            Error::Unauthorized { endpoint, message } => write!(f, "{endpoint}: unauthorized: {message}"),
            Error::MissingScope { endpoint, missing } => {
                let groups: Vec<String> =
                    missing.iter().map(|g| g.iter().map(Scope::as_str).collect::<Vec<_>>().join(" or ")).collect();
                write!(f, "{endpoint}: the token lacks scopes: {}", groups.join(", and "))
            }
            Error::WrongToken { endpoint, needs } => write!(f, "{endpoint}: needs a {needs}"),
            Error::Transport { endpoint, source } => write!(f, "{endpoint}: transport error: {source}"),
            Error::Decode { endpoint, path, message, .. } => {
                write!(f, "{endpoint}: cannot decode the response at `{path}`: {message}")
            }
            Error::InvalidRequest { endpoint, source } => write!(f, "{endpoint}: {source}"),
            Error::RepeatedCursor { endpoint, cursor } => {
                write!(f, "{endpoint}: pagination returned cursor `{cursor}` twice; stopping")
            }
            Error::TokenMismatch { endpoint, message } => {
                write!(f, "{endpoint}: the token belongs to another client id: {message}")
            }
            Error::TokenInvalid { user: Some(u), message } => {
                write!(
                    f,
                    "the token of user {u} is no longer valid and cannot be refreshed ({message}); authorize again"
                )
            }
            Error::TokenInvalid { user: None, message } => {
                write!(f, "the app token is no longer valid and cannot be renewed ({message})")
            }
            Error::RefreshFailed { user: Some(u), message } => {
                write!(f, "refreshing the token of user {u} failed, it is kept: {message}")
            }
            Error::RefreshFailed { user: None, message } => write!(f, "renewing the app token failed: {message}"),
            Error::WrongClient { user, token_client_id, client_id } => write!(
                f,
                "the token of user {user} was issued to client id {token_client_id}, and this program runs as {client_id}: check the client id; the token is kept"
            ),
            Error::ClientRefused { client_id, status, message } => write!(
                f,
                "the identity service refused client id {client_id} ({status} {message}): check the client id and secret; tokens are kept"
            ),
            Error::OAuth(e) => write!(f, "{e}"),
            Error::Config(msg) => write!(f, "client configuration: {msg}"),
            Error::Env { variable, problem } => write!(f, "environment variable {variable} {problem}"),
            Error::NoToken { user: Some(u) } => write!(f, "no token for user {u}"),
            Error::NoToken { user: None } => f.write_str("no app token, and no client secret to fetch one"),
            Error::TokenStore { location, source } => write!(f, "token store {location}: {source}"),
            Error::Tls { message } => write!(f, "TLS setup: {message}"),
            Error::Callback { source } => write!(f, "the OAuth redirect listener failed: {source}"),
            Error::LoginTimedOut { waited } => {
                write!(f, "no OAuth redirect arrived within {:.0} s", waited.as_secs_f64())
            }
            Error::EventSub(e) => write!(f, "eventsub: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport { source, .. } => Some(source),
            Error::InvalidRequest { source, .. } => Some(source),
            Error::TokenStore { source, .. } => Some(source.as_ref()),
            Error::Callback { source } => Some(source),
            _ => None,
        }
    }
}

/// What went wrong in an OAuth exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuthError {
    /// The redirect's `state` is not the one this app sent: a possible CSRF.
    StateMismatch,
    /// The user declined, or Twitch answered the redirect with an error.
    Denied {
        /// Twitch's `error`.
        error: String,
        /// Twitch's `error_description`.
        description: String,
    },
    /// The device code expired before the user approved it.
    DeviceCodeExpired,
    /// A redirect URL without the expected parameters.
    MalformedRedirect(String),
    /// An OIDC ID token that does not hold up: bad signature, unknown key,
    /// another issuer or audience, expired, or not the nonce sent.
    InvalidIdToken(String),
    /// Twitch refused the request (invalid client, bad code, invalid or
    /// used refresh token, invalid token, ...).
    Rejected {
        /// What was asked: `token`, `device`, `validate`, `revoke`.
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// Twitch's message.
        message: String,
    },
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OAuthError::StateMismatch => f.write_str("the redirect's state does not match the one sent"),
            OAuthError::Denied { error, description } => write!(f, "authorization denied: {error}: {description}"),
            OAuthError::DeviceCodeExpired => f.write_str("the device code expired before it was approved"),
            OAuthError::MalformedRedirect(m) => write!(f, "malformed redirect: {m}"),
            OAuthError::InvalidIdToken(m) => write!(f, "invalid ID token: {m}"),
            OAuthError::Rejected { operation, status, message } => {
                write!(f, "oauth2/{operation} answered {status}: {message}")
            }
        }
    }
}

/// Errors specific to EventSub sessions (inside [`Error::EventSub`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventSubError {
    /// The socket could not be opened.
    Connect {
        /// Where to.
        url: String,
        /// Why.
        message: String,
    },
    /// The server did not send a welcome first, or not in time.
    NoWelcome {
        /// What came instead.
        message: String,
    },
    /// A user token may have at most [`MAX_CONNECTIONS_PER_USER`](crate::websocket::MAX_CONNECTIONS_PER_USER) WebSocket
    /// connections; this one would be one more.
    TooManyConnections {
        /// The user the connections belong to (`None`: the client's default).
        user: Option<String>,
        /// The limit.
        limit: usize,
    },
    /// The connection already has [`MAX_SUBSCRIPTIONS_PER_CONNECTION`](crate::websocket::MAX_SUBSCRIPTIONS_PER_CONNECTION)
    /// enabled subscriptions.
    TooManySubscriptions {
        /// The limit.
        limit: usize,
    },
    /// Twitch refused the subscription because the cost limit is reached.
    CostExceeded {
        /// Twitch's message.
        message: String,
    },
    /// Twitch refused to point a conduit shard at a session (or the
    /// update call failed). The pool tries again with backoff.
    ShardRefused {
        /// The shard id.
        shard_id: String,
        /// Twitch's message.
        message: String,
        /// Twitch's code.
        code: String,
        /// Which attempt this was (1 for the first).
        attempt: u32,
    },
    /// Every attempt to attach a shard was refused: the pool stopped
    /// running it and closed its socket.
    ShardGaveUp {
        /// The shard id.
        shard_id: String,
        /// How many attempts were made.
        attempts: u32,
        /// Twitch's last message.
        message: String,
        /// Twitch's last code.
        code: String,
    },
    /// Update Conduit Shards failed without a word about the shard (Helix
    /// unreachable, a 5xx, a 429) while a running pool attached it again:
    /// not a refusal. The pool tries again with backoff for as long as the
    /// shard runs; this reports each failure.
    ShardAttachFailed {
        /// The shard id.
        shard_id: String,
        /// What went wrong.
        message: String,
        /// Which failure this was (1 for the first).
        attempt: u32,
    },
    /// Twitch answered 404 to Update Conduit Shards: the conduit does not
    /// exist (deleted, or expired after its shards stayed disabled). The
    /// shard's socket is closed; a new conduit is needed.
    ConduitGone {
        /// The conduit id.
        conduit_id: String,
        /// Twitch's answer.
        message: String,
    },
    /// The conduit has no such shard (it was shrunk): the pool stopped
    /// running it and closed its socket.
    ShardOutOfRange {
        /// The shard id.
        shard_id: String,
        /// Twitch's message.
        message: String,
    },
    /// Twitch answered that the subscription exists, and it is enabled on
    /// another WebSocket session of the same user (a second program on the
    /// token: an overlay beside a bot). That one is left alone: it is not
    /// this session's to delete.
    SubscribedElsewhere {
        /// The subscription that exists.
        subscription_id: String,
        /// The session it delivers to.
        session_id: String,
    },
    /// A shard pool that claims shards found none free (every shard of
    /// its range enabled on other sessions), or lost every race for them.
    NoFreeShard {
        /// The conduit.
        conduit_id: String,
        /// The shard ids the pool claims from, e.g. `0..8` or `any`.
        range: String,
    },
    /// The session was closed.
    Closed,
}

impl fmt::Display for EventSubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventSubError::Connect { url, message } => write!(f, "cannot connect to {url}: {message}"),
            EventSubError::NoWelcome { message } => write!(f, "no welcome message: {message}"),
            EventSubError::TooManyConnections { user, limit } => write!(
                f,
                "a user token may have at most {limit} EventSub WebSocket connections{}; close one or use a conduit",
                user.as_deref().map(|u| format!(" (user {u})")).unwrap_or_default()
            ),
            EventSubError::TooManySubscriptions { limit } => {
                write!(f, "a WebSocket connection may have at most {limit} enabled subscriptions")
            }
            EventSubError::CostExceeded { message } => write!(f, "subscription cost limit reached: {message}"),
            EventSubError::SubscribedElsewhere { subscription_id, session_id } => write!(
                f,
                "the subscription exists already ({subscription_id}), enabled on another session ({session_id})"
            ),
            EventSubError::ShardRefused { shard_id, message, code, attempt } => {
                write!(f, "Twitch refused to attach conduit shard {shard_id} (attempt {attempt}): {message} ({code})")
            }
            EventSubError::ShardGaveUp { shard_id, attempts, message, code } => write!(
                f,
                "gave up attaching conduit shard {shard_id} after {attempts} attempts: {message} ({code}); its socket is closed"
            ),
            EventSubError::ShardAttachFailed { shard_id, message, attempt } => write!(
                f,
                "attaching conduit shard {shard_id} failed (failure {attempt}, not a refusal; trying again): {message}"
            ),
            EventSubError::ConduitGone { conduit_id, message } => {
                write!(f, "conduit {conduit_id} does not exist (any more): {message}")
            }
            EventSubError::ShardOutOfRange { shard_id, message } => {
                write!(f, "the conduit has no shard {shard_id} ({message}); its socket is closed")
            }
            EventSubError::NoFreeShard { conduit_id, range } => {
                write!(f, "no free shard ({range}) in conduit {conduit_id}: every one is enabled on another session")
            }
            EventSubError::Closed => f.write_str("the EventSub session is closed"),
        }
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Decode { endpoint: e.endpoint, path: e.path, message: e.message, body: e.body }
    }
}
