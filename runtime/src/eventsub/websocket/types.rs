//! What sessions and shard pools yield, and the limits and codes they know.

use std::fmt;
use std::time::Duration;

use super::frame::MessageMetadata;
use crate::base::error::Error;
use crate::base::types::{SessionId, UserId};
use crate::eventsub::decode::{RawSubscription, SubscriptionInfo};

/// A lock that a panicked holder did not poison for good: the state it
/// guards (ids, subscription lists) stays usable.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Enabled subscriptions one WebSocket connection may have.
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 300;

/// WebSocket connections with subscriptions one user token may have.
pub const MAX_CONNECTIONS_PER_USER: usize = 3;

/// How old a message may be before it is dropped as a replay.
pub const MAX_MESSAGE_AGE: Duration = Duration::from_secs(600);

/// The close codes Twitch documents, and any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseCode {
    /// 1000
    Normal,
    /// 4000: internal server error.
    InternalServerError,
    /// 4001: the client sent something other than a Pong.
    ClientSentInboundTraffic,
    /// 4002: the client did not answer a Ping.
    ClientFailedPingPong,
    /// 4003: no subscription was created within the welcome window.
    ConnectionUnused,
    /// 4004: the client did not reconnect within 30 s of `session_reconnect`.
    ReconnectGraceTimeExpired,
    /// 4005: network timeout.
    NetworkTimeout,
    /// 4006: network error.
    NetworkError,
    /// 4007: the reconnect URL was wrong.
    InvalidReconnect,
    /// Any other code.
    Other(u16),
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        match code {
            1000 => CloseCode::Normal,
            4000 => CloseCode::InternalServerError,
            4001 => CloseCode::ClientSentInboundTraffic,
            4002 => CloseCode::ClientFailedPingPong,
            4003 => CloseCode::ConnectionUnused,
            4004 => CloseCode::ReconnectGraceTimeExpired,
            4005 => CloseCode::NetworkTimeout,
            4006 => CloseCode::NetworkError,
            4007 => CloseCode::InvalidReconnect,
            other => CloseCode::Other(other),
        }
    }
}

impl CloseCode {
    /// The numeric code.
    pub fn code(self) -> u16 {
        match self {
            CloseCode::Normal => 1000,
            CloseCode::InternalServerError => 4000,
            CloseCode::ClientSentInboundTraffic => 4001,
            CloseCode::ClientFailedPingPong => 4002,
            CloseCode::ConnectionUnused => 4003,
            CloseCode::ReconnectGraceTimeExpired => 4004,
            CloseCode::NetworkTimeout => 4005,
            CloseCode::NetworkError => 4006,
            CloseCode::InvalidReconnect => 4007,
            CloseCode::Other(c) => c,
        }
    }
}

/// Why a connection was lost.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The server closed it with a close frame.
    Closed {
        /// The close code.
        code: CloseCode,
        /// The close reason text.
        reason: String,
    },
    /// Nothing arrived within the keepalive window plus grace.
    KeepaliveTimeout,
    /// The socket failed (reset, protocol error, ...).
    Transport(String),
    /// A message was larger than allowed.
    MessageTooLarge(String),
    /// The connection ended without a close frame.
    Ended,
    /// `session_reconnect`'s URL could not be reached, and the old socket then closed.
    ReconnectFailed(String),
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisconnectReason::Closed { code, reason } => write!(f, "closed by the server ({}) {reason}", code.code()),
            DisconnectReason::KeepaliveTimeout => f.write_str("no message within the keepalive window"),
            DisconnectReason::Transport(e) => write!(f, "socket error: {e}"),
            DisconnectReason::MessageTooLarge(e) => write!(f, "message too large: {e}"),
            DisconnectReason::Ended => f.write_str("the connection ended"),
            DisconnectReason::ReconnectFailed(e) => write!(f, "the reconnect URL failed: {e}"),
        }
    }
}

