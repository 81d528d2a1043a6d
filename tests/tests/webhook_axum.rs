//! The axum webhook receiver (`twitch::webhook::axum`), served on a real
//! socket and fed signed requests over HTTP: what it answers Twitch and what
//! it hands to the channel, including when the channel is full.

use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;
use twitch::Event;
use twitch::webhook::axum::{DEFAULT_PATH, WebhookReceiver, router};
use twitch::webhook::{WebhookMessage, WebhookVerifier, headers};

const SECRET: &str = "s3cRe7s3cRe7";

type Messages = mpsc::Receiver<WebhookMessage<Event>>;

/// The four Twitch headers by name, each sent when `Some`.
type Headers<'a> = [(&'a str, Option<&'a str>); 4];

/// A plain HTTP client; one for all tests, without a connection pool (every
/// test has its own runtime, and pooled connections belong to the one that
/// made them).
fn http() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            // On the library's TLS stack: nothing process-wide is installed.
            twitch::__rt::tls::client_builder()
                .expect("TLS setup")
                .pool_max_idle_per_host(0)
                .build()
                .expect("reqwest client")
        })
        .clone()
}

/// Serve `app` on 127.0.0.1 and return its base URL.
async fn spawn(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A receiver with `capacity` on the default path; the URL to post to.
async fn serve(capacity: usize) -> (String, Messages) {
    let (app, rx) = WebhookReceiver::new(WebhookVerifier::new(SECRET)).channel_capacity(capacity).build::<Event>();
    (format!("{}{DEFAULT_PATH}", spawn(app).await), rx)
}

fn sign_with(secret: &str, id: &str, ts: &str, body: &[u8]) -> String {
    // Sign as Twitch does, with ring directly (not through the verifier).
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let mut msg = format!("{id}{ts}").into_bytes();
    msg.extend_from_slice(body);
    let tag = ring::hmac::sign(&key, &msg);
    format!("sha256={}", tag.as_ref().iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn now() -> String {
    twitch::Timestamp::now().to_string()
}

/// Post with explicit headers (`None` leaves one out).
async fn post_raw(url: &str, hdrs: Headers<'_>, body: impl Into<reqwest::Body>) -> reqwest::Response {
    let mut req = http().post(url).header("content-type", "application/json");
    for (name, value) in hdrs {
        if let Some(value) = value {
            req = req.header(name, value);
        }
    }
    req.body(body).send().await.unwrap()
}

/// Post a signed notification over a bare socket with
/// `Transfer-Encoding: chunked`; the response's status.
async fn post_chunked(url: &str, id: &str, body: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let ts = now();
    let sig = sign_with(SECRET, id, &ts, body);
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\
         {}: {id}\r\n{}: {ts}\r\n{}: {sig}\r\n{}: notification\r\n\r\n",
        headers::MESSAGE_ID,
        headers::MESSAGE_TIMESTAMP,
        headers::MESSAGE_SIGNATURE,
        headers::MESSAGE_TYPE,
    )
    .into_bytes();
    for chunk in body.chunks(1000) {
        req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        req.extend_from_slice(chunk);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    // The server may answer and close before it has read everything.
    let _ = stream.write_all(&req).await;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await.unwrap();
    std::str::from_utf8(&head[9..12]).unwrap().parse().unwrap()
}

/// Post `body` as Twitch would: signed now with the right secret.
async fn post(url: &str, id: &str, kind: &str, body: &str) -> reqwest::Response {
    let ts = now();
    let sig = sign_with(SECRET, id, &ts, body.as_bytes());
    post_raw(url, hdrs(id, &ts, &sig, kind), body.to_owned()).await
}

fn hdrs<'a>(id: &'a str, ts: &'a str, sig: &'a str, kind: &'a str) -> Headers<'a> {
    [
        (headers::MESSAGE_ID, Some(id)),
        (headers::MESSAGE_TIMESTAMP, Some(ts)),
        (headers::MESSAGE_SIGNATURE, Some(sig)),
        (headers::MESSAGE_TYPE, Some(kind)),
    ]
}

/// Twitch's example notification for a subscription type, from the schema.
fn example(ty: &str, version: &str) -> String {
    twitch::meta::subscription(ty, version).unwrap().example.unwrap().to_owned()
}

fn follow() -> String {
    example("channel.follow", "2")
}

/// The example's subscription, in a verification (with `challenge`) or a
/// revocation body.
fn control_body(status: &str, challenge: Option<&str>) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&follow()).unwrap();
    let mut subscription = v["subscription"].take();
    subscription["status"] = status.into();
    let mut body = serde_json::json!({ "subscription": subscription });
    if let Some(challenge) = challenge {
        body["challenge"] = challenge.into();
    }
    body.to_string()
}

fn assert_nothing_forwarded(rx: &mut Messages) {
    // The handler passes a message on before it replies, so by now it would be there.
    match rx.try_recv() {
        Err(TryRecvError::Empty) => {}
        other => panic!("expected nothing, got {other:?}"),
    }
}

fn expect_follow(message: Option<WebhookMessage<Event>>, id: &str) {
    match message {
        Some(WebhookMessage::Notification { message_id, notification }) => {
            assert_eq!(message_id, id);
            assert_eq!(notification.subscription.parse().unwrap().subscription_type, "channel.follow");
            match notification.event {
                Event::ChannelFollowV2(e) => assert!(!e.user_login.as_str().is_empty()),
                other => panic!("{other:?}"),
            }
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_notification_reaches_the_channel_typed() {
    let (url, mut rx) = serve(8).await;
    let res = post(&url, "n-1", "notification", &follow()).await;
    assert_eq!(res.status(), 204);
    assert!(res.headers().get("content-type").is_none());
    expect_follow(rx.try_recv().ok(), "n-1");
    assert_nothing_forwarded(&mut rx);
}

#[tokio::test]
async fn the_verification_challenge_is_echoed_as_text() {
    let (url, mut rx) = serve(8).await;
    let body = control_body("webhook_callback_verification_pending", Some("pogchamp-kappa-360noscope-vohiyo"));
    let res = post(&url, "v-1", "webhook_callback_verification", &body).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/plain");
    assert_eq!(res.text().await.unwrap(), "pogchamp-kappa-360noscope-vohiyo");
    match rx.try_recv() {
        Ok(WebhookMessage::Verification { subscription }) => {
            assert_eq!(subscription.subscription_type, "channel.follow");
            assert_eq!(subscription.status, "webhook_callback_verification_pending");
        }
        other => panic!("{other:?}"),
    }
    // Sent again with the same id: the challenge is answered again, nothing is passed on.
    let res = post(&url, "v-1", "webhook_callback_verification", &body).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "pogchamp-kappa-360noscope-vohiyo");
    assert_nothing_forwarded(&mut rx);
}

#[tokio::test]
async fn a_revocation_is_forwarded() {
    let (url, mut rx) = serve(8).await;
    let res = post(&url, "r-1", "revocation", &control_body("authorization_revoked", None)).await;
    assert_eq!(res.status(), 204);
    match rx.try_recv() {
        Ok(WebhookMessage::Revocation { subscription }) => {
            assert_eq!(subscription.status, "authorization_revoked");
            assert_eq!(subscription.subscription_type, "channel.follow");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn tampered_requests_are_refused_and_do_not_burn_the_id() {
    let (url, mut rx) = serve(8).await;
    let body = follow();
    let (id, ts) = ("t-1", now());
    let sig = sign_with(SECRET, id, &ts, body.as_bytes());

    let tampered_body = body.replacen("\"user_id\"", "\"user_id\" ", 1);
    assert_ne!(tampered_body, body);
    let later = twitch::Timestamp::from(SystemTime::now() + Duration::from_secs(1)).to_string();
    let wrong_secret = sign_with("another-secret", id, &ts, body.as_bytes());
    let flipped = format!("{}{}", &sig[..sig.len() - 1], if sig.ends_with('0') { '1' } else { '0' });
    let cases: Vec<(&str, Headers<'_>, String)> = vec![
        ("tampered body", hdrs(id, &ts, &sig, "notification"), tampered_body),
        ("tampered timestamp", hdrs(id, &later, &sig, "notification"), body.clone()),
        ("tampered id", hdrs("t-2", &ts, &sig, "notification"), body.clone()),
        ("flipped signature", hdrs(id, &ts, &flipped, "notification"), body.clone()),
        ("another secret", hdrs(id, &ts, &wrong_secret, "notification"), body.clone()),
        ("not hex", hdrs(id, &ts, "sha256=zz", "notification"), body.clone()),
        (
            "no signature",
            [
                (headers::MESSAGE_ID, Some(id)),
                (headers::MESSAGE_TIMESTAMP, Some(&ts)),
                (headers::MESSAGE_SIGNATURE, None),
                (headers::MESSAGE_TYPE, Some("notification")),
            ],
            body.clone(),
        ),
        ("no headers", [("x-a", None), ("x-b", None), ("x-c", None), ("x-d", None)], body.clone()),
    ];
    for (what, h, b) in cases {
        let res = post_raw(&url, h, b).await;
        assert_eq!(res.status(), 403, "{what}");
        assert_nothing_forwarded(&mut rx);
    }
    // The forgeries did not mark the id as seen: the genuine message still gets through.
    let res = post_raw(&url, hdrs(id, &ts, &sig, "notification"), body).await;
    assert_eq!(res.status(), 204);
    expect_follow(rx.try_recv().ok(), id);
}

#[tokio::test]
async fn a_stale_timestamp_is_refused() {
    let (url, mut rx) = serve(8).await;
    let body = follow();
    let old = twitch::Timestamp::from(SystemTime::now() - Duration::from_secs(11 * 60)).to_string();
    let sig = sign_with(SECRET, "s-1", &old, body.as_bytes());
    let res = post_raw(&url, hdrs("s-1", &old, &sig, "notification"), body.clone()).await;
    assert_eq!(res.status(), 403);
    assert_nothing_forwarded(&mut rx);
    // Inside the window it is fine.
    let recent = twitch::Timestamp::from(SystemTime::now() - Duration::from_secs(9 * 60)).to_string();
    let sig = sign_with(SECRET, "s-2", &recent, body.as_bytes());
    assert_eq!(post_raw(&url, hdrs("s-2", &recent, &sig, "notification"), body).await.status(), 204);
    expect_follow(rx.try_recv().ok(), "s-2");
}

#[tokio::test]
async fn a_duplicate_is_acknowledged_and_forwarded_once() {
    let (url, mut rx) = serve(8).await;
    let body = follow();
    let (ts, id) = (now(), "d-1");
    let sig = sign_with(SECRET, id, &ts, body.as_bytes());
    for _ in 0..3 {
        let res = post_raw(&url, hdrs(id, &ts, &sig, "notification"), body.clone()).await;
        assert_eq!(res.status(), 204);
    }
    expect_follow(rx.try_recv().ok(), id);
    assert_nothing_forwarded(&mut rx);
}

#[tokio::test]
async fn a_full_channel_answers_503_and_the_redelivery_is_kept() {
    let (url, mut rx) = serve(1).await;
    let body = follow();
    assert_eq!(post(&url, "f-1", "notification", &body).await.status(), 204);
    // The channel holds one message and nobody reads it: not acknowledged.
    let (ts, id) = (now(), "f-2");
    let sig = sign_with(SECRET, id, &ts, body.as_bytes());
    let res = post_raw(&url, hdrs(id, &ts, &sig, "notification"), body.clone()).await;
    assert_eq!(res.status(), 503);
    assert_eq!(post(&url, "f-3", "revocation", &control_body("authorization_revoked", None)).await.status(), 503);

    expect_follow(rx.try_recv().ok(), "f-1");
    assert_nothing_forwarded(&mut rx);
    // Twitch redelivers the same message (same id, timestamp and signature):
    // taken as new, not dropped as a duplicate.
    let res = post_raw(&url, hdrs(id, &ts, &sig, "notification"), body.clone()).await;
    assert_eq!(res.status(), 204);
    expect_follow(rx.try_recv().ok(), id);
    // And only once.
    assert_eq!(post_raw(&url, hdrs(id, &ts, &sig, "notification"), body).await.status(), 204);
    assert_nothing_forwarded(&mut rx);
}

#[tokio::test]
async fn concurrent_deliveries_into_a_small_channel_lose_nothing() {
    const N: usize = 40;
    const CAPACITY: usize = 5;
    let (url, mut rx) = serve(CAPACITY).await;
    let body = follow();
    let ts = now();
    let signed: Vec<(String, String)> = (0..N)
        .map(|i| {
            let id = format!("c-{i}");
            let sig = sign_with(SECRET, &id, &ts, body.as_bytes());
            (id, sig)
        })
        .collect();
    let send_all = |which: Vec<usize>| {
        let (url, body, ts, signed) = (url.clone(), body.clone(), ts.clone(), signed.clone());
        async move {
            let tasks: Vec<_> = which
                .into_iter()
                .map(|i| {
                    let (url, body, ts, (id, sig)) = (url.clone(), body.clone(), ts.clone(), signed[i].clone());
                    tokio::spawn(async move {
                        let status = post_raw(&url, hdrs(&id, &ts, &sig, "notification"), body).await.status();
                        (i, status.as_u16())
                    })
                })
                .collect();
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.unwrap());
            }
            out
        }
    };

    let mut delivered = std::collections::BTreeSet::new();
    let mut pending: Vec<usize> = (0..N).collect();
    for _round in 0..N {
        if pending.is_empty() {
            break;
        }
        let results = send_all(pending.clone()).await;
        let accepted: Vec<usize> = results.iter().filter(|(_, s)| *s == 204).map(|(i, _)| *i).collect();
        assert!(results.iter().all(|(_, s)| *s == 204 || *s == 503), "{results:?}");
        assert!(!accepted.is_empty() && accepted.len() <= CAPACITY, "{results:?}");
        // Every acknowledged message is in the channel, and nothing else.
        let mut got = Vec::new();
        while let Ok(WebhookMessage::Notification { message_id, .. }) = rx.try_recv() {
            got.push(message_id);
        }
        let mut expected: Vec<String> = accepted.iter().map(|i| format!("c-{i}")).collect();
        expected.sort();
        got.sort();
        assert_eq!(got, expected);
        delivered.extend(accepted.iter().copied());
        pending = results.iter().filter(|(_, s)| *s == 503).map(|(i, _)| *i).collect();
    }
    assert_eq!(delivered.len(), N);
}

#[tokio::test]
async fn a_verification_is_answered_even_when_the_channel_is_full() {
    let (url, mut rx) = serve(1).await;
    assert_eq!(post(&url, "vf-1", "notification", &follow()).await.status(), 204);
    let body = control_body("webhook_callback_verification_pending", Some("the-challenge"));
    let res = post(&url, "vf-2", "webhook_callback_verification", &body).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "the-challenge");
    expect_follow(rx.try_recv().ok(), "vf-1");
    assert_nothing_forwarded(&mut rx);
}

#[tokio::test]
async fn a_dropped_receiver_answers_503() {
    let (url, rx) = serve(8).await;
    drop(rx);
    assert_eq!(post(&url, "x-1", "notification", &follow()).await.status(), 503);
}

#[tokio::test]
async fn unknown_types_and_undecodable_bodies_are_400() {
    let (url, mut rx) = serve(8).await;
    assert_eq!(post(&url, "u-1", "something_new", &follow()).await.status(), 400);
    assert_eq!(post(&url, "u-2", "notification", "not json").await.status(), 400);
    assert_eq!(post(&url, "u-3", "notification", "{}").await.status(), 400);
    assert_eq!(post(&url, "u-4", "revocation", "[1,2]").await.status(), 400);
    // Bytes that are not UTF-8, properly signed.
    let (ts, body) = (now(), vec![0xff, 0xfe, b'{', 0x80]);
    let sig = sign_with(SECRET, "u-5", &ts, &body);
    assert_eq!(post_raw(&url, hdrs("u-5", &ts, &sig, "notification"), body).await.status(), 400);
    // Header values that are not visible ASCII count as missing.
    let res = http()
        .post(&url)
        .header(headers::MESSAGE_ID, &b"\xff\xfe"[..])
        .header(headers::MESSAGE_TIMESTAMP, now())
        .header(headers::MESSAGE_SIGNATURE, "sha256=00")
        .header(headers::MESSAGE_TYPE, "notification")
        .body(follow())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_nothing_forwarded(&mut rx);
    // The server is still fine.
    assert_eq!(post(&url, "u-6", "notification", &follow()).await.status(), 204);
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let (app, mut rx) = WebhookReceiver::new(WebhookVerifier::new(SECRET)).body_limit(4096).build::<Event>();
    let url = format!("{}{DEFAULT_PATH}", spawn(app).await);
    let padded = format!("{}{}", follow(), " ".repeat(8192));
    assert_eq!(post(&url, "o-1", "notification", &padded).await.status(), 413);
    // Sent in chunks, without a Content-Length, too.
    assert_eq!(post_chunked(&url, "o-2", padded.as_bytes()).await, 413);
    assert_eq!(post_chunked(&url, "o-3", follow().as_bytes()).await, 204);
    expect_follow(rx.try_recv().ok(), "o-3");
    assert_nothing_forwarded(&mut rx);
    assert_eq!(post(&url, "o-4", "notification", &follow()).await.status(), 204);
    expect_follow(rx.try_recv().ok(), "o-4");

    // The default limit is 1 MiB.
    let (url, _rx) = serve(8).await;
    let huge = format!("{}{}", follow(), " ".repeat(1024 * 1024));
    assert_eq!(post(&url, "o-5", "notification", &huge).await.status(), 413);
}

#[tokio::test]
async fn a_batched_events_payload_is_delivered_whole() {
    let (url, mut rx) = serve(8).await;
    let res = post(&url, "b-1", "notification", &example("drop.entitlement.grant", "1")).await;
    assert_eq!(res.status(), 204);
    match rx.try_recv() {
        Ok(WebhookMessage::Notification { notification, .. }) => match notification.event {
            Event::DropEntitlementGrantV1(events) => assert!(!events.is_empty()),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn only_post_on_the_configured_path() {
    let (tx, mut rx) = mpsc::channel(8);
    let app = WebhookReceiver::new(WebhookVerifier::new(SECRET)).path("hooks/twitch").router::<Event>(tx);
    let base = spawn(app).await;
    let url = format!("{base}/hooks/twitch");
    assert_eq!(http().get(&url).send().await.unwrap().status(), 405);
    assert_eq!(post(&format!("{base}{DEFAULT_PATH}"), "p-1", "notification", &follow()).await.status(), 404);
    assert_eq!(post(&url, "p-2", "notification", &follow()).await.status(), 204);
    expect_follow(rx.try_recv().ok(), "p-2");
}

#[tokio::test]
async fn the_router_function_and_a_shared_verifier() {
    // Two routes sharing one verifier share its memory of seen ids.
    let verifier = std::sync::Arc::new(WebhookVerifier::new(SECRET));
    let (tx, mut rx) = mpsc::channel::<WebhookMessage<Event>>(8);
    let a = spawn(router(verifier.clone(), tx.clone())).await;
    let b = spawn(WebhookReceiver::new(verifier).router(tx)).await;
    let body = follow();
    let (ts, id) = (now(), "sh-1");
    let sig = sign_with(SECRET, id, &ts, body.as_bytes());
    for base in [&a, &b] {
        let res = post_raw(&format!("{base}{DEFAULT_PATH}"), hdrs(id, &ts, &sig, "notification"), body.clone()).await;
        assert_eq!(res.status(), 204);
    }
    expect_follow(rx.try_recv().ok(), id);
    assert_nothing_forwarded(&mut rx);
}
