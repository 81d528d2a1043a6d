//! A WebSocket session with its own subscriptions (user token).

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::api::{CreatedSubscription, EventSubApi, NewSubscription, Transport};
use super::engine::{self, Command, Config, Current, Emit, Engine, Hooks, TokenWatch};
use super::typed::Events;
use super::types::{
    FailedResubscribe, MAX_CONNECTIONS_PER_USER, MAX_SUBSCRIPTIONS_PER_CONNECTION, OnTokenInvalid, Recovered,
    SessionItem, lock,
};
use crate::base::error::EventSubError;
use crate::base::error::{Error, Result};
use crate::base::seen::SeenIds;
use crate::base::types::{Backoff, BoxFuture};
use crate::base::types::{SessionId, SubscriptionId, UserId};
use crate::eventsub::decode::{EventPayload, FromEvent, SubscriptionInfo, SubscriptionType};

/// A subscription as the session will create it again after a loss.
#[derive(Debug, Clone)]
struct Spec {
    subscription_type: String,
    version: String,
    condition: serde_json::Value,
    batched: bool,
}

#[derive(Debug, Clone)]
struct Tracked {
    /// Stable identity across re-creations (the subscription id changes).
    key: u64,
    spec: Spec,
    info: SubscriptionInfo,
}

/// A created subscription and what it costs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Subscribed {
    /// The subscription as Twitch returned it.
    pub subscription: SubscriptionInfo,
    /// Sum of the costs of the client's subscriptions.
    pub total_cost: i64,
    /// Limit on that sum.
    pub max_total_cost: i64,
}

/// Open connections per server and user token, in this process.
fn open_connections() -> &'static Mutex<HashMap<String, usize>> {
    static OPEN: OnceLock<Mutex<HashMap<String, usize>>> = OnceLock::new();
    OPEN.get_or_init(Mutex::default)
}

/// One slot of a user's connection budget, given back on drop.
struct Slot(String);

impl Slot {
    fn take(key: String, user: Option<&UserId>) -> Result<Slot> {
        let mut open = lock(open_connections());
        let n = open.entry(key.clone()).or_default();
        if *n >= MAX_CONNECTIONS_PER_USER {
            return Err(Error::EventSub(EventSubError::TooManyConnections {
                user: user.map(|u| u.to_string()),
                limit: MAX_CONNECTIONS_PER_USER,
            }));
        }
        *n += 1;
        Ok(Slot(key))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = lock(open_connections());
        if let Some(n) = open.get_mut(&self.0) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.0);
            }
        }
    }
}

/// Configures and opens a [`Session`].
#[must_use]
pub struct SessionBuilder<E> {
    api: Arc<dyn EventSubApi>,
    client_id: String,
    cfg: Config,
    user: Option<UserId>,
    initial: Vec<Spec>,
    dedup: usize,
    buffer: usize,
    _e: std::marker::PhantomData<fn() -> E>,
}

impl<E> std::fmt::Debug for SessionBuilder<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionBuilder")
            .field("url", &self.cfg.base_url)
            .field("keepalive", &self.cfg.keepalive)
            .field("user", &self.user)
            .field("subscriptions", &self.initial.len())
            .finish()
    }
}

