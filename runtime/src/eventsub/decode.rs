//! EventSub decoding: the notification envelope and the traits generated
//! subscription types and the `Event` enum implement.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::base::error::{Error, Result};
use crate::base::meta::SubscriptionMeta;

/// A subscription type at one version; the value is its condition.
pub trait SubscriptionType: Serialize + Send + Sync {
    /// e.g. `channel.follow`
    const TYPE: &'static str;
    /// e.g. `2`
    const VERSION: &'static str;
    /// The event a notification carries.
    type Event: DeserializeOwned;

    /// The type's static description.
    fn meta(&self) -> &'static SubscriptionMeta;

    /// The condition as JSON, for the create-subscription body.
    fn condition(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// A subscription type whose events can be taken out of the event enum
/// `E` (the generated `Event`): what `Event::downcast` and the typed
/// session streams use. The generated code implements it for every type.
pub trait FromEvent<E>: SubscriptionType {
    /// The event, if `event` is one of this type; `event` back otherwise.
    fn from_event(event: E) -> std::result::Result<Self::Event, E>;

    /// The event by reference, if `event` is one of this type.
    fn from_event_ref(event: &E) -> Option<&Self::Event>;
}

/// An event type that can be decoded from a notification's type, version
/// and raw `event` (or batched `events`) JSON. The generated `Event` enum
/// implements it.
pub trait EventPayload: Sized {
    /// Decode; unknown types and versions must not fail.
    fn decode(subscription_type: &str, version: &str, raw: &str) -> Result<Self>;

    /// Decode straight from a deserializer positioned at the `event` (or
    /// `events`) value, so a WebSocket frame is read in one pass. Unknown
    /// types and versions must not fail.
    fn deserialize_event<'de, D: serde::Deserializer<'de>>(
        subscription_type: &str,
        version: &str,
        de: D,
    ) -> std::result::Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(de)?;
        Self::decode(subscription_type, version, raw.get()).map_err(serde::de::Error::custom)
    }

    /// Wrap an event that could not be decoded into its type (so it is
    /// delivered raw rather than lost).
    fn unknown(event: UnknownEvent) -> Self;

    /// The subscription type and version the event belongs to.
    fn kind(&self) -> (&str, &str);
}

/// An event of a type or version the schema does not know, kept raw.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UnknownEvent {
    /// The subscription type.
    pub subscription_type: String,
    /// The subscription version.
    pub version: String,
    /// The event JSON as received.
    pub raw: serde_json::Value,
}

impl UnknownEvent {
    /// Keep an event's already parsed JSON.
    pub fn from_value(subscription_type: &str, version: &str, raw: serde_json::Value) -> Self {
        Self { subscription_type: subscription_type.to_owned(), version: version.to_owned(), raw }
    }

    /// Keep an event's raw JSON (text that is not JSON is kept as a string).
    pub fn new(subscription_type: &str, version: &str, raw: &str) -> Self {
        Self {
            subscription_type: subscription_type.to_owned(),
            version: version.to_owned(),
            raw: serde_json::from_str(raw).unwrap_or_else(|_| serde_json::Value::String(raw.to_owned())),
        }
    }
}

/// The `subscription` object of a notification, revocation or Helix answer.
///
/// Decoding keeps what identifies the subscription (`type` and `version`
/// are required) and reads the rest leniently: a field that does not have
/// its documented type (a malformed `created_at`, a `cost` sent as text
/// that is not a number, an odd `transport`) is left empty and kept, as
/// received, in [`unparsed`](Self::unparsed). So a revocation is never lost
/// to a detail.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SubscriptionInfo {
    /// Subscription id (empty if absent or unreadable).
    pub id: crate::base::types::SubscriptionId,
    /// Subscription type.
    #[serde(rename = "type")]
    pub subscription_type: String,
    /// Subscription version.
    pub version: String,
    /// Status, e.g. `enabled`.
    pub status: String,
    /// Cost against the subscription limit (a numeric string is read as its number).
    pub cost: i64,
    /// The condition as sent (kept as raw JSON: most readers never look).
    pub condition: RawJson,
    /// The transport as sent.
    pub transport: SubscriptionTransport,
    /// When the subscription was created.
    pub created_at: Option<crate::base::types::Timestamp>,
    /// Fields that were present but not readable as their documented type,
    /// by name, as received (`transport` holds the whole object when one of
    /// its fields was unreadable).
    #[serde(skip)]
    pub unparsed: std::collections::BTreeMap<String, serde_json::Value>,
}

impl<'de> Deserialize<'de> for SubscriptionInfo {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::{Error as _, IgnoredAny, MapAccess, Visitor};

