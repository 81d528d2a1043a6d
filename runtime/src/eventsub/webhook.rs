//! EventSub over webhooks: check each request Twitch posts to the callback
//! (HMAC-SHA256 signature, 10-minute replay window, duplicate message ids),
//! answer it the way Twitch expects, and hand over what it carried.
//!
//! Framework-neutral: give [`WebhookVerifier::handle`] a header lookup and
//! the raw body; send back the [`WebhookReply`] it returns. With the `axum`
//! feature, `webhook::axum::WebhookReceiver` does that for you and hands what
//! arrives to a channel.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::base::error::Error;
use crate::base::types::Timestamp;
use crate::eventsub::decode::{EventPayload, Notification, SubscriptionInfo};

#[cfg(feature = "axum")]
pub mod axum;

/// Twitch drops messages older than this; so do we.
pub const REPLAY_WINDOW: Duration = Duration::from_secs(600);

/// Header names Twitch sends (compare case-insensitively).
pub mod headers {
    /// Unique per message; repeated on redelivery.
    pub const MESSAGE_ID: &str = "Twitch-Eventsub-Message-Id";
    /// When Twitch sent it (RFC 3339), as signed.
    pub const MESSAGE_TIMESTAMP: &str = "Twitch-Eventsub-Message-Timestamp";
    /// `sha256=<hex>` over id + timestamp + body.
    pub const MESSAGE_SIGNATURE: &str = "Twitch-Eventsub-Message-Signature";
    /// `notification`, `webhook_callback_verification` or `revocation`.
    pub const MESSAGE_TYPE: &str = "Twitch-Eventsub-Message-Type";
    /// The subscription's type (not signed: the body's subscription names it too).
    pub const SUBSCRIPTION_TYPE: &str = "Twitch-Eventsub-Subscription-Type";
    /// The subscription's version (not signed, as the type).
    pub const SUBSCRIPTION_VERSION: &str = "Twitch-Eventsub-Subscription-Version";
}

/// The `Twitch-Eventsub-Message-Type` of the callback check.
const VERIFICATION: &str = "webhook_callback_verification";

/// Why a request was refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum WebhookError {
    /// A required header is missing.
    MissingHeader(&'static str),
    /// The signature does not match: not from Twitch, or altered.
    BadSignature,
    /// Older than the replay window (or unreadable timestamp).
    Stale,
    /// The body could not be decoded.
    Decode(Error),
    /// A message type this crate does not know.
    UnknownMessageType(String),
}

impl std::fmt::Display for WebhookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebhookError::MissingHeader(h) => write!(f, "missing header {h}"),
            WebhookError::BadSignature => f.write_str("the signature does not match"),
            WebhookError::Stale => f.write_str("the message is older than 10 minutes"),
            WebhookError::Decode(e) => write!(f, "cannot decode the message: {e}"),
            WebhookError::UnknownMessageType(t) => write!(f, "unknown message type {t:?}"),
        }
    }
}

impl std::error::Error for WebhookError {}

/// What to answer Twitch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookReply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`, when there is a body.
    pub content_type: Option<&'static str>,
    /// The body (the challenge, for a verification).
    pub body: String,
}

impl WebhookReply {
    fn no_content() -> Self {
        Self { status: 204, content_type: None, body: String::new() }
    }

    /// The reply to a refused request: 403 for a bad signature or stale
    /// message, 400 otherwise.
    pub fn for_error(e: &WebhookError) -> Self {
        let status = match e {
            WebhookError::BadSignature | WebhookError::Stale | WebhookError::MissingHeader(_) => 403,
            _ => 400,
        };
        Self { status, content_type: None, body: String::new() }
    }
}