impl<E: EventPayload + Send + 'static> SessionBuilder<E> {
    /// A session that subscribes through `api`, for the application
    /// `client_id`, connecting to `url` (Twitch's is [`super::EVENTSUB_WS_URL`]).
    pub fn new(api: Arc<dyn EventSubApi>, client_id: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            api,
            client_id: client_id.into(),
            cfg: Config::new(url.into()),
            user: None,
            initial: Vec::new(),
            dedup: 4096,
            buffer: 1024,
            _e: std::marker::PhantomData,
        }
    }

    /// Observe mode: every event is read once more for what the schema
    /// lacks (see [`crate::observe`]); sessions and pools made from a
    /// client with an observer get it without this call.
    pub fn observe(mut self, observer: crate::base::observe::Observer) -> Self {
        self.cfg.observer = Some(observer);
        self
    }

    /// Ask Twitch for a keepalive every `seconds` (10 to 600) of silence.
    pub fn keepalive_timeout_seconds(mut self, seconds: u32) -> Self {
        self.cfg.keepalive = Some(seconds);
        self
    }

    /// Extra time past the keepalive window before the socket counts as
    /// dead (default 5 s).
    pub fn keepalive_grace(mut self, grace: Duration) -> Self {
        self.cfg.grace = grace;
        self
    }

    /// Backoff between reconnect attempts after an abrupt loss.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.cfg.backoff = backoff;
        self
    }

    /// Largest message accepted (default 4 MiB); a larger one drops the
    /// connection, which then recovers like any other loss.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.cfg.max_message = bytes;
        self
    }

    /// How long to wait for the welcome message (default 10 s).
    pub fn welcome_timeout(mut self, timeout: Duration) -> Self {
        self.cfg.welcome_timeout = timeout;
        self
    }

    /// Create subscriptions with this user's token (with a token manager
    /// holding several users); the default user otherwise.
    pub fn as_user(mut self, user: impl Into<UserId>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// Create this subscription as soon as the welcome arrives, before
    /// [`connect`](Self::connect) returns (well within Twitch's window).
    pub fn subscribe<S: SubscriptionType>(mut self, sub: S) -> Self {
        self.initial.push(spec_of(&sub));
        self
    }

    /// What to do when the token manager reports this session's token
    /// invalid (default [`OnTokenInvalid::End`]). Either way the connection
    /// is closed at once and [`SessionItem::TokenInvalid`] is yielded.
    pub fn on_token_invalid(mut self, policy: OnTokenInvalid) -> Self {
        self.cfg.on_token_invalid = policy;
        self
    }

    /// How many recent message ids are remembered to drop duplicates (default 4096).
    pub fn dedup_capacity(mut self, ids: usize) -> Self {
        self.dedup = ids;
        self
    }

    /// Connect, read the welcome and create the subscriptions given to
    /// [`subscribe`](Self::subscribe).
    pub async fn connect(self) -> Result<Session<E>> {
        // Twitch counts a user's connections per server: sessions to another
        // server (a second mock in the same process) have their own budget.
        let key = format!("{}\u{0}{}\u{0}{}", self.cfg.base_url, self.client_id, self.user.as_deref().unwrap_or(""));
        let slot = Slot::take(key, self.user.as_ref())?;
        let cfg = self.cfg;
        let (ws, welcome) = engine::connect::<E>(&cfg).await?;
        let (tx, rx) = mpsc::channel(self.buffer);
        // Known from the welcome already: `session_id()` answers as soon as
        // `connect` returns, before the engine task first runs.
        let first = Current { id: welcome.id.clone(), epoch: 0, welcomes: 0 };
        let (state_tx, state_rx) = watch::channel(Some(first));
        let (cmd_tx, cmd_rx) = mpsc::channel(4);
        // Sessions of a user whose tokens a manager holds follow its events.
        let token = match (&self.user, self.api.token_events()) {
            (Some(user), Some(rx)) => Some(TokenWatch { rx, user: user.clone() }),
            _ => None,
        };
        let shared = Arc::new(Shared {
            next_key: std::sync::atomic::AtomicU64::new(0),
            api: self.api,
            user: self.user,
            backoff: cfg.backoff,
            subs: Mutex::new(Vec::new()),
            ours: Mutex::default(),
            state: state_rx,
            cmd: cmd_tx,
        });
        let hooks: Arc<dyn Hooks<E>> = Arc::new(SessionHooks(shared.clone()));
        let engine = Engine {
            cfg,
            shard: None,
            tx,
            dedup: Arc::new(Mutex::new(SeenIds::new(self.dedup))),
            state: state_tx,
            cmd: cmd_rx,
            hooks,
            token,
            clock: Default::default(),
        };
        tokio::spawn(async move {
            let _slot = slot;
            engine.run(ws, welcome).await;
        });
        let handle = SessionHandle { shared };
        for spec in self.initial {
            if let Err(e) = handle.create(spec).await {
                handle.close().await;
                return Err(e);
            }
        }
        Ok(Session { rx, handle })
    }
}

fn spec_of<S: SubscriptionType>(sub: &S) -> Spec {
    Spec {
        subscription_type: S::TYPE.to_owned(),
        version: S::VERSION.to_owned(),
        condition: sub.condition(),
        batched: sub.meta().batched,
    }
}

