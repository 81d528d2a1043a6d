//! The mock's extension writes keep state: configuration segments,
//! required configurations, JWT secrets, Bits products and a user's active
//! extensions. Every write answers with what it wrote and later reads show
//! it; what nobody wrote answers from Twitch's examples. On 127.0.0.1.

use std::time::Duration;

use serde_json::{Value, json};
use twitch_mock::{Mock, MockServer};

/// Hang guard for anything awaited; never an assertion about speed.
const GUARD: Duration = Duration::from_secs(60);

const ME: &str = "141981764";

const EXT: &str = "uo6dggojyb8d6soh92zknwmi5ej1q2";

/// A JWT-shaped token; the mock checks the shape of extension JWTs, not signatures.
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiMSIsInJvbGUiOiJleHRlcm5hbCJ9.c2lnbmF0dXJl";

fn http() -> reqwest::Client {
    twitch::__rt::tls::client_builder().expect("TLS setup").pool_max_idle_per_host(0).build().expect("reqwest client")
}

/// A Helix request with this token: status and JSON body (`Null` when empty).
async fn helix_with(
    mock: &MockServer,
    token: &str,
    method: &str,
    path_and_query: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = http()
        .request(method, format!("{}{path_and_query}", mock.helix_url()))
        .header("Client-Id", mock.client_id())
        .header("Authorization", format!("Bearer {token}"));
    if let Some(b) = body {
        req = req.header("Content-Type", "application/json").body(b.to_string());
    }
    let resp = tokio::time::timeout(GUARD, req.send()).await.expect("hang guard").expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A request signed as the extension's backend.
async fn ebs(mock: &MockServer, method: &str, path_and_query: &str, body: Option<Value>) -> (u16, Value) {
    helix_with(mock, JWT, method, path_and_query, body).await
}

/// A request with the extension's app access token.
async fn app(mock: &MockServer, method: &str, path_and_query: &str, body: Option<Value>) -> (u16, Value) {
    let token = mock.mint_app_token(&mock.client_id());
    helix_with(mock, &token, method, path_and_query, body).await
}

/// A request as the broadcaster `ME`.
async fn user(mock: &MockServer, method: &str, path_and_query: &str, body: Option<Value>) -> (u16, Value) {
    let token = mock.mint_user_token(ME, "twitchdev", &["user:edit:broadcast", "user:read:broadcast"]);
    helix_with(mock, &token, method, path_and_query, body).await
}

async fn mock() -> MockServer {
    Mock::builder().start().await.expect("start the mock")
}

fn message(body: &Value) -> &str {
    body["message"].as_str().unwrap_or("")
}

#[tokio::test]
async fn configuration_segments() {
    let mock = mock().await;
    // Nothing written: Twitch's example.
    let (status, before) =
        ebs(&mock, "GET", &format!("/extensions/configurations?extension_id={EXT}&segment=global"), None).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(before["data"][0]["content"], "hello config!", "{before}");

    let global = json!({"extension_id": EXT, "segment": "global", "version": "0.0.2", "content": "{\"a\":1}"});
    let (status, _) = ebs(&mock, "PUT", "/extensions/configurations", Some(global)).await;
    assert_eq!(status, 204);
    let mine =
        json!({"extension_id": EXT, "segment": "broadcaster", "broadcaster_id": ME, "version": "1", "content": "mine"});
    let (status, _) = ebs(&mock, "PUT", "/extensions/configurations", Some(mine)).await;
    assert_eq!(status, 204);

    let (status, got) = ebs(
        &mock,
        "GET",
        &format!("/extensions/configurations?extension_id={EXT}&broadcaster_id={ME}&segment=broadcaster&segment=global&segment=broadcaster"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        got["data"],
        json!([
            {"segment": "broadcaster", "broadcaster_id": ME, "content": "mine", "version": "1"},
            {"segment": "global", "content": "{\"a\":1}", "version": "0.0.2"},
        ])
    );

    // Another broadcaster's segment is not this one's.
    let (_, other) = ebs(
        &mock,
        "GET",
        &format!("/extensions/configurations?extension_id={EXT}&broadcaster_id=1&segment=broadcaster"),
        None,
    )
    .await;
    assert_ne!(other["data"][0]["content"], "mine", "{other}");

    // Without a version the latest is updated: the version stays.
    let (status, _) = ebs(
        &mock,
        "PUT",
        "/extensions/configurations",
        Some(json!({"extension_id": EXT, "segment": "global", "content": "v2"})),
    )
    .await;
    assert_eq!(status, 204);
    let (_, got) =
        ebs(&mock, "GET", &format!("/extensions/configurations?extension_id={EXT}&segment=global"), None).await;
    assert_eq!(got["data"], json!([{"segment": "global", "content": "v2", "version": "0.0.2"}]));
}

#[tokio::test]
async fn configuration_segment_errors() {
    let mock = mock().await;
    let (status, body) = ebs(
        &mock,
        "PUT",
        "/extensions/configurations",
        Some(json!({"extension_id": EXT, "segment": "developer", "content": "x"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(message(&body), "The broadcaster_id field is required if segment is set to developer or broadcaster");

    let (status, body) =
        ebs(&mock, "GET", &format!("/extensions/configurations?extension_id={EXT}&segment=developer"), None).await;
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).starts_with("The broadcaster_id query parameter is required"), "{body}");

    let (status, body) =
        ebs(&mock, "GET", &format!("/extensions/configurations?extension_id={EXT}&segment=nope"), None).await;
    assert_eq!((status, message(&body)), (400, "The value in the segment query parameter is not valid."));

    let big = "x".repeat(5 * 1024 + 1);
    let (status, body) = ebs(
        &mock,
        "PUT",
        "/extensions/configurations",
        Some(json!({"extension_id": EXT, "segment": "global", "content": big})),
    )
    .await;
    assert_eq!((status, message(&body)), (400, "The segment is limited to 5 KB"));

    // A user token is no extension JWT.
    let (status, _) =
        user(&mock, "GET", &format!("/extensions/configurations?extension_id={EXT}&segment=global"), None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn required_configuration() {
    let mock = mock().await;
    let body = json!({"required_configuration": "RCS", "extension_id": EXT, "extension_version": "0.0.1"});
    let (status, _) =
        ebs(&mock, "PUT", &format!("/extensions/required_configuration?broadcaster_id={ME}"), Some(body)).await;
    assert_eq!(status, 204);
    let (status, body) = ebs(
        &mock,
        "PUT",
        &format!("/extensions/required_configuration?broadcaster_id={ME}"),
        Some(json!({"required_configuration": "", "extension_id": EXT, "extension_version": "0.0.1"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).contains("required_configuration"), "{body}");
}

#[tokio::test]
async fn secrets_rotate() {
    let mock = mock().await;
    let (_, before) = ebs(&mock, "GET", &format!("/extensions/jwt/secrets?extension_id={EXT}"), None).await;
    assert_eq!(before["data"][0]["secrets"][0]["content"], "secret", "{before}");

    let (status, created) =
        ebs(&mock, "POST", &format!("/extensions/jwt/secrets?extension_id={EXT}&delay=600"), None).await;
    assert_eq!(status, 200, "{created}");
    let secrets = created["data"][0]["secrets"].as_array().unwrap().clone();
    assert_eq!(created["data"][0]["format_version"], 1);
    assert_eq!(secrets.len(), 2, "{created}");
    let time = |v: &Value| twitch::Timestamp::parse(v.as_str().unwrap()).unwrap().unix_timestamp();
    let new = &secrets[1];
    assert_ne!(new["content"], "secret");
    assert!(new["content"].as_str().unwrap().len() >= 16, "{new}");
    let now = twitch::Timestamp::now().unix_timestamp();
    let active_at = time(&new["active_at"]);
    assert!((now + 590..=now + 610).contains(&active_at), "{new}");
    assert!(time(&new["expires_at"]) > active_at + 365 * 24 * 3600, "{new}");
    // The old secret leaves service once the new one is active.
    assert_eq!(time(&secrets[0]["expires_at"]), active_at, "{created}");

    let (_, listed) = ebs(&mock, "GET", &format!("/extensions/jwt/secrets?extension_id={EXT}"), None).await;
    assert_eq!(listed, created);

    // Default delay: 300 seconds.
    let (_, again) = ebs(&mock, "POST", &format!("/extensions/jwt/secrets?extension_id={EXT}"), None).await;
    let secrets = again["data"][0]["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 3, "{again}");
    let active_at = time(&secrets[2]["active_at"]);
    let now = twitch::Timestamp::now().unix_timestamp();
    assert!((now + 290..=now + 310).contains(&active_at), "{again}");
    assert!(secrets[..2].iter().all(|s| time(&s["expires_at"]) <= active_at), "{again}");

    // Another extension's secrets are its own.
    let (_, other) = ebs(&mock, "GET", "/extensions/jwt/secrets?extension_id=other", None).await;
    assert_eq!(other, before);

    let (status, body) =
        ebs(&mock, "POST", &format!("/extensions/jwt/secrets?extension_id={EXT}&delay=299"), None).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn bits_products() {
    let mock = mock().await;
    let (_, before) = app(&mock, "GET", "/bits/extensions?should_include_all=true", None).await;
    assert_eq!(before["data"][0]["sku"], "1010", "{before}");

    let crate_b = json!({"sku": "b-crate", "cost": {"amount": 50, "type": "bits"}, "display_name": "Crate B"});
    let (status, written) = app(&mock, "PUT", "/bits/extensions", Some(crate_b)).await;
    assert_eq!(status, 200, "{written}");
    assert_eq!(
        written["data"],
        json!([{
            "sku": "b-crate", "cost": {"amount": 50, "type": "bits"}, "in_development": false,
            "display_name": "Crate B", "expiration": "", "is_broadcast": false,
        }])
    );
    let old = json!({
        "sku": "a.old", "cost": {"amount": 10, "type": "bits"}, "display_name": "Gone",
        "expiration": "2021-05-18T09:10:13.397Z", "is_broadcast": true, "in_development": true,
    });
    let (status, written) = app(&mock, "PUT", "/bits/extensions", Some(old)).await;
    assert_eq!(status, 200, "{written}");
    assert_eq!(written["data"][0]["expiration"], "2021-05-18T09:10:13.397Z");

    let skus = |b: &Value| {
        b["data"].as_array().unwrap().iter().map(|p| p["sku"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    let (_, enabled) = app(&mock, "GET", "/bits/extensions", None).await;
    assert_eq!(skus(&enabled), ["b-crate"], "{enabled}");
    let (_, all) = app(&mock, "GET", "/bits/extensions?should_include_all=true", None).await;
    assert_eq!(skus(&all), ["a.old", "b-crate"], "{all}");
    assert_eq!(all["data"][0]["is_broadcast"], true);

    // Same SKU: updated, not added.
    let renamed = json!({"sku": "b-crate", "cost": {"amount": 75, "type": "bits"}, "display_name": "Crate B2"});
    let (_, written) = app(&mock, "PUT", "/bits/extensions", Some(renamed)).await;
    assert_eq!(written["data"][0]["display_name"], "Crate B2");
    let (_, enabled) = app(&mock, "GET", "/bits/extensions", None).await;
    assert_eq!(enabled["data"].as_array().unwrap().len(), 1, "{enabled}");
    assert_eq!(enabled["data"][0]["cost"]["amount"], 75);
}

#[tokio::test]
async fn bits_product_errors() {
    let mock = mock().await;
    let cases = [
        (
            json!({"sku": "has space", "cost": {"amount": 1, "type": "bits"}, "display_name": "x"}),
            "The value in the sku field is not valid",
        ),
        (
            json!({"sku": "s", "cost": {"type": "bits"}, "display_name": "x"}),
            "The cost object's amount field is required",
        ),
        (
            json!({"sku": "s", "cost": {"amount": 0, "type": "bits"}, "display_name": "x"}),
            "The value in the cost object's amount field is not valid",
        ),
        (json!({"sku": "s", "cost": {"amount": 1}, "display_name": "x"}), "The cost object's type field is required"),
        (
            json!({"sku": "s", "cost": {"amount": 1, "type": "gold"}, "display_name": "x"}),
            "The value in the cost object's type field is not valid",
        ),
    ];
    for (body, want) in cases {
        let (status, answer) = app(&mock, "PUT", "/bits/extensions", Some(body.clone())).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        assert!(message(&answer).starts_with(want), "{body} -> {answer}");
    }
    // Nothing was written: the example still answers.
    let (_, all) = app(&mock, "GET", "/bits/extensions?should_include_all=true", None).await;
    assert_eq!(all["data"][0]["sku"], "1010", "{all}");
}

#[tokio::test]
async fn user_extensions() {
    let mock = mock().await;
    let (_, before) = user(&mock, "GET", "/users/extensions", None).await;
    assert_eq!(before["data"]["panel"]["1"]["name"], "TopClip", "{before}");

    let update = json!({"data": {
        "panel": {"1": {"active": true, "id": "myextension0000000000000000000", "version": "2.0.0"}, "2": {"active": false}},
        "component": {"2": {"active": true, "id": "lqnf3zxk0rv0g7gq92mtmnirjz2cjj", "version": "0.0.2", "x": 10, "y": 20}},
    }});
    let (status, written) = user(&mock, "PUT", "/users/extensions", Some(update)).await;
    assert_eq!(status, 200, "{written}");
    let data = &written["data"];
    assert_eq!(data["panel"]["1"], json!({"active": true, "id": "myextension0000000000000000000", "version": "2.0.0"}));
    assert_eq!(data["panel"]["2"], json!({"active": false}));
    // Slots the request left alone stay.
    assert_eq!(data["panel"]["3"], before["data"]["panel"]["3"]);
    assert_eq!(data["overlay"], before["data"]["overlay"]);
    assert_eq!(
        data["component"]["2"],
        json!({"active": true, "id": "lqnf3zxk0rv0g7gq92mtmnirjz2cjj", "version": "0.0.2", "name": "Dev Experience Test", "x": 10, "y": 20})
    );

    let (_, mine) = user(&mock, "GET", "/users/extensions", None).await;
    assert_eq!(mine, written);
    // Another user's, and by user_id with an app token.
    let (_, by_id) = app(&mock, "GET", &format!("/users/extensions?user_id={ME}"), None).await;
    assert_eq!(by_id, written);
    let (_, other) = app(&mock, "GET", "/users/extensions?user_id=1", None).await;
    assert_eq!(other, before);
}

#[tokio::test]
async fn user_extension_errors() {
    let mock = mock().await;
    let (status, body) = app(&mock, "GET", "/users/extensions", None).await;
    assert_eq!(
        (status, message(&body)),
        (400, "The user_id query parameter is required if you specify an app access token")
    );

    for bad in [
        json!({"data": {"sidebar": {"1": {"active": false}}}}),
        json!({"data": {"overlay": {"2": {"active": false}}}}),
        json!({"data": {"panel": {"1": {"active": true}}}}),
        json!({"data": {"panel": {"1": {"id": "x", "version": "1"}}}}),
        json!({"data": "panel"}),
    ] {
        let (status, body) = user(&mock, "PUT", "/users/extensions", Some(bad.clone())).await;
        assert_eq!((status, message(&body)), (400, "The JSON payload is malformed"), "{bad}");
    }
    let (_, mine) = user(&mock, "GET", "/users/extensions", None).await;
    assert_eq!(mine["data"]["panel"]["1"]["name"], "TopClip", "a refused write changes nothing: {mine}");
}

#[tokio::test]
async fn through_the_generated_client() {
    use twitch::helix::extensions::{ExtensionBitsProductCostInput, ExtensionCostType};
    use twitch::helix::users::{UserExtensionSlotUpdate, UserExtensionSlotsUpdate, UserExtensionsUpdate};

    let mock = mock().await;
    let app = mock.client_builder().app_token(mock.mint_app_token(&mock.client_id())).build().unwrap();
    let written = app
        .update_extension_bits_product("gem", ExtensionBitsProductCostInput::new(100, ExtensionCostType::Bits), "Gem")
        .is_broadcast(true)
        .send()
        .await
        .expect("Update Extension Bits Product");
    assert_eq!(written.len(), 1);
    assert_eq!((written[0].sku.as_str(), written[0].cost.amount, written[0].is_broadcast), ("gem", 100, true));
    let listed = app.get_extension_bits_products().send().await.expect("Get Extension Bits Products");
    assert_eq!(listed, written);

    let token = mock.mint_user_token(ME, "twitchdev", &["user:edit:broadcast"]);
    let me = mock.client_builder().user_token(token).build().unwrap();
    let slot = UserExtensionSlotUpdate::new(true).id(EXT).version("0.0.9");
    let update = UserExtensionsUpdate::new().overlay(UserExtensionSlotsUpdate::new().slot_1(slot));
    let active = me.update_user_extensions(update).send().await.expect("Update User Extensions");
    let overlay = active.overlay.slot_1.clone().expect("overlay slot 1");
    assert_eq!((overlay.active, overlay.version.as_deref()), (true, Some("0.0.9")));
    assert_eq!(overlay.id.as_ref().map(|i| i.as_str()), Some(EXT));
    let read = me.get_user_active_extensions().send().await.expect("Get User Active Extensions");
    assert_eq!(read, active);
}

/// The JWT endpoints' answers decode into their generated types.
#[tokio::test]
async fn jwt_answers_decode() {
    use twitch::helix::extensions::{ExtensionConfigurationSegment, ExtensionSecrets};

    let mock = mock().await;
    let segment = json!({"extension_id": EXT, "segment": "developer", "broadcaster_id": ME, "content": "dev"});
    ebs(&mock, "PUT", "/extensions/configurations", Some(segment)).await;
    let (_, got) = ebs(
        &mock,
        "GET",
        &format!("/extensions/configurations?extension_id={EXT}&broadcaster_id={ME}&segment=developer"),
        None,
    )
    .await;
    let segments: Vec<ExtensionConfigurationSegment> = serde_json::from_value(got["data"].clone()).expect("segments");
    assert_eq!(segments[0].content, "dev");
    assert_eq!(segments[0].broadcaster_id.as_ref().map(|b| b.as_str()), Some(ME));

    let (_, created) = ebs(&mock, "POST", &format!("/extensions/jwt/secrets?extension_id={EXT}"), None).await;
    let secrets: Vec<ExtensionSecrets> = serde_json::from_value(created["data"].clone()).expect("secrets");
    assert_eq!(secrets[0].secrets.len(), 2);
}