/// What a request carried.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WebhookMessage<E> {
    /// An event (or, for batched types, its `events`).
    Notification {
        /// Twitch's message id.
        message_id: String,
        /// The decoded notification.
        notification: Notification<E>,
    },
    /// Twitch checks the callback when a subscription is created; the reply
    /// already carries the challenge.
    Verification {
        /// The subscription being verified.
        subscription: SubscriptionInfo,
    },
    /// Twitch checks the callback of a conduit's webhook shard when the
    /// shard is pointed at it (Update Conduit Shards); the reply already
    /// carries the challenge, and the shard is enabled once Twitch reads it.
    ShardVerification {
        /// The conduit.
        conduit_id: String,
        /// The shard id within it.
        shard_id: String,
    },
    /// Twitch ended a subscription; `subscription.status` says why.
    Revocation {
        /// The revoked subscription.
        subscription: SubscriptionInfo,
    },
    /// A message id already handled: acknowledged, not delivered again (a
    /// repeated verification still has its challenge in the reply).
    Duplicate {
        /// Twitch's message id.
        message_id: String,
    },
}

pub use crate::base::seen::SeenIds;

/// Checks and decodes webhook requests for one subscription secret.
pub struct WebhookVerifier {
    key: ring::hmac::Key,
    seen: Mutex<SeenIds>,
    observer: Option<crate::base::observe::Observer>,
}

impl std::fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookVerifier { secret: [redacted] }")
    }
}

/// What Twitch signs: message id, then timestamp, then body.
fn signed(message_id: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(message_id.len() + timestamp.len() + body.len());
    msg.extend_from_slice(message_id.as_bytes());
    msg.extend_from_slice(timestamp.as_bytes());
    msg.extend_from_slice(body);
    msg
}

impl WebhookVerifier {
    /// The secret given when the subscription was created (10 to 100 ASCII characters).
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        Self {
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_ref()),
            seen: Mutex::new(SeenIds::new(10_000)),
            observer: None,
        }
    }

    /// Observe mode: every notification's event is read once more for what
    /// the schema lacks (see [`crate::observe`]).
    #[must_use]
    pub fn observe(mut self, observer: crate::base::observe::Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Is `signature` (`sha256=<hex>`) right for this id, timestamp and body?
    /// The comparison takes the same time whatever the bytes.
    pub fn signature_ok(&self, message_id: &str, timestamp: &str, body: &[u8], signature: &str) -> bool {
        let hex = signature.strip_prefix("sha256=").map(str::as_bytes);
        let Some(mac) = hex.and_then(|h| data_encoding::HEXLOWER_PERMISSIVE.decode(h).ok()) else { return false };
        ring::hmac::verify(&self.key, &signed(message_id, timestamp, body), &mac).is_ok()
    }

    /// The `sha256=<hex>` signature a sender puts on this id, timestamp and
    /// body with this secret (what Twitch sends; a local sender, such as a
    /// mock, signs with it).
    pub fn sign(&self, message_id: &str, timestamp: &str, body: &[u8]) -> String {
        let tag = ring::hmac::sign(&self.key, &signed(message_id, timestamp, body));
        format!("sha256={}", data_encoding::HEXLOWER.encode(tag.as_ref()))
    }

    /// Check one request and decide the reply. `header` looks a header up by
    /// name (case-insensitively); `now` is the current time.
    pub fn handle<'h, E: EventPayload>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(WebhookReply, WebhookMessage<E>), WebhookError> {
        let get = |name: &'static str| header(name).ok_or(WebhookError::MissingHeader(name));
        let id = get(headers::MESSAGE_ID)?;
        let timestamp = get(headers::MESSAGE_TIMESTAMP)?;
        let signature = get(headers::MESSAGE_SIGNATURE)?;
        let kind = get(headers::MESSAGE_TYPE)?;
        if !self.signature_ok(id, timestamp, body, signature) {
            return Err(WebhookError::BadSignature);
        }
        let sent = Timestamp::parse(timestamp).map_err(|_| WebhookError::Stale)?.to_system_time();
        if now.duration_since(sent).is_ok_and(|age| age > REPLAY_WINDOW) {
            return Err(WebhookError::Stale);
        }
        let seen = |f: &dyn Fn(&mut SeenIds) -> bool| f(&mut self.seen.lock().unwrap_or_else(|p| p.into_inner()));
        // A repeated verification still gets its challenge back (a reply
        // without it fails the subscription); it is not delivered again.
        if kind != VERIFICATION && seen(&|s| s.contains(id)) {
            return Ok((WebhookReply::no_content(), WebhookMessage::Duplicate { message_id: id.to_owned() }));
        }
        // The subscription headers let the event decode without a look
        // into the subscription; a body without them names its own.
        let subscription = header(headers::SUBSCRIPTION_TYPE).zip(header(headers::SUBSCRIPTION_VERSION));
        let (reply, message) = decode::<E>(kind, id, subscription, body)?;
        if let (Some(o), WebhookMessage::Notification { .. }) = (&self.observer, &message)
            && let Ok(text) = std::str::from_utf8(body)
        {
            o.observe_notification::<E>(text);
        }
        // Only a message that was decoded (and is handed over by the
        // caller next) counts as handled: one that failed is refused, and
        // Twitch's redelivery of it is a new attempt, not a duplicate.
        if seen(&|s| s.insert(id)) {
            Ok((reply, message))
        } else {
            Ok((reply, WebhookMessage::Duplicate { message_id: id.to_owned() }))
        }
    }
}

