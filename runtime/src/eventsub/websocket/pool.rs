//! A pool of WebSocket shards for one conduit.
//!
//! Each shard is a connection like a [`Session`](super::Session)'s, but owns
//! no subscriptions: the conduit's subscriptions are made with an app token,
//! and Twitch spreads their notifications over the conduit's shards. The
//! pool points each shard at its connection's session (batching the update
//! calls), points it again whenever the session changes, Twitch reports the
//! shard disabled, or a periodic look at Get Conduit Shards finds it
//! disabled, and merges every shard into one deduplicated stream. A shard
//! Twitch refuses is tried again with backoff, a bounded number of times;
//! one the conduit no longer has is closed.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

use super::api::{EventSubApi, ShardAttach, ShardError};
use super::engine::{self, Command, Config, Current, Emit, Engine, Hooks};
use super::typed::Events;
use super::types::{OnTokenInvalid, Recovered, SessionItem, TokenInvalidated, lock};
use crate::base::error::EventSubError;
use crate::base::error::{Error, Result};
use crate::base::seen::SeenIds;
use crate::base::types::{Backoff, BoxFuture, ConduitId, SessionId};
use crate::eventsub::decode::{EventPayload, FromEvent, SubscriptionInfo};
use crate::http::credentials::TokenEvent;

/// Most shards sent in one update call.
const MAX_BATCH: usize = 100;

/// Configures and starts a [`ShardPool`].
#[must_use]
pub struct ShardPoolBuilder<E> {
    api: Arc<dyn EventSubApi>,
    conduit_id: ConduitId,
    cfg: Config,
    shards: Vec<u32>,
    grow_to: Option<u32>,
    batch_window: Duration,
    attach_attempts: u32,
    health_check: Option<Duration>,
    dedup: usize,
    buffer: usize,
    _e: std::marker::PhantomData<fn() -> E>,
}

impl<E> std::fmt::Debug for ShardPoolBuilder<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardPoolBuilder")
            .field("conduit_id", &self.conduit_id)
            .field("url", &self.cfg.base_url)
            .field("shards", &self.shards.len())
            .finish()
    }
}

