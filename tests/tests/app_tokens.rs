//! Endpoints that take either token, against the mock: the client sends the
//! user token of the user the request acts as when it holds it, the app
//! token otherwise; `as_app` and `as_user` choose; with neither it refuses
//! before sending. The mock takes an app token there only within what
//! that user granted the app, and a user token only as that user's own,
//! as Twitch does. Which token went out is read off the mock's rate-limit
//! buckets (one per user, one for the app).

use std::collections::HashMap;
use std::time::Duration;

use twitch::{Client, ClientSecret, Error, OAuth, TokenManager, UserToken};
use twitch_mock::{Mock, MockServer};

const CHANNEL: &str = "1001";
const MODERATOR: &str = "3001";
const OTHER: &str = "3002";
const SCOPE: &str = "moderator:read:chatters";

async fn mock() -> MockServer {
    let mock = Mock::builder().start().await.expect("mock");
    mock.add_moderator(CHANNEL, MODERATOR).expect("moderator");
    mock.add_moderator(CHANNEL, OTHER).expect("moderator");
    mock
}

/// A token manager on the mock; with `secret` it can fetch app tokens.
fn manager(mock: &MockServer, secret: bool) -> TokenManager {
    let secret = secret.then(|| ClientSecret::new("any-secret"));
    TokenManager::new(OAuth::new(mock.client_id(), secret).auth_url(mock.auth_url()))
}

fn client(mock: &MockServer, manager: &TokenManager) -> Client {
    mock.client_builder().token_manager(manager.clone()).build().expect("client")
}

async fn hold(mock: &MockServer, manager: &TokenManager, user: &str) {
    let token = mock.mint_user_token(user, &format!("user{user}"), &[SCOPE]);
    manager.add_user(UserToken::new(token, user, format!("user{user}")).with_scopes([SCOPE])).await.unwrap();
}

/// Requests the mock took, by rate-limit bucket (`client` for the app
/// token, `client:user` for a user's; a request refused at authentication
/// counts under the client).
async fn sent(mock: &MockServer) -> HashMap<String, u64> {
    let http = twitch::tls::http_client(Duration::from_secs(10), Duration::from_secs(5)).unwrap();
    let text = http.get(format!("{}/control/buckets", mock.url())).send().await.unwrap().text().await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    body["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["key"].as_str().unwrap().to_owned(), b["allowed"].as_u64().unwrap()))
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn app_key(mock: &MockServer) -> String {
    mock.client_id()
}

fn user_key(mock: &MockServer, user: &str) -> String {
    format!("{}:{user}", mock.client_id())
}

#[test]
fn the_schema_says_which_parameter_a_request_acts_as() {
    let meta = twitch::meta::endpoint("get-chatters").unwrap();
    assert_eq!(meta.token_user, Some("moderator_id"));
    assert!(meta.tokens.contains(&twitch::TokenKind::App) && meta.tokens.contains(&twitch::TokenKind::User));
    // The 22 endpoints of Twitch's changelog, and Send Chat Message.
    let either = twitch::meta::endpoints().into_iter().filter(|e| e.token_user.is_some()).count();
    assert_eq!(either, 23);
}

#[tokio::test]
async fn the_user_the_request_acts_as_gets_their_own_token() {
    let mock = mock().await;
    let m = manager(&mock, false);
    hold(&mock, &m, OTHER).await;
    hold(&mock, &m, MODERATOR).await;
    m.set_default_user(OTHER);
    let chatters = client(&mock, &m).get_chatters(CHANNEL, MODERATOR).await.expect("as the moderator");
    assert!(!chatters.data.is_empty());
    assert_eq!(sent(&mock).await, HashMap::from([(user_key(&mock, MODERATOR), 1)]));
}

#[tokio::test]
async fn a_user_whose_token_is_not_held_is_acted_for_with_the_app_token_within_their_grant() {
    let mock = mock().await;
    let m = manager(&mock, true);
    hold(&mock, &m, OTHER).await;
    m.set_default_user(OTHER);
    let c = client(&mock, &m);

    // The moderator authorized the app once (on Twitch's consent page); the
    // bot holds only the app token and its own user token.
    mock.grant_scopes(MODERATOR, &[SCOPE]);
    c.get_chatters(CHANNEL, MODERATOR).await.expect("with the app token");
    assert_eq!(sent(&mock).await, HashMap::from([(app_key(&mock), 1)]));

    // A moderator who never granted the scope: Twitch's refusal, not the default user's token.
    mock.add_moderator(CHANNEL, "3003").unwrap();
    match c.get_chatters(CHANNEL, "3003").await.unwrap_err() {
        Error::Unauthorized { message, .. } => assert!(message.contains("not granted"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(!sent(&mock).await.contains_key(&user_key(&mock, OTHER)), "the default user's token never went out");
}

#[tokio::test]
async fn as_app_and_as_user_choose_the_token() {
    let mock = mock().await;
    let m = manager(&mock, true);
    hold(&mock, &m, MODERATOR).await;
    hold(&mock, &m, OTHER).await;
    let c = client(&mock, &m);

    c.get_chatters(CHANNEL, MODERATOR).as_app().await.expect("the app token, within the moderator's grant");
    assert_eq!(sent(&mock).await, HashMap::from([(app_key(&mock), 1)]));
    c.get_chatters(CHANNEL, MODERATOR).as_user(MODERATOR).await.expect("the moderator's token");
    let counts = sent(&mock).await;
    assert_eq!((counts[&app_key(&mock)], counts[&user_key(&mock, MODERATOR)]), (1, 1));
    // Another user's token, asked for by name, goes out; Twitch refuses it.
    match c.get_chatters(CHANNEL, MODERATOR).as_user(OTHER).await.unwrap_err() {
        Error::Unauthorized { message, .. } => assert!(message.contains("must match"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn holding_neither_token_is_refused_before_sending() {
    let mock = mock().await;
    // No client secret (no app token) and only another user's token.
    let m = manager(&mock, false);
    hold(&mock, &m, OTHER).await;
    m.set_default_user(OTHER);
    let c = client(&mock, &m);
    match c.get_chatters(CHANNEL, MODERATOR).await.unwrap_err() {
        Error::NoToken { user: Some(u) } => assert_eq!(u, MODERATOR),
        other => panic!("{other:?}"),
    }
    assert!(matches!(c.get_chatters(CHANNEL, MODERATOR).as_app().await, Err(Error::NoToken { user: None })));
    assert!(sent(&mock).await.is_empty(), "nothing reached the mock: {:?}", sent(&mock).await);
}

#[tokio::test]
async fn a_static_token_is_sent_as_it_is() {
    let mock = mock().await;
    // An app token alone: the mock holds the request to the moderator's grant.
    let app = mock.client_builder().app_token(mock.mint_app_token(&mock.client_id())).build().unwrap();
    assert!(matches!(app.get_chatters(CHANNEL, MODERATOR).await, Err(Error::Unauthorized { .. })));
    mock.grant_scopes(MODERATOR, &[SCOPE]);
    app.get_chatters(CHANNEL, MODERATOR).await.expect("granted now");
    // A user token alone: the moderator's own.
    let user = mock.client_builder().user_token(mock.mint_user_token(MODERATOR, "mod", &[SCOPE])).build().unwrap();
    user.get_chatters(CHANNEL, MODERATOR).await.expect("the moderator's token");
    assert!(matches!(user.get_chatters(CHANNEL, MODERATOR).as_app().await, Err(Error::NoToken { user: None })));
}
