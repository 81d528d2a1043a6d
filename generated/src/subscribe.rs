//! Typed EventSub subscriptions on every transport: `client.subscribe(..)`
//! for one, `client.subscribe_all(..)` for many at once. Built on the
//! generated Create EventSub Subscription endpoint, which stays the escape
//! hatch for anything these do not cover.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use futures_util::StreamExt;

use crate::helix::eventsub::{CreateEventSubSubscriptionConflict, EventSubSubscription, EventSubTransportRequest};
use crate::ids::{ConduitId, SessionId, SubscriptionId};
use crate::shared::EventSubTransportMethod;
use crate::{Client, Error, Result, Secret, SubscriptionType, UserId};

/// Where Twitch delivers a subscription's events.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// Posted to an HTTPS callback, signed with the secret (app token).
    Webhook {
        /// The callback URL (HTTPS, port 443).
        callback: String,
        /// The secret Twitch signs each message with (10 to 100 ASCII characters).
        secret: Secret,
    },
    /// Sent on an EventSub WebSocket session (user token).
    WebSocket {
        /// The session's id, from its welcome message.
        session_id: SessionId,
    },
    /// Sent to a conduit's shards (app token).
    Conduit {
        /// The conduit's id.
        conduit_id: ConduitId,
    },
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Webhook { callback, secret } => {
                f.debug_struct("Webhook").field("callback", callback).field("secret", secret).finish()
            }
            Self::WebSocket { session_id } => f.debug_struct("WebSocket").field("session_id", session_id).finish(),
            Self::Conduit { conduit_id } => f.debug_struct("Conduit").field("conduit_id", conduit_id).finish(),
        }
    }
}

impl Transport {
    /// Does a subscription Twitch lists deliver here?
    fn matches(&self, t: &crate::helix::eventsub::EventSubTransport) -> bool {
        match self {
            Self::Webhook { callback, .. } => t.callback.as_deref() == Some(callback.as_str()),
            Self::WebSocket { session_id } => t.session_id.as_ref() == Some(session_id),
            Self::Conduit { conduit_id } => t.conduit_id.as_ref() == Some(conduit_id),
        }
    }

    /// A webhook: Twitch posts to `callback`, signing with `secret`.
    pub fn webhook(callback: impl Into<String>, secret: impl Into<Secret>) -> Self {
        Self::Webhook { callback: callback.into(), secret: secret.into() }
    }

    /// A WebSocket session (its id from the welcome message).
    pub fn websocket(session_id: impl Into<SessionId>) -> Self {
        Self::WebSocket { session_id: session_id.into() }
    }

    /// A conduit.
    pub fn conduit(conduit_id: impl Into<ConduitId>) -> Self {
        Self::Conduit { conduit_id: conduit_id.into() }
    }

    fn request(&self) -> EventSubTransportRequest {
        let (method, callback, secret, session_id, conduit_id) = match self {
            Self::Webhook { callback, secret } => {
                (EventSubTransportMethod::Webhook, Some(callback.clone()), Some(secret.clone()), None, None)
            }
            Self::WebSocket { session_id } => {
                (EventSubTransportMethod::Websocket, None, None, Some(session_id.clone()), None)
            }
            Self::Conduit { conduit_id } => {
                (EventSubTransportMethod::Conduit, None, None, None, Some(conduit_id.clone()))
            }
        };
        let mut t = EventSubTransportRequest::new(method);
        t.callback = callback;
        t.secret = secret;
        t.session_id = session_id;
        t.conduit_id = conduit_id;
        t
    }
}

/// A subscription Twitch created.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Subscribed<S> {
    /// What Twitch answered: id, status (webhooks start as
    /// `webhook_callback_verification_pending`), cost, creation time, transport.
    pub subscription: EventSubSubscription,
    /// The typed condition it was created with.
    pub condition: S,
    /// How many subscriptions the client now has.
    pub total: i64,
    /// The sum of their costs.
    pub total_cost: i64,
    /// The limit on that sum.
    pub max_total_cost: i64,
}

/// `client.subscribe(sub, transport)`: a request; `.await` sends it.
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until it is awaited"]
pub struct Subscribe<S> {
    client: Client,
    sub: S,
    transport: Transport,
    as_user: Option<UserId>,
}

impl<S> Subscribe<S> {
    /// Create it with this user's token (held by the client's token
    /// manager); WebSocket subscriptions need the session's user.
    pub fn as_user(mut self, user: impl Into<UserId>) -> Self {
        self.as_user = Some(user.into());
        self
    }
}

impl<S: SubscriptionType + 'static> IntoFuture for Subscribe<S> {
    type Output = Result<Subscribed<S>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            // A 409 comes back as the error; `conflict_id` reads the id of the one that exists.
            let any = AnySubscription::of(&self.sub);
            let created = any.create(&self.client, &self.transport, self.as_user).await?;
            Ok(Subscribed {
                subscription: created.subscription,
                condition: self.sub,
                total: created.total,
                total_cost: created.total_cost,
                max_total_cost: created.max_total_cost,
            })
        })
    }
}