impl<E: EventPayload + Send + 'static> ShardPoolBuilder<E> {
    /// A pool for `conduit_id`, attaching shards through `api` (which must
    /// use an app token), connecting to `url`.
    pub fn new(api: Arc<dyn EventSubApi>, conduit_id: impl Into<ConduitId>, url: impl Into<String>) -> Self {
        Self {
            api,
            conduit_id: conduit_id.into(),
            cfg: Config::new(url.into()),
            shards: vec![0],
            grow_to: None,
            batch_window: Duration::from_millis(50),
            attach_attempts: 5,
            health_check: Some(Duration::from_secs(300)),
            dedup: 16384,
            buffer: 4096,
            _e: std::marker::PhantomData,
        }
    }

    /// Run shards `0..count` (one process serving the whole conduit).
    pub fn shard_count(mut self, count: u32) -> Self {
        self.shards = (0..count).collect();
        self
    }

    /// Run exactly these shard ids (one of several processes sharing a conduit).
    pub fn shards(mut self, ids: impl IntoIterator<Item = u32>) -> Self {
        self.shards = ids.into_iter().collect();
        self
    }

    /// Ask Twitch for a keepalive every `seconds` (10 to 600) of silence.
    pub fn keepalive_timeout_seconds(mut self, seconds: u32) -> Self {
        self.cfg.keepalive = Some(seconds);
        self
    }

    /// Extra time past the keepalive window before a socket counts as dead.
    pub fn keepalive_grace(mut self, grace: Duration) -> Self {
        self.cfg.grace = grace;
        self
    }

    /// Backoff between reconnect attempts, and between attempts to attach a
    /// shard Twitch refused.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.cfg.backoff = backoff;
        self
    }

    /// Set the conduit's shard count to `count` once this pool's shards are
    /// connected and before they are attached: how a process joining with
    /// new shard ids grows a conduit without a window of disabled shards.
    pub fn grow_conduit_to(mut self, count: u32) -> Self {
        self.grow_to = Some(count);
        self
    }

    /// How long to gather attach requests into one update call (default 50 ms).
    pub fn batch_window(mut self, window: Duration) -> Self {
        self.batch_window = window;
        self
    }

    /// How many times a shard Twitch refuses is tried before the pool gives
    /// it up (default 5, at least 1). Each refusal is reported.
    pub fn attach_attempts(mut self, attempts: u32) -> Self {
        self.attach_attempts = attempts.max(1);
        self
    }

    /// How often to look at Get Conduit Shards for this pool's shards that
    /// Twitch has disabled although they are connected here, and attach them
    /// again (default every 5 minutes; `None` turns it off). It finds what
    /// `conduit.shard.disabled` cannot report: every shard disabled at once.
    pub fn health_check(mut self, every: Option<Duration>) -> Self {
        self.health_check = every;
        self
    }

    /// What to do when the token manager reports the app token invalid
    /// (default [`OnTokenInvalid::End`]). Either way the shards' sockets
    /// are closed at once and [`SessionItem::TokenInvalid`] is yielded.
    pub fn on_token_invalid(mut self, policy: OnTokenInvalid) -> Self {
        self.cfg.on_token_invalid = policy;
        self
    }

    /// Start every shard and attach it; returns once each shard was
    /// attached, or given up (which is an error).
    pub async fn start(self) -> Result<ShardPool<E>> {
        let (tx, rx) = mpsc::channel(self.buffer);
        let (attach_tx, attach_rx) = mpsc::channel(1024);
        tokio::spawn(attacher(self.api.clone(), self.conduit_id.clone(), attach_rx, self.batch_window));
        let tokens = self.api.token_events();
        let ctx = Arc::new(PoolCtx {
            api: self.api,
            conduit_id: self.conduit_id,
            cfg: self.cfg,
            attach: attach_tx,
            attach_attempts: self.attach_attempts,
            tx: Mutex::new(Some(tx)),
            dedup: Arc::new(Mutex::new(SeenIds::new(self.dedup))),
            shards: Mutex::new(BTreeMap::new()),
        });
        if let Err(e) = start_shards(&ctx, self.shards, self.grow_to).await {
            close_pool(&ctx).await;
            return Err(e);
        }
        if let Some(every) = self.health_check {
            tokio::spawn(health_check(Arc::downgrade(&ctx), every));
        }
        if let Some(rx) = tokens {
            tokio::spawn(watch_app_token(Arc::downgrade(&ctx), rx));
        }
        Ok(ShardPool { rx, ctx })
    }
}

struct ShardCtl {
    cmd: mpsc::Sender<Command>,
    state: watch::Receiver<Option<Current>>,
}

struct AttachReq {
    shard_id: u32,
    session_id: String,
    reply: oneshot::Sender<std::result::Result<(), ShardError>>,
}

struct PoolCtx<E> {
    api: Arc<dyn EventSubApi>,
    conduit_id: ConduitId,
    cfg: Config,
    attach: mpsc::Sender<AttachReq>,
    attach_attempts: u32,
    /// The stream's sender; taken when the pool ends, so the stream ends.
    tx: Mutex<Option<mpsc::Sender<SessionItem<E>>>>,
    dedup: Arc<Mutex<SeenIds>>,
    shards: Mutex<BTreeMap<u32, ShardCtl>>,
}

impl<E> PoolCtx<E> {
    fn tx(&self) -> Option<Emit<E>> {
        lock(&self.tx).clone()
    }

