//! An EventSub conduit shard pool of many idle WebSocket shards: resident
//! memory per connection on the client side, and notifications per second
//! through the pool's merged stream, each next to a baseline measured in
//! the same run.
//!
//! `cargo bench -p twitch-mock --bench shard_pool` (1,000 shards, 100,000
//! notifications; `SHARD_POOL_SHARDS` and `SHARD_POOL_EVENTS` change them).
//! Without `--bench` (e.g. `cargo test --benches`) it runs a small smoke version.
//!
//! Method. `twitch-mock` runs as a child process, so the server's memory is
//! not the client's. Each client is its own child process of this binary,
//! started fresh (a process keeps memory it freed, so a client measured
//! after another would inherit its heap):
//!
//! - `bare-default`: bare `tokio_tungstenite::client_async` sockets with
//!   tungstenite's default configuration (128 KiB read buffer), one task
//!   each reading frames;
//! - `bare`: the same with the runtime's socket configuration (4 KiB read
//!   buffer, no write buffering): what the pool costs beyond this is the pool;
//! - `pool`: `twitch::Client::shard_pool(..).shard_count(n).start()`.
//!
//! Each child builds its client, creates its own conduit and a
//! `channel.chat.message` conduit subscription (warming up the runtime and
//! the HTTP client), reads `VmRSS` from /proc/self/status, opens the
//! connections (the pool also attaches its shards), lets them idle and reads
//! `VmRSS` again: (after - before) / n is the cost of one connection. The
//! bare sockets are then attached to the conduit through Helix as well, and
//! the mock's `POST /control/trigger` with `count` sends fresh chat
//! notifications (a warm-up round, then the measured one) spread round-robin
//! over the shards; the rate is notifications received / time from the
//! trigger request to the last one received. Bare sockets count raw text
//! frames (no JSON decoding); the pool counts `SessionItem::Notification`s
//! out of `pool.next()` (decoded, deduplicated, merged). The decode ceiling
//! is `decode_frame::<twitch::Event>` over frames captured from the bare
//! sockets, in a tight loop on one thread. The mock and the client share the
//! machine's cores, so the end-to-end rates include the mock's own work.

use std::hint::black_box;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::MockProcess;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::{Notify, oneshot};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use twitch::websocket::{Message, SessionItem, decode_frame};

/// First argument of this binary when it runs as one measured client.
const CHILD: &str = "__shard_pool_client";
/// The goal for one idle shard connection.
const GOAL_KIB: f64 = 64.0;
const SUB_TYPE: &str = "channel.chat.message";
/// How a notification frame reads on the wire (the mock writes compact JSON).
const NOTIFICATION: &str = r#""message_type":"notification""#;
/// Frames kept from the warm-up round for the decode ceiling.
const CAPTURE: usize = 500;

/// What one run measures.
#[derive(Debug, Clone, Copy)]
struct Scale {
    shards: u32,
    events: usize,
    warmup: usize,
    idle: Duration,
    decodes: usize,
}

