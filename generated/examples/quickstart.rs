//! A tour of the `twitch` crate: look users up, walk paginated live streams,
//! see a documented limit caught before anything is sent, use the raw escape
//! hatch, handle Twitch's errors and decode an EventSub notification.
//!
//! ```text
//! cargo run -p twitch --example quickstart
//! ```
//!
//! It runs offline: a small HTTP server inside this program plays Twitch,
//! answering every Helix endpoint of the schema with Twitch's own example
//! response (paginated endpoints get three pages). With `TWITCH_CLIENT_ID`
//! and `TWITCH_APP_TOKEN` set, the same calls go to the real Twitch instead.

use std::error::Error;

/// How many live streams to walk at most (Twitch has far more than that).
const MAX_STREAMS: usize = 60;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let credentials = match (std::env::var("TWITCH_CLIENT_ID"), std::env::var("TWITCH_APP_TOKEN")) {
        (Ok(id), Ok(token)) if !id.is_empty() && !token.is_empty() => Some((id, token)),
        _ => None,
    };

    // 1. A client: a client id, a token and (for the mock) where Helix lives.
    let (client, mock) = match credentials {
        Some((id, token)) => {
            println!("TWITCH_CLIENT_ID and TWITCH_APP_TOKEN are set: talking to the real Twitch.");
            (twitch::Client::builder().client_id(id).app_token(token).build()?, None)
        }
        None => {
            let mock = mock::MockTwitch::start().await?;
            println!("No TWITCH_CLIENT_ID / TWITCH_APP_TOKEN set: Twitch is played by a local mock");
            println!("at {}, which answers with the examples from Twitch's reference.", mock.url());
            let client = twitch::Client::builder()
                .client_id("quickstart-client-id")
                .app_token("quickstart-app-token")
                .helix_url(format!("{}/helix", mock.url()))
                .build()?;
            (client, Some(mock))
        }
    };
    // Its Debug output never shows the token.
    println!("Client ready: {client:?}");

    // 2. A plain request: required parameters are arguments, optional ones setters.
    section("Looking up users");
    let users = client.get_users().login("twitchdev").send().await?;
    for user in &users {
        println!(
            "{} (login `{}`, id {}) is a {} broadcaster, on Twitch since {}.",
            user.display_name,
            user.login,
            user.id,
            if user.broadcaster_type.as_str().is_empty() { "regular" } else { user.broadcaster_type.as_str() },
            user.created_at,
        );
        println!("  \"{}\"", user.description);
    }

    // 3. Pagination: one item at a time; pages are fetched as needed.
    section("Walking live streams, 20 per page");
    let mut live = client.get_streams().first(20).paginate();
    let mut seen = 0;
    while let Some(stream) = live.try_next().await? {
        seen += 1;
        println!(
            "  page {}: {} plays {} for {} viewers: \"{}\"",
            live.pages_fetched(),
            stream.user_name,
            stream.game_name,
            stream.viewer_count,
            stream.title,
        );
        if seen == MAX_STREAMS {
            println!("  ... stopping after {MAX_STREAMS} streams.");
            break;
        }
    }
    println!("{seen} streams on {} pages.", live.pages_fetched());
    if mock.is_some() {
        println!("(The mock serves Twitch's one example stream on each page.)");
    }

    // 4. Documented limits are checked before anything goes on the wire.
    section("Breaking a documented limit");
    let sent_before = mock.as_ref().map(|m| m.requests());
    match client.get_users().ids((0..101).map(|i| i.to_string())).send().await {
        Err(twitch::Error::InvalidRequest { endpoint, source }) => {
            println!("Asking for 101 users fails at once: {endpoint}: {source}");
        }
        other => return Err(format!("expected Error::InvalidRequest, got {other:?}").into()),
    }
    if let (Some(mock), Some(before)) = (&mock, sent_before) {
        println!("The server saw {} new requests: nothing was sent.", mock.requests() - before);
    }

    // 5. The escape hatch: any path, same credentials and errors, any JSON.
    section("The raw escape hatch");
    let value =
        client.raw(twitch::Method::Get, "/users").query("login", "twitchdev").send::<serde_json::Value>().await?;
    println!(
        "GET /users?login=twitchdev as plain JSON: display_name = {}, {} fields in all.",
        value["data"][0]["display_name"],
        value["data"][0].as_object().map_or(0, |o| o.len()),
    );

    // 6. What Twitch says when it says no.
    section("When Twitch says no");
    match client.raw(twitch::Method::Get, "/no-such-endpoint").send::<serde_json::Value>().await {
        Err(twitch::Error::Api { status, error, message, .. }) => {
            println!("An unknown path: {status} {error}: {message}");
        }
        other => return Err(format!("expected Error::Api, got {other:?}").into()),
    }
    let anonymous = twitch::Client::builder().client_id(client.client_id()).helix_url(client.helix_url()).build()?;
    match anonymous.raw(twitch::Method::Get, "/users").query("login", "twitchdev").send::<serde_json::Value>().await {
        Err(e @ twitch::Error::Unauthorized { .. }) => println!("Without a token: {e}"),
        other => return Err(format!("expected Error::Unauthorized, got {other:?}").into()),
    }

    // 7. EventSub: a notification payload decodes into the typed `Event`.
    section("Decoding an EventSub notification");
    let follow = twitch::meta::subscription("channel.follow", "2").ok_or("channel.follow v2 is not in the schema")?;
    let payload = follow.example.ok_or("channel.follow v2 has no example")?;
    let notification = twitch::decode_notification(payload)?;
    println!(
        "Subscription {} ({} v{}, {}):",
        notification.subscription.id,
        notification.subscription.subscription_type,
        notification.subscription.version,
        notification.subscription.status,
    );
    match &notification.event {
        twitch::Event::ChannelFollowV2(e) => {
            println!("  {} started following {} at {}.", e.user_name, e.broadcaster_user_name, e.followed_at);
        }
        other => println!("  an event of type {} v{}", other.subscription_type(), other.version()),
    }

    section("Done");
    if let Some(mock) = mock {
        let handled = mock.shutdown().await;
        println!("The mock server answered {handled} requests and has shut down.");
    }
    println!("That's the tour. Every endpoint is a method on `twitch::Client`; see the docs for more.");
    Ok(())
}