    /// One attach request, batched with others.
    async fn attach_once(&self, shard_id: u32, session_id: String) -> std::result::Result<(), ShardError> {
        let (reply, rx) = oneshot::channel();
        let gone = || ShardError::new(shard_id.to_string(), "the pool is closed", "");
        self.attach.send(AttachReq { shard_id, session_id, reply }).await.map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// The shard's current session id here, if it is running and connected.
    fn session_of(&self, shard_id: u32) -> Option<String> {
        lock(&self.shards).get(&shard_id).and_then(|s| s.state.borrow().as_ref().map(|c| c.id.clone()))
    }

    /// Stop running a shard: its engine closes its socket.
    fn forget(&self, id: u32) {
        if let Some(ctl) = lock(&self.shards).remove(&id) {
            let _ = ctl.cmd.try_send(Command::Close);
        }
    }
}

/// Twitch's per-shard error for a shard id the conduit does not have.
fn out_of_range(e: &ShardError) -> bool {
    e.message.to_ascii_lowercase().contains("range")
}

/// Attach `shard_id` to `session_id`, trying again with backoff while
/// Twitch refuses (each refusal but the last reported through `tx`). A
/// shard the conduit does not have, or one every attempt failed for, is
/// no longer run: its socket is closed and the error says why. `Ok(false)`:
/// the shard's session changed meanwhile, so a newer attach takes over.
async fn attach<E: Send + 'static>(ctx: &PoolCtx<E>, shard_id: u32, session_id: &str) -> Result<bool> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let e = match ctx.attach_once(shard_id, session_id.to_owned()).await {
            Ok(()) => return Ok(true),
            Err(e) => e,
        };
        if out_of_range(&e) {
            tracing::warn!(shard = shard_id, message = %e.message, "eventsub: the conduit has no such shard; closing it");
            ctx.forget(shard_id);
            return Err(Error::EventSub(EventSubError::ShardOutOfRange {
                shard_id: shard_id.to_string(),
                message: e.message,
            }));
        }
        if attempt >= ctx.attach_attempts {
            tracing::warn!(shard = shard_id, attempts = attempt, "eventsub: giving up a shard Twitch keeps refusing");
            ctx.forget(shard_id);
            return Err(Error::EventSub(EventSubError::ShardGaveUp {
                shard_id: shard_id.to_string(),
                attempts: attempt,
                message: e.message,
                code: e.code,
            }));
        }
        let refused =
            EventSubError::ShardRefused { shard_id: shard_id.to_string(), message: e.message, code: e.code, attempt };
        tracing::warn!(shard = shard_id, error = %refused, "eventsub: shard refused; trying again");
        if let Some(tx) = ctx.tx() {
            let _ = tx.send(SessionItem::Error(Error::EventSub(refused))).await;
        }
        tokio::time::sleep(ctx.cfg.backoff.delay(attempt - 1)).await;
        if ctx.session_of(shard_id).as_deref() != Some(session_id) {
            return Ok(false);
        }
    }
}

/// Gathers attach requests for a moment and sends them as one update call.
async fn attacher(
    api: Arc<dyn EventSubApi>,
    conduit_id: ConduitId,
    mut rx: mpsc::Receiver<AttachReq>,
    window: Duration,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let until = tokio::time::sleep(window);
        tokio::pin!(until);
        while batch.len() < MAX_BATCH {
            tokio::select! {
                r = rx.recv() => match r {
                    Some(r) => batch.push(r),
                    None => break,
                },
                _ = &mut until => break,
            }
        }
        // A later request for the same shard wins.
        let mut shards: BTreeMap<u32, String> = BTreeMap::new();
        for r in &batch {
            shards.insert(r.shard_id, r.session_id.clone());
        }
        let update = shards
            .into_iter()
            .map(|(shard_id, session_id)| ShardAttach { shard_id, session_id: session_id.into() })
            .collect();
        match api.update_conduit_shards(conduit_id.clone(), update).await {
            Ok(errors) => {
                for r in batch {
                    let id = r.shard_id.to_string();
                    let res = match errors.iter().find(|e| e.shard_id == id) {
                        Some(e) => Err(e.clone()),
                        None => Ok(()),
                    };
                    let _ = r.reply.send(res);
                }
            }
            Err(e) => {
                let message = e.to_string();
                for r in batch {
                    let _ = r.reply.send(Err(ShardError::new(r.shard_id.to_string(), message.clone(), "")));
                }
            }
        }
    }
}

struct ShardHooks<E> {
    ctx: Weak<PoolCtx<E>>,
    shard_id: u32,
}

/// Attach a shard again and report how it went.
fn reattach<E: Send + 'static>(
    ctx: Weak<PoolCtx<E>>,
    shard_id: u32,
    session_id: String,
    report: bool,
    tx: Emit<E>,
) -> Option<BoxFuture<'static, ()>> {
    let ctx = ctx.upgrade()?;
    Some(Box::pin(async move {
        let item = match attach(&ctx, shard_id, &session_id).await {
            Ok(true) if report => SessionItem::Recovered(Recovered {
                session_id,
                resubscribed: 0,
                failed: Vec::new(),
                shard: Some(shard_id),
            }),
            Ok(_) => return,
            Err(e) => SessionItem::Error(e),
        };
        let _ = tx.send(item).await;
    }))
}

