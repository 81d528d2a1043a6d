//! `Timestamp` to and from chrono, time and jiff (features of the same
//! names): exact both ways, nanoseconds and offsets included, and refused
//! outside the years Timestamp can write.

use twitch::Timestamp;

fn samples() -> Vec<Timestamp> {
    [
        "1970-01-01T00:00:00Z",
        "1969-12-31T23:59:59.999999999Z",
        "2023-07-19T14:56:51.634234626Z",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999999Z",
        "1900-02-28T12:00:00.5Z",
    ]
    .iter()
    .map(|s| Timestamp::parse(s).unwrap())
    .collect()
}

#[test]
fn chrono_both_ways() {
    for t in samples() {
        let d: chrono::DateTime<chrono::Utc> = t.into();
        assert_eq!(d.timestamp(), t.unix_timestamp());
        assert_eq!(d.timestamp_subsec_nanos(), t.nanosecond());
        assert_eq!(Timestamp::try_from(d).unwrap(), t);
    }
    // An offset is only another way to write the instant.
    let plus2 = chrono::DateTime::parse_from_rfc3339("2021-03-10T17:04:21+02:00").unwrap();
    assert_eq!(Timestamp::try_from(plus2).unwrap(), Timestamp::parse("2021-03-10T15:04:21Z").unwrap());
    let far = chrono::DateTime::from_timestamp(400_000_000_000, 0).unwrap();
    assert!(Timestamp::try_from(far).is_err(), "year 14645 cannot be written");
}

#[test]
fn time_both_ways() {
    for t in samples() {
        let d: time::OffsetDateTime = t.into();
        assert_eq!(d.unix_timestamp(), t.unix_timestamp());
        assert_eq!(d.nanosecond(), t.nanosecond());
        assert_eq!(Timestamp::try_from(d).unwrap(), t);
    }
    let plus2 = time::macros::datetime!(2021-03-10 17:04:21 +2);
    assert_eq!(Timestamp::try_from(plus2).unwrap(), Timestamp::parse("2021-03-10T15:04:21Z").unwrap());
    let before = time::macros::datetime!(-0001-12-31 23:00:00 UTC);
    assert!(Timestamp::try_from(before).is_err(), "year -1 cannot be written");
}

#[test]
fn jiff_both_ways() {
    for t in samples().into_iter().filter(|t| *t != Timestamp::MAX) {
        let j = jiff::Timestamp::try_from(t).unwrap();
        assert_eq!(j.to_string().parse::<Timestamp>().unwrap(), t, "{j}");
        assert_eq!(Timestamp::try_from(j).unwrap(), t);
    }
    // Before the epoch jiff signs the fraction; the instant is the same.
    let j = jiff::Timestamp::new(-1, -500_000_000).unwrap();
    assert_eq!(Timestamp::try_from(j).unwrap(), Timestamp::parse("1969-12-31T23:59:58.5Z").unwrap());
    // jiff's range ends on 9999-12-30; ours a day later.
    assert!(jiff::Timestamp::try_from(Timestamp::MAX).is_err());
    assert_eq!(Timestamp::try_from(jiff::Timestamp::MAX).unwrap().to_string(), jiff::Timestamp::MAX.to_string());
    assert!(Timestamp::try_from(jiff::Timestamp::MIN).is_err(), "year -9999 cannot be written");
}
