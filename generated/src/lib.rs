//! Typed bindings to Twitch's Helix API and EventSub, generated from the
//! YAML schema in this repository.
//!
//! ```no_run
//! # async fn demo() -> twitch::Result<()> {
//! let client = twitch::Client::builder()
//!     .client_id("my-client-id")
//!     .app_token("my-app-token")
//!     .build()?;
//!
//! let users = client.get_users().login("twitchdev").send().await?;
//!
//! let mut live = client.get_streams().game_id("509658").first(100).paginate();
//! while let Some(stream) = live.try_next().await? {
//!     println!("{} is live with {} viewers", stream.user_name, stream.viewer_count);
//! }
//! # let _ = users;
//! # Ok(())
//! # }
//! ```
//!
//! Every endpoint is a method on [`Client`] returning a request builder:
//! required parameters are arguments, optional ones are setters, documented
//! limits are checked before anything is sent. `.send().await` (or just
//! `.await`) runs it; paginated endpoints also have `.paginate()`.
//! `Client::raw` reaches any path the schema lacks, with the same
//! credentials and errors.
//!
//! # Other crates' types in this API
//!
//! - [`reqwest`] (the HTTP client): a `reqwest::Client` can be handed in,
//!   and [`Error::Transport`] carries a `reqwest::Error`. Name them through
//!   the re-export, `twitch::reqwest`, so the versions always match; a new
//!   reqwest major version is a breaking release of this crate.
//! - `rustls` (with the `postgres` feature): a `rustls::ClientConfig` of
//!   your own can be handed to `tokens::PostgresStore::connect_with_tls`
//!   (a private certificate authority, client certificates). Build it
//!   through `twitch::rustls`; a new rustls major version is a breaking
//!   release of this crate.
//! - `serde_json::Value` (raw JSON), `tokio` (the runtime: token events are
//!   a `tokio::sync::broadcast` receiver, tasks are `JoinHandle`s) and, with
//!   the `axum` feature, `axum::Router`: stable major versions this crate
//!   moves with.
//!
//! ```
//! // Set up without a `reqwest` dependency of your own.
//! let http: twitch::reqwest::Client = twitch::tls::client_builder()?.build()?;
//! let client = twitch::Client::builder().client_id("id").app_token("t").http_client(http).build()?;
//! fn is_timeout(e: &twitch::Error) -> bool {
//!     matches!(e, twitch::Error::Transport { source, .. } if source.is_timeout())
//! }
//! # let _ = (client, is_timeout);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(
    twitch_guide,
    doc = "\n# The guide\n\n[`guide`] explains the crate topic by topic: getting started, authentication, \
           Helix, EventSub, chat bots, testing with `twitch-mock`, keeping up with Twitch, features and \
           build time, and moving from `twitch_api`. Its examples are compiled and run by `cargo test`."
)]
#![deny(missing_docs)]
// What Twitch deprecated carries `#[deprecated]`, so users are warned where
// they name it; the generated code's own uses (serde, builders, `META`) are not.
#![allow(deprecated)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Written by `cargo run -p twitch-codegen -- sync` from schema/.
include!("generated/lib.rs");

#[doc(hidden)]
pub use twitch_runtime as __rt;

// The guide is documentation only: it compiles to nothing. Its examples
// use every part of the crate, so it is there when all of them are
// (`twitch_guide`, set by build.rs; as on docs.rs, and in the workspace's
// `cargo test`).
#[cfg(all(any(doc, doctest), twitch_guide))]
pub mod guide;

/// Twitch's example payloads in [`meta`]'s descriptions: with the
/// `examples` feature (the mock and the tests use them), `None` and empty
/// otherwise, so they are not compiled into every program. The models'
/// macro, which the feature turns on there too.
#[doc(hidden)]
pub use twitch_models::__example;
#[cfg(feature = "examples")]
#[doc(hidden)]
#[macro_export]
macro_rules! __example_requests {
    ($($e:expr),*) => {
        &[$($e),*]
    };
}
#[cfg(not(feature = "examples"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __example_requests {
    ($($e:expr),*) => {
        &[]
    };
}

