//! EventSub: decoding notifications, verifying webhooks, WebSocket
//! sessions and conduit shard pools.

pub mod decode;
#[cfg(feature = "webhook")]
pub mod webhook;
#[cfg(feature = "websocket")]
pub mod websocket;

pub use decode::*;
