//! Durations as Twitch writes them: a whole number of seconds or minutes,
//! or seconds with a fraction. Generated code stores `std::time::Duration`
//! and names these modules in `#[serde(with = ...)]`.

use std::fmt;
use std::time::Duration;

use serde::{Deserializer, Serializer, de, ser};

/// How a duration is written on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A whole number of seconds.
    Seconds,
    /// A whole number of minutes.
    Minutes,
    /// Seconds as a JSON number that may have a fraction.
    DecimalSeconds,
}

impl Unit {
    fn seconds(self) -> u64 {
        match self {
            Unit::Seconds | Unit::DecimalSeconds => 1,
            Unit::Minutes => 60,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Unit::Seconds | Unit::DecimalSeconds => "seconds",
            Unit::Minutes => "minutes",
        }
    }
}

/// `d` as a whole count of `unit`; `None` when it is not one (90 s in minutes,
/// 1.5 s in seconds).
pub fn whole(d: Duration, unit: Unit) -> Option<u64> {
    let per = unit.seconds();
    (d.subsec_nanos() == 0 && d.as_secs().is_multiple_of(per)).then(|| d.as_secs() / per)
}

/// `d` in `unit` as a number for range checks and query strings.
pub fn count(d: Duration, unit: Unit) -> Result<f64, String> {
    match unit {
        Unit::DecimalSeconds => Ok(d.as_secs_f64()),
        _ => whole(d, unit).map(|n| n as f64).ok_or_else(|| not_whole(d, unit)),
    }
}

fn not_whole(d: Duration, unit: Unit) -> String {
    format!("{d:?} is not a whole number of {}", unit.name())
}

/// The text of `d` in a query string.
pub fn query(d: &Duration, unit: Unit) -> String {
    match unit {
        Unit::DecimalSeconds => d.as_secs_f64().to_string(),
        // Checked to be whole before the request is built.
        _ => whole(*d, unit).unwrap_or(d.as_secs() / unit.seconds()).to_string(),
    }
}

fn serialize<S: Serializer>(d: &Duration, unit: Unit, s: S) -> Result<S::Ok, S::Error> {
    match unit {
        Unit::DecimalSeconds => s.serialize_f64(d.as_secs_f64()),
        _ => match whole(*d, unit) {
            Some(n) => s.serialize_u64(n),
            None => Err(ser::Error::custom(not_whole(*d, unit))),
        },
    }
}

struct Visit(Unit);

impl de::Visitor<'_> for Visit {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a duration in {}, a number not below 0", self.0.name())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        v.checked_mul(self.0.seconds())
            .map(Duration::from_secs)
            .ok_or_else(|| E::custom(format!("{v} {} does not fit a duration", self.0.name())))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
        Duration::try_from_secs_f64(v * self.0.seconds() as f64)
            .map_err(|_| E::invalid_value(de::Unexpected::Float(v), &self))
    }
}

fn deserialize<'de, D: Deserializer<'de>>(d: D, unit: Unit) -> Result<Duration, D::Error> {
    d.deserialize_any(Visit(unit))
}

struct VisitOption(Unit);

impl<'de> de::Visitor<'de> for VisitOption {
    type Value = Option<Duration>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a duration in {}, or null", self.0.name())
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        deserialize(d, self.0).map(Some)
    }
}

macro_rules! unit_modules {
    ($($(#[$doc:meta])* $name:ident, $opt:ident: $unit:expr;)*) => {$(
        $(#[$doc])*
        pub mod $name {
            use super::*;

            pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
                super::serialize(d, $unit, s)
            }

            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
                super::deserialize(d, $unit)
            }
        }

        $(#[$doc])*
        /// Absent or `null` is `None`.
        pub mod $opt {
            use super::*;

            pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
                match d {
                    Some(d) => super::serialize(d, $unit, s),
                    None => s.serialize_none(),
                }
            }

            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
                d.deserialize_option(VisitOption($unit))
            }
        }
    )*};
}

unit_modules! {
    /// A whole number of seconds.
    seconds, option_seconds: Unit::Seconds;
    /// A whole number of minutes.
    minutes, option_minutes: Unit::Minutes;
    /// Seconds with a fraction.
    decimal_seconds, option_decimal_seconds: Unit::DecimalSeconds;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct T {
        #[serde(with = "seconds")]
        s: Duration,
        #[serde(with = "option_minutes", default, skip_serializing_if = "Option::is_none")]
        m: Option<Duration>,
        #[serde(with = "decimal_seconds")]
        f: Duration,
    }

    #[test]
    fn round_trips_in_the_wire_unit() {
        let t: T = serde_json::from_str(r#"{"s": 30, "m": 10, "f": 12.5}"#).unwrap();
        assert_eq!(
            t,
            T { s: Duration::from_secs(30), m: Some(Duration::from_secs(600)), f: Duration::from_millis(12500) }
        );
        assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"s":30,"m":10,"f":12.5}"#);
        let t: T = serde_json::from_str(r#"{"s": 0, "m": null, "f": 5}"#).unwrap();
        assert_eq!(t.m, None);
        assert_eq!(t.f, Duration::from_secs(5));
    }

    #[test]
    fn refuses_what_is_no_duration() {
        for bad in [r#"{"s": -1, "f": 1}"#, r#"{"s": "30", "f": 1}"#, r#"{"s": 1, "f": -0.5}"#] {
            let e = serde_json::from_str::<T>(bad).unwrap_err().to_string();
            assert!(e.contains("a duration in seconds"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_duration_that_is_not_whole_is_an_error_not_a_rounding() {
        let t = T { s: Duration::from_millis(1500), m: None, f: Duration::ZERO };
        let e = serde_json::to_string(&t).unwrap_err().to_string();
        assert!(e.contains("1.5s is not a whole number of seconds"), "{e}");
        let t = T { s: Duration::ZERO, m: Some(Duration::from_secs(90)), f: Duration::ZERO };
        assert!(serde_json::to_string(&t).unwrap_err().to_string().contains("minutes"));
        assert_eq!(count(Duration::from_secs(120), Unit::Minutes), Ok(2.0));
        assert_eq!(query(&Duration::from_secs(300), Unit::Seconds), "300");
    }
}