        #[derive(Deserialize)]
        #[serde(field_identifier, rename_all = "snake_case")]
        enum Field {
            Id,
            Type,
            Version,
            Status,
            Cost,
            Condition,
            Transport,
            CreatedAt,
            #[serde(other)]
            Other,
        }

        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SubscriptionInfo;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an EventSub subscription object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<SubscriptionInfo, A::Error> {
                let mut l = crate::base::de::Lenient::default();
                let (mut id, mut ty, mut version, mut status, mut cost) = (None, None, None, None, None);
                let (mut condition, mut transport, mut created_at) = (None, None, None);
                while let Some(key) = map.next_key::<Field>()? {
                    match key {
                        Field::Id => id = l.string("id", map.next_value()?),
                        Field::Type => ty = l.string("type", map.next_value()?),
                        Field::Version => version = l.string("version", map.next_value()?),
                        Field::Status => status = l.string("status", map.next_value()?),
                        Field::Cost => cost = l.i64("cost", map.next_value()?),
                        Field::Condition => condition = Some(map.next_value::<RawJson>()?),
                        Field::Transport => transport = Some(SubscriptionTransport::lenient(map.next_value()?, &mut l)),
                        Field::CreatedAt => created_at = l.timestamp("created_at", map.next_value()?),
                        Field::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let ty = ty.ok_or_else(|| A::Error::missing_field("type"))?;
                let version = version.ok_or_else(|| A::Error::missing_field("version"))?;
                Ok(SubscriptionInfo {
                    id: id.unwrap_or_default().into(),
                    subscription_type: ty,
                    version,
                    status: status.unwrap_or_default(),
                    cost: cost.unwrap_or_default(),
                    condition: condition.unwrap_or_default(),
                    transport: transport.unwrap_or_default(),
                    created_at,
                    unparsed: l.unparsed,
                })
            }
        }
        d.deserialize_map(V)
    }
}

/// JSON kept as received and parsed only when asked for, so reading a
/// notification does not build maps nobody reads.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// Keep a JSON value.
    pub fn from_value(value: &serde_json::Value) -> Self {
        Self(serde_json::value::to_raw_value(value).unwrap_or_else(|_| null()))
    }

    /// The JSON text as received.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Copy already checked JSON.
    pub fn from_raw(raw: &RawValue) -> Self {
        Self(raw.to_owned())
    }

    /// Parse it.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(self.0.get()).unwrap_or(serde_json::Value::Null)
    }
}

fn null() -> Box<RawValue> {
    RawValue::from_string("null".to_owned()).expect("`null` is JSON")
}

impl Default for RawJson {
    fn default() -> Self {
        Self(null())
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get() || self.to_value() == other.to_value()
    }
}

impl PartialEq<serde_json::Value> for RawJson {
    fn eq(&self, other: &serde_json::Value) -> bool {
        self.to_value() == *other
    }
}

impl std::fmt::Debug for RawJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.get())
    }
}

/// A notification's `subscription` object, kept as received: a session
/// already knows its subscriptions, so reading every notification's copy
/// would cost more than the event itself. [`parse`](Self::parse) when needed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawSubscription(RawJson);

impl RawSubscription {
    /// Keep this JSON.
    pub fn new(raw: RawJson) -> Self {
        Self(raw)
    }

    /// The JSON text as received.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Decode it.
    pub fn parse(&self) -> Result<SubscriptionInfo> {
        let text = self.0.get();
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| Error::Decode {
            endpoint: "notification subscription".into(),
            path: e.path().to_string(),
            message: e.into_inner().to_string(),
            body: text.into(),
        })
    }
}

/// A subscription's `transport` as Twitch reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubscriptionTransport {
    /// `webhook`, `websocket` or `conduit`.
    #[serde(default)]
    pub method: String,
    /// WebSocket session id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Conduit id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conduit_id: Option<String>,
    /// Webhook callback URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<String>,
    /// When the WebSocket connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_at: Option<String>,
    /// When the WebSocket disconnected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disconnected_at: Option<String>,
}

impl SubscriptionTransport {
    /// Field by field; if any field (or the whole value) is unreadable, the
    /// value as received goes to `l` under `transport`.
    fn lenient(v: serde_json::Value, l: &mut crate::base::de::Lenient) -> Self {
        let serde_json::Value::Object(fields) = &v else {
            if !v.is_null() {
                l.unparsed.insert("transport".into(), v);
            }
            return Self::default();
        };
        let mut inner = crate::base::de::Lenient::default();
        let mut get = |name: &str| fields.get(name).cloned().and_then(|f| inner.string(name, f));
        let t = Self {
            method: get("method").unwrap_or_default(),
            session_id: get("session_id"),
            conduit_id: get("conduit_id"),
            callback: get("callback"),
            connected_at: get("connected_at"),
            disconnected_at: get("disconnected_at"),
        };
        if !inner.unparsed.is_empty() {
            l.unparsed.insert("transport".into(), v);
        }
        t
    }
}

/// A decoded notification: which subscription, and the typed event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Notification<E> {
    /// The subscription it belongs to.
    pub subscription: SubscriptionInfo,
    /// The event.
    pub event: E,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    subscription: SubscriptionInfo,
    #[serde(borrow)]
    event: Option<&'a RawValue>,
    #[serde(borrow)]
    events: Option<&'a RawValue>,
}

impl<E: EventPayload> Notification<E> {
    /// Decode a notification payload (`{"subscription": ..., "event": ...}`,
    /// as in a WebSocket message's `payload` or a webhook body).
    pub fn decode(payload: &str) -> Result<Self> {
        let de = &mut serde_json::Deserializer::from_str(payload);
        let env: Envelope<'_> = serde_path_to_error::deserialize(de).map_err(|e| Error::Decode {
            endpoint: "notification".into(),
            path: e.path().to_string(),
            message: e.into_inner().to_string(),
            body: payload.into(),
        })?;
        let raw = env.event.or(env.events).ok_or_else(|| Error::Decode {
            endpoint: format!("{} v{}", env.subscription.subscription_type, env.subscription.version),
            path: "event".into(),
            message: "notification has neither `event` nor `events`".into(),
            body: payload.into(),
        })?;
        let event = E::decode(&env.subscription.subscription_type, &env.subscription.version, raw.get())?;
        Ok(Self { subscription: env.subscription, event })
    }
}
