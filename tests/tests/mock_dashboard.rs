//! The mock's dashboard in a real browser: headless Chromium driven over
//! WebDriver (chromedriver, from Debian's `chromium` and `chromium-driver`
//! packages). The page loads, shows the session a test client opened and
//! the Helix call it made, and a click on a subscription's "trigger"
//! delivers the event to that client. Everything runs on 127.0.0.1.
//!
//! Ignored by default (it needs the browser, which a developer machine
//! may lack); `.ci/run` installs the packages and runs it with
//! `--ignored`. `CHROMEDRIVER` and `CHROMIUM` override the binaries'
//! paths. Without them the test fails saying what is missing.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use twitch_mock::{Mock, MockServer};

/// Hang guard for anything awaited; never an assertion about speed.
const GUARD: Duration = Duration::from_secs(60);

/// Kills chromedriver (and with it the browser) when the test ends.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http() -> reqwest::Client {
    twitch::__rt::tls::client_builder().expect("TLS setup").pool_max_idle_per_host(0).build().expect("reqwest client")
}

/// Create EventSub Subscription on the mock's Helix with a user token: the
/// subscription type on a WebSocket session, for broadcaster 1.
async fn subscribe_ws(mock: &MockServer, token: &str, sub_type: &str, session_id: &str) -> reqwest::Response {
    let body = json!({"type": sub_type, "version": "1", "condition": {"broadcaster_user_id": "1"},
        "transport": {"method": "websocket", "session_id": session_id}});
    http()
        .post(format!("{}/eventsub/subscriptions", mock.helix_url()))
        .header("Client-Id", mock.client_id())
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

/// One WebDriver command; its `value`.
async fn wd(base: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let mut req = http().request(method, format!("{base}{path}"));
    if let Some(b) = body {
        req = req.header("Content-Type", "application/json").body(b.to_string());
    }
    let resp = tokio::time::timeout(GUARD, req.send()).await.expect("hang guard").expect("chromedriver request");
    let text = resp.text().await.unwrap();
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("chromedriver answered {text}"));
    v["value"].clone()
}

