//! A pool of WebSocket shards for one conduit.
//!
//! Each shard is a connection like a [`Session`](super::Session)'s, but owns
//! no subscriptions: the conduit's subscriptions are made with an app token,
//! and Twitch spreads their notifications over the conduit's shards. The
//! pool points each shard at its connection's session (batching the update
//! calls), points it again whenever the session changes or Twitch reports
//! the shard disabled, and merges every shard into one deduplicated stream.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

use super::engine::{self, Command, Config, Engine, Hooks};
use super::{Backoff, BoxFuture, EventSubApi, EventSubError, Recovered, SessionItem, ShardAttach, lock};
use crate::error::{Error, Result};
use crate::eventsub::EventPayload;
use crate::webhook::SeenIds;

/// Most shards sent in one update call.
const MAX_BATCH: usize = 100;

/// Configures and starts a [`ShardPool`].
#[must_use]
pub struct ShardPoolBuilder<E> {
    api: Arc<dyn EventSubApi>,
    conduit_id: String,
    cfg: Config,
    shards: Vec<u32>,
    grow_to: Option<u32>,
    batch_window: Duration,
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
    pub fn new(api: Arc<dyn EventSubApi>, conduit_id: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            api,
            conduit_id: conduit_id.into(),
            cfg: Config::new(url.into()),
            shards: vec![0],
            grow_to: None,
            batch_window: Duration::from_millis(50),
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

    /// Backoff between reconnect attempts.
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

    /// Start every shard and attach it; returns once each shard was
    /// attached (or refused, which is an error).
    pub async fn start(self) -> Result<ShardPool<E>> {
        let cfg = self.cfg;
        let (tx, rx) = mpsc::channel(self.buffer);
        let (attach_tx, attach_rx) = mpsc::channel(1024);
        tokio::spawn(attacher(self.api.clone(), self.conduit_id.clone(), attach_rx, self.batch_window));
        let ctx = Arc::new(PoolCtx {
            api: self.api,
            conduit_id: self.conduit_id,
            cfg,
            attach: attach_tx,
            tx,
            dedup: Arc::new(Mutex::new(SeenIds::new(self.dedup))),
            shards: Mutex::new(BTreeMap::new()),
        });
        let pool = ShardPool { rx, ctx };
        if let Err(e) = pool.start_shards(self.shards, self.grow_to).await {
            pool.close().await;
            return Err(e);
        }
        Ok(pool)
    }
}

struct ShardCtl {
    cmd: mpsc::Sender<Command>,
    state: watch::Receiver<Option<String>>,
}

struct AttachReq {
    shard_id: u32,
    session_id: String,
    reply: oneshot::Sender<Result<()>>,
}

struct PoolCtx<E> {
    api: Arc<dyn EventSubApi>,
    conduit_id: String,
    cfg: Config,
    attach: mpsc::Sender<AttachReq>,
    tx: mpsc::Sender<SessionItem<E>>,
    dedup: Arc<Mutex<SeenIds>>,
    shards: Mutex<BTreeMap<u32, ShardCtl>>,
}

impl<E> PoolCtx<E> {
    async fn attach(&self, shard_id: u32, session_id: String) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        self.attach.send(AttachReq { shard_id, session_id, reply }).await.map_err(|_| closed())?;
        rx.await.map_err(|_| closed())?
    }
}

fn closed() -> Error {
    Error::EventSub(EventSubError::Closed)
}

fn refused(shard_id: u32, message: String, code: String) -> Error {
    Error::EventSub(EventSubError::ShardRefused { shard_id: shard_id.to_string(), message, code })
}

/// Gathers attach requests for a moment and sends them as one update call.
async fn attacher(api: Arc<dyn EventSubApi>, conduit_id: String, mut rx: mpsc::Receiver<AttachReq>, window: Duration) {
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
        let update = shards.into_iter().map(|(shard_id, session_id)| ShardAttach { shard_id, session_id }).collect();
        match api.update_conduit_shards(conduit_id.clone(), update).await {
            Ok(errors) => {
                for r in batch {
                    let id = r.shard_id.to_string();
                    let res = match errors.iter().find(|e| e.shard_id == id) {
                        Some(e) => Err(refused(r.shard_id, e.message.clone(), e.code.clone())),
                        None => Ok(()),
                    };
                    let _ = r.reply.send(res);
                }
            }
            Err(e) => {
                let message = e.to_string();
                for r in batch {
                    let _ = r.reply.send(Err(refused(r.shard_id, message.clone(), String::new())));
                }
            }
        }
    }
}

struct ShardHooks<E> {
    ctx: std::sync::Weak<PoolCtx<E>>,
    shard_id: u32,
}

impl<E: Send + 'static> ShardHooks<E> {
    fn reattach(
        &self,
        shard_id: u32,
        session_id: String,
        report: bool,
    ) -> Option<BoxFuture<'static, Option<SessionItem<E>>>> {
        let ctx = self.ctx.upgrade()?;
        Some(Box::pin(async move {
            match ctx.attach(shard_id, session_id.clone()).await {
                Ok(()) if report => Some(SessionItem::Recovered(Recovered {
                    session_id,
                    resubscribed: 0,
                    failed: Vec::new(),
                    shard: Some(shard_id),
                })),
                Ok(()) => None,
                Err(e) => Some(SessionItem::Error(e)),
            }
        }))
    }
}

