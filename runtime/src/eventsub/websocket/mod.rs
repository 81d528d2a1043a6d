//! EventSub over WebSocket: sessions that lose nothing, and a shard pool
//! for conduits.
//!
//! A [`Session`] is one logical connection: it reads the welcome, creates
//! subscriptions through Helix with its session id, follows Twitch's
//! `session_reconnect` to a new socket without a gap, and after an abrupt
//! loss reconnects with backoff and creates its subscriptions again. It is
//! a `Stream` of [`SessionItem`]s. A [`ShardPool`] runs many such
//! connections as the shards of a conduit and merges them into one stream.

mod api;
mod conn;
mod engine;
pub mod frame;
mod pool;
mod session;
mod typed;
mod types;

pub use api::{
    BoxFuture, CreatedSubscription, EventSubApi, NewSubscription, ShardAttach, ShardError, ShardStatus, Transport,
};
pub use frame::{Frame, Message, MessageMetadata, MessageType, SessionInfo, decode_frame};
pub use pool::{ShardPool, ShardPoolBuilder};
pub use session::{Session, SessionBuilder, SessionHandle, Subscribed};
pub use typed::Events;
pub use types::{
    CloseCode, Delivered, DisconnectReason, FailedResubscribe, Lost, MAX_CONNECTIONS_PER_USER, MAX_MESSAGE_AGE,
    MAX_SUBSCRIPTIONS_PER_CONNECTION, OnTokenInvalid, Recovered, ReleaseReason, Revocation, SessionItem, ShardClaimed,
    ShardReleased, SubscriptionStatus, TokenInvalidated, UnknownMessage,
};

pub use crate::base::error::EventSubError;
pub use crate::base::meta::EVENTSUB_WS_URL;
pub use crate::base::types::Backoff;
