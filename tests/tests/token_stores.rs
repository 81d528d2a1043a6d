//! The shared token stores on real databases: SQLite files and a throwaway
//! PostgreSQL (tests/support/postgres.rs; these tests fail, saying so, when
//! PostgreSQL is not installed). The same contract for both: versions,
//! the app token, leases that exclude and expire, migrations, damaged rows;
//! then two token managers on one database (as two processes would be):
//! one refresh, one validation.

#[path = "support/faulty_store.rs"]
mod faulty_store;
#[path = "support/postgres.rs"]
mod pg;
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use faulty_store::FaultyStore;
use pg::Postgres;
use support::{Request, Response, TestServer};
use twitch::tokens::{PostgresStore, SharedTokenStore, SqliteStore, StoredVersion, Versioned};
use twitch::{AppToken, Client, ClientSecret, Error, OAuth, Timestamp, TokenManager, TokenStore, UserToken};

fn temp_path(name: &str) -> std::path::PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "twitch-stores-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn user(token: &str, refresh: &str) -> UserToken {
    UserToken::new(token, "1", "a").with_refresh_token(refresh).with_scopes(["user:edit"])
}

/// What every shared store does; `a` and `b` are two instances on one
/// database, as two processes would hold.
async fn contract(a: &dyn TokenStore, b: &dyn TokenStore) {
    let (sa, sb) = (a.shared().expect("a shared store"), b.shared().expect("a shared store"));
    let one: twitch::UserId = "1".into();
    assert_eq!(sa.load_user_versioned(&one).await.unwrap(), None);

    // Versions: 1 on the first save, one more per save, seen by the other.
    assert_eq!(sa.save_user_versioned(user("t1", "r1")).await.unwrap(), 1);
    assert_eq!(sa.save_user_versioned(user("t2", "r2")).await.unwrap(), 2);
    let seen = sb.load_user_versioned(&one).await.unwrap().unwrap();
    assert_eq!(seen, Versioned::new(user("t2", "r2"), 2));
    assert_eq!(seen.token.refresh_token.as_ref().unwrap().secret(), "r2");
    b.save_user(UserToken::new("u2", "2", "b")).await.unwrap();
    let all: Vec<String> = a.load().await.unwrap().into_iter().map(|t| t.user_id.to_string()).collect();
    assert_eq!(all, ["1", "2"]);
    a.remove_user("2".into()).await.unwrap();
    assert_eq!(sb.load_user_versioned(&"2".into()).await.unwrap(), None);

    // The app token, apart from the users.
    assert_eq!(sa.load_app().await.unwrap(), None);
    let app = AppToken::new("app-1", Some(Timestamp::in_secs(3600)));
    assert_eq!(sb.save_app(app.clone()).await.unwrap(), 1);
    assert_eq!(sa.load_app().await.unwrap(), Some(Versioned::new(app, 1)));
    assert_eq!(a.load().await.unwrap().len(), 1, "the app token is not a user");

    // Leases: one holder at a time; the holder renews; released, free.
    let long = Duration::from_secs(60);
    assert!(sa.try_lease("user:1", long).await.unwrap());
    assert!(!sb.try_lease("user:1", long).await.unwrap());
    assert!(sa.try_lease("user:1", long).await.unwrap(), "the holder renews");
    assert!(sb.try_lease("user:2", long).await.unwrap(), "leases are per name");
    sb.release("user:1").await.unwrap(); // not b's: changes nothing
    assert!(!sb.try_lease("user:1", long).await.unwrap());
    sa.release("user:1").await.unwrap();
    assert!(sb.try_lease("user:1", long).await.unwrap());

    // A holder that never releases (it died) blocks only until expiry.
    assert!(sa.try_lease("app", Duration::from_millis(300)).await.unwrap());
    assert!(!sb.try_lease("app", long).await.unwrap());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(sb.try_lease("app", long).await.unwrap(), "an expired lease is taken over");
    assert!(!sa.try_lease("app", long).await.unwrap(), "and is no longer the first holder's");
}

