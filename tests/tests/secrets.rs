//! No token or secret reaches `Debug`, `Display` or log output on any
//! error path: every answer of the identity service is made to fail
//! decoding while it carries secrets, and each error is printed both ways
//! while a subscriber captures everything the library logs.

mod support;

use std::sync::{Arc, Mutex};

use support::{Response, TestServer};
use twitch::webhook::{WebhookMessage, WebhookVerifier, headers};
use twitch::{ClientSecret, Error, Event, OAuth, TokenManager, UserToken};

/// Every secret the fake identity service hands out, and the client's own.
const SECRETS: &[&str] = &[
    "SECRET-ACCESS",
    "SECRET-REFRESH",
    "SECRET-ID-TOKEN",
    "SECRET-DEVICE",
    "SECRET-CLIENT",
    "987654321987",
    "SECRET-WEBHOOK",
    "SECRET-STREAM-KEY",
];

/// Log output, gathered from a subscriber that records everything.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn assert_clean(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} shows {s}: {text}");
    }
}

fn check(what: &str, e: &Error) {
    assert_clean(what, &format!("{e:?}"));
    assert_clean(what, &e.to_string());
    if let Error::Decode { body, .. } = e {
        assert_clean(what, body.as_str());
    }
}

/// Answers 200 to everything, in a shape that does not decode, with
/// secrets in it; `"access_token": <number>` makes the secret itself the
/// field that fails.
async fn broken_identity_service() -> TestServer {
    TestServer::start(|req| {
        let body = req.body_str();
        match req.path.as_str() {
            "/oauth2/token" if body.contains("refresh_token=number") => {
                Response::json(200, r#"{"access_token":987654321987,"refresh_token":"SECRET-REFRESH"}"#)
            }
            "/oauth2/token" => Response::json(
                200,
                r#"{"access_token":"SECRET-ACCESS","refresh_token":"SECRET-REFRESH","id_token":"SECRET-ID-TOKEN","expires_in":"soon","scope":[]}"#,
            ),
            "/oauth2/device" => Response::json(
                200,
                r#"{"device_code":"SECRET-DEVICE","expires_in":"later","interval":5,"user_code":"U","verification_uri":"https://x"}"#,
            ),
            "/oauth2/validate" => {
                Response::json(200, r#"{"client_id":["cid"],"access_token":"SECRET-ACCESS","expires_in":1}"#)
            }
            "/oauth2/userinfo" => Response::json(200, r#"{"sub":1,"access_token":"SECRET-ACCESS"}"#),
            "/oauth2/keys" => Response::json(200, r#"{"keys":5,"secret":"SECRET-CLIENT"}"#),
            "/helix/streams/key" => Response::json(200, r#"{"data":[{"stream_key":"SECRET-STREAM-KEY","x":}]}"#),
            _ => Response::json(401, r#"{"status":401,"message":"invalid access token"}"#),
        }
    })
    .await
}

fn oauth(server: &TestServer) -> OAuth {
    OAuth::new("cid", Some(ClientSecret::new("SECRET-CLIENT"))).auth_url(format!("{}/oauth2", server.url()))
}

#[tokio::test]
async fn no_oauth_answer_leaks_a_secret_when_it_fails_to_decode() {
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt().with_writer(log.clone()).with_max_level(tracing::Level::TRACE).finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = broken_identity_service().await;
    let o = oauth(&server);
    assert_clean("OAuth", &format!("{o:?}"));

    let mut errors: Vec<(&str, Error)> = Vec::new();
    errors.push(("client credentials", o.client_credentials().await.unwrap_err()));
    errors.push(("code exchange", o.exchange_code("c", "http://x").await.unwrap_err()));
    errors.push(("OIDC code exchange", o.exchange_code_oidc("c", "http://x", "n").await.unwrap_err()));
    let user = UserToken::new("SECRET-ACCESS", "1", "a").with_refresh_token("SECRET-REFRESH");
    errors.push(("refresh", o.refresh(&user).await.unwrap_err()));
    let numeric = UserToken::new("SECRET-ACCESS", "1", "a").with_refresh_token("number");
    errors.push(("refresh, secret field mistyped", o.refresh(&numeric).await.unwrap_err()));
    errors.push(("device start", o.device_start(&["chat:read"]).await.unwrap_err()));
    let device: twitch::DeviceCode = serde_json::from_str(
        r#"{"device_code":"SECRET-DEVICE","expires_in":60,"interval":1,"user_code":"U","verification_uri":"https://x"}"#,
    )
    .unwrap();
    assert_clean("DeviceCode", &format!("{device:?}"));
    errors.push(("device poll", o.device_poll(&device).await.unwrap_err()));
    errors.push(("validate", o.validate(&user.access_token).await.unwrap_err()));
    errors.push(("userinfo", o.userinfo(&user.access_token).await.unwrap_err()));
    let jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.e30.c2ln";
    errors.push(("ID token keys", o.verify_id_token(jwt, None).await.unwrap_err()));

    // The same through the token manager and the client's Helix path.
    let manager = TokenManager::new(o.clone());
    manager.add_user(user.clone()).await.unwrap();
    let client = twitch::Client::builder()
        .client_id("cid")
        .token_manager(manager.clone())
        .helix_url(format!("{}/helix", server.url()))
        .auth_url(format!("{}/oauth2", server.url()))
        .build()
        .unwrap();
    errors.push(("Helix 401 then refresh", client.get_users().send().await.unwrap_err()));
    errors.push(("app token", manager.app_token().await.unwrap_err()));
    let key = twitch::Client::builder()
        .client_id("cid")
        .user_token("SECRET-ACCESS")
        .helix_url(format!("{}/helix", server.url()))
        .build()
        .unwrap();
    errors.push(("stream key", key.get_stream_key("1").send().await.unwrap_err()));
    assert_clean("TokenManager", &format!("{manager:?}"));
    assert_clean("Client", &format!("{client:?}"));

    for (what, e) in &errors {
        check(what, e);
    }
    let decoded = errors.iter().filter(|(_, e)| matches!(e, Error::Decode { .. })).count();
    assert!(decoded >= 10, "the answers failed to decode, as arranged: {errors:?}");
    assert!(
        errors.iter().any(|(_, e)| matches!(e, Error::Decode { body, .. } if body.as_str().contains("[redacted]"))),
        "bodies are kept, with their secrets scrubbed"
    );
    let text = log.text();
    assert!(text.contains("oauth response"), "the subscriber captured the library's logs: {text}");
    assert_clean("log output", &text);
}

#[test]
fn a_webhook_body_that_fails_to_decode_keeps_its_secrets_out_of_errors() {
    let v = WebhookVerifier::new("SECRET-WEBHOOK");
    let body = r#"{"subscription":{"id":"1","type":"channel.follow","version":"2","status":"enabled","cost":0,"condition":{},"transport":{"method":"webhook","callback":"https://x","secret":"SECRET-WEBHOOK"},"created_at":"2019-11-16T10:11:12Z"},"event":7}"#;
    let ts = twitch::Timestamp::now().to_string();
    let sig = v.sign("m", &ts, body.as_bytes());
    let h = |name: &str| match name {
        headers::MESSAGE_ID => Some("m"),
        headers::MESSAGE_TIMESTAMP => Some(ts.as_str()),
        headers::MESSAGE_SIGNATURE => Some(sig.as_str()),
        headers::MESSAGE_TYPE => Some("notification"),
        _ => None,
    };
    let result = v.handle::<Event>(h, body.as_bytes(), std::time::SystemTime::now());
    match result {
        Ok((_, WebhookMessage::Notification { notification, .. })) => {
            // Delivered raw; the subscription's Debug holds no secret either.
            assert_clean("notification", &format!("{notification:?}"));
        }
        Err(e) => {
            assert_clean("webhook error", &format!("{e:?}"));
            assert_clean("webhook error", &e.to_string());
        }
        Ok(other) => panic!("{other:?}"),
    }
    assert_clean("verifier", &format!("{v:?}"));
}

/// Fields the schema marks `type: secret` (webhook transport secrets,
/// stream keys, extension secrets) are kept out of `Debug` in requests
/// and responses alike; they still go over the wire.
#[test]
fn secret_fields_of_requests_and_responses_are_not_debugged() {
    use twitch::helix::eventsub::EventSubTransportRequest;
    use twitch::shared::EventSubTransportMethod;
    let client = twitch::Client::builder().client_id("cid").app_token("SECRET-ACCESS").build().unwrap();
    let mut transport = EventSubTransportRequest::new(EventSubTransportMethod::Webhook);
    transport.callback = Some("https://example.com/cb".into());
    transport.secret = Some("SECRET-WEBHOOK".into());
    let req = client.create_eventsub_subscription(
        "stream.online",
        "1",
        serde_json::json!({"broadcaster_user_id": "1"}),
        transport,
    );
    assert_clean("request builder", &format!("{req:?}"));
    let prepared = req.prepare().unwrap();
    assert_clean("prepared request", &format!("{prepared:?}"));
    assert_clean("prepared request", &prepared.to_string());
    assert!(prepared.body.unwrap().contains("SECRET-WEBHOOK"), "the secret is still sent");
    let raw = client
        .raw(twitch::Method::Post, "/eventsub/subscriptions")
        .json(&serde_json::json!({"transport": {"method": "webhook", "secret": "SECRET-WEBHOOK"}}))
        .unwrap();
    assert_clean("raw request", &format!("{raw:?}"));

    let key: twitch::helix::streams::StreamKey = serde_json::from_str(r#"{"stream_key":"SECRET-STREAM-KEY"}"#).unwrap();
    assert_clean("stream key", &format!("{key:?}"));
    assert_eq!(key.stream_key.secret(), "SECRET-STREAM-KEY");
}
