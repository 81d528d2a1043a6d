//! A scripted HTTP/1.1 server for behaviour tests, on hyper.
//!
//! Every request is recorded and answered by a handler closure; hyper does
//! the protocol (keep-alive, chunked bodies, `Expect: 100-continue`). A
//! response with `Connection: close` closes its connection after it is
//! sent; a handler that panics yields a 500.
//!
//! ```ignore
//! mod support;
//! use support::{Response, TestServer};
//!
//! let server = TestServer::start(|req| match req.path.as_str() {
//!     "/helix/users" => Response::json(200, r#"{"data":[]}"#),
//!     _ => Response::empty(404),
//! })
//! .await;
//! // ... point a client at server.url() ...
//! assert_eq!(server.requests()[0].query_values("login"), ["twitchdev"]);
//! ```
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// Largest request body accepted.
const MAX_BODY: usize = 16 * 1024 * 1024;

type Handler = dyn Fn(&Request) -> Response + Send + Sync + 'static;

/// A running server. Dropping it stops it and closes its connections.
pub struct TestServer {
    /// The address it listens on (`127.0.0.1:PORT`).
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<Request>>>,
    task: JoinHandle<()>,
}

impl TestServer {
    /// Bind `127.0.0.1:0` and serve every connection; every request is
    /// answered by `handler`.
    pub async fn start(handler: impl Fn(&Request) -> Response + Send + Sync + 'static) -> TestServer {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let task = tokio::spawn(accept_loop(listener, handler, Arc::clone(&log)));
        TestServer { addr, log, task }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.log).clone()
    }

    /// How many requests were received so far.
    pub fn request_count(&self) -> usize {
        lock(&self.log).len()
    }

    /// Stop accepting and close every connection (dropping does the same).
    pub fn shutdown(&self) {
        self.task.abort();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer").field("addr", &self.addr).field("requests", &self.request_count()).finish()
    }
}

/// A request as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, without the query string, not decoded (e.g. `/helix/users`).
    pub path: String,
    /// Query pairs in order, percent-decoded (`+` is a space).
    pub query: Vec<(String, String)>,
    /// Headers in order, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Every value of a query parameter, in order.
    pub fn query_values(&self, name: &str) -> Vec<&str> {
        self.query.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// The first value of a query parameter.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (`Value::Null` when it is empty or not JSON).
    pub fn body_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers to send (`Content-Length` is always set by the server).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A JSON body with `Content-Type: application/json`.
    pub fn json(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// No body.
    pub fn empty(status: u16) -> Self {
        Self { status, headers: Vec::new(), body: Vec::new() }
    }

    /// A plain-text body.
    pub fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// Twitch's error shape: `{"error": ..., "status": ..., "message": ...}`.
    pub fn twitch_error(status: u16, message: &str) -> Self {
        let body = serde_json::json!({ "error": reason(status), "status": status, "message": message });
        Self::json(status, &body.to_string())
    }

    /// Add a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn accept_loop(listener: TcpListener, handler: Arc<Handler>, log: Arc<Mutex<Vec<Request>>>) {
    // Connections live in the set, so aborting this task closes them all.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let (handler, log) = (Arc::clone(&handler), Arc::clone(&log));
                    let service = hyper::service::service_fn(move |req| answer(req, Arc::clone(&handler), Arc::clone(&log)));
                    connections.spawn(async move {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .keep_alive(true)
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                // E.g. too many open files: wait a little rather than spin.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            },
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Record one request and answer it with the handler's response.
async fn answer(
    req: hyper::Request<Incoming>,
    handler: Arc<Handler>,
    log: Arc<Mutex<Vec<Request>>>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => return Ok(plain(Response::text(413, reason(413)))),
    };
    let request = Request {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parse_pairs(parts.uri.query().unwrap_or("")),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_ascii_lowercase(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body,
    };
    lock(&log).push(request.clone());
    let response = catch_unwind(AssertUnwindSafe(|| handler(&request)))
        .unwrap_or_else(|_| Response::text(500, "the test server's handler panicked"));
    Ok(plain(response))
}

fn plain(response: Response) -> hyper::Response<Full<Bytes>> {
    // Only final statuses; a 1xx from a handler would leave the client waiting.
    let status = hyper::StatusCode::from_u16(response.status)
        .ok()
        .filter(|s| !s.is_informational())
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = hyper::Response::new(Full::new(Bytes::from(response.body)));
    *out.status_mut() = status;
    for (k, v) in &response.headers {
        // hyper owns framing; `Connection: close` it honours.
        if ["content-length", "transfer-encoding"].iter().any(|h| k.eq_ignore_ascii_case(h)) {
            continue;
        }
        if let (Ok(name), Ok(value)) =
            (hyper::header::HeaderName::from_bytes(k.as_bytes()), hyper::header::HeaderValue::from_str(v))
        {
            out.headers_mut().append(name, value);
        }
    }
    out
}

/// A query string or form body into decoded pairs, with a decoder of the
/// tests' own (not the client's).
pub fn parse_pairs(s: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(s.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// The reason phrase of a status.
fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
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
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Twitch's rate-limit bucket (the mock's), answering like Helix: every
/// answer carries `Ratelimit-Limit`, `Ratelimit-Remaining` and `Ratelimit-Reset`.
pub struct TwitchBucket(twitch_mock::ratelimit::Bucket);

impl TwitchBucket {
    /// A full bucket of `capacity` points, full again `window` after empty.
    pub fn new(capacity: u32, window: std::time::Duration) -> Self {
        Self(twitch_mock::ratelimit::Bucket::new(capacity, window))
    }

    /// Take a point for one request: the response (200 with `ok_body`, or
    /// Twitch's 429) with the bucket's headers, and whether it was allowed.
    pub fn answer(&mut self, ok_body: &str) -> (bool, Response) {
        let t = self.0.take();
        let resp = if t.allowed {
            Response::json(200, ok_body)
        } else {
            Response::json(429, r#"{"error":"Too Many Requests","status":429,"message":"Too Many Requests"}"#)
        };
        let resp = resp
            .header("Ratelimit-Limit", t.limit.to_string())
            .header("Ratelimit-Remaining", t.remaining.to_string())
            .header("Ratelimit-Reset", t.reset.to_string());
        (t.allowed, resp)
    }
}

/// A server keeping Twitch's bucket that answers `{"data":[]}` while it has
/// points; the counter is the 429s it sent.
pub async fn bucket_server(
    capacity: u32,
    window: std::time::Duration,
) -> (TestServer, Arc<std::sync::atomic::AtomicUsize>) {
    let bucket = Mutex::new(TwitchBucket::new(capacity, window));
    let refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let r = refused.clone();
    let server = TestServer::start(move |_| {
        let (ok, resp) = lock(&bucket).answer(r#"{"data":[]}"#);
        if !ok {
            r.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        resp
    })
    .await;
    (server, refused)
}