/// Conditional saves, removals as versions, and client ids: `legacy` is an
/// unbound instance (as releases before client ids wrote), `a` and `a2` two
/// instances bound to `cid`, `b` one bound to `other`, all on one empty
/// database.
async fn clients_contract(legacy: &dyn TokenStore, a: &dyn TokenStore, a2: &dyn TokenStore, b: &dyn TokenStore) {
    let (sl, sa, sa2, sb) = (legacy.shared().unwrap(), a.shared().unwrap(), a2.shared().unwrap(), b.shared().unwrap());
    let one: twitch::UserId = "1".into();
    // A row of an earlier release is read by every client until it saves
    // its own; it is never changed.
    assert_eq!(sl.save_user_versioned(user("old", "r-old")).await.unwrap(), 1);
    a.bind_client("cid").await.unwrap();
    a2.bind_client("cid").await.unwrap();
    b.bind_client("other").await.unwrap();
    assert!(a.bind_client("another").await.is_err(), "one client id per store");
    assert_eq!(sa.load_user_versioned(&one).await.unwrap(), Some(Versioned::new(user("old", "r-old"), 1)));
    assert_eq!(sb.load_user_versioned(&one).await.unwrap().unwrap().version, 1);
    // Saved over the legacy version, into cid's own row.
    assert_eq!(sa.replace_user(user("a1", "ra1"), 1).await.unwrap(), Some(2));
    assert_eq!(sa2.load_user_versioned(&one).await.unwrap(), Some(Versioned::new(user("a1", "ra1"), 2)));
    assert_eq!(sb.load_user_versioned(&one).await.unwrap(), Some(Versioned::new(user("old", "r-old"), 1)));
    assert_eq!(sl.load_user_versioned(&one).await.unwrap(), Some(Versioned::new(user("old", "r-old"), 1)));
    // Two applications, one user: neither overwrites the other.
    assert_eq!(sb.save_user_versioned(user("b1", "rb1")).await.unwrap(), 2);
    assert_eq!(sa.load_user_versioned(&one).await.unwrap().unwrap().token, user("a1", "ra1"));
    assert_eq!(b.load().await.unwrap(), [user("b1", "rb1")]);
    assert_eq!(a.load().await.unwrap(), [user("a1", "ra1")]);

    // A save over a version that is gone changes nothing.
    assert_eq!(sa.replace_user(user("late", "r-late"), 1).await.unwrap(), None);
    assert_eq!(sa2.replace_user(user("a2", "ra2"), 2).await.unwrap(), Some(3));
    assert_eq!(sa.replace_user(user("late", "r-late"), 2).await.unwrap(), None);
    assert_eq!(sa.load_user_versioned(&one).await.unwrap().unwrap().token, user("a2", "ra2"));
    // Nothing stored: only over 0.
    let two: twitch::UserId = "2".into();
    assert_eq!(sa.replace_user(UserToken::new("t", "2", "b"), 5).await.unwrap(), None);
    assert_eq!(sa.replace_user(UserToken::new("t", "2", "b"), 0).await.unwrap(), Some(1));
    assert_eq!(sa2.replace_user(UserToken::new("t2", "2", "b"), 0).await.unwrap(), None);

    // A removal is a version; a save over it is refused, a new token
    // (save_user) comes after it.
    a.remove_user(two.clone()).await.unwrap();
    let versions = sa2.versions().await.unwrap();
    assert!(versions.contains(&StoredVersion::new(two.clone(), 2, true)), "{versions:?}");
    assert!(versions.contains(&StoredVersion::new(one.clone(), 3, false)), "{versions:?}");
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert_eq!(sa.load_user_versioned(&two).await.unwrap(), None);
    assert_eq!(sa.replace_user(UserToken::new("t", "2", "b"), 1).await.unwrap(), None);
    assert_eq!(sa.replace_user(UserToken::new("t", "2", "b"), 2).await.unwrap(), None);
    assert_eq!(sa.save_user_versioned(UserToken::new("t3", "2", "b")).await.unwrap(), 3);
    // Removing the legacy-read user shadows the legacy row for this client
    // only.
    b.remove_user(one.clone()).await.unwrap();
    assert_eq!(sb.load_user_versioned(&one).await.unwrap(), None);
    assert_eq!(sl.load_user_versioned(&one).await.unwrap().unwrap().token, user("old", "r-old"));
    assert_eq!(sb.versions().await.unwrap(), [StoredVersion::new(one.clone(), 3, true)]);
    b.remove_user(one.clone()).await.unwrap();
    assert_eq!(sb.versions().await.unwrap(), [StoredVersion::new(one, 3, true)], "removed once");
    // Leases are per client too.
    assert!(sa.try_lease("user:1", Duration::from_secs(60)).await.unwrap());
    assert!(sb.try_lease("user:1", Duration::from_secs(60)).await.unwrap());
    assert!(!sa2.try_lease("user:1", Duration::from_secs(60)).await.unwrap());
}

