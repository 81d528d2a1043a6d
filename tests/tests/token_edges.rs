//! Tokens at configuration slips and outages, through the public API
//! against a local identity service that knows which application each
//! token belongs to: a wrong client id deletes nothing, a pair the store
//! could not take is not lost, removals and new tokens reach every process
//! sharing a store, and PostgreSQL that stops answering fails calls in
//! time (these fail, saying so, when PostgreSQL is not installed).

#[path = "support/faulty_store.rs"]
mod faulty_store;
#[path = "support/postgres.rs"]
mod pg;
mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use faulty_store::FaultyStore;
use support::{Request, Response, TestServer};
use twitch::tokens::{PostgresStore, SharedTokenStore, SqliteStore};
use twitch::{
    Client, ClientSecret, Error, JsonFileStore, OAuth, Timestamp, TokenEvent, TokenManager, TokenStore, UserToken,
};

/// The identity service and Helix. Each access and refresh token belongs
/// to one client id; refreshing spends the refresh token.
#[derive(Default)]
struct Twitch {
    /// The client ids it knows: any other is `invalid client`.
    clients: Vec<&'static str>,
    /// Access token → client id.
    access: Mutex<HashMap<String, String>>,
    /// Refresh token → client id.
    refresh: Mutex<HashMap<String, String>>,
    issued: AtomicUsize,
    /// Refresh requests, answered or not.
    refreshes: AtomicUsize,
    /// Refreshes refused because the refresh token was spent or unknown.
    refused: AtomicUsize,
    app_grants: AtomicUsize,
}