/// A subscription's status as Twitch reports it (revocations carry one).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SubscriptionStatus {
    /// `enabled`
    Enabled,
    /// `authorization_revoked`: the user took the app's authorization back.
    AuthorizationRevoked,
    /// `user_removed`: the user no longer exists.
    UserRemoved,
    /// `moderator_removed`
    ModeratorRemoved,
    /// `version_removed`: the type's version is gone.
    VersionRemoved,
    /// `chat_user_banned`
    ChatUserBanned,
    /// `beta_maintenance`
    BetaMaintenance,
    /// `conduit_deleted`
    ConduitDeleted,
    /// `notification_failures_exceeded`
    NotificationFailuresExceeded,
    /// Any `websocket_*` status, kept as sent.
    WebSocket(String),
    /// A status this crate does not know, kept as sent.
    Unknown(String),
}

impl From<&str> for SubscriptionStatus {
    fn from(s: &str) -> Self {
        match s {
            "enabled" => Self::Enabled,
            "authorization_revoked" => Self::AuthorizationRevoked,
            "user_removed" => Self::UserRemoved,
            "moderator_removed" => Self::ModeratorRemoved,
            "version_removed" => Self::VersionRemoved,
            "chat_user_banned" => Self::ChatUserBanned,
            "beta_maintenance" => Self::BetaMaintenance,
            "conduit_deleted" => Self::ConduitDeleted,
            "notification_failures_exceeded" => Self::NotificationFailuresExceeded,
            w if w.starts_with("websocket_") => Self::WebSocket(w.to_owned()),
            other => Self::Unknown(other.to_owned()),
        }
    }
}

/// A notification, with the metadata that identifies it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Delivered<E> {
    /// Twitch's message id (duplicates are already dropped).
    pub message_id: String,
    /// When Twitch sent it.
    pub timestamp: String,
    /// The subscription it belongs to, as received ([`RawSubscription::parse`]
    /// decodes it; the event's type and version are on the event).
    pub subscription: RawSubscription,
    /// The event. A known type whose JSON did not fit arrives raw
    /// (`Event::Unknown`), with `decode_error` saying why.
    pub event: E,
    /// Why a known type's event is raw.
    pub decode_error: Option<Box<Error>>,
    /// The conduit shard that received it (shard pools only).
    pub shard: Option<u32>,
}

impl<E> Delivered<E> {
    /// [`timestamp`](Self::timestamp) as a [`Timestamp`](crate::base::types::Timestamp);
    /// `None` if it is not RFC 3339.
    pub fn sent_at(&self) -> Option<crate::base::types::Timestamp> {
        crate::base::types::Timestamp::parse(&self.timestamp).ok()
    }
}

/// Twitch revoked a subscription.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Revocation {
    /// Why, as a typed status.
    pub status: SubscriptionStatus,
    /// The subscription as Twitch sent it (its `status` field is the raw reason).
    pub subscription: SubscriptionInfo,
    /// The shard that received it (shard pools only).
    pub shard: Option<u32>,
}

/// A connection was lost without a reconnect message: notifications sent
/// until the replacement is subscribed are gone (Twitch does not replay).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Lost {
    /// Why.
    pub reason: DisconnectReason,
    /// The session id that was lost.
    pub session_id: String,
    /// The shard (shard pools only).
    pub shard: Option<u32>,
}

/// A subscription that could not be created again after a reconnect.
#[derive(Debug)]
#[non_exhaustive]
pub struct FailedResubscribe {
    /// Its type.
    pub subscription_type: String,
    /// Its version.
    pub version: String,
    /// Its condition.
    pub condition: serde_json::Value,
    /// What Helix said.
    pub error: Error,
    /// The failure may pass (5xx, a transport error): the subscription is
    /// kept and created again with backoff, and each later attempt is
    /// reported as another [`Recovered`]. `false`: Twitch refused it for
    /// good (400, 403, 410, a limit), and the session no longer has it.
    pub retrying: bool,
}

