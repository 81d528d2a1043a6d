//! What sessions and shard pools need from Helix, as a trait: the runtime
//! names no endpoint, the generated crate implements it with its typed
//! endpoints, and tests implement it by hand.

use crate::base::error::Result;
pub use crate::base::types::BoxFuture;
use crate::base::types::{ConduitId, SessionId, SubscriptionId, UserId};
use crate::eventsub::decode::SubscriptionInfo;

/// Where Twitch delivers a subscription's notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// A WebSocket session.
    WebSocket {
        /// From the session's welcome message.
        session_id: SessionId,
    },
    /// A conduit.
    Conduit {
        /// The conduit's id.
        conduit_id: ConduitId,
    },
}

/// A subscription to create.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NewSubscription {
    /// e.g. `channel.chat.message`
    pub subscription_type: String,
    /// e.g. `1`
    pub version: String,
    /// The type's condition.
    pub condition: serde_json::Value,
    /// Where notifications go.
    pub transport: Transport,
    /// Create it with this user's token (WebSocket subscriptions need one).
    pub as_user: Option<UserId>,
    /// The type delivers `events` in batches and must be created with
    /// `is_batching_enabled`.
    pub batched: bool,
}

/// What creating a subscription returned.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CreatedSubscription {
    /// The subscription.
    pub subscription: SubscriptionInfo,
    /// The client's subscription count.
    pub total: i64,
    /// Sum of the costs of the client's subscriptions.
    pub total_cost: i64,
    /// Limit on that sum.
    pub max_total_cost: i64,
}

impl CreatedSubscription {
    /// Bundle a create response.
    pub fn new(subscription: SubscriptionInfo, total: i64, total_cost: i64, max_total_cost: i64) -> Self {
        Self { subscription, total, total_cost, max_total_cost }
    }
}

/// One shard to point at a WebSocket session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardAttach {
    /// Shard id within the conduit.
    pub shard_id: u32,
    /// The session that should receive the shard's notifications.
    pub session_id: SessionId,
}

/// A shard Twitch refused to update (the 202 answer's `errors`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShardError {
    /// Shard id.
    pub shard_id: String,
    /// Twitch's message.
    pub message: String,
    /// Twitch's code.
    pub code: String,
}

impl ShardError {
    /// One refused shard.
    pub fn new(shard_id: impl Into<String>, message: impl Into<String>, code: impl Into<String>) -> Self {
        Self { shard_id: shard_id.into(), message: message.into(), code: code.into() }
    }
}

/// A conduit shard as Get Conduit Shards reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShardStatus {
    /// Shard id.
    pub shard_id: String,
    /// `enabled`, `websocket_disconnected`, ...
    pub status: String,
    /// The WebSocket session it delivers to, if any.
    pub session_id: Option<SessionId>,
}

impl ShardStatus {
    /// One shard's status.
    pub fn new(shard_id: impl Into<String>, status: impl Into<String>, session_id: Option<SessionId>) -> Self {
        Self { shard_id: shard_id.into(), status: status.into(), session_id }
    }
}

/// The Helix calls EventSub sessions and shard pools make.
pub trait EventSubApi: Send + Sync + 'static {
    /// Create EventSub Subscription.
    fn create_subscription(&self, new: NewSubscription) -> BoxFuture<'_, Result<CreatedSubscription>>;

    /// Delete EventSub Subscription.
    fn delete_subscription(&self, id: SubscriptionId, as_user: Option<UserId>) -> BoxFuture<'_, Result<()>>;

    /// Update Conduit Shards: point shards at sessions, in one call.
    /// Returns the shards Twitch refused.
    fn update_conduit_shards(
        &self,
        conduit_id: ConduitId,
        shards: Vec<ShardAttach>,
    ) -> BoxFuture<'_, Result<Vec<ShardError>>>;

    /// Update Conduits: change the shard count.
    fn update_conduit(&self, conduit_id: ConduitId, shard_count: u32) -> BoxFuture<'_, Result<()>>;

    /// Get EventSub Subscriptions of one type, every page, with this user's
    /// token (the app token for `None`): to find out what a 409 "already
    /// exists" refers to.
    fn subscriptions(
        &self,
        subscription_type: String,
        as_user: Option<UserId>,
    ) -> BoxFuture<'_, Result<Vec<SubscriptionInfo>>>;

    /// The id of the subscription a 409 of [`EventSubApi::create_subscription`]
    /// says exists, where the error names it (Twitch's answers do since
    /// 2026-04-17). `None` (the default) makes sessions look for it with
    /// [`EventSubApi::subscriptions`].
    fn conflict_id(&self, error: &crate::base::error::Error) -> Option<SubscriptionId> {
        let _ = error;
        None
    }

    /// Get EventSub Subscriptions of one id, with this user's token: the
    /// subscription, if the client owns it. `None` (also the default, for
    /// an implementation that cannot look one up) makes sessions fall back
    /// to [`EventSubApi::subscriptions`].
    fn subscription(
        &self,
        id: SubscriptionId,
        as_user: Option<UserId>,
    ) -> BoxFuture<'_, Result<Option<SubscriptionInfo>>> {
        let _ = (id, as_user);
        Box::pin(async { Ok(None) })
    }

    /// Get Conduit Shards, every page: the pool's health check.
    fn conduit_shards(&self, conduit_id: ConduitId) -> BoxFuture<'_, Result<Vec<ShardStatus>>>;

    /// Events of the token manager holding the tokens these calls use, so
    /// sessions and pools learn when their token is refused for good.
    fn token_events(&self) -> Option<crate::http::credentials::TokenEvents> {
        None
    }
}