/// A subscription of any type, for [`Client::subscribe_all`]: made from
/// any typed one with `.into()`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AnySubscription {
    /// e.g. `channel.follow`
    pub subscription_type: &'static str,
    /// e.g. `2`
    pub version: &'static str,
    /// The condition as JSON.
    pub condition: serde_json::Value,
    /// Notifications come batched (`events: [...]`).
    pub batched: bool,
}

impl<S: SubscriptionType> From<S> for AnySubscription {
    fn from(sub: S) -> Self {
        Self::of(&sub)
    }
}

impl AnySubscription {
    fn of<S: SubscriptionType>(sub: &S) -> Self {
        Self {
            subscription_type: S::TYPE,
            version: S::VERSION,
            condition: sub.condition(),
            batched: sub.meta().batched,
        }
    }

    async fn create(&self, client: &Client, transport: &Transport, as_user: Option<UserId>) -> Result<Created> {
        let (ty, version, batched) = (self.subscription_type, self.version, self.batched);
        check_transport(ty, version, transport)?;
        create(client, ty, version, self.condition.clone(), batched, transport.request(), as_user).await
    }

    /// The subscription like this one that exists, after a 409: the id
    /// Twitch's answer names, or, when it names none, the one Get EventSub
    /// Subscriptions lists with the same type, version, condition and
    /// transport.
    async fn existing(
        &self,
        client: &Client,
        transport: &Transport,
        as_user: Option<UserId>,
        conflict: &Error,
    ) -> Option<SubscriptionId> {
        if let Some(id) = conflict_id(conflict) {
            return Some(id);
        }
        let mut req = client.get_eventsub_subscriptions().subscription_type(self.subscription_type);
        if let Some(u) = as_user {
            req = req.as_user(u);
        }
        // A failed lookup leaves the id unknown (`None`); the 409 still says it exists.
        let listed = req.paginate().collect_all(usize::MAX).await.ok()?;
        listed
            .into_iter()
            .find(|s| {
                s.version == self.version
                    && serde_json::to_value(&s.condition).ok().as_ref() == Some(&self.condition)
                    && transport.matches(&s.transport)
            })
            .map(|s| s.id)
    }
}

/// The id of the subscription a 409 of Create EventSub Subscription says
/// exists: the body's `id` (Twitch's changelog of 2026-04-17), or the
/// `id=` Twitch has also been seen to put in the message.
pub(crate) fn conflict_id(error: &Error) -> Option<SubscriptionId> {
    if let Some(id) = CreateEventSubSubscriptionConflict::from_error(error).and_then(|c| c.id) {
        return Some(id);
    }
    match error {
        Error::Api { endpoint, status: 409, message, .. } if endpoint == "create-eventsub-subscription" => {
            let (_, rest) = message.split_once("id=")?;
            let id: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
            (!id.is_empty()).then(|| SubscriptionId::from(id.as_str()))
        }
        _ => None,
    }
}

/// A transport the type does not take is refused before sending (a
/// webhook-only type on a WebSocket session, say).
fn check_transport(subscription_type: &str, version: &str, transport: &Transport) -> Result<()> {
    let method = match transport {
        Transport::Webhook { .. } => "webhook",
        Transport::WebSocket { .. } => "websocket",
        Transport::Conduit { .. } => "conduit",
    };
    match crate::meta::subscription(subscription_type, version) {
        Some(meta) if !meta.transports.contains(&method) => Err(Error::InvalidRequest {
            endpoint: "create-eventsub-subscription".into(),
            source: twitch_runtime::InvalidParam {
                param: "transport".into(),
                message: format!(
                    "{subscription_type} v{version} is delivered over {} only, not {method}",
                    meta.transports.join(" and ")
                ),
            },
        }),
        _ => Ok(()),
    }
}

/// Create EventSub Subscription, answering the one subscription made: for
/// these typed calls and for WebSocket sessions' own subscribing.
pub(crate) async fn create(
    client: &Client,
    subscription_type: &str,
    version: &str,
    condition: serde_json::Value,
    batched: bool,
    transport: EventSubTransportRequest,
    as_user: Option<UserId>,
) -> Result<Created> {
    let mut req = client.create_eventsub_subscription(subscription_type, version, condition, transport);
    if batched {
        req = req.is_batching_enabled(true);
    }
    if let Some(u) = as_user {
        req = req.as_user(u);
    }
    let resp = req.send().await?;
    let subscription = resp.data.into_iter().next().ok_or_else(|| Error::Decode {
        endpoint: "create-eventsub-subscription".into(),
        path: "data".into(),
        message: "no subscription in the answer".into(),
        body: Default::default(),
    })?;
    Ok(Created { subscription, total: resp.total, total_cost: resp.total_cost, max_total_cost: resp.max_total_cost })
}

/// A subscription of any type that Twitch created (from [`Client::subscribe_all`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Created {
    /// What Twitch answered.
    pub subscription: EventSubSubscription,
    /// How many subscriptions the client had after this one.
    pub total: i64,
    /// The sum of their costs.
    pub total_cost: i64,
    /// The limit on that sum.
    pub max_total_cost: i64,
}