struct Shared {
    next_key: std::sync::atomic::AtomicU64,
    api: Arc<dyn EventSubApi>,
    user: Option<UserId>,
    /// Paces the re-creation of subscriptions that failed for a reason that may pass.
    backoff: Backoff,
    subs: Mutex<Vec<Tracked>>,
    /// Every session id this session subscribed on: what is left on one
    /// of them after a loss is its own leftover.
    ours: Mutex<std::collections::HashSet<String>>,
    state: watch::Receiver<Option<Current>>,
    cmd: mpsc::Sender<Command>,
}

/// How Twitch's answer to a create request is to be taken.
enum Verdict {
    /// 409: a subscription like it exists.
    Exists,
    /// Refused for good: 400, 401, 403, 404, 410, a limit.
    Refused,
    /// May pass: 5xx, a transport error, a 429 after its retries.
    Transient,
}

fn verdict(e: &Error) -> Verdict {
    match e {
        Error::Api { status: 409, .. } => Verdict::Exists,
        Error::Api { status, .. } if *status >= 500 => Verdict::Transient,
        Error::Transport { .. } | Error::RefreshFailed { .. } | Error::Decode { .. } => Verdict::Transient,
        Error::RateLimited { cooldown: false, .. } => Verdict::Transient,
        _ => Verdict::Refused,
    }
}

/// A 400 Twitch gives when the session the request named is gone (a
/// reconnect handover or a loss happened while the request was in flight).
fn session_gone(e: &Error) -> bool {
    match e {
        Error::Api { status: 400, message, .. } => {
            let m = message.to_ascii_lowercase();
            m.contains("session")
                && (m.contains("not connected") || m.contains("does not exist") || m.contains("disconnected"))
        }
        _ => false,
    }
}

/// Is `info` the subscription `spec` describes, on `session_id`?
fn describes(info: &SubscriptionInfo, spec: &Spec) -> bool {
    info.subscription_type == spec.subscription_type && info.version == spec.version && info.condition == spec.condition
}

impl Shared {
    fn current(&self) -> Option<Current> {
        self.state.borrow().clone()
    }

    /// What a 409 refers to: the subscription like `spec` that exists. On
    /// this session, it is ours (a handover carried it over, or an earlier
    /// attempt made it). On a session this one used before, or on any
    /// session once no longer enabled, it is a leftover that delivers
    /// nowhere: it is deleted and `None` says, create it again. Enabled on
    /// a session this one never used, it belongs to another live session (a
    /// second program on the same token) and is left alone: that is
    /// [`EventSubError::SubscribedElsewhere`]. The 409's own id is looked
    /// up first; without one (or when that finds nothing), the
    /// subscriptions of the type are listed.
    async fn existing(&self, spec: &Spec, session_id: &str, conflict: &Error) -> Result<Option<SubscriptionInfo>> {
        let named = match self.api.conflict_id(conflict) {
            Some(id) => self.api.subscription(id, self.user.clone()).await?.filter(|i| describes(i, spec)),
            None => None,
        };
        let found = match named {
            Some(info) => vec![info],
            None => self.api.subscriptions(spec.subscription_type.clone(), self.user.clone()).await?,
        };
        let (mut mine, mut elsewhere) = (None, None);
        for info in found.into_iter().filter(|i| describes(i, spec)) {
            let on = info.transport.session_id.as_deref();
            let ours = on.is_some_and(|s| lock(&self.ours).contains(s));
            if on == Some(session_id) {
                mine = Some(info);
            } else if info.transport.method == "websocket" && info.status == "enabled" && !ours {
                elsewhere = Some(info);
            } else if info.transport.method == "websocket" {
                tracing::info!(subscription = %info.id, status = %info.status, "eventsub: deleting a leftover subscription of a session that is gone");
                self.api.delete_subscription(info.id.clone(), self.user.clone()).await?;
            }
        }
        match (mine, elsewhere) {
            (Some(info), _) => Ok(Some(info)),
            (None, Some(other)) => Err(Error::EventSub(EventSubError::SubscribedElsewhere {
                subscription_id: other.id.to_string(),
                session_id: other.transport.session_id.map(|s| s.to_string()).unwrap_or_default(),
            })),
            (None, None) => Ok(None),
        }
    }

