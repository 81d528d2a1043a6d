//! EventSub decoding: the notification envelope and the traits generated
//! subscription types and the `Event` enum implement.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::base::error::{Error, Result};

pub use twitch_base::event::{EventPayload, FromEvent, SubscriptionType, UnknownEvent};
use twitch_base::event::{Kind, RawNotification};

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
                // Which subscription it is must be read one way only: its id,
                // type or version given twice is refused.
                let mut seen = [false; 3];
                while let Some(key) = map.next_key::<Field>()? {
                    let (slot, name) = match key {
                        Field::Id => (0, "id"),
                        Field::Type => (1, "type"),
                        Field::Version => (2, "version"),
                        _ => (usize::MAX, ""),
                    };
                    if let Some(seen) = seen.get_mut(slot) {
                        if *seen {
                            return Err(A::Error::duplicate_field(name));
                        }
                        *seen = true;
                    }
                    match key {
                        Field::Id => id = l.string("id", map.next_value()?),
                        Field::Type => ty = l.string("type", map.next_value()?),
                        Field::Version => version = l.string("version", map.next_value()?),
                        Field::Status => status = l.string("status", map.next_value()?),
                        Field::Cost => cost = l.i64("cost", map.next_value()?),
                        Field::Condition => condition = Some(map.next_value::<RawJson>()?),
                        Field::Transport => {
                            // Typed straight from the bytes; field by field only if that fails.
                            let raw: Box<RawValue> = map.next_value()?;
                            transport = Some(match serde_json::from_str::<SubscriptionTransport>(raw.get()) {
                                Ok(t) => t,
                                Err(_) => SubscriptionTransport::lenient(
                                    serde_json::from_str(raw.get()).unwrap_or(serde_json::Value::Null),
                                    &mut l,
                                ),
                            });
                        }
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
    /// The subscription it belongs to, as received ([`RawSubscription::parse`]
    /// decodes it; the event carries its type and version), as for a
    /// WebSocket notification: most readers never look.
    pub subscription: RawSubscription,
    /// The event.
    pub event: E,
}

/// A payload read in one pass: `event` is `None` when it was absent.
struct OnePass<E> {
    subscription: Box<RawValue>,
    event: Option<E>,
}

fn deserialize_raw_event<E: EventPayload>(kind: &Kind<'_>, raw: &RawValue) -> serde_json::Result<E> {
    let de = &mut serde_json::Deserializer::from_str(raw.get());
    let e = E::deserialize_event(&kind.subscription_type, &kind.version, &mut *de)?;
    de.end()?;
    Ok(e)
}

/// Reads a payload in one pass; `known` is the subscription's type and
/// version when they came from elsewhere (a webhook's headers), so the
/// event is decoded in place wherever it is.
struct OnePassSeed<'k, E> {
    known: Option<&'k Kind<'k>>,
    event: std::marker::PhantomData<E>,
}

impl<'de, E: EventPayload> serde::de::DeserializeSeed<'de> for OnePassSeed<'_, E> {
    type Value = OnePass<E>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<OnePass<E>, D::Error> {
        use serde::de::{Error as _, IgnoredAny, MapAccess, Visitor};

        #[derive(Deserialize)]
        #[serde(field_identifier, rename_all = "snake_case")]
        enum Key {
            Subscription,
            Event,
            Events,
            #[serde(other)]
            Other,
        }

        struct V<'k, E>(Option<&'k Kind<'k>>, std::marker::PhantomData<E>);
        impl<'de, E: EventPayload> Visitor<'de> for V<'_, E> {
            type Value = OnePass<E>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an EventSub notification payload")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<OnePass<E>, A::Error> {
                let (mut subscription, mut event, mut from_event) = (None::<Box<RawValue>>, None, false);
                // An event ahead of its subscription (and of a known type):
                // kept raw, decoded once the type is known.
                let mut early: Option<(Box<RawValue>, bool)> = None;
                let (mut seen_event, mut seen_events) = (false, false);
                while let Some(key) = map.next_key::<Key>()? {
                    let is_event = matches!(key, Key::Event);
                    // A key given twice is refused: an event decoded under
                    // one subscription must not be reported with another.
                    let seen = match key {
                        Key::Event => std::mem::replace(&mut seen_event, true),
                        Key::Events => std::mem::replace(&mut seen_events, true),
                        Key::Subscription => subscription.is_some(),
                        Key::Other => false,
                    };
                    if seen {
                        let name = match key {
                            Key::Event => "event",
                            Key::Events => "events",
                            _ => "subscription",
                        };
                        return Err(A::Error::duplicate_field(name));
                    }
                    match (key, &subscription) {
                        (Key::Subscription, _) => subscription = Some(map.next_value()?),
                        // `event` wins over `events`, whichever comes first.
                        (Key::Events, _) if from_event => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        (Key::Event | Key::Events, raw) => {
                            let read;
                            let kind = match (self.0, raw) {
                                (Some(known), _) => Some(known),
                                (None, Some(raw)) => {
                                    read = Kind::of(raw).map_err(A::Error::custom)?;
                                    Some(&read)
                                }
                                (None, None) => None,
                            };
                            match kind {
                                Some(kind) => {
                                    from_event = is_event;
                                    event = Some(map.next_value_seed(kind.seed::<E>())?);
                                }
                                None if !is_event && early.as_ref().is_some_and(|(_, from_event)| *from_event) => {
                                    map.next_value::<IgnoredAny>()?;
                                }
                                None => early = Some((map.next_value()?, is_event)),
                            }
                        }
                        (Key::Other, _) => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let subscription = subscription.ok_or_else(|| A::Error::missing_field("subscription"))?;
                // An `event` decoded in place wins over an earlier `events`, and the reverse.
                if let Some((raw, early_is_event)) = early
                    && (event.is_none() || (early_is_event && !from_event))
                {
                    let kind = Kind::of(&subscription).map_err(A::Error::custom)?;
                    event = Some(deserialize_raw_event(&kind, &raw).map_err(A::Error::custom)?);
                }
                Ok(OnePass { subscription, event })
            }
        }
        d.deserialize_map(V(self.known, std::marker::PhantomData))
    }
}

