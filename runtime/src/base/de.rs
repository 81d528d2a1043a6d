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
pub fn lenient_timestamp<'de, D>(d: D) -> Result<Option<crate::base::types::Timestamp>, D::Error>
where
    D: Deserializer<'de>,
{
    match Option::<std::borrow::Cow<'de, str>>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) => crate::base::types::Timestamp::parse(&s).map(Some).map_err(de::Error::custom),
    }
}

/// One JSON value read for a lenient field, without building a `Value` for
/// the common cases: a string, a number, `null`; anything else is kept as
/// the JSON it was.
#[derive(Debug)]
pub(crate) enum Scalar {
    Str(String),
    Num(serde_json::Number),
    Null,
    Other(Value),
}

impl From<Value> for Scalar {
    fn from(v: Value) -> Self {
        match v {
            Value::String(s) => Scalar::Str(s),
            Value::Number(n) => Scalar::Num(n),
            Value::Null => Scalar::Null,
            other => Scalar::Other(other),
        }
    }
}

impl From<Scalar> for Value {
    fn from(s: Scalar) -> Self {
        match s {
            Scalar::Str(s) => Value::String(s),
            Scalar::Num(n) => Value::Number(n),
            Scalar::Null => Value::Null,
            Scalar::Other(v) => v,
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Str(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar::Str(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Num(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::Num(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(serde_json::Number::from_f64(v).map_or(Scalar::Null, Scalar::Num))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar::Other(Value::Bool(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
                Scalar::deserialize(d)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Scalar, A::Error> {
                Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar, A::Error> {
                Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// Reads the non-essential fields of a control message (welcome,
/// reconnect, revocation, a subscription object): a value that does not
/// have its documented type is kept raw in `unparsed`, by field name, and
/// the typed field is left empty. Nothing here fails.
#[derive(Debug, Default)]
pub(crate) struct Lenient {
    pub unparsed: BTreeMap<String, Value>,
}

impl Lenient {
    fn keep(&mut self, name: &str, v: Scalar) {
        self.unparsed.insert(name.to_owned(), v.into());
    }

    /// A string; a number is read as its text; `null` is absent.
    pub fn string(&mut self, name: &str, v: impl Into<Scalar>) -> Option<String> {
        match v.into() {
            Scalar::Str(s) => Some(s),
            Scalar::Num(n) => Some(n.to_string()),
            Scalar::Null => None,
            other => {
                self.keep(name, other);
                None
            }
        }
    }

    /// An integer; a numeric string is read as its number.
    pub fn i64(&mut self, name: &str, v: impl Into<Scalar>) -> Option<i64> {
        self.integer(name, v.into(), serde_json::Number::as_i64)
    }

    fn integer<T: std::str::FromStr>(
        &mut self,
        name: &str,
        v: Scalar,
        of: fn(&serde_json::Number) -> Option<T>,
    ) -> Option<T> {
        let parsed = match &v {
            Scalar::Num(n) => of(n),
            Scalar::Str(s) => s.trim().parse().ok(),
            Scalar::Null => return None,
            Scalar::Other(_) => None,
        };
        if parsed.is_none() {
            self.keep(name, v);
        }
        parsed
    }

    /// A non-negative integer; a numeric string is read as its number.
    #[cfg(feature = "websocket")]
    pub fn u64(&mut self, name: &str, v: impl Into<Scalar>) -> Option<u64> {
        self.integer(name, v.into(), serde_json::Number::as_u64)
    }

    /// An RFC 3339 time; `null` and `""` are absent.
    pub fn timestamp(&mut self, name: &str, v: impl Into<Scalar>) -> Option<crate::base::types::Timestamp> {
        let v = v.into();
        match &v {
            Scalar::Null => None,
            Scalar::Str(s) if s.is_empty() => None,
            Scalar::Str(s) => match crate::base::types::Timestamp::parse(s) {
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
