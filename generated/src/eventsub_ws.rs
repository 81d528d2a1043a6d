//! EventSub sessions and shard pools on [`Client`]: the runtime's
//! [`EventSubApi`] implemented with the generated endpoints.

use std::sync::Arc;

use twitch_runtime::websocket::{
    BoxFuture, CreatedSubscription, EventSubApi, NewSubscription, SessionBuilder, ShardAttach, ShardError,
    ShardPoolBuilder, ShardStatus, Transport,
};

use crate::helix::conduits::{ConduitShardTransportRequest, ConduitShardUpdate, UpdateConduitShards};
use crate::helix::eventsub::EventSubTransportRequest;
use crate::shared::EventSubTransportMethod;
use crate::{Client, ConduitId, Error, Event, Result, SubscriptionId, SubscriptionInfo};

/// A WebSocket session yielding the generated [`Event`]s.
pub type Session = twitch_runtime::websocket::Session<Event>;
/// A shard pool yielding the generated [`Event`]s.
pub type ShardPool = twitch_runtime::websocket::ShardPool<Event>;
/// What a [`Session`] or [`ShardPool`] yields.
pub type SessionItem = twitch_runtime::websocket::SessionItem<Event>;

impl Client {
    /// Configure an EventSub WebSocket session (user token): subscribe with
    /// `.subscribe(..)`, then `.connect().await`.
    ///
    /// ```no_run
    /// # async fn demo(client: twitch::Client) -> twitch::Result<()> {
    /// use twitch::eventsub::channel::ChannelChatMessageV1;
    /// use twitch::websocket::SessionItem;
    ///
    /// let mut session = client
    ///     .eventsub_websocket()
    ///     .subscribe(ChannelChatMessageV1::new("1234", "5678"))
    ///     .connect()
    ///     .await?;
    /// while let Some(item) = session.next().await {
    ///     if let SessionItem::Notification(n) = item {
    ///         println!("{:?}", n.event);
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn eventsub_websocket(&self) -> SessionBuilder<Event> {
        let mut b = SessionBuilder::new(Arc::new(self.clone()), self.client_id(), self.eventsub_ws_url());
        if let Some(user) = self.token_source().and_then(|m| m.default_user()) {
            b = b.as_user(user);
        }
        if let Some(o) = self.observer() {
            b = b.observe(o.clone());
        }
        b
    }

    /// Configure a pool of WebSocket shards for a conduit (app token).
    pub fn shard_pool(&self, conduit_id: impl Into<ConduitId>) -> ShardPoolBuilder<Event> {
        let pool = ShardPoolBuilder::new(Arc::new(self.clone()), conduit_id, self.eventsub_ws_url());
        match self.observer() {
            Some(o) => pool.observe(o.clone()),
            None => pool,
        }
    }
}

/// A Helix subscription object as the runtime's `SubscriptionInfo`.
fn info_of(value: serde_json::Value) -> Result<SubscriptionInfo> {
    serde_json::from_value(value.clone()).map_err(|e| Error::Decode {
        endpoint: "create-eventsub-subscription".into(),
        path: "data[0]".into(),
        message: e.to_string(),
        body: value.to_string().as_str().into(),
    })
}

fn transport(t: Transport) -> Result<EventSubTransportRequest> {
    let mut req = EventSubTransportRequest::new(match &t {
        Transport::WebSocket { .. } => EventSubTransportMethod::Websocket,
        Transport::Conduit { .. } => EventSubTransportMethod::Conduit,
        _ => return Err(Error::Config(format!("unsupported EventSub transport {t:?}"))),
    });
    match t {
        Transport::WebSocket { session_id } => req.session_id = Some(session_id),
        Transport::Conduit { conduit_id } => req.conduit_id = Some(conduit_id),
        _ => {}
    }
    Ok(req)
}

