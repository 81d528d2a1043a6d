//! The token manager against a local server playing both Helix and the
//! identity service: single-flight refresh, refresh before expiry and after
//! a 401, scope checks before any I/O, per-request users, the file store.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use support::{Request, Response, TestServer};
use twitch::{Client, ClientSecret, Error, JsonFileStore, OAuth, Timestamp, TokenEvent, TokenManager, UserToken};

/// Tokens the fake Twitch accepts; refreshing `refresh-N` yields `token-N+1`.
#[derive(Default)]
struct State {
    valid: Mutex<Vec<String>>,
    refreshes: AtomicUsize,
    app_grants: AtomicUsize,
    /// Invalidate the token in use after this many Helix requests.
    expire_after: Mutex<Option<usize>>,
    helix_requests: AtomicUsize,
    /// Answer `oauth2/validate` with this status instead (an outage).
    validate_fault: Mutex<Option<u16>>,
    /// Answer `oauth2/token` with this status instead (an outage).
    token_fault: Mutex<Option<u16>>,
    validations: AtomicUsize,
    /// Answer Helix with Twitch's client-id mismatch 401.
    mismatch: std::sync::atomic::AtomicBool,
}

fn stream(id: usize) -> String {
    format!(
        r#"{{"id":"{id}","user_id":"1","user_login":"a","user_name":"A","game_id":"1","game_name":"g","type":"live","title":"t","tags":[],"viewer_count":1,"started_at":"2021-03-10T15:04:21Z","language":"en","thumbnail_url":"x"}}"#
    )
}