/// Wait until the page has an element for this CSS selector; its id.
async fn element(base: &str, session: &str, css: &str) -> String {
    let find = json!({"using": "css selector", "value": css});
    let found = tokio::time::timeout(GUARD, async {
        loop {
            let v = wd(base, reqwest::Method::POST, &format!("/session/{session}/element"), Some(find.clone())).await;
            if v.get("error").is_none()
                && let Some(id) = v.as_object().and_then(|o| o.values().next()).and_then(Value::as_str)
            {
                return id.to_owned();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("hang guard: the page never showed {css}"))
}

type Ws = WebSocketStream<TcpStream>;

async fn next_message(ws: &mut Ws) -> Value {
    loop {
        match tokio::time::timeout(GUARD, ws.next()).await.expect("hang guard: nothing from the mock") {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["metadata"]["message_type"] != "session_keepalive" {
                    return v;
                }
            }
            Some(Ok(_)) => {}
            other => panic!("the connection ended: {other:?}"),
        }
    }
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver (apt-get install chromium chromium-driver); .ci/run runs it with --ignored"]
async fn the_dashboard_shows_a_session_and_its_trigger_button_delivers_the_event() {
    let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    for (what, path) in [("chromedriver", &driver_bin), ("Chromium", &chromium)] {
        assert!(
            std::path::Path::new(path).exists(),
            "{what} is not at {path}: install Debian's chromium and chromium-driver (or set CHROMEDRIVER/CHROMIUM)"
        );
    }
    // A free port for chromedriver, on 127.0.0.1 only.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(&driver_bin)
        .args([format!("--port={port}"), "--allowed-ips=127.0.0.1".into()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {driver_bin}: {e}"));
    let _driver = Driver(child);
    let base = format!("http://127.0.0.1:{port}");
    tokio::time::timeout(GUARD, async {
        while !wd_ready(&base).await {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("hang guard: chromedriver never became ready");

    // The mock, a client's session subscribed to stream.online.
    let mock = Mock::builder().welcome_window(Duration::from_secs(600)).start().await.unwrap();
    let tcp = TcpStream::connect(mock.addr()).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(mock.ws_url(), tcp).await.unwrap();
    let welcome = next_message(&mut ws).await;
    let session_id = welcome["payload"]["session"]["id"].as_str().unwrap().to_owned();
    let token = mock.mint_user_token("1", "one", &[]);
    let resp = subscribe_ws(&mock, &token, "stream.online", &session_id).await;
    assert_eq!(resp.status().as_u16(), 202);
    let created: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    let sub_id = created["data"][0]["id"].as_str().unwrap().to_owned();

    // The browser opens the dashboard.
    let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
        "binary": chromium,
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]}}}});
    let session = wd(&base, reqwest::Method::POST, "/session", Some(caps)).await;
    let wd_session =
        session["sessionId"].as_str().unwrap_or_else(|| panic!("no browser session: {session}")).to_owned();
    let url = format!("{}/dashboard", mock.url());
    wd(&base, reqwest::Method::POST, &format!("/session/{wd_session}/url"), Some(json!({"url": url}))).await;
    let title = wd(&base, reqwest::Method::GET, &format!("/session/{wd_session}/title"), None).await;
    assert_eq!(title, "twitch-mock");
    // It shows the client's session, its subscription, and the Helix call.
    element(&base, &wd_session, &format!("[data-session='{session_id}']")).await;
    element(&base, &wd_session, &format!("[data-subscription-row='{sub_id}']")).await;
    element(&base, &wd_session, "[data-helix-path='/helix/eventsub/subscriptions']").await;

    // A click on the subscription's "trigger" delivers the event.
    let button = element(&base, &wd_session, &format!("[data-action='trigger'][data-subscription='{sub_id}']")).await;
    wd(&base, reqwest::Method::POST, &format!("/session/{wd_session}/element/{button}/click"), Some(json!({}))).await;
    let n = next_message(&mut ws).await;
    assert_eq!(n["metadata"]["message_type"], "notification", "{n}");
    assert_eq!(n["payload"]["subscription"]["id"], sub_id.as_str());
    // And the page lists it among the events sent.
    element(&base, &wd_session, &format!("[data-event-subscription='{sub_id}']")).await;

    // A custom Power-up: the page lists it, and its "redeem" sends the redemption.
    let token = mock.mint_user_token("1", "one", &["bits:read"]);
    let resp = subscribe_ws(&mock, &token, "channel.custom_power_up_redemption.add", &session_id).await;
    assert_eq!(resp.status().as_u16(), 202);
    let power_up = mock.add_power_up("1", twitch_mock::NewPowerUp::new("hydrate", 100)).unwrap();
    let power_up = power_up["id"].as_str().unwrap();
    let redeem =
        element(&base, &wd_session, &format!("[data-action='redeem-power-up'][data-power-up='{power_up}']")).await;
    wd(&base, reqwest::Method::POST, &format!("/session/{wd_session}/element/{redeem}/click"), Some(json!({}))).await;
    let n = next_message(&mut ws).await;
    assert_eq!(n["payload"]["subscription"]["type"], "channel.custom_power_up_redemption.add", "{n}");
    assert_eq!(n["payload"]["event"]["custom_power_up"]["id"], power_up);

    wd(&base, reqwest::Method::DELETE, &format!("/session/{wd_session}"), None).await;
}

async fn wd_ready(base: &str) -> bool {
    match http().get(format!("{base}/status")).send().await {
        Ok(r) => serde_json::from_str::<Value>(&r.text().await.unwrap_or_default())
            .is_ok_and(|v| v["value"]["ready"] == true),
        Err(_) => false,
    }
}

/// What the page reads, without a browser: runs everywhere.
#[tokio::test]
async fn the_dashboard_data_lists_sessions_helix_calls_with_rate_limits_and_events() {
    let mock = Mock::builder().welcome_window(Duration::from_secs(600)).start().await.unwrap();
    let page = http().get(format!("{}/dashboard", mock.url())).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.text().await.unwrap().contains("/control/dashboard"));

    let tcp = TcpStream::connect(mock.addr()).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(mock.ws_url(), tcp).await.unwrap();
    let session_id = next_message(&mut ws).await["payload"]["session"]["id"].as_str().unwrap().to_owned();
    let token = mock.mint_user_token("1", "one", &[]);
    let resp = subscribe_ws(&mock, &token, "stream.online", &session_id).await;
    let remaining: u64 = resp.headers()["ratelimit-remaining"].to_str().unwrap().parse().unwrap();
    let sub: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    let sub_id = sub["data"][0]["id"].as_str().unwrap().to_owned();
    let t = mock.trigger("stream.online", None, twitch_mock::TriggerOptions { count: 3, ..Default::default() });
    assert_eq!(t.unwrap().delivered, 3);

    let d: Value = serde_json::from_str(
        &http().get(format!("{}/control/dashboard", mock.url())).send().await.unwrap().text().await.unwrap(),
    )
    .unwrap();
    assert_eq!(d["sessions"][0]["id"], session_id.as_str());
    assert_eq!(d["sessions"][0]["subscriptions"][0]["id"], sub_id.as_str());
    let call = &d["helix"][0];
    assert_eq!(
        (call["method"].as_str(), call["path"].as_str(), call["status"].as_u64()),
        (Some("POST"), Some("/helix/eventsub/subscriptions"), Some(202))
    );
    assert_eq!((call["limit"].as_u64(), call["remaining"].as_u64()), (Some(800), Some(remaining)));
    // One event, then the two further copies of the counted trigger.
    let counts: Vec<u64> = d["events"].as_array().unwrap().iter().map(|e| e["count"].as_u64().unwrap()).collect();
    assert_eq!(counts.iter().sum::<u64>(), 3, "{}", d["events"]);
    assert!(d["events"].as_array().unwrap().iter().all(|e| e["subscription_id"] == sub_id.as_str()
        && e["kind"] == "notification"
        && e["to"] == format!("session {session_id}").as_str()));
    assert!(d["subscription_types"].as_array().unwrap().iter().any(|t| t["type"] == "channel.chat.message"));
    assert_eq!(d["faults"]["drop"], 0);
    // Tokens travel in headers and never show here.
    assert!(!d.to_string().contains(&token));

    // The channels' custom Power-ups, with how often each was redeemed.
    let made = mock.add_power_up("1", twitch_mock::NewPowerUp::new("hydrate", 100)).unwrap();
    mock.redeem_power_up("1", made["id"].as_str().unwrap(), "10005", "").unwrap();
    let d: Value = serde_json::from_str(
        &http().get(format!("{}/control/dashboard", mock.url())).send().await.unwrap().text().await.unwrap(),
    )
    .unwrap();
    let listed = &d["power_ups"][0];
    assert_eq!((listed["title"].as_str(), listed["redeemed"].as_u64()), (Some("hydrate"), Some(1)));
    assert_eq!(listed["id"], made["id"]);
}