impl EventSubApi for Client {
    fn create_subscription(&self, new: NewSubscription) -> BoxFuture<'_, Result<CreatedSubscription>> {
        Box::pin(async move {
            let t = transport(new.transport)?;
            let (ty, version) = (&new.subscription_type, &new.version);
            let made = crate::subscribe::create(self, ty, version, new.condition, new.batched, t, new.as_user).await?;
            let info = info_of(serde_json::to_value(&made.subscription).unwrap_or_default())?;
            Ok(CreatedSubscription::new(info, made.total, made.total_cost, made.max_total_cost))
        })
    }

    fn delete_subscription(&self, id: SubscriptionId, as_user: Option<crate::UserId>) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let mut req = self.delete_eventsub_subscription(id);
            if let Some(u) = as_user {
                req = req.as_user(u);
            }
            req.send().await
        })
    }

    fn update_conduit_shards(
        &self,
        conduit_id: ConduitId,
        shards: Vec<ShardAttach>,
    ) -> BoxFuture<'_, Result<Vec<ShardError>>> {
        Box::pin(async move {
            // Twitch takes so many shards per request (the schema's split):
            // each part is its own request, so a failed one fails only its
            // own shards, each reported.
            let per_request = UpdateConduitShards::META.split.map_or(usize::MAX, |s| s.max as usize);
            let mut refused = Vec::new();
            for part in shards.chunks(per_request.max(1)) {
                let updates = part.iter().map(|s| {
                    let mut t = ConduitShardTransportRequest::new(EventSubTransportMethod::Websocket);
                    t.session_id = Some(s.session_id.clone());
                    ConduitShardUpdate::new(s.shard_id.to_string(), t)
                });
                match self.update_conduit_shards(conduit_id.clone(), updates).send().await {
                    Ok(resp) => {
                        refused.extend(resp.errors.into_iter().map(|e| ShardError::new(e.id, e.message, e.code)))
                    }
                    // One request for every shard: as before the split, the whole call fails.
                    Err(e) if part.len() == shards.len() => return Err(e),
                    Err(e) => {
                        let message = e.to_string();
                        refused
                            .extend(part.iter().map(|s| ShardError::new(s.shard_id.to_string(), message.clone(), "")));
                    }
                }
            }
            Ok(refused)
        })
    }

    fn update_conduit(&self, conduit_id: ConduitId, shard_count: u32) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            // Twitch allows at most 20,000 shards; the pool counts in u32.
            let count = u16::try_from(shard_count).map_err(|_| Error::InvalidRequest {
                endpoint: "update-conduits".into(),
                source: twitch_runtime::InvalidParam {
                    param: "shard_count".into(),
                    message: format!("{shard_count} is outside 0..=20000"),
                },
            })?;
            self.update_conduits(conduit_id, count).send().await.map(|_| ())
        })
    }

    fn subscriptions(
        &self,
        subscription_type: String,
        as_user: Option<crate::UserId>,
    ) -> BoxFuture<'_, Result<Vec<SubscriptionInfo>>> {
        Box::pin(async move {
            let mut req = self.get_eventsub_subscriptions().subscription_type(subscription_type);
            if let Some(u) = as_user {
                req = req.as_user(u);
            }
            let all = req.paginate().collect_all(usize::MAX).await?;
            all.into_iter().map(|s| info_of(serde_json::to_value(&s).unwrap_or_default())).collect()
        })
    }

    fn conduit_shards(&self, conduit_id: ConduitId) -> BoxFuture<'_, Result<Vec<ShardStatus>>> {
        Box::pin(async move {
            let all = self.get_conduit_shards(conduit_id).paginate().collect_all(usize::MAX).await?;
            Ok(all
                .into_iter()
                .map(|s| ShardStatus::new(s.id.into_string(), s.status.as_str(), s.transport.session_id))
                .collect())
        })
    }

    fn conflict_id(&self, error: &Error) -> Option<SubscriptionId> {
        crate::subscribe::conflict_id(error)
    }

    fn subscription(
        &self,
        id: SubscriptionId,
        as_user: Option<crate::UserId>,
    ) -> BoxFuture<'_, Result<Option<SubscriptionInfo>>> {
        Box::pin(async move {
            let mut req = self.get_eventsub_subscriptions().subscription_id(id);
            if let Some(u) = as_user {
                req = req.as_user(u);
            }
            match req.send().await?.data.into_iter().next() {
                Some(s) => info_of(serde_json::to_value(&s).unwrap_or_default()).map(Some),
                None => Ok(None),
            }
        })
    }

    fn token_events(&self) -> Option<crate::TokenEvents> {
        self.token_source().and_then(|s| s.events())
    }
}