    /// Create `spec` on the current session once, resolving a 409: the
    /// subscription as it now exists on `session_id`.
    async fn create_on(&self, spec: &Spec, session_id: &str) -> Result<CreatedSubscription> {
        lock(&self.ours).insert(session_id.to_owned());
        let new = new_subscription(spec, session_id.to_owned(), self.user.clone());
        match self.api.create_subscription(new.clone()).await.map_err(|e| classify(e, self.user.as_ref())) {
            Ok(c) => Ok(c),
            Err(e) if matches!(verdict(&e), Verdict::Exists) => match self.existing(spec, session_id, &e).await {
                Ok(Some(info)) => Ok(CreatedSubscription::new(info, 0, 0, 0)),
                // A leftover was removed: now it can be made.
                Ok(None) => self.api.create_subscription(new).await.map_err(|e| classify(e, self.user.as_ref())),
                // Another live session's: it is not ours to take over.
                Err(elsewhere @ Error::EventSub(EventSubError::SubscribedElsewhere { .. })) => Err(elsewhere),
                // Cannot look: a 409 still means it exists.
                Err(look) => {
                    tracing::warn!(error = %look, "eventsub: could not confirm a 409 with Get EventSub Subscriptions");
                    Err(e)
                }
            },
            Err(e) => Err(e),
        }
    }
}

/// A cloneable handle on a [`Session`]: subscribe, unsubscribe, close,
/// from any task.
#[derive(Clone)]
pub struct SessionHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionHandle")
            .field("session_id", &self.session_id())
            .field("subscriptions", &lock(&self.shared.subs).len())
            .finish()
    }
}

fn new_subscription(spec: &Spec, session_id: String, user: Option<UserId>) -> NewSubscription {
    NewSubscription {
        subscription_type: spec.subscription_type.clone(),
        version: spec.version.clone(),
        condition: spec.condition.clone(),
        transport: Transport::WebSocket { session_id: session_id.into() },
        as_user: user,
        batched: spec.batched,
    }
}

/// Twitch answers 429 when a user's token already has three WebSocket
/// transports; that is a limit, not a rate.
fn classify(e: Error, user: Option<&UserId>) -> Error {
    let message = match &e {
        Error::RateLimited { message, .. } | Error::Api { message, .. } => message.to_ascii_lowercase(),
        _ => return e,
    };
    if message.contains("transports limit") || message.contains("websocket transport") && message.contains("limit") {
        Error::EventSub(EventSubError::TooManyConnections {
            user: user.map(|u| u.to_string()),
            limit: MAX_CONNECTIONS_PER_USER,
        })
    } else if message.contains("cost") {
        Error::EventSub(EventSubError::CostExceeded { message })
    } else {
        e
    }
}

impl SessionHandle {
    /// The current session id; `None` while reconnecting or after close.
    pub fn session_id(&self) -> Option<SessionId> {
        self.shared.current().map(|c| SessionId::from(c.id))
    }

    /// The subscriptions this session made and still has.
    pub fn subscriptions(&self) -> Vec<SubscriptionInfo> {
        lock(&self.shared.subs).iter().map(|t| t.info.clone()).collect()
    }

    /// Create a subscription on this session. A reconnect handover or a
    /// loss while the request is in flight does not fail it: the
    /// subscription ends up on the session in use, once.
    pub async fn subscribe<S: SubscriptionType>(&self, sub: S) -> Result<Subscribed> {
        self.create(spec_of(&sub)).await
    }

    /// Create a subscription by type, version and condition (for types the
    /// crate does not know yet).
    pub async fn subscribe_raw(
        &self,
        subscription_type: &str,
        version: &str,
        condition: serde_json::Value,
    ) -> Result<Subscribed> {
        self.create(Spec {
            subscription_type: subscription_type.to_owned(),
            version: version.to_owned(),
            condition,
            batched: false,
        })
        .await
    }

    async fn current_session(&self) -> Result<Current> {
        let mut state = self.shared.state.clone();
        let c = state.wait_for(Option::is_some).await.map_err(|_| Error::EventSub(EventSubError::Closed))?;
        Ok(c.clone().expect("waited for"))
    }

    /// Wait until the session is no longer `was` (a handover or a recovery
    /// moved it on); false if that does not happen within Twitch's 30 s
    /// reconnect grace.
    async fn moved_on(&self, was: &Current) -> bool {
        let mut state = self.shared.state.clone();
        let changed = state.wait_for(|c| c.as_ref().is_some_and(|c| c != was));
        matches!(tokio::time::timeout(std::time::Duration::from_secs(30), changed).await, Ok(Ok(_)))
    }

