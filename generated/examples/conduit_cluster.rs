//! A conduit cluster on one machine: `twitch-mock` (in this process), a
//! PostgreSQL, and K worker processes (this program started again with the
//! `worker` argument) that share one app token through
//! [`twitch::tokens::PostgresStore`] and claim the conduit's shards with no
//! fixed assignment. It triggers events, kills one worker with SIGKILL,
//! triggers more, restarts it, and prints what arrived where.
//!
//! ```text
//! cargo run -p twitch --example conduit_cluster --features postgres -- --processes 3 --shards 6
//! ```
//!
//! `--processes K` (default 3) workers share `--shards S` shards (default
//! 2K): each claims S/K of them (the first S mod K one more). `--events N`
//! (default 20) events are triggered in each phase.
//!
//! PostgreSQL: `TWITCH_CLUSTER_POSTGRES` is a connection string
//! (`host=... user=... dbname=...`) to use; its tables `twitch_tokens` and
//! `twitch_leases` are created if missing, and an app token stored there by
//! an earlier run is replaced when the mock refuses it. Without it, a
//! throwaway server is made with `initdb` and `pg_ctl` (from `PATH` or
//! `/usr/lib/postgresql/*/bin`, the newest) in a temporary directory, on
//! 127.0.0.1 with a free port, and removed at the end; as root it runs as
//! the `postgres` user through `runuser`.
//!
//! The benchmark (notifications per second from trigger to worker, and each
//! worker's memory, for K = 1, 2 and 4 on the same 4 shards):
//!
//! ```text
//! cargo run --release -p twitch --example conduit_cluster --features postgres -- --bench
//! ```
//!
//! `--bench-events N` (default 500,000) and `--shards S` (default 4) change
//! its sizes, `--bench-processes 1,2,4` the rounds.
//!
//! What happens to notifications while a worker is down: the mock sends a
//! conduit's notifications round-robin over the shards it lists as
//! `enabled`. Once it has seen the killed worker's sockets close, that
//! worker's shards are disabled and every notification goes to the other
//! workers, so nothing is lost; only what it sent to those sockets in the
//! moment before it saw them close is gone (the "at the kill" phase counts
//! it). Twitch sends a notification to one shard and, if that shard fails,
//! retries it on one other shard only: with more than one shard disabled
//! (the killed worker's), some notifications can be dropped, and none is
//! kept for the shard to collect later. A restarted worker receives only
//! what is sent after it attached its shards.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use twitch::eventsub::stream::StreamOnlineV1;
use twitch::tokens::{PostgresStore, SharedTokenStore, TokenStore};
use twitch::websocket::{Backoff, EventSubApi};
use twitch::{Client, ConduitId, Event, OAuth, SessionItem, TokenManager, Transport};
use twitch_mock::{Mock, MockServer, TriggerOptions};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The argument that makes this program a worker.
pub const WORKER_ARG: &str = "worker";
/// A PostgreSQL connection string to use instead of a throwaway server.
pub const POSTGRES_VAR: &str = "TWITCH_CLUSTER_POSTGRES";
const CONDUIT_VAR: &str = "TWITCH_CLUSTER_CONDUIT";
const CLAIM_VAR: &str = "TWITCH_CLUSTER_CLAIM";
/// Set for the benchmark: the worker counts notifications without a line for each.
const QUIET_VAR: &str = "TWITCH_CLUSTER_QUIET";
/// Workers' lines on stdout start with this; other lines are not theirs.
/// A test harness prints its own, and may start a line the worker ends.
const PREFIX: &str = "@cluster ";
/// The mock's client: its secret is the mock's, known to nobody else.
const CLIENT_ID: &str = "cluster-client";
const CLIENT_SECRET: &str = "cluster-local-secret";
const BROADCASTER: &str = "1001";
const SETTLE: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(WORKER_ARG) {
        return worker().await;
    }
    let cli = Cli::parse(&args)?;
    let launcher = Launcher::new(std::env::current_exe()?, [WORKER_ARG]);
    let db = Database::from_env_or_throwaway()?;
    eprintln!("PostgreSQL: {}", db.describe());
    match cli {
        Cli::Deploy(options) => {
            let report = deploy(&launcher, db.params(), &options).await?;
            print!("{report}");
        }
        Cli::Bench(options) => {
            let rows = bench(&launcher, db.params(), &options).await?;
            print!("{}", BenchTable(&rows));
        }
    }
    Ok(())
}

/// What to run: the deployment, or the benchmark.
#[derive(Debug, Clone)]
pub enum Cli {
    Deploy(Options),
    Bench(BenchOptions),
}

/// The deployment's sizes.
#[derive(Debug, Clone)]
pub struct Options {
    /// Worker processes (K).
    pub processes: usize,
    /// Conduit shards (S), at least K.
    pub shards: u32,
    /// Events triggered in each phase (the "at the kill" phase sends a
    /// quarter of them, at least 4).
    pub events: usize,
}

