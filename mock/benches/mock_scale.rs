//! The mock server itself at scale: how fast it starts, 1,000 concurrent
//! EventSub WebSocket sessions, and one 100,000-event trigger.
//!
//! `cargo bench -p twitch-mock --bench mock_scale` (1,000 sessions, 100,000
//! events; `MOCK_SCALE_SESSIONS` and `MOCK_SCALE_EVENTS` change them).
//! Without `--bench` (e.g. `cargo test --benches`) it runs a small smoke
//! version, which checks the same things at a tenth of the size or less.
//!
//! Method. `twitch-mock` runs as a child process (release build), so its
//! memory is read from its own `/proc/PID/status`, apart from the clients'.
//!
//! - Start-up: the time from spawning the binary (`--port 0`) to a first
//!   control request answered (`GET /control/sessions`), ten times, and the
//!   time `Mock::builder().start()` takes in-process, ten times.
//! - Sessions: bare tokio-tungstenite sockets (4 KiB read buffer) open
//!   `/ws` all at once and read their welcome; each then subscribes to
//!   `channel.chat.message` in one channel through Helix with a user token of
//!   its own (a user each, as on Twitch a token holds few connections);
//!   one chat line (`POST /control/chat`) then fans out to every session;
//!   they idle past a keepalive interval (`--keepalive 5`), and every one
//!   must have had a keepalive and none may have been closed.
//! - Trigger: `POST /control/trigger` with `count` on one session's
//!   subscription (fresh events, distinct ids) while the other sessions stay
//!   open; the time from the request to the last notification received on
//!   that socket, and the mock's peak memory (`VmHWM`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod common;
use common::{MockProcess, http, spawn_mock};

use futures_util::{StreamExt, stream};
use serde_json::json;
use tokio::sync::{Notify, oneshot};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const BROADCASTER: &str = "141981764";
const NOTIFICATION: &str = r#""message_type":"notification""#;
const KEEPALIVE: &str = r#""message_type":"session_keepalive""#;
/// Hang guard for each phase; not a claim about speed.
const GUARD: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy)]
struct Scale {
    starts: usize,
    sessions: usize,
    events: usize,
    /// Idle time after the fan-out; zero skips the keepalive check.
    idle: Duration,
}

impl Scale {
    fn full() -> Self {
        let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<usize>().ok());
        Self {
            starts: 10,
            sessions: env("MOCK_SCALE_SESSIONS").unwrap_or(1_000).clamp(1, 20_000),
            events: env("MOCK_SCALE_EVENTS").unwrap_or(100_000).max(1),
            idle: Duration::from_secs(7),
        }
    }

    fn smoke() -> Self {
        Self { starts: 2, sessions: 20, events: 1_000, idle: Duration::ZERO }
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let scale = if full { Scale::full() } else { Scale::smoke() };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    if let Err(e) = runtime.block_on(bench(scale)) {
        eprintln!("mock_scale: {e}");
        std::process::exit(1);
    }
}

async fn bench(scale: Scale) -> Result<(), String> {
    println!("twitch-mock at scale ({scale:?})");
    startup(scale).await?;
    sessions_and_trigger(scale).await
}

// ---------------------------------------------------------------------------
// Start-up.

fn stats(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    let median = ms[ms.len() / 2];
    format!("median {median:.1} ms, min {:.1} ms, max {:.1} ms ({} runs)", ms[0], ms[ms.len() - 1], ms.len())
}

