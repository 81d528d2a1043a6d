//! The local Twitch (`twitch-mock`): every Helix endpoint with Twitch's
//! example requests, our generated client against it, the rate limit,
//! OAuth flows, the EventSub WebSocket protocol, conduits, the control API
//! and injected faults. Everything runs on 127.0.0.1.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use twitch::{Error, TokenKind};
use twitch_mock::{Fault, Mock, MockServer, NewPowerUp, TriggerOptions};

/// Hang guard for anything awaited; never an assertion about speed.
const GUARD: Duration = Duration::from_secs(60);

// The example cases generated from the schema (see tests/build.rs).
#[allow(dead_code)] // the builders' output is compared in tests/examples.rs, not here
#[path = "support/example_requests.rs"]
mod examples;

// ---------------------------------------------------------------------------
// Helpers

/// A plain HTTP client that does not follow redirects. One for all tests
/// (building one is slow); without a connection pool, since every test has
/// its own runtime and pooled connections belong to the runtime that made them.
fn http() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            // On the library's TLS stack: nothing process-wide is installed.
            twitch::__rt::tls::client_builder()
                .expect("TLS setup")
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(0)
                .build()
                .expect("reqwest client")
        })
        .clone()
}

fn query_string(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// A Helix request by hand.
struct Call {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Value>,
}

/// Status, headers and JSON body (`Null` when empty or not JSON).
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
    text: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<u64> {
        self.headers.get(name)?.to_str().ok()?.parse().ok()
    }
}

async fn send(mock: &MockServer, call: &Call, token: Option<&str>) -> Answer {
    send_as(mock, call, token, Some(&mock.client_id())).await
}

async fn send_as(mock: &MockServer, call: &Call, token: Option<&str>, client_id: Option<&str>) -> Answer {
    let mut url = format!("{}{}", mock.helix_url(), call.path);
    if !call.query.is_empty() {
        url = format!("{url}?{}", query_string(&call.query));
    }
    let method = reqwest::Method::from_bytes(call.method.as_bytes()).expect("method");
    let mut req = http().request(method, url);
    if let Some(id) = client_id {
        req = req.header("Client-Id", id);
    }
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    if let Some(b) = &call.body {
        req = req.header("Content-Type", "application/json").body(b.to_string());
    }
    let resp = tokio::time::timeout(GUARD, req.send()).await.expect("hang guard").expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer { status, headers, body, text }
}

fn get(path: &str, query: &[(&str, &str)]) -> Call {
    Call {
        method: "GET".into(),
        path: path.into(),
        query: query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        body: None,
    }
}

fn call(method: &str, path: &str, query: &[(&str, &str)], body: Option<Value>) -> Call {
    Call { method: method.into(), ..get(path, query) }.with_body(body)
}

impl Call {
    fn with_body(mut self, body: Option<Value>) -> Self {
        self.body = body;
        self
    }
}

/// A POST to the control API; the JSON answer.
async fn control(mock: &MockServer, path: &str, body: Value) -> (u16, Value) {
    let resp = tokio::time::timeout(GUARD, http().post(format!("{}{path}", mock.url())).json_body(&body).send())
        .await
        .expect("hang guard")
        .expect("control request");
    let status = resp.status().as_u16();
    (status, serde_json::from_str(&resp.text().await.unwrap_or_default()).unwrap_or(Value::Null))
}

trait JsonBody {
    fn json_body(self, v: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, v: &Value) -> Self {
        self.header("Content-Type", "application/json").body(v.to_string())
    }
}

/// One scope of every group: enough for the endpoint.
fn scopes_for(meta: &twitch::EndpointMeta) -> Vec<&'static str> {
    meta.scopes.iter().filter_map(|g| g.first().copied()).collect()
}

/// A JWT-shaped token; the mock checks the shape of extension JWTs, not signatures.
const FAKE_JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiMSIsInJvbGUiOiJleHRlcm5hbCJ9.c2lnbmF0dXJl";

type Ws = WebSocketStream<TcpStream>;

async fn ws_connect(url: &str) -> Ws {
    let authority = url.trim_start_matches("ws://").split('/').next().unwrap().to_owned();
    let tcp = TcpStream::connect(authority).await.expect("tcp connect");
    let (ws, _) = tokio::time::timeout(GUARD, tokio_tungstenite::client_async(url, tcp))
        .await
        .expect("hang guard")
        .expect("websocket handshake");
    ws
}

/// What the server sent next: a JSON text message, or the close code.
#[derive(Debug)]
enum Frame {
    Json(Value),
    Closed(Option<u16>),
}

async fn next_frame(ws: &mut Ws) -> Frame {
    loop {
        match tokio::time::timeout(GUARD, ws.next()).await.expect("hang guard: no message from the server") {
            Some(Ok(Message::Text(t))) => return Frame::Json(serde_json::from_str(&t).expect("JSON message")),
            Some(Ok(Message::Close(frame))) => return Frame::Closed(frame.map(|f| u16::from(f.code))),
            Some(Ok(_)) => continue,
            None | Some(Err(_)) => return Frame::Closed(None),
        }
    }
}

/// The next message that is not a keepalive.
async fn next_message(ws: &mut Ws) -> Value {
    loop {
        match next_frame(ws).await {
            Frame::Json(v) if v["metadata"]["message_type"] == "session_keepalive" => continue,
            Frame::Json(v) => return v,
            Frame::Closed(code) => panic!("the connection closed ({code:?}) while a message was expected"),
        }
    }
}

/// Read (skipping keepalives) until the server closes; the close code.
async fn close_code(ws: &mut Ws) -> Option<u16> {
    loop {
        match next_frame(ws).await {
            Frame::Json(v) if v["metadata"]["message_type"] == "session_keepalive" => continue,
            Frame::Json(v) => panic!("expected a close, got {v}"),
            Frame::Closed(code) => return code,
        }
    }
}

/// Connect and read the welcome; the socket and the session id.
async fn session(url: &str) -> (Ws, String) {
    let mut ws = ws_connect(url).await;
    let welcome = next_message(&mut ws).await;
    assert_eq!(welcome["metadata"]["message_type"], "session_welcome", "{welcome}");
    let id = welcome["payload"]["session"]["id"].as_str().expect("session id").to_owned();
    (ws, id)
}

/// Subscribe a WebSocket session through raw Helix; the subscription id.
async fn subscribe(
    mock: &MockServer,
    token: &str,
    sub_type: &str,
    version: &str,
    condition: Value,
    session: &str,
) -> String {
    let body = json!({"type": sub_type, "version": version, "condition": condition,
        "transport": {"method": "websocket", "session_id": session}});
    let a = send(mock, &call("POST", "/eventsub/subscriptions", &[], Some(body)), Some(token)).await;
    assert_eq!(a.status, 202, "{}", a.text);
    a.body["data"][0]["id"].as_str().unwrap().to_owned()
}

async fn start(mock: Mock) -> MockServer {
    mock.start().await.expect("start the mock")
}

fn client_for(mock: &MockServer, token: &str, user: bool) -> twitch::Client {
    let b = twitch::Client::builder().client_id(mock.client_id()).helix_url(mock.helix_url()).auth_url(mock.auth_url());
    let b = if user { b.user_token(token) } else { b.app_token(token) };
    b.build().expect("client")
}

// ---------------------------------------------------------------------------
// Every endpoint

/// Endpoints whose Twitch reference has no example request; the test sends
/// its own request built from the documented parameters.
fn own_request(id: &str) -> Option<Call> {
    match id {
        "create-clip-from-vod" => Some(call(
            "POST",
            "/videos/clips",
            &[
                ("editor_id", "141981764"),
                ("broadcaster_id", "141981764"),
                ("vod_id", "123"),
                ("vod_offset", "120"),
                ("title", "clip"),
            ],
            None,
        )),
        _ => None,
    }
}