fn section(title: &str) {
    println!("\n== {title} ==");
}

/// A stand-in for Twitch's Helix API, good enough for this tour. It answers
/// with the example responses of `twitch::meta::endpoints()`.
mod mock {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::task::{JoinHandle, JoinSet};

    /// Longest request line or header line accepted.
    const MAX_LINE: u64 = 16 * 1024;

    pub struct MockTwitch {
        url: String,
        requests: Arc<AtomicUsize>,
        task: JoinHandle<()>,
    }

    impl MockTwitch {
        /// Listen on a free port of 127.0.0.1.
        pub async fn start() -> std::io::Result<Self> {
            let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
            let url = format!("http://{}", listener.local_addr()?);
            let requests = Arc::new(AtomicUsize::new(0));
            let task = tokio::spawn(accept(listener, Arc::clone(&requests)));
            Ok(Self { url, requests, task })
        }

        /// `http://127.0.0.1:PORT`
        pub fn url(&self) -> &str {
            &self.url
        }

        /// How many requests it has answered.
        pub fn requests(&self) -> usize {
            self.requests.load(Ordering::SeqCst)
        }

        /// Stop listening and close every connection; returns the request count.
        pub async fn shutdown(self) -> usize {
            self.task.abort();
            let _ = self.task.await;
            self.requests.load(Ordering::SeqCst)
        }
    }

    async fn accept(listener: TcpListener, requests: Arc<AtomicUsize>) {
        // Connections live in the set: aborting this task closes them too.
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    if let Ok((stream, _)) = accepted {
                        connections.spawn(serve(stream, Arc::clone(&requests)));
                    }
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    }

    struct Request {
        method: String,
        path: String,
        query: Vec<(String, String)>,
        headers: Vec<(String, String)>,
    }

    impl Request {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
        }

