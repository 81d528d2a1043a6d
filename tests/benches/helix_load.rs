//! Helix client under load, against a local server with Twitch's bucket.
//!
//! `cargo bench -p twitch-tests --bench helix_load`
//!
//! 1. Bucket use: Twitch's default bucket (800 points, full again after a
//!    minute) compressed to a 6-second window, 40 tasks sending as fast as
//!    they may for 3 windows; completed requests as a fraction of what the
//!    bucket allows, and 429s the server sent, with the client's limiter and
//!    without it (the same load, every 429 returned to the caller).
//! 2. Overhead: sequential requests to a server that answers at once, on one
//!    core, through the generated client and through a bare reqwest loop.

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support::{Response, TestServer, bucket_server};
use twitch::{Client, RetryPolicy};

async fn bucket_run(limiter: bool) -> (usize, usize, f64) {
    let (capacity, window) = (800.0, 6.0);
    let (server, refused) = bucket_server(capacity as u32, Duration::from_secs_f64(window)).await;
    let policy = if limiter { RetryPolicy::default() } else { RetryPolicy::none() };
    let client = Client::builder()
        .client_id("bench")
        .app_token("bench")
        .helix_url(format!("{}/helix", server.url()))
        .retry_policy(policy)
        .build()
        .unwrap();
    let duration = Duration::from_secs_f64(window * 3.0);
    let deadline = Instant::now() + duration;
    let done = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let (c, done) = (client.clone(), done.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let fut = c.get_users().login("twitchdev").send();
                    match tokio::time::timeout_at(deadline.into(), fut).await {
                        Ok(Ok(_)) => {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(Err(_)) => {}
                        Err(_) => break,
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    let allowed = capacity + capacity / window * duration.as_secs_f64();
    let completed = done.load(Ordering::Relaxed);
    (completed, refused.load(Ordering::Relaxed), completed as f64 / allowed)
}

async fn overhead(n: usize) -> (f64, f64) {
    let server = TestServer::start(|_| Response::json(200, r#"{"data":[]}"#)).await;
    let client = Client::builder()
        .client_id("bench")
        .app_token("bench")
        .helix_url(format!("{}/helix", server.url()))
        .build()
        .unwrap();
    let bare = twitch::__rt::tls::client_builder().unwrap().build().unwrap();
    let url = format!("{}/helix/users?login=twitchdev", server.url());
    for _ in 0..200 {
        client.get_users().login("twitchdev").send().await.unwrap();
        bare.get(&url).send().await.unwrap().bytes().await.unwrap();
    }
    let t = Instant::now();
    for _ in 0..n {
        client.get_users().login("twitchdev").send().await.unwrap();
    }
    let ours = n as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..n {
        let body = bare
            .get(&url)
            .header("Client-Id", "bench")
            .header("Authorization", "Bearer bench")
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        std::hint::black_box(serde_json::from_slice::<serde_json::Value>(&body).unwrap());
    }
    let base = n as f64 / t.elapsed().as_secs_f64();
    (ours, base)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    println!("bucket: 800 points, full after 6 s (Twitch's 800 per minute, compressed); 40 tasks for 18 s");
    for limiter in [true, false] {
        let (completed, refused, fraction) = rt.block_on(bucket_run(limiter));
        println!(
            "  {:<16} completed {completed:>5} = {:>5.1}% of what the bucket allows; 429s sent by the server: {refused}",
            if limiter { "with limiter" } else { "without limiter" },
            fraction * 100.0
        );
    }
    let one = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (ours, base) = one.block_on(overhead(5000));
    println!("overhead, one core, 5000 sequential requests to a server that answers at once:");
    println!("  twitch client {ours:>8.0} req/s");
    println!("  bare reqwest  {base:>8.0} req/s  (same headers, body parsed as serde_json::Value)");
}