impl Scale {
    fn full() -> Self {
        let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<usize>().ok());
        let events = env("SHARD_POOL_EVENTS").unwrap_or(100_000).max(1);
        Self {
            shards: env("SHARD_POOL_SHARDS").map_or(1_000, |n| n.clamp(1, 20_000) as u32),
            events,
            warmup: (events / 10).max(1),
            idle: Duration::from_secs(2),
            decodes: 100_000,
        }
    }

    fn smoke() -> Self {
        Self { shards: 50, events: 2_000, warmup: 200, idle: Duration::from_millis(300), decodes: 2_000 }
    }

    fn to_json(self) -> Value {
        json!({"shards": self.shards, "events": self.events, "warmup": self.warmup,
            "idle_ms": self.idle.as_millis() as u64, "decodes": self.decodes})
    }

    fn from_json(v: &Value) -> Self {
        let n = |k: &str| v[k].as_u64().unwrap_or(1) as usize;
        Self {
            shards: n("shards") as u32,
            events: n("events"),
            warmup: n("warmup"),
            idle: Duration::from_millis(n("idle_ms") as u64),
            decodes: n("decodes"),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(CHILD) {
        client_process(&args[1..]);
        return;
    }
    let full = args.iter().any(|a| a == "--bench");
    if let Err(e) = bench(if full { Scale::full() } else { Scale::smoke() }, full) {
        eprintln!("shard_pool: {e}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------
// The parent: the mock, one child per client, the table.

fn start_mock() -> Result<MockProcess, String> {
    // A long welcome window: bare sockets idle unattached while memory is measured.
    common::spawn_mock(&["--welcome-window", "3600"])
}

/// Run one client in a fresh child process; its result line.
fn run_client(mode: &str, mock: &MockProcess, scale: Scale) -> Result<Value, String> {
    let config = json!({"url": mock.url, "ws_url": mock.ws_url, "client_id": mock.client_id,
        "app_token": mock.app_token, "scale": scale.to_json()});
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .args([CHILD, mode, &config.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the {mode} client: {e}"))?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let deadline = Instant::now() + Duration::from_secs(150);
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("the {mode} client took longer than 150 s"));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = reader.join().unwrap_or_default();
    let line = out.lines().find_map(|l| l.strip_prefix("RESULT "));
    match line {
        Some(l) if status.success() => serde_json::from_str(l).map_err(|e| format!("{mode}: bad result: {e}")),
        _ => Err(format!("the {mode} client failed ({status}): {out}")),
    }
}

fn bench(scale: Scale, full: bool) -> Result<(), String> {
    let mock = start_mock()?;
    eprintln!(
        "shard_pool: mock at {} (pid {}); {} shards, {} notifications{}",
        mock.url,
        mock.child.id(),
        scale.shards,
        scale.events,
        if full { "" } else { " (smoke run; `cargo bench` runs the full one)" }
    );
    let mut rows = Vec::new();
    for mode in ["bare-default", "bare", "pool"] {
        eprintln!("shard_pool: measuring `{mode}` in a fresh process ...");
        let drops = listen_drops();
        let mut v = run_client(mode, &mock, scale)?;
        v["listen_drops"] = json!(listen_drops().zip(drops).map(|(after, before)| after.saturating_sub(before)));
        rows.push((mode, v));
    }
    drop(mock);
    let report = report(scale, &rows);
    println!("{report}");
    if full {
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("shard_pool.md");
        if std::fs::File::create(&path).and_then(|mut f| f.write_all(report.as_bytes())).is_ok() {
            println!("(also written to {})", path.display());
        }
    }
    Ok(())
}

/// The kernel's count of connections dropped because a listen queue was
/// full (`TcpExt: ListenDrops`), which delays a connect by a SYN retransmit.
fn listen_drops() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/net/netstat").ok()?;
    let mut lines = text.lines().filter(|l| l.starts_with("TcpExt:"));
    let (names, values) = (lines.next()?, lines.next()?);
    let at = names.split_whitespace().position(|n| n == "ListenDrops")?;
    values.split_whitespace().nth(at)?.parse().ok()
}

fn label(mode: &str) -> &'static str {
    match mode {
        "bare-default" => "bare tokio-tungstenite, default config",
        "bare" => "bare tokio-tungstenite, runtime's config",
        _ => "twitch ShardPool",
    }
}

fn report(scale: Scale, rows: &[(&str, Value)]) -> String {
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let get = |mode: &str| rows.iter().find(|(m, _)| *m == mode).map(|(_, v)| v.clone()).unwrap_or(Value::Null);
    let n = f64::from(scale.shards);
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!(
        "\n## EventSub shard pool: {} idle WebSocket shards, {} chat notifications\n",
        scale.shards, scale.events
    ));
    line("Client memory, VmRSS of the client process (after - before) / connections:\n".into());
    line(format!(
        "| {:<40} | {:>13} | {:>16} | {:>19} | {:>9} | {:>12} |",
        "client", "KiB/conn idle", "RssAnon KiB/conn", "KiB/conn after load", "connect s", "listen drops"
    ));
    line(format!("|{:-<42}|{:->15}|{:->18}|{:->21}|{:->11}|{:->14}|", "", "", "", "", "", ""));
    for (mode, v) in rows {
        let kib = |before: &str, after: &str| (f(v, after) - f(v, before)) / n;
        let drops = v["listen_drops"].as_u64().map_or("-".to_owned(), |d| d.to_string());
        line(format!(
            "| {:<40} | {:>13.1} | {:>16.1} | {:>19.1} | {:>9.2} | {:>12} |",
            label(mode),
            kib("rss_before_kib", "rss_idle_kib"),
            kib("anon_before_kib", "anon_idle_kib"),
            kib("rss_before_kib", "rss_load_kib"),
            f(v, "connect_s"),
            drops,
        ));
    }
    line(
        "\n\"connect s\": until every connection is open (and, for the pool, attached). \"listen drops\": SYNs the \
         kernel dropped meanwhile (the mock's accept queue holds 1,024); each delays its connect by a 1 s SYN \
         retransmit, so with drops the time is the server's, not the client's."
            .into(),
    );
    let per = |v: &Value| (f(v, "rss_idle_kib") - f(v, "rss_before_kib")) / n;
    let (pool, bare) = (get("pool"), get("bare"));
    let pool_kib = per(&pool);
    line(format!(
        "\nShardPool: {:.1} KiB per idle connection (goal <= {GOAL_KIB} KiB: {}); {:+.1} KiB over a bare socket \
         with the same socket config.",
        pool_kib,
        if pool_kib <= GOAL_KIB { "met" } else { "NOT met" },
        pool_kib - per(&bare)
    ));
    line(format!(
        "Client process before connecting: {:.1} MiB (bare) / {:.1} MiB (pool).\n",
        f(&bare, "rss_before_kib") / 1024.0,
        f(&pool, "rss_before_kib") / 1024.0
    ));
    line(format!("Throughput, {} notifications spread round-robin over the {} shards:\n", scale.events, scale.shards));
    line(format!(
        "| {:<60} | {:>9} | {:>8} | {:>15} | {:>11} |",
        "path", "received", "seconds", "notifications/s", "mock send s"
    ));
    line(format!("|{:-<62}|{:->11}|{:->10}|{:->17}|{:->13}|", "", "", "", "", ""));
    for (mode, what) in [
        ("bare-default", "raw text frames, bare sockets (default config), no decode"),
        ("bare", "raw text frames, bare sockets (runtime's config), no decode"),
        ("pool", "ShardPool::next() (decoded, deduplicated, merged)"),
    ] {
        let v = get(mode);
        line(format!(
            "| {:<60} | {:>9} | {:>8.3} | {:>15.0} | {:>11.3} |",
            what,
            v["received"].as_u64().unwrap_or(0),
            f(&v, "seconds"),
            f(&v, "received") / f(&v, "seconds"),
            f(&v, "mock_ms") / 1000.0
        ));
    }
    line(format!(
        "| {:<60} | {:>9} | {:>8.3} | {:>15.0} | {:>11} |",
        "decode_frame::<Event>, one thread, tight loop (ceiling)",
        bare["decodes"].as_u64().unwrap_or(0),
        f(&bare, "decode_s"),
        f(&bare, "decodes") / f(&bare, "decode_s"),
        "-"
    ));
    line(format!(
        "\nFrames: {} bytes on average; decode {:.2} us each. \"mock send s\": time the mock took to make and queue \
         all notifications (its trigger request), which runs while the client receives.",
        f(&bare, "frame_bytes").round(),
        f(&bare, "decode_s") / f(&bare, "decodes") * 1e6
    ));
    let others = pool["other_items"].as_u64().unwrap_or(0);
    if others > 0 {
        line(format!("Note: the pool also yielded {others} items other than notifications (see the client's log)."));
    }
    line(
        "\nMethod: mock and each client run as separate processes (a fresh one per row). Memory: VmRSS from \
         /proc/self/status after the runtime and HTTP client are warmed up (conduit and subscription created), \
         then after all connections are open (the pool's also attached) and idle; divided by the connections. \
         \"after load\" is read after the throughput rounds (freed memory may stay resident). Throughput: \
         trigger request to last notification received; a warm-up round of a tenth first."
            .into(),
    );
    out
}

// ---------------------------------------------------------------------------
// A child: one measured client.

fn client_process(args: &[String]) {
    let mode = args.first().cloned().unwrap_or_default();
    let config: Value = args.get(1).and_then(|c| serde_json::from_str(c).ok()).unwrap_or(Value::Null);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let result = runtime.block_on(measure(&mode, &config));
    // Sockets still open are closed with the runtime (the throughput is measured already).
    runtime.shutdown_timeout(Duration::from_secs(2));
    match result {
        Ok(mut v) => {
            if mode == "bare" {
                decode_ceiling(&mut v, Scale::from_json(&config["scale"]).decodes);
            }
            println!("RESULT {v}");
        }
        Err(e) => {
            eprintln!("shard_pool {mode}: {e}");
            std::process::exit(1);
        }
    }
}

/// `VmRSS` and `RssAnon` of this process, in KiB.
fn rss_kib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(f64::NAN)
    };
    (field("VmRSS:"), field("RssAnon:"))
}

