//! Decoding one EventSub WebSocket message.
//!
//! Twitch puts `metadata` (with the subscription type and version) before
//! `payload`, so the fast path reads a frame once: by the time it reaches
//! the event it knows which type to decode it into. A frame in another
//! order, or whose event does not fit its type, takes the slow path, which
//! keeps the event raw and says why instead of failing.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer as _};
use serde_json::value::RawValue;

use crate::base::error::Error;
use crate::eventsub::decode::{EventPayload, RawJson, RawSubscription, SubscriptionInfo, UnknownEvent};

/// The `metadata` object every message starts with. (Its subscription type
/// and version are on the event: [`EventPayload::kind`].)
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MessageMetadata {
    /// Twitch's id for the message; a resent message keeps its id.
    pub message_id: String,
    /// What kind of message it is.
    pub message_type: MessageType,
    /// When Twitch sent it (RFC 3339, nanoseconds).
    pub message_timestamp: String,
}

impl MessageMetadata {
    /// `message_timestamp` as a [`Timestamp`](crate::base::types::Timestamp); `None` if
    /// it is not RFC 3339.
    pub fn sent_at(&self) -> Option<crate::base::types::Timestamp> {
        crate::base::types::Timestamp::parse(&self.message_timestamp).ok()
    }
}

/// The `message_type` of a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageType {
    /// `session_welcome`
    Welcome,
    /// `session_keepalive`
    Keepalive,
    /// `notification`
    Notification,
    /// `session_reconnect`
    Reconnect,
    /// `revocation`
    Revocation,
    /// A type this crate does not know, as sent.
    Other(String),
}

impl From<&str> for MessageType {
    fn from(s: &str) -> Self {
        match s {
            "session_welcome" => Self::Welcome,
            "session_keepalive" => Self::Keepalive,
            "notification" => Self::Notification,
            "session_reconnect" => Self::Reconnect,
            "revocation" => Self::Revocation,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl MessageType {
    /// As Twitch spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Welcome => "session_welcome",
            Self::Keepalive => "session_keepalive",
            Self::Notification => "notification",
            Self::Reconnect => "session_reconnect",
            Self::Revocation => "revocation",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `metadata` while decoding: the type strings borrowed from the frame
/// (they never hold escapes; one that does takes the slow path).
#[derive(Deserialize)]
struct MetaRef<'a> {
    message_id: String,
    message_type: &'a str,
    message_timestamp: String,
    #[serde(default)]
    subscription_type: Option<&'a str>,
    #[serde(default)]
    subscription_version: Option<&'a str>,
}

impl MetaRef<'_> {
    fn public(self) -> MessageMetadata {
        MessageMetadata {
            message_id: self.message_id,
            message_type: self.message_type.into(),
            message_timestamp: self.message_timestamp,
        }
    }
}

/// `metadata` on the slow path: owned, escapes allowed, and lenient in
/// all but `message_type` (a keepalive with an odd id or timestamp is
/// still a keepalive).
struct MetaOwned {
    message_id: String,
    message_type: String,
    message_timestamp: String,
    subscription_type: Option<String>,
    subscription_version: Option<String>,
}

impl<'de> Deserialize<'de> for MetaOwned {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut fields = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let mut l = crate::base::de::Lenient::default();
        let mut take = |name: &str| fields.remove(name).and_then(|v| l.string(name, v));
        let message_type = take("message_type");
        let meta = MetaOwned {
            message_id: take("message_id").unwrap_or_default(),
            message_type: message_type.ok_or_else(|| D::Error::missing_field("message_type"))?,
            message_timestamp: take("message_timestamp").unwrap_or_default(),
            subscription_type: take("subscription_type"),
            subscription_version: take("subscription_version"),
        };
        Ok(meta)
    }
}

/// The `session` object of welcome and reconnect messages.
///
/// Only `id` is required; the other fields are read leniently (a value
/// without its documented type is left empty and kept in
/// [`unparsed`](Self::unparsed)), so an odd detail never costs a welcome or
/// a reconnect.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The session id subscriptions are created with.
    pub id: String,
    /// `connected` or `reconnecting`.
    pub status: String,
    /// Longest silence to expect before a keepalive (welcome only).
    pub keepalive_timeout_seconds: Option<u64>,
    /// Where to reconnect to (reconnect messages only).
    pub reconnect_url: Option<String>,
    /// When the connection was made.
    pub connected_at: Option<String>,
    /// Conduit recovery URL, when Twitch sends one.
    pub recovery_url: Option<String>,
    /// Fields present but not readable as their documented type, as received.
    pub unparsed: std::collections::BTreeMap<String, serde_json::Value>,
}