fn handler(state: Arc<State>) -> impl Fn(&Request) -> Response + Send + Sync + 'static {
    move |req| {
        let body = req.body_str();
        if req.path == "/oauth2/token"
            && let Some(status) = *state.token_fault.lock().unwrap()
        {
            if body.contains("grant_type=refresh_token") {
                state.refreshes.fetch_add(1, Ordering::SeqCst);
            }
            return Response::twitch_error(status, "the identity service is having a bad day");
        }
        if req.path == "/oauth2/validate" {
            state.validations.fetch_add(1, Ordering::SeqCst);
            if let Some(status) = *state.validate_fault.lock().unwrap() {
                return Response::twitch_error(status, "the identity service is having a bad day");
            }
        }
        if req.path == "/oauth2/token" {
            if body.contains("grant_type=client_credentials") {
                let n = state.app_grants.fetch_add(1, Ordering::SeqCst) + 1;
                let t = format!("app-{n}");
                state.valid.lock().unwrap().push(t.clone());
                return Response::json(
                    200,
                    &format!(r#"{{"access_token":"{t}","expires_in":5000000,"token_type":"bearer"}}"#),
                );
            }
            let refresh = body.split('&').find_map(|p| p.strip_prefix("refresh_token=")).unwrap_or("").to_owned();
            let Some(n) = refresh.strip_prefix("refresh-").and_then(|n| n.parse::<usize>().ok()) else {
                state.refreshes.fetch_add(1, Ordering::SeqCst);
                return Response::json(400, r#"{"status":400,"message":"Invalid refresh token"}"#);
            };
            state.refreshes.fetch_add(1, Ordering::SeqCst);
            let t = format!("token-{}", n + 1);
            state.valid.lock().unwrap().push(t.clone());
            return Response::json(
                200,
                &format!(
                    r#"{{"access_token":"{t}","refresh_token":"refresh-{}","expires_in":14400,"scope":["user:edit"],"token_type":"bearer"}}"#,
                    n + 1
                ),
            );
        }
        if req.path == "/oauth2/validate" {
            let t = req.header("authorization").unwrap_or("").trim_start_matches("OAuth ");
            return if state.valid.lock().unwrap().iter().any(|v| v == t) {
                Response::json(200, r#"{"client_id":"cid","login":"a","user_id":"1","scopes":[],"expires_in":100}"#)
            } else {
                Response::json(401, r#"{"status":401,"message":"invalid access token"}"#)
            };
        }
        let n = state.helix_requests.fetch_add(1, Ordering::SeqCst) + 1;
        if state.mismatch.load(Ordering::SeqCst) {
            return Response::json(
                401,
                r#"{"error":"Unauthorized","status":401,"message":"Client ID and OAuth token do not match"}"#,
            );
        }
        let token = req.header("authorization").unwrap_or("").trim_start_matches("Bearer ").to_owned();
        if let Some(limit) = *state.expire_after.lock().unwrap()
            && n > limit
        {
            // The token in use expires now: only tokens issued later stay valid.
            state.valid.lock().unwrap().retain(|v| v != "token-1");
        }
        if !state.valid.lock().unwrap().contains(&token) {
            return Response::json(401, r#"{"error":"Unauthorized","status":401,"message":"Invalid OAuth token"}"#);
        }
        if req.path == "/helix/streams" {
            let page: usize = req.query_value("after").and_then(|c| c.parse().ok()).unwrap_or(1);
            let next = if page < 4 { format!(r#"{{"cursor":"{}"}}"#, page + 1) } else { "{}".into() };
            return Response::json(
                200,
                &format!(r#"{{"data":[{},{}],"pagination":{next}}}"#, stream(page * 10), stream(page * 10 + 1)),
            );
        }
        if req.method == "PUT" && req.path == "/helix/users" {
            // Update User answers the one user it updated.
            let user = r#"{"id":"1","login":"a","display_name":"A","type":"","broadcaster_type":"","description":"x","profile_image_url":"","offline_image_url":"","created_at":"2016-12-14T20:32:28Z"}"#;
            return Response::json(200, &format!(r#"{{"data":[{user}]}}"#));
        }
        Response::json(200, &format!(r#"{{"data":[],"token":"{token}"}}"#))
    }
}

async fn setup(valid: &[&str]) -> (TestServer, Arc<State>) {
    let state = Arc::new(State::default());
    state.valid.lock().unwrap().extend(valid.iter().map(|s| s.to_string()));
    (TestServer::start(handler(state.clone())).await, state)
}

fn oauth(server: &TestServer) -> OAuth {
    OAuth::new("cid", Some(ClientSecret::new("s3cret"))).auth_url(format!("{}/oauth2", server.url()))
}

fn client(server: &TestServer, manager: &TokenManager) -> Client {
    Client::builder()
        .client_id("cid")
        .token_manager(manager.clone())
        .helix_url(format!("{}/helix", server.url()))
        .build()
        .unwrap()
}

fn user(token: &str, refresh: &str) -> UserToken {
    UserToken::new(token, "1", "a").with_refresh_token(refresh).with_scopes(["user:edit", "chat:read"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_callers_on_an_expired_token_cause_one_refresh() {
    let (server, state) = setup(&[]).await; // token-1 is already refused
    let m = TokenManager::new(oauth(&server));
    m.add_user(user("token-1", "refresh-1")).await.unwrap();
    let c = client(&server, &m);
    let tasks: Vec<_> = (0..50).map(|_| tokio::spawn(c.get_users().send())).collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(state.refreshes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_token_about_to_expire_is_refreshed_before_sending() {
    let (server, state) = setup(&[]).await;
    let m = TokenManager::new(oauth(&server));
    let soon = Timestamp::from(std::time::SystemTime::now() + std::time::Duration::from_secs(10));
    m.add_user(user("token-1", "refresh-1").with_expiry(soon)).await.unwrap();
    let mut events = m.subscribe();
    client(&server, &m).get_users().send().await.unwrap();
    assert_eq!(state.refreshes.load(Ordering::SeqCst), 1);
    let sent: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/helix"))
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(sent, ["Bearer token-2"], "the stale token was never sent");
    assert_eq!(events.recv().await.unwrap(), TokenEvent::Refreshed("1".into()));
}

#[tokio::test]
async fn a_401_in_the_middle_of_a_walk_refreshes_and_continues() {
    let (server, state) = setup(&["token-1"]).await;
    *state.expire_after.lock().unwrap() = Some(2);
    let m = TokenManager::new(oauth(&server));
    m.add_user(user("token-1", "refresh-1")).await.unwrap();
    let items = client(&server, &m).get_streams().first(2).paginate().collect_all(100).await.unwrap();
    let ids: Vec<String> = items.iter().map(|s| s.id.to_string()).collect();
    assert_eq!(ids, ["10", "11", "20", "21", "30", "31", "40", "41"], "nothing lost, nothing repeated");
    assert_eq!(state.refreshes.load(Ordering::SeqCst), 1);
    let cursors: Vec<Option<String>> = server
        .requests()
        .iter()
        .filter(|r| r.path == "/helix/streams")
        .map(|r| r.query_value("after").map(str::to_owned))
        .collect();
    // Page 3 was asked twice: once refused with the old token, once with the new one.
    assert_eq!(cursors, [None, Some("2".into()), Some("3".into()), Some("3".into()), Some("4".into())]);
}

#[tokio::test]
async fn missing_scopes_fail_before_any_request() {
    let (server, _) = setup(&["t"]).await;
    let m = TokenManager::new(oauth(&server));
    m.add_user(UserToken::new("t", "1", "a").with_scopes(["chat:read"])).await.unwrap();
    match client(&server, &m).update_user().description("x").await.unwrap_err() {
        Error::MissingScope { missing, .. } => assert_eq!(missing, [vec![twitch::Scope::UserEdit]]),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn requests_choose_their_user_and_app_tokens_are_fetched() {
    let (server, state) = setup(&["token-a", "token-b"]).await;
    let m = TokenManager::new(oauth(&server));
    m.add_user(UserToken::new("token-a", "1", "a").with_scopes(["user:edit"])).await.unwrap();
    m.add_user(UserToken::new("token-b", "2", "b").with_scopes(["user:edit"])).await.unwrap();
    let c = client(&server, &m);
    c.get_users().send().await.unwrap();
    c.get_users().as_user("2").send().await.unwrap();
    m.set_default_user("2");
    c.update_user().send().await.unwrap();
    let sent: Vec<String> =
        server.requests().iter().map(|r| r.header("authorization").unwrap_or("").to_owned()).collect();
    assert_eq!(sent, ["Bearer token-a", "Bearer token-b", "Bearer token-b"]);

    // With no users, app-token endpoints get a client-credentials token.
    let (server, state2) = setup(&[]).await;
    let m = TokenManager::new(oauth(&server));
    client(&server, &m).get_streams().send().await.unwrap();
    assert_eq!(state2.app_grants.load(Ordering::SeqCst), 1);
    assert!(matches!(client(&server, &m).update_user().await, Err(Error::WrongToken { .. })));
    drop(state);
}

#[tokio::test]
async fn the_file_store_keeps_refreshed_tokens_privately() {
    let (server, _) = setup(&[]).await;
    let dir = std::env::temp_dir().join(format!("twitch-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("tokens.json");
    let m = TokenManager::with_store(oauth(&server), JsonFileStore::new(&path)).await.unwrap();
    m.add_user(user("token-1", "refresh-1")).await.unwrap();
    client(&server, &m).get_users().send().await.unwrap(); // 401, refresh, retry
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(saved.contains("token-2") && saved.contains("refresh-2") && !saved.contains("\"token-1\""), "{saved}");
    // The next run starts from the stored token.
    let again = TokenManager::with_store(oauth(&server), JsonFileStore::new(&path)).await.unwrap();
    assert_eq!(again.users(), ["1"]);
    assert_eq!(again.user_token(&"1".into()).await.unwrap().secret(), "token-2");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn validation_reports_tokens_that_cannot_be_saved() {
    let (server, _) = setup(&["good"]).await;
    let m = TokenManager::new(oauth(&server));
    m.add_user(UserToken::new("good", "1", "a")).await.unwrap();
    m.add_user(UserToken::new("revoked", "2", "b").with_refresh_token("bogus")).await.unwrap();
    let mut events = m.subscribe();
    m.validate_all().await;
    assert_eq!(m.users(), ["1"]);
    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        seen.push(e);
    }
    assert!(seen.contains(&TokenEvent::Invalid("2".into())), "{seen:?}");
}

#[test]
fn debug_shows_no_secrets() {
    let t = user("secret-access", "secret-refresh");
    let m = TokenManager::new(OAuth::new("cid", Some(ClientSecret::new("secret-client"))));
    let c = Client::builder().client_id("cid").token_manager(m.clone()).build().unwrap();
    for s in [format!("{t:?}"), format!("{m:?}"), format!("{c:?}")] {
        assert!(!s.contains("secret-"), "{s}");
    }
}

fn events_so_far(rx: &mut tokio::sync::broadcast::Receiver<TokenEvent>) -> Vec<TokenEvent> {
    let mut seen = Vec::new();
    while let Ok(e) = rx.try_recv() {
        seen.push(e);
    }
    seen
}

/// Outages of the identity service (5xx, a port nobody listens on) change
/// nothing: every user stays, in memory and in the store, and is checked
/// again next time. Only `validate`'s 401 followed by a refused refresh
/// makes a token invalid.
#[tokio::test]
async fn a_network_blip_logs_nobody_out() {
    let (server, state) = setup(&["implicit"]).await; // token-1 is refused by validate
    let dir = std::env::temp_dir().join(format!("twitch-blip-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("tokens.json");
    let m = TokenManager::with_store(oauth(&server), JsonFileStore::new(&path)).await.unwrap();
    m.add_user(user("token-1", "refresh-1")).await.unwrap();
    m.add_user(UserToken::new("implicit", "2", "b")).await.unwrap();
    let mut events = m.subscribe();

    // validate answers 503: nothing happens.
    *state.validate_fault.lock().unwrap() = Some(503);
    m.validate_all().await;
    // validate says 401, and the refresh meets a 500: kept, tried again later.
    *state.validate_fault.lock().unwrap() = None;
    *state.token_fault.lock().unwrap() = Some(500);
    m.validate_all().await;
    assert_eq!(state.refreshes.load(Ordering::SeqCst), 1, "one refresh was attempted");
    // The identity service cannot be reached at all.
    let offline = OAuth::new("cid", Some(ClientSecret::new("s3cret"))).auth_url("http://127.0.0.1:1/oauth2");
    let m2 = TokenManager::with_store(offline, JsonFileStore::new(&path)).await.unwrap();
    m2.validate_all().await;
    assert_eq!(m2.users(), ["1", "2"]);

    assert_eq!(m.users(), ["1", "2"], "nobody was logged out");
    assert!(m.invalid_users().is_empty());
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(saved.contains("token-1") && saved.contains("implicit"), "{saved}");
    assert!(
        !events_so_far(&mut events).iter().any(|e| matches!(e, TokenEvent::Invalid(_))),
        "no user was reported invalid"
    );

    // With the service back, the user with a refresh token is refreshed;
    // the implicit token, now refused by validate and with nothing to
    // refresh, is invalid.
    *state.token_fault.lock().unwrap() = None;
    state.valid.lock().unwrap().retain(|t| t != "implicit");
    tokio::time::sleep(twitch::tokens::REFRESH_RETRY_DELAY).await;
    m.validate_all().await;
    assert_eq!(m.users(), ["1"]);
    assert_eq!(m.invalid_users(), ["2"]);
    assert_eq!(m.user_token(&"1".into()).await.unwrap().secret(), "token-2");
    let seen = events_so_far(&mut events);
    assert!(
        seen.contains(&TokenEvent::Refreshed("1".into())) && seen.contains(&TokenEvent::Invalid("2".into())),
        "{seen:?}"
    );
    let saved = std::fs::read_to_string(&path).unwrap();
    // Found invalid, it stays in the store: only `remove_user` removes a
    // token (another process may still use it; a new one replaces it).
    assert!(saved.contains("token-2") && saved.contains("implicit"), "{saved}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A refresh token Twitch refuses is spent once: 50 concurrent requests on
/// the expired token share one refresh attempt, the user is reported
/// invalid once, and later requests fail at once without any HTTP call,
/// until a new token is added.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_refresh_token_is_tried_once() {
    let (server, state) = setup(&[]).await; // token-1 is refused
    let m = TokenManager::new(oauth(&server));
    m.add_user(user("token-1", "dead")).await.unwrap();
    let mut events = m.subscribe();
    let c = client(&server, &m);
    let tasks: Vec<_> = (0..50).map(|_| tokio::spawn(c.get_users().send())).collect();
    for t in tasks {
        match t.await.unwrap() {
            Err(Error::TokenInvalid { user: Some(u), .. }) => assert_eq!(u, "1"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(state.refreshes.load(Ordering::SeqCst), 1, "one refresh for fifty callers");
    let seen = events_so_far(&mut events);
    assert_eq!(seen.iter().filter(|e| **e == TokenEvent::Invalid("1".into())).count(), 1, "{seen:?}");

    let before = server.request_count();
    for _ in 0..5 {
        assert!(matches!(c.get_users().send().await, Err(Error::TokenInvalid { .. })));
    }
    assert_eq!(server.request_count(), before, "no HTTP call for a user known to be invalid");
    assert_eq!(state.refreshes.load(Ordering::SeqCst), 1);

    // The user authorizes again.
    state.valid.lock().unwrap().push("token-9".into());
    m.add_user(user("token-9", "refresh-9")).await.unwrap();
    c.get_users().send().await.unwrap();
    assert_eq!(m.users(), ["1"]);
}

/// A refresh that fails for a reason that may pass is shared as well: the
/// concurrent callers get the failure, the token is kept, and a later
/// request tries again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_refresh_is_shared_and_tried_again_later() {
    let (server, state) = setup(&[]).await;
    *state.token_fault.lock().unwrap() = Some(503);
    let m = TokenManager::new(oauth(&server));
    m.add_user(user("token-1", "refresh-1")).await.unwrap();
    let c = client(&server, &m);
    let tasks: Vec<_> = (0..20).map(|_| tokio::spawn(c.get_users().send())).collect();
    for t in tasks {
        assert!(matches!(t.await.unwrap(), Err(Error::RefreshFailed { .. })));
    }
    assert_eq!(state.refreshes.load(Ordering::SeqCst), 1, "one attempt for twenty callers");
    assert_eq!(m.users(), ["1"], "the token is kept");
    // Right after a failure, requests share it rather than try again at once.
    assert!(matches!(c.get_users().send().await, Err(Error::RefreshFailed { .. })));
    assert_eq!(state.refreshes.load(Ordering::SeqCst), 1);
    *state.token_fault.lock().unwrap() = None;
    tokio::time::sleep(twitch::tokens::REFRESH_RETRY_DELAY).await;
    c.get_users().send().await.unwrap();
    assert_eq!(state.refreshes.load(Ordering::SeqCst), 2);
    assert_eq!(m.user_token(&"1".into()).await.unwrap().secret(), "token-2");
}

/// Twitch asks for validation when the app starts, then hourly.
#[tokio::test]
async fn validation_runs_at_once_then_every_interval() {
    let (server, state) = setup(&["token-1"]).await;
    let m = TokenManager::new(oauth(&server));
    m.add_user(user("token-1", "refresh-1")).await.unwrap();
    let task = m.spawn_validation(std::time::Duration::from_secs(3600));
    for _ in 0..200 {
        if state.validations.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(state.validations.load(Ordering::SeqCst), 1, "validated at start, not an hour later");
    task.abort();
}

/// A 401 that says the token belongs to another client is a typed error at
/// once: a refresh could not fix it and is not tried.
#[tokio::test]
async fn a_client_id_mismatch_is_not_refreshed() {
    let (server, state) = setup(&["token-1"]).await;
    state.mismatch.store(true, Ordering::SeqCst);
    let m = TokenManager::new(oauth(&server));
    m.add_user(user("token-1", "refresh-1")).await.unwrap();
    match client(&server, &m).get_users().send().await {
        Err(Error::TokenMismatch { message, .. }) => assert!(message.contains("do not match")),
        other => panic!("{other:?}"),
    }
    assert_eq!(state.refreshes.load(Ordering::SeqCst), 0);
    assert_eq!(server.requests().iter().filter(|r| r.path.starts_with("/helix")).count(), 1, "sent once");
    // The same without a token manager.
    let plain = Client::builder()
        .client_id("cid")
        .user_token("token-1")
        .helix_url(format!("{}/helix", server.url()))
        .build()
        .unwrap();
    assert!(matches!(plain.get_users().send().await, Err(Error::TokenMismatch { .. })));
}

/// A store that records what it is asked and can be made to fail.
#[derive(Default, Clone)]
struct RecordingStore {
    log: Arc<Mutex<Vec<String>>>,
    failing: Arc<std::sync::atomic::AtomicBool>,
}

impl twitch::TokenStore for RecordingStore {
    fn load(&self) -> twitch::BoxFuture<'_, twitch::Result<Vec<UserToken>>> {
        Box::pin(async { Ok(vec![user("token-1", "refresh-1")]) })
    }

    fn save_user(&self, token: UserToken) -> twitch::BoxFuture<'_, twitch::Result<()>> {
        Box::pin(async move {
            // A store on a database answers later; the executor goes on meanwhile.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            if self.failing.load(Ordering::SeqCst) {
                self.log.lock().unwrap().push(format!("failed save {}", token.access_token.secret()));
                return Err(Error::TokenStore { location: "memory".into(), source: "the disk is full".into() });
            }
            self.log.lock().unwrap().push(format!("save {}", token.access_token.secret()));
            Ok(())
        })
    }

    fn remove_user(&self, user: twitch::UserId) -> twitch::BoxFuture<'_, twitch::Result<()>> {
        Box::pin(async move {
            self.log.lock().unwrap().push(format!("remove {user}"));
            Ok(())
        })
    }
}

/// The store interface is async. A refreshed token is saved before other
/// callers get it; a store that fails does not fail the request (the
/// token is held), and the save is made again later.
#[tokio::test]
async fn the_store_is_async_and_a_failing_store_loses_nothing() {
    let (server, state) = setup(&[]).await;
    let store = RecordingStore::default();
    store.failing.store(true, Ordering::SeqCst);
    let m = TokenManager::with_store(oauth(&server), store.clone()).await.unwrap();
    assert_eq!(m.users(), ["1"]);
    client(&server, &m).get_users().send().await.expect("a failing store does not fail the request");
    assert_eq!(m.user_token(&"1".into()).await.unwrap().secret(), "token-2");
    store.failing.store(false, Ordering::SeqCst);
    m.validate_all().await; // retries what the store did not take
    assert_eq!(*store.log.lock().unwrap(), ["failed save token-2", "save token-2"]);
    // A user found invalid is not removed from the store on the manager's
    // own judgement.
    m.add_user(user("token-x", "dead")).await.unwrap();
    state.valid.lock().unwrap().clear();
    m.validate_all().await;
    assert_eq!(m.invalid_users(), ["1"]);
    assert_eq!(store.log.lock().unwrap().last().unwrap(), "save token-x");
    assert!(!store.log.lock().unwrap().iter().any(|l| l.starts_with("remove")));
}

/// Each failure has its own variant, with the underlying error as `source()`.
#[tokio::test]
async fn store_and_token_failures_are_typed() {
    use std::error::Error as _;
    // A directory where the file should be: the read fails with an I/O error.
    let dir = std::env::temp_dir().join(format!("twitch-store-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let e = TokenManager::with_store(OAuth::new("cid", None), JsonFileStore::new(&dir)).await.unwrap_err();
    match &e {
        Error::TokenStore { location, .. } => assert!(location.contains("twitch-store-dir"), "{location}"),
        other => panic!("{other:?}"),
    }
    assert!(e.source().and_then(|s| s.downcast_ref::<std::io::Error>()).is_some(), "the I/O error is the source");
    let _ = std::fs::remove_dir_all(&dir);
    // A file that is not a store: the decoding error is the source.
    let file = std::env::temp_dir().join(format!("twitch-store-bad-{}.json", std::process::id()));
    std::fs::write(&file, "not json").unwrap();
    let e = TokenManager::with_store(OAuth::new("cid", None), JsonFileStore::new(&file)).await.unwrap_err();
    assert!(matches!(e, Error::TokenStore { .. }), "{e:?}");
    assert!(e.source().and_then(|s| s.downcast_ref::<serde_json::Error>()).is_some());
    let _ = std::fs::remove_file(&file);

    let m = TokenManager::new(OAuth::new("cid", None));
    assert!(matches!(m.user_token(&"9".into()).await, Err(Error::NoToken { user: Some(u) }) if u == "9"));
    assert!(matches!(m.app_token().await, Err(Error::NoToken { user: None })));
}

/// The file store's writes run off the executor. Its temporary file is made
/// a FIFO here, so the write blocks until a reader opens it; the reader is
/// started by another task of the same single-threaded runtime. Were the
/// write done on the executor, that task could never run and the save
/// would hang; done on a blocking thread, it finishes.
#[cfg(unix)]
#[test]
fn the_file_store_writes_off_the_executor() {
    let dir = std::env::temp_dir().join(format!("twitch-fifo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tokens.json");
    let fifo = path.with_extension("tmp");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo is needed for this test");
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let store = JsonFileStore::new(&path);
            let reader = tokio::spawn(async move {
                // Runs only if the executor is free while the save waits.
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                std::thread::spawn(move || std::fs::read(&fifo).map(|b| b.len()))
            });
            let saved = twitch::TokenStore::save_user(&store, user("token-1", "refresh-1")).await;
            let read = reader.await.unwrap().join().unwrap();
            let _ = done_tx.send((saved.is_ok(), read.map_err(|e| e.to_string())));
        });
    });
    let (_, read) = done_rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the save blocked the executor: the reader task never ran");
    assert!(read.is_ok_and(|n| n > 0), "the store wrote its file through the FIFO");
    let _ = std::fs::remove_dir_all(&dir);
}
