//! Configuration from the environment (`ClientBuilder::from_vars`,
//! `OAuth::from_vars`; `from_env` reads the same variables from the
//! process, tested in `config_process_env.rs`) and the mock's ready-made
//! builder and variables.

use std::collections::HashMap;
use std::time::Duration;

use twitch::{Client, Error, OAuth};
use twitch_mock::Mock;

const GUARD: Duration = Duration::from_secs(60);

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    move |name| map.get(name).cloned()
}

fn env_error(e: Error) -> (String, String) {
    match e {
        Error::Env { variable, problem } => (variable, problem),
        other => panic!("expected Error::Env, got {other:?}"),
    }
}

#[test]
fn every_variable_sets_its_setting() {
    let client = Client::builder()
        .from_vars(vars(&[
            ("TWITCH_CLIENT_ID", "abc"),
            ("TWITCH_APP_TOKEN", "app-token"),
            ("TWITCH_HELIX_URL", "http://127.0.0.1:1/helix/"),
            ("TWITCH_AUTH_URL", "http://127.0.0.1:1/oauth2"),
            ("TWITCH_EVENTSUB_WS_URL", "ws://127.0.0.1:1/ws"),
        ]))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(client.client_id(), "abc");
    assert_eq!(client.helix_url(), "http://127.0.0.1:1/helix");
    assert_eq!(client.auth_url(), "http://127.0.0.1:1/oauth2");
    assert_eq!(client.eventsub_ws_url(), "ws://127.0.0.1:1/ws");
}

#[test]
fn unset_and_empty_variables_keep_twitchs_urls() {
    let client = Client::builder()
        .from_vars(vars(&[("TWITCH_CLIENT_ID", "abc"), ("TWITCH_HELIX_URL", "")]))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(client.helix_url(), "https://api.twitch.tv/helix");
    assert_eq!(client.eventsub_ws_url(), "wss://eventsub.wss.twitch.tv/ws");
}

#[test]
fn a_missing_client_id_names_the_variable() {
    for set in [vec![], vec![("TWITCH_CLIENT_ID", "")]] {
        let e = Client::builder().from_vars(vars(&set)).unwrap_err();
        assert_eq!(e.to_string(), "environment variable TWITCH_CLIENT_ID is not set");
        assert_eq!(env_error(e), ("TWITCH_CLIENT_ID".to_owned(), "is not set".to_owned()));
    }
    let e = OAuth::from_vars(vars(&[("TWITCH_CLIENT_SECRET", "s")])).unwrap_err();
    assert_eq!(env_error(e).0, "TWITCH_CLIENT_ID");
}

#[test]
fn a_url_of_the_wrong_scheme_names_the_variable() {
    let cases = [
        ("TWITCH_HELIX_URL", "api.twitch.tv/helix", "http"),
        ("TWITCH_AUTH_URL", "ftp://id.twitch.tv", "http"),
        ("TWITCH_EVENTSUB_WS_URL", "https://eventsub.wss.twitch.tv/ws", "ws"),
    ];
    for (name, value, want) in cases {
        let e = Client::builder().from_vars(vars(&[("TWITCH_CLIENT_ID", "abc"), (name, value)])).unwrap_err();
        let (variable, problem) = env_error(e);
        assert_eq!(variable, name);
        assert!(problem.contains(want) && problem.contains(value), "{problem}");
    }
    let e = OAuth::from_vars(vars(&[("TWITCH_CLIENT_ID", "abc"), ("TWITCH_AUTH_URL", "id.twitch.tv")])).unwrap_err();
    assert_eq!(env_error(e).0, "TWITCH_AUTH_URL");
}

#[test]
fn settings_after_from_vars_override_it() {
    let client = Client::builder()
        .from_vars(vars(&[("TWITCH_CLIENT_ID", "abc"), ("TWITCH_HELIX_URL", "http://127.0.0.1:1/helix")]))
        .unwrap()
        .helix_url("http://127.0.0.1:2/helix")
        .build()
        .unwrap();
    assert_eq!(client.helix_url(), "http://127.0.0.1:2/helix");
}

/// The tokens the variables give are sent: a user token before an app
/// token. Checked against the mock, which knows whose token it is.
#[tokio::test]
async fn the_tokens_from_variables_are_sent() {
    let mock = Mock::builder().start().await.unwrap();
    let user = mock.mint_user_token("1001", "envuser", &[]);
    let app = mock.mint_app_token(&mock.client_id());
    let lookup = |extra: Vec<(&'static str, String)>| {
        let mut all = mock.env_vars();
        all.extend(extra);
        move |name: &str| all.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
    };

    let both = lookup(vec![("TWITCH_USER_TOKEN", user.clone()), ("TWITCH_APP_TOKEN", app.clone())]);
    let client = Client::builder().from_vars(both).unwrap().build().unwrap();
    // Get Users without parameters answers the token's own user: only a user token can.
    let me = tokio::time::timeout(GUARD, client.get_users().send()).await.unwrap().unwrap();
    assert_eq!(me.first().map(|u| u.login.as_str()), Some("envuser"));

    let app_only = lookup(vec![("TWITCH_APP_TOKEN", app)]);
    let client = Client::builder().from_vars(app_only).unwrap().build().unwrap();
    let found = tokio::time::timeout(GUARD, client.get_users().login("envuser").send()).await.unwrap().unwrap();
    assert_eq!(found.len(), 1);
    mock.shutdown();
}

/// `MockServer::client_builder` and `env_vars` set everything a test
/// needs: a client built from either reaches the mock, and `OAuth` from
/// the variables gets an app token from it.
#[tokio::test]
async fn the_mocks_builder_and_variables_reach_the_mock() {
    let mock = Mock::builder().client("envclient", "envsecret").start().await.unwrap();
    let app = mock.mint_app_token("envclient");
    let client = mock.client_builder().app_token(app).build().unwrap();
    assert_eq!(client.client_id(), "envclient");
    assert_eq!(client.eventsub_ws_url(), mock.ws_url());
    tokio::time::timeout(GUARD, client.get_users().login("someone").send()).await.unwrap().unwrap();

    let vars = mock.env_vars();
    assert!(vars.contains(&("TWITCH_CLIENT_SECRET", "envsecret".to_owned())));
    let lookup = move |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone());
    let oauth = OAuth::from_vars(&lookup).unwrap();
    let token = tokio::time::timeout(GUARD, oauth.client_credentials()).await.unwrap().unwrap();
    let client = Client::builder().from_vars(&lookup).unwrap().app_token(token.access_token.secret()).build().unwrap();
    tokio::time::timeout(GUARD, client.get_users().login("someone").send()).await.unwrap().unwrap();
    mock.shutdown();
}
