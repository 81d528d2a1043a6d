//! "Sign in with Twitch" (OpenID Connect, authorization code flow): the
//! browser is sent to Twitch, Twitch redirects to a one-shot listener on
//! 127.0.0.1, the code is exchanged for a user token and an ID token whose
//! signature, issuer, audience, expiry and nonce are checked; then
//! `userinfo` is asked for the profile.
//!
//! ```sh
//! TWITCH_CLIENT_ID=... TWITCH_CLIENT_SECRET=... cargo run -p twitch --features callback --example sign_in_with_twitch
//! ```
//! Register `http://localhost:3000/callback` as a redirect URI of the app.
//! `TWITCH_AUTH_URL` points it at another identity server (`twitch-mock`
//! at `http://127.0.0.1:8080/oauth2`, say, with any id and secret).

use std::time::Duration;

use twitch::auth::random_state;
use twitch::callback::CallbackServer;
use twitch::{OAuth, OidcClaims};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A confidential client: TWITCH_CLIENT_ID, TWITCH_CLIENT_SECRET and,
    // if set, TWITCH_AUTH_URL.
    std::env::var("TWITCH_CLIENT_SECRET").map_err(|_| "set TWITCH_CLIENT_SECRET")?;
    let oauth = OAuth::from_env()?;

    let server = CallbackServer::bind(3000, "/callback").await?;
    let redirect_uri = server.redirect_uri();
    let (state, nonce) = (random_state(), random_state());
    // The email claims need the user:read:email scope.
    let claims = OidcClaims::new().id_token("email").id_token("email_verified").userinfo("picture");
    let url = oauth.oidc_authorize_url(&redirect_uri, &["user:read:email"], &state, &nonce, &claims);
    println!("Open this page to sign in:\n{url}");

    let redirect = server.wait(Duration::from_secs(300)).await?;
    let code = OAuth::code_from_redirect(&redirect, &state)?;
    let (user, id) = oauth.exchange_code_oidc(&code, &redirect_uri, &nonce).await?;
    println!("Signed in: user {} ({}), token for {:?}", id.claims.sub, user.login, user.scopes);
    if let Some(email) = &id.claims.email {
        println!("Email: {email} (verified: {})", id.claims.email_verified.unwrap_or(false));
    }
    let info = oauth.userinfo(&user.access_token).await?;
    println!("Profile: {:?}, picture {:?}", info.preferred_username, info.picture);
    Ok(())
}
