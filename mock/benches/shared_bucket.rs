//! K processes on one rate-limit bucket: Twitch keeps one bucket per client
//! id (and user), so every process of a service that uses the same app
//! token draws from the same points. How many 429s do they cause, how much
//! of the bucket do they use, and how long does a call wait?
//!
//! `cargo bench -p twitch-mock --bench shared_bucket` (K = 1, 2, 4, 15 s a
//! round; `SHARED_BUCKET_SECS` changes the length). Without `--bench` (e.g.
//! `cargo test --benches`) it runs a 3 s smoke round of each.
//!
//! Method. `twitch-mock` runs as a child process with a compressed bucket
//! (`--bucket 100 --refill-secs 5`: 20 points a second, Twitch's shape at
//! 1.5 times its rate). Each round empties the buckets (`DELETE
//! /control/buckets`), then starts K worker processes (this executable
//! again) at once; each runs a `twitch::Client` with the app token and 8
//! tasks that call Get Users back to back until the round ends. The mock
//! counts what the bucket let through and what it answered with a 429
//! (`GET /control/buckets`); the workers report their calls' outcomes and
//! latencies. The bucket could give at most `100 + 20 × seconds` points in
//! a round: "use" is the share of those that went to answered calls.
//!
//! Each K runs with the client as shipped (`default`) and, as baselines in
//! the same run, with the limiter that paces to other processes' share off
//! (`unshared`: every process takes the whole refill for itself) and
//! without a client-side limiter at all (`no limiter`: only 429s slow it).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{http, spawn_mock};

use serde_json::{Value, json};

const WORKER: &str = "SHARED_BUCKET_WORKER";
const TASKS: usize = 8;
const BUCKET: u64 = 100;
const REFILL_SECS: u64 = 5;

