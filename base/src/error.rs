//! The errors of decoding and of checking parameters, and the body a
//! decode error keeps. The runtime's `Error` wraps them.

use std::fmt;

/// A body that did not decode into its type (an EventSub event, or a Helix
/// answer before the runtime adds what it knows of the call).
///
/// The runtime's `Error::Decode` holds the same fields; `From` converts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeError {
    /// Endpoint id, or `type vN` for EventSub events.
    pub endpoint: String,
    /// JSON path of the field that failed, e.g. `data[0].created_at`.
    pub path: String,
    /// What was wrong.
    pub message: String,
    /// The raw body, so nothing is lost (its `Debug` shows only the length).
    pub body: ResponseBody,
}

impl DecodeError {
    /// What failed where, in which body.
    pub fn new(endpoint: impl Into<String>, path: impl Into<String>, message: impl Into<String>, body: &[u8]) -> Self {
        Self { endpoint: endpoint.into(), path: path.into(), message: message.into(), body: ResponseBody::new(body) }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { endpoint, path, message, .. } = self;
        write!(f, "{endpoint}: cannot decode the response at `{path}`: {message}")
    }
}

impl std::error::Error for DecodeError {}

/// A body kept with a decode error, so nothing is lost.
///
/// Bodies can hold secrets (tokens from the identity service, stream keys,
/// extension secrets), so `Debug` shows only the length, and the values of
/// well-known secret fields ([`SECRET_FIELDS`]) are replaced with
/// `[redacted]` before the body is kept. [`as_str`](Self::as_str) reads
/// the rest.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ResponseBody(String);

/// JSON fields whose string values are never kept in a [`ResponseBody`].
pub const SECRET_FIELDS: &[&str] =
    &["access_token", "refresh_token", "id_token", "client_secret", "secret", "stream_key", "device_code"];

impl ResponseBody {
    /// Keep these bytes (invalid UTF-8 replaced), with secret fields scrubbed.
    pub fn new(bytes: &[u8]) -> Self {
        Self(scrub(&String::from_utf8_lossy(bytes)))
    }

    /// The body as kept.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Is it empty?
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for ResponseBody {
    fn from(s: &str) -> Self {
        Self::new(s.as_bytes())
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResponseBody(<{} bytes>)", self.0.len())
    }
}

impl PartialEq<str> for ResponseBody {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ResponseBody {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Replace the value after every `"<secret field>":` with `[redacted]`
/// (inside the quotes for a string). Textual, so it works on JSON that
/// does not parse (a body cut short), and keeps the rest as it was.
fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while let Some(quote) = rest.find('"') {
        out.push_str(&rest[..=quote]);
        rest = &rest[quote + 1..];
        for name in SECRET_FIELDS {
            let Some(after) = rest.strip_prefix(name).and_then(|r| r.strip_prefix('"')) else { continue };
            let Some(value) = after.trim_start().strip_prefix(':').map(str::trim_start) else { continue };
            if value.is_empty() {
                continue;
            }
            out.push_str(&rest[..rest.len() - value.len()]);
            match value.strip_prefix('"') {
                Some(inner) => {
                    out.push_str("\"[redacted]");
                    rest = &inner[string_end(inner)..];
                }
                None => {
                    out.push_str("[redacted]");
                    rest = &value[value_end(value)..];
                }
            }
            continue 'outer;
        }
    }
    out.push_str(rest);
    out
}

/// Where a JSON string's contents end (its closing quote, or the end).
fn string_end(s: &str) -> usize {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return i,
            _ => {}
        }
    }
    s.len()
}

/// Where a JSON value that is not a string ends: its matching bracket, or
/// the next `,`, `}` or `]` outside brackets and strings.
fn value_end(s: &str) -> usize {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(c) = s.get(i..).and_then(|r| r.chars().next()) {
        match c {
            // Past the string, onto its closing quote (skipped below).
            '"' => i += 1 + string_end(&s[i + 1..]),
            '{' | '[' => depth += 1,
            '}' | ']' if depth == 0 => return i,
            '}' | ']' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            ',' if depth == 0 => return i,
            _ => {}
        }
        i += s[i..].chars().next().map_or(1, char::len_utf8);
    }
    s.len()
}

/// A parameter that breaks a documented limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidParam {
    /// The parameter's wire name (or names, for rules over several).
    pub param: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for InvalidParam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid `{}`: {}", self.param, self.message)
    }
}

impl std::error::Error for InvalidParam {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_scrubbed_and_never_debugged() {
        let cases = [
            (r#"{"access_token":"abc","expires_in":"x"}"#, r#"{"access_token":"[redacted]","expires_in":"x"}"#),
            (r#"{ "refresh_token" : "a\"b", "n": 1 }"#, r#"{ "refresh_token" : "[redacted]", "n": 1 }"#),
            (r#"{"id_token":"cut short"#, r#"{"id_token":"[redacted]"#),
            (r#"{"data":[{"stream_key":"live_1"}]}"#, r#"{"data":[{"stream_key":"[redacted]"}]}"#),
            (r#"{"secret": 5, "access_token"}"#, r#"{"secret": [redacted], "access_token"}"#),
            (r#"{"access_token":{"a":["}",1]},"n":2}"#, r#"{"access_token":[redacted],"n":2}"#),
            (r#"{"access_token":["x","y"]}"#, r#"{"access_token":[redacted]}"#),
            (r#"{"access_token":123"#, r#"{"access_token":[redacted]"#),
            (r#"{"access_token":"#, r#"{"access_token":"#),
            (r#"{"access_token":["unterminated"#, r#"{"access_token":[redacted]"#),
            (r#"{"secret":[{"k":"v\"]"}"#, r#"{"secret":[redacted]"#),
            ("not json", "not json"),
            ("", ""),
            ("\"", "\""),
        ];
        for (raw, kept) in cases {
            let b = ResponseBody::new(raw.as_bytes());
            assert_eq!(b.as_str(), kept, "{raw}");
            assert_eq!(format!("{b:?}"), format!("ResponseBody(<{} bytes>)", kept.len()));
        }
    }
}
