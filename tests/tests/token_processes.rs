//! The decisive test of the shared token stores: K = 4 real OS processes
//! (this test binary started again in child mode) share one store (an
//! SQLite file, or a throwaway PostgreSQL) and one user whose token has
//! expired; each fires 25 requests at once at a local Helix through its
//! own client and token manager. The local identity service has
//! single-use refresh tokens, as Twitch's are for public clients.
//!
//! - Exactly one refresh reaches the identity service, and every process
//!   ends with the same new token.
//! - The process holding the refresh lease is killed while the identity
//!   service holds its refresh unanswered: another process takes over once
//!   the lease expires, the refresh token was never spent, and the three
//!   left end with the same valid token.

#[path = "support/postgres.rs"]
mod pg;

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use pg::Postgres;
use tokio::sync::{Notify, mpsc};
use twitch::tokens::{PostgresStore, SqliteStore};
use twitch::{Client, ClientSecret, OAuth, Timestamp, TokenManager, TokenStore, UserToken};

const K: usize = 4;
const REQUESTS: usize = 25;
/// Short, so the takeover after a kill comes soon.
const LEASE: Duration = Duration::from_secs(3);
const CHILD_TEST: &str = "child_process";

/// The local Twitch: the identity service with single-use refresh tokens
/// and a Helix that accepts only valid access tokens.
#[derive(Default)]
struct Twitch {
    /// Valid access tokens, and refresh tokens not yet spent.
    tokens: Mutex<(Vec<String>, Vec<String>)>,
    /// Refresh requests received, answered with a new pair, refused.
    refreshes: AtomicUsize,
    refreshed: AtomicUsize,
    refused: AtomicUsize,
    /// Hold the next refresh request unanswered, forever (nothing spent).
    stall_next: AtomicBool,
    stalled: Notify,
    /// Helix answers: 200s and 401s.
    helix_ok: AtomicUsize,
    helix_401: AtomicUsize,
}

