//! serde helpers used by generated models. Each is lenient where Twitch is
//! known to vary (null for empty lists, several pagination shapes).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// `null` (or a missing field, with `#[serde(default)]`) reads as `T::default()`.
pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A string enum: hands the string to `from` without an extra allocation
/// when the input allows borrowing.
pub fn string_enum<'de, D, T>(d: D, from: fn(&str) -> T) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct V<T>(fn(&str) -> T);
    impl<T> Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            Ok((self.0)(v))
        }
    }
    d.deserialize_str(V(from))
}

/// The pagination cursor. Twitch sends `{"cursor": "..."}`, `{}`, `null`,
/// a bare string (some extension endpoints) or nothing; an empty string
/// means there is no next page.
pub fn cursor<'de, D>(d: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a pagination object or cursor string")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(V)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok((!v.is_empty()).then(|| v.to_owned()))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut cursor = None;
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if key == "cursor" {
                    cursor = map.next_value::<Option<String>>()?;
                } else {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
            Ok(cursor.filter(|c| !c.is_empty()))
        }
    }
    d.deserialize_option(V)
}

/// Writes a cursor back as Twitch's `{"cursor": "..."}` (or `{}`).
pub fn serialize_cursor<S: Serializer>(cursor: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct P<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        cursor: Option<&'a str>,
    }
    P { cursor: cursor.as_deref() }.serialize(s)
}

/// An optional timestamp where Twitch may send `""` instead of `null`.
pub fn lenient_timestamp<'de, D>(d: D) -> Result<Option<crate::types::Timestamp>, D::Error>
where
    D: Deserializer<'de>,
{
    match Option::<std::borrow::Cow<'de, str>>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) => crate::types::Timestamp::parse(&s).map(Some).map_err(de::Error::custom),
    }
}

/// Reads the non-essential fields of a control message (welcome,
/// reconnect, revocation, a subscription object): a value that does not
/// have its documented type is kept raw in `unparsed`, by field name, and
/// the typed field is left empty. Nothing here fails.
#[derive(Debug, Default)]
#[doc(hidden)]
pub struct Lenient {
    pub unparsed: BTreeMap<String, Value>,
}

impl Lenient {
    fn keep(&mut self, name: &str, v: Value) {
        self.unparsed.insert(name.to_owned(), v);
    }

    /// A string; a number is read as its text; `null` is absent.
    pub fn string(&mut self, name: &str, v: Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            Value::Null => None,
            other => {
                self.keep(name, other);
                None
            }
        }
    }

    /// An integer; a numeric string is read as its number.
    pub fn i64(&mut self, name: &str, v: Value) -> Option<i64> {
        let parsed = match &v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            Value::Null => return None,
            _ => None,
        };
        if parsed.is_none() {
            self.keep(name, v);
        }
        parsed
    }

    /// A non-negative integer; a numeric string is read as its number.
    pub fn u64(&mut self, name: &str, v: Value) -> Option<u64> {
        let parsed = match &v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            Value::Null => return None,
            _ => None,
        };
        if parsed.is_none() {
            self.keep(name, v);
        }
        parsed
    }

    /// An RFC 3339 time; `null` and `""` are absent.
    pub fn timestamp(&mut self, name: &str, v: Value) -> Option<crate::types::Timestamp> {
        match &v {
            Value::Null => None,
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => match crate::types::Timestamp::parse(s) {
                Ok(t) => Some(t),
                Err(_) => {
                    self.keep(name, v);
                    None
                }
            },
            _ => {
                self.keep(name, v);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct P {
        #[serde(default, deserialize_with = "cursor")]
        pagination: Option<String>,
    }

    #[test]
    fn cursor_shapes() {
        let c = |s: &str| serde_json::from_str::<P>(s).unwrap().pagination;
        assert_eq!(c(r#"{"pagination": {"cursor": "abc"}}"#).as_deref(), Some("abc"));
        assert_eq!(c(r#"{"pagination": {}}"#), None);
        assert_eq!(c(r#"{"pagination": null}"#), None);
        assert_eq!(c(r#"{"pagination": "xyz"}"#).as_deref(), Some("xyz"));
        assert_eq!(c(r#"{"pagination": ""}"#), None);
        assert_eq!(c(r#"{"pagination": {"cursor": ""}}"#), None);
        assert_eq!(c(r#"{}"#), None);
    }
}
