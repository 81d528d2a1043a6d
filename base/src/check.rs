//! Checks of documented limits, run by generated code before any I/O.

use crate::error::InvalidParam;

fn invalid(param: &str, message: String) -> InvalidParam {
    InvalidParam { param: param.to_owned(), message }
}

/// A repeatable parameter has at most `max` values.
pub fn count(param: &str, len: usize, max: usize) -> Result<(), InvalidParam> {
    if len > max { Err(invalid(param, format!("{len} values given, at most {max} allowed"))) } else { Ok(()) }
}

/// An integer lies in `min..=max`.
pub fn range(param: &str, value: impl Into<i128>, min: Option<i64>, max: Option<i64>) -> Result<(), InvalidParam> {
    let value: i128 = value.into();
    if min.is_some_and(|m| value < i128::from(m)) || max.is_some_and(|m| value > i128::from(m)) {
        return Err(invalid(param, format!("{value} is outside {}", bounds(min, max))));
    }
    Ok(())
}

/// A number lies in `min..=max`.
pub fn range_f64(param: &str, value: f64, min: Option<i64>, max: Option<i64>) -> Result<(), InvalidParam> {
    if value.is_nan() || min.is_some_and(|m| value < m as f64) || max.is_some_and(|m| value > m as f64) {
        return Err(invalid(param, format!("{value} is outside {}", bounds(min, max))));
    }
    Ok(())
}

/// A duration is a whole number of its wire unit and lies in `min..=max` of
/// that unit.
pub fn duration(
    param: &str,
    value: std::time::Duration,
    unit: crate::duration::Unit,
    min: Option<i64>,
    max: Option<i64>,
) -> Result<(), InvalidParam> {
    let n = crate::duration::count(value, unit).map_err(|m| invalid(param, m))?;
    if min.is_some_and(|m| n < m as f64) || max.is_some_and(|m| n > m as f64) {
        return Err(invalid(param, format!("{value:?} is outside {} {}", bounds(min, max), unit.name())));
    }
    Ok(())
}

fn bounds(min: Option<i64>, max: Option<i64>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!("{a}..={b}"),
        (Some(a), None) => format!("{a}.."),
        (None, Some(b)) => format!("..={b}"),
        (None, None) => "any".into(),
    }
}

/// A string has at most `max` characters.
pub fn max_len(param: &str, value: &(impl AsRef<str> + ?Sized), max: usize) -> Result<(), InvalidParam> {
    let n = value.as_ref().chars().count();
    if n > max { Err(invalid(param, format!("{n} characters, at most {max} allowed"))) } else { Ok(()) }
}

fn names(set: &[(&str, bool)]) -> String {
    set.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

/// At most one of the parameters is set.
pub fn exclusive(set: &[(&str, bool)]) -> Result<(), InvalidParam> {
    let given: Vec<&str> = set.iter().filter(|(_, s)| *s).map(|(n, _)| *n).collect();
    if given.len() > 1 {
        return Err(invalid(&names(set), format!("at most one may be given, got {}", given.join(" and "))));
    }
    Ok(())
}

/// Exactly one of the parameters is set.
pub fn one_of(set: &[(&str, bool)]) -> Result<(), InvalidParam> {
    exclusive(set)?;
    at_least_one(set).map_err(|_| invalid(&names(set), "exactly one must be given, got none".into()))
}

/// At least one of the parameters is set.
pub fn at_least_one(set: &[(&str, bool)]) -> Result<(), InvalidParam> {
    if set.iter().any(|(_, s)| *s) { Ok(()) } else { Err(invalid(&names(set), "at least one must be given".into())) }
}

/// Repeatable parameters together have at most `max` values.
pub fn max_total(set: &[(&str, usize)], max: usize) -> Result<(), InvalidParam> {
    let total: usize = set.iter().map(|(_, n)| n).sum();
    if total > max {
        let names = set.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
        return Err(invalid(&names, format!("{total} values given together, at most {max} allowed")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert!(count("id", 100, 100).is_ok());
        assert_eq!(
            count("id", 101, 100).unwrap_err().to_string(),
            "invalid `id`: 101 values given, at most 100 allowed"
        );
        assert!(range("first", 0, Some(1), Some(100)).is_err());
        assert!(range("first", 100, Some(1), Some(100)).is_ok());
        assert!(range_f64("x", f64::NAN, None, None).is_err());
        assert!(max_len("message", "héllo", 5).is_ok());
        assert!(max_len("message", "héllo!", 5).is_err());
        assert!(exclusive(&[("a", true), ("b", false)]).is_ok());
        assert!(exclusive(&[("a", true), ("b", true)]).is_err());
        assert!(one_of(&[("a", false), ("b", false)]).is_err());
        assert!(one_of(&[("a", false), ("b", true)]).is_ok());
        assert!(at_least_one(&[("a", false), ("b", false)]).is_err());
        assert!(max_total(&[("id", 60), ("login", 41)], 100).is_err());
        assert!(max_total(&[("id", 60), ("login", 40)], 100).is_ok());
    }
}