#[tokio::test]
async fn sqlite_store_keeps_client_ids_apart_and_saves_conditionally() {
    let path = temp_path("tokens.sqlite");
    let open = || SqliteStore::open(&path).unwrap();
    clients_contract(&open(), &open(), &open(), &open()).await;
}

#[tokio::test]
async fn postgres_store_keeps_client_ids_apart_and_saves_conditionally() {
    let pg = Postgres::start();
    let open = async || PostgresStore::connect(&pg.params()).await.unwrap();
    clients_contract(&open().await, &open().await, &open().await, &open().await).await;
}

#[tokio::test]
async fn sqlite_store_keeps_versions_the_app_token_and_leases() {
    let path = temp_path("tokens.sqlite");
    let a = SqliteStore::open(&path).unwrap();
    let b = SqliteStore::open(&path).unwrap();
    assert_ne!(a.holder(), b.holder());
    assert!(a.holder().starts_with(&format!("{}-", std::process::id())));
    contract(&a, &b).await;
    assert_eq!(a.lease_holder("app").await.unwrap().as_deref(), Some(b.holder()));
    assert_eq!(a.lease_holder("nothing").await.unwrap(), None);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // Opened again, as the next run would: migrations are not run twice,
    // and nothing is lost.
    drop((a, b));
    let again = SqliteStore::open(&path).unwrap();
    assert_eq!(again.schema_version().await.unwrap(), 1);
    assert_eq!(again.load().await.unwrap(), [user("t2", "r2")]);
    assert_eq!(again.load_user_versioned(&"1".into()).await.unwrap().unwrap().version, 2);
}

#[tokio::test]
async fn sqlite_store_refuses_a_newer_schema_and_names_a_damaged_row() {
    let path = temp_path("tokens.sqlite");
    let store = SqliteStore::open(&path).unwrap();
    store.save_user(user("t1", "r1")).await.unwrap();
    drop(store);
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute("UPDATE twitch_tokens SET body = '{\"access_token\": 5' WHERE key = 'user:1'", []).unwrap();
    let store = SqliteStore::open(&path).unwrap();
    match store.load().await.unwrap_err() {
        Error::TokenStore { location, .. } => assert!(location.ends_with("(user:1)"), "{location}"),
        other => panic!("{other:?}"),
    }
    drop(store);

    db.execute("UPDATE twitch_schema_version SET version = 99", []).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, Error::TokenStore { .. }), "{err:?}");
    assert!(err.to_string().contains("schema version 99"), "{err}");
    let still: i64 = db.query_row("SELECT version FROM twitch_schema_version", [], |r| r.get(0)).unwrap();
    assert_eq!(still, 99, "a newer schema is left alone");

    // A file that is not a database is an error, not a panic.
    let junk = temp_path("junk.sqlite");
    std::fs::write(&junk, b"this is not sqlite, only some text long enough to look like a header").unwrap();
    assert!(matches!(SqliteStore::open(&junk), Err(Error::TokenStore { .. })));
}