fn main() {
    if let Ok(spec) = std::env::var(WORKER) {
        return worker(&spec);
    }
    let full = std::env::args().any(|a| a == "--bench");
    let secs: u64 = match std::env::var("SHARED_BUCKET_SECS") {
        Ok(s) => s.parse().expect("SHARED_BUCKET_SECS is a number of seconds"),
        Err(_) if full => 15,
        Err(_) => 3,
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(run(secs, full));
}

#[derive(Default)]
struct Round {
    ok: u64,
    errors: u64,
    latencies: Vec<f64>,
}

async fn run(secs: u64, full: bool) {
    let mock = spawn_mock(&["--bucket", &BUCKET.to_string(), "--refill-secs", &REFILL_SECS.to_string()])
        .expect("start twitch-mock");
    let rate = BUCKET as f64 / REFILL_SECS as f64;
    println!("shared_bucket: bucket {BUCKET} points, {rate} points/s, {secs} s a round, {TASKS} tasks a process");
    println!(
        "{:>2} {:<11} {:>8} {:>6} {:>6} {:>6} {:>8} {:>6} {:>7} {:>7} {:>7}",
        "K", "client", "answered", "ideal", "use", "429s", "429/call", "errors", "p50 ms", "p99 ms", "max ms"
    );
    let ks: &[usize] = if full { &[1, 2, 4] } else { &[1, 4] };
    for &k in ks {
        for mode in ["default", "unshared", "no limiter"] {
            http(&mock.url, "DELETE", "/control/buckets", &[], None).await.expect("empty the buckets");
            let started = Instant::now();
            let spec = json!({"url": mock.url, "client_id": mock.client_id, "token": mock.app_token,
                "mode": mode, "secs": secs});
            let children: Vec<_> = (0..k)
                .map(|_| {
                    Command::new(std::env::current_exe().expect("this executable"))
                        .env(WORKER, spec.to_string())
                        .stdout(Stdio::piped())
                        .stderr(Stdio::inherit())
                        .spawn()
                        .expect("start a worker")
                })
                .collect();
            // The bucket as the round ends (calls still waiting then finish
            // after it, and count in the latencies only).
            tokio::time::sleep_until((started + Duration::from_secs(secs)).into()).await;
            let at_end = bucket(&mock.url, &mock.client_id).await;
            let mut round = Round::default();
            for mut child in children {
                let out = BufReader::new(child.stdout.take().expect("stdout"));
                for line in out.lines() {
                    let v: Value = serde_json::from_str(&line.expect("a line")).expect("a worker's report");
                    round.ok += v["ok"].as_u64().unwrap_or(0);
                    round.errors += v["errors"].as_u64().unwrap_or(0);
                    round
                        .latencies
                        .extend(v["latencies_ms"].as_array().into_iter().flatten().filter_map(Value::as_f64));
                }
                assert!(child.wait().expect("a worker").success(), "a worker failed");
            }
            let (total, _) = bucket(&mock.url, &mock.client_id).await;
            assert_eq!(total, round.ok, "every point the bucket gave is an answered call");
            let (allowed, refused) = at_end;
            let ideal = BUCKET as f64 + rate * secs as f64;
            round.latencies.sort_by(f64::total_cmp);
            let pct = |p: f64| {
                let l = &round.latencies;
                if l.is_empty() { 0.0 } else { l[((l.len() - 1) as f64 * p).round() as usize] }
            };
            println!(
                "{k:>2} {mode:<11} {allowed:>8} {ideal:>6.0} {:>5.0}% {refused:>6} {:>8.2} {:>6} {:>7.0} {:>7.0} {:>7.0}",
                100.0 * allowed as f64 / ideal,
                refused as f64 / allowed.max(1) as f64,
                round.errors,
                pct(0.5),
                pct(0.99),
                pct(1.0),
            );
        }
    }
}

/// The app token's bucket: requests let through and refused so far.
async fn bucket(url: &str, client_id: &str) -> (u64, u64) {
    let buckets = http(url, "GET", "/control/buckets", &[], None).await.expect("the buckets");
    let b = buckets["buckets"]
        .as_array()
        .and_then(|b| b.iter().find(|b| b["key"] == client_id))
        .cloned()
        .expect("the app token's bucket");
    (b["allowed"].as_u64().unwrap_or(0), b["refused"].as_u64().unwrap_or(0))
}

/// One process: a client and `TASKS` tasks calling Get Users until the
/// round ends; prints one JSON line with the outcomes.
fn worker(spec: &str) {
    let spec: Value = serde_json::from_str(spec).expect("the worker's spec");
    let s = |k: &str| spec[k].as_str().unwrap_or_default().to_owned();
    let policy = match spec["mode"].as_str() {
        Some("unshared") => twitch::RetryPolicy::default().share_bucket(false),
        Some("no limiter") => twitch::RetryPolicy::default().limiter(false),
        _ => twitch::RetryPolicy::default(),
    };
    // More rate-limit retries than the default 3, so that what the table
    // compares is time and 429s rather than calls that gave up.
    let policy = policy.max_rate_limit_retries(20);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let secs = spec["secs"].as_u64().unwrap_or(3);
    let report = rt.block_on(async {
        let client = twitch::Client::builder()
            .client_id(s("client_id"))
            .app_token(s("token"))
            .helix_url(format!("{}/helix", s("url")))
            .retry_policy(policy)
            .build()
            .expect("a client");
        let deadline = Instant::now() + Duration::from_secs(secs);
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move {
                    let mut round = Round::default();
                    while Instant::now() < deadline {
                        let t0 = Instant::now();
                        match client.get_users().login("twitchdev").send().await {
                            Ok(_) => round.ok += 1,
                            Err(e) => {
                                round.errors += 1;
                                eprintln!("shared_bucket worker: {e}");
                            }
                        }
                        round.latencies.push(t0.elapsed().as_secs_f64() * 1000.0);
                    }
                    round
                })
            })
            .collect();
        let mut all = Round::default();
        for t in tasks {
            let r = t.await.expect("a task");
            all.ok += r.ok;
            all.errors += r.errors;
            all.latencies.extend(r.latencies);
        }
        all
    });
    println!("{}", json!({"ok": report.ok, "errors": report.errors, "latencies_ms": report.latencies}));
}
