//! The bottom layer: the `twitch-base` crate (value types, secrets, serde
//! helpers, query strings, static descriptions, decoding of events), and
//! on top of it here the error type, the decoding of Helix answers and what
//! retries share. It imports nothing from the layers above.

pub use twitch_base::{check, de, duration, meta, observe, query, scope, secret};

/// The base crate's value types, and what retries share.
pub mod types {
    pub use crate::base::retry::{Backoff, BoxFuture};
    pub use twitch_base::types::*;
}

pub mod decode;
pub mod env;
pub mod error;
pub mod retry;
#[cfg(any(feature = "websocket", feature = "webhook"))]
pub mod seen;
