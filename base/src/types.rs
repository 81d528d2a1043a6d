//! Small value types shared by every generated model.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A string newtype like [`UserId`]: inline storage (no allocation for
/// ids of up to 23 bytes), `Deref<Target = str>`, `From` strings, serde
/// transparent, usable as a query value. The generated crate makes one per
/// id kind in the schema.
#[doc(hidden)]
#[macro_export]
macro_rules! __string_newtype {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name($crate::__SmolStr);

        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                <$crate::__SmolStr as $crate::__serde::Deserialize<'de>>::deserialize(d).map(Self)
            }
        }

        impl $name {
            /// Wrap a string.
            pub fn new(value: impl Into<String>) -> Self {
                Self($crate::__SmolStr::from(value.into()))
            }

            /// The value as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The owned string.
            pub fn into_string(self) -> String {
                self.0.into()
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Debug::fmt(&self.0, f)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(v: &str) -> Self {
                Self($crate::__SmolStr::new(v))
            }
        }

        impl From<String> for $name {
            fn from(v: String) -> Self {
                Self($crate::__SmolStr::from(v))
            }
        }

        impl From<&String> for $name {
            fn from(v: &String) -> Self {
                Self($crate::__SmolStr::new(v))
            }
        }

        impl From<&$name> for $name {
            fn from(v: &$name) -> Self {
                v.clone()
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0.into()
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.0 == other.as_str()
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self.as_str() == other.0
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl $crate::ToQuery for $name {
            fn to_query(&self) -> ::std::borrow::Cow<'_, str> {
                ::std::borrow::Cow::Borrowed(&self.0)
            }
        }
    };
}

__string_newtype! {
    /// A user's id (also broadcaster, moderator, sender ids): digits, sent as a string.
    UserId
}

__string_newtype! {
    /// A user's login name: lowercase, what appears in `twitch.tv/<login>`.
    UserLogin
}

__string_newtype! {
    /// An EventSub subscription's id.
    SubscriptionId
}

__string_newtype! {
    /// An EventSub WebSocket session's id.
    SessionId
}

__string_newtype! {
    /// An EventSub conduit's id.
    ConduitId
}

/// An RFC 3339 instant, kept to the nanosecond, always UTC.
///
/// Twitch sends timestamps with anything from no fraction to nine digits;
/// all of it is kept. Display and serialization print UTC with as many
/// fraction digits as needed.
///
/// The range is what RFC 3339 can write in UTC, `0000-01-01T00:00:00Z` to
/// `9999-12-31T23:59:59.999999999Z` ([`Timestamp::MIN`], [`Timestamp::MAX`]):
/// a time with an offset that lands outside it is refused, so every
/// `Timestamp` prints as text that parses back to itself.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

/// A string that is not an RFC 3339 timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampError(String);

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not an RFC 3339 timestamp: {:?}", self.0)
    }
}

impl std::error::Error for TimestampError {}

/// Seconds since the epoch of `0000-01-01T00:00:00Z`.
const MIN_SECS: i64 = -62_167_219_200;
/// Seconds since the epoch of `9999-12-31T23:59:59Z`.
const MAX_SECS: i64 = 253_402_300_799;

impl Timestamp {
    /// `0000-01-01T00:00:00Z`, the earliest time RFC 3339 writes.
    pub const MIN: Timestamp = Timestamp { secs: MIN_SECS, nanos: 0 };
    /// `9999-12-31T23:59:59.999999999Z`, the latest time RFC 3339 writes.
    pub const MAX: Timestamp = Timestamp { secs: MAX_SECS, nanos: 999_999_999 };

    /// From seconds and nanoseconds since the Unix epoch; `None` outside
    /// [`Timestamp::MIN`]..=[`Timestamp::MAX`].
    pub fn from_unix(secs: i64, nanos: u32) -> Option<Self> {
        (nanos < 1_000_000_000 && (MIN_SECS..=MAX_SECS).contains(&secs)).then_some(Self { secs, nanos })
    }

    /// This many seconds from now, saturating at [`Timestamp::MAX`] (for
    /// an `expires_in` a server sent).
    pub fn in_secs(secs: u64) -> Self {
        SystemTime::now().checked_add(Duration::from_secs(secs)).map_or(Self::MAX, Self::from)
    }

    /// The current time.
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// Seconds since the Unix epoch.
    pub fn unix_timestamp(&self) -> i64 {
        self.secs
    }

    /// Nanoseconds past the second.
    pub fn nanosecond(&self) -> u32 {
        self.nanos
    }

    /// As a `SystemTime`.
    pub fn to_system_time(&self) -> SystemTime {
        if self.secs >= 0 {
            UNIX_EPOCH + Duration::new(self.secs as u64, self.nanos)
        } else {
            UNIX_EPOCH - Duration::from_secs(self.secs.unsigned_abs()) + Duration::from_nanos(self.nanos as u64)
        }
    }

    /// Parse `2021-03-10T15:04:21.123456789Z` or with an offset (`+02:00`).
    pub fn parse(s: &str) -> Result<Self, TimestampError> {
        parse_rfc3339(s).ok_or_else(|| TimestampError(s.to_owned()))
    }
}

