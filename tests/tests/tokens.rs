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
}

fn stream(id: usize) -> String {
    format!(
        r#"{{"id":"{id}","user_id":"1","user_login":"a","user_name":"A","game_id":"1","game_name":"g","type":"live","title":"t","tags":[],"viewer_count":1,"started_at":"2021-03-10T15:04:21Z","language":"en","thumbnail_url":"x"}}"#
    )
}

fn handler(state: Arc<State>) -> impl Fn(&Request) -> Response + Send + Sync + 'static {
    move |req| {
        let body = req.body_str();
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
        Error::MissingScope { missing, .. } => assert_eq!(missing, [vec!["user:edit".to_owned()]]),
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
    let m = TokenManager::with_store(oauth(&server), JsonFileStore::new(&path)).unwrap();
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
    let again = TokenManager::with_store(oauth(&server), JsonFileStore::new(&path)).unwrap();
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
