//! The identity service (`id.twitch.tv/oauth2`): every OAuth flow, OpenID
//! Connect, the redirect catcher, and the token manager that keeps tokens
//! fresh for the HTTP client (through its [`TokenSource`](crate::http::credentials::TokenSource)).

#[cfg(feature = "callback")]
pub mod callback;
mod jwks;
pub mod oauth;
pub mod oidc;
mod store;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod stores;
pub mod tokens;
