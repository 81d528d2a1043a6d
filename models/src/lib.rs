//! The types of Twitch's Helix and EventSub APIs, generated from the YAML
//! schema in this repository: what the `twitch` crate's endpoints take and
//! answer, its subscription types and the `Event` enum.
//!
//! Depend on the `twitch` crate, which re-exports every module here in
//! place and adds the endpoints (`twitch::helix::chat` holds both the
//! types and the request builders). This crate needs only `twitch-base`,
//! not the HTTP client, TLS or WebSocket, so it compiles beside
//! `twitch-runtime` instead of after it. Its features are the `twitch`
//! crate's, which turns them on.
#![deny(missing_docs)]
// What Twitch deprecated carries `#[deprecated]`, so users are warned where
// they name it; the generated code's own uses (serde, `META`) are not.
#![allow(deprecated)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Written by `cargo run -p twitch-codegen -- sync` from schema/.
include!("generated/lib.rs");

#[doc(hidden)]
pub use twitch_base as __rt;

// What the generated code names at the crate's root.
#[doc(hidden)]
pub use twitch_base::{Lifecycle, Secret, SubscriptionMeta, Timestamp, UnknownEvent, UserId, UserLogin};

/// Twitch's example payloads in the subscription types' descriptions: with
/// the `examples` feature, `None` otherwise.
#[cfg(feature = "examples")]
#[doc(hidden)]
#[macro_export]
macro_rules! __example {
    ($e:expr) => {
        Some($e)
    };
}
#[cfg(not(feature = "examples"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __example {
    ($e:expr) => {
        None
    };
}