/// The body of a verification: a subscription's, or a conduit shard's.
#[derive(serde::Deserialize)]
struct VerificationBody {
    challenge: String,
    #[serde(default)]
    subscription: Option<SubscriptionInfo>,
    #[serde(default)]
    conduit_shard: Option<ConduitShard>,
}

#[derive(serde::Deserialize)]
struct ConduitShard {
    conduit_id: String,
    /// Twitch's docs name it `shard`; `shard_id` is read too.
    #[serde(alias = "shard_id")]
    shard: String,
}

#[derive(serde::Deserialize)]
struct RevocationBody {
    subscription: SubscriptionInfo,
}

fn decode_error(body: &[u8], path: &str, message: String) -> WebhookError {
    WebhookError::Decode(Error::Decode {
        endpoint: "webhook".into(),
        path: path.to_owned(),
        message,
        body: crate::base::error::ResponseBody::new(body),
    })
}

/// Decode a body whose signature and age were checked.
fn decode<E: EventPayload>(
    kind: &str,
    id: &str,
    subscription: Option<(&str, &str)>,
    body: &[u8],
) -> Result<(WebhookReply, WebhookMessage<E>), WebhookError> {
    let text = std::str::from_utf8(body).map_err(|e| decode_error(body, "", e.to_string()))?;
    match kind {
        VERIFICATION => {
            let v: VerificationBody = crate::base::decode::json("webhook", body).map_err(WebhookError::Decode)?;
            let message = match (v.subscription, v.conduit_shard) {
                (Some(subscription), _) => WebhookMessage::Verification { subscription },
                (None, Some(shard)) => {
                    WebhookMessage::ShardVerification { conduit_id: shard.conduit_id, shard_id: shard.shard }
                }
                (None, None) => {
                    return Err(decode_error(
                        body,
                        "",
                        "a verification names neither a subscription nor a conduit shard".into(),
                    ));
                }
            };
            Ok((WebhookReply { status: 200, content_type: Some("text/plain"), body: v.challenge }, message))
        }
        "revocation" => {
            let r: RevocationBody = crate::base::decode::json("webhook", body).map_err(WebhookError::Decode)?;
            Ok((WebhookReply::no_content(), WebhookMessage::Revocation { subscription: r.subscription }))
        }
        "notification" => {
            let notification = match subscription {
                Some((ty, version)) => Notification::decode_as(ty, version, text),
                None => Notification::decode(text),
            }
            .map_err(WebhookError::Decode)?;
            Ok((WebhookReply::no_content(), WebhookMessage::Notification { message_id: id.to_owned(), notification }))
        }
        other => Err(WebhookError::UnknownMessageType(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_known_answer() {
        // RFC-style vector: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
        let v = WebhookVerifier::new("key");
        let sig = "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8";
        assert!(v.signature_ok("The quick brown fox ", "jumps over the lazy", b" dog", sig));
        assert!(!v.signature_ok("The quick brown fox ", "jumps over the lazy", b" cat", sig));
        assert!(!v.signature_ok("a", "b", b"c", "sha256=zz"));
        assert!(!v.signature_ok("a", "b", b"c", "md5=00"));
    }
}