/// The token an endpoint's request goes out with: a user token with the
/// endpoint's scopes if it takes user tokens, else an app token, else a JWT.
fn token_for(
    mock: &MockServer,
    meta: &twitch::EndpointMeta,
    query: &[(String, String)],
    body: Option<&Value>,
) -> String {
    // Create EventSub Subscription: WebSocket needs a user token, webhook and conduit an app token.
    if meta.id == "create-eventsub-subscription" {
        let method = body.and_then(|b| b["transport"]["method"].as_str()).unwrap_or("");
        return if method == "websocket" {
            mock.mint_user_token("141981764", "twitchdev", &[])
        } else {
            mock.mint_app_token(&mock.client_id())
        };
    }
    // Twitch's example sets for_source_only, which only an app token may,
    // sending as a user who granted the app what it needs.
    if meta.id == "send-chat-message" && body.is_some_and(|b| !b["for_source_only"].is_null()) {
        let sender = body.and_then(|b| b["sender_id"].as_str()).unwrap_or_default();
        mock.grant_scopes(sender, &["user:write:chat", "user:bot"]);
        return mock.mint_app_token(&mock.client_id());
    }
    // The test deletes a webhook subscription, which belongs to the app.
    if meta.id == "delete-eventsub-subscription" {
        return mock.mint_app_token(&mock.client_id());
    }
    // Twitch's example names another user's entitlements, which only an app token may.
    if meta.id == "get-drops-entitlements" {
        return mock.mint_app_token(&mock.client_id());
    }
    // An endpoint that acts as the user in a parameter takes that user's token.
    let named = meta.token_user.and_then(|p| {
        query.iter().find(|(k, _)| k == p).map(|(_, v)| v.clone()).or_else(|| body?[p].as_str().map(str::to_owned))
    });
    if meta.tokens.contains(&TokenKind::User) {
        match named {
            Some(user) => mock.mint_user_token(&user, &format!("user{user}"), &scopes_for(meta)),
            None => mock.mint_user_token("141981764", "twitchdev", &scopes_for(meta)),
        }
    } else if meta.tokens.contains(&TokenKind::App) {
        mock.mint_app_token(&mock.client_id())
    } else {
        FAKE_JWT.to_owned()
    }
}

/// Twitch's Guest Star examples name its example session: end the
/// channel's session, start a new one in its place, and bring the
/// example's guest (144601104 where the example names none) as far as the
/// example needs: invited, or ready, or in slot 1.
async fn guest_star_stage(mock: &MockServer, id: &str, c: &mut Call) {
    const EXAMPLE_SESSION: &str = "2KFRQbFtpmfyD3IevNRnCzOPRJI";
    let q = |k: &str| c.query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let broadcaster = q("broadcaster_id").expect("a broadcaster");
    let guest = q("guest_id").unwrap_or_else(|| "144601104".to_owned());
    let t = mock.mint_user_token("141981764", "twitchdev", &["channel:manage:guest_star"]);
    let b = broadcaster.as_str();
    let current =
        send(mock, &get("/guest_star/session", &[("broadcaster_id", b), ("moderator_id", b)]), Some(&t)).await;
    if let Some(old) = current.body["data"][0]["id"].as_str().filter(|s| *s != EXAMPLE_SESSION) {
        let end = call("DELETE", "/guest_star/session", &[("broadcaster_id", b), ("session_id", old)], None);
        assert_eq!(send(mock, &end, Some(&t)).await.status, 200);
    }
    let created = send(mock, &call("POST", "/guest_star/session", &[("broadcaster_id", b)], None), Some(&t)).await;
    assert_eq!(created.status, 200, "{}", created.text);
    let session = created.body["data"][0]["id"].as_str().expect("a session id").to_owned();
    substitute(c, EXAMPLE_SESSION, &session);
    let step = |path: &str, extra: &[(&str, &str)]| {
        let mut query = vec![("broadcaster_id", b), ("moderator_id", b), ("session_id", session.as_str())];
        query.extend_from_slice(extra);
        call("POST", path, &query, None)
    };
    let stage = match id {
        "delete-guest-star-invite" => 1,
        "assign-guest-star-slot" => 2,
        "update-guest-star-slot" | "delete-guest-star-slot" | "update-guest-star-slot-settings" => 3,
        _ => 0,
    };
    if stage >= 1 {
        let invited = send(mock, &step("/guest_star/invites", &[("guest_id", &guest)]), Some(&t)).await;
        assert_eq!(invited.status, 204, "{}", invited.text);
    }
    if stage >= 2 {
        mock.guest_star_invite_status(b, &guest, "READY").expect("ready");
    }
    if stage >= 3 {
        let seated = send(mock, &step("/guest_star/slot", &[("guest_id", &guest), ("slot_id", "1")]), Some(&t)).await;
        assert_eq!(seated.status, 204, "{}", seated.text);
    }
}

/// For an update or delete example of something the mock keeps (rewards,
/// polls, predictions, schedule segments, blocked terms): create one in the
/// example's channel and answer its id.
async fn own_item(mock: &MockServer, id: &str, c: &Call) -> Option<String> {
    let q = |k: &str| c.query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let b = |k: &str| c.body.as_ref().and_then(|b| b[k].as_str()).unwrap_or("").to_owned();
    let (path, query, body, scope): (&str, Vec<(&str, String)>, Value, &str) = match id {
        "update-custom-reward" | "delete-custom-reward" => (
            "/channel_points/custom_rewards",
            vec![("broadcaster_id", q("broadcaster_id"))],
            json!({"title": format!("own {}", c.method), "cost": 1}),
            "channel:manage:redemptions",
        ),
        "remove-blocked-term" => (
            "/moderation/blocked_terms",
            vec![("broadcaster_id", q("broadcaster_id")), ("moderator_id", q("moderator_id"))],
            json!({"text": "own term"}),
            "moderator:manage:blocked_terms",
        ),
        "end-poll" => (
            "/polls",
            vec![],
            json!({"broadcaster_id": b("broadcaster_id"), "title": "own", "choices": [{"title": "a"}, {"title": "b"}], "duration": 60}),
            "channel:manage:polls",
        ),
        "end-prediction" => (
            "/predictions",
            vec![],
            json!({"broadcaster_id": b("broadcaster_id"), "title": "own", "outcomes": [{"title": "a"}, {"title": "b"}], "prediction_window": 60}),
            "channel:manage:predictions",
        ),
        "update-channel-stream-schedule-segment" | "delete-channel-stream-schedule-segment" => (
            "/schedule/segment",
            vec![("broadcaster_id", q("broadcaster_id"))],
            json!({"start_time": "2030-01-01T18:00:00Z", "timezone": "America/New_York", "duration": "60", "title": "own"}),
            "channel:manage:schedule",
        ),
        _ => return None,
    };
    let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // Blocked terms are added as the example's moderator, whose token it must be.
    let user = query.iter().find(|(k, _)| *k == "moderator_id").map_or("141981764", |(_, v)| *v);
    let token = mock.mint_user_token(user, "owner", &[scope]);
    let a = send(mock, &call("POST", path, &query, Some(body)), Some(&token)).await;
    assert_eq!(a.status, 200, "{id}: creating our own: {}", a.text);
    let data = &a.body["data"];
    let item = if data.is_array() { &data[0] } else { &data["segments"][0] };
    Some(item["id"].as_str().expect("an id").to_owned())
}