async fn startup(scale: Scale) -> Result<(), String> {
    let mut process = Vec::new();
    for _ in 0..scale.starts {
        let t = Instant::now();
        let mock = spawn_mock(&[])?;
        http(&mock.url, "GET", "/control/sessions", &[], None).await?;
        process.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let mut in_process = Vec::new();
    for _ in 0..scale.starts {
        let t = Instant::now();
        let mock = twitch_mock::Mock::builder().port(0).start().await.map_err(|e| e.to_string())?;
        in_process.push(t.elapsed().as_secs_f64() * 1e3);
        mock.shutdown();
    }
    println!("start-up, process spawned to first control answer: {}", stats(process));
    println!("start-up, Mock::builder().start() in-process:      {}", stats(in_process));
    Ok(())
}

// ---------------------------------------------------------------------------
// Sessions and the trigger.

/// What the sockets' reader tasks saw.
#[derive(Default)]
struct Seen {
    notifications: AtomicUsize,
    keepalive_sessions: AtomicUsize,
    closed: AtomicUsize,
    changed: Notify,
}

impl Seen {
    async fn until(&self, what: &str, mut done: impl FnMut() -> bool) -> Result<(), String> {
        tokio::time::timeout(GUARD, async {
            loop {
                let changed = self.changed.notified();
                if done() {
                    return;
                }
                changed.await;
            }
        })
        .await
        .map_err(|_| format!("hang guard: {what}"))
    }
}

/// Open a socket, read the welcome and hand back the session id, then count
/// frames until the connection ends.
async fn session(ws_url: String, seen: Arc<Seen>, ready: oneshot::Sender<Result<String, String>>) {
    let config = WebSocketConfig::default().read_buffer_size(4 * 1024).write_buffer_size(0);
    let opened = common::open_session(&ws_url, Some(config));
    let mut ws = match opened.await {
        Ok((ws, id)) => {
            let _ = ready.send(Ok(id));
            ws
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let mut had_keepalive = false;
    while let Some(m) = ws.next().await {
        match m {
            Ok(WsMessage::Text(t)) if t.contains(NOTIFICATION) => {
                seen.notifications.fetch_add(1, Ordering::Relaxed);
                seen.changed.notify_waiters();
            }
            Ok(WsMessage::Text(t)) if !had_keepalive && t.contains(KEEPALIVE) => {
                had_keepalive = true;
                seen.keepalive_sessions.fetch_add(1, Ordering::Relaxed);
                seen.changed.notify_waiters();
            }
            Ok(WsMessage::Close(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    seen.closed.fetch_add(1, Ordering::Relaxed);
    seen.changed.notify_waiters();
}

/// The mock's resident memory now and at its peak, in MiB.
fn mock_memory(mock: &MockProcess) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{}/status", mock.child.id())).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<f64>().ok())
            .map_or(f64::NAN, |kib| kib / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn sessions_and_trigger(scale: Scale) -> Result<(), String> {
    let n = scale.sessions;
    let mock = spawn_mock(&["--welcome-window", "3600", "--keepalive", "5"])?;
    let client_id = http(&mock.url, "GET", "/units/clients", &[], None).await?["data"][0]["ID"]
        .as_str()
        .ok_or("no client id in /units/clients")?
        .to_owned();
    let (rss_idle, _) = mock_memory(&mock);
    let seen = Arc::new(Seen::default());

    // Every socket at once.
    let t = Instant::now();
    let mut ready = Vec::with_capacity(n);
    for _ in 0..n {
        let (tx, rx) = oneshot::channel();
        tokio::spawn(session(mock.ws_url.clone(), seen.clone(), tx));
        ready.push(rx);
    }
    let mut session_ids = Vec::with_capacity(n);
    for rx in ready {
        let id = tokio::time::timeout(GUARD, rx)
            .await
            .map_err(|_| "hang guard: welcome")?
            .map_err(|_| "a socket task ended")??;
        session_ids.push(id);
    }
    let connect_s = t.elapsed().as_secs_f64();
    let (rss_open, _) = mock_memory(&mock);

    // A user each, a subscription each, 32 requests in flight.
    let t = Instant::now();
    let url = mock.url.clone();
    let subscribed: Vec<Result<String, String>> = stream::iter(session_ids.iter().enumerate())
        .map(|(i, session_id)| {
            let (url, client_id) = (url.clone(), client_id.clone());
            async move {
                let user_id = (900_000 + i).to_string();
                let token = http(
                    &url,
                    "POST",
                    "/control/tokens",
                    &[],
                    Some(json!({"kind": "user", "user_id": user_id, "login": format!("scaleuser{i}"), "scopes": ["user:read:chat"]})),
                )
                .await?["access_token"]
                    .as_str()
                    .ok_or("no access_token")?
                    .to_owned();
                let body = json!({"type": "channel.chat.message", "version": "1",
                    "condition": {"broadcaster_user_id": BROADCASTER, "user_id": user_id},
                    "transport": {"method": "websocket", "session_id": session_id}});
                let auth = format!("Bearer {token}");
                let headers = [("Authorization", auth.as_str()), ("Client-Id", client_id.as_str())];
                let created = http(&url, "POST", "/helix/eventsub/subscriptions", &headers, Some(body)).await?;
                created["data"][0]["id"].as_str().map(str::to_owned).ok_or_else(|| format!("no subscription: {created}"))
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let subscription_ids = subscribed.into_iter().collect::<Result<Vec<_>, _>>()?;
    let subscribe_s = t.elapsed().as_secs_f64();
    let (rss_subscribed, _) = mock_memory(&mock);

    // One chat line to every session.
    let t = Instant::now();
    let line =
        json!({"broadcaster_id": BROADCASTER, "chatter_id": "10005", "chatter_login": "mockuser5", "text": "fan-out"});
    http(&mock.url, "POST", "/control/chat", &[], Some(line)).await?;
    seen.until("the fan-out", || seen.notifications.load(Ordering::Relaxed) >= n).await?;
    let fanout_ms = t.elapsed().as_secs_f64() * 1e3;

    println!(
        "sessions: {n} opened and welcomed in {connect_s:.2} s; subscribed (a user and a token each) in {subscribe_s:.2} s"
    );
    println!(
        "mock memory (VmRSS): {rss_idle:.1} MiB idle, {rss_open:.1} MiB with {n} sockets, {rss_subscribed:.1} MiB with \
         their subscriptions: {:.1} KiB per subscribed session",
        (rss_subscribed - rss_idle) * 1024.0 / n as f64
    );
    println!("fan-out: one chat line to {n} sessions, all received in {fanout_ms:.1} ms");
    if !scale.idle.is_zero() {
        tokio::time::sleep(scale.idle).await;
        let kept = seen.keepalive_sessions.load(Ordering::Relaxed);
        let closed = seen.closed.load(Ordering::Relaxed);
        println!(
            "idle {} s (keepalive 5 s): {kept} of {n} sessions had a keepalive, {closed} closed",
            scale.idle.as_secs()
        );
        if kept != n || closed != 0 {
            return Err(format!("sessions did not survive idling: {kept} had a keepalive, {closed} closed"));
        }
    }

    // The big trigger, on one session's subscription.
    let before = seen.notifications.load(Ordering::Relaxed);
    let target = before + scale.events;
    let t = Instant::now();
    let body = json!({"type": "channel.chat.message", "version": "1", "subscription_id": subscription_ids[0], "count": scale.events});
    let answer = http(&mock.url, "POST", "/control/trigger", &[], Some(body)).await?;
    let answered_ms = t.elapsed().as_secs_f64() * 1e3;
    seen.until("the trigger's events", || seen.notifications.load(Ordering::Relaxed) >= target).await?;
    let all_s = t.elapsed().as_secs_f64();
    let (rss_after, hwm) = mock_memory(&mock);
    let closed = seen.closed.load(Ordering::Relaxed);
    let extra = seen.notifications.load(Ordering::Relaxed) - target;
    println!(
        "trigger: {} events to one session (with {n} open): request answered in {answered_ms:.1} ms, all received in \
         {all_s:.2} s ({:.0} events/s); mock VmRSS {rss_after:.1} MiB after, peak {hwm:.1} MiB; {closed} sessions closed, \
         {extra} notifications beyond the count",
        scale.events,
        scale.events as f64 / all_s,
    );
    if closed != 0 || extra != 0 {
        return Err(format!("after the trigger: {closed} sessions closed, {extra} extra notifications ({answer})"));
    }
    Ok(())
}
