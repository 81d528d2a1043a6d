//! The HTTP/1.1 server (hyper) and routing by path prefix: `/helix`,
//! `/oauth2`, `/ws`, `/eventsub` (control).

use std::sync::Arc;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::state::Shared;

/// Largest request body read.
const MAX_BODY: usize = 1 << 20;

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

/// The error hyper sees when a fault drops a connection.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

/// Accept connections until the task is aborted (which closes them all).
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, Arc::clone(&shared)));
                }
                // E.g. too many open files: wait a little rather than spin.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |req| {
        let shared = Arc::clone(&shared);
        async move { route(shared, req).await }
    });
    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).with_upgrades().await;
}

async fn route(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Dropped> {
    let path = req.uri().path().to_owned();
    if path == "/ws" || path == "/ws/" {
        return Ok(to_hyper(crate::ws::upgrade(shared, req)));
    }
    let method = req.method().as_str().to_owned();
    let query = crate::util::parse_pairs(req.uri().query().unwrap_or(""));
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => return Ok(to_hyper(Resp::error(413, "The request body is too large"))),
    };
    let req = Req { method, path, query, headers: parts.headers, body };
    let outcome = if let Some(rest) = req.path.strip_prefix("/helix") {
        let rest = rest.to_owned();
        crate::helix::handle(&shared, &req, &rest).await
    } else if let Some(rest) = req.path.strip_prefix("/oauth2") {
        crate::oauth::handle(&shared, &req, rest).into()
    } else if let Some(rest) = req.path.strip_prefix("/eventsub") {
        crate::control::handle(&shared, &req, rest).into()
    } else if req.path == "/" {
        Resp::json(
            200,
            &json!({
                "helix": format!("{}/helix", shared.url()),
                "oauth2": format!("{}/oauth2", shared.url()),
                "eventsub_websocket": format!("ws://{}/ws", shared.addr),
                "control": format!("{}/eventsub", shared.url()),
            }),
        )
        .into()
    } else {
        Resp::error(404, "Not Found").into()
    };
    match outcome {
        Outcome::Answer(r) => Ok(to_hyper(r)),
        Outcome::Drop => Err(Dropped),
    }
}

fn to_hyper(r: Resp) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(r.status);
    for (k, v) in &r.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder.body(Full::new(Bytes::from(r.body))).unwrap_or_else(|_| {
        let mut resp = Response::new(Full::new(Bytes::from_static(b"internal error")));
        *resp.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        resp
    })
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
