//! The bottom of the Twitch bindings: value types (ids, [`Timestamp`],
//! secrets, [`Scope`]), serde helpers, query strings, parameter checks,
//! static descriptions of endpoints and subscription types, decoding with
//! the path of what failed, and the traits generated subscription types and
//! the `Event` enum implement.
//!
//! It has no HTTP client, TLS or WebSocket, so the generated models
//! (`twitch-models`) build on it alone, beside `twitch-runtime` rather than
//! after it. Users depend on the `twitch` crate, which re-exports what they
//! need from here under the same names.

pub mod check;
pub mod de;
pub mod decode;
pub mod duration;
pub mod error;
pub mod event;
pub mod meta;
pub mod observe;
pub mod query;
// Written by the generator from schema/scopes.yaml (`twitch-codegen sync`).
#[rustfmt::skip]
pub mod scope;
pub mod secret;
pub mod types;

// For `__string_newtype!` in the generated crates.
#[doc(hidden)]
pub use serde as __serde;
#[doc(hidden)]
pub use smol_str::SmolStr as __SmolStr;

pub use error::{DecodeError, InvalidParam, ResponseBody, SECRET_FIELDS};
pub use event::{EventPayload, FromEvent, SubscriptionType, UnknownEvent};
pub use meta::{
    EndpointMeta, ErrorMeta, FeatureMeta, Lifecycle, Method, ParamMeta, ResponseShape, RuleKind, RuleMeta, SplitMeta,
    SubscriptionMeta, TokenKind, WireKind, WithdrawnMeta,
};
pub use observe::Observer;
pub use query::{Query, ToQuery};
pub use scope::Scope;
pub use secret::{AccessToken, ClientSecret, RefreshToken, Secret};
pub use types::{ConduitId, SessionId, SubscriptionId, Timestamp, TimestampError, UserId, UserLogin};
