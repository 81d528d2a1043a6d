//! The mock as clients other than ours use it: body fields sent in the
//! query string, the old WebSocket after a reconnect, the Twitch CLI's
//! server layout (`/mock`, `/auth`, `/units`) and the control API under
//! its own prefix. Everything runs on 127.0.0.1.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use twitch_mock::{Mock, MockServer, TriggerOptions};

/// Hang guard for anything awaited; never an assertion about speed.
const GUARD: Duration = Duration::from_secs(60);

fn http() -> reqwest::Client {
    twitch::__rt::tls::client_builder().expect("TLS setup").pool_max_idle_per_host(0).build().expect("reqwest client")
}

/// Status and JSON body (`Null` when empty or not JSON) of a request to
/// `url` (a full URL), with the mock's client id and this token.
async fn request(mock: &MockServer, method: &str, url: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = http().request(method, url).header("Client-Id", mock.client_id());
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    if let Some(b) = body {
        req = req.header("Content-Type", "application/json").body(b.to_string());
    }
    let resp = tokio::time::timeout(GUARD, req.send()).await.expect("hang guard").expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A response's JSON body (`Null` when empty or not JSON).
async fn json_of(resp: reqwest::Response) -> Value {
    serde_json::from_str(&resp.text().await.expect("body")).unwrap_or(Value::Null)
}

/// A Helix request (`path_and_query` after `/helix`).
async fn helix(
    mock: &MockServer,
    method: &str,
    path_and_query: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    request(mock, method, &format!("{}{path_and_query}", mock.helix_url()), Some(token), body).await
}

// ---------------------------------------------------------------------------
// Body fields in the query string

#[tokio::test]
async fn send_chat_message_takes_its_body_fields_from_the_query() {
    let mock = Mock::builder().start().await.unwrap();
    let token = mock.mint_user_token("141981764", "twitchdev", &["user:write:chat"]);
    // Everything in the query, as some clients send it.
    let (status, body) =
        helix(&mock, "POST", "/chat/messages?broadcaster_id=1001&sender_id=141981764&message=hello", &token, None)
            .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"][0]["is_sent"], true, "{body}");
    // The ids in the query, the message in the body.
    let (status, body) = helix(
        &mock,
        "POST",
        "/chat/messages?broadcaster_id=1001&sender_id=141981764",
        &token,
        Some(json!({"message": "and hello again"})),
    )
    .await;
    assert_eq!((status, body["data"][0]["is_sent"].as_bool()), (200, Some(true)), "{body}");
    let log = mock.chat_log();
    assert_eq!(
        log.iter().map(|e| (e.broadcaster_id.as_str(), e.text.as_str())).collect::<Vec<_>>(),
        [("1001", "hello"), ("1001", "and hello again")]
    );
    // The body wins over the query when both have a field.
    let (status, _) = helix(
        &mock,
        "POST",
        "/chat/messages?broadcaster_id=2002&sender_id=141981764&message=ignored",
        &token,
        Some(json!({"broadcaster_id": "1001", "sender_id": "141981764", "message": "from the body"})),
    )
    .await;
    assert_eq!(status, 200);
    let last = mock.chat_log().pop().unwrap();
    assert_eq!((last.broadcaster_id.as_str(), last.text.as_str()), ("1001", "from the body"));
    // Still missing anywhere: Twitch's 400, naming the field.
    let (status, body) =
        helix(&mock, "POST", "/chat/messages?broadcaster_id=1001&sender_id=141981764", &token, None).await;
    assert_eq!((status, body["message"].as_str()), (400, Some("Missing required parameter \"message\"")));
    // The documented limits hold for a query value too.
    let long = "x".repeat(501);
    let (status, _) = helix(
        &mock,
        "POST",
        &format!("/chat/messages?broadcaster_id=1&sender_id=141981764&message={long}"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn create_conduits_and_other_writes_take_query_fields_typed_as_documented() {
    let mock = Mock::builder().start().await.unwrap();
    let app = mock.mint_app_token(&mock.client_id());
    // shard_count is a number in the body; from the query it is one too.
    let (status, body) = helix(&mock, "POST", "/eventsub/conduits?shard_count=3", &app, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"][0]["shard_count"], 3, "{body}");
    let id = body["data"][0]["id"].as_str().unwrap().to_owned();
    let (status, body) = helix(&mock, "PATCH", &format!("/eventsub/conduits?id={id}&shard_count=1"), &app, None).await;
    assert_eq!((status, body["data"][0]["shard_count"].as_u64()), (200, Some(1)), "{body}");
    // Out of range from the query is the same 400 as in the body.
    let (status, _) = helix(&mock, "POST", "/eventsub/conduits?shard_count=20001", &app, None).await;
    assert_eq!(status, 400);
    let (status, _) = helix(&mock, "POST", "/eventsub/conduits?shard_count=many", &app, None).await;
    assert_eq!(status, 400);

    // A boolean and a number of Create Custom Rewards from the query.
    let user = mock.mint_user_token("141981764", "twitchdev", &["channel:manage:redemptions"]);
    let (status, body) = helix(
        &mock,
        "POST",
        "/channel_points/custom_rewards?broadcaster_id=141981764&title=from%20the%20query&cost=250&is_enabled=false",
        &user,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let reward = &body["data"][0];
    assert_eq!((reward["title"].as_str(), reward["cost"].as_u64()), (Some("from the query"), Some(250)), "{body}");
    assert_eq!(reward["is_enabled"], false, "{body}");
}

// ---------------------------------------------------------------------------
// The old WebSocket after session_reconnect

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

/// The next JSON message that is not a keepalive, or the close code (`Err`).
async fn next_message(ws: &mut Ws) -> Result<Value, Option<u16>> {
    loop {
        match tokio::time::timeout(GUARD, ws.next()).await.expect("hang guard: nothing from the server") {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t).expect("JSON message");
                if v["metadata"]["message_type"] != "session_keepalive" {
                    return Ok(v);
                }
            }
            Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| u16::from(f.code))),
            Some(Ok(_)) => {}
            None | Some(Err(_)) => return Err(None),
        }
    }
}

/// A session subscribed to `stream.online` of broadcaster 1, asked to
/// reconnect, and its new connection: (old, new, session id).
async fn reconnected(mock: &MockServer) -> (Ws, Ws, String) {
    let mut old = ws_connect(&mock.ws_url()).await;
    let welcome = next_message(&mut old).await.unwrap();
    let session_id = welcome["payload"]["session"]["id"].as_str().unwrap().to_owned();
    let token = mock.mint_user_token("1", "one", &[]);
    let body = json!({"type": "stream.online", "version": "1", "condition": {"broadcaster_user_id": "1"},
        "transport": {"method": "websocket", "session_id": session_id}});
    let (status, _) = helix(mock, "POST", "/eventsub/subscriptions", &token, Some(body)).await;
    assert_eq!(status, 202);
    assert_eq!(mock.reconnect(Some(&session_id)), [session_id.as_str()]);
    let r = next_message(&mut old).await.unwrap();
    assert_eq!(r["metadata"]["message_type"], "session_reconnect");
    let mut new = ws_connect(r["payload"]["session"]["reconnect_url"].as_str().unwrap()).await;
    let welcome = next_message(&mut new).await.unwrap();
    assert_eq!(welcome["metadata"]["message_type"], "session_welcome");
    assert_eq!(welcome["payload"]["session"]["id"], session_id.as_str());
    (old, new, session_id)
}

#[tokio::test]
async fn after_a_reconnect_the_old_socket_stays_open_for_the_grace_then_closes_with_4004() {
    let grace = Duration::from_millis(800);
    let mock =
        Mock::builder().welcome_window(Duration::from_secs(600)).old_connection_grace(grace).start().await.unwrap();
    let (mut old, mut new, _) = reconnected(&mock).await;
    let welcomed = std::time::Instant::now();
    // Events go to the new connection only.
    let t = mock.trigger("stream.online", None, TriggerOptions::default()).unwrap();
    assert_eq!(t.delivered, 1);
    let n = next_message(&mut new).await.unwrap();
    assert_eq!(n["metadata"]["subscription_type"], "stream.online");
    // The old one gets nothing more and is closed with 4004, not before the grace.
    assert_eq!(next_message(&mut old).await, Err(Some(4004)));
    assert!(welcomed.elapsed() >= grace, "closed {:?} after the welcome, grace {grace:?}", welcomed.elapsed());
    // The session lives on: its subscription is still enabled and delivers.
    assert_eq!(mock.state()["subscriptions"][0]["status"], "enabled");
    assert_eq!(mock.trigger("stream.online", None, TriggerOptions::default()).unwrap().delivered, 1);
    assert_eq!(next_message(&mut new).await.unwrap()["metadata"]["message_type"], "notification");
}

#[tokio::test]
async fn a_client_that_closes_the_old_socket_itself_within_the_grace_keeps_its_session() {
    // A long grace: the client's own close comes first.
    let mock = Mock::builder()
        .welcome_window(Duration::from_secs(600))
        .old_connection_grace(Duration::from_secs(600))
        .start()
        .await
        .unwrap();
    let (mut old, mut new, _) = reconnected(&mock).await;
    // The old socket is still open: the server answers the client's close
    // with its own (the closing handshake), not with 4004.
    use futures_util::SinkExt;
    old.send(Message::Close(None)).await.expect("the old socket is still open");
    assert!(matches!(next_message(&mut old).await, Err(None | Some(1005) | Some(1000))));
    assert_eq!(mock.trigger("stream.online", None, TriggerOptions::default()).unwrap().delivered, 1);
    assert_eq!(next_message(&mut new).await.unwrap()["metadata"]["subscription_type"], "stream.online");
    assert_eq!(mock.state()["subscriptions"][0]["status"], "enabled");
}

// ---------------------------------------------------------------------------
// The Twitch CLI's layout

#[tokio::test]
async fn a_client_pointed_at_the_cli_layout_gets_tokens_from_auth_and_reads_helix_under_mock() {
    let mock = Mock::builder().client("cli-client", "cli-secret-123").start().await.unwrap();
    let url = mock.url();
    // The CLI's app token: client credentials in the query of POST /auth/token.
    let resp = http()
        .post(format!(
            "{url}/auth/token?client_id=cli-client&client_secret=cli-secret-123&grant_type=client_credentials"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let answer = json_of(resp).await;
    let app = answer["access_token"].as_str().expect("access_token").to_owned();
    assert_eq!(answer["token_type"], "bearer");
    let (status, users) = request(&mock, "GET", &format!("{url}/mock/users?login=twitchdev"), Some(&app), None).await;
    assert_eq!((status, users["data"][0]["id"].as_str()), (200, Some("141981764")), "{users}");
    // The same token and state on /helix: one mock, two layouts.
    let (status, _) = request(&mock, "GET", &format!("{url}/helix/users?login=twitchdev"), Some(&app), None).await;
    assert_eq!(status, 200);
    // A wrong secret is refused as on /oauth2.
    let resp = http()
        .post(format!("{url}/auth/token?client_id=cli-client&client_secret=wrong&grant_type=client_credentials"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);

    // The CLI's user token: POST /auth/authorize?grant_type=user_token.
    let resp = http()
        .post(format!(
            "{url}/auth/authorize?client_id=cli-client&client_secret=cli-secret-123&grant_type=user_token&user_id=10005&scope=user:read:email%20user:write:chat"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let answer = json_of(resp).await;
    assert_eq!(answer["scope"], json!(["user:read:email", "user:write:chat"]));
    let user = answer["access_token"].as_str().unwrap().to_owned();
    let (status, me) = request(&mock, "GET", &format!("{url}/mock/users"), Some(&user), None).await;
    assert_eq!((status, me["data"][0]["login"].as_str()), (200, Some("mockuser5")), "{me}");
    // Validate under /auth too.
    let resp = http().get(format!("{url}/auth/validate")).header("Authorization", format!("OAuth {user}")).send().await;
    let v = json_of(resp.unwrap()).await;
    assert_eq!((v["user_id"].as_str(), v["client_id"].as_str()), (Some("10005"), Some("cli-client")));

    // Our own client, configured with the CLI layout's URLs.
    let oauth = twitch::OAuth::new("cli-client", Some(twitch::ClientSecret::new("cli-secret-123")))
        .auth_url(format!("{url}/auth"));
    let token = oauth.client_credentials().await.expect("client credentials under /auth");
    let client = twitch::Client::builder()
        .client_id("cli-client")
        .helix_url(format!("{url}/mock"))
        .app_token(token.access_token.secret())
        .build()
        .unwrap();
    let users = client.get_users().login("mockuser1").send().await.expect("Get Users under /mock");
    assert_eq!(users[0].login, "mockuser1");
    let mut streams = client.get_streams().first(50).paginate();
    let mut n = 0;
    while streams.try_next().await.expect("a page under /mock").is_some() {
        n += 1;
    }
    assert_eq!(n, 120, "every item of the data set, walked under /mock");
}

#[tokio::test]
async fn units_list_clients_users_categories_streams_subscriptions_and_videos() {
    let mock = Mock::builder().client("cli-client", "cli-secret-123").page_items(30).start().await.unwrap();
    let unit = |name: &str, query: &str| {
        let url = format!("{}/units/{name}{query}", mock.url());
        async move {
            let resp = http().get(url).send().await.unwrap();
            (resp.status().as_u16(), json_of(resp).await)
        }
    };
    let (status, clients) = unit("clients", "").await;
    assert_eq!(status, 200);
    assert_eq!(
        clients["data"],
        json!([{"ID": "cli-client", "Secret": "", "Name": "twitch-mock client", "IsExtension": false}])
    );
    assert!(!clients.to_string().contains("cli-secret-123"), "no secret is shown");
    let (_, users) = unit("users", "").await;
    let logins: Vec<&str> = users["data"].as_array().unwrap().iter().filter_map(|u| u["login"].as_str()).collect();
    assert!(logins.contains(&"twitchdev") && logins.contains(&"mockuser99"), "{logins:?}");
    // 101 users: twitchdev and mockuser1..=100, 100 to a page by default.
    assert_eq!((users["total"].as_u64(), logins.len()), (Some(101), 100));
    assert!(!users["cursor"].as_str().unwrap_or("").is_empty());
    for (name, field) in
        [("categories", "box_art_url"), ("streams", "viewer_count"), ("subscriptions", "tier"), ("videos", "duration")]
    {
        let (status, body) = unit(name, "").await;
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(body["total"], 30, "{name}: {body}");
        assert!(body["data"][0].get(field).is_some(), "{name} items look like Helix's: {body}");
    }
    // Paged as the CLI pages units.
    let (_, first) = unit("streams", "?first=20").await;
    assert_eq!(first["data"].as_array().unwrap().len(), 20);
    let cursor = first["cursor"].as_str().unwrap().to_owned();
    assert!(!cursor.is_empty());
    let (_, rest) = unit("streams", &format!("?first=20&after={cursor}")).await;
    assert_eq!((rest["data"].as_array().unwrap().len(), rest["cursor"].as_str()), (10, Some("")));
    assert_eq!(unit("streams", "?after=garbage").await.0, 400);
    assert_eq!(unit("nothing", "").await.0, 404);
}

#[tokio::test]
async fn eventsub_subscriptions_at_the_root_are_helix_and_the_control_api_has_its_own_prefix() {
    let mock = Mock::builder().welcome_window(Duration::from_secs(600)).start().await.unwrap();
    let url = mock.url();
    let mut ws = ws_connect(&mock.ws_url()).await;
    let session_id = next_message(&mut ws).await.unwrap()["payload"]["session"]["id"].as_str().unwrap().to_owned();
    let token = mock.mint_user_token("1", "one", &[]);
    // Subscribe at the CLI WebSocket server's address.
    let body = json!({"type": "stream.online", "version": "1", "condition": {"broadcaster_user_id": "1"},
        "transport": {"method": "websocket", "session_id": session_id}});
    let (status, created) =
        request(&mock, "POST", &format!("{url}/eventsub/subscriptions"), Some(&token), Some(body)).await;
    assert_eq!(status, 202, "{created}");
    let id = created["data"][0]["id"].as_str().unwrap().to_owned();
    // Listed there and on /helix: the same subscriptions.
    for base in [format!("{url}/eventsub"), format!("{url}/helix/eventsub"), format!("{url}/mock/eventsub")] {
        let (status, list) = request(&mock, "GET", &format!("{base}/subscriptions"), Some(&token), None).await;
        assert_eq!((status, list["data"][0]["id"].as_str()), (200, Some(id.as_str())), "{base}: {list}");
    }
    // The control API, under /control, triggers it.
    let resp = http().post(format!("{url}/control/trigger")).body(r#"{"type": "stream.online"}"#).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let n = next_message(&mut ws).await.unwrap();
    assert_eq!(n["payload"]["subscription"]["id"], id.as_str());
    let resp = http().get(format!("{url}/control/sessions")).send().await.unwrap();
    let sessions = json_of(resp).await;
    assert_eq!(sessions["sessions"][0]["id"], session_id.as_str());
    // The old control paths are gone: /eventsub/... is Helix's, and Helix
    // knows no /eventsub/trigger (nor answers it without a token).
    let resp =
        http().post(format!("{url}/eventsub/trigger")).body(r#"{"type": "stream.online"}"#).send().await.unwrap();
    assert!(matches!(resp.status().as_u16(), 401 | 404), "{}", resp.status());
    let (status, _) = request(&mock, "GET", &format!("{url}/eventsub/sessions"), Some(&token), None).await;
    assert_eq!(status, 404);
    // Delete at the root.
    let (status, _) =
        request(&mock, "DELETE", &format!("{url}/eventsub/subscriptions?id={id}"), Some(&token), None).await;
    assert_eq!(status, 204);
    assert_eq!(mock.state()["subscriptions"], json!([]));
}
