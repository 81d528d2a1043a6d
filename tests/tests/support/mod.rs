//! A tiny scripted HTTP/1.1 server for behaviour tests.
//!
//! Every request is recorded and answered by a handler closure. It speaks
//! just enough HTTP/1.1 for reqwest: keep-alive (several requests on one
//! connection), `Content-Length` and chunked request bodies,
//! `Expect: 100-continue`, and a `Content-Length` on every response. Bad
//! input closes the connection; nothing here panics on what a client sends.
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

use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// Longest request head (request line plus headers) accepted.
const MAX_HEAD: usize = 64 * 1024;
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
    /// answered by `handler`. A handler that panics yields a 500.
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
    /// Headers to send (`Content-Length` is always added by the server).
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
                    connections.spawn(serve(stream, Arc::clone(&handler), Arc::clone(&log)));
                }
                // E.g. too many open files: wait a little rather than spin.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            },
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Serve requests on one connection until it closes or misbehaves.
async fn serve(stream: TcpStream, handler: Arc<Handler>, log: Arc<Mutex<Vec<Request>>>) {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let parsed = match read_request(&mut reader, &mut write).await {
            Ok(Some(p)) => p,
            // Clean close between requests.
            Ok(None) => return,
            Err(status) => {
                let _ = write_response(&mut write, "GET", &Response::text(status, reason(status)), false).await;
                return;
            }
        };
        lock(&log).push(parsed.request.clone());
        let response = catch_unwind(AssertUnwindSafe(|| handler(&parsed.request)))
            .unwrap_or_else(|_| Response::text(500, "the test server's handler panicked"));
        let keep_alive = parsed.keep_alive
            && !response
                .headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close"));
        if write_response(&mut write, &parsed.request.method, &response, keep_alive).await.is_err() || !keep_alive {
            return;
        }
    }
}

struct Parsed {
    request: Request,
    keep_alive: bool,
}

/// Read one request. `Ok(None)`: the peer closed before sending anything.
/// `Err(status)`: answer with this status and close.
async fn read_request<R, W>(reader: &mut R, write: &mut W) -> Result<Option<Parsed>, u16>
where
    R: AsyncBufReadExt + Unpin,
    W: AsyncWriteExt + Unpin,
{
    // Request line, skipping stray empty lines between requests (RFC 9112 2.2).
    let mut head_len = 0usize;
    let request_line = loop {
        match read_line(reader, &mut head_len).await? {
            None => return Ok(None),
            Some(line) if line.is_empty() => continue,
            Some(line) => break line,
        }
    };
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(400);
    };
    let method_ok = method.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    let target_ok = target.starts_with('/') || target.contains("://") || target == "*";
    if !method_ok || !target_ok || !version.starts_with("HTTP/1.") {
        return Err(400);
    }
    let method = method.to_owned();
    let http10 = version == "HTTP/1.0";

    let mut headers = Vec::new();
    loop {
        let Some(line) = read_line(reader, &mut head_len).await? else { return Err(400) };
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else { return Err(400) };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let get = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());

    let connection = get("connection").map(str::to_ascii_lowercase).unwrap_or_default();
    let keep_alive = if http10 { connection.contains("keep-alive") } else { !connection.contains("close") };

    if get("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        write.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await.map_err(|_| 400u16)?;
        let _ = write.flush().await;
    }

    let chunked = get("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        read_chunked(reader, &mut head_len).await?
    } else if let Some(len) = get("content-length") {
        let len: usize = len.parse().map_err(|_| 400u16)?;
        if len > MAX_BODY {
            return Err(413);
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).await.map_err(|_| 400u16)?;
        body
    } else {
        Vec::new()
    };

    // Origin form `/p?q`, or absolute form `http://host/p?q`.
    let target = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    let target = target.split('#').next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = parse_pairs(query);

    Ok(Some(Parsed { request: Request { method, path: path.to_owned(), query, headers, body }, keep_alive }))
}

/// One CRLF- (or LF-) terminated line of the head, without the terminator.
/// `Ok(None)` at end of stream before any byte.
async fn read_line<R: AsyncBufReadExt + Unpin>(reader: &mut R, head_len: &mut usize) -> Result<Option<String>, u16> {
    let mut buf = Vec::new();
    let limit = (MAX_HEAD.saturating_sub(*head_len) + 1) as u64;
    let n = (&mut *reader).take(limit).read_until(b'\n', &mut buf).await.map_err(|_| 400u16)?;
    if n == 0 {
        return if *head_len == 0 { Ok(None) } else { Err(400) };
    }
    *head_len += n;
    if *head_len > MAX_HEAD {
        return Err(431);
    }
    if buf.last() != Some(&b'\n') {
        // The peer closed in the middle of a line.
        return Err(400);
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

/// A `Transfer-Encoding: chunked` body; trailers are read and dropped.
async fn read_chunked<R: AsyncBufReadExt + Unpin>(reader: &mut R, head_len: &mut usize) -> Result<Vec<u8>, u16> {
    let mut body = Vec::new();
    loop {
        // Chunk sizes and trailers count against the head limit too.
        let Some(line) = read_line(reader, head_len).await? else { return Err(400) };
        let size = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| 400u16)?;
        if size == 0 {
            loop {
                match read_line(reader, head_len).await? {
                    Some(l) if !l.is_empty() => continue,
                    _ => return Ok(body),
                }
            }
        }
        if body.len().saturating_add(size) > MAX_BODY {
            return Err(413);
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).await.map_err(|_| 400u16)?;
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf).await.map_err(|_| 400u16)?;
        if &crlf != b"\r\n" {
            return Err(400);
        }
    }
}

async fn write_response<W: AsyncWriteExt + Unpin>(
    write: &mut W,
    method: &str,
    response: &Response,
    keep_alive: bool,
) -> std::io::Result<()> {
    // Only final statuses; a 1xx from a handler would leave the client waiting.
    let status = if (200..=999).contains(&response.status) { response.status } else { 500 };
    let mut head = format!("HTTP/1.1 {} {}\r\n", status, reason(status));
    for (k, v) in &response.headers {
        // The server owns framing and connection handling.
        if ["content-length", "transfer-encoding", "connection"].iter().any(|h| k.eq_ignore_ascii_case(h)) {
            continue;
        }
        // Keep a header from smuggling in extra lines.
        if k.contains(['\r', '\n', ':']) || v.contains(['\r', '\n']) {
            continue;
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    // 204 carries no Content-Length; HEAD and 304 announce the length
    // without sending the body.
    let bodiless_status = status == 204;
    let send_body = !(bodiless_status || status == 304 || method.eq_ignore_ascii_case("HEAD"));
    if !bodiless_status {
        head.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    }
    head.push_str(if keep_alive { "Connection: keep-alive\r\n" } else { "Connection: close\r\n" });
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    if send_body {
        out.extend_from_slice(&response.body);
    }
    write.write_all(&out).await?;
    write.flush().await
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