/// Replace a string everywhere in a request (ids of Twitch's examples that
/// must name something that exists in the mock).
fn substitute(c: &mut Call, from: &str, to: &str) {
    for (_, v) in &mut c.query {
        if v == from {
            *v = to.to_owned();
        }
    }
    if let Some(b) = &mut c.body {
        *b = serde_json::from_str(&b.to_string().replace(from, to)).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_a_scoped_token_and_refuses_the_rest() {
    // A bucket that cannot run dry: this test sends several requests per endpoint.
    let mock =
        start(Mock::builder().welcome_window(Duration::from_secs(600)).bucket(100_000, Duration::from_secs(60))).await;
    let app = mock.mint_app_token(&mock.client_id());
    // A live session for the WebSocket example, a conduit for the conduit examples.
    let (_ws, session_id) = session(&mock.ws_url()).await;
    let new_conduit = || async {
        let a =
            send(&mock, &call("POST", "/eventsub/conduits", &[], Some(json!({"shard_count": 5}))), Some(&app)).await;
        assert_eq!(a.status, 200, "{}", a.text);
        a.body["data"][0]["id"].as_str().unwrap().to_owned()
    };
    let conduit = new_conduit().await;
    const EXAMPLE_CONDUIT: &str = "bfcfc993-26b1-b876-44d9-afe75a379dac";
    const EXAMPLE_SUBSCRIPTION: &str = "26b1c993-bfcf-44d9-b876-379dacafe75a";
    const EXAMPLE_SESSION: &str = "AQoQexAWVYKSTIu4ec_2VAxyuhAB";

    let cases = examples::example_requests();
    let mut failures = Vec::new();
    let mut checked = HashSet::new();
    let mut requests = 0;
    for meta in twitch::meta::endpoints() {
        let mut calls: Vec<(String, Call)> = cases
            .iter()
            .filter(|c| c.id == meta.id)
            .map(|c| {
                let body = c.body.map(|b| serde_json::from_str(b).expect("example body is JSON"));
                let query = c.query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
                let name = format!("{} #{} ({})", c.id, c.index + 1, c.raw);
                (name, Call { method: c.method.into(), path: c.path.into(), query, body })
            })
            .collect();
        if calls.is_empty() {
            let own =
                own_request(meta.id).unwrap_or_else(|| panic!("{}: no example request and no own request", meta.id));
            calls.push((format!("{} (own request: Twitch documents no example)", meta.id), own));
        }
        for (i, (name, mut c)) in calls.into_iter().enumerate() {
            // Make Twitch's placeholder ids name real things.
            match meta.id {
                "create-eventsub-subscription" => {
                    substitute(&mut c, EXAMPLE_SESSION, &session_id);
                    substitute(&mut c, EXAMPLE_CONDUIT, &conduit);
                    // Twitch's webhook example uses a 6-character secret, which its own
                    // reference forbids (10 to 100 characters): the mock refuses it.
                    if c.body.as_ref().is_some_and(|b| b["transport"]["secret"] == "s3cre7") {
                        let token = token_for(&mock, meta, &c.query, c.body.as_ref());
                        let a = send(&mock, &c, Some(&token)).await;
                        assert_eq!(a.status, 400, "{name}: a short secret must be refused: {}", a.text);
                        c.body.as_mut().unwrap()["transport"]["secret"] = json!("s3cre7s3cre7");
                    }
                }
                // Deleting one message needs a message the mock delivered.
                "delete-chat-messages" => {
                    let q = |k: &str| c.query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                    if let (Some(broadcaster), Some(message)) = (q("broadcaster_id"), q("message_id")) {
                        let line = twitch_mock::ChatLine::new(broadcaster, "10005", "mockuser5", "to be deleted");
                        mock.chat(line.message_id(message)).expect("a chat line");
                    }
                }
                // Twitch's examples name a session of their own: start one
                // and bring the guest as far as the example needs.
                "end-guest-star-session"
                | "get-guest-star-invites"
                | "send-guest-star-invite"
                | "delete-guest-star-invite"
                | "assign-guest-star-slot"
                | "update-guest-star-slot"
                | "delete-guest-star-slot"
                | "update-guest-star-slot-settings" => guest_star_stage(&mock, meta.id, &mut c).await,
                "update-conduits" | "get-conduit-shards" | "update-conduit-shards" => {
                    substitute(&mut c, EXAMPLE_CONDUIT, &conduit)
                }
                // Deleting needs something of our own to delete.
                "delete-conduit" => substitute(&mut c, EXAMPLE_CONDUIT, &new_conduit().await),
                // The example names a Power-up of the broadcaster's: make one (on
                // Twitch's site, so through the mock's own API) and ask for it.
                "get-custom-power-up" => {
                    let q = |k: &str| c.query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
                    let (broadcaster, example_id) = (q("broadcaster_id"), q("id"));
                    let made = mock.add_power_up(&broadcaster, NewPowerUp::new("game analysis", 100)).unwrap();
                    substitute(&mut c, &example_id, made["id"].as_str().unwrap());
                }
                // The pin examples: the moderator of the example's channel, a
                // message of that channel to pin, pinned already for an update or unpin.
                "get-pinned-chat-message"
                | "pin-chat-message"
                | "update-pinned-chat-message"
                | "unpin-chat-message" => {
                    let q = |k: &str| c.query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
                    let (broadcaster, moderator) = (q("broadcaster_id"), q("moderator_id"));
                    let _ = mock.add_moderator(&broadcaster, &moderator);
                    if let Some(message) = c.query.iter().find(|(k, _)| k == "message_id").map(|(_, v)| v.clone()) {
                        let line = twitch_mock::ChatLine::new(&broadcaster, "10005", "mockuser5", "pin me");
                        mock.chat(line.message_id(&message)).expect("a chat line");
                        if meta.id != "pin-chat-message" {
                            let t = mock.mint_user_token(&moderator, "moderator", &["moderator:manage:chat_messages"]);
                            let pin = call(
                                "PUT",
                                "/chat/pins",
                                &[
                                    ("broadcaster_id", &broadcaster),
                                    ("moderator_id", &moderator),
                                    ("message_id", &message),
                                ],
                                None,
                            );
                            let a = send(&mock, &pin, Some(&t)).await;
                            assert_eq!(a.status, 204, "{name}: pinning first: {}", a.text);
                        }
                    }
                }
                "delete-eventsub-subscription" => {
                    let body = json!({"type": "stream.online", "version": "1", "condition": {"broadcaster_user_id": format!("9{i}")},
                        "transport": {"method": "webhook", "callback": "https://example.com/cb", "secret": "0123456789"}});
                    let a = send(&mock, &call("POST", "/eventsub/subscriptions", &[], Some(body)), Some(&app)).await;
                    assert_eq!(a.status, 202, "{}", a.text);
                    substitute(&mut c, EXAMPLE_SUBSCRIPTION, a.body["data"][0]["id"].as_str().unwrap());
                }
                _ => {}
            }
            let token = token_for(&mock, meta, &c.query, c.body.as_ref());

            // The refusals, once per endpoint, before anything changes state.
            if checked.insert(meta.id) {
                let a = send(&mock, &c, None).await;
                if a.status != 401 {
                    failures.push(format!("{name}: without a token: {} {}", a.status, a.text));
                }
                if !meta.scopes.is_empty() && meta.tokens.contains(&TokenKind::User) {
                    let bare = mock.mint_user_token("141981764", "twitchdev", &[]);
                    let a = send(&mock, &c, Some(&bare)).await;
                    if a.status != 401 || !a.body["message"].as_str().unwrap_or("").starts_with("Missing scope") {
                        failures.push(format!("{name}: without scopes: {} {}", a.status, a.text));
                    }
                }
                let wrong_client = send_as(&mock, &c, Some(&token), Some("someone-else")).await;
                if token != FAKE_JWT && wrong_client.status != 401 {
                    failures.push(format!("{name}: another client id: {} {}", wrong_client.status, wrong_client.text));
                }
                let mut missing = Call {
                    method: c.method.clone(),
                    path: c.path.clone(),
                    query: c.query.clone(),
                    body: c.body.clone(),
                };
                let dropped = if let Some(p) =
                    meta.query.iter().find(|p| p.required && c.query.iter().any(|(k, _)| k == p.name))
                {
                    missing.query.retain(|(k, _)| k != p.name);
                    Some(p.name)
                } else if let Some(p) =
                    meta.body.iter().find(|p| p.required && c.body.as_ref().is_some_and(|b| b.get(p.name).is_some()))
                {
                    missing.body.as_mut().unwrap().as_object_mut().unwrap().remove(p.name);
                    Some(p.name)
                } else {
                    None
                };
                if let Some(param) = dropped {
                    let a = send(&mock, &missing, Some(&token)).await;
                    if a.status != 400 {
                        failures.push(format!("{name}: without required `{param}`: {} {}", a.status, a.text));
                    }
                }
            }

            // Ban and unban examples share users: start each from a known state.
            let user_id = c.body.as_ref().and_then(|b| b["data"]["user_id"].as_str()).map(str::to_owned);
            let q = |k: &str| c.query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
            if meta.id == "ban-user" {
                let unban = call(
                    "DELETE",
                    "/moderation/bans",
                    &[
                        ("broadcaster_id", &q("broadcaster_id")),
                        ("moderator_id", &q("moderator_id")),
                        ("user_id", user_id.as_deref().unwrap_or("")),
                    ],
                    None,
                );
                let moderator = q("moderator_id");
                let t = mock.mint_user_token(&moderator, "moderator", &["moderator:manage:banned_users"]);
                let _ = send(&mock, &unban, Some(&t)).await;
            }
            if meta.id == "unban-user" {
                let ban = call(
                    "POST",
                    "/moderation/bans",
                    &[("broadcaster_id", &q("broadcaster_id")), ("moderator_id", &q("moderator_id"))],
                    Some(json!({"data": {"user_id": q("user_id")}})),
                );
                let moderator = q("moderator_id");
                let t = mock.mint_user_token(&moderator, "moderator", &["moderator:manage:banned_users"]);
                let a = send(&mock, &ban, Some(&t)).await;
                assert!(a.status == 200 || a.status == 400, "{}", a.text);
            }

            // A redemption needs a reward of the mock's and a viewer's redeeming.
            if meta.id == "update-redemption-status" {
                let q = |k: &str| c.query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
                let (broadcaster, example_reward, example_id) = (q("broadcaster_id"), q("reward_id"), q("id"));
                let t = mock.mint_user_token("141981764", "twitchdev", &["channel:manage:redemptions"]);
                let body = json!({"title": "to redeem", "cost": 1});
                let create =
                    call("POST", "/channel_points/custom_rewards", &[("broadcaster_id", &broadcaster)], Some(body));
                let a = send(&mock, &create, Some(&t)).await;
                let reward = a.body["data"][0]["id"].as_str().expect("a reward").to_owned();
                let redemption = mock.redeem(&broadcaster, &reward, "10005", "").expect("redeem");
                substitute(&mut c, &example_reward, &reward);
                substitute(&mut c, &example_id, redemption["id"].as_str().unwrap());
            }
            // Updates and deletes of what the mock keeps name Twitch's
            // example ids: make one of our own in the same channel first.
            if let Some(own) = own_item(&mock, meta.id, &c).await {
                let example_id = c
                    .query
                    .iter()
                    .find(|(k, _)| k == "id")
                    .map(|(_, v)| v.clone())
                    .or_else(|| c.body.as_ref().and_then(|b| b["id"].as_str()).map(str::to_owned))
                    .expect("an id to replace");
                substitute(&mut c, &example_id, &own);
            }

            let a = send(&mock, &c, Some(&token)).await;
            requests += 1;
            if a.status != meta.success_status {
                failures.push(format!("{name}: {} (want {}) {}", a.status, meta.success_status, a.text));
                continue;
            }
            for h in ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"] {
                if a.header(h).is_none() {
                    failures.push(format!("{name}: no {h} header"));
                }
            }
            match meta.response {
                twitch::ResponseShape::None if !a.text.is_empty() => {
                    failures.push(format!("{name}: a body: {}", a.text))
                }
                twitch::ResponseShape::Data if !a.body["data"].is_array() => {
                    failures.push(format!("{name}: no data array: {}", a.text))
                }
                twitch::ResponseShape::DataObject if !a.body["data"].is_object() => {
                    failures.push(format!("{name}: no data object: {}", a.text))
                }
                twitch::ResponseShape::Text if a.text.is_empty() => failures.push(format!("{name}: no text")),
                _ => {}
            }
            if meta.paginated && !a.body["pagination"].is_object() {
                failures.push(format!("{name}: no pagination object: {}", a.text));
            }
        }
    }
    assert_eq!(checked.len(), twitch::meta::endpoints().len(), "every endpoint was tried");
    assert!(requests >= checked.len());
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn wrong_token_kinds_and_bad_parameters_get_twitch_errors() {
    let mock = start(Mock::builder()).await;
    let app = mock.mint_app_token(&mock.client_id());
    let user = mock.mint_user_token("141981764", "twitchdev", &["channel:read:ads"]);
    // A user-only endpoint with an app token, an app-only endpoint with a user token.
    let a = send(&mock, &get("/channels/ads", &[("broadcaster_id", "1")]), Some(&app)).await;
    assert_eq!((a.status, a.body["error"].as_str()), (401, Some("Unauthorized")), "{}", a.text);
    let a = send(&mock, &get("/eventsub/conduits", &[]), Some(&user)).await;
    assert_eq!(a.status, 401, "{}", a.text);
    // Unknown token, missing Client-Id.
    let a = send(&mock, &get("/users", &[("login", "twitchdev")]), Some("nope")).await;
    assert_eq!((a.status, a.body["message"].as_str()), (401, Some("Invalid OAuth token")));
    let a = send_as(&mock, &get("/users", &[("login", "twitchdev")]), Some(&app), None).await;
    assert_eq!(a.status, 401);
    // Limits: first out of range, too many values, mutually exclusive parameters, malformed JSON.
    let a = send(&mock, &get("/streams", &[("first", "101")]), Some(&app)).await;
    assert_eq!((a.status, a.body["status"].as_u64(), a.body["error"].as_str()), (400, Some(400), Some("Bad Request")));
    let ids: Vec<(String, String)> = (0..101).map(|i| ("id".to_owned(), i.to_string())).collect();
    let a =
        send(&mock, &Call { method: "GET".into(), path: "/users".into(), query: ids, body: None }, Some(&app)).await;
    assert_eq!(a.status, 400, "{}", a.text);
    let a = send(&mock, &get("/clips", &[("broadcaster_id", "1"), ("game_id", "2")]), Some(&app)).await;
    assert_eq!(a.status, 400, "{}", a.text);
    let a = send(&mock, &get("/videos", &[("id", "1"), ("language", "en")]), Some(&app)).await;
    assert_eq!(a.status, 400, "{}", a.text);
    let mut bad = call("POST", "/eventsub/conduits", &[], None);
    bad.body = None;
    let raw = http()
        .post(format!("{}/eventsub/conduits", mock.helix_url()))
        .header("Client-Id", mock.client_id())
        .header("Authorization", format!("Bearer {app}"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    // A cursor the mock did not hand out.
    let a = send(&mock, &get("/streams", &[("after", "garbage")]), Some(&app)).await;
    assert_eq!(a.status, 400, "{}", a.text);
    // Unknown paths are Twitch's 404.
    let a = send(&mock, &get("/no/such/endpoint", &[]), Some(&app)).await;
    assert_eq!(a.status, 404);
}

// ---------------------------------------------------------------------------
// Our client against the mock

#[tokio::test]
async fn the_generated_client_reads_users_and_walks_every_page() {
    let mock = start(Mock::builder().page_items(53)).await;
    let app = client_for(&mock, &mock.mint_app_token(&mock.client_id()), false);
    let users = app.get_users().login("twitchdev").login("mockuser3").login("nobody-here").send().await.unwrap();
    let logins: Vec<&str> = users.iter().map(|u| u.login.as_str()).collect();
    assert_eq!(logins, ["twitchdev", "mockuser3"], "unknown logins are left out");
    let by_id = app.get_users().id("141981764").send().await.unwrap();
    assert_eq!(by_id[0].display_name, "TwitchDev");
    // A user token without parameters: the token's user.
    let me = client_for(&mock, &mock.mint_user_token("555", "someone", &[]), true);
    assert_eq!(me.get_users().send().await.unwrap()[0].login.as_str(), "someone");

    let mut pages = app.get_streams().first(7).paginate();
    let mut ids = Vec::new();
    while let Some(stream) = tokio::time::timeout(GUARD, pages.try_next()).await.unwrap().unwrap() {
        ids.push(stream.id.clone());
    }
    assert_eq!(ids.len(), 53, "every item once");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 53, "no repeats");

    // Page by page with raw requests: the last page says `pagination: {}`.
    let token = mock.mint_app_token(&mock.client_id());
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut q = vec![("first", "20")];
        if let Some(a) = &after {
            q.push(("after", a));
        }
        let a = send(&mock, &get("/streams", &q), Some(&token)).await;
        assert_eq!(a.status, 200);
        pages += 1;
        match a.body["pagination"]["cursor"].as_str() {
            Some(c) => after = Some(c.to_owned()),
            None => {
                assert_eq!(a.body["pagination"], json!({}));
                break;
            }
        }
    }
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn subscriptions_bans_and_chat_through_the_generated_client() {
    use twitch::helix::eventsub::EventSubTransportRequest;
    use twitch::helix::moderation::BanUserRequest;
    let mock = start(Mock::builder().welcome_window(Duration::from_secs(600))).await;
    let (mut ws, session_id) = session(&mock.ws_url()).await;
    let token = mock.mint_user_token(
        "141981764",
        "twitchdev",
        &["user:read:chat", "user:write:chat", "moderator:manage:banned_users", "moderation:read"],
    );
    let user = client_for(&mock, &token, true);
    let created = user
        .create_eventsub_subscription(
            "channel.chat.message",
            "1",
            json!({"broadcaster_user_id": "141981764", "user_id": "141981764"}),
            EventSubTransportRequest::new("websocket").session_id(&session_id),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.data.len(), 1);
    assert_eq!(created.total, 1);
    assert_eq!(created.data[0].transport.session_id.as_deref(), Some(session_id.as_str()));
    let listed = user.get_eventsub_subscriptions().send().await.unwrap();
    assert_eq!(listed.data.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), [created.data[0].id.clone()]);

    // Send a chat message: it arrives as a notification on the session.
    let sent = user.send_chat_message("141981764", "141981764", "hello from the mock").send().await.unwrap();
    let n = next_message(&mut ws).await;
    assert_eq!(n["metadata"]["message_type"], "notification");
    assert_eq!(n["metadata"]["subscription_type"], "channel.chat.message");
    assert_eq!(n["payload"]["event"]["message"]["text"], "hello from the mock");
    assert_eq!(n["payload"]["event"]["chatter_user_id"], "141981764");
    assert_eq!(n["payload"]["event"]["message_id"].as_str(), Some(sent.message_id.as_str()));
    assert_eq!(n["payload"]["subscription"]["id"].as_str(), Some(created.data[0].id.as_str()));
    twitch::decode_notification(&n["payload"].to_string()).expect("the notification decodes");

    user.delete_eventsub_subscription(&created.data[0].id).send().await.unwrap();
    assert!(user.get_eventsub_subscriptions().send().await.unwrap().data.is_empty());
    let gone = user.delete_eventsub_subscription(&created.data[0].id).send().await.unwrap_err();
    assert!(matches!(gone, Error::Api { status: 404, .. }), "{gone:?}");

    // A ban shows in Get Banned Users; banning again is Twitch's 400.
    user.ban_user("141981764", "141981764", BanUserRequest::new("10007").reason("spam")).send().await.unwrap();
    let banned = user.get_banned_users("141981764").send().await.unwrap();
    assert_eq!(banned.data.len(), 1);
    assert_eq!(banned.data[0].user_id.as_str(), "10007");
    assert_eq!(banned.data[0].user_login.as_str(), "mockuser7");
    let again = user.ban_user("141981764", "141981764", BanUserRequest::new("10007")).send().await.unwrap_err();
    assert!(matches!(again, Error::Api { status: 400, .. }), "{again:?}");
}

// ---------------------------------------------------------------------------
// Rate limit

#[tokio::test]
async fn rate_limit_headers_count_down_and_an_empty_bucket_answers_429() {
    let mock = start(Mock::builder().bucket(5, Duration::from_secs(3600))).await;
    let token = mock.mint_app_token(&mock.client_id());
    let mut remaining = Vec::new();
    for _ in 0..5 {
        let a = send(&mock, &get("/games/top", &[]), Some(&token)).await;
        assert_eq!(a.status, 200);
        assert_eq!(a.header("ratelimit-limit"), Some(5));
        remaining.push(a.header("ratelimit-remaining").unwrap());
    }
    assert_eq!(remaining, [4, 3, 2, 1, 0]);
    let a = send(&mock, &get("/games/top", &[]), Some(&token)).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.body, json!({"error": "Too Many Requests", "status": 429, "message": "Too Many Requests"}));
    assert_eq!(a.header("ratelimit-remaining"), Some(0));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(a.header("ratelimit-reset").unwrap() > now, "the reset is in the future");
    // Another user has a bucket of its own.
    let other = mock.mint_user_token("42", "other", &[]);
    let a = send(&mock, &get("/games/top", &[]), Some(&other)).await;
    assert_eq!((a.status, a.header("ratelimit-remaining")), (200, Some(4)));
    // Our client sees a RateLimited error when it may not retry.
    let c = twitch::Client::builder()
        .client_id(mock.client_id())
        .app_token(&token)
        .helix_url(mock.helix_url())
        .retry_policy(twitch::RetryPolicy::none())
        .build()
        .unwrap();
    let e = c.get_top_games().send().await.unwrap_err();
    assert!(matches!(e, Error::RateLimited { cooldown: false, .. }), "{e:?}");
}

// ---------------------------------------------------------------------------
// OAuth

fn oauth(mock: &MockServer, secret: Option<&str>) -> twitch::OAuth {
    twitch::OAuth::new(mock.client_id(), secret.map(twitch::ClientSecret::new)).auth_url(mock.auth_url())
}

#[tokio::test]
async fn client_credentials_token_is_accepted_by_helix() {
    let mock = start(Mock::builder()).await;
    let app = oauth(&mock, Some("any-secret")).client_credentials().await.unwrap();
    let c = client_for(&mock, app.access_token.secret(), false);
    assert_eq!(c.get_users().login("twitchdev").send().await.unwrap().len(), 1);
    let v = oauth(&mock, None).validate(&app.access_token).await.unwrap();
    assert_eq!(v.client_id, mock.client_id());
    assert!(v.user_id.is_none() && v.scopes.is_empty());
}

#[tokio::test]
async fn authorization_code_flow_refresh_rotation_and_revoke() {
    let mock = start(Mock::builder().authorize_as("777", "streamer", None)).await;
    let o = oauth(&mock, Some("s3cret"));
    let state = twitch::__rt::auth::random_state();
    let url = o.authorize_url("http://localhost:3000/cb", &["user:read:email", "channel:read:ads"], &state, false);
    // Play the browser: the mock approves at once and redirects with the code.
    let resp = http().get(&url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("http://localhost:3000/cb?code="), "{location}");
    let code = twitch::OAuth::code_from_redirect(&location, &state).unwrap();
    let user = o.exchange_code(&code, "http://localhost:3000/cb").await.unwrap();
    assert_eq!((user.user_id.as_str(), user.login.as_str()), ("777", "streamer"));
    assert!(user.has_scope("channel:read:ads"));
    // Codes are single-use.
    assert!(o.exchange_code(&code, "http://localhost:3000/cb").await.is_err());
    // The token works on Helix with its scopes.
    let c = client_for(&mock, user.access_token.secret(), true);
    c.get_ad_schedule("777").send().await.unwrap();

    // Refresh: a new pair; the old refresh token is spent.
    let fresh = o.refresh(&user).await.unwrap();
    assert_ne!(fresh.access_token.secret(), user.access_token.secret());
    assert_ne!(fresh.refresh_token, user.refresh_token);
    let e = o.refresh(&user).await.unwrap_err();
    assert!(
        matches!(&e, Error::OAuth(twitch::OAuthError::Rejected { status: 400, message, .. }) if message == "Invalid refresh token"),
        "{e:?}"
    );

    // Revoke: Helix and validate no longer accept the token.
    o.revoke(&fresh.access_token).await.unwrap();
    let c = client_for(&mock, fresh.access_token.secret(), true);
    let e = c.get_ad_schedule("777").send().await.unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
    assert!(o.validate(&fresh.access_token).await.is_err());
    // Revoking what Twitch no longer knows succeeds (idempotent logout).
    o.revoke(&fresh.access_token).await.unwrap();
    o.revoke(&twitch::AccessToken::new("garbage")).await.unwrap();
}

#[tokio::test]
async fn openid_connect_code_and_implicit_flows_userinfo_and_discovery() {
    let mock = start(Mock::builder().authorize_as("777", "streamer", None)).await;
    let o = oauth(&mock, Some("s3cret"));
    let nonce = twitch::__rt::auth::random_state();
    let claims = twitch::OidcClaims::new().id_token("email").id_token("email_verified").userinfo("picture");

    // Code flow: the ID token is signed by the mock's published key, for this client, with the nonce.
    let url = o.oidc_authorize_url("http://localhost:3000/cb", &["user:read:email"], "st", &nonce, &claims);
    let location = http().get(&url).send().await.unwrap().headers()["location"].to_str().unwrap().to_owned();
    let code = twitch::OAuth::code_from_redirect(&location, "st").unwrap();
    let (user, id) = o.exchange_code_oidc(&code, "http://localhost:3000/cb", &nonce).await.unwrap();
    assert_eq!(user.user_id, "777");
    assert!(user.has_scope("openid") && user.has_scope("user:read:email"));
    assert_eq!(id.claims.sub, "777");
    assert_eq!(id.claims.aud, [mock.client_id()]);
    assert_eq!(id.claims.iss, mock.auth_url());
    assert_eq!(id.claims.nonce.as_deref(), Some(nonce.as_str()));
    assert_eq!(id.claims.email.as_deref(), Some("streamer@example.com"));
    assert_eq!(id.claims.email_verified, Some(true));
    assert_eq!(id.claims.picture, None, "not asked for in the ID token");

    // userinfo answers with the claims asked for there.
    let info = o.userinfo(&user.access_token).await.unwrap();
    assert_eq!(info.sub, "777");
    assert!(info.picture.as_deref().is_some_and(|p| p.ends_with("/streamer.png")), "{info:?}");
    assert_eq!(info.email, None, "not asked for in userinfo");
    // A token without `openid` gets no userinfo.
    let plain = o.authorize_url("http://localhost:3000/cb", &["chat:read"], "st", false);
    let location = http().get(&plain).send().await.unwrap().headers()["location"].to_str().unwrap().to_owned();
    let plain_code = twitch::OAuth::code_from_redirect(&location, "st").unwrap();
    let plain = o.exchange_code(&plain_code, "http://localhost:3000/cb").await.unwrap();
    assert!(matches!(
        o.userinfo(&plain.access_token).await,
        Err(Error::OAuth(twitch::OAuthError::Rejected { operation: "userinfo", status: 401, .. }))
    ));
    // ... and an OIDC exchange of a code without `openid` has no ID token to give.
    let location = http()
        .get(o.authorize_url("http://localhost:3000/cb", &["chat:read"], "st", false))
        .send()
        .await
        .unwrap()
        .headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let code = twitch::OAuth::code_from_redirect(&location, "st").unwrap();
    assert!(matches!(
        o.exchange_code_oidc(&code, "http://localhost:3000/cb", &nonce).await,
        Err(Error::OAuth(twitch::OAuthError::InvalidIdToken(_)))
    ));

    // Implicit flow, with and without an access token.
    for with_access in [true, false] {
        let url = o.oidc_implicit_url(
            "http://localhost:3000/",
            twitch::auth::NO_SCOPES,
            "st9",
            "n9",
            &twitch::OidcClaims::new(),
            with_access,
        );
        let location = http().get(&url).send().await.unwrap().headers()["location"].to_str().unwrap().to_owned();
        let (id, access) = o.id_token_from_fragment(&location, "st9", "n9").await.unwrap();
        assert_eq!(id.claims.sub, "777");
        assert_eq!(access.is_some(), with_access, "{location}");
    }
    // An ID token needs `openid`.
    let bad = format!(
        "{}/authorize?response_type=id_token&client_id=x&redirect_uri=http%3A%2F%2Fl&scope=chat%3Aread",
        mock.auth_url()
    );
    assert_eq!(http().get(&bad).send().await.unwrap().status().as_u16(), 400);

    // Discovery points at the mock's own endpoints.
    let conf = http().get(format!("{}/.well-known/openid-configuration", mock.auth_url())).send().await.unwrap();
    let conf: serde_json::Value = serde_json::from_slice(&conf.bytes().await.unwrap()).unwrap();
    assert_eq!(conf["issuer"], mock.auth_url());
    assert_eq!(conf["jwks_uri"], format!("{}/keys", mock.auth_url()));
}

#[tokio::test]
async fn implicit_flow_redirects_with_a_fragment() {
    let mock = start(Mock::builder().authorize_as("9", "viewer", Some(vec!["chat:read".into()]))).await;
    let o = oauth(&mock, None);
    let url = o.implicit_url("http://localhost:3000/", &["chat:read", "chat:edit"], "st8", false);
    let resp = http().get(&url).send().await.unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let (token, scopes) = twitch::OAuth::token_from_fragment(&location, "st8").unwrap();
    assert_eq!(scopes, ["chat:read"], "the configured scopes are granted");
    let v = o.validate(&token).await.unwrap();
    assert_eq!(v.login.unwrap().as_str(), "viewer");
}

#[tokio::test]
async fn device_code_flow_answers_pending_then_the_token() {
    let mock = start(Mock::builder().device_flow(1, 1)).await;
    let o = oauth(&mock, None);
    let device = o.device_start(&["chat:read"]).await.unwrap();
    assert_eq!(device.user_code.len(), 8);
    assert!(device.verification_uri.starts_with(&mock.url()));
    let user = tokio::time::timeout(GUARD, o.device_poll(&device)).await.unwrap().unwrap();
    assert_eq!(user.login.as_str(), "twitchdev");
    assert_eq!(user.scopes, ["chat:read"]);
    // The code is used up.
    let e = o.device_poll(&device).await.unwrap_err();
    assert!(matches!(e, Error::OAuth(twitch::OAuthError::DeviceCodeExpired)), "{e:?}");
}

#[tokio::test]
async fn restricted_clients_reject_a_wrong_secret_or_unknown_client() {
    let mock = start(Mock::builder().client("cid", "s3cret")).await;
    assert_eq!(mock.client_id(), "cid");
    oauth(&mock, Some("s3cret")).client_credentials().await.unwrap();
    let e = oauth(&mock, Some("wrong")).client_credentials().await.unwrap_err();
    assert!(
        matches!(&e, Error::OAuth(twitch::OAuthError::Rejected { status: 403, message, .. }) if message == "invalid client secret"),
        "{e:?}"
    );
    let stranger = twitch::OAuth::new("stranger", Some(twitch::ClientSecret::new("x"))).auth_url(mock.auth_url());
    let e = stranger.client_credentials().await.unwrap_err();
    assert!(matches!(e, Error::OAuth(twitch::OAuthError::Rejected { status: 400, .. })), "{e:?}");
}

// ---------------------------------------------------------------------------
// EventSub WebSocket

#[tokio::test]
async fn welcome_then_keepalives() {
    let mock = start(Mock::builder().keepalive(Duration::from_secs(1)).welcome_window(Duration::from_secs(600))).await;
    let mut ws = ws_connect(&mock.ws_url()).await;
    let Frame::Json(welcome) = next_frame(&mut ws).await else { panic!("no welcome") };
    assert_eq!(welcome["metadata"]["message_type"], "session_welcome");
    assert!(welcome["metadata"]["message_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(welcome["metadata"]["message_timestamp"].as_str().is_some_and(|s| s.ends_with('Z')));
    let s = &welcome["payload"]["session"];
    assert_eq!(s["status"], "connected");
    assert_eq!(s["keepalive_timeout_seconds"], 1);
    assert!(s["reconnect_url"].is_null());
    assert!(s["connected_at"].is_string());
    assert_eq!(mock.session_ids(), [s["id"].as_str().unwrap()]);
    // Nothing else happens, so keepalives come.
    for _ in 0..2 {
        let Frame::Json(k) = next_frame(&mut ws).await else { panic!("closed") };
        assert_eq!(k["metadata"]["message_type"], "session_keepalive");
        assert_eq!(k["payload"], json!({}));
    }
    // The client may ask for its own keepalive (Twitch clamps it to 10..=600).
    let (mut ws, _) = session(&format!("{}?keepalive_timeout_seconds=30", mock.ws_url())).await;
    drop(ws.close(None).await);
    let mut ws = ws_connect(&format!("{}?keepalive_timeout_seconds=9000", mock.ws_url())).await;
    let Frame::Json(w) = next_frame(&mut ws).await else { panic!("no welcome") };
    assert_eq!(w["payload"]["session"]["keepalive_timeout_seconds"], 600);
}

#[tokio::test]
async fn an_unused_connection_is_closed_with_4003() {
    let mock = start(Mock::builder().welcome_window(Duration::from_secs(1))).await;
    let (mut ws, _) = session(&mock.ws_url()).await;
    assert_eq!(close_code(&mut ws).await, Some(4003));
}

#[tokio::test]
async fn inbound_traffic_is_closed_with_4001() {
    let mock = start(Mock::builder().welcome_window(Duration::from_secs(600))).await;
    let (mut ws, _) = session(&mock.ws_url()).await;
    ws.send(Message::text("hello?")).await.unwrap();
    assert_eq!(close_code(&mut ws).await, Some(4001));
}

#[tokio::test]
async fn a_subscribed_session_gets_triggered_events_through_the_control_api() {
    let mock = start(Mock::builder().welcome_window(Duration::from_secs(600))).await;
    let (mut ws, session_id) = session(&mock.ws_url()).await;
    let token = mock.mint_user_token("1337", "cool_user", &["moderator:read:followers"]);
    let sub = subscribe(
        &mock,
        &token,
        "channel.follow",
        "2",
        json!({"broadcaster_user_id": "1337", "moderator_user_id": "1337"}),
        &session_id,
    )
    .await;
    let (status, out) = control(&mock, "/control/trigger", json!({"type": "channel.follow"})).await;
    assert_eq!((status, out["delivered"].as_u64(), out["version"].as_str()), (200, Some(1), Some("2")), "{out}");
    let n = next_message(&mut ws).await;
    assert_eq!(n["metadata"]["message_type"], "notification");
    assert_eq!(n["metadata"]["subscription_type"], "channel.follow");
    assert_eq!(n["metadata"]["subscription_version"], "2");
    assert_eq!(n["payload"]["subscription"]["id"].as_str(), Some(sub.as_str()));
    assert_eq!(n["payload"]["subscription"]["transport"]["session_id"].as_str(), Some(session_id.as_str()));
    let event = &n["payload"]["event"];
    assert_eq!(event["broadcaster_user_id"], "1337", "the subscription's condition is in the event");
    // A fresh timestamp, not the example's.
    let followed = event["followed_at"].as_str().unwrap();
    assert!(!followed.starts_with("2020"), "{followed}");
    twitch::decode_notification(&n["payload"].to_string()).expect("decodes");
    // A second trigger from the library API, filtered by a condition that does not match.
    let mut condition = serde_json::Map::new();
    condition.insert("broadcaster_user_id".into(), json!("999"));
    let t = mock.trigger("channel.follow", None, TriggerOptions { condition, ..Default::default() }).unwrap();
    assert_eq!(t.delivered, 0);
    let t = mock.trigger("channel.follow", Some("2"), TriggerOptions::default()).unwrap();
    assert_eq!(t.delivered, 1);
    assert_eq!(next_message(&mut ws).await["metadata"]["message_type"], "notification");
    // Unknown types are a 404 from the control API.
    let (status, _) = control(&mock, "/control/trigger", json!({"type": "no.such.type"})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn reconnect_moves_the_session_to_the_new_url() {
    let mock = start(
        Mock::builder().welcome_window(Duration::from_secs(600)).old_connection_grace(Duration::from_millis(200)),
    )
    .await;
    let (mut old, session_id) = session(&mock.ws_url()).await;
    let token = mock.mint_user_token("1", "one", &[]);
    subscribe(&mock, &token, "stream.online", "1", json!({"broadcaster_user_id": "1"}), &session_id).await;
    let (status, out) = control(&mock, "/control/reconnect", json!({})).await;
    assert_eq!((status, out["sessions"].clone()), (200, json!([session_id])));
    let r = next_message(&mut old).await;
    assert_eq!(r["metadata"]["message_type"], "session_reconnect");
    let s = &r["payload"]["session"];
    assert_eq!((s["id"].as_str(), s["status"].as_str()), (Some(session_id.as_str()), Some("reconnecting")));
    assert!(s["keepalive_timeout_seconds"].is_null());
    let url = s["reconnect_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&mock.ws_url()), "{url}");

    let (mut new, new_id) = session(&url).await;
    assert_eq!(new_id, session_id, "the reconnect URL welcomes the same session");
    // The old connection gets nothing more; left open, it is closed with
    // 4004 after the old-connection grace (tests/mock_compat.rs has more).
    assert_eq!(close_code(&mut old).await, Some(4004));
    let t = mock.trigger("stream.online", None, TriggerOptions::default()).unwrap();
    assert_eq!(t.delivered, 1);
    let n = next_message(&mut new).await;
    assert_eq!(n["metadata"]["subscription_type"], "stream.online");
    assert_eq!(n["payload"]["subscription"]["status"], "enabled");
    // A reconnect URL works once; again it is an invalid reconnect.
    let mut again = ws_connect(&url).await;
    assert_eq!(close_code(&mut again).await, Some(4007));
}

#[tokio::test]
async fn a_reconnect_not_taken_within_the_grace_time_closes_with_4004() {
    let mock =
        start(Mock::builder().welcome_window(Duration::from_secs(600)).reconnect_grace(Duration::from_secs(1))).await;
    let (mut ws, session_id) = session(&mock.ws_url()).await;
    assert_eq!(mock.reconnect(Some(&session_id)), [session_id.as_str()]);
    assert_eq!(next_message(&mut ws).await["metadata"]["message_type"], "session_reconnect");
    assert_eq!(close_code(&mut ws).await, Some(4004));
}

#[tokio::test]
async fn revocation_and_forced_close_codes() {
    let mock = start(Mock::builder().welcome_window(Duration::from_secs(600))).await;
    let (mut ws, session_id) = session(&mock.ws_url()).await;
    let token = mock.mint_user_token("1", "one", &["channel:read:subscriptions"]);
    let sub =
        subscribe(&mock, &token, "channel.subscribe", "1", json!({"broadcaster_user_id": "1"}), &session_id).await;
    let (status, _) = control(&mock, "/control/revoke", json!({"subscription_id": sub})).await;
    assert_eq!(status, 200);
    let r = next_message(&mut ws).await;
    assert_eq!(r["metadata"]["message_type"], "revocation");
    assert_eq!(r["metadata"]["subscription_type"], "channel.subscribe");
    assert_eq!(r["payload"]["subscription"]["status"], "authorization_revoked");
    assert!(r["payload"].get("event").is_none());
    // A revoked subscription gets no more events.
    assert_eq!(mock.trigger("channel.subscribe", None, TriggerOptions::default()).unwrap().delivered, 0);
    let (status, _) = control(&mock, "/control/revoke", json!({"subscription_id": "nope"})).await;
    assert_eq!(status, 404);

    let (status, out) = control(&mock, "/control/close", json!({"session_id": session_id, "code": 4000})).await;
    assert_eq!((status, out["closed"].clone()), (200, json!([session_id])));
    assert_eq!(close_code(&mut ws).await, Some(4000));
    // Its subscriptions are no longer enabled and the session is gone.
    let listed = send(&mock, &get("/eventsub/subscriptions", &[]), Some(&token)).await;
    assert_eq!(listed.body["data"][0]["status"], "authorization_revoked");
    assert!(mock.session_ids().is_empty());
}

#[tokio::test]
async fn a_websocket_subscription_needs_a_live_session_a_user_token_and_the_scopes() {
    let mock = start(Mock::builder().welcome_window(Duration::from_secs(600))).await;
    let (_ws, session_id) = session(&mock.ws_url()).await;
    let body = |session: &str| {
        json!({"type": "channel.subscribe", "version": "1", "condition": {"broadcaster_user_id": "1"},
        "transport": {"method": "websocket", "session_id": session}})
    };
    let post = |b| call("POST", "/eventsub/subscriptions", &[], Some(b));
    let scoped = mock.mint_user_token("1", "one", &["channel:read:subscriptions"]);
    let a = send(&mock, &post(body("not-a-session")), Some(&scoped)).await;
    assert_eq!(a.status, 400, "{}", a.text);
    let a = send(&mock, &post(body(&session_id)), Some(&mock.mint_app_token(&mock.client_id()))).await;
    assert_eq!(a.status, 401, "{}", a.text);
    let a = send(&mock, &post(body(&session_id)), Some(&mock.mint_user_token("1", "one", &[]))).await;
    assert_eq!(a.status, 403, "{}", a.text);
    let a = send(&mock, &post(body(&session_id)), Some(&scoped)).await;
    assert_eq!(
        (a.status, a.body["data"][0]["cost"].as_u64(), a.body["max_total_cost"].as_u64()),
        (202, Some(0), Some(10))
    );
    let a = send(&mock, &post(body(&session_id)), Some(&scoped)).await;
    assert_eq!(a.status, 409, "the same subscription twice: {}", a.text);
    let mut wrong = body(&session_id);
    wrong["version"] = json!("42");
    assert_eq!(send(&mock, &post(wrong), Some(&scoped)).await.status, 400);
}

#[tokio::test]
async fn conduit_shards_share_the_notifications() {
    let mock = start(Mock::builder().welcome_window(Duration::from_secs(600))).await;
    let app = mock.mint_app_token(&mock.client_id());
    let c = client_for(&mock, &app, false);
    let conduit = c.create_conduits(2).send().await.unwrap();
    let (mut a, a_id) = session(&mock.ws_url()).await;
    let (mut b, b_id) = session(&mock.ws_url()).await;
    let shards = json!({"conduit_id": conduit.id, "shards": [
        {"id": "0", "transport": {"method": "websocket", "session_id": a_id}},
        {"id": "1", "transport": {"method": "websocket", "session_id": b_id}},
        {"id": "7", "transport": {"method": "websocket", "session_id": b_id}},
    ]});
    let r = send(&mock, &call("PATCH", "/eventsub/conduits/shards", &[], Some(shards)), Some(&app)).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["errors"][0]["id"], "7");
    let body = json!({"type": "stream.online", "version": "1", "condition": {"broadcaster_user_id": "5"},
        "transport": {"method": "conduit", "conduit_id": conduit.id}});
    let r = send(&mock, &call("POST", "/eventsub/subscriptions", &[], Some(body)), Some(&app)).await;
    assert_eq!(r.status, 202, "{}", r.text);
    // The shard-disabled subscription of the app.
    let body = json!({"type": "conduit.shard.disabled", "version": "1", "condition": {"client_id": mock.client_id(), "conduit_id": conduit.id},
        "transport": {"method": "conduit", "conduit_id": conduit.id}});
    let r = send(&mock, &call("POST", "/eventsub/subscriptions", &[], Some(body)), Some(&app)).await;
    assert_eq!(r.status, 202, "{}", r.text);

    // One trigger: delivered once, to exactly one of the two shards.
    assert_eq!(mock.trigger("stream.online", None, TriggerOptions::default()).unwrap().delivered, 1);
    let got = tokio::select! {
        m = next_message(&mut a) => ("a", m),
        m = next_message(&mut b) => ("b", m),
    };
    assert_eq!(got.1["payload"]["subscription"]["transport"]["method"], "conduit");
    // A second one goes to the other shard (round robin), so neither sees two.
    assert_eq!(mock.trigger("stream.online", None, TriggerOptions::default()).unwrap().delivered, 1);
    let second = if got.0 == "a" { next_message(&mut b).await } else { next_message(&mut a).await };
    assert_eq!(second["metadata"]["subscription_type"], "stream.online");

    // Shard 0's session goes away: the shard is no longer enabled, and the
    // disabled notification goes to the remaining shard.
    drop(a.close(None).await);
    drop(a);
    let n = next_message(&mut b).await;
    assert_eq!(n["metadata"]["subscription_type"], "conduit.shard.disabled");
    assert_eq!(n["payload"]["event"]["shard_id"], "0");
    let shards = c.get_conduit_shards(&conduit.id).send().await.unwrap();
    let status: Vec<String> = shards.data.iter().map(|s| s.status.as_str().to_owned()).collect();
    assert_eq!(status, ["websocket_disconnected", "enabled"]);
}

// ---------------------------------------------------------------------------
// Faults

#[tokio::test]
async fn faults_5xx_latency_expiry_and_dropped_connections() {
    let mock = start(Mock::builder()).await;
    let token = mock.mint_app_token(&mock.client_id());
    let fast = twitch::RetryPolicy::default().base_delay(Duration::from_millis(10));
    let c = twitch::Client::builder()
        .client_id(mock.client_id())
        .app_token(&token)
        .helix_url(mock.helix_url())
        .retry_policy(fast)
        .build()
        .unwrap();
    // Two 503s: the client's retries get through.
    let (status, _) = control(&mock, "/control/faults", json!({"status": 503, "count": 2})).await;
    assert_eq!(status, 200);
    let a = send(&mock, &get("/games/top", &[]), Some(&token)).await;
    assert_eq!((a.status, a.body["status"].as_u64()), (503, Some(503)));
    assert!(a.header("ratelimit-remaining").is_some(), "faults carry the rate-limit headers too");
    c.get_top_games().send().await.expect("retried past the second 503");
    assert_eq!(send(&mock, &get("/games/top", &[]), Some(&token)).await.status, 200, "the fault is used up");

    // More 500s than retries reach the caller.
    mock.fault(Fault::Status { status: 500, count: 10 });
    let e = c.get_top_games().send().await.unwrap_err();
    assert!(matches!(e, Error::Api { status: 500, .. }), "{e:?}");
    mock.fault(Fault::Clear);

    // Dropped connections: GETs are retried.
    mock.fault(Fault::Drop { count: 1 });
    c.get_top_games().send().await.expect("retried after a dropped connection");
    let no_retry = twitch::Client::builder()
        .client_id(mock.client_id())
        .app_token(&token)
        .helix_url(mock.helix_url())
        .retry_policy(twitch::RetryPolicy::none())
        .build()
        .unwrap();
    mock.fault(Fault::Drop { count: 1 });
    let e = no_retry.get_top_games().send().await.unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");

    // Latency: answers still arrive (no timing asserted).
    mock.fault(Fault::Latency(Duration::from_millis(50)));
    c.get_top_games().send().await.unwrap();
    mock.fault(Fault::Clear);

    // Expired tokens: 401 until a new one is issued.
    let (status, _) = control(&mock, "/control/faults", json!({"expire_tokens": true})).await;
    assert_eq!(status, 200);
    let e = c.get_top_games().send().await.unwrap_err();
    assert!(matches!(&e, Error::Unauthorized { message, .. } if message == "Invalid OAuth token"), "{e:?}");
    let fresh = mock.mint_app_token(&mock.client_id());
    assert_eq!(send(&mock, &get("/games/top", &[]), Some(&fresh)).await.status, 200);
}

#[tokio::test]
async fn control_api_lists_sessions_and_mints_tokens() {
    let mock = start(Mock::builder().welcome_window(Duration::from_secs(600))).await;
    let (_ws, session_id) = session(&mock.ws_url()).await;
    let resp = http().get(format!("{}/control/sessions", mock.url())).send().await.unwrap();
    let state: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(state["sessions"][0]["id"].as_str(), Some(session_id.as_str()));
    let (status, minted) =
        control(&mock, "/control/tokens", json!({"kind": "user", "user_id": "5", "scopes": ["user:read:email"]})).await;
    assert_eq!(status, 200);
    let a = send(&mock, &get("/users", &[]), minted["access_token"].as_str()).await;
    assert_eq!(a.body["data"][0]["id"], "5");
    let (status, _) = control(&mock, "/control/close", json!({"code": "not a number"})).await;
    assert_eq!(status, 200, "a missing code closes with 4000");
    let resp = http().post(format!("{}/control/trigger", mock.url())).body("{broken").send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);
}

#[tokio::test]
async fn dropping_the_mock_closes_sessions_and_the_port() {
    let mock = start(Mock::builder().welcome_window(Duration::from_secs(600))).await;
    let (mut ws, _) = session(&mock.ws_url()).await;
    let url = mock.helix_url();
    mock.shutdown();
    assert_eq!(close_code(&mut ws).await, Some(1001), "going away");
    let refused = tokio::time::timeout(GUARD, http().get(format!("{url}/users")).send()).await.expect("hang guard");
    assert!(refused.is_err(), "nothing listens any more");
}

/// Shared chat sessions through the control API: started, refused for a
/// busy channel or a single one, ended once.
#[tokio::test]
async fn control_api_starts_and_ends_shared_chat() {
    let mock = start(Mock::builder()).await;
    let (status, started) =
        control(&mock, "/control/shared_chat", json!({"host_broadcaster_id": "1", "participants": ["2"]})).await;
    assert_eq!(status, 200, "{started}");
    let id = started["session_id"].as_str().expect("a session id").to_owned();
    let (busy, _) =
        control(&mock, "/control/shared_chat", json!({"host_broadcaster_id": "2", "participants": ["3"]})).await;
    assert_eq!(busy, 400);
    let (alone, _) = control(&mock, "/control/shared_chat", json!({"host_broadcaster_id": "4"})).await;
    assert_eq!(alone, 400);
    assert_eq!(control(&mock, "/control/shared_chat/end", json!({"session_id": id})).await.0, 204);
    assert_eq!(control(&mock, "/control/shared_chat/end", json!({"session_id": id})).await.0, 404);
}
