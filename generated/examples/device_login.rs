//! Log a user in with the device code flow (TVs, consoles, command-line
//! tools: no browser on this machine, no client secret), store the token in
//! a file and reuse it on the next run.
//!
//! ```sh
//! TWITCH_CLIENT_ID=... cargo run -p twitch --example device_login
//! ```
//! `TWITCH_AUTH_URL` points it at another identity server (a local mock);
//! `TWITCH_TOKEN_FILE` changes where tokens are kept (default `twitch-tokens.json`).

use twitch::{JsonFileStore, OAuth, TokenManager};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // TWITCH_CLIENT_ID, and TWITCH_AUTH_URL if set (no secret: a public client).
    let oauth = OAuth::from_env()?;
    let file = std::env::var("TWITCH_TOKEN_FILE").unwrap_or_else(|_| "twitch-tokens.json".into());
    let manager = TokenManager::with_store(oauth.clone(), JsonFileStore::new(&file)).await?;

    if let Some(user) = manager.default_user() {
        // A stored token: check it (refreshing it if Twitch refuses it).
        manager.validate_all().await;
        if manager.users().contains(&user) {
            println!("Reusing the stored token of user {user} from {file}.");
            return Ok(());
        }
        println!("The stored token for {user} is no longer valid; logging in again.");
    }

    let device = oauth.device_start(&["user:read:email", "chat:read"]).await?;
    println!("Open {} and enter the code {}", device.verification_uri, device.user_code);
    let token = oauth.device_poll(&device).await?;
    println!("Logged in as {} ({}); token saved to {file}.", token.login, token.user_id);
    manager.add_user(token).await?;
    Ok(())
}