impl<E: Send + 'static> Hooks<E> for ShardHooks<E> {
    fn fresh(&self, session_id: String, tx: Emit<E>) -> Option<BoxFuture<'static, ()>> {
        reattach(self.ctx.clone(), self.shard_id, session_id, true, tx)
    }

    fn moved(&self, session_id: String, tx: Emit<E>) -> Option<BoxFuture<'static, ()>> {
        reattach(self.ctx.clone(), self.shard_id, session_id, false, tx)
    }

    fn revoked(&self, _: &SubscriptionInfo) {}

    fn shard_disabled(&self, conduit_id: &str, shard_id: &str, tx: Emit<E>) -> Option<BoxFuture<'static, ()>> {
        let ctx = self.ctx.upgrade()?;
        if ctx.conduit_id != conduit_id {
            return None;
        }
        let id: u32 = shard_id.parse().ok()?;
        let session = ctx.session_of(id)?;
        tracing::info!(shard = id, "eventsub: Twitch disabled one of our shards; attaching it again");
        reattach(self.ctx.clone(), id, session, true, tx)
    }
}

/// Now and then, Get Conduit Shards: a shard of this pool that is
/// connected here but that Twitch reports disabled (or pointed elsewhere)
/// is attached again. Ends with the pool.
async fn health_check<E: Send + 'static>(ctx: Weak<PoolCtx<E>>, every: Duration) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(pool) = ctx.upgrade() else { return };
        let Some(tx) = pool.tx() else { return };
        let listed = match pool.api.conduit_shards(pool.conduit_id.clone()).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "eventsub: the shard health check could not read the conduit's shards");
                continue;
            }
        };
        for s in listed {
            let Ok(id) = s.shard_id.parse::<u32>() else { continue };
            let Some(mine) = pool.session_of(id) else { continue };
            if s.status == "enabled" && s.session_id.as_deref() == Some(mine.as_str()) {
                continue;
            }
            tracing::info!(shard = id, status = %s.status, "eventsub: health check found one of our shards disabled; attaching it again");
            if let Some(f) = reattach(ctx.clone(), id, mine, true, tx.clone()) {
                tokio::spawn(f);
            }
        }
    }
}

/// Follow the app token: when the manager reports it invalid, close every
/// shard and either end the pool or wait for a new token and start again.
async fn watch_app_token<E: EventPayload + Send + 'static>(
    ctx: Weak<PoolCtx<E>>,
    mut rx: tokio::sync::broadcast::Receiver<TokenEvent>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match rx.recv().await {
            Ok(TokenEvent::AppTokenInvalid) => {}
            Ok(_) | Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return,
        }
        let Some(pool) = ctx.upgrade() else { return };
        let Some(tx) = pool.tx() else { return };
        tracing::warn!(conduit = %pool.conduit_id, "eventsub: the app token was refused for good; closing the pool's shards");
        let ids: Vec<u32> = lock(&pool.shards).keys().copied().collect();
        for id in &ids {
            pool.forget(*id);
        }
        let policy = pool.cfg.on_token_invalid;
        let _ = tx.send(SessionItem::TokenInvalid(TokenInvalidated { user: None, policy })).await;
        if policy == OnTokenInvalid::End {
            drop(tx);
            lock(&pool.tx).take();
            return;
        }
        drop(pool);
        // Wait for a new app token, then run the same shards again.
        loop {
            match rx.recv().await {
                Ok(TokenEvent::AppTokenRenewed) => break,
                Ok(_) | Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            }
        }
        let Some(pool) = ctx.upgrade() else { return };
        match start_shards(&pool, ids.clone(), None).await {
            Ok(()) => {
                for id in ids {
                    if let Some(session_id) = pool.session_of(id) {
                        let item = SessionItem::Recovered(Recovered {
                            session_id,
                            resubscribed: 0,
                            failed: Vec::new(),
                            shard: Some(id),
                        });
                        let _ = tx.send(item).await;
                    }
                }
            }
            Err(e) => {
                let _ = tx.send(SessionItem::Error(e)).await;
            }
        }
    }
}