impl<'de> Deserialize<'de> for SessionInfo {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut fields = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let mut l = crate::base::de::Lenient::default();
        let id = fields.remove("id").and_then(|v| l.string("id", v));
        let id = id.ok_or_else(|| D::Error::missing_field("id"))?;
        let keepalive = fields.remove("keepalive_timeout_seconds").and_then(|v| l.u64("keepalive_timeout_seconds", v));
        let mut take = |name: &str| fields.remove(name).and_then(|v| l.string(name, v));
        let info = SessionInfo {
            id,
            status: take("status").unwrap_or_default(),
            keepalive_timeout_seconds: keepalive,
            reconnect_url: take("reconnect_url"),
            connected_at: take("connected_at"),
            recovery_url: take("recovery_url"),
            unparsed: Default::default(),
        };
        Ok(SessionInfo { unparsed: l.unparsed, ..info })
    }
}

/// What a message carries.
#[derive(Debug)]
#[non_exhaustive]
pub enum Message<E> {
    /// `session_welcome`
    Welcome(Box<SessionInfo>),
    /// `session_keepalive`
    Keepalive,
    /// `notification`
    Notification {
        /// The subscription it belongs to, as received.
        subscription: RawSubscription,
        /// The event; raw (via [`EventPayload::unknown`]) if it did not fit its type.
        event: E,
        /// Why the event is raw although its type is known.
        decode_error: Option<Box<Error>>,
    },
    /// `session_reconnect`
    Reconnect(Box<SessionInfo>),
    /// `revocation`
    Revocation(Box<SubscriptionInfo>),
    /// A message type this crate does not know, with its payload.
    Unknown(Box<serde_json::Value>),
}

/// A decoded WebSocket message.
#[derive(Debug)]
#[non_exhaustive]
pub struct Frame<E> {
    /// Its metadata.
    pub metadata: MessageMetadata,
    /// Its payload.
    pub message: Message<E>,
}

/// Decode one text frame. Only text that is not an EventSub message at
/// all (not JSON, or no `metadata`) is an error.
pub fn decode_frame<E: EventPayload>(text: &str) -> Result<Frame<E>, Error> {
    let de = &mut serde_json::Deserializer::from_str(text);
    if let Ok(Fast { metadata: Some(metadata), message: Some(message), deferred: None }) =
        de.deserialize_map(FrameVisitor::<E>(PhantomData))
        && de.end().is_ok()
    {
        return Ok(Frame { metadata: metadata.public(), message });
    }
    slow(text)
}

/// Observe mode: a notification frame's event read once more.
pub(crate) fn observe_frame<E: EventPayload>(observer: &crate::base::observe::Observer, text: &str) {
    if let Ok(RawFrame { payload: Some(payload), .. }) = serde_json::from_str::<RawFrame<'_>>(text) {
        observer.observe_notification::<E>(payload.get());
    }
}

pub(crate) fn frame_error(text: &str, path: String, message: String) -> Error {
    Error::Decode { endpoint: "eventsub websocket message".into(), path, message, body: text.into() }
}

#[derive(Deserialize)]
struct RawFrame<'a> {
    metadata: MetaOwned,
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct SessionPayload {
    session: SessionInfo,
}

#[derive(Deserialize)]
struct SubscriptionPayload {
    subscription: SubscriptionInfo,
}

/// Field by field, keeping whatever can be kept.
fn slow<E: EventPayload>(text: &str) -> Result<Frame<E>, Error> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let raw: RawFrame<'_> = serde_path_to_error::deserialize(de)
        .map_err(|e| frame_error(text, e.path().to_string(), e.into_inner().to_string()))?;
    let payload = raw.payload.map(RawValue::get).unwrap_or("{}");
    let nested = |e: serde_path_to_error::Error<serde_json::Error>| {
        frame_error(text, format!("payload.{}", e.path()), e.into_inner().to_string())
    };
    let parse = || serde_json::Deserializer::from_str(payload);
    let message = match raw.metadata.message_type.as_str() {
        "session_welcome" => Message::Welcome(Box::new(
            serde_path_to_error::deserialize::<_, SessionPayload>(&mut parse()).map_err(nested)?.session,
        )),
        "session_reconnect" => Message::Reconnect(Box::new(
            serde_path_to_error::deserialize::<_, SessionPayload>(&mut parse()).map_err(nested)?.session,
        )),
        "session_keepalive" => Message::Keepalive,
        "revocation" => Message::Revocation(Box::new(
            serde_path_to_error::deserialize::<_, SubscriptionPayload>(&mut parse()).map_err(nested)?.subscription,
        )),
        "notification" => {
            let n: twitch_base::event::RawNotification<'_> =
                serde_path_to_error::deserialize(&mut parse()).map_err(nested)?;
            let subscription = RawSubscription::new(RawJson::from_raw(n.subscription));
            let (ty, version) = match (&raw.metadata.subscription_type, &raw.metadata.subscription_version) {
                (Some(t), Some(v)) => (t.clone(), v.clone()),
                _ => {
                    let info = subscription.parse()?;
                    (info.subscription_type, info.version)
                }
            };
            let body = n.body().map(RawValue::get).unwrap_or("null");
            let (event, decode_error) = match E::decode(&ty, &version, body) {
                Ok(e) => (e, None),
                Err(err) => (E::unknown(UnknownEvent::new(&ty, &version, body)), Some(Box::new(err.into()))),
            };
            Message::Notification { subscription, event, decode_error }
        }
        _ => Message::Unknown(Box::new(serde_json::from_str(payload).unwrap_or(serde_json::Value::Null))),
    };
    let m = raw.metadata;
    let metadata = MessageMetadata {
        message_id: m.message_id,
        message_type: m.message_type.as_str().into(),
        message_timestamp: m.message_timestamp,
    };
    Ok(Frame { metadata, message })
}

