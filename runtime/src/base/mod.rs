//! The bottom layer: value types, secrets, the error type, serde helpers,
//! query strings, static descriptions of endpoints and subscription types.
//! It imports nothing from the layers above.

pub mod check;
pub mod de;
pub mod decode;
pub mod duration;
pub mod env;
pub mod error;
pub mod meta;
pub mod observe;
pub mod query;
// Written by the generator from schema/scopes.yaml (`twitch-codegen sync`).
#[rustfmt::skip]
pub mod scope;
pub mod secret;
#[cfg(any(feature = "websocket", feature = "webhook"))]
pub mod seen;
pub mod types;