impl<E: Send + 'static> Hooks<E> for ShardHooks<E> {
    fn fresh(&self, session_id: String) -> Option<BoxFuture<'static, Option<SessionItem<E>>>> {
        self.reattach(self.shard_id, session_id, true)
    }

    fn moved(&self, session_id: String) -> Option<BoxFuture<'static, Option<SessionItem<E>>>> {
        self.reattach(self.shard_id, session_id, false)
    }

    fn revoked(&self, _: &crate::eventsub::SubscriptionInfo) {}

    fn shard_disabled(&self, conduit_id: &str, shard_id: &str) -> Option<BoxFuture<'static, Option<SessionItem<E>>>> {
        let ctx = self.ctx.upgrade()?;
        if ctx.conduit_id != conduit_id {
            return None;
        }
        let id: u32 = shard_id.parse().ok()?;
        let session = lock(&ctx.shards).get(&id).and_then(|s| s.state.borrow().clone())?;
        tracing::info!(shard = id, "eventsub: Twitch disabled one of our shards; attaching it again");
        self.reattach(id, session, true)
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

    /// The conduit's id.
    pub fn conduit_id(&self) -> &str {
        &self.ctx.conduit_id
    }

    /// The shard ids this pool runs.
    pub fn shard_ids(&self) -> Vec<u32> {
        lock(&self.ctx.shards).keys().copied().collect()
    }

    /// Each shard's current session id (`None` while it reconnects).
    pub fn sessions(&self) -> BTreeMap<u32, Option<String>> {
        lock(&self.ctx.shards).iter().map(|(id, s)| (*id, s.state.borrow().clone())).collect()
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
            self.start_shards(new, Some(count)).await?;
        }
        let surplus: Vec<u32> = current.iter().copied().filter(|id| *id >= count).collect();
        self.remove_shards(surplus).await;
        Ok(())
    }

    /// Run and attach these shards too (without changing the conduit's
    /// shard count, which another process may own).
    pub async fn add_shards(&self, ids: impl IntoIterator<Item = u32>) -> Result<()> {
        self.start_shards(ids.into_iter().collect(), None).await
    }

    /// Connect the shards, optionally set the conduit's shard count, then
    /// attach them all (in batched calls). A shard that cannot be connected
    /// or attached is dropped from the pool and its error returned.
    async fn start_shards(&self, ids: Vec<u32>, grow_to: Option<u32>) -> Result<()> {
        let mut pending = Vec::new();
        for id in ids {
            if lock(&self.ctx.shards).contains_key(&id) {
                continue;
            }
            let (cmd_tx, cmd_rx) = mpsc::channel(4);
            let (state_tx, state_rx) = watch::channel(None);
            lock(&self.ctx.shards).insert(id, ShardCtl { cmd: cmd_tx, state: state_rx });
            let (connected_tx, connected_rx) = oneshot::channel();
            let (gate_tx, gate_rx) = oneshot::channel();
            let (done_tx, done_rx) = oneshot::channel();
            let steps = Steps { connected: connected_tx, gate: gate_rx, done: done_tx };
            tokio::spawn(run_shard(Arc::downgrade(&self.ctx), id, state_tx, cmd_rx, steps));
            pending.push((id, connected_rx, gate_tx, done_rx));
        }
        let mut first_error = None;
        let mut connected = Vec::new();
        for (id, connected_rx, gate, done) in pending {
            match connected_rx.await.unwrap_or_else(|_| Err(closed())) {
                Ok(()) => connected.push((id, gate, done)),
                Err(e) => {
                    tracing::warn!(shard = id, error = %e, "eventsub: shard not connected");
                    self.forget(id);
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(count) = grow_to
            && let Err(e) = self.ctx.api.update_conduit(self.ctx.conduit_id.clone(), count).await
        {
            for (id, _, _) in connected {
                self.forget(id);
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
                self.forget(id);
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn forget(&self, id: u32) {
        if let Some(ctl) = lock(&self.ctx.shards).remove(&id) {
            let _ = ctl.cmd.try_send(Command::Close);
        }
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
        let ids = self.shard_ids();
        self.remove_shards(ids).await;
    }
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
    ctx: std::sync::Weak<PoolCtx<E>>,
    shard_id: u32,
    state: watch::Sender<Option<String>>,
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
    let _ = state.send(Some(welcome.id.clone()));
    let _ = steps.connected.send(Ok(()));
    tokio::select! {
        biased;
        _ = cmd.recv() => return,
        go = steps.gate => if go.is_err() { return },
    }
    let attached = pool.attach(shard_id, welcome.id.clone()).await;
    let failed = attached.is_err();
    let _ = steps.done.send(attached);
    if failed {
        return;
    }
    let engine = Engine {
        cfg,
        shard: Some(shard_id),
        tx: pool.tx.clone(),
        dedup: pool.dedup.clone(),
        state,
        cmd,
        hooks: Arc::new(ShardHooks { ctx: ctx.clone(), shard_id }),
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
