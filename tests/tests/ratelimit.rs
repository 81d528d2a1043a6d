//! Rate limits and retries against local servers: a Twitch-like token
//! bucket, injected 429s, endpoint cooldowns, 5xx and a server that hangs.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use support::{Response, TestServer, bucket_server};
use twitch::{Client, Error, RetryPolicy};

fn client(server: &TestServer, policy: RetryPolicy) -> Client {
    Client::builder()
        .client_id("cid")
        .app_token("token")
        .helix_url(format!("{}/helix", server.url()))
        .retry_policy(policy)
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

/// A client with a user token (for user-only endpoints such as Start Commercial).
fn user_client(server: &TestServer, policy: RetryPolicy) -> Client {
    Client::builder()
        .client_id("cid")
        .user_token("t")
        .helix_url(format!("{}/helix", server.url()))
        .retry_policy(policy)
        .build()
        .unwrap()
}

fn fast() -> RetryPolicy {
    RetryPolicy::default().base_delay(Duration::from_millis(10))
}

/// `tasks` tasks per client, each sending `calls` Get Users one after the
/// other; every call must succeed.
async fn load(clients: &[Client], tasks: usize, calls: usize) {
    let running: Vec<_> = clients
        .iter()
        .flat_map(|c| std::iter::repeat_n(c.clone(), tasks))
        .map(|c| {
            tokio::spawn(async move {
                for _ in 0..calls {
                    c.get_users().login("twitchdev").send().await?;
                }
                Ok::<_, Error>(())
            })
        })
        .collect();
    for t in running {
        t.await.unwrap().expect("no error reaches the caller");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_load_stays_inside_the_bucket() {
    // Twitch's shape compressed: 20 points per second instead of per 10 s.
    let (server, refused) = bucket_server(20, Duration::from_secs(1)).await;
    load(&[client(&server, fast())], 20, 10).await;
    assert_eq!(server.request_count() - refused.load(Ordering::SeqCst), 200);
    assert_eq!(refused.load(Ordering::SeqCst), 0, "the server had to refuse requests");
}

#[tokio::test]
async fn a_429_is_waited_out_for_one_point_not_for_the_reset() {
    // An empty bucket of 10 points, full again in 10 s: it refills a point a
    // second, so the retry goes after about a second, long before the reset.
    let calls = Arc::new(AtomicUsize::new(0));
    let n = calls.clone();
    let server = TestServer::start(move |_| {
        let reset = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 10;
        if n.fetch_add(1, Ordering::SeqCst) == 0 {
            Response::json(429, r#"{"error":"Too Many Requests","status":429,"message":"slow down"}"#)
                .header("Ratelimit-Limit", "10")
                .header("Ratelimit-Remaining", "0")
                .header("Ratelimit-Reset", reset.to_string())
        } else {
            Response::json(200, r#"{"data":[]}"#)
                .header("Ratelimit-Limit", "10")
                .header("Ratelimit-Remaining", "0")
                .header("Ratelimit-Reset", reset.to_string())
        }
    })
    .await;
    let started = Instant::now();
    client(&server, fast()).get_users().send().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900), "it waited for a point to refill: {waited:?}");
    assert!(waited < Duration::from_secs(8), "it did not wait for the reset: {waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_sharing_a_bucket_pace_to_their_share() {
    // Two clients stand for two processes on one client id and token: each
    // has a limiter of its own, and the bucket is the server's. After the
    // first 429s each paces to a share of the refill, so the server refuses
    // few of their requests (taking the whole refill each, about half).
    let (server, refused) = bucket_server(20, Duration::from_secs(1)).await;
    let policy = fast().max_rate_limit_retries(50);
    load(&[client(&server, policy), client(&server, policy)], 6, 12).await;
    let refused = refused.load(Ordering::SeqCst);
    assert_eq!(server.request_count() - refused, 144);
    assert!(refused < 144 / 4, "{refused} of 144 requests refused");
}

#[tokio::test]
async fn a_cooldown_429_reaches_the_caller_with_its_retry_time() {
    let server = TestServer::start(|_| {
        let reset = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 30;
        Response::json(429, r#"{"error":"Too Many Requests","status":429,"message":"commercial cooldown"}"#)
            .header("Ratelimit-Limit", "800")
            .header("Ratelimit-Remaining", "712")
            .header("Ratelimit-Reset", reset.to_string())
    })
    .await;
    let c = user_client(&server, RetryPolicy::default());
    match c.start_commercial("1", std::time::Duration::from_secs(60)).await.unwrap_err() {
        Error::RateLimited { cooldown, retry_after, .. } => {
            assert!(cooldown);
            assert!(retry_after.unwrap() >= Duration::from_secs(28));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.request_count(), 1, "a cooldown is not retried");
}

#[tokio::test]
async fn server_errors_are_retried_for_idempotent_requests_only() {
    let calls = Arc::new(AtomicUsize::new(0));
    let n = calls.clone();
    let server = TestServer::start(move |req| {
        let i = n.fetch_add(1, Ordering::SeqCst);
        match (req.method.as_str(), i) {
            ("GET", 0 | 1) => Response::json(500, r#"{"error":"Internal Server Error","status":500,"message":"oops"}"#),
            ("GET", _) => Response::json(200, r#"{"data":[]}"#),
            _ => Response::json(500, r#"{"error":"Internal Server Error","status":500,"message":"oops"}"#),
        }
    })
    .await;
    let c = user_client(&server, fast());
    c.get_users().send().await.unwrap();
    assert_eq!(calls.swap(0, Ordering::SeqCst), 3, "GET: two failures, then success");
    let err = c.send_chat_message("1", "2", "hi").await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(calls.load(Ordering::SeqCst), 1, "a POST is not sent twice after a 500");
}

/// A 503 after a chat message may mean it was posted: a non-idempotent
/// request is not sent again unless the caller opts in, per request or in
/// the retry policy.
#[tokio::test]
async fn non_idempotent_requests_are_retried_only_when_asked() {
    let calls = Arc::new(AtomicUsize::new(0));
    let n = calls.clone();
    let server = TestServer::start(move |_| {
        if n.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
            Response::json(503, r#"{"error":"Service Unavailable","status":503,"message":"try again"}"#)
        } else {
            Response::json(200, r#"{"data":[{"message_id":"m","is_sent":true}]}"#)
        }
    })
    .await;
    let c = user_client(&server, fast());
    let err = c.send_chat_message("1", "2", "hi").await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(calls.swap(0, Ordering::SeqCst), 1, "sent once: Twitch may have posted it");

    assert!(c.send_chat_message("1", "2", "hi").retry_non_idempotent().await.unwrap().is_sent);
    assert_eq!(calls.swap(0, Ordering::SeqCst), 2, "the caller opted in for this request");

    let opted = user_client(&server, fast().retry_non_idempotent(true));
    assert!(opted.send_chat_message("1", "2", "hi").await.unwrap().is_sent);
    assert_eq!(calls.swap(0, Ordering::SeqCst), 2, "the policy opts in for every request");

    let raw = c.raw(twitch::Method::Post, "/chat/messages").send_bytes().await;
    assert!(raw.is_err());
    assert_eq!(calls.swap(0, Ordering::SeqCst), 1, "a raw POST counts as not idempotent");
    c.raw(twitch::Method::Post, "/chat/messages").retry_non_idempotent().send_bytes().await.unwrap();
    assert_eq!(calls.swap(0, Ordering::SeqCst), 2);
}

/// A connection that breaks after the request went out may have reached
/// Twitch: a POST is not sent again, a GET is. A connection that could not
/// be made carried nothing, so any request is retried.
#[tokio::test]
async fn transport_errors_are_retried_when_nothing_can_happen_twice() {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(AtomicUsize::new(0));
    let r = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let r = r.clone();
            tokio::spawn(async move {
                // Read the request, then hang up without an answer.
                let mut buf = vec![0u8; 64 * 1024];
                if sock.read(&mut buf).await.is_ok_and(|n| n > 0) {
                    r.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
    let c = Client::builder()
        .client_id("cid")
        .user_token("t")
        .helix_url(format!("http://{addr}/helix"))
        .retry_policy(fast().max_retries(2))
        .build()
        .unwrap();
    assert!(matches!(c.send_chat_message("1", "2", "hi").await, Err(Error::Transport { .. })));
    assert_eq!(requests.swap(0, Ordering::SeqCst), 1, "the POST went out once");
    assert!(matches!(c.get_users().send().await, Err(Error::Transport { .. })));
    assert_eq!(requests.swap(0, Ordering::SeqCst), 3, "the GET was retried twice");
}

#[tokio::test]
async fn a_hung_server_trips_the_timeout() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = Arc::new(Mutex::new(Vec::new()));
    let h = held.clone();
    let accepts = Arc::new(AtomicUsize::new(0));
    let a = accepts.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            a.fetch_add(1, Ordering::SeqCst);
            h.lock().unwrap().push(sock);
        }
    });
    let c = Client::builder()
        .client_id("cid")
        .app_token("t")
        .helix_url(format!("http://{addr}/helix"))
        .timeout(Duration::from_millis(200))
        .retry_policy(fast().max_retries(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = c.get_users().send().await.unwrap_err();
    assert!(matches!(&err, Error::Transport { source, .. } if source.is_timeout()), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(accepts.load(Ordering::SeqCst), 2, "one retry after the first timeout");
}