/// WebSocket shards of one conduit, merged into one `Stream` of
/// [`SessionItem`]s (each notification says which shard got it).
pub struct ShardPool<E> {
    rx: mpsc::Receiver<SessionItem<E>>,
    ctx: Arc<PoolCtx<E>>,
}

impl<E> std::fmt::Debug for ShardPool<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardPool")
            .field("conduit_id", &self.ctx.conduit_id)
            .field("shards", &lock(&self.ctx.shards).len())
            .finish()
    }
}

impl<E: EventPayload + Send + 'static> ShardPool<E> {
    /// The next item from any shard; `None` once the pool is closed.
    pub async fn next(&mut self) -> Option<SessionItem<E>> {
        self.rx.recv().await
    }

    /// The notifications of one subscription type only, typed, with every
    /// item that is not a notification passed through: see [`Events`].
    pub fn events<T: FromEvent<E>>(&mut self) -> Events<&mut Self, E, T> {
        Events::new(self)
    }

    /// The conduit's id.
    pub fn conduit_id(&self) -> &ConduitId {
        &self.ctx.conduit_id
    }

    /// The shard ids this pool runs.
    pub fn shard_ids(&self) -> Vec<u32> {
        lock(&self.ctx.shards).keys().copied().collect()
    }

    /// Each shard's current session id (`None` while it reconnects).
    pub fn sessions(&self) -> BTreeMap<u32, Option<SessionId>> {
        lock(&self.ctx.shards)
            .iter()
            .map(|(id, s)| (*id, s.state.borrow().as_ref().map(|c| SessionId::from(c.id.as_str()))))
            .collect()
    }

    /// Set the conduit's shard count to `count` and run shards `0..count`
    /// here. Growing, the new shards are connected first, then the count is
    /// raised and they are attached at once, so the conduit never waits on
    /// several disabled shards; shrinking, the count is lowered first, then
    /// the surplus connections are closed.
    pub async fn scale(&self, count: u32) -> Result<()> {
        let current = self.shard_ids();
        let new: Vec<u32> = (0..count).filter(|id| !current.contains(id)).collect();
        if new.is_empty() {
            self.ctx.api.update_conduit(self.ctx.conduit_id.clone(), count).await?;
        } else {
            start_shards(&self.ctx, new, Some(count)).await?;
        }
        let surplus: Vec<u32> = current.iter().copied().filter(|id| *id >= count).collect();
        self.remove_shards(surplus).await;
        Ok(())
    }

    /// Run and attach these shards too (without changing the conduit's
    /// shard count, which another process may own).
    pub async fn add_shards(&self, ids: impl IntoIterator<Item = u32>) -> Result<()> {
        start_shards(&self.ctx, ids.into_iter().collect(), None).await
    }

    /// Close these shards' connections (without changing the conduit).
    pub async fn remove_shards(&self, ids: impl IntoIterator<Item = u32>) {
        for id in ids {
            let ctl = lock(&self.ctx.shards).remove(&id);
            if let Some(ctl) = ctl {
                let _ = ctl.cmd.send(Command::Close).await;
            }
        }
    }

    /// Close every shard; the stream ends after what was already read.
    pub async fn close(&self) {
        close_pool(&self.ctx).await;
    }
}

async fn close_pool<E>(ctx: &PoolCtx<E>) {
    let ctls: Vec<ShardCtl> = std::mem::take(&mut *lock(&ctx.shards)).into_values().collect();
    for ctl in ctls {
        let _ = ctl.cmd.send(Command::Close).await;
    }
    lock(&ctx.tx).take();
}