    async fn create(&self, spec: Spec) -> Result<Subscribed> {
        let enabled = lock(&self.shared.subs).iter().filter(|t| t.info.status == "enabled").count();
        if enabled >= MAX_SUBSCRIPTIONS_PER_CONNECTION {
            return Err(Error::EventSub(EventSubError::TooManySubscriptions {
                limit: MAX_SUBSCRIPTIONS_PER_CONNECTION,
            }));
        }
        loop {
            let at = self.current_session().await?;
            match self.shared.create_on(&spec, &at.id).await {
                Ok(created) => {
                    let now = self.shared.current();
                    // A loss while the request was in flight left it on a
                    // dead session, which the recovery did not know about:
                    // create it again. A handover keeps the epoch: Twitch
                    // carried it over.
                    if now.as_ref().is_none_or(|c| c.epoch != at.epoch) {
                        continue;
                    }
                    let key = self.shared.next_key.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    lock(&self.shared.subs).push(Tracked { key, spec, info: created.subscription.clone() });
                    return Ok(Subscribed {
                        subscription: created.subscription,
                        total_cost: created.total_cost,
                        max_total_cost: created.max_total_cost,
                    });
                }
                // The session named in the request was gone by the time
                // Twitch read it: once the session moved on, create it there.
                Err(e) if session_gone(&e) || self.shared.current().as_ref() != Some(&at) => {
                    if !self.moved_on(&at).await {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Delete a subscription this session made.
    pub async fn unsubscribe(&self, subscription_id: &SubscriptionId) -> Result<()> {
        self.shared.api.delete_subscription(subscription_id.clone(), self.shared.user.clone()).await?;
        lock(&self.shared.subs).retain(|t| t.info.id != *subscription_id);
        Ok(())
    }

    /// Close the connection; the stream ends after the items already read.
    pub async fn close(&self) {
        let _ = self.shared.cmd.send(Command::Close).await;
    }
}

struct SessionHooks(Arc<Shared>);

/// Create tracked subscription `key` again on `session_id` until it works,
/// Twitch refuses it for good, or the session moves on (then the next
/// recovery takes over). Each attempt is reported as a `Recovered`.
async fn retry_resubscribe<E: Send + 'static>(shared: Arc<Shared>, key: u64, session_id: String, tx: Emit<E>) {
    let mut attempt = 0u32;
    loop {
        tokio::time::sleep(shared.backoff.delay(attempt)).await;
        attempt = attempt.saturating_add(1);
        let here = |c: &Option<Current>| c.as_ref().is_some_and(|c| c.id == session_id);
        if !here(&shared.current()) || tx.is_closed() {
            return;
        }
        let Some(spec) = lock(&shared.subs).iter().find(|t| t.key == key).map(|t| t.spec.clone()) else { return };
        let result = shared.create_on(&spec, &session_id).await;
        if !here(&shared.current()) {
            return;
        }
        let (resubscribed, failed, done) = match result {
            Ok(c) => {
                if let Some(t) = lock(&shared.subs).iter_mut().find(|t| t.key == key) {
                    t.info = c.subscription;
                }
                (1, Vec::new(), true)
            }
            Err(error) => {
                let retrying = matches!(verdict(&error), Verdict::Transient | Verdict::Exists);
                if !retrying {
                    lock(&shared.subs).retain(|t| t.key != key);
                }
                let f = FailedResubscribe {
                    subscription_type: spec.subscription_type,
                    version: spec.version,
                    condition: spec.condition,
                    error,
                    retrying,
                };
                (0, vec![f], !retrying)
            }
        };
        let item =
            SessionItem::Recovered(Recovered { session_id: session_id.clone(), resubscribed, failed, shard: None });
        if tx.send(item).await.is_err() || done {
            return;
        }
    }
}

impl<E: Send + 'static> Hooks<E> for SessionHooks {
    fn fresh(&self, session_id: String, tx: Emit<E>) -> Option<BoxFuture<'static, ()>> {
        let shared = self.0.clone();
        Some(Box::pin(async move {
            use futures_util::StreamExt;
            let specs: Vec<(u64, Spec)> = lock(&shared.subs).iter().map(|t| (t.key, t.spec.clone())).collect();
            // A few at a time: quick enough for Twitch's window, gentle on the bucket.
            let results: Vec<_> = futures_util::stream::iter(specs)
                .map(|(key, spec)| {
                    let shared = shared.clone();
                    let session_id = session_id.clone();
                    async move {
                        let r = shared.create_on(&spec, &session_id).await;
                        (key, spec, r)
                    }
                })
                .buffer_unordered(8)
                .collect()
                .await;
            // Lost again meanwhile: the next recovery redoes this.
            if shared.current().is_none_or(|c| c.id != session_id) {
                return;
            }
            let mut failed = Vec::new();
            let mut retry = Vec::new();
            let mut resubscribed = 0;
            {
                let mut subs = lock(&shared.subs);
                for (key, spec, result) in results {
                    match result {
                        Ok(c) => {
                            if let Some(t) = subs.iter_mut().find(|t| t.key == key) {
                                t.info = c.subscription;
                                resubscribed += 1;
                            }
                        }
                        Err(error) => {
                            // A 409 that could not be confirmed: it exists, so it is kept.
                            if matches!(verdict(&error), Verdict::Exists) {
                                resubscribed += 1;
                                continue;
                            }
                            let retrying = matches!(verdict(&error), Verdict::Transient);
                            if retrying {
                                retry.push(key);
                            } else {
                                subs.retain(|t| t.key != key);
                            }
                            failed.push(FailedResubscribe {
                                subscription_type: spec.subscription_type,
                                version: spec.version,
                                condition: spec.condition,
                                error,
                                retrying,
                            });
                        }
                    }
                }
            }
            let item =
                SessionItem::Recovered(Recovered { session_id: session_id.clone(), resubscribed, failed, shard: None });
            if tx.send(item).await.is_err() {
                return;
            }
            for key in retry {
                tokio::spawn(retry_resubscribe(shared.clone(), key, session_id.clone(), tx.clone()));
            }
        }))
    }

    fn moved(&self, _session_id: String, _tx: Emit<E>) -> Option<BoxFuture<'static, ()>> {
        // Twitch moves a session's subscriptions with a reconnect.
        None
    }

    fn revoked(&self, revoked: &SubscriptionInfo) {
        // By id; a revocation whose id was unreadable, by what it subscribed to.
        lock(&self.0.subs).retain(|t| {
            let same = if revoked.id.is_empty() { describes(revoked, &t.spec) } else { t.info.id == revoked.id };
            !same
        });
    }

    fn shard_disabled(&self, _: &str, _: &str, _: Emit<E>) -> Option<BoxFuture<'static, ()>> {
        None
    }
}