/// Frames seen by the bare sockets' reader tasks.
#[derive(Default)]
struct Counter {
    received: AtomicUsize,
    target: AtomicUsize,
    done: Notify,
    kept: Mutex<Vec<String>>,
    keeping: AtomicUsize,
}

impl Counter {
    fn on_text(&self, text: &str) {
        if !text.contains(NOTIFICATION) {
            return;
        }
        if self.keeping.load(Ordering::Relaxed) > 0 {
            let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
            if kept.len() < self.keeping.load(Ordering::Relaxed) {
                kept.push(text.to_owned());
            }
        }
        if self.received.fetch_add(1, Ordering::Relaxed) + 1 == self.target.load(Ordering::Relaxed) {
            self.done.notify_one();
        }
    }

    fn expect(&self, n: usize) {
        self.received.store(0, Ordering::Relaxed);
        self.target.store(n, Ordering::Relaxed);
    }
}

/// Tungstenite's defaults, or what the runtime uses (runtime/src/websocket/conn.rs `ws_config`).
fn socket_config(runtime_like: bool) -> Option<WebSocketConfig> {
    runtime_like.then(|| {
        WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(0)
            .max_write_buffer_size(64 * 1024)
            .max_message_size(Some(4 << 20))
            .max_frame_size(Some(4 << 20))
    })
}