/// Connect the shards, optionally set the conduit's shard count, then
/// attach them all (in batched calls, refused ones again with backoff). A
/// shard that cannot be connected or attached is dropped from the pool
/// and its error returned.
async fn start_shards<E: EventPayload + Send + 'static>(
    ctx: &Arc<PoolCtx<E>>,
    ids: Vec<u32>,
    grow_to: Option<u32>,
) -> Result<()> {
    let mut pending = Vec::new();
    for id in ids {
        if lock(&ctx.shards).contains_key(&id) {
            continue;
        }
        let (cmd_tx, cmd_rx) = mpsc::channel(4);
        let (state_tx, state_rx) = watch::channel(None);
        lock(&ctx.shards).insert(id, ShardCtl { cmd: cmd_tx, state: state_rx });
        let (connected_tx, connected_rx) = oneshot::channel();
        let (gate_tx, gate_rx) = oneshot::channel();
        let (done_tx, done_rx) = oneshot::channel();
        let steps = Steps { connected: connected_tx, gate: gate_rx, done: done_tx };
        tokio::spawn(run_shard(Arc::downgrade(ctx), id, state_tx, cmd_rx, steps));
        pending.push((id, connected_rx, gate_tx, done_rx));
    }
    let mut first_error = None;
    let mut connected = Vec::new();
    for (id, connected_rx, gate, done) in pending {
        match connected_rx.await.unwrap_or_else(|_| Err(closed())) {
            Ok(()) => connected.push((id, gate, done)),
            Err(e) => {
                tracing::warn!(shard = id, error = %e, "eventsub: shard not connected");
                ctx.forget(id);
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(count) = grow_to
        && let Err(e) = ctx.api.update_conduit(ctx.conduit_id.clone(), count).await
    {
        for (id, _, _) in connected {
            ctx.forget(id);
        }
        return Err(e);
    }
    let mut attaching = Vec::new();
    for (id, gate, done) in connected {
        let _ = gate.send(());
        attaching.push((id, done));
    }
    for (id, done) in attaching {
        if let Err(e) = done.await.unwrap_or_else(|_| Err(closed())) {
            tracing::warn!(shard = id, error = %e, "eventsub: shard not attached");
            ctx.forget(id);
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

fn closed() -> Error {
    Error::EventSub(EventSubError::Closed)
}

/// The turning points of a starting shard, reported to `start_shards`.
struct Steps {
    connected: oneshot::Sender<Result<()>>,
    /// Released when the shard may be attached.
    gate: oneshot::Receiver<()>,
    done: oneshot::Sender<Result<()>>,
}

/// One shard: connect (with backoff), wait for the go, attach, then run
/// like a session.
async fn run_shard<E: EventPayload + Send + 'static>(
    ctx: Weak<PoolCtx<E>>,
    shard_id: u32,
    state: watch::Sender<Option<Current>>,
    mut cmd: mpsc::Receiver<Command>,
    steps: Steps,
) {
    let Some(pool) = ctx.upgrade() else { return };
    let cfg = pool.cfg.clone();
    let mut attempt = 0u32;
    let (ws, welcome) = loop {
        tokio::select! {
            biased;
            _ = cmd.recv() => {
                let _ = steps.connected.send(Err(closed()));
                return;
            }
            r = engine::connect::<E>(&cfg) => match r {
                Ok(ok) => break ok,
                Err(e) if attempt >= 3 => {
                    let _ = steps.connected.send(Err(e));
                    return;
                }
                Err(e) => tracing::warn!(shard = shard_id, error = %e, "eventsub: shard connect failed"),
            },
        }
        tokio::time::sleep(cfg.backoff.delay(attempt)).await;
        attempt += 1;
    };
    let _ = state.send(Some(Current { id: welcome.id.clone(), epoch: 0, welcomes: 0 }));
    let _ = steps.connected.send(Ok(()));
    tokio::select! {
        biased;
        _ = cmd.recv() => return,
        go = steps.gate => if go.is_err() { return },
    }
    let attached = attach(&pool, shard_id, &welcome.id).await.map(|_| ());
    let failed = attached.is_err();
    let _ = steps.done.send(attached);
    let Some(tx) = pool.tx() else { return };
    if failed {
        return;
    }
    let engine = Engine {
        cfg,
        shard: Some(shard_id),
        tx,
        dedup: pool.dedup.clone(),
        state,
        cmd,
        hooks: Arc::new(ShardHooks { ctx: ctx.clone(), shard_id }),
        // The pool follows the app token as a whole.
        token: None,
    };
    drop(pool);
    engine.run(ws, welcome).await;
}

impl<E> futures_core::Stream for ShardPool<E> {
    type Item = SessionItem<E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}