impl<E: EventPayload> Notification<E> {
    /// Decode a notification payload (`{"subscription": ..., "event": ...}`,
    /// as in a WebSocket message's `payload` or a webhook body).
    ///
    /// One pass when `subscription` comes first, as Twitch sends it: its
    /// type and version pick the event's type and the event is decoded
    /// straight from the bytes (an event ahead of its subscription is kept
    /// raw and decoded once the type is known). On an error the careful
    /// two-pass way runs, which names the failing JSON path.
    pub fn decode(payload: &str) -> Result<Self> {
        Self::decode_one_pass(payload, None).map_or_else(|| Self::decode_in_two_passes(payload), Ok)
    }

    /// Decode a notification payload whose subscription type and version
    /// are known from elsewhere: a webhook's `Twitch-Eventsub-Subscription-Type`
    /// and `Twitch-Eventsub-Subscription-Version` headers. The event is
    /// decoded in place wherever it is in the body, without a look into
    /// the subscription. On an error the payload is decoded as by
    /// [`decode`](Self::decode), from its own subscription.
    pub fn decode_as(subscription_type: &str, version: &str, payload: &str) -> Result<Self> {
        let kind = Kind { subscription_type: subscription_type.into(), version: version.into() };
        Self::decode_one_pass(payload, Some(&kind)).map_or_else(|| Self::decode_in_two_passes(payload), Ok)
    }

    fn decode_one_pass(payload: &str, known: Option<&Kind<'_>>) -> Option<Self> {
        use serde::de::DeserializeSeed as _;
        let de = &mut serde_json::Deserializer::from_str(payload);
        let seed = OnePassSeed::<E> { known, event: std::marker::PhantomData };
        match seed.deserialize(&mut *de) {
            // With the kind from elsewhere the subscription is still read
            // for its own, so that one given twice is refused here as by
            // `decode`.
            Ok(OnePass { subscription: raw, event: Some(event) })
                if de.end().is_ok() && (known.is_none() || Kind::of(&raw).is_ok()) =>
            {
                Some(Self { subscription: RawSubscription::new(RawJson(raw)), event })
            }
            _ => None,
        }
    }

    fn decode_in_two_passes(payload: &str) -> Result<Self> {
        let de = &mut serde_json::Deserializer::from_str(payload);
        let env: RawNotification<'_> = serde_path_to_error::deserialize(de).map_err(|e| Error::Decode {
            endpoint: "notification".into(),
            path: e.path().to_string(),
            message: e.into_inner().to_string(),
            body: payload.into(),
        })?;
        let subscription = RawSubscription::new(RawJson::from_raw(env.subscription));
        let info = subscription.parse()?;
        let raw = env.body().ok_or_else(|| Error::Decode {
            endpoint: format!("{} v{}", info.subscription_type, info.version),
            path: "event".into(),
            message: "notification has neither `event` nor `events`".into(),
            body: payload.into(),
        })?;
        let event = E::decode(&info.subscription_type, &info.version, raw.get())?;
        Ok(Self { subscription, event })
    }
}