#[tokio::test]
async fn postgres_store_keeps_versions_the_app_token_and_leases() {
    let pg = Postgres::start();
    let params = pg.params();
    let (a, b) = tokio::join!(PostgresStore::connect(&params), PostgresStore::connect(&params));
    let (a, b) = (a.unwrap(), b.unwrap());
    contract(&a, &b).await;
    assert_eq!(a.lease_holder("app").await.unwrap().as_deref(), Some(b.holder()));
    assert_eq!(a.schema_version().await.unwrap(), 1);
    let again = PostgresStore::connect(&pg.params()).await.unwrap();
    assert_eq!(again.schema_version().await.unwrap(), 1, "migrations are not run twice");
    assert_eq!(again.load().await.unwrap(), [user("t2", "r2")]);

    // A newer schema is refused and left alone; a damaged row is named.
    let (db, conn) = tokio_postgres::connect(&pg.params(), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    db.batch_execute("UPDATE twitch_tokens SET body = 'not json' WHERE key = 'user:1'").await.unwrap();
    match again.load_user_versioned(&"1".into()).await.unwrap_err() {
        Error::TokenStore { location, .. } => assert!(location.ends_with("(user:1)"), "{location}"),
        other => panic!("{other:?}"),
    }
    db.batch_execute("UPDATE twitch_schema_version SET version = 99").await.unwrap();
    let err = PostgresStore::connect(&pg.params()).await.unwrap_err();
    assert!(err.to_string().contains("schema version 99"), "{err}");
}

#[tokio::test]
async fn postgres_store_reconnects_after_its_connection_is_cut() {
    let pg = Postgres::start();
    let store = PostgresStore::connect(&pg.params()).await.unwrap();
    store.save_user(user("t1", "r1")).await.unwrap();
    let (db, conn) = tokio_postgres::connect(&pg.params(), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let cut_the_others = async || {
        db.batch_execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = 'postgres'",
        )
        .await
        .unwrap();
    };
    // Every call right after the store's connection was cut goes through:
    // the statement that meets the cut is sent again on a new connection.
    for round in 0..5 {
        cut_the_others().await;
        let v = store.load_user_versioned(&"1".into()).await.unwrap().unwrap();
        assert_eq!(v.token, user("t1", "r1"), "round {round}");
        cut_the_others().await;
        assert!(store.save_user_versioned(user("t1", "r1")).await.unwrap() > v.version, "round {round}");
        cut_the_others().await;
        assert!(store.try_lease("user:1", Duration::from_secs(30)).await.unwrap(), "round {round}");
    }
    // A server that stays away is an error, not a hang.
    drop(pg);
    assert!(matches!(store.load().await, Err(Error::TokenStore { .. })));
}

#[tokio::test]
async fn postgres_secrets_stay_out_of_errors_and_debug() {
    // Nothing listens on this port: the connection fails.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let params = format!("host=127.0.0.1 port={port} user=bot password=hunter2 dbname=tokens connect_timeout=5");
    let err = PostgresStore::connect(&params).await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains(&format!("postgres://bot@127.0.0.1:{port}/tokens")), "{text}");
    let bad = PostgresStore::connect("host=127.0.0.1 password=hunter2 port=notaport").await.unwrap_err();
    assert!(!format!("{bad} {bad:?}").contains("hunter2"), "{bad:?}");

    let pg = Postgres::start();
    let store = PostgresStore::connect(&format!("{} password=hunter2", pg.params())).await.unwrap();
    assert!(!format!("{store:?}").contains("hunter2"), "{store:?}");
}