impl Twitch {
    fn new(clients: &[&'static str]) -> Arc<Self> {
        Arc::new(Self { clients: clients.to_vec(), ..Self::default() })
    }

    /// A pair issued to `client`: `token-N`, `refresh-N`.
    fn issue(&self, client: &str) -> (String, String) {
        let n = self.issued.fetch_add(1, Ordering::SeqCst);
        let (a, r) = (format!("token-{n}"), format!("refresh-{n}"));
        self.access.lock().unwrap().insert(a.clone(), client.to_owned());
        self.refresh.lock().unwrap().insert(r.clone(), client.to_owned());
        (a, r)
    }

    fn revoke_access(&self, token: &str) {
        self.access.lock().unwrap().remove(token);
    }

    fn handle(&self, req: &Request) -> Response {
        let pairs = support::parse_pairs(&req.body_str());
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
        match req.path.as_str() {
            "/oauth2/token" => {
                let client = get("client_id");
                if get("grant_type") == "refresh_token" {
                    self.refreshes.fetch_add(1, Ordering::SeqCst);
                }
                if !self.clients.contains(&client.as_str()) {
                    return Response::json(400, r#"{"status":400,"message":"invalid client"}"#);
                }
                if get("grant_type") == "client_credentials" {
                    let n = self.app_grants.fetch_add(1, Ordering::SeqCst);
                    return Response::json(
                        200,
                        &format!(r#"{{"access_token":"app-{n}","expires_in":5000000,"token_type":"bearer"}}"#),
                    );
                }
                let r = get("refresh_token");
                let owner = self.refresh.lock().unwrap().get(&r).cloned();
                if owner.as_deref() != Some(client.as_str()) {
                    self.refused.fetch_add(1, Ordering::SeqCst);
                    return Response::json(400, r#"{"status":400,"message":"Invalid refresh token"}"#);
                }
                self.refresh.lock().unwrap().remove(&r);
                let (a, r) = self.issue(&client);
                Response::json(
                    200,
                    &format!(
                        r#"{{"access_token":"{a}","refresh_token":"{r}","expires_in":14400,"scope":["user:edit"],"token_type":"bearer"}}"#
                    ),
                )
            }
            "/oauth2/validate" => {
                let token = req.header("authorization").unwrap_or("").trim_start_matches("OAuth ");
                match self.access.lock().unwrap().get(token) {
                    Some(client) => Response::json(
                        200,
                        &format!(
                            r#"{{"client_id":"{client}","login":"a","user_id":"1","scopes":["user:edit"],"expires_in":100}}"#
                        ),
                    ),
                    None => Response::json(401, r#"{"status":401,"message":"invalid access token"}"#),
                }
            }
            _ => {
                let token = req.header("authorization").unwrap_or("").trim_start_matches("Bearer ");
                if self.access.lock().unwrap().contains_key(token) || token.starts_with("app-") {
                    Response::json(200, r#"{"data":[]}"#)
                } else {
                    Response::json(401, r#"{"error":"Unauthorized","status":401,"message":"Invalid OAuth token"}"#)
                }
            }
        }
    }
}

async fn serve(t: &Arc<Twitch>) -> TestServer {
    let t = Arc::clone(t);
    TestServer::start(move |req| t.handle(req)).await
}

fn oauth(server: &TestServer, client_id: &str) -> OAuth {
    OAuth::new(client_id, None::<ClientSecret>).auth_url(format!("{}/oauth2", server.url()))
}

fn client(server: &TestServer, client_id: &str, m: &TokenManager) -> Client {
    Client::builder()
        .client_id(client_id)
        .token_manager(m.clone())
        .helix_url(format!("{}/helix", server.url()))
        .build()
        .unwrap()
}

fn expired() -> Timestamp {
    Timestamp::from(std::time::SystemTime::now() - Duration::from_secs(60))
}

/// User 1's pair, expired, with no client id recorded (as tokens handed in
/// from elsewhere and earlier releases' stores have it).
fn expired_pair(access: &str, refresh: &str) -> UserToken {
    UserToken::new(access, "1", "a").with_refresh_token(refresh).with_scopes(["user:edit"]).with_expiry(expired())
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "twitch-edges-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The next event for which `pick` answers, within a generous guard (the
/// stores' sync intervals here are 50 ms).
async fn event(events: &mut twitch::TokenEvents, pick: impl Fn(&TokenEvent) -> bool) -> TokenEvent {
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match events.recv().await {
                Ok(e) if pick(&e) => return e,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("the event channel closed: {e}"),
            }
        }
    })
    .await
    .expect("the event did not come")
}

/// One file, three deployments: one whose client id Twitch does not know
/// (a typo), one of another application (staging pointed at production's
/// tokens), and the right one. The first two get configuration errors,
/// mark nobody invalid and change nothing in the file; the right one then
/// refreshes with the refresh token they could not spend.
#[tokio::test]
async fn a_wrong_client_id_costs_no_token_in_a_json_file() {
    let t = Twitch::new(&["cid", "staging"]);
    let server = serve(&t).await;
    let (access, refresh) = t.issue("cid");
    let path = temp_dir("json").join("tokens.json");
    JsonFileStore::new(&path).save_user(expired_pair(&access, &refresh)).await.unwrap();
    let before = std::fs::read_to_string(&path).unwrap();

    let typo = TokenManager::with_store(oauth(&server, "cdi"), JsonFileStore::new(&path)).await.unwrap();
    let err = client(&server, "cdi", &typo).get_users().send().await.unwrap_err();
    assert!(matches!(&err, Error::ClientRefused { client_id, status: 400, .. } if client_id == "cdi"), "{err:?}");
    assert!(err.to_string().contains("check the client id"), "{err}");
    assert!(typo.invalid_users().is_empty());

    let staging = TokenManager::with_store(oauth(&server, "staging"), JsonFileStore::new(&path)).await.unwrap();
    let mut events = staging.subscribe();
    let err = client(&server, "staging", &staging).get_users().send().await.unwrap_err();
    assert!(
        matches!(&err, Error::WrongClient { token_client_id, client_id, .. } if token_client_id == "cid" && client_id == "staging"),
        "{err:?}"
    );
    assert!(staging.invalid_users().is_empty(), "not invalid: it belongs to another application");
    assert!(events.try_recv().is_err(), "no Invalid event");
    // Known now: not tried again.
    let refreshes = t.refreshes.load(Ordering::SeqCst);
    assert!(matches!(staging.user_token(&"1".into()).await, Err(Error::WrongClient { .. })));
    assert_eq!(t.refreshes.load(Ordering::SeqCst), refreshes);

    assert_eq!(std::fs::read_to_string(&path).unwrap(), before, "the file is as it was");
    let right = TokenManager::with_store(oauth(&server, "cid"), JsonFileStore::new(&path)).await.unwrap();
    client(&server, "cid", &right).get_users().send().await.unwrap();
    assert_eq!(t.refused.load(Ordering::SeqCst), 1, "only staging's refresh was refused");
    assert!(std::fs::read_to_string(&path).unwrap().contains(r#""client_id": "cid""#));
}

/// A token whose access token has expired too cannot tell `validate` whose
/// it is: the process with the wrong client id finds it invalid, but only
/// for itself. The store keeps it, and the right process refreshes it.
#[tokio::test]
async fn a_token_refused_to_another_client_stays_in_the_store() {
    let t = Twitch::new(&["cid", "staging"]);
    let server = serve(&t).await;
    let (access, refresh) = t.issue("cid");
    t.revoke_access(&access);
    let path = temp_dir("json-dead").join("tokens.json");
    JsonFileStore::new(&path).save_user(expired_pair(&access, &refresh)).await.unwrap();

    let staging = TokenManager::with_store(oauth(&server, "staging"), JsonFileStore::new(&path)).await.unwrap();
    let err = client(&server, "staging", &staging).get_users().send().await.unwrap_err();
    assert!(matches!(err, Error::TokenInvalid { .. }), "{err:?}");
    assert_eq!(staging.invalid_users(), ["1"]);
    assert!(std::fs::read_to_string(&path).unwrap().contains(&refresh), "still in the file");

    let right = TokenManager::with_store(oauth(&server, "cid"), JsonFileStore::new(&path)).await.unwrap();
    client(&server, "cid", &right).get_users().send().await.unwrap();
}

/// `validate` at start names a token's client id: the mismatch is found
/// before any refresh, and a token that names another client id is refused
/// when added.
#[tokio::test]
async fn validation_names_the_client_id_before_anything_is_spent() {
    let t = Twitch::new(&["cid", "staging"]);
    let server = serve(&t).await;
    let (access, refresh) = t.issue("cid");
    let m = TokenManager::new(oauth(&server, "staging"));
    m.add_user(expired_pair(&access, &refresh)).await.unwrap();
    m.validate_all().await;
    assert!(matches!(m.user_token(&"1".into()).await, Err(Error::WrongClient { .. })));
    assert_eq!(t.refreshes.load(Ordering::SeqCst), 0, "nothing spent");

    let named = expired_pair(&access, &refresh).with_client_id("cid");
    let err = m.add_user(named.clone().with_client_id("cid")).await.unwrap_err();
    assert!(matches!(err, Error::WrongClient { .. }), "{err:?}");
    let right = TokenManager::new(oauth(&server, "cid"));
    right.add_user(named).await.unwrap();
    assert_ne!(right.user_token(&"1".into()).await.unwrap().secret(), access, "refreshed");
}

/// Two applications on one SQLite file, each with a token for the same
/// user, and a deployment with a typo in its client id: none adopts,
/// overwrites or deletes another's token; the typo's process holds none.
#[tokio::test]
async fn applications_sharing_a_database_keep_their_tokens_apart() {
    let t = Twitch::new(&["cid", "other"]);
    let server = serve(&t).await;
    let path = temp_dir("sqlite").join("tokens.sqlite");
    let (a_access, a_refresh) = t.issue("cid");
    let (b_access, b_refresh) = t.issue("other");
    // A row of a release before client ids, read by both until replaced.
    let legacy = SqliteStore::open(&path).unwrap();
    legacy.save_user(expired_pair(&a_access, &a_refresh)).await.unwrap();

    let a = TokenManager::with_store(oauth(&server, "cid"), SqliteStore::open(&path).unwrap()).await.unwrap();
    let b = TokenManager::with_store(oauth(&server, "other"), SqliteStore::open(&path).unwrap()).await.unwrap();
    let typo = TokenManager::with_store(oauth(&server, "cdi"), SqliteStore::open(&path).unwrap()).await.unwrap();
    // The typo's refresh of the legacy row is a configuration error.
    assert!(matches!(client(&server, "cdi", &typo).get_users().send().await, Err(Error::ClientRefused { .. })));
    // The other application's process learns the legacy row is not its own.
    assert!(matches!(client(&server, "other", &b).get_users().send().await, Err(Error::WrongClient { .. })));
    assert!(b.invalid_users().is_empty() && typo.invalid_users().is_empty());
    // Its own token, for the same user, goes to its own row.
    let b_store = SqliteStore::open(&path).unwrap();
    b_store.bind_client("other").await.unwrap();
    let b2 = TokenManager::with_store(oauth(&server, "other"), b_store.clone()).await.unwrap();
    b2.add_user(expired_pair(&b_access, &b_refresh).with_client_id("other")).await.unwrap();
    client(&server, "other", &b2).get_users().send().await.unwrap();
    // The right application refreshes the legacy row into its own.
    client(&server, "cid", &a).get_users().send().await.unwrap();
    assert_eq!(t.refused.load(Ordering::SeqCst), 1, "only the other application's try at the legacy row");
    let a_token = a.user_token(&"1".into()).await.unwrap();
    let b_token = b2.user_token(&"1".into()).await.unwrap();
    assert_ne!(a_token, b_token);
    assert_eq!(t.access.lock().unwrap()[a_token.secret()], "cid");
    assert_eq!(t.access.lock().unwrap()[b_token.secret()], "other");
    assert_eq!(b_store.load().await.unwrap()[0].access_token, b_token);
    let legacy_row = legacy.load_user_versioned(&"1".into()).await.unwrap().unwrap();
    assert_eq!(legacy_row.token.access_token.secret(), a_access, "the legacy row is never changed");
}

/// Every save of a refreshed pair fails. The next refresh (after a 401)
/// starts from the pair in memory, not from the stale stored one whose
/// refresh token is spent; nobody is marked invalid, nothing is deleted;
/// and once the store is back the newest pair is saved without any call
/// of the application.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pair_the_store_did_not_take_is_the_base_of_the_next_refresh_and_saved_later() {
    let t = Twitch::new(&["cid"]);
    let server = serve(&t).await;
    let (access, refresh) = t.issue("cid");
    let flaky = FaultyStore::new(SqliteStore::open(temp_dir("flaky").join("t.sqlite")).unwrap());
    flaky.store.bind_client("cid").await.unwrap();
    flaky.save_user(expired_pair(&access, &refresh)).await.unwrap();
    let m = TokenManager::with_store(oauth(&server, "cid"), flaky.clone()).await.unwrap();
    let c = client(&server, "cid", &m);

    flaky.failing.store(true, Ordering::SeqCst);
    c.get_users().send().await.unwrap();
    let second = m.user_token(&"1".into()).await.unwrap();
    // Twitch drops the new access token: a 401, a refresh from memory.
    t.revoke_access(second.secret());
    c.get_users().send().await.expect("refreshed from the pair in memory");
    let third = m.user_token(&"1".into()).await.unwrap();
    assert_ne!(third, second);
    assert_eq!((t.refreshes.load(Ordering::SeqCst), t.refused.load(Ordering::SeqCst)), (2, 0));
    assert!(m.invalid_users().is_empty());
    let stored = flaky.store.load_user_versioned(&"1".into()).await.unwrap().unwrap();
    assert_eq!(stored.token.access_token.secret(), access, "the store still holds the first pair");

    // Back: the sync saves the newest pair by itself.
    flaky.failing.store(false, Ordering::SeqCst);
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let v = flaky.store.load_user_versioned(&"1".into()).await.unwrap().unwrap();
            if v.token.access_token == third {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the newest pair was saved once the store was back");
}

/// A save slower than the refresh lease: the lease is kept while the save
/// runs, so the other process waits for the new pair instead of spending
/// the refresh token just used; both end with the one new pair.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_slower_than_the_lease_keeps_the_lease() {
    let t = Twitch::new(&["cid"]);
    let server = serve(&t).await;
    let path = temp_dir("slow").join("t.sqlite");
    let (access, refresh) = t.issue("cid");
    let lease = Duration::from_millis(300);
    let slow = FaultyStore::new(SqliteStore::open(&path).unwrap().with_lease_ttl(lease)).with_save_delay(4 * lease);
    slow.store.bind_client("cid").await.unwrap();
    slow.save_user(expired_pair(&access, &refresh)).await.unwrap();
    let a = TokenManager::with_store(oauth(&server, "cid"), slow.clone()).await.unwrap();
    let fast = FaultyStore::new(SqliteStore::open(&path).unwrap().with_lease_ttl(lease));
    let b = TokenManager::with_store(oauth(&server, "cid"), fast).await.unwrap();

    let a_call = tokio::spawn({
        let c = client(&server, "cid", &a);
        async move { c.get_users().send().await }
    });
    // B asks once A's refresh is under way (A holds the lease), and keeps
    // asking past the lease's first life.
    while t.refreshes.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    let b_call = client(&server, "cid", &b).get_users().send().await;
    a_call.await.unwrap().unwrap();
    b_call.expect("B took over A's pair");
    assert_eq!(t.refreshes.load(Ordering::SeqCst), 1, "one refresh");
    assert_eq!(t.refused.load(Ordering::SeqCst), 0, "the spent refresh token was not sent again");
    let (ta, tb) = (a.user_token(&"1".into()).await.unwrap(), b.user_token(&"1".into()).await.unwrap());
    assert_eq!(ta, tb);
    assert!(a.invalid_users().is_empty() && b.invalid_users().is_empty());
}

fn sqlite_sync(path: &std::path::Path, every: Duration) -> SqliteStore {
    SqliteStore::open(path).unwrap().with_sync_interval(every)
}

/// A user removed in one process: another process that needs a refresh
/// right after (before its next sync) does not write the token back, and
/// one that syncs forgets it within its interval.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removal_reaches_every_process_and_none_writes_it_back() {
    let t = Twitch::new(&["cid"]);
    let server = serve(&t).await;
    let path = temp_dir("removal").join("t.sqlite");
    let (access, refresh) = t.issue("cid");
    let a =
        TokenManager::with_store(oauth(&server, "cid"), sqlite_sync(&path, Duration::from_millis(50))).await.unwrap();
    a.add_user(expired_pair(&access, &refresh)).await.unwrap();
    let slow = sqlite_sync(&path, Duration::from_secs(3600));
    let b = TokenManager::with_store(oauth(&server, "cid"), slow.clone()).await.unwrap();
    let c =
        TokenManager::with_store(oauth(&server, "cid"), sqlite_sync(&path, Duration::from_millis(50))).await.unwrap();
    let mut c_events = c.subscribe();
    assert_eq!((b.users(), c.users()), (vec!["1".into()], vec!["1".into()]));

    a.remove_user(&"1".into()).await.unwrap();
    let err = client(&server, "cid", &b).get_users().send().await.unwrap_err();
    assert!(matches!(err, Error::NoToken { .. }), "{err:?}");
    assert_eq!(t.refreshes.load(Ordering::SeqCst), 0, "not refreshed, so not written back");
    assert_eq!(slow.load_user_versioned(&"1".into()).await.unwrap(), None);
    assert!(b.users().is_empty());

    assert_eq!(event(&mut c_events, |e| matches!(e, TokenEvent::Removed(_))).await, TokenEvent::Removed("1".into()));
    assert!(c.users().is_empty());
}

/// A user whose token was found invalid in one process and added again in
/// another: the first takes the new token within its sync interval, and
/// what waits for it (an EventSub session on `TokenEvent::Added`) wakes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_added_again_reaches_every_process() {
    let t = Twitch::new(&["cid"]);
    let server = serve(&t).await;
    let path = temp_dir("readd").join("t.sqlite");
    let a =
        TokenManager::with_store(oauth(&server, "cid"), sqlite_sync(&path, Duration::from_millis(50))).await.unwrap();
    // A pair Twitch no longer knows (revoked when the user disconnected the app).
    a.add_user(expired_pair("gone", "gone-too").with_client_id("cid")).await.unwrap();
    let b =
        TokenManager::with_store(oauth(&server, "cid"), sqlite_sync(&path, Duration::from_millis(50))).await.unwrap();
    let mut b_events = b.subscribe();
    let err = client(&server, "cid", &b).get_users().send().await.unwrap_err();
    assert!(matches!(err, Error::TokenInvalid { .. }), "{err:?}");
    assert_eq!(b.invalid_users(), ["1"]);

    // The user authorizes again; process A adds the new token.
    let (access, refresh) = t.issue("cid");
    a.add_user(UserToken::new(&access, "1", "a").with_refresh_token(&refresh).with_client_id("cid")).await.unwrap();
    event(&mut b_events, |e| matches!(e, TokenEvent::Added(u) if u.as_str() == "1")).await;
    assert!(b.invalid_users().is_empty());
    assert_eq!(b.user_token(&"1".into()).await.unwrap().secret(), access);
    client(&server, "cid", &b).get_users().send().await.unwrap();
}

/// A TCP hop in front of PostgreSQL that can be made to swallow everything
/// (a black-holed host: connections open, nothing comes back).
struct BlackHole {
    port: u16,
    swallow: Arc<AtomicBool>,
}

async fn pipe(mut r: tokio::net::tcp::OwnedReadHalf, mut w: tokio::net::tcp::OwnedWriteHalf, swallow: Arc<AtomicBool>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match r.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if swallow.load(Ordering::SeqCst) {
            continue;
        }
        if w.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

impl BlackHole {
    async fn start(to: u16) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let swallow = Arc::new(AtomicBool::new(false));
        let s = swallow.clone();
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let Ok(outbound) = tokio::net::TcpStream::connect(("127.0.0.1", to)).await else { continue };
                let (ir, iw) = inbound.into_split();
                let (or, ow) = outbound.into_split();
                tokio::spawn(pipe(ir, ow, s.clone()));
                tokio::spawn(pipe(or, iw, s.clone()));
            }
        });
        Self { port, swallow }
    }
}

fn port_of(params: &str) -> u16 {
    params.split_whitespace().find_map(|p| p.strip_prefix("port=")).unwrap().parse().unwrap()
}

/// A database that stops answering (connections stay open, nothing comes
/// back) fails each store call within the call timeout instead of holding
/// its caller; an app token is still fetched meanwhile; and once the
/// database answers again the store works on a new connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_black_holed_postgres_fails_calls_in_time_and_app_tokens_still_come() {
    let pg = pg::Postgres::start();
    let hole = BlackHole::start(port_of(&pg.params())).await;
    let params = format!("host=127.0.0.1 port={} user=twitch dbname=postgres sslmode=disable", hole.port);
    let store = PostgresStore::connect(&params).await.unwrap().with_call_timeout(Duration::from_millis(500));
    store.bind_client("cid").await.unwrap();
    store.save_user(expired_pair("t", "r")).await.unwrap();

