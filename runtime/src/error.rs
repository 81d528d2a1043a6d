//! The one error type of the runtime.

use std::fmt;
use std::time::Duration;

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
        missing: Vec<Vec<String>>,
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
        /// The raw body, so nothing is lost.
        body: String,
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
    /// An OAuth flow failed (see [`crate::OAuthError`]).
    OAuth(crate::auth::OAuthError),
    /// The client was configured wrongly (bad base URL, missing client id, ...).
    Config(String),
    /// An EventSub WebSocket session or shard pool failed.
    EventSub(crate::websocket::EventSubError),
}

impl Error {
    /// The HTTP status, where there was a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::RateLimited { .. } => Some(429),
            Error::Unauthorized { .. } => Some(401),
            Error::Transport { source, .. } => source.status().map(|s| s.as_u16()),
            Error::OAuth(crate::auth::OAuthError::Rejected { status, .. }) => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api { endpoint, status, error, message } => {
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
                let groups: Vec<String> = missing.iter().map(|g| g.join(" or ")).collect();
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
            Error::OAuth(e) => write!(f, "{e}"),
            Error::Config(msg) => write!(f, "client configuration: {msg}"),
            Error::EventSub(e) => write!(f, "eventsub: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport { source, .. } => Some(source),
            Error::InvalidRequest { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A parameter that breaks a documented limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidParam {
    /// The parameter's wire name (or names, for rules over several).
    pub param: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for InvalidParam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid `{}`: {}", self.param, self.message)
    }
}

impl std::error::Error for InvalidParam {}