/// An EventSub WebSocket session: a `Stream` of [`SessionItem`]s that
/// survives reconnects. Dropping it closes the connection.
pub struct Session<E> {
    rx: mpsc::Receiver<SessionItem<E>>,
    handle: SessionHandle,
}

impl<E> std::fmt::Debug for Session<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.handle.fmt(f)
    }
}

impl<E: EventPayload + Send + 'static> Session<E> {
    /// The next item; `None` once the session is closed.
    pub async fn next(&mut self) -> Option<SessionItem<E>> {
        self.rx.recv().await
    }

    /// The notifications of one subscription type only, typed, with every
    /// item that is not a notification passed through: see [`Events`].
    /// `session.events::<ChannelChatMessageV1>()` yields
    /// `SessionItem<ChannelChatMessageV1Event>`s.
    pub fn events<T: FromEvent<E>>(&mut self) -> Events<&mut Self, E, T> {
        Events::new(self)
    }

    /// A handle for subscribing from other tasks.
    pub fn handle(&self) -> SessionHandle {
        self.handle.clone()
    }

    /// See [`SessionHandle::session_id`].
    pub fn session_id(&self) -> Option<SessionId> {
        self.handle.session_id()
    }

    /// See [`SessionHandle::subscribe`].
    pub async fn subscribe<S: SubscriptionType>(&self, sub: S) -> Result<Subscribed> {
        self.handle.subscribe(sub).await
    }

    /// See [`SessionHandle::subscriptions`].
    pub fn subscriptions(&self) -> Vec<SubscriptionInfo> {
        self.handle.subscriptions()
    }

    /// See [`SessionHandle::close`].
    pub async fn close(&self) {
        self.handle.close().await;
    }
}

impl<E> futures_core::Stream for Session<E> {
    type Item = SessionItem<E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}
