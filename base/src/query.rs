//! Query strings and form bodies: encoding what we send, decoding what
//! comes back in redirects (and, in the mock and tests, what is sent).

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// A value that can stand in a query string.
pub trait ToQuery {
    /// The value as text, before percent-encoding.
    fn to_query(&self) -> Cow<'_, str>;
}

impl ToQuery for String {
    fn to_query(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl ToQuery for str {
    fn to_query(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

macro_rules! integer_query {
    ($($t:ty),*) => {$(
        impl ToQuery for $t {
            fn to_query(&self) -> Cow<'_, str> {
                Cow::Owned(self.to_string())
            }
        }
    )*};
}

integer_query!(i64, u8, u16, u32, u64);

impl ToQuery for f64 {
    fn to_query(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
}

impl ToQuery for bool {
    fn to_query(&self) -> Cow<'_, str> {
        Cow::Borrowed(if *self { "true" } else { "false" })
    }
}

/// Query parameters in the order they were added; names may repeat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(Cow<'static, str>, String)>,
}

impl Query {
    /// An empty query.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add one value.
    pub fn push<T: ToQuery + ?Sized>(&mut self, name: &'static str, value: &T) {
        self.pairs.push((Cow::Borrowed(name), value.to_query().into_owned()));
    }

    /// Add a value if there is one.
    pub fn push_opt<T: ToQuery>(&mut self, name: &'static str, value: Option<&T>) {
        if let Some(v) = value {
            self.push(name, v);
        }
    }

    /// The first value given for `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Add every value, each as its own `name=value` pair.
    pub fn push_all<T: ToQuery>(&mut self, name: &'static str, values: &[T]) {
        for v in values {
            self.push(name, v);
        }
    }

    /// Add a pair with a name known only at run time (raw requests).
    pub fn push_dynamic(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.pairs.push((Cow::Owned(name.into()), value.into()));
    }

    /// The pairs, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_ref(), v.as_str()))
    }

    /// No pairs at all.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// `a=1&b=x%20y`
    pub fn encode(&self) -> String {
        let mut out = String::new();
        for (i, (k, v)) in self.pairs.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            encode_into(&mut out, k);
            out.push('=');
            encode_into(&mut out, v);
        }
        out
    }
}

/// Everything but RFC 3986's unreserved characters is percent-encoded.
const ENCODED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn encode_into(out: &mut String, s: &str) {
    out.extend(utf8_percent_encode(s, ENCODED));
}

/// `%XX` and `+` decoding (query strings and form bodies); a malformed
/// escape is kept as it is, bytes that are not UTF-8 are replaced.
pub fn percent_decode(s: &str) -> String {
    // `+` is a space; `%2B` is a plus, so spaces go first.
    percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// `a=1&b=x%20y` into decoded pairs, in order; a name without `=` has an
/// empty value.
pub fn parse_pairs(s: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(s.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_forms() {
        assert_eq!(percent_decode("a%20b+c%zz%4"), "a b c%zz%4");
        assert_eq!(percent_decode("%C3%BC"), "ü");
        assert_eq!(
            parse_pairs("a=1&&b&c=x%3Dy"),
            [("a".into(), "1".into()), ("b".into(), String::new()), ("c".into(), "x=y".into())]
        );
    }

    #[test]
    fn encodes_and_repeats() {
        let mut q = Query::new();
        q.push_all("login", &["a b".to_owned(), "ü".to_owned()]);
        q.push_opt::<i64>("first", None);
        q.push("first", &20i64);
        assert_eq!(q.encode(), "login=a%20b&login=%C3%BC&first=20");
    }
}