/// The benchmark's sizes.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// One round for each worker count, on the same conduit.
    pub processes: Vec<usize>,
    pub shards: u32,
    /// Notifications measured in each round (after a warm-up of a tenth).
    pub events: usize,
}

impl Cli {
    pub fn parse(args: &[String]) -> Result<Cli> {
        let mut processes: Option<usize> = None;
        let mut shards: Option<u32> = None;
        let mut events = 20;
        let mut bench = false;
        let mut bench_events = 500_000;
        let mut bench_processes = vec![1, 2, 4];
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "--processes" => processes = Some(value()?.parse()?),
                "--shards" => shards = Some(value()?.parse()?),
                "--events" => events = value()?.parse()?,
                "--bench" => bench = true,
                "--bench-events" => bench_events = value()?.parse()?,
                "--bench-processes" => {
                    bench_processes = value()?.split(',').map(str::parse).collect::<std::result::Result<_, _>>()?
                }
                other => {
                    return Err(format!(
                        "unknown argument {other:?} (--processes K, --shards S, --events N, --bench, \
                         --bench-events N, --bench-processes 1,2,4)"
                    )
                    .into());
                }
            }
        }
        if bench {
            let shards = shards.unwrap_or(4);
            let most = bench_processes.iter().copied().max().unwrap_or(0);
            if bench_processes.contains(&0) || most as u64 > u64::from(shards) {
                return Err(format!("every round needs 1 to {shards} processes (one shard each at least)").into());
            }
            return Ok(Cli::Bench(BenchOptions { processes: bench_processes, shards, events: bench_events.max(1) }));
        }
        let processes = processes.unwrap_or(3);
        let shards = shards.unwrap_or(2 * processes as u32);
        if processes < 2 || (shards as usize) < processes {
            return Err("the deployment needs at least 2 processes and at least one shard for each".into());
        }
        Ok(Cli::Deploy(Options { processes, shards, events: events.max(1) }))
    }
}

// ---------------------------------------------------------------------------
// The worker.

/// One worker process: the app token through the shared store, `claim`
/// shards of the conduit, a line on stdout for what it runs and receives.
/// Reads `quit` (or the end of stdin) to stop.
pub async fn worker() -> Result<()> {
    let var = |name: &str| {
        std::env::var(name).map_err(|_| format!("{name} is not set: workers are started by the cluster's parent"))
    };
    let params = var(POSTGRES_VAR)?;
    let conduit = ConduitId::from(var(CONDUIT_VAR)?);
    let claim: u32 = var(CLAIM_VAR)?.parse()?;
    let quiet = std::env::var_os(QUIET_VAR).is_some();

    let store = PostgresStore::connect(&params).await?;
    let manager = TokenManager::with_store(OAuth::from_env()?, store.clone()).await?;
    let client = Client::builder().from_env()?.token_manager(manager.clone()).build()?;
    // The app token: another worker's from the store, or fetched once
    // (under the store's `app` lease) and stored for the others.
    let token = manager.app_token().await?;
    // Which stored version it is: the store counts every save, so the same
    // version everywhere means one fetch for the whole cluster.
    match store.load_app().await? {
        Some(v) if v.token.access_token == token => say(&format!("token {} same", v.version)),
        Some(v) => say(&format!("token {} differs", v.version)),
        None => say("token 0 none"),
    }

    let mut pool = client
        .shard_pool(conduit)
        .claim(claim)
        .backoff(Backoff { initial: Duration::from_millis(50), max: Duration::from_secs(1) })
        .health_check(Some(Duration::from_secs(2)))
        .start()
        .await?;

    let (quit_tx, mut quit_rx) = tokio::sync::mpsc::channel::<()>(1);
    std::thread::spawn(move || {
        // `quit`, or the parent gone (end of input), stops the worker.
        for line in std::io::stdin().lock().lines() {
            match line {
                Ok(l) if l.trim() != "quit" => continue,
                _ => break,
            }
        }
        let _ = quit_tx.blocking_send(());
    });

    let mut count: u64 = 0;
    let mut reported_count = None;
    let mut reported_shards = String::new();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            item = pool.next() => match item {
                None => break,
                Some(SessionItem::Notification(n)) => {
                    count += 1;
                    if !quiet {
                        let shard = n.shard.map_or_else(|| "-".to_owned(), |s| s.to_string());
                        let id = match &n.event {
                            Event::StreamOnlineV1(e) => e.id.to_string(),
                            _ => "-".to_owned(),
                        };
                        say(&format!("event {shard} {id}"));
                    }
                }
                Some(SessionItem::ShardReleased(r)) => eprintln!("[worker {}] let shard {} go: {:?}", std::process::id(), r.shard, r.reason),
                Some(SessionItem::ShardClaimed(c)) => eprintln!("[worker {}] claimed shard {}", std::process::id(), c.shard),
                Some(SessionItem::EventsMayBeLost(l)) => eprintln!("[worker {}] shard {:?} lost its connection: {}", std::process::id(), l.shard, l.reason),
                Some(SessionItem::Error(e)) => eprintln!("[worker {}] {e}", std::process::id()),
                Some(_) => {}
            },
            _ = tick.tick() => {
                if reported_count != Some(count) {
                    say(&format!("count {count}"));
                    reported_count = Some(count);
                }
                let shards = pool
                    .sessions()
                    .into_iter()
                    .map(|(id, s)| format!("{id}={}", s.map_or_else(|| "-".to_owned(), |s| s.to_string())))
                    .collect::<Vec<_>>()
                    .join(",");
                if shards != reported_shards {
                    say(&format!("shards {shards}"));
                    reported_shards = shards;
                }
            }
            _ = quit_rx.recv() => break,
        }
    }
    pool.close().await;
    say(&format!("count {count}"));
    say("bye");
    Ok(())
}