        fn query(&self, name: &str) -> Option<&str> {
            self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
        }
    }

    /// Answer request after request on one connection (HTTP keep-alive).
    async fn serve(stream: TcpStream, requests: Arc<AtomicUsize>) {
        let (read, mut write) = stream.into_split();
        let mut reader = BufReader::new(read);
        while let Some(request) = read_request(&mut reader).await {
            let (status, body) = answer(&request);
            requests.fetch_add(1, Ordering::SeqCst);
            let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
            if status != 204 {
                head.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
            }
            head.push_str("\r\n");
            let response = [head.into_bytes(), body.into_bytes()].concat();
            if write.write_all(&response).await.is_err() {
                return;
            }
        }
    }

    /// One request, or `None` when the connection closed or sent nonsense.
    async fn read_request<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> Option<Request> {
        let request_line = read_line(reader).await?;
        let mut parts = request_line.split_whitespace();
        let method = parts.next()?.to_owned();
        let target = parts.next()?;
        let mut headers = Vec::new();
        loop {
            let line = read_line(reader).await?;
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':')?;
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
            if headers.len() > 100 {
                return None;
            }
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let query = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect();
        let request = Request { method, path: path.to_owned(), query, headers };
        // The mock ignores bodies, but must read them to find the next request.
        let length: u64 = request.header("content-length").map_or(Some(0), |v| v.parse().ok())?;
        let skipped = tokio::io::copy(&mut (&mut *reader).take(length), &mut tokio::io::sink()).await.ok()?;
        (skipped == length).then_some(request)
    }

    /// A line without its CRLF; `None` at the end of the stream or on a line too long.
    async fn read_line<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> Option<String> {
        let mut line = Vec::new();
        (&mut *reader).take(MAX_LINE).read_until(b'\n', &mut line).await.ok()?;
        let line = line.strip_suffix(b"\n")?;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Some(String::from_utf8_lossy(line).into_owned())
    }

    fn percent_decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
            match (bytes[i], hex(i + 1), hex(i + 2)) {
                (b'%', Some(hi), Some(lo)) => {
                    out.push((hi * 16 + lo) as u8);
                    i += 3;
                }
                (b'+', _, _) => {
                    out.push(b' ');
                    i += 1;
                }
                (b, _, _) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Status and body for one request.
    fn answer(request: &Request) -> (u16, String) {
        if request.header("client-id").is_none_or(|id| id.trim().is_empty()) {
            return error(401, "Client ID is missing");
        }
        let bearer = request.header("authorization").and_then(|v| v.strip_prefix("Bearer "));
        if bearer.is_none_or(|token| token.trim().is_empty()) {
            return error(401, "OAuth token is missing");
        }
        let endpoint = request.path.strip_prefix("/helix").and_then(|path| {
            twitch::meta::endpoints().into_iter().find(|e| e.method.as_str() == request.method && e.path == path)
        });
        let Some(endpoint) = endpoint else {
            return error(404, &format!("no endpoint {} {}", request.method, request.path));
        };
        let Some(example) = endpoint.example_response else {
            return (endpoint.success_status, String::new());
        };
        if !endpoint.paginated {
            return (endpoint.success_status, example.to_owned());
        }
        // Three pages: the first two point at the next, the last has no cursor.
        let page = match request.query("after") {
            None => 1,
            Some("page-1") => 2,
            Some("page-2") => 3,
            Some(other) => return error(400, &format!("unknown cursor `{other}`")),
        };
        let Ok(serde_json::Value::Object(mut json)) = serde_json::from_str(example) else {
            return error(500, "the schema's example response is not a JSON object");
        };
        let pagination = match page {
            3 => serde_json::json!({}),
            n => serde_json::json!({ "cursor": format!("page-{n}") }),
        };
        json.insert("pagination".to_owned(), pagination);
        (endpoint.success_status, serde_json::Value::Object(json).to_string())
    }

    /// Twitch's error shape.
    fn error(status: u16, message: &str) -> (u16, String) {
        let body = serde_json::json!({ "error": reason(status), "status": status, "message": message });
        (status, body.to_string())
    }

    fn reason(status: u16) -> &'static str {
        match status {
            200 => "OK",
            201 => "Created",
            202 => "Accepted",
            204 => "No Content",
            400 => "Bad Request",
            401 => "Unauthorized",
            404 => "Not Found",
            _ => "Internal Server Error",
        }
    }
}
