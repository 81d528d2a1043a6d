//! The traits generated subscription types and the `Event` enum implement,
//! and the event of an unknown type.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::DecodeError;
use crate::meta::SubscriptionMeta;

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
    fn decode(subscription_type: &str, version: &str, raw: &str) -> Result<Self, DecodeError>;

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

    /// Whether the type and version were unknown (the event is kept raw
    /// through [`unknown`](Self::unknown)).
    fn is_unknown(&self) -> bool {
        false
    }
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