/// One line for the parent. A parent that is gone cannot read it; the
/// worker then stops when its stdin ends.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{PREFIX}{line}");
    let _ = out.flush();
}

// ---------------------------------------------------------------------------
// The parent's view of its workers.

/// How to start a worker: this program with `worker`, or (in the test
/// suite) the test binary running its worker test.
#[derive(Debug, Clone)]
pub struct Launcher {
    program: PathBuf,
    args: Vec<String>,
}

impl Launcher {
    pub fn new(program: impl Into<PathBuf>, args: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self { program: program.into(), args: args.into_iter().map(Into::into).collect() }
    }
}

/// What a worker said on stdout so far.
#[derive(Debug, Default)]
struct Heard {
    /// Shard id -> session id, as its pool runs them.
    shards: BTreeMap<u32, String>,
    /// (shard, stream id) of each `stream.online` received.
    events: Vec<(String, String)>,
    /// Notifications received.
    count: u64,
    /// The stored app token version it holds, and whether it is the stored one.
    token: Option<String>,
    /// Its stdout ended (it exited or was killed).
    gone: bool,
}

/// A running worker process. Dropping it kills the process.
struct Worker {
    label: String,
    claim: u32,
    child: Child,
    stdin: Option<ChildStdin>,
    heard: Arc<Mutex<Heard>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    fn spawn(launcher: &Launcher, label: String, env: &[(String, String)], claim: u32) -> Result<Worker> {
        let mut cmd = Command::new(&launcher.program);
        cmd.args(&launcher.args)
            // A token from the caller's environment would take the place of
            // the shared app token.
            .env_remove("TWITCH_USER_TOKEN")
            .env_remove("TWITCH_APP_TOKEN")
            .env(CLAIM_VAR, claim.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|e| format!("could not start {}: {e}", launcher.program.display()))?;
        let stdout = child.stdout.take().ok_or("the worker has no stdout")?;
        let stdin = child.stdin.take();
        let heard = Arc::new(Mutex::new(Heard::default()));
        let h = heard.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some((_, rest)) = line.split_once(PREFIX) {
                    hear(&mut lock(&h), rest);
                }
            }
            lock(&h).gone = true;
        });
        Ok(Worker { label, claim, child, stdin, heard, reader: Some(reader) })
    }

    fn heard(&self) -> MutexGuard<'_, Heard> {
        lock(&self.heard)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no goodbye, its sockets closed by the kernel.
    fn kill(&mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Ask it to stop; kill it if it does not within 10 s.
    async fn stop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"quit\n");
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// User and system CPU time so far, from /proc.
    fn cpu(&self) -> Option<Duration> {
        cpu_time(&format!("/proc/{}/stat", self.pid()))
    }

    /// VmRSS and VmHWM (peak) from /proc, in KiB.
    fn memory(&self) -> Option<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let field = |name: &str| {
            status.lines().find_map(|l| l.strip_prefix(name)?.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())
        };
        Some((field("VmRSS:")?, field("VmHWM:")?))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// utime + stime of a /proc `stat` file, in clock ticks of 1/100 s (the
/// USER_HZ Linux reports in /proc on every architecture it runs on here).
fn cpu_time(path: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn lock(h: &Mutex<Heard>) -> MutexGuard<'_, Heard> {
    h.lock().unwrap_or_else(|p| p.into_inner())
}

/// Take one worker line; a line that does not parse is ignored.
fn hear(h: &mut Heard, line: &str) {
    let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
    match kind {
        "shards" => {
            h.shards = rest
                .split(',')
                .filter_map(|p| {
                    let (id, session) = p.split_once('=')?;
                    Some((id.parse().ok()?, session.to_owned()))
                })
                .collect();
        }
        "event" => {
            if let Some((shard, id)) = rest.split_once(' ') {
                h.events.push((shard.to_owned(), id.to_owned()));
            }
        }
        "count" => {
            if let Ok(n) = rest.parse() {
                h.count = n;
            }
        }
        "token" => h.token = Some(rest.to_owned()),
        _ => {}
    }
}