/// A new connection replaced a lost one and is subscribed again (or, in a
/// shard pool, attached to its shard again). A subscription whose
/// re-creation failed for a reason that may pass is retried with backoff;
/// each retry's outcome is one more `Recovered` (with `resubscribed: 1` on
/// success, or the failure in `failed`).
#[derive(Debug)]
#[non_exhaustive]
pub struct Recovered {
    /// The new session id.
    pub session_id: String,
    /// Subscriptions created again (one that already existed counts too).
    pub resubscribed: usize,
    /// Subscriptions that could not be, this time.
    pub failed: Vec<FailedResubscribe>,
    /// The shard (shard pools only).
    pub shard: Option<u32>,
}

/// The token a session (or shard pool) subscribes with was refused for
/// good: its connections were closed, as Twitch asks apps to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenInvalidated {
    /// The user whose token it was; `None` for the app token (shard pools).
    pub user: Option<UserId>,
    /// What happens next: the stream ends ([`OnTokenInvalid::End`]) or
    /// waits for a new token ([`OnTokenInvalid::WaitForNewToken`]).
    pub policy: OnTokenInvalid,
}

/// What a session or shard pool does when the token manager reports its
/// token invalid ([`TokenEvent::Invalid`](crate::http::credentials::TokenEvent::Invalid) for
/// its user, [`TokenEvent::AppTokenInvalid`](crate::http::credentials::TokenEvent::AppTokenInvalid)
/// for a pool). Either way it closes its connections at once and yields
/// [`SessionItem::TokenInvalid`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OnTokenInvalid {
    /// The stream ends after the item (the default).
    #[default]
    End,
    /// Wait until the application adds a new token for the user
    /// ([`TokenManager::add_user`](crate::TokenManager::add_user); for a
    /// pool, [`TokenManager::set_app_token`](crate::TokenManager::set_app_token)),
    /// then connect again and re-create the subscriptions (or re-attach the
    /// shards), yielding `Recovered` as after any loss.
    WaitForNewToken,
}

/// Why a shard pool let go of a shard it had claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReleaseReason {
    /// Get Conduit Shards lists the shard enabled on a session this pool
    /// never had: another process took it.
    Taken {
        /// The session it delivers to now (`None`: not a WebSocket shard).
        session_id: Option<SessionId>,
    },
    /// The conduit no longer has this shard id (it was shrunk).
    Removed,
}

/// A shard pool let go of a shard it had claimed (not one it was
/// configured to own): its socket is closed, and the pool looks for a
/// free shard in its place ([`SessionItem::ShardClaimed`], or an
/// [`EventSubError::NoFreeShard`](crate::base::error::EventSubError::NoFreeShard)
/// error if there is none).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShardReleased {
    /// The shard id.
    pub shard: u32,
    /// Why.
    pub reason: ReleaseReason,
}

/// A shard pool claimed a free shard after it started: in place of one it
/// let go, or one it could not find free when it started.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShardClaimed {
    /// The shard id.
    pub shard: u32,
    /// The session it is attached to.
    pub session_id: SessionId,
}

/// A message of a type this crate does not know.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UnknownMessage {
    /// Its metadata.
    pub metadata: MessageMetadata,
    /// Its payload as JSON.
    pub payload: serde_json::Value,
}

/// What a session (or shard pool) yields.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionItem<E> {
    /// An event.
    Notification(Delivered<E>),
    /// A subscription was revoked.
    Revoked(Box<Revocation>),
    /// The connection was lost; events may have been missed.
    EventsMayBeLost(Lost),
    /// After a loss: connected and subscribed again.
    Recovered(Recovered),
    /// The token was refused for good and the connections are closed.
    TokenInvalid(TokenInvalidated),
    /// A shard pool let go of a claimed shard another session took over
    /// (or the conduit no longer has).
    ShardReleased(ShardReleased),
    /// A shard pool claimed a free shard after it started.
    ShardClaimed(ShardClaimed),
    /// A message type this crate does not know.
    Unknown(UnknownMessage),
    /// A frame that could not be read, or a shard that could not be
    /// attached. The session goes on.
    Error(Error),
}
