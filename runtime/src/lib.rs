//! The handwritten runtime under the generated `twitch` crate.
//!
//! It knows no endpoint or event by name. Generated code implements
//! [`Endpoint`], [`Paginated`], [`SubscriptionType`] and [`EventPayload`];
//! this crate sends, paginates, decodes and reports errors for all of them
//! alike. Users normally depend on the `twitch` crate, which re-exports what
//! they need from here.
//!
//! The code is in four layers, each importing only from those below it:
//!
//! | folder | what |
//! | --- | --- |
//! | `eventsub/` | EventSub: decoding, webhooks, WebSocket sessions and shard pools |
//! | `identity/` | the identity service (OAuth, OpenID Connect) and the token manager |
//! | `http/` | the Helix client: TLS, rate limits, retries, pagination, the [`TokenSource`] it takes tokens from |
//! | `base/` | the `twitch-base` crate (value types, serde helpers, static descriptions, event decoding) and the error type |
//!
//! The public paths below do not follow the folders; they stay where users
//! know them.

mod base;
pub mod eventsub;
mod http;
#[cfg(feature = "oauth")]
mod identity;

/// The HTTP client crate, re-exported: its types appear in this crate's API
/// ([`ClientBuilder::http_client`], [`OAuth::http_client`],
/// [`Error::Transport`]'s source, [`tls::client_builder`]). Name them
/// through this path so the versions always match. A new reqwest major
/// version is a breaking release of this crate.
pub use reqwest;

/// The rustls this crate builds its TLS on. Its `ClientConfig` is in the
/// API with the `postgres` feature
/// ([`PostgresStore::connect_with_tls`](tokens::PostgresStore::connect_with_tls)):
/// build one through this path so the versions always match. A new rustls
/// major version is a breaking release of this crate.
#[cfg(feature = "postgres")]
pub use rustls;

// For the generated crate: one string newtype per kind of id.
#[doc(hidden)]
pub use twitch_base::__string_newtype;

pub use base::observe::Observer;
pub use base::{check, de, decode, duration, observe, query};
#[cfg(feature = "webhook")]
pub use eventsub::webhook;
#[cfg(feature = "websocket")]
pub use eventsub::websocket;
pub use http::{ratelimit, tls};
#[cfg(feature = "callback")]
pub use identity::callback;
#[cfg(feature = "oauth")]
pub use identity::tokens;

/// OAuth against Twitch's identity service, and OpenID Connect on top of it.
#[cfg(feature = "oauth")]
pub mod auth {
    pub use crate::identity::oauth::*;
    pub use crate::identity::oidc;
}

pub use base::error::{
    ApiDetails, DecodeError, Error, EventSubError, InvalidParam, OAuthError, ResponseBody, Result, SECRET_FIELDS,
};
pub use base::meta::{
    EndpointMeta, ErrorMeta, FeatureMeta, Lifecycle, Method, ParamMeta, ResponseShape, RuleKind, RuleMeta, SplitMeta,
    SubscriptionMeta, TokenKind, WireKind, WithdrawnMeta,
};
pub use base::query::{Query, ToQuery};
pub use base::retry::{Backoff, BoxFuture};
pub use base::scope::Scope;
pub use base::secret::{AccessToken, ClientSecret, RefreshToken, Secret};
pub use base::types::{ConduitId, SessionId, SubscriptionId, Timestamp, TimestampError, UserId, UserLogin};
pub use eventsub::decode::{
    EventPayload, FromEvent, Notification, RawJson, RawSubscription, SubscriptionInfo, SubscriptionTransport,
    SubscriptionType, UnknownEvent,
};
pub use http::client::{Client, ClientBuilder, PreparedRequest, RawRequest, ResponseFuture};
pub use http::credentials::{TokenEvent, TokenEvents, TokenSource};
pub use http::endpoint::{Endpoint, Lookup, Paginated, RequestOptions, prepare, send};
pub use http::pagination::{Page, Paginator};
pub use http::ratelimit::RetryPolicy;
#[cfg(feature = "oauth")]
pub use identity::oauth::{AppToken, DeviceCode, OAuth, UserToken, Validation};
#[cfg(feature = "oauth")]
pub use identity::oidc::{IdClaims, IdToken, OidcClaims, UserInfo};
#[cfg(feature = "oauth")]
pub use identity::tokens::{JsonFileStore, TokenManager, TokenStore};
