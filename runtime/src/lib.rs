//! The handwritten runtime under the generated `twitch` crate.
//!
//! It knows no endpoint or event by name. Generated code implements
//! [`Endpoint`], [`Paginated`], [`SubscriptionType`] and [`EventPayload`];
//! this crate sends, paginates, decodes and reports errors for all of them
//! alike. Users normally depend on the `twitch` crate, which re-exports what
//! they need from here.

pub mod auth;
#[cfg(feature = "callback")]
pub mod callback;
pub mod check;
mod client;
pub mod de;
pub mod decode;
mod endpoint;
mod error;
pub mod eventsub;
mod meta;
mod pagination;
pub mod query;
pub mod ratelimit;
mod secret;
pub mod tls;
pub mod tokens;
mod types;
pub mod webhook;
pub mod websocket;

/// The HTTP client crate, re-exported: its types appear in this crate's API
/// ([`ClientBuilder::http_client`], [`OAuth::http_client`],
/// [`Error::Transport`]'s source, [`tls::client_builder`]). Name them
/// through this path so the versions always match. A new reqwest major
/// version is a breaking release of this crate.
pub use reqwest;

pub use auth::oidc::{IdClaims, IdToken, OidcClaims, UserInfo};
pub use auth::{AppToken, DeviceCode, OAuth, OAuthError, UserToken, Validation};
pub use client::{Client, ClientBuilder, PreparedRequest, RawRequest, ResponseFuture, prepare, send};
pub use endpoint::{Endpoint, Paginated, RequestOptions};
pub use error::{Error, InvalidParam, ResponseBody, Result, SECRET_FIELDS};
pub use eventsub::{
    EventPayload, Notification, RawJson, RawSubscription, SubscriptionInfo, SubscriptionTransport, SubscriptionType,
    UnknownEvent,
};
pub use meta::{EndpointMeta, Method, ParamMeta, ResponseShape, RuleKind, RuleMeta, SubscriptionMeta, TokenKind};
pub use pagination::{Page, Paginator};
pub use query::{Query, ToQuery};
pub use ratelimit::RetryPolicy;
pub use secret::{AccessToken, ClientSecret, RefreshToken, Secret};
pub use tokens::{JsonFileStore, TokenEvent, TokenManager, TokenStore};
pub use types::{Backoff, BoxFuture, Timestamp, TimestampError, UserId, UserLogin};