struct Fast<'de, E> {
    metadata: Option<MetaRef<'de>>,
    message: Option<Message<E>>,
    deferred: Option<&'de RawValue>,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum FrameKey {
    Metadata,
    Payload,
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum PayloadKey {
    Subscription,
    Event,
    Events,
    Session,
    #[serde(other)]
    Other,
}

struct FrameVisitor<E>(PhantomData<E>);

impl<'de, E: EventPayload> Visitor<'de> for FrameVisitor<E> {
    type Value = Fast<'de, E>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an EventSub WebSocket message")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Fast { metadata: None, message: None, deferred: None };
        while let Some(key) = map.next_key::<FrameKey>()? {
            match key {
                FrameKey::Metadata => out.metadata = Some(map.next_value()?),
                FrameKey::Payload => match &out.metadata {
                    Some(m) => out.message = Some(map.next_value_seed(PayloadSeed::<E>(m, PhantomData))?),
                    None => out.deferred = Some(map.next_value()?),
                },
                FrameKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

struct PayloadSeed<'m, 'de, E>(&'m MetaRef<'de>, PhantomData<E>);

impl<'de, E: EventPayload> DeserializeSeed<'de> for PayloadSeed<'_, '_, E> {
    type Value = Message<E>;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        match self.0.message_type {
            "session_keepalive" => IgnoredAny::deserialize(de).map(|_| Message::Keepalive),
            "session_welcome" | "session_reconnect" | "revocation" | "notification" => de.deserialize_map(self),
            _ => serde_json::Value::deserialize(de).map(|v| Message::Unknown(Box::new(v))),
        }
    }
}

impl<'de, E: EventPayload> Visitor<'de> for PayloadSeed<'_, '_, E> {
    type Value = Message<E>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a message payload")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        use serde::de::Error as _;
        let meta = self.0;
        let mut subscription = None;
        let mut raw_subscription = None;
        let mut session = None;
        let mut event = None;
        let (mut seen_subscription, mut seen_event, mut seen_events) = (false, false, false);
        while let Some(key) = map.next_key::<PayloadKey>()? {
            // A key given twice is refused (as by the slow path): which one
            // was meant is not for the decoder to guess.
            let (seen, name) = match key {
                PayloadKey::Subscription => (&mut seen_subscription, "subscription"),
                PayloadKey::Event => (&mut seen_event, "event"),
                PayloadKey::Events => (&mut seen_events, "events"),
                _ => (&mut false, ""),
            };
            if std::mem::replace(seen, true) && !name.is_empty() {
                return Err(A::Error::duplicate_field(name));
            }
            match key {
                PayloadKey::Subscription if meta.message_type == "notification" => {
                    raw_subscription = Some(map.next_value::<RawSubscription>()?)
                }
                PayloadKey::Subscription => subscription = Some(map.next_value::<Box<SubscriptionInfo>>()?),
                PayloadKey::Session => session = Some(map.next_value::<Box<SessionInfo>>()?),
                PayloadKey::Event | PayloadKey::Events if meta.message_type == "notification" => {
                    let (Some(ty), Some(version)) = (meta.subscription_type, meta.subscription_version) else {
                        return Err(A::Error::custom("notification metadata lacks the subscription type"));
                    };
                    event = Some(map.next_value_seed(twitch_base::event::EventSeed::<E>::new(ty, version))?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match meta.message_type {
            "session_welcome" => session.map(Message::Welcome).ok_or_else(|| A::Error::missing_field("session")),
            "session_reconnect" => session.map(Message::Reconnect).ok_or_else(|| A::Error::missing_field("session")),
            "revocation" => {
                subscription.map(Message::Revocation).ok_or_else(|| A::Error::missing_field("subscription"))
            }
            _ => match (raw_subscription, event) {
                (Some(subscription), Some(event)) => {
                    Ok(Message::Notification { subscription, event, decode_error: None })
                }
                _ => Err(A::Error::missing_field("event")),
            },
        }
    }
}
