//! Requests and responses as the handlers see them, and who sent a request:
//! what every handler shares, below all of them.

use hyper::HeaderMap;
use serde_json::{Value, json};

use crate::state::{Kind, User};

/// Largest request body read.
pub(crate) const MAX_BODY: usize = 1 << 20;

/// A request with its body read.
#[derive(Debug)]
pub(crate) struct Req {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Req {
    /// A header's value as text (first one).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every value of a query parameter.
    pub fn query_all(&self, name: &str) -> Vec<&str> {
        self.query.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// The first value of a query parameter.
    pub fn query_one(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The body as a form (`application/x-www-form-urlencoded`), falling back to the query.
    pub fn form(&self) -> Vec<(String, String)> {
        let mut pairs = crate::util::parse_pairs(&String::from_utf8_lossy(&self.body));
        pairs.extend(self.query.iter().cloned());
        pairs
    }
}

/// A response to send.
#[derive(Debug, Clone)]
pub(crate) struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    /// A JSON body.
    pub fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// No body.
    pub fn empty(status: u16) -> Self {
        Self { status, headers: Vec::new(), body: Vec::new() }
    }

    /// A text body.
    pub fn text(status: u16, content_type: &str, body: impl Into<String>) -> Self {
        Self { status, headers: vec![("Content-Type".into(), content_type.into())], body: body.into().into_bytes() }
    }

    /// Twitch's Helix error: `{"error": "Bad Request", "status": 400, "message": ...}`.
    pub fn error(status: u16, message: impl Into<String>) -> Self {
        Self::json(status, &json!({"error": reason(status), "status": status, "message": message.into()}))
    }

    /// The identity service's error: `{"status": 400, "message": ...}`.
    pub fn oauth_error(status: u16, message: impl Into<String>) -> Self {
        Self::json(status, &json!({"status": status, "message": message.into()}))
    }

    /// Add a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// What a handler decided: answer, or drop the connection without one.
pub(crate) enum Outcome {
    Answer(Resp),
    Drop,
}

impl From<Resp> for Outcome {
    fn from(r: Resp) -> Self {
        Outcome::Answer(r)
    }
}

/// The reason phrase Twitch puts in `error`.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        425 => "Too Early",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

/// Who sent a request, once the token checked out.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub client_id: String,
    /// `None` for an extension JWT.
    pub kind: Option<Kind>,
    pub user: Option<User>,
    /// The token's scopes (user tokens).
    pub scopes: Vec<String>,
}

impl Caller {
    /// The rate-limit bucket: client id plus user (the app's own bucket for app tokens).
    pub(crate) fn bucket_key(&self) -> String {
        match &self.user {
            Some(u) => format!("{}:{}", self.client_id, u.id),
            None => self.client_id.clone(),
        }
    }
}

/// The token of an `Authorization: OAuth <token>` or `Bearer <token>`
/// header; empty without one.
pub(crate) fn token_of(req: &Req) -> &str {
    let auth = req.header("authorization").unwrap_or("").trim();
    match auth.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("oauth") || scheme.eq_ignore_ascii_case("bearer") => t.trim(),
        _ => "",
    }
}
