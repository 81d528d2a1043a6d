//! The mock as clients other than ours use it: body fields sent in the
//! query string, the old WebSocket after a reconnect, the Twitch CLI's
//! server layout (`/mock`, `/auth`, `/units`) and the control API under
//! its own prefix. Everything runs on 127.0.0.1.

use std::time::Duration;

use serde_json::{Value, json};
use twitch_mock::{Mock, MockServer};

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
    let (status, _) =
        helix(&mock, "POST", &format!("/chat/messages?broadcaster_id=1&sender_id=2&message={long}"), &token, None)
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
}