/// A `SystemTime` outside the range is clamped to [`Timestamp::MIN`] or
/// [`Timestamp::MAX`].
impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => match i64::try_from(d.as_secs()) {
                Ok(secs) if secs <= MAX_SECS => Self { secs, nanos: d.subsec_nanos() },
                _ => Self::MAX,
            },
            Err(e) => {
                let d = e.duration();
                let Some(mut secs) = i64::try_from(d.as_secs()).ok().map(|s| -s) else { return Self::MIN };
                let mut nanos = d.subsec_nanos();
                if nanos > 0 {
                    secs -= 1;
                    nanos = 1_000_000_000 - nanos;
                }
                if secs < MIN_SECS { Self::MIN } else { Self { secs, nanos } }
            }
        }
    }
}

impl std::str::FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn digits(s: &[u8]) -> Option<i64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0i64, |a, d| a * 10 + i64::from(d - b'0')))
}

fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let min = digits(&b[14..16])?;
    let sec = digits(&b[17..19])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: u32 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return None;
        }
        for _ in n.min(9)..9 {
            nanos *= 10;
        }
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let h = digits(&b[i + 1..i + 3])?;
            let m = digits(&b[i + 4..i + 6])?;
            if h > 23 || m > 59 {
                return None;
            }
            let o = h * 3600 + m * 60;
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    // A leap second (:60) is folded into the next second. An offset may
    // move the time out of what UTC text can write: refused.
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset;
    Timestamp::from_unix(secs, nanos)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl Timestamp {
    /// RFC 3339 with all nine fraction digits (`2023-07-19T14:56:51.634234626Z`),
    /// the way EventSub writes its times.
    pub fn to_rfc3339_nanos(&self) -> String {
        let mut out = String::with_capacity(30);
        let _ = self.write_date_time(&mut out);
        let _ = fmt::Write::write_fmt(&mut out, format_args!(".{:09}Z", self.nanos));
        out
    }

    fn write_date_time(&self, f: &mut impl fmt::Write) -> fmt::Result {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_date_time(f)?;
        if self.nanos > 0 {
            let mut frac = format!("{:09}", self.nanos);
            while frac.ends_with('0') {
                frac.pop();
            }
            write!(f, ".{frac}")?;
        }
        f.write_str("Z")
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(any(feature = "chrono", feature = "time", feature = "jiff"))]
impl TimestampError {
    fn out_of_range(what: &str) -> Self {
        Self(format!("{what} is outside 0000-01-01T00:00:00Z..=9999-12-31T23:59:59.999999999Z"))
    }
}

/// To and from `chrono::DateTime` (feature `chrono`). Every `Timestamp`
/// converts; a `DateTime` outside years 0 to 9999 (in UTC) does not.
#[cfg(feature = "chrono")]
mod chrono_interop {
    use super::{Timestamp, TimestampError};

    impl From<Timestamp> for chrono::DateTime<chrono::Utc> {
        fn from(t: Timestamp) -> Self {
            chrono::DateTime::from_timestamp(t.secs, t.nanos).expect("every Timestamp is in chrono's range")
        }
    }

    impl<Tz: chrono::TimeZone> TryFrom<chrono::DateTime<Tz>> for Timestamp {
        type Error = TimestampError;
        fn try_from(d: chrono::DateTime<Tz>) -> Result<Self, TimestampError> {
            Timestamp::from_unix(d.timestamp(), d.timestamp_subsec_nanos())
                .ok_or_else(|| TimestampError::out_of_range(&d.to_utc().to_rfc3339()))
        }
    }
}

/// To and from `time::OffsetDateTime` (feature `time`). Every `Timestamp`
/// converts; an `OffsetDateTime` outside years 0 to 9999 (in UTC) does not.
#[cfg(feature = "time")]
mod time_interop {
    use super::{Timestamp, TimestampError};

    impl From<Timestamp> for time::OffsetDateTime {
        fn from(t: Timestamp) -> Self {
            let nanos = i128::from(t.secs) * 1_000_000_000 + i128::from(t.nanos);
            time::OffsetDateTime::from_unix_timestamp_nanos(nanos).expect("every Timestamp is in time's range")
        }
    }

    impl TryFrom<time::OffsetDateTime> for Timestamp {
        type Error = TimestampError;
        fn try_from(d: time::OffsetDateTime) -> Result<Self, TimestampError> {
            Timestamp::from_unix(d.unix_timestamp(), d.nanosecond())
                .ok_or_else(|| TimestampError::out_of_range(&d.to_string()))
        }
    }
}

/// To and from `jiff::Timestamp` (feature `jiff`). jiff's range ends a day
/// before 9999-12-31 ends, so the last hours of [`Timestamp::MAX`]'s year do
/// not convert; a `jiff::Timestamp` before year 0 does not convert back.
#[cfg(feature = "jiff")]
mod jiff_interop {
    use super::{Timestamp, TimestampError};

    impl TryFrom<Timestamp> for jiff::Timestamp {
        type Error = TimestampError;
        fn try_from(t: Timestamp) -> Result<Self, TimestampError> {
            let nanos = i128::from(t.secs) * 1_000_000_000 + i128::from(t.nanos);
            jiff::Timestamp::from_nanosecond(nanos).map_err(|_| TimestampError(format!("{t} is outside jiff's range")))
        }
    }

    impl TryFrom<jiff::Timestamp> for Timestamp {
        type Error = TimestampError;
        fn try_from(t: jiff::Timestamp) -> Result<Self, TimestampError> {
            // jiff signs the fraction like the seconds; ours counts up from the second before.
            let nanos = t.as_nanosecond();
            let secs = i64::try_from(nanos.div_euclid(1_000_000_000))
                .map_err(|_| TimestampError::out_of_range(&t.to_string()))?;
            let frac = nanos.rem_euclid(1_000_000_000) as u32;
            Timestamp::from_unix(secs, frac).ok_or_else(|| TimestampError::out_of_range(&t.to_string()))
        }
    }
}

impl crate::query::ToQuery for Timestamp {
    fn to_query(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_nanoseconds() {
        for s in [
            "2021-03-10T15:04:21Z",
            "2020-07-15T18:16:11.17106713Z",
            "2019-11-16T10:11:12.634234626Z",
            "1969-12-31T23:59:59.5Z",
            "2000-02-29T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn offsets_become_utc() {
        let t = Timestamp::parse("2021-03-10T17:04:21+02:00").unwrap();
        assert_eq!(t.to_string(), "2021-03-10T15:04:21Z");
        assert_eq!(t.unix_timestamp(), 1_615_388_661);
    }

    #[test]
    fn rejects_garbage() {
        for s in
            ["", "2021-13-01T00:00:00Z", "2021-02-30T00:00:00Z", "2021-03-10 15:04:21", "2021-03-10T15:04:21.Z", "x"]
        {
            assert!(Timestamp::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn eventsub_style_keeps_nine_digits() {
        let t = Timestamp::parse("2023-07-19T14:56:51.634234626Z").unwrap();
        assert_eq!(t.to_rfc3339_nanos(), "2023-07-19T14:56:51.634234626Z");
        let t = Timestamp::parse("2020-02-29T23:00:00-01:00").unwrap();
        assert_eq!(t.to_rfc3339_nanos(), "2020-03-01T00:00:00.000000000Z");
    }

    /// Whatever parses prints as text that parses back to the same time.
    #[test]
    fn what_parses_prints_back() {
        for s in [
            "0000-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-23:59",
            "9999-12-31T23:59:60Z",
            "0000-01-01T00:59:59+01:00",
        ] {
            assert!(Timestamp::parse(s).is_err(), "{s} lands outside 0000..=9999 in UTC");
        }
        let dates = ["0000-01-01", "0000-02-29", "1969-12-31", "1970-01-01", "2024-02-29", "9999-12-31"];
        let times = ["00:00:00", "00:59:59", "12:00:00", "23:00:00", "23:59:59", "23:59:60"];
        let fractions = ["", ".5", ".000000001", ".999999999", ".1234567891"];
        let offsets = ["Z", "+00:00", "+01:00", "-01:00", "+23:59", "-23:59", "+12:30"];
        let mut accepted = 0;
        for d in dates {
            for t in times {
                for f in fractions {
                    for o in offsets {
                        let s = format!("{d}T{t}{f}{o}");
                        let Ok(ts) = Timestamp::parse(&s) else { continue };
                        accepted += 1;
                        for printed in [ts.to_string(), ts.to_rfc3339_nanos()] {
                            assert_eq!(Timestamp::parse(&printed), Ok(ts), "{s} printed as {printed}");
                        }
                        let json = serde_json::to_string(&ts).unwrap();
                        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), ts, "{s}");
                    }
                }
            }
        }
        assert!(accepted > 1000, "{accepted}");
        assert_eq!(Timestamp::MIN.to_string(), "0000-01-01T00:00:00Z");
        assert_eq!(Timestamp::MAX.to_string(), "9999-12-31T23:59:59.999999999Z");
    }

    #[test]
    fn out_of_range_sources_are_clamped_or_refused() {
        assert_eq!(Timestamp::from_unix(MAX_SECS + 1, 0), None);
        assert_eq!(Timestamp::from_unix(MIN_SECS - 1, 0), None);
        assert_eq!(Timestamp::from_unix(i64::MAX, 0), None);
        assert_eq!(Timestamp::in_secs(u64::MAX), Timestamp::MAX);
        assert_eq!(Timestamp::from(UNIX_EPOCH + Duration::from_secs(400_000_000_000)), Timestamp::MAX);
        assert_eq!(Timestamp::from(UNIX_EPOCH - Duration::from_secs(400_000_000_000)), Timestamp::MIN);
        assert_eq!(Timestamp::from(Timestamp::MIN.to_system_time()), Timestamp::MIN);
        assert_eq!(Timestamp::from(Timestamp::MAX.to_system_time()), Timestamp::MAX);
    }

    #[test]
    fn system_time_round_trip() {
        let t = Timestamp::from_unix(1_700_000_000, 123).unwrap();
        assert_eq!(Timestamp::from(t.to_system_time()), t);
    }
}
