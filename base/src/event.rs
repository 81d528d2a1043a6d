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

/// A subscription's type and version, read from its raw JSON (borrowed:
/// Twitch's type and version strings have no escapes). What the runtime's
/// decoders and observe mode read a notification's kind with.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kind<'a> {
    /// The subscription type (`channel.follow`).
    pub subscription_type: std::borrow::Cow<'a, str>,
    /// Its version (`2`).
    pub version: std::borrow::Cow<'a, str>,
}

impl<'a> Kind<'a> {
    /// The subscription object's top-level keys are scanned byte by byte
    /// (the raw value was checked to be JSON when it was read), to its end,
    /// so that a `type` or `version` given twice is refused (by serde's
    /// way, which names the field) rather than read as either one. A key or
    /// value with an escape, or a value that is not a string, takes serde's
    /// way too.
    #[inline]
    pub fn of(raw: &'a RawValue) -> serde_json::Result<Self> {
        match scan_type_and_version(raw.get()) {
            Some((subscription_type, version)) => {
                Ok(Kind { subscription_type: subscription_type.into(), version: version.into() })
            }
            None => Self::read(raw.get()),
        }
    }

    fn read(json: &'a str) -> serde_json::Result<Self> {
        #[derive(Deserialize)]
        struct Full<'a> {
            #[serde(rename = "type", borrow)]
            subscription_type: std::borrow::Cow<'a, str>,
            #[serde(borrow)]
            version: std::borrow::Cow<'a, str>,
        }
        let full: Full<'a> = serde_json::from_str(json)?;
        Ok(Kind { subscription_type: full.subscription_type, version: full.version })
    }

    /// A seed that decodes an event of this kind as `E`.
    pub fn seed<E>(&self) -> EventSeed<'_, E> {
        EventSeed::new(&self.subscription_type, &self.version)
    }
}

/// The string values of the top-level keys `type` and `version` of a JSON
/// object known to be well-formed, scanned byte by byte; `None` when either
/// is missing, is not a plain string or an escape is met on the way.
#[inline]
fn scan_type_and_version(json: &str) -> Option<(&str, &str)> {
    let b = json.as_bytes();
    // The end of the string whose opening quote is at `at`; `None` on an escape.
    let string_end = |at: usize| -> Option<usize> {
        let len = b[at + 1..].iter().position(|&c| c == b'"' || c == b'\\')?;
        (b[at + 1 + len] == b'"').then_some(at + 1 + len)
    };
    let (mut ty, mut version) = (None, None);
    let (mut i, mut depth, mut expect_key) = (0, 0usize, false);
    while i < b.len() {
        match b[i] {
            b'{' => {
                depth += 1;
                expect_key = depth == 1;
            }
            b'[' => depth += 1,
            b'}' | b']' => depth = depth.checked_sub(1)?,
            b',' if depth == 1 => expect_key = true,
            b'"' if depth == 1 && expect_key => {
                let end = string_end(i)?;
                let key = &json[i + 1..end];
                i = end + 1;
                while b.get(i).is_some_and(|c| c.is_ascii_whitespace() || *c == b':') {
                    i += 1;
                }
                let slot = match key {
                    "type" => &mut ty,
                    "version" => &mut version,
                    _ => {
                        expect_key = false;
                        continue;
                    }
                };
                // A key given twice: serde's way refuses it, as it must be
                // (which one was meant is not for this scan to guess).
                if slot.is_some() || b.get(i) != Some(&b'"') {
                    return None;
                }
                let end = string_end(i)?;
                *slot = Some(&json[i + 1..end]);
                i = end;
                expect_key = false;
            }
            b'"' => i = string_end(i)?,
            _ => {}
        }
        i += 1;
    }
    // The whole object was read: both keys once each, or serde's way.
    ty.zip(version)
}

/// A notification payload with its parts kept raw: the `subscription`
/// object, and the `event` (or a batched type's `events`).
#[doc(hidden)]
#[derive(Debug, Deserialize)]
pub struct RawNotification<'a> {
    /// The subscription object.
    #[serde(borrow)]
    pub subscription: &'a RawValue,
    /// The event, for most types.
    #[serde(borrow)]
    pub event: Option<&'a RawValue>,
    /// The events, for a batched type.
    #[serde(borrow)]
    pub events: Option<&'a RawValue>,
}

impl<'a> RawNotification<'a> {
    /// The `event`, else the `events`.
    pub fn body(&self) -> Option<&'a RawValue> {
        self.event.or(self.events)
    }
}

/// An event decoded as `E` for the subscription type and version it names
/// (`E::deserialize_event` as a serde seed).
#[doc(hidden)]
pub struct EventSeed<'k, E> {
    subscription_type: &'k str,
    version: &'k str,
    event: std::marker::PhantomData<E>,
}

impl<'k, E> EventSeed<'k, E> {
    /// The seed for `subscription_type` at `version`.
    pub fn new(subscription_type: &'k str, version: &'k str) -> Self {
        Self { subscription_type, version, event: std::marker::PhantomData }
    }
}

impl<'de, E: EventPayload> serde::de::DeserializeSeed<'de> for EventSeed<'_, E> {
    type Value = E;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<E, D::Error> {
        E::deserialize_event(self.subscription_type, self.version, d)
    }
}

#[cfg(test)]
mod tests {
    use super::scan_type_and_version as scan;

    #[test]
    fn type_and_version_are_found_at_the_top_level_only() {
        let usual = r#"{"id":"f1","type":"channel.follow","version":"2","status":"enabled","condition":{}}"#;
        assert_eq!(scan(usual), Some(("channel.follow", "2")));
        let nested = r#"{"condition":{"type":"no","version":"no","x":[{"type":"no"}]},"version":"1","type":"a.b"}"#;
        assert_eq!(scan(nested), Some(("a.b", "1")));
        let spaced = "{ \"id\" : \"{[\" ,\n \"type\" : \"a\" , \"cost\": 1, \"version\":\"1\"}";
        assert_eq!(scan(spaced), Some(("a", "1")));
        // Left to serde: escapes, values that are not strings, a missing key.
        assert_eq!(scan(r#"{"type":"a\u002eb","version":"1"}"#), None);
        assert_eq!(scan(r#"{"id":"\"","type":"a","version":"1"}"#), None);
        assert_eq!(scan(r#"{"type":"a","version":1}"#), None);
        assert_eq!(scan(r#"{"type":"a"}"#), None);
        assert_eq!(scan(r#"{}"#), None);
        // Given twice: left to serde, which refuses it.
        assert_eq!(scan(r#"{"type":"a","version":"1","type":"b"}"#), None);
        assert_eq!(scan(r#"{"type":"a","version":"1","condition":{},"version":"2"}"#), None);
    }
}