/// What [`Client::subscribe_all`] did with each subscription, in the order
/// given. A failure never hides the others.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct SubscribeAll {
    /// Created.
    pub created: Vec<(AnySubscription, Created)>,
    /// Twitch answered 409: the same subscription exists already, with its
    /// id (from the answer, or looked up; `None` when neither told it).
    pub existing: Vec<(AnySubscription, Option<SubscriptionId>)>,
    /// Refused or failed, with why.
    pub failed: Vec<(AnySubscription, Error)>,
}

impl SubscribeAll {
    /// Every subscription exists now (created or already there).
    pub fn all_present(&self) -> bool {
        self.failed.is_empty()
    }
}

/// `client.subscribe_all(transport, subs)`: a batch; `.await` sends it.
#[derive(Debug)]
#[must_use = "a request does nothing until it is awaited"]
pub struct SubscribeAllRequest {
    client: Client,
    transport: Transport,
    subs: Vec<AnySubscription>,
    concurrency: usize,
    as_user: Option<UserId>,
}

impl SubscribeAllRequest {
    /// How many creations run at once (default 8; at least 1). The client's
    /// rate limiter paces them either way.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Create them with this user's token.
    pub fn as_user(mut self, user: impl Into<UserId>) -> Self {
        self.as_user = Some(user.into());
        self
    }
}

impl IntoFuture for SubscribeAllRequest {
    type Output = SubscribeAll;
    type IntoFuture = Pin<Box<dyn Future<Output = SubscribeAll> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let Self { client, transport, subs, concurrency, as_user } = self;
            let (client, transport, as_user) = (&client, &transport, &as_user);
            let mut results: Vec<(usize, AnySubscription, Outcome)> =
                futures_util::stream::iter(subs.into_iter().enumerate())
                    .map(|(i, sub)| async move {
                        let r = match sub.create(client, transport, as_user.clone()).await {
                            Ok(c) => Outcome::Created(Box::new(c)),
                            Err(e) if e.status() == Some(409) => {
                                Outcome::Exists(sub.existing(client, transport, as_user.clone(), &e).await)
                            }
                            Err(e) => Outcome::Failed(e),
                        };
                        (i, sub, r)
                    })
                    .buffer_unordered(concurrency)
                    .collect()
                    .await;
            results.sort_by_key(|(i, ..)| *i);
            let mut out = SubscribeAll::default();
            for (_, sub, r) in results {
                match r {
                    Outcome::Created(c) => out.created.push((sub, *c)),
                    Outcome::Exists(id) => out.existing.push((sub, id)),
                    Outcome::Failed(e) => out.failed.push((sub, e)),
                }
            }
            out
        })
    }
}

/// What became of one subscription of a batch.
enum Outcome {
    Created(Box<Created>),
    Exists(Option<SubscriptionId>),
    Failed(Error),
}

impl Client {
    /// Create a subscription of a typed subscription type on any
    /// transport:
    ///
    /// ```no_run
    /// # async fn demo(client: twitch::Client) -> twitch::Result<()> {
    /// use twitch::Transport;
    /// use twitch::eventsub::channel::ChannelFollowV2;
    ///
    /// let follow = ChannelFollowV2::new("1234", "1234");
    /// let made = client.subscribe(follow, Transport::webhook("https://example.com/twitch", "s3cret-s3cret")).await?;
    /// println!("{} is {}", made.subscription.id, made.subscription.status);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// `create_eventsub_subscription` takes the raw type, version and JSON
    /// condition, for types this crate does not know yet.
    pub fn subscribe<S: SubscriptionType>(&self, sub: S, transport: Transport) -> Subscribe<S> {
        Subscribe { client: self.clone(), sub, transport, as_user: None }
    }

    /// Create many subscriptions on one transport, concurrently: what a bot
    /// or service does at start. Each outcome is reported on its own
    /// ([`SubscribeAll`]): created, already there (409), or failed.
    ///
    /// ```no_run
    /// # async fn demo(client: twitch::Client) {
    /// use twitch::eventsub::stream::{StreamOfflineV1, StreamOnlineV1};
    /// use twitch::{AnySubscription, Transport};
    ///
    /// let subs = ["1234", "5678"]
    ///     .into_iter()
    ///     .flat_map(|id| [AnySubscription::from(StreamOnlineV1::new(id)), StreamOfflineV1::new(id).into()]);
    /// let done = client.subscribe_all(Transport::conduit("conduit-id"), subs).await;
    /// for (sub, error) in &done.failed {
    ///     eprintln!("{} v{}: {error}", sub.subscription_type, sub.version);
    /// }
    /// # }
    /// ```
    pub fn subscribe_all(
        &self,
        transport: Transport,
        subs: impl IntoIterator<Item = AnySubscription>,
    ) -> SubscribeAllRequest {
        SubscribeAllRequest {
            client: self.clone(),
            transport,
            subs: subs.into_iter().collect(),
            concurrency: 8,
            as_user: None,
        }
    }
}
