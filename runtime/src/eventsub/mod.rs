//! EventSub: decoding notifications, verifying webhooks, WebSocket
//! sessions and conduit shard pools.

pub mod decode;
pub mod webhook;
pub mod websocket;

pub use decode::*;
