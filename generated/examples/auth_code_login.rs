//! Log a user in with the authorization code flow (desktop and server apps
//! with a client secret): the browser is sent to Twitch, Twitch redirects to
//! a one-shot listener on 127.0.0.1, the code is exchanged. The token is
//! stored in a file and reused on the next run.
//!
//! ```sh
//! TWITCH_CLIENT_ID=... TWITCH_CLIENT_SECRET=... cargo run -p twitch --features callback --example auth_code_login
//! ```
//! Register `http://localhost:3000/callback` as a redirect URI of the app.
//! `TWITCH_AUTH_URL` points it at another identity server (a local mock).

use std::time::Duration;

use twitch::callback::{CallbackServer, login};
use twitch::{JsonFileStore, OAuth, TokenManager};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A confidential client: TWITCH_CLIENT_ID, TWITCH_CLIENT_SECRET and,
    // if set, TWITCH_AUTH_URL.
    std::env::var("TWITCH_CLIENT_SECRET").map_err(|_| "set TWITCH_CLIENT_SECRET")?;
    let oauth = OAuth::from_env()?;
    let file = std::env::var("TWITCH_TOKEN_FILE").unwrap_or_else(|_| "twitch-tokens.json".into());
    let manager = TokenManager::with_store(oauth.clone(), JsonFileStore::new(&file)).await?;

    if let Some(user) = manager.default_user() {
        manager.validate_all().await;
        if manager.users().contains(&user) {
            println!("Reusing the stored token of user {user} from {file}.");
            return Ok(());
        }
    }

    let server = CallbackServer::bind(3000, "/callback").await?;
    let token = login(&oauth, server, &["user:read:email"], Duration::from_secs(300), |url| {
        println!("Open this page to sign in:\n{url}");
    })
    .await?;
    println!("Logged in as {} ({}); token saved to {file}.", token.login, token.user_id);
    manager.add_user(token).await?;
    Ok(())
}