#[cfg(feature = "helix-eventsub")]
mod subscribe;
#[cfg(feature = "helix-eventsub")]
pub use subscribe::{AnySubscription, Created, Subscribe, SubscribeAll, SubscribeAllRequest, Subscribed, Transport};

#[cfg(feature = "websocket")]
mod eventsub_ws;
#[cfg(feature = "websocket")]
pub use eventsub_ws::{Session, SessionItem, ShardPool};

/// EventSub over WebSocket: sessions, shard pools, their items and errors.
#[cfg(feature = "websocket")]
pub mod websocket {
    pub use twitch_runtime::websocket::*;
}

#[cfg(feature = "callback")]
pub use twitch_runtime::callback;
#[cfg(feature = "postgres")]
pub use twitch_runtime::rustls;
#[cfg(feature = "webhook")]
pub use twitch_runtime::webhook;
#[cfg(feature = "oauth")]
pub use twitch_runtime::{auth, tokens};
pub use twitch_runtime::{observe, reqwest, tls};

#[cfg(twitch_eventsub)]
pub use eventsub::Event;
/// Taking one subscription type's event out of an [`Event`]: the bound of
/// `Event::downcast`, `Session::events` and code generic over event types.
pub use twitch_runtime::FromEvent;
pub use twitch_runtime::{
    AccessToken, ApiDetails, Backoff, BoxFuture, ClientSecret, DecodeError, EndpointMeta, Error, ErrorMeta,
    EventSubError, FeatureMeta, InvalidParam, Lifecycle, Method, Notification, OAuthError, Observer, Page, Paginator,
    ParamMeta, PreparedRequest, RawJson, RawRequest, RawSubscription, RefreshToken, RequestOptions, ResponseBody,
    ResponseFuture, ResponseShape, Result, RetryPolicy, RuleKind, RuleMeta, Scope, Secret, SplitMeta, SubscriptionInfo,
    SubscriptionMeta, SubscriptionTransport, SubscriptionType, Timestamp, TimestampError, TokenEvent, TokenEvents,
    TokenKind, TokenSource, UnknownEvent, UserId, UserLogin, WireKind, WithdrawnMeta,
};
#[cfg(feature = "oauth")]
pub use twitch_runtime::{
    AppToken, DeviceCode, IdClaims, IdToken, JsonFileStore, OAuth, OidcClaims, TokenManager, TokenStore, UserInfo,
    UserToken, Validation,
};

/// Builds a [`Client`]: client id, token, base URLs, timeouts.
pub type ClientBuilder = twitch_runtime::ClientBuilder<Client>;

/// A Twitch API client. Every Helix endpoint is a method on it.
///
/// Cheap to clone; clones share one connection pool.
#[derive(Clone, Debug)]
pub struct Client {
    inner: twitch_runtime::Client,
}

impl Client {
    /// Start building a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }
}

impl From<twitch_runtime::Client> for Client {
    fn from(inner: twitch_runtime::Client) -> Self {
        Self { inner }
    }
}

impl std::ops::Deref for Client {
    type Target = twitch_runtime::Client;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

#[cfg(twitch_eventsub)]
/// Decode an EventSub notification payload (`{"subscription", "event"}`)
/// into the typed [`Event`].
#[inline]
pub fn decode_notification(payload: &str) -> Result<Notification<Event>> {
    Notification::decode(payload)
}

#[cfg(twitch_eventsub)]
/// Decode an EventSub notification payload whose subscription type and
/// version are known (a webhook's `Twitch-Eventsub-Subscription-Type` and
/// `-Version` headers) into the typed [`Event`]; see
/// [`Notification::decode_as`].
#[inline]
pub fn decode_notification_as(subscription_type: &str, version: &str, payload: &str) -> Result<Notification<Event>> {
    Notification::decode_as(subscription_type, version, payload)
}