#[tokio::test]
// ring's provider, as the runtime's (runtime/src/http/tls.rs says why it stays).
#[allow(deprecated)]
async fn postgres_store_speaks_tls_through_rustls_and_verifies_the_server() {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let pg = Postgres::start_tls();
    // host names the certificate; hostaddr is where the server listens.
    let params = format!("host=localhost hostaddr=127.0.0.1 port={} user=twitch dbname=postgres", pg.port);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_file(pg.certificate()).unwrap()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let config = Arc::new(config);
    // The server takes TLS connections only, so a store that works spoke TLS.
    let store = PostgresStore::connect_with_tls(&format!("{params} sslmode=require"), config.clone()).await.unwrap();
    store.save_user(user("t1", "r1")).await.unwrap();
    assert_eq!(store.load().await.unwrap(), [user("t1", "r1")]);
    // Without TLS the server refuses; with the platform's verifier (which
    // does not know this self-signed certificate) the handshake fails.
    let plain = PostgresStore::connect(&format!("{params} sslmode=disable")).await;
    assert!(matches!(plain, Err(Error::TokenStore { .. })), "{plain:?}");
    let unverified = PostgresStore::connect(&format!("{params} sslmode=require")).await.unwrap_err();
    assert!(matches!(unverified, Error::TokenStore { .. }), "{unverified:?}");
    assert!(plain.unwrap_err().to_string().contains("no encryption"), "the server's reason is in the message");
    assert!(unverified.to_string().contains("TLS"), "{unverified}");
    // A certificate for another name is refused too.
    let wrong = format!("host=127.0.0.1 port={} user=twitch dbname=postgres sslmode=require", pg.port);
    assert!(PostgresStore::connect_with_tls(&wrong, config).await.is_err());
}

/// A fake Twitch (Helix and the identity service) with single-use refresh
/// tokens: refreshing `refresh-N` yields `token-N+1` and `refresh-N+1`, and
/// `refresh-N` is spent.
#[derive(Default)]
struct Twitch {
    refreshes: AtomicUsize,
    validations: AtomicUsize,
    state: std::sync::Mutex<(Vec<String>, Vec<String>)>,
}

fn twitch(valid: &[&str], refresh: &[&str]) -> Arc<Twitch> {
    let t = Arc::new(Twitch::default());
    *t.state.lock().unwrap() =
        (valid.iter().map(|s| s.to_string()).collect(), refresh.iter().map(|s| s.to_string()).collect());
    t
}

