//! An application that installs its own process-wide rustls provider
//! before it creates a client and an `OAuth` works too (the library builds
//! its own configuration either way). Its own test binary.

mod support;

use support::{Response, TestServer};

#[tokio::test]
// ring's provider, as the runtime's (runtime/src/http/tls.rs says why it stays).
#[allow(deprecated)]
async fn installing_a_provider_before_building_a_client_works() {
    rustls::crypto::ring::default_provider().install_default().expect("nothing installed yet");
    let server = TestServer::start(|_| Response::json(200, r#"{"data":[]}"#)).await;
    let client = twitch::Client::builder()
        .client_id("cid")
        .app_token("t")
        .helix_url(format!("{}/helix", server.url()))
        .build()
        .unwrap();
    let oauth = twitch::OAuth::new("cid", None).auth_url(format!("{}/oauth2", server.url()));
    client.get_users().send().await.unwrap();
    let _ = oauth.validate(&twitch::AccessToken::new("t")).await;
    let mock = twitch_mock::Mock::builder().start().await.unwrap();
    drop(mock);
}