    hole.swallow.store(true, Ordering::SeqCst);
    // The guard is far beyond the call timeout: reaching it is the failure.
    let guard = Duration::from_secs(60);
    let read = tokio::time::timeout(guard, store.load_user_versioned(&"1".into())).await.expect("the call hung");
    let err = read.unwrap_err();
    assert!(err.to_string().contains("did not answer within 0.5 s"), "{err}");
    let lease = tokio::time::timeout(guard, store.try_lease("user:1", Duration::from_secs(40))).await.expect("hung");
    assert!(matches!(lease, Err(Error::TokenStore { .. })));

    // App tokens are not single-use: with the store away, one is fetched
    // here. The manager's store was opened while the database answered.
    let t = Twitch::new(&["cid"]);
    let server = serve(&t).await;
    hole.swallow.store(false, Ordering::SeqCst);
    let behind = PostgresStore::connect(&params).await.unwrap().with_call_timeout(Duration::from_millis(500));
    let secret = OAuth::new("cid", Some(ClientSecret::new("s"))).auth_url(format!("{}/oauth2", server.url()));
    let m = TokenManager::with_store(secret, behind).await.unwrap();
    hole.swallow.store(true, Ordering::SeqCst);
    let token = tokio::time::timeout(guard, m.app_token()).await.expect("hung").unwrap();
    assert_eq!(token.secret(), "app-0");

    // Back: a new connection, the row as it was.
    hole.swallow.store(false, Ordering::SeqCst);
    let v = store.load_user_versioned(&"1".into()).await.unwrap().unwrap();
    assert_eq!(v.token.access_token.secret(), "t");
}

/// Without `sslmode` in the connection string the store insists on TLS: a
/// server that offers none is refused rather than spoken to in plaintext.
/// Plaintext is there when named.
#[tokio::test]
async fn postgres_speaks_tls_unless_plaintext_is_asked_for() {
    let pg = pg::Postgres::start();
    let port = port_of(&pg.params());
    let unnamed = format!("host=127.0.0.1 port={port} user=twitch dbname=postgres");
    let err = PostgresStore::connect(&unnamed).await.unwrap_err();
    assert!(matches!(err, Error::TokenStore { .. }), "{err:?}");
    let url = format!("postgresql://twitch@127.0.0.1:{port}/postgres");
    assert!(PostgresStore::connect(&url).await.is_err(), "a URL without sslmode too");
    PostgresStore::connect(&format!("{unnamed} sslmode=disable")).await.unwrap();
    PostgresStore::connect(&format!("{url}?sslmode=disable")).await.unwrap();
}