/// Open a bare socket, read the welcome, report the session id, then read
/// frames until the connection ends.
async fn bare_socket(
    ws_url: String,
    config: Option<WebSocketConfig>,
    counter: Arc<Counter>,
    ready: oneshot::Sender<Result<String, String>>,
) {
    let opened = common::open_session(&ws_url, config);
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
    while let Some(m) = ws.next().await {
        match m {
            Ok(WsMessage::Text(t)) => counter.on_text(&t),
            Ok(WsMessage::Close(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

/// One POST to the mock's control API; the JSON answer.
async fn control(url: &str, path: &str, body: &Value) -> Result<Value, String> {
    common::http(url, "POST", path, &[], Some(body.clone())).await
}

/// Ask the mock for `count` notifications of the subscription.
async fn trigger(url: String, subscription_id: String, count: usize) -> Result<Value, String> {
    let body = json!({"type": SUB_TYPE, "version": "1", "subscription_id": subscription_id, "count": count});
    control(&url, "/control/trigger", &body).await
}

/// What both kinds of client share: the client, a conduit of their own and
/// a chat subscription on it.
struct Setup {
    scale: Scale,
    url: String,
    ws_url: String,
    client: twitch::Client,
    conduit_id: String,
    subscription_id: String,
}

async fn measure(mode: &str, config: &Value) -> Result<Value, String> {
    let s = |k: &str| config[k].as_str().unwrap_or_default().to_owned();
    let scale = Scale::from_json(&config["scale"]);
    let (url, ws_url) = (s("url"), s("ws_url"));
    let client = twitch::Client::builder()
        .client_id(s("client_id"))
        .app_token(s("app_token"))
        .helix_url(format!("{url}/helix"))
        .auth_url(format!("{url}/oauth2"))
        .eventsub_ws_url(ws_url.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let conduit_id = client
        .create_conduits(u16::try_from(scale.shards).map_err(|e| e.to_string())?)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .id;
    let mut transport = twitch::helix::eventsub::EventSubTransportRequest::new("conduit");
    transport.conduit_id = Some(conduit_id.clone());
    let condition = json!({"broadcaster_user_id": "1971641", "user_id": "2914196"});
    let created = client
        .create_eventsub_subscription(SUB_TYPE, "1", condition, transport)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let subscription_id = created.data.into_iter().next().ok_or("no subscription")?.id;
    let setup =
        Setup { scale, url, ws_url, client, conduit_id: conduit_id.into(), subscription_id: subscription_id.into() };
    tokio::time::sleep(Duration::from_millis(300)).await;
    if mode == "pool" { measure_pool(&setup).await } else { measure_bare(&setup, mode == "bare").await }
}

fn memory_json(connect_s: f64, before: (f64, f64), idle: (f64, f64)) -> Value {
    json!({"connect_s": connect_s, "rss_before_kib": before.0, "anon_before_kib": before.1,
        "rss_idle_kib": idle.0, "anon_idle_kib": idle.1})
}

async fn measure_bare(setup: &Setup, runtime_like: bool) -> Result<Value, String> {
    let Setup { scale, url, ws_url, client, conduit_id, subscription_id } = setup;
    let before = rss_kib();
    let started = Instant::now();
    let counter = Arc::new(Counter::default());
    let mut sockets = Vec::new();
    let mut waiting = Vec::new();
    for _ in 0..scale.shards {
        let (tx, rx) = oneshot::channel();
        let task = bare_socket(ws_url.clone(), socket_config(runtime_like), counter.clone(), tx);
        sockets.push(tokio::spawn(task));
        waiting.push(rx);
    }
    let mut sessions = Vec::new();
    for rx in waiting {
        sessions.push(rx.await.map_err(|_| "a socket task ended".to_owned())??);
    }
    let connect_s = started.elapsed().as_secs_f64();
    tokio::time::sleep(scale.idle).await;
    let mut v = memory_json(connect_s, before, rss_kib());

    // Attached after the memory reading: a bare socket needs none of this.
    for (chunk_index, chunk) in sessions.chunks(100).enumerate() {
        let updates = chunk.iter().enumerate().map(|(i, session)| {
            let mut t = twitch::helix::conduits::ConduitShardTransportRequest::new("websocket");
            t.session_id = Some(session.as_str().into());
            twitch::helix::conduits::ConduitShardUpdate::new((chunk_index * 100 + i).to_string(), t)
        });
        let resp = client.update_conduit_shards(conduit_id.clone(), updates).send().await.map_err(|e| e.to_string())?;
        if !resp.errors.is_empty() {
            return Err(format!("shards not attached: {:?}", resp.errors));
        }
    }
    counter.keeping.store(if runtime_like { CAPTURE } else { 0 }, Ordering::Relaxed);
    for (round, n) in [("warm-up", scale.warmup), ("measured", scale.events)] {
        counter.expect(n);
        let start = Instant::now();
        let trig = tokio::spawn(trigger(url.clone(), subscription_id.clone(), n));
        let arrived = tokio::time::timeout(Duration::from_secs(60), counter.done.notified()).await;
        let seconds = start.elapsed().as_secs_f64();
        let answer = trig.await.map_err(|e| e.to_string())??;
        if arrived.is_err() {
            let got = counter.received.load(Ordering::Relaxed);
            return Err(format!("{round}: {got} of {n} notifications within 60 s (mock: {answer})"));
        }
        counter.keeping.store(0, Ordering::Relaxed);
        v["received"] = json!(counter.received.load(Ordering::Relaxed));
        v["seconds"] = json!(seconds);
        v["mock_ms"] = answer["elapsed_ms"].clone();
    }
    v["rss_load_kib"] = json!(rss_kib().0);
    let kept = std::mem::take(&mut *counter.kept.lock().unwrap_or_else(|p| p.into_inner()));
    v["frames"] = json!(kept);
    for s in sockets {
        s.abort();
    }
    Ok(v)
}

async fn measure_pool(setup: &Setup) -> Result<Value, String> {
    let Setup { scale, url, client, conduit_id, subscription_id, .. } = setup;
    let before = rss_kib();
    let started = Instant::now();
    let mut pool = client
        .shard_pool(conduit_id.clone())
        .shard_count(scale.shards)
        .start()
        .await
        .map_err(|e| format!("the pool did not start: {e}"))?;
    let connect_s = started.elapsed().as_secs_f64();
    tokio::time::sleep(scale.idle).await;
    let mut v = memory_json(connect_s, before, rss_kib());
    let attached = pool.sessions().values().filter(|s| s.is_some()).count();
    if attached != scale.shards as usize {
        return Err(format!("only {attached} of {} shards have a session", scale.shards));
    }
    let mut other_items = 0u64;
    for (round, n) in [("warm-up", scale.warmup), ("measured", scale.events)] {
        let start = Instant::now();
        let trig = tokio::spawn(trigger(url.clone(), subscription_id.clone(), n));
        let mut received = 0usize;
        let read = tokio::time::timeout(Duration::from_secs(60), async {
            while received < n {
                match pool.next().await {
                    Some(SessionItem::Notification(_)) => received += 1,
                    Some(other) => {
                        other_items += 1;
                        eprintln!("shard_pool pool: {other:?}");
                    }
                    None => break,
                }
            }
        })
        .await;
        let seconds = start.elapsed().as_secs_f64();
        let answer = trig.await.map_err(|e| e.to_string())??;
        if read.is_err() || received < n {
            return Err(format!("{round}: {received} of {n} notifications within 60 s (mock: {answer})"));
        }
        v["received"] = json!(received);
        v["seconds"] = json!(seconds);
        v["mock_ms"] = answer["elapsed_ms"].clone();
    }
    v["rss_load_kib"] = json!(rss_kib().0);
    v["other_items"] = json!(other_items);
    pool.close().await;
    Ok(v)
}

/// `decode_frame::<Event>` over the captured frames on this thread, after
/// the runtime is gone: the most one core can decode.
fn decode_ceiling(v: &mut Value, decodes: usize) {
    let frames: Vec<String> = match v.as_object_mut().and_then(|o| o.remove("frames")) {
        Some(Value::Array(a)) => a.into_iter().filter_map(|f| f.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    };
    if frames.is_empty() {
        return;
    }
    match decode_frame::<twitch::Event>(&frames[0]).map(|f| f.message) {
        Ok(Message::Notification { event, decode_error: None, .. }) => {
            assert!(!matches!(event, twitch::Event::Unknown(_)), "the captured frame decoded as Unknown");
        }
        other => panic!("the captured frame did not decode as a notification: {other:?}"),
    }
    let start = Instant::now();
    for i in 0..decodes {
        drop(black_box(decode_frame::<twitch::Event>(black_box(&frames[i % frames.len()]))));
    }
    v["decode_s"] = json!(start.elapsed().as_secs_f64());
    v["decodes"] = json!(decodes);
    v["frame_bytes"] = json!(frames.iter().map(String::len).sum::<usize>() as f64 / frames.len() as f64);
}