/// The environment every worker gets: the mock's URLs and client, the
/// store, the conduit.
fn worker_env(mock: &MockServer, params: &str, conduit: &ConduitId, quiet: bool) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = mock.env_vars().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    env.push((POSTGRES_VAR.to_owned(), params.to_owned()));
    env.push((CONDUIT_VAR.to_owned(), conduit.to_string()));
    if quiet {
        env.push((QUIET_VAR.to_owned(), "1".to_owned()));
    }
    env
}

/// Shard id -> (status, session id), from Get Conduit Shards.
async fn conduit_shards(client: &Client, conduit: &ConduitId) -> Result<BTreeMap<u32, (String, Option<String>)>> {
    let mut out = BTreeMap::new();
    for s in EventSubApi::conduit_shards(client, conduit.clone()).await? {
        out.insert(s.shard_id.parse()?, (s.status, s.session_id.map(|id| id.to_string())));
    }
    Ok(out)
}

/// Wait until every shard is enabled on a session that exactly one of the
/// live `workers` runs it on. Returns shard id -> index into `workers`.
async fn settled(client: &Client, conduit: &ConduitId, workers: &[&Worker]) -> Result<BTreeMap<u32, usize>> {
    let deadline = Instant::now() + SETTLE;
    loop {
        let listed = conduit_shards(client, conduit).await?;
        let mut held: BTreeMap<u32, (usize, String)> = BTreeMap::new();
        let mut twice = false;
        for (i, w) in workers.iter().enumerate() {
            for (shard, session) in w.heard().shards.clone() {
                twice |= held.insert(shard, (i, session)).is_some();
            }
        }
        let ok = !twice
            && listed.len() == held.len()
            && listed.iter().all(|(id, (status, session))| {
                status == "enabled" && session.is_some() && held.get(id).map(|(_, s)| s) == session.as_ref()
            });
        if ok {
            return Ok(held.into_iter().map(|(id, (i, _))| (id, i)).collect());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the conduit did not settle in {SETTLE:?}: Twitch lists {listed:?}, workers run {held:?}"
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Wait until none of `shards` is enabled (the mock saw their sockets close).
async fn disabled(client: &Client, conduit: &ConduitId, shards: &BTreeSet<u32>) -> Result<()> {
    let deadline = Instant::now() + SETTLE;
    loop {
        let listed = conduit_shards(client, conduit).await?;
        if shards.iter().all(|id| listed.get(id).is_none_or(|(status, _)| status != "enabled")) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("shards {shards:?} are still enabled after {SETTLE:?}: {listed:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Wait until every id arrived at one of `workers`, or `patience` passed.
async fn arrived(workers: &[&Worker], ids: &[String], patience: Duration) {
    let deadline = Instant::now() + patience;
    let want: BTreeSet<&String> = ids.iter().collect();
    loop {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for w in workers {
            seen.extend(w.heard().events.iter().map(|(_, id)| id.clone()));
        }
        if want.iter().all(|id| seen.contains(*id)) || Instant::now() > deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Notifications the workers counted, together.
fn total(workers: &[Worker]) -> u64 {
    workers.iter().map(|w| w.heard().count).sum()
}

/// Wait until the workers counted `want` notifications; when that was.
async fn wait_total(workers: &[Worker], want: u64) -> Result<Instant> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let got = total(workers);
        if got >= want {
            return Ok(Instant::now());
        }
        if Instant::now() > deadline || workers.iter().any(|w| w.heard().gone) {
            return Err(format!("{got} of {want} notifications arrived").into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Shard counts for K workers: S/K each, the first S mod K one more.
pub fn claims(processes: usize, shards: u32) -> Vec<u32> {
    let k = processes as u32;
    (0..k).map(|i| shards / k + u32::from(i < shards % k)).collect()
}

/// The app client of the operator (the parent): it makes the conduit and
/// the subscription and reads Get Conduit Shards. Its token is minted by
/// the mock, so the only client-credentials fetches are the workers'.
async fn operator(mock: &MockServer, shards: u32) -> Result<(Client, ConduitId, String)> {
    let client = mock.client_builder().app_token(mock.mint_app_token(CLIENT_ID)).build()?;
    let count = u16::try_from(shards).map_err(|_| "at most 65,535 shards")?;
    let conduit = client.create_conduits(count).send().await?.id;
    let made = client.subscribe(StreamOnlineV1::new(BROADCASTER), Transport::conduit(&conduit)).await?;
    Ok((client, conduit, made.subscription.id.to_string()))
}

async fn start_mock() -> Result<MockServer> {
    Ok(Mock::builder().client(CLIENT_ID, CLIENT_SECRET).start().await?)
}

// ---------------------------------------------------------------------------
// The deployment.

/// The phases, in order.
pub const PHASES: [&str; 4] = ["all up", "at the kill", "one down", "restarted"];

/// One worker process (a restarted worker is a row of its own).
#[derive(Debug, Clone)]
pub struct WorkerRow {
    pub label: String,
    pub pid: u32,
    /// The shards it ran once the conduit settled (the killed one: before the kill).
    pub shards: Vec<u32>,
    /// `stream.online` notifications received, per phase (index into [`PHASES`]).
    pub received: [usize; 4],
    /// The stored app token version it held once it had a token, and
    /// whether that was the stored one (`1 same`).
    pub token: String,
    /// VmRSS in KiB at the end (the killed one: just before the kill).
    pub rss_kib: Option<u64>,
}

/// One phase's events, counted across the workers.
#[derive(Debug, Clone, Default)]
pub struct PhaseRow {
    pub name: &'static str,
    pub triggered: usize,
    /// Notifications the mock sent (to a socket it still held open).
    pub sent: usize,
    /// Events some worker received exactly once, more than once, never.
    pub once: usize,
    pub duplicated: usize,
    pub missing: usize,
}

/// What arrived where.
#[derive(Debug, Clone)]
pub struct Report {
    pub processes: usize,
    pub shards: u32,
    pub conduit: String,
    pub workers: Vec<WorkerRow>,
    pub phases: Vec<PhaseRow>,
    /// The killed worker's label and shards, and the shards its restart got.
    pub killed: String,
    pub killed_shards: Vec<u32>,
    pub restarted_shards: Vec<u32>,
    /// The app token's version in the store at the end (one save per fetch).
    pub app_token_version: Option<u64>,
}

/// Run the deployment: `params` is the PostgreSQL connection string.
pub async fn deploy(launcher: &Launcher, params: &str, options: &Options) -> Result<Report> {
    let mock = start_mock().await?;
    let (client, conduit, subscription) = operator(&mock, options.shards).await?;
    let env = worker_env(&mock, params, &conduit, false);
    let claims = claims(options.processes, options.shards);
    eprintln!("Conduit {conduit}: {} shards; starting {} workers claiming {claims:?}.", options.shards, claims.len());

    let mut workers: Vec<Worker> = Vec::new();
    for (i, claim) in claims.iter().enumerate() {
        workers.push(Worker::spawn(launcher, format!("worker {i}"), &env, *claim)?);
    }
    let held = settled(&client, &conduit, &workers.iter().collect::<Vec<_>>()).await?;
    let shards_of = |held: &BTreeMap<u32, usize>, i: usize| -> Vec<u32> {
        held.iter().filter(|(_, w)| **w == i).map(|(id, _)| *id).collect()
    };
    let mut rows: Vec<WorkerRow> = workers
        .iter()
        .enumerate()
        .map(|(i, w)| WorkerRow {
            label: w.label.clone(),
            pid: w.pid(),
            shards: shards_of(&held, i),
            received: [0; 4],
            token: String::new(),
            rss_kib: None,
        })
        .collect();
    for r in &rows {
        eprintln!("{} (pid {}) runs shards {:?}.", r.label, r.pid, r.shards);
    }

    let trigger = |n: usize| -> Result<(Vec<String>, usize)> {
        let mut ids = Vec::with_capacity(n);
        let mut sent = 0;
        for _ in 0..n {
            let options = TriggerOptions { subscription_id: Some(subscription.clone()), ..Default::default() };
            let t = mock.trigger("stream.online", Some("1"), options)?;
            let id = t.event.get("id").and_then(|v| v.as_str()).ok_or("the mock's event has no id")?;
            ids.push(id.to_owned());
            sent += t.delivered;
        }
        Ok((ids, sent))
    };
    let mut phase_ids: Vec<Vec<String>> = Vec::new();
    let mut phase_sent: Vec<usize> = Vec::new();

    // 1. Every worker up.
    let (ids, sent) = trigger(options.events)?;
    arrived(&workers.iter().collect::<Vec<_>>(), &ids, Duration::from_secs(10)).await;
    phase_ids.push(ids);
    phase_sent.push(sent);

    // 2. Kill worker 0 and trigger at once, before the mock has seen its
    //    sockets close.
    let victim = 0;
    rows[victim].rss_kib = workers[victim].memory().map(|(rss, _)| rss);
    rows[victim].token = workers[victim].heard().token.clone().unwrap_or_default();
    let killed_shards: BTreeSet<u32> = rows[victim].shards.iter().copied().collect();
    eprintln!("Killing {} (SIGKILL), which ran shards {killed_shards:?}.", workers[victim].label);
    workers[victim].kill()?;
    let (ids, sent) = trigger((options.events / 4).max(4))?;
    arrived(&workers.iter().collect::<Vec<_>>(), &ids, Duration::from_secs(3)).await;
    phase_ids.push(ids);
    phase_sent.push(sent);

    // 3. The mock has disabled the killed worker's shards: the others get everything.
    disabled(&client, &conduit, &killed_shards).await?;
    let (ids, sent) = trigger(options.events)?;
    arrived(&workers.iter().collect::<Vec<_>>(), &ids, Duration::from_secs(10)).await;
    phase_ids.push(ids);
    phase_sent.push(sent);

    // 4. Restart it: it claims free shards, the ones the killed one left.
    let restarted =
        Worker::spawn(launcher, format!("{} (restarted)", workers[victim].label), &env, workers[victim].claim)?;
    let old = std::mem::replace(&mut workers[victim], restarted);
    let live: Vec<&Worker> = workers.iter().collect();
    let held = settled(&client, &conduit, &live).await?;
    let restarted_shards = shards_of(&held, victim);
    eprintln!("{} (pid {}) runs shards {restarted_shards:?}.", workers[victim].label, workers[victim].pid());
    let (ids, sent) = trigger(options.events)?;
    arrived(&live, &ids, Duration::from_secs(10)).await;
    phase_ids.push(ids);
    phase_sent.push(sent);

    rows.push(WorkerRow {
        label: workers[victim].label.clone(),
        pid: workers[victim].pid(),
        shards: restarted_shards.clone(),
        received: [0; 4],
        token: String::new(),
        rss_kib: None,
    });
    // Rows: the workers as started (0 is the killed one), then the restart.
    let mut everyone: Vec<(usize, &Worker)> = vec![(victim, &old)];
    for (i, w) in workers.iter().enumerate() {
        everyone.push((if i == victim { rows.len() - 1 } else { i }, w));
    }
    for (row, w) in &everyone {
        if !(w.heard().gone) {
            rows[*row].rss_kib = w.memory().map(|(rss, _)| rss);
            rows[*row].token = w.heard().token.clone().unwrap_or_default();
        }
    }

    // Count: which phase each id belongs to, who received it.
    let phase_of: BTreeMap<&String, usize> =
        phase_ids.iter().enumerate().flat_map(|(p, ids)| ids.iter().map(move |id| (id, p))).collect();
    let mut receipts: BTreeMap<&String, usize> = BTreeMap::new();
    for (row, w) in &everyone {
        for (_, id) in w.heard().events.clone() {
            let Some((id, p)) = phase_of.get_key_value(&id) else { continue };
            rows[*row].received[*p] += 1;
            *receipts.entry(id).or_default() += 1;
        }
    }
    let phases = phase_ids
        .iter()
        .enumerate()
        .map(|(p, ids)| {
            let n = |id: &String| receipts.get(id).copied().unwrap_or(0);
            PhaseRow {
                name: PHASES[p],
                triggered: ids.len(),
                sent: phase_sent[p],
                once: ids.iter().filter(|id| n(id) == 1).count(),
                duplicated: ids.iter().filter(|id| n(id) > 1).count(),
                missing: ids.iter().filter(|id| n(id) == 0).count(),
            }
        })
        .collect();

    for w in &mut workers {
        w.stop().await;
    }
    let store = PostgresStore::connect(params).await?;
    // The workers' rows are under their client id.
    store.bind_client(CLIENT_ID).await?;
    let app_token_version = store.load_app().await?.map(|v| v.version);
    Ok(Report {
        processes: options.processes,
        shards: options.shards,
        conduit: conduit.to_string(),
        killed: old.label.clone(),
        killed_shards: killed_shards.into_iter().collect(),
        restarted_shards,
        workers: rows,
        phases,
        app_token_version,
    })
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "Conduit {}: {} shards, {} worker processes.", self.conduit, self.shards, self.processes)?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<22} {:>8} {:<12} {:>7} {:>11} {:>8} {:>9}  {:<9} {:>9}",
            "worker", "pid", "shards", "all up", "at the kill", "one down", "restarted", "app token", "VmRSS"
        )?;
        for w in &self.workers {
            let shards = w.shards.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
            let rss = w.rss_kib.map_or_else(|| "-".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
            let token = if w.token.is_empty() { "-".to_owned() } else { format!("v{}", w.token) };
            let [a, b, c, d] = w.received;
            writeln!(
                f,
                "{:<22} {:>8} {:<12} {a:>7} {b:>11} {c:>8} {d:>9}  {token:<9} {rss:>9}",
                w.label, w.pid, shards
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:<12} {:>9} {:>13} {:>13} {:>10} {:>7}",
            "phase", "triggered", "sent by mock", "arrived once", "duplicated", "lost"
        )?;
        for p in &self.phases {
            writeln!(
                f,
                "{:<12} {:>9} {:>13} {:>13} {:>10} {:>7}",
                p.name, p.triggered, p.sent, p.once, p.duplicated, p.missing
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{} ran shards {:?} and was killed; restarted, it claimed {:?}.",
            self.killed, self.killed_shards, self.restarted_shards
        )?;
        match self.app_token_version {
            Some(v) => writeln!(
                f,
                "App token: version {v} in the store (one save per client-credentials fetch); the app token column \
                 is the stored version each worker held once it had a token, and whether it was the stored one. \
                 A token an earlier run left in the store is replaced after the mock refuses it."
            )?,
            None => writeln!(f, "App token: none in the store.")?,
        }
        writeln!(
            f,
            "Lost while a worker is down: the mock sends conduit notifications round-robin over the shards it \
             lists as enabled, so once it saw the killed worker's sockets close the others got everything; \
             only what it sent to those sockets just before (\"at the kill\") can be lost. Twitch retries a \
             notification whose shard failed on one other shard only, so with several shards disabled some \
             can be dropped, and none is kept for a shard to collect when it comes back."
        )
    }
}

// ---------------------------------------------------------------------------
// The benchmark.

/// One round: K workers on the same shards.
#[derive(Debug, Clone)]
pub struct BenchRow {
    pub processes: usize,
    pub shards: u32,
    pub events: usize,
    /// From the trigger to the last notification counted by a worker.
    pub elapsed: Duration,
    /// Each worker: VmRSS once it runs its shards, VmRSS after the rounds, VmHWM (peak); KiB.
    pub memory: Vec<(u64, u64, u64)>,
    /// CPU time during the measured burst: the workers' together, and this
    /// process's (the mock building and sending the notifications).
    pub workers_cpu: Duration,
    pub mock_cpu: Duration,
}

impl BenchRow {
    pub fn per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }
}

/// Notifications per second end to end, and memory per worker, for each
/// worker count on one conduit.
pub async fn bench(launcher: &Launcher, params: &str, options: &BenchOptions) -> Result<Vec<BenchRow>> {
    let mock = start_mock().await?;
    let (client, conduit, subscription) = operator(&mock, options.shards).await?;
    let env = worker_env(&mock, params, &conduit, true);
    let mut rows = Vec::new();
    for &k in &options.processes {
        let mut workers = Vec::new();
        for (i, claim) in claims(k, options.shards).into_iter().enumerate() {
            workers.push(Worker::spawn(launcher, format!("worker {i}"), &env, claim)?);
        }
        settled(&client, &conduit, &workers.iter().collect::<Vec<_>>()).await?;
        // Idle memory once the pools run their shards.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let idle: Vec<u64> = workers.iter().map(|w| w.memory().map_or(0, |(rss, _)| rss)).collect();

        let burst = |n: usize| {
            let options =
                TriggerOptions { subscription_id: Some(subscription.clone()), count: n, ..Default::default() };
            // The mock builds and queues the notifications on this thread.
            tokio::task::block_in_place(|| mock.trigger("stream.online", Some("1"), options))
        };
        let warm = (options.events / 10).max(1);
        let before = total(&workers);
        let sent = burst(warm)?.delivered;
        wait_total(&workers, before + sent as u64).await?;

        let before = total(&workers);
        let cpu = |workers: &[Worker]| workers.iter().filter_map(Worker::cpu).sum::<Duration>();
        let (workers_cpu, mock_cpu) = (cpu(&workers), cpu_time("/proc/self/stat").unwrap_or_default());
        let start = Instant::now();
        let sent = burst(options.events)?.delivered;
        if sent != options.events {
            return Err(format!("the mock sent {sent} of {} notifications", options.events).into());
        }
        let end = wait_total(&workers, before + sent as u64).await?;
        let workers_cpu = cpu(&workers).saturating_sub(workers_cpu);
        let mock_cpu = cpu_time("/proc/self/stat").unwrap_or_default().saturating_sub(mock_cpu);
        let after: Vec<(u64, u64)> = workers.iter().map(|w| w.memory().unwrap_or((0, 0))).collect();
        let row = BenchRow {
            processes: k,
            shards: options.shards,
            events: sent,
            elapsed: end - start,
            workers_cpu,
            mock_cpu,
            memory: idle.into_iter().zip(after).map(|(i, (rss, hwm))| (i, rss, hwm)).collect(),
        };
        eprintln!("K = {k}: {:.0} notifications/s", row.per_second());
        rows.push(row);
        for w in &mut workers {
            w.stop().await;
        }
    }
    Ok(rows)
}

/// The rounds as a Markdown table.
pub struct BenchTable<'a>(pub &'a [BenchRow]);

impl std::fmt::Display for BenchTable<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let base = self.0.first().map(BenchRow::per_second);
        let first = self.0.first().map_or(1, |r| r.processes);
        writeln!(
            f,
            "| K | shards each | notifications per second | vs K = {first} | workers' CPU per notification | mock's CPU per notification |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|")?;
        for r in self.0 {
            let each = claims(r.processes, r.shards).iter().map(u32::to_string).collect::<Vec<_>>().join(",");
            let per = |d: Duration| d.as_secs_f64() * 1e6 / r.events as f64;
            writeln!(
                f,
                "| {} | {each} | {:.0} | {:.2} | {:.2} µs | {:.2} µs |",
                r.processes,
                r.per_second(),
                base.map_or(1.0, |b| r.per_second() / b),
                per(r.workers_cpu),
                per(r.mock_cpu),
            )?;
        }
        writeln!(f)?;
        writeln!(f, "| K | VmRSS per worker, running (MiB) | all workers | after the burst | peak (VmHWM) |")?;
        writeln!(f, "|---|---|---|---|---|")?;
        for r in self.0 {
            let mib = |f: fn(&(u64, u64, u64)) -> u64| {
                r.memory.iter().map(|m| format!("{:.1}", f(m) as f64 / 1024.0)).collect::<Vec<_>>().join(" / ")
            };
            let sum = r.memory.iter().map(|m| m.0).sum::<u64>() as f64 / 1024.0;
            writeln!(f, "| {} | {} | {sum:.1} | {} | {} |", r.processes, mib(|m| m.0), mib(|m| m.1), mib(|m| m.2))?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// PostgreSQL.

/// The database the workers share.
pub enum Database {
    /// A connection string from the environment.
    External(String),
    Throwaway(Throwaway),
}

impl Database {
    pub fn from_env_or_throwaway() -> Result<Database> {
        match std::env::var(POSTGRES_VAR) {
            Ok(params) if !params.is_empty() => Ok(Database::External(params)),
            _ => Ok(Database::Throwaway(Throwaway::start()?)),
        }
    }

    pub fn params(&self) -> &str {
        match self {
            Database::External(p) => p,
            Database::Throwaway(t) => &t.params,
        }
    }

    /// Where, without the connection string (it may hold a password).
    pub fn describe(&self) -> String {
        match self {
            Database::External(_) => format!("the server {POSTGRES_VAR} names"),
            Database::Throwaway(t) => format!("a throwaway server on 127.0.0.1:{} in {}", t.port, t.dir.display()),
        }
    }
}

/// A PostgreSQL made with `initdb` in a temporary directory; stopped and
/// removed when dropped.
pub struct Throwaway {
    dir: PathBuf,
    bin: PathBuf,
    run_as: Option<String>,
    port: u16,
    params: String,
}

impl Throwaway {
    pub fn start() -> Result<Throwaway> {
        let bin = postgres_bin().ok_or_else(|| {
            format!(
                "no PostgreSQL found: neither initdb and pg_ctl on PATH nor /usr/lib/postgresql/*/bin. Install it \
                 (Debian: apt-get install postgresql) or set {POSTGRES_VAR} to a connection string."
            )
        })?;
        let dir = std::env::temp_dir().join(format!("twitch-cluster-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sock"))?;
        // initdb refuses to run as root: run the server as `postgres` then.
        let run_as = if id(&["-u"]).as_deref() == Some("0") {
            let user = ["postgres", "nobody"]
                .into_iter()
                .find(|u| id(&["-u", u]).is_some())
                .ok_or("no user to run PostgreSQL as")?;
            let uid = id(&["-u", user]).and_then(|u| u.parse().ok());
            let gid = id(&["-g", user]).and_then(|g| g.parse().ok());
            for d in [dir.clone(), dir.join("sock")] {
                std::os::unix::fs::chown(&d, uid, gid)?;
            }
            Some(user.to_owned())
        } else {
            None
        };
        let mut pg = Throwaway { dir, bin, run_as, port: 0, params: String::new() };
        let data = pg.dir.join("data");
        let init = pg
            .tool("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "twitch", "-A", "trust", "-E", "UTF8", "--no-sync"])
            .output()?;
        if !init.status.success() {
            return Err(format!("initdb failed: {}", String::from_utf8_lossy(&init.stderr)).into());
        }
        let mut last = String::new();
        // A free port can be taken before the server binds it: try a few.
        for _ in 0..5 {
            pg.port = std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port();
            let opts = format!("-h 127.0.0.1 -p {} -k {} -F", pg.port, pg.dir.join("sock").display());
            let log = pg.dir.join("log");
            let out = pg
                .tool("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60", "-o", &opts, "start"])
                .output()?;
            if out.status.success() {
                pg.params = format!("host=127.0.0.1 port={} user=twitch dbname=postgres sslmode=disable", pg.port);
                return Ok(pg);
            }
            last = std::fs::read_to_string(&log).unwrap_or_default();
        }
        Err(format!("PostgreSQL did not start: {last}").into())
    }

    fn tool(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        }
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let _ =
            self.tool("pg_ctl").arg("-D").arg(self.dir.join("data")).args(["-m", "immediate", "-w", "stop"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The directory with `initdb` and `pg_ctl`: on PATH, else Debian's newest.
fn postgres_bin() -> Option<PathBuf> {
    let has = |d: &Path| d.join("initdb").exists() && d.join("pg_ctl").exists();
    if let Some(found) = std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).find(|d| has(d))) {
        return Some(found);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| has(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn id(args: &[&str]) -> Option<String> {
    let out = Command::new("id").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
