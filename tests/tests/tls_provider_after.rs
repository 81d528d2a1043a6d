//! The library installs no process-wide rustls `CryptoProvider`: an
//! application that installs its own after creating a client and an
//! `OAuth` (a common first line of `main`) does not panic. Its own test
//! binary, so no other test touches the process-wide default first.

mod support;

use support::{Response, TestServer};

#[tokio::test]
// ring's provider, as the runtime's (runtime/src/http/tls.rs says why it stays).
#[allow(deprecated)]
async fn installing_a_provider_after_building_a_client_works() {
    let server = TestServer::start(|_| Response::json(200, r#"{"data":[]}"#)).await;
    let client = twitch::Client::builder()
        .client_id("cid")
        .app_token("t")
        .helix_url(format!("{}/helix", server.url()))
        .build()
        .unwrap();
    let oauth = twitch::OAuth::new("cid", None).auth_url(format!("{}/oauth2", server.url()));
    assert!(rustls::crypto::CryptoProvider::get_default().is_none(), "the library installed a provider");
    rustls::crypto::ring::default_provider().install_default().expect("the process-wide default was still free");
    client.get_users().send().await.unwrap();
    let _ = oauth.validate(&twitch::AccessToken::new("t")).await;
    // A WebSocket session's TLS setup does not need it either.
    assert!(twitch::Client::builder().client_id("cid").app_token("t").build().is_ok());
}