fn handler(t: Arc<Twitch>) -> impl Fn(&Request) -> Response + Send + Sync + 'static {
    move |req| {
        let mut st = t.state.lock().unwrap();
        match req.path.as_str() {
            "/oauth2/token" => {
                t.refreshes.fetch_add(1, Ordering::SeqCst);
                let pairs = support::parse_pairs(&req.body_str());
                let r = pairs.iter().find(|(k, _)| k == "refresh_token").map(|(_, v)| v.clone()).unwrap_or_default();
                let Some(pos) = st.1.iter().position(|x| *x == r) else {
                    return Response::json(400, r#"{"status":400,"message":"Invalid refresh token"}"#);
                };
                st.1.remove(pos);
                let n: usize = r.trim_start_matches("refresh-").parse().unwrap_or(0) + 1;
                st.0.push(format!("token-{n}"));
                st.1.push(format!("refresh-{n}"));
                Response::json(
                    200,
                    &format!(
                        r#"{{"access_token":"token-{n}","refresh_token":"refresh-{n}","expires_in":14400,"scope":["user:edit"],"token_type":"bearer"}}"#
                    ),
                )
            }
            "/oauth2/validate" => {
                t.validations.fetch_add(1, Ordering::SeqCst);
                let token = req.header("authorization").unwrap_or("").trim_start_matches("OAuth ");
                if st.0.iter().any(|v| v == token) {
                    Response::json(200, r#"{"client_id":"cid","login":"a","user_id":"1","scopes":[],"expires_in":100}"#)
                } else {
                    Response::json(401, r#"{"status":401,"message":"invalid access token"}"#)
                }
            }
            _ => {
                let token = req.header("authorization").unwrap_or("").trim_start_matches("Bearer ");
                if st.0.iter().any(|v| v == token) {
                    Response::json(200, r#"{"data":[]}"#)
                } else {
                    Response::json(401, r#"{"error":"Unauthorized","status":401,"message":"Invalid OAuth token"}"#)
                }
            }
        }
    }
}

fn client(server: &TestServer, m: &TokenManager) -> Client {
    Client::builder()
        .client_id("cid")
        .token_manager(m.clone())
        .helix_url(format!("{}/helix", server.url()))
        .build()
        .unwrap()
}

fn oauth(server: &TestServer) -> OAuth {
    OAuth::new("cid", None::<ClientSecret>).auth_url(format!("{}/oauth2", server.url()))
}

fn expired() -> Timestamp {
    Timestamp::from(std::time::SystemTime::now() - Duration::from_secs(60))
}

/// Two managers on two store instances of one database, their user's token
/// expired, 20 requests each at once: one refresh, the same new token.
async fn two_managers_one_refresh<S: TokenStore + Clone>(a: S, b: S) {
    let t = twitch(&[], &["refresh-1"]);
    let server = TestServer::start(handler(t.clone())).await;
    a.save_user(user("token-1", "refresh-1").with_expiry(expired())).await.unwrap();
    let ma = TokenManager::with_store(oauth(&server), a.clone()).await.unwrap();
    let mb = TokenManager::with_store(oauth(&server), b.clone()).await.unwrap();
    let (ca, cb) = (client(&server, &ma), client(&server, &mb));
    let calls: Vec<_> =
        (0..20).flat_map(|_| [tokio::spawn(ca.get_users().send()), tokio::spawn(cb.get_users().send())]).collect();
    for c in calls {
        c.await.unwrap().unwrap();
    }
    assert_eq!(t.refreshes.load(Ordering::SeqCst), 1, "one refresh for both");
    let one = "1".into();
    assert_eq!(ma.user_token(&one).await.unwrap().secret(), "token-2");
    assert_eq!(mb.user_token(&one).await.unwrap().secret(), "token-2");
    let stored = a.shared().unwrap().load_user_versioned(&one).await.unwrap().unwrap();
    assert_eq!((stored.token.access_token.secret(), stored.version), ("token-2", 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_managers_on_one_sqlite_file_refresh_once() {
    let path = temp_path("tokens.sqlite");
    two_managers_one_refresh(SqliteStore::open(&path).unwrap(), SqliteStore::open(&path).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_managers_on_one_postgres_refresh_once() {
    let pg = Postgres::start();
    let a = PostgresStore::connect(&pg.params()).await.unwrap();
    let b = PostgresStore::connect(&pg.params()).await.unwrap();
    two_managers_one_refresh(a, b).await;
}

/// Log lines, captured.
#[derive(Clone, Default)]
struct Log(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

// One thread, so the managers' tasks log to this test's subscriber.
#[tokio::test]
async fn the_hourly_validation_runs_in_one_process() {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let path = temp_path("tokens.sqlite");
    let (a, b) = (SqliteStore::open(&path).unwrap(), SqliteStore::open(&path).unwrap());
    let t = twitch(&["token-1"], &[]);
    let server = TestServer::start(handler(t.clone())).await;
    a.save_user(user("token-1", "refresh-1")).await.unwrap();
    let ma = TokenManager::with_store(oauth(&server), a.clone()).await.unwrap();
    let mb = TokenManager::with_store(oauth(&server), b.clone()).await.unwrap();
    let hour = Duration::from_secs(3600);
    let (ha, hb) = (ma.spawn_validation(hour), mb.spawn_validation(hour));
    // Both first ticks are at once: one validates, the other skips.
    loop {
        let skipped = log.text().matches("another process validated the tokens within the interval").count();
        if skipped == 1 && t.validations.load(Ordering::SeqCst) == 1 {
            break;
        }
        assert!(skipped <= 1 && t.validations.load(Ordering::SeqCst) <= 1, "{}", log.text());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let holder = a.lease_holder("validation").await.unwrap().unwrap();
    assert!(holder == a.holder() || holder == b.holder());
    ha.abort();
    hb.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_token_is_fetched_once_for_the_processes() {
    let path = temp_path("tokens.sqlite");
    let (a, b) = (SqliteStore::open(&path).unwrap(), SqliteStore::open(&path).unwrap());
    let grants = Arc::new(AtomicUsize::new(0));
    let g = grants.clone();
    let server = TestServer::start(move |req| {
        if req.path == "/oauth2/token" && req.body_str().contains("grant_type=client_credentials") {
            let n = g.fetch_add(1, Ordering::SeqCst) + 1;
            return Response::json(
                200,
                &format!(r#"{{"access_token":"app-{n}","expires_in":5000000,"token_type":"bearer"}}"#),
            );
        }
        Response::json(200, r#"{"data":[]}"#)
    })
    .await;
    let secret = || OAuth::new("cid", Some(ClientSecret::new("s3cret"))).auth_url(format!("{}/oauth2", server.url()));
    let ma = TokenManager::with_store(secret(), a.clone()).await.unwrap();
    let mb = TokenManager::with_store(secret(), b).await.unwrap();
    let (ta, tb) = tokio::join!(ma.app_token(), mb.app_token());
    assert_eq!((ta.unwrap().secret(), tb.unwrap().secret()), ("app-1", "app-1"));
    assert_eq!(grants.load(Ordering::SeqCst), 1);
    // A process started later finds it in the store.
    let mc = TokenManager::with_store(secret(), SqliteStore::open(&path).unwrap()).await.unwrap();
    assert_eq!(mc.app_token().await.unwrap().secret(), "app-1");
    assert_eq!(grants.load(Ordering::SeqCst), 1);
    let stored = a.shared().unwrap().load_app().await.unwrap().unwrap();
    assert_eq!((stored.token.access_token.secret(), stored.version), ("app-1", 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_added_by_another_process_is_found_on_first_use() {
    let path = temp_path("tokens.sqlite");
    let t = twitch(&["token-1"], &[]);
    let server = TestServer::start(handler(t.clone())).await;
    let ma = TokenManager::with_store(oauth(&server), SqliteStore::open(&path).unwrap()).await.unwrap();
    let mb = TokenManager::with_store(oauth(&server), SqliteStore::open(&path).unwrap()).await.unwrap();
    ma.add_user(user("token-1", "refresh-1")).await.unwrap();
    client(&server, &mb).get_users().as_user("1").send().await.unwrap();
    assert_eq!(mb.users(), ["1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refreshed_token_the_store_cannot_take_is_kept_and_its_lease_held() {
    let path = temp_path("tokens.sqlite");
    let t = twitch(&[], &["refresh-1"]);
    let server = TestServer::start(handler(t.clone())).await;
    let flaky = FaultyStore::new(SqliteStore::open(&path).unwrap());
    flaky.save_user(user("token-1", "refresh-1").with_expiry(expired())).await.unwrap();
    let m = TokenManager::with_store(oauth(&server), flaky.clone()).await.unwrap();
    flaky.failing.store(true, Ordering::SeqCst);
    client(&server, &m).get_users().send().await.unwrap();
    assert_eq!(t.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(m.user_token(&"1".into()).await.unwrap().secret(), "token-2", "kept in memory");
    // The lease stays taken, so no other process refreshes with the spent
    // refresh token before it expires.
    let holder = flaky.store.lease_holder("user:1").await.unwrap();
    assert_eq!(holder.as_deref(), Some(flaky.store.holder()));
    let stored = flaky.store.load_user_versioned(&"1".into()).await.unwrap().unwrap();
    assert_eq!(stored.token.access_token.secret(), "token-1");
    // The database is back: the next store operation saves the pair.
    flaky.failing.store(false, Ordering::SeqCst);
    m.validate_all().await;
    let stored = flaky.store.load_user_versioned(&"1".into()).await.unwrap().unwrap();
    assert_eq!(stored.token.refresh_token.unwrap().secret(), "refresh-2");
}