impl Twitch {
    async fn answer(&self, path: &str, auth: &str, body: &[u8]) -> (u16, String) {
        match path {
            "/oauth2/token" => {
                self.refreshes.fetch_add(1, Ordering::SeqCst);
                if self.stall_next.swap(false, Ordering::SeqCst) {
                    self.stalled.notify_one();
                    std::future::pending::<()>().await;
                }
                let refresh = form_urlencoded::parse(body)
                    .find(|(k, _)| k == "refresh_token")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                let mut t = self.tokens.lock().unwrap();
                let Some(pos) = t.1.iter().position(|r| *r == refresh) else {
                    self.refused.fetch_add(1, Ordering::SeqCst);
                    return (400, r#"{"status":400,"message":"Invalid refresh token"}"#.into());
                };
                // Spent: a second use fails.
                t.1.remove(pos);
                let n: usize = refresh.trim_start_matches("refresh-").parse().unwrap_or(0) + 1;
                t.0.push(format!("token-{n}"));
                t.1.push(format!("refresh-{n}"));
                self.refreshed.fetch_add(1, Ordering::SeqCst);
                let body = format!(
                    r#"{{"access_token":"token-{n}","refresh_token":"refresh-{n}","expires_in":14400,"scope":["user:edit"],"token_type":"bearer"}}"#
                );
                (200, body)
            }
            "/oauth2/validate" => {
                let token = auth.trim_start_matches("OAuth ");
                if self.valid(token) {
                    (200, r#"{"client_id":"cid","login":"a","user_id":"1","scopes":[],"expires_in":100}"#.into())
                } else {
                    (401, r#"{"status":401,"message":"invalid access token"}"#.into())
                }
            }
            _ => {
                if self.valid(auth.trim_start_matches("Bearer ")) {
                    self.helix_ok.fetch_add(1, Ordering::SeqCst);
                    (200, r#"{"data":[]}"#.into())
                } else {
                    self.helix_401.fetch_add(1, Ordering::SeqCst);
                    (401, r#"{"error":"Unauthorized","status":401,"message":"Invalid OAuth token"}"#.into())
                }
            }
        }
    }

    fn valid(&self, token: &str) -> bool {
        self.tokens.lock().unwrap().0.iter().any(|t| t == token)
    }
}

/// Serve the local Twitch on 127.0.0.1; answers may wait (a stalled refresh).
async fn serve(twitch: Arc<Twitch>) -> String {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let twitch = twitch.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let twitch = twitch.clone();
                    async move {
                        let path = req.uri().path().to_owned();
                        let auth =
                            req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        let (status, body) = twitch.answer(&path, &auth, &body).await;
                        let mut resp = hyper::Response::new(Full::new(Bytes::from(body)));
                        *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                        resp.headers_mut().insert("content-type", "application/json".parse().unwrap());
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    url
}

/// Where the processes keep their tokens: `sqlite:<path>` or `postgres:<params>`.
enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Store {
    async fn open(spec: &str) -> Store {
        if let Some(path) = spec.strip_prefix("sqlite:") {
            Store::Sqlite(SqliteStore::open(path).unwrap().with_lease_ttl(LEASE))
        } else if let Some(params) = spec.strip_prefix("postgres:") {
            Store::Postgres(PostgresStore::connect(params).await.unwrap().with_lease_ttl(LEASE))
        } else {
            panic!("unknown store {spec}")
        }
    }

    fn get(&self) -> &dyn TokenStore {
        match self {
            Store::Sqlite(s) => s,
            Store::Postgres(s) => s,
        }
    }

    async fn lease_holder(&self, lease: &str) -> Option<String> {
        match self {
            Store::Sqlite(s) => s.lease_holder(lease).await.unwrap(),
            Store::Postgres(s) => s.lease_holder(lease).await.unwrap(),
        }
    }
}

fn oauth(url: &str) -> OAuth {
    // A public client (no secret): its refresh tokens are single-use.
    OAuth::new("cid", None::<ClientSecret>).auth_url(format!("{url}/oauth2"))
}

/// One process of the cluster: open the store, say READY, wait for `go`
/// on stdin, fire the requests at once, report, exit.
#[test]
#[ignore = "a child process of the multi-process token tests, started by them"]
fn child_process() {
    let spec = std::env::var("TWITCH_CHILD_STORE").expect("TWITCH_CHILD_STORE");
    let url = std::env::var("TWITCH_CHILD_URL").expect("TWITCH_CHILD_URL");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async move {
        let manager = match Store::open(&spec).await {
            Store::Sqlite(s) => TokenManager::with_store(oauth(&url), s).await,
            Store::Postgres(s) => TokenManager::with_store(oauth(&url), s).await,
        }
        .unwrap();
        let client = Client::builder()
            .client_id("cid")
            .token_manager(manager.clone())
            .helix_url(format!("{url}/helix"))
            .build()
            .unwrap();
        println!("CHILD READY {}", std::process::id());
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).unwrap();
        let calls: Vec<_> = (0..REQUESTS).map(|_| tokio::spawn(client.get_users().send())).collect();
        let mut ok = 0;
        let mut errors = Vec::new();
        for c in calls {
            match c.await.unwrap() {
                Ok(_) => ok += 1,
                Err(e) => errors.push(e.to_string()),
            }
        }
        let token = manager.user_token(&"1".into()).await.map(|t| t.secret().to_owned()).unwrap_or_default();
        println!("CHILD DONE {} ok={ok} token={token} errors={errors:?}", std::process::id());
    });
}

/// The children, killed if the test ends early.
struct Cluster {
    children: Vec<std::process::Child>,
    stdins: Vec<Option<std::process::ChildStdin>>,
    lines: mpsc::UnboundedReceiver<(usize, String)>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Cluster {
    fn start(spec: &str, url: &str) -> Cluster {
        let (tx, lines) = mpsc::unbounded_channel();
        let mut children = Vec::new();
        let mut stdins = Vec::new();
        for i in 0..K {
            let mut child = Command::new(std::env::current_exe().unwrap())
                .args([CHILD_TEST, "--exact", "--ignored", "--nocapture", "--test-threads=1"])
                .env("TWITCH_CHILD_STORE", spec)
                .env("TWITCH_CHILD_URL", url)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("start a child process");
            stdins.push(child.stdin.take());
            let out = BufReader::new(child.stdout.take().unwrap());
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in out.lines().map_while(Result::ok) {
                    // libtest may have started the line ("test child_process ... ").
                    if let Some(at) = line.find("CHILD ") {
                        let _ = tx.send((i, line[at + "CHILD ".len()..].to_owned()));
                    }
                }
            });
            children.push(child);
        }
        Cluster { children, stdins, lines }
    }

    /// The next report line of any child, within a minute.
    async fn next(&mut self) -> (usize, String) {
        tokio::time::timeout(Duration::from_secs(60), self.lines.recv())
            .await
            .expect("a child process reported nothing for a minute")
            .expect("the child processes' output closed")
    }

    async fn all_ready(&mut self) {
        for _ in 0..K {
            let (_, line) = self.next().await;
            assert!(line.starts_with("READY"), "{line}");
        }
    }

    fn go(&mut self) {
        for stdin in self.stdins.iter_mut().flatten() {
            // A child that died already is found out by the reports.
            let _ = stdin.write_all(b"go\n").and_then(|_| stdin.flush());
        }
    }

    /// The DONE report of `n` children: (child, ok count, final token, errors).
    async fn done(&mut self, n: usize) -> Vec<(usize, usize, String, String)> {
        let mut out = Vec::new();
        while out.len() < n {
            let (i, line) = self.next().await;
            let rest = line.strip_prefix("DONE ").unwrap_or_else(|| panic!("{line}"));
            let mut parts = rest.splitn(4, ' ');
            let _pid = parts.next();
            let ok = parts.next().unwrap().trim_start_matches("ok=").parse().unwrap();
            let token = parts.next().unwrap().trim_start_matches("token=").to_owned();
            let errors = parts.next().unwrap_or("").to_owned();
            out.push((i, ok, token, errors));
        }
        out
    }

    fn succeeded(&mut self, i: usize) -> bool {
        self.children[i].wait().map(|s| s.success()).unwrap_or(false)
    }
}

fn expired_token() -> UserToken {
    UserToken::new("token-1", "1", "a")
        .with_refresh_token("refresh-1")
        .with_scopes(["user:edit"])
        .with_expiry(Timestamp::from(std::time::SystemTime::now() - Duration::from_secs(60)))
}

async fn twitch_and_store(spec: &str) -> (Arc<Twitch>, String, Store) {
    let twitch = Arc::new(Twitch::default());
    // token-1 has expired; refresh-1 is the one refresh token not spent.
    twitch.tokens.lock().unwrap().1.push("refresh-1".into());
    let url = serve(twitch.clone()).await;
    let store = Store::open(spec).await;
    // Bound to the client id the processes run as, so it reads their rows.
    store.get().bind_client("cid").await.unwrap();
    store.get().save_user(expired_token()).await.unwrap();
    (twitch, url, store)
}

async fn stored_token(store: &Store) -> (String, u64) {
    let v = store.get().shared().unwrap().load_user_versioned(&"1".into()).await.unwrap().unwrap();
    (v.token.access_token.secret().to_owned(), v.version)
}

async fn one_refresh_for_all(spec: &str) {
    let (twitch, url, store) = twitch_and_store(spec).await;
    let mut cluster = Cluster::start(spec, &url);
    cluster.all_ready().await;
    cluster.go();
    let done = cluster.done(K).await;
    for (i, ok, token, errors) in &done {
        assert_eq!((*ok, token.as_str()), (REQUESTS, "token-2"), "process {i}: {errors}");
        assert!(cluster.succeeded(*i), "process {i} failed");
    }
    assert_eq!(twitch.refreshes.load(Ordering::SeqCst), 1, "exactly one refresh across {K} processes");
    assert_eq!(twitch.refused.load(Ordering::SeqCst), 0);
    assert_eq!(twitch.helix_ok.load(Ordering::SeqCst), K * REQUESTS);
    assert_eq!(twitch.helix_401.load(Ordering::SeqCst), 0, "the expired token was never sent");
    assert_eq!(stored_token(&store).await, ("token-2".into(), 2));
}

async fn the_lease_holder_dies_mid_refresh(spec: &str) {
    let (twitch, url, store) = twitch_and_store(spec).await;
    twitch.stall_next.store(true, Ordering::SeqCst);
    let mut cluster = Cluster::start(spec, &url);
    cluster.all_ready().await;
    cluster.go();
    // The first refresh is held by the identity service: its sender holds
    // the lease. Kill that process in the middle of its refresh.
    tokio::time::timeout(Duration::from_secs(60), twitch.stalled.notified()).await.expect("no refresh arrived");
    let holder = store.lease_holder("user:1").await.expect("the refreshing process holds the user's lease");
    let pid: u32 = holder.split('-').next().unwrap().parse().unwrap();
    let victim = cluster.children.iter().position(|c| c.id() == pid).expect("the holder is one of the processes");
    cluster.children[victim].kill().unwrap();
    let _ = cluster.children[victim].wait();

    let done = cluster.done(K - 1).await;
    assert!(done.iter().all(|(i, ..)| *i != victim), "the killed process reported");
    for (i, ok, token, errors) in &done {
        assert_eq!((*ok, token.as_str()), (REQUESTS, "token-2"), "process {i}: {errors}");
        assert!(cluster.succeeded(*i), "process {i} failed");
    }
    // The stalled refresh spent nothing; the one after the lease expired
    // used the same refresh token and was the only one answered.
    assert_eq!(twitch.refreshes.load(Ordering::SeqCst), 2);
    assert_eq!(twitch.refreshed.load(Ordering::SeqCst), 1);
    assert_eq!(twitch.refused.load(Ordering::SeqCst), 0, "no refresh token was used twice");
    assert!(twitch.valid("token-2"));
    assert_eq!(twitch.helix_ok.load(Ordering::SeqCst), (K - 1) * REQUESTS);
    assert_eq!(stored_token(&store).await, ("token-2".into(), 2));
}

fn sqlite_spec(name: &str) -> (String, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("twitch-processes-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    (format!("sqlite:{}", dir.join("tokens.sqlite").display()), dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_on_sqlite_refresh_once() {
    let (spec, dir) = sqlite_spec("once");
    one_refresh_for_all(&spec).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_on_sqlite_survive_the_refreshing_one_being_killed() {
    let (spec, dir) = sqlite_spec("killed");
    the_lease_holder_dies_mid_refresh(&spec).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_on_postgres_refresh_once() {
    let pg = Postgres::start();
    one_refresh_for_all(&format!("postgres:{}", pg.params())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_on_postgres_survive_the_refreshing_one_being_killed() {
    let pg = Postgres::start();
    the_lease_holder_dies_mid_refresh(&format!("postgres:{}", pg.params())).await;
}
