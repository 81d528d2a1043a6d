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
//!
//! A pool runs fixed shard ids (it *owns* them: after a loss it takes them
//! back at once), claims shards, or both. Claiming, it reads Get Conduit
//! Shards and attaches the lowest ids that are not `enabled` (within its
//! range); a claimed shard it loses (its session is closed, Twitch refuses
//! it, or the health check finds it elsewhere) is looked up first: enabled
//! on a session this pool never had, or no longer in the conduit, it is let
//! go ([`SessionItem::ShardReleased`]) and a free shard claimed in its place.
//! So two processes that race for one shard settle on one each, instead of
//! taking it from each other forever.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::{Bound, RangeBounds};
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

use super::api::{EventSubApi, ShardAttach, ShardError, ShardStatus};
use super::engine::{self, Command, Config, Current, Emit, Engine, Hooks};
use super::typed::Events;
use super::types::{
    OnTokenInvalid, Recovered, ReleaseReason, SessionItem, ShardClaimed, ShardReleased, TokenInvalidated, lock,
};
use crate::base::error::EventSubError;
use crate::base::error::{Error, Result};
use crate::base::seen::SeenIds;
use crate::base::types::{Backoff, BoxFuture, ConduitId, SessionId};
use crate::eventsub::decode::{EventPayload, FromEvent, SubscriptionInfo};
use crate::http::credentials::TokenEvent;

/// Most shards sent in one update call.
const MAX_BATCH: usize = 100;

/// Most rounds of one claim: each round claims shards or loses every one it
/// tried to another process (which then holds them, so they are not tried
/// again); the bound only matters when many processes race at once.
const CLAIM_ROUNDS: usize = 8;

/// The shard ids a pool claims from, and how many it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Claim {
    /// `None`: every free shard of the range.
    count: Option<u32>,
    start: u32,
    /// Exclusive; `None`: unbounded.
    end: Option<u32>,
}

impl Claim {
    fn any() -> Self {
        Self { count: None, start: 0, end: None }
    }

    fn contains(&self, id: u32) -> bool {
        id >= self.start && self.end.is_none_or(|end| id < end)
    }

    /// For errors: `any`, `4..`, `0..8`.
    fn describe(&self) -> String {
        match (self.start, self.end) {
            (0, None) => "any".into(),
            (start, None) => format!("{start}.."),
            (start, Some(end)) => format!("{start}..{end}"),
        }
    }
}

/// Configures and starts a [`ShardPool`].
#[must_use]
pub struct ShardPoolBuilder<E> {
    api: Arc<dyn EventSubApi>,
    conduit_id: ConduitId,
    cfg: Config,
    /// Ids the pool owns; `None`: shard 0, unless it claims.
    fixed: Option<Vec<u32>>,
    claim: Option<Claim>,
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
            .field("shards", &self.fixed.as_ref().map(Vec::len))
            .field("claim", &self.claim)
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
            fixed: None,
            claim: None,
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
        self.fixed = Some((0..count).collect());
        self
    }

    /// Run exactly these shard ids (one of several processes sharing a
    /// conduit). The pool owns them: a shard another session takes is
    /// taken back at once.
    pub fn shards(mut self, ids: impl IntoIterator<Item = u32>) -> Self {
        self.fixed = Some(ids.into_iter().collect());
        self
    }

    /// Claim `count` shards (at least 1) that Get Conduit Shards lists as
    /// not `enabled` (nor `webhook_callback_verification_pending`), lowest
    /// ids first, from any id or from
    /// [`claim_range`](Self::claim_range): processes need no fixed
    /// assignment. Claimed shards are not owned: one another session takes
    /// is let go ([`SessionItem::ShardReleased`]) and a free one claimed in
    /// its place ([`SessionItem::ShardClaimed`]); the health check also
    /// claims free shards while the pool holds fewer than `count`. Without
    /// [`shards`](Self::shards) or [`shard_count`](Self::shard_count), the
    /// pool runs claimed shards only, and [`start`](Self::start) fails with
    /// [`EventSubError::NoFreeShard`] when it finds none free.
    pub fn claim(mut self, count: u32) -> Self {
        self.claim.get_or_insert_with(Claim::any).count = Some(count.max(1));
        self
    }

    /// Claim from these shard ids only (`4..8`, `..4`, `..`); without
    /// [`claim`](Self::claim), every one of them that is free.
    pub fn claim_range(mut self, range: impl RangeBounds<u32>) -> Self {
        let claim = self.claim.get_or_insert_with(Claim::any);
        claim.start = match range.start_bound() {
            Bound::Included(s) => *s,
            Bound::Excluded(s) => s.saturating_add(1),
            Bound::Unbounded => 0,
        };
        claim.end = match range.end_bound() {
            Bound::Included(e) => Some(e.saturating_add(1)),
            Bound::Excluded(e) => Some(*e),
            Bound::Unbounded => None,
        };
        self
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
    /// A pool that claims raises the count before it looks for free shards
    /// (the new ids are disabled for the time it takes to connect).
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
    /// A claiming pool also lets go of claimed shards it finds on another
    /// session or gone from the conduit, and claims free shards while it
    /// holds fewer than it claims.
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
    /// attached, or given up (which is an error). A claiming pool then
    /// claims its shards; it fails with [`EventSubError::NoFreeShard`] if
    /// it would run no shard at all, and yields that error as an item when
    /// it found fewer free shards than it claims.
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
            claim: self.claim,
            owned: Mutex::new(BTreeSet::new()),
            attached: Mutex::new(BTreeMap::new()),
            claiming: tokio::sync::Mutex::new(()),
            alive: watch::channel(()).0,
        });
        let fixed = self.fixed.unwrap_or_else(|| if ctx.claim.is_some() { Vec::new() } else { vec![0] });
        if let Err(e) = start_shards(&ctx, fixed, self.grow_to).await {
            close_pool(&ctx).await;
            return Err(e);
        }
        if ctx.claim.is_some() {
            // A claim won and then lost to another process before this
            // check (its socket closed with 4003 once the other's update
            // landed) leaves the pool empty although other shards may be
            // free: claim again while claims are being won.
            let mut error = None;
            for _ in 0..CLAIM_ROUNDS {
                let (claimed, e) = claim_free(&ctx).await;
                error = e;
                if error.is_some() || claimed.is_empty() || !lock(&ctx.shards).is_empty() {
                    break;
                }
            }
            if lock(&ctx.shards).is_empty() {
                close_pool(&ctx).await;
                return Err(error.unwrap_or_else(|| no_free_shard(&ctx)));
            }
            let short = ctx.missing().is_some_and(|n| n > 0);
            if let Some(e) = error.or_else(|| short.then(|| no_free_shard(&ctx)))
                && let Some(tx) = ctx.tx()
            {
                let _ = tx.try_send(SessionItem::Error(e));
            }
        }
        if let Some(every) = self.health_check {
            tokio::spawn(health_check(Arc::downgrade(&ctx), every, ctx.alive.subscribe()));
        }
        if let Some(rx) = tokens {
            tokio::spawn(watch_app_token(Arc::downgrade(&ctx), rx, ctx.alive.subscribe()));
        }
        Ok(ShardPool { rx, ctx })
    }
}

struct ShardCtl {
    cmd: mpsc::Sender<Command>,
    state: watch::Receiver<Option<Current>>,
}

/// How an attach ended, short of an error.
#[derive(Debug)]
enum Outcome {
    Attached,
    /// The shard's session changed meanwhile: a newer attach takes over.
    Superseded,
    /// A claimed shard that is no longer this pool's: it is no longer run.
    Released(ReleaseReason),
}

/// Why an attach did not happen.
#[derive(Debug, Clone)]
enum AttachFailure {
    /// Twitch answered the call and refused this shard.
    Refused(ShardError),
    /// The call failed in a way that says nothing about the shard and may
    /// pass (a transport error, a 5xx, a 429): tried again.
    Failed(String),
    /// The call was refused for a reason that does not pass by itself (a
    /// 400, 401 or 403, no token): counted like a refusal.
    Rejected { message: String, status: u16 },
    /// Twitch answered 404: the conduit does not exist (any more).
    ConduitGone(String),
}

impl AttachFailure {
    /// What a failed Update Conduit Shards call means for every shard in it.
    fn of(e: &Error) -> Self {
        let message = e.to_string();
        match e {
            Error::Api { status: 404, .. } => Self::ConduitGone(message),
            Error::Transport { .. } | Error::RateLimited { .. } | Error::Decode { .. } => Self::Failed(message),
            Error::Api { status, .. } if *status >= 500 || *status == 429 => Self::Failed(message),
            Error::RefreshFailed { .. } => Self::Failed(message),
            other => Self::Rejected { message, status: other.status().unwrap_or(0) },
        }
    }
}

struct AttachReq {
    shard_id: u32,
    session_id: String,
    reply: oneshot::Sender<std::result::Result<(), AttachFailure>>,
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
    claim: Option<Claim>,
    /// Ids this pool was configured to run (taken back after a loss, never
    /// let go); every other running shard was claimed.
    owned: Mutex<BTreeSet<u32>>,
    /// The session each shard was last attached to.
    attached: Mutex<BTreeMap<u32, String>>,
    /// One claim at a time.
    claiming: tokio::sync::Mutex<()>,
    /// Dropped with the pool: the background tasks' receivers see it and end.
    alive: watch::Sender<()>,
}

impl<E> PoolCtx<E> {
    fn tx(&self) -> Option<Emit<E>> {
        lock(&self.tx).clone()
    }

    /// One attach request, batched with others.
    async fn attach_once(&self, shard_id: u32, session_id: String) -> std::result::Result<(), AttachFailure> {
        let (reply, rx) = oneshot::channel();
        let gone = || AttachFailure::Refused(ShardError::new(shard_id.to_string(), "the pool is closed", ""));
        self.attach.send(AttachReq { shard_id, session_id, reply }).await.map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// The shard's current session id here, if it is running and connected.
    fn session_of(&self, shard_id: u32) -> Option<String> {
        lock(&self.shards).get(&shard_id).and_then(|s| s.state.borrow().as_ref().map(|c| c.id.clone()))
    }

    /// Stop running a shard: its engine closes its socket.
    fn forget(&self, id: u32) {
        lock(&self.attached).remove(&id);
        if let Some(ctl) = lock(&self.shards).remove(&id) {
            let _ = ctl.cmd.try_send(Command::Close);
        }
    }

    fn owns(&self, id: u32) -> bool {
        lock(&self.owned).contains(&id)
    }

    /// Running shards this pool claimed.
    fn claimed(&self) -> Vec<u32> {
        let owned = lock(&self.owned).clone();
        lock(&self.shards).keys().copied().filter(|id| !owned.contains(id)).collect()
    }

    /// How many more shards the pool claims; `None` without a count.
    fn missing(&self) -> Option<u32> {
        let count = self.claim.as_ref()?.count?;
        Some(count.saturating_sub(self.claimed().len() as u32))
    }

    /// The sessions a shard is this pool's on: its current one, the one it
    /// was last attached to, and `also`.
    fn sessions_of(&self, id: u32, also: Option<&str>) -> Vec<String> {
        let mut mine: Vec<String> = self.session_of(id).into_iter().collect();
        mine.extend(lock(&self.attached).get(&id).cloned());
        mine.extend(also.map(str::to_owned));
        mine
    }

    /// Whether claimed shard `id` is no longer this pool's, by Get Conduit Shards.
    async fn lost(&self, id: u32, also: Option<&str>) -> Result<Option<ReleaseReason>> {
        let listed = self.api.conduit_shards(self.conduit_id.clone()).await?;
        Ok(release_reason(&listed, id, &self.sessions_of(id, also)))
    }
}

/// Why shard `id` is not this pool's any more, if it is not: the listing
/// has it enabled on a session that is not one of `mine`, or lacks it.
fn release_reason(listed: &[ShardStatus], id: u32, mine: &[String]) -> Option<ReleaseReason> {
    let key = id.to_string();
    let Some(s) = listed.iter().find(|s| s.shard_id == key) else { return Some(ReleaseReason::Removed) };
    let ours = s.session_id.as_ref().is_some_and(|sid| mine.iter().any(|m| m == sid.as_str()));
    (s.status == "enabled" && !ours).then(|| ReleaseReason::Taken { session_id: s.session_id.clone() })
}

fn no_free_shard<E>(ctx: &PoolCtx<E>) -> Error {
    let range = ctx.claim.as_ref().map_or_else(|| "any".into(), Claim::describe);
    Error::EventSub(EventSubError::NoFreeShard { conduit_id: ctx.conduit_id.to_string(), range })
}

/// Twitch's per-shard error for a shard id the conduit does not have.
fn out_of_range(e: &ShardError) -> bool {
    e.message.to_ascii_lowercase().contains("range")
}

/// Attach `shard_id` to `session_id`, trying again with backoff while
/// Twitch refuses (each refusal but the last reported through `tx`). A
/// shard the conduit does not have, or one every attempt was refused for,
/// is no longer run: its socket is closed and the error says why. A claimed
/// shard Twitch refuses is looked up first: taken by another session or
/// gone from the conduit, it is let go ([`Outcome::Released`]).
///
/// A call that fails without a word about the shard (Helix unreachable,
/// a 5xx, a 429) is no refusal: with `persist` (a running pool attaching a
/// shard again) it is tried again with backoff for as long as the shard
/// runs on this session, each failure reported; at start, where the caller
/// waits for the answer, it counts like a refusal. A 404 means the conduit
/// is gone: [`EventSubError::ConduitGone`] at once.
async fn attach<E: Send + 'static>(
    ctx: &PoolCtx<E>,
    shard_id: u32,
    session_id: &str,
    persist: bool,
) -> Result<Outcome> {
    let (mut refusals, mut failures) = (0u32, 0u32);
    loop {
        let e = match ctx.attach_once(shard_id, session_id.to_owned()).await {
            Ok(()) => {
                lock(&ctx.attached).insert(shard_id, session_id.to_owned());
                return Ok(Outcome::Attached);
            }
            Err(AttachFailure::ConduitGone(message)) => {
                tracing::warn!(shard = shard_id, conduit = %ctx.conduit_id, "eventsub: the conduit is gone; closing the shard");
                ctx.forget(shard_id);
                lock(&ctx.owned).remove(&shard_id);
                return Err(Error::EventSub(EventSubError::ConduitGone {
                    conduit_id: ctx.conduit_id.to_string(),
                    message,
                }));
            }
            Err(AttachFailure::Failed(message)) if persist => {
                failures += 1;
                let failed =
                    EventSubError::ShardAttachFailed { shard_id: shard_id.to_string(), message, attempt: failures };
                tracing::warn!(shard = shard_id, error = %failed, "eventsub: attaching a shard failed; trying again");
                if let Some(tx) = ctx.tx() {
                    let _ = tx.send(SessionItem::Error(Error::EventSub(failed))).await;
                }
                tokio::time::sleep(ctx.cfg.backoff.delay(failures - 1)).await;
                if ctx.session_of(shard_id).as_deref() != Some(session_id) {
                    return Ok(Outcome::Superseded);
                }
                continue;
            }
            Err(AttachFailure::Failed(message)) => ShardError::new(shard_id.to_string(), message, ""),
            Err(AttachFailure::Rejected { message, status }) => {
                ShardError::new(shard_id.to_string(), message, status.to_string())
            }
            Err(AttachFailure::Refused(e)) => e,
        };
        refusals += 1;
        let attempt = refusals;
        let claimed = !ctx.owns(shard_id);
        if out_of_range(&e) {
            tracing::warn!(shard = shard_id, message = %e.message, "eventsub: the conduit has no such shard; closing it");
            ctx.forget(shard_id);
            if claimed {
                return Ok(Outcome::Released(ReleaseReason::Removed));
            }
            lock(&ctx.owned).remove(&shard_id);
            return Err(Error::EventSub(EventSubError::ShardOutOfRange {
                shard_id: shard_id.to_string(),
                message: e.message,
            }));
        }
        // Another process may have claimed it first (Twitch answers the
        // loser's update with an error): then it is theirs.
        if claimed {
            match ctx.lost(shard_id, Some(session_id)).await {
                Ok(Some(reason)) => {
                    tracing::info!(shard = shard_id, message = %e.message, "eventsub: a claimed shard went to another session; letting it go");
                    ctx.forget(shard_id);
                    return Ok(Outcome::Released(reason));
                }
                Ok(None) => {}
                Err(look) => {
                    tracing::warn!(shard = shard_id, error = %look, "eventsub: could not read the conduit's shards after a refusal")
                }
            }
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
            return Ok(Outcome::Superseded);
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
                        Some(e) => Err(AttachFailure::Refused(e.clone())),
                        None => Ok(()),
                    };
                    let _ = r.reply.send(res);
                }
            }
            Err(e) => {
                let failure = AttachFailure::of(&e);
                for r in batch {
                    let _ = r.reply.send(Err(failure.clone()));
                }
            }
        }
    }
}

struct ShardHooks<E> {
    ctx: Weak<PoolCtx<E>>,
    shard_id: u32,
}

/// Attach a shard again and report how it went. With `check`, a claimed
/// shard is looked up first (its session was lost, or Twitch disabled it:
/// another process may hold it now) and let go if it is no longer ours.
fn reattach<E: EventPayload + Send + 'static>(
    ctx: Weak<PoolCtx<E>>,
    shard_id: u32,
    session_id: String,
    report: bool,
    check: bool,
    tx: Emit<E>,
) -> Option<BoxFuture<'static, ()>> {
    let ctx = ctx.upgrade()?;
    Some(Box::pin(async move {
        if check && !ctx.owns(shard_id) {
            match ctx.lost(shard_id, None).await {
                Ok(Some(reason)) => return release(&ctx, shard_id, reason, &tx).await,
                Ok(None) => {}
                // Keep the shard: a transient fault must not give it away.
                Err(e) => {
                    tracing::warn!(shard = shard_id, error = %e, "eventsub: could not read the conduit's shards; attaching the claimed shard again")
                }
            }
        }
        let item = match attach(&ctx, shard_id, &session_id, true).await {
            Ok(Outcome::Attached) if report => SessionItem::Recovered(Recovered {
                session_id,
                resubscribed: 0,
                failed: Vec::new(),
                shard: Some(shard_id),
            }),
            Ok(Outcome::Released(reason)) => return release(&ctx, shard_id, reason, &tx).await,
            Ok(_) => return,
            Err(e @ Error::EventSub(EventSubError::ConduitGone { .. })) => {
                // Every shard of the pool is pointless now: it ends, saying why.
                let _ = tx.send(SessionItem::Error(e)).await;
                close_pool(&ctx).await;
                return;
            }
            Err(e) => SessionItem::Error(e),
        };
        let _ = tx.send(item).await;
    }))
}

/// Let go of a claimed shard, say so, and claim a free one in its place.
async fn release<E: EventPayload + Send + 'static>(
    ctx: &Arc<PoolCtx<E>>,
    shard_id: u32,
    reason: ReleaseReason,
    tx: &Emit<E>,
) {
    tracing::info!(shard = shard_id, reason = ?reason, "eventsub: letting go of a claimed shard");
    ctx.forget(shard_id);
    let _ = tx.send(SessionItem::ShardReleased(ShardReleased { shard: shard_id, reason })).await;
    top_up(ctx, tx, true).await;
}

/// Claim free shards while the pool holds fewer than it claims, and report
/// each one; `after_loss`: say so when none was free.
async fn top_up<E: EventPayload + Send + 'static>(ctx: &Arc<PoolCtx<E>>, tx: &Emit<E>, after_loss: bool) {
    if ctx.missing() == Some(0) {
        return;
    }
    let (claimed, error) = claim_free(ctx).await;
    for shard in claimed {
        if let Some(session_id) = ctx.session_of(shard) {
            let item = SessionItem::ShardClaimed(ShardClaimed { shard, session_id: session_id.into() });
            let _ = tx.send(item).await;
        }
    }
    let short = after_loss && ctx.missing().is_some_and(|n| n > 0);
    if let Some(e) = error.or_else(|| short.then(|| no_free_shard(ctx))) {
        let _ = tx.send(SessionItem::Error(e)).await;
    }
}

impl<E: EventPayload + Send + 'static> Hooks<E> for ShardHooks<E> {
    fn fresh(&self, session_id: String, tx: Emit<E>) -> Option<BoxFuture<'static, ()>> {
        reattach(self.ctx.clone(), self.shard_id, session_id, true, true, tx)
    }

    fn moved(&self, session_id: String, tx: Emit<E>) -> Option<BoxFuture<'static, ()>> {
        // A reconnect handover: the same connection, still ours.
        reattach(self.ctx.clone(), self.shard_id, session_id, false, false, tx)
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
        reattach(self.ctx.clone(), id, session, true, true, tx)
    }
}

/// Now and then, Get Conduit Shards: a shard of this pool that is
/// connected here but that Twitch reports disabled (or, owned, pointed
/// elsewhere) is attached again; a claimed one on another session or gone
/// from the conduit is let go; free shards are claimed while the pool
/// holds fewer than it claims. Ends with the pool.
async fn health_check<E: EventPayload + Send + 'static>(
    ctx: Weak<PoolCtx<E>>,
    every: Duration,
    mut alive: watch::Receiver<()>,
) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            // The pool was dropped.
            _ = alive.changed() => return,
        }
        let Some(pool) = ctx.upgrade() else { return };
        let Some(tx) = pool.tx() else { return };
        let listed = match pool.api.conduit_shards(pool.conduit_id.clone()).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "eventsub: the shard health check could not read the conduit's shards");
                continue;
            }
        };
        let running: Vec<u32> = lock(&pool.shards).keys().copied().collect();
        for id in running {
            // Reconnecting, or still being attached: that path decides.
            let Some(mine) = pool.session_of(id) else { continue };
            if !lock(&pool.attached).contains_key(&id) {
                continue;
            }
            if !pool.owns(id)
                && let Some(reason) = release_reason(&listed, id, &pool.sessions_of(id, None))
            {
                release(&pool, id, reason, &tx).await;
                continue;
            }
            let key = id.to_string();
            let Some(s) = listed.iter().find(|s| s.shard_id == key) else { continue };
            if s.status == "enabled" && s.session_id.as_deref() == Some(mine.as_str()) {
                continue;
            }
            tracing::info!(shard = id, status = %s.status, "eventsub: health check found one of our shards disabled; attaching it again");
            if let Some(f) = reattach(ctx.clone(), id, mine, true, false, tx.clone()) {
                tokio::spawn(f);
            }
        }
        // Short of shards, and the listing shows free ones: claim them.
        if pool.missing() != Some(0)
            && let Some(claim) = &pool.claim
            && !free_shards(&pool, claim, &listed).is_empty()
        {
            top_up(&pool, &tx, false).await;
        }
    }
}

/// Follow the app token: when the manager reports it invalid, close every
/// shard and either end the pool or wait for a new token and start again.
/// The next token event, or `None` once the pool is dropped (so a
/// dropped pool's watcher does not wait for the next token event to end).
async fn next_token_event(
    rx: &mut tokio::sync::broadcast::Receiver<TokenEvent>,
    alive: &mut watch::Receiver<()>,
) -> Option<std::result::Result<TokenEvent, tokio::sync::broadcast::error::RecvError>> {
    tokio::select! {
        r = rx.recv() => Some(r),
        _ = alive.changed() => None,
    }
}

async fn watch_app_token<E: EventPayload + Send + 'static>(
    ctx: Weak<PoolCtx<E>>,
    mut rx: tokio::sync::broadcast::Receiver<TokenEvent>,
    mut alive: watch::Receiver<()>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let Some(event) = next_token_event(&mut rx, &mut alive).await else { return };
        match event {
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
            let Some(event) = next_token_event(&mut rx, &mut alive).await else { return };
            match event {
                Ok(TokenEvent::AppTokenRenewed) => break,
                Ok(_) | Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            }
        }
        let Some(pool) = ctx.upgrade() else { return };
        // Owned shards come back as they were; claimed ones are claimed afresh.
        let ids: Vec<u32> = ids.into_iter().filter(|id| pool.owns(*id)).collect();
        let started = start_shards(&pool, ids.clone(), None).await;
        top_up(&pool, &tx, false).await;
        match started {
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
///
/// # Several processes on one conduit
///
/// Each process runs a pool that either owns fixed ids
/// ([`ShardPoolBuilder::shards`]) or claims free shards
/// ([`ShardPoolBuilder::claim`], [`ShardPoolBuilder::claim_range`]).
/// Twitch gives a shard to whichever session asks last, so two processes
/// that claim the same free shard both get it for a moment; the one that
/// loses it (its socket closed, or its update refused) finds the shard
/// enabled on a session it never had, lets it go
/// ([`SessionItem::ShardReleased`]) and claims another free one
/// ([`SessionItem::ShardClaimed`]), or yields
/// [`EventSubError::NoFreeShard`]. Owned shards are taken back at once.
///
/// Rolling rescale, one process at a time (Twitch drops notifications
/// while more than one WebSocket shard is disabled):
///
/// - grow: raise the conduit's shard count (Update Conduits, or
///   [`ShardPoolBuilder::grow_conduit_to`] on the first new process), then
///   start processes that claim; each finds new ids free;
/// - shrink: stop processes ([`close`](Self::close)), then lower the count;
///   a claiming process whose shard was removed lets it go
///   ([`ReleaseReason::Removed`](super::ReleaseReason::Removed)) at its next
///   health check (or when Twitch closes its session) and claims a shard a
///   stopped process left free.
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

    /// The shard ids this pool runs because it claimed them (not owned:
    /// let go when another session takes them).
    pub fn claimed_shard_ids(&self) -> Vec<u32> {
        self.ctx.claimed()
    }

    /// Each shard's current session id (`None` while it reconnects).
    pub fn sessions(&self) -> BTreeMap<u32, Option<SessionId>> {
        lock(&self.ctx.shards)
            .iter()
            .map(|(id, s)| (*id, s.state.borrow().as_ref().map(|c| SessionId::from(c.id.as_str()))))
            .collect()
    }

    /// Set the conduit's shard count to `count` and run shards `0..count`
    /// here (owned). Growing, the new shards are connected first, then the
    /// count is raised and they are attached at once, so the conduit never
    /// waits on several disabled shards; shrinking, the count is lowered
    /// first, then the surplus connections are closed. For one process
    /// serving the whole conduit; with several, see the rescaling steps in
    /// the `twitch` crate's guide (`twitch::guide::eventsub`).
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

    /// Run and attach these shards too, owned (without changing the
    /// conduit's shard count, which another process may own).
    pub async fn add_shards(&self, ids: impl IntoIterator<Item = u32>) -> Result<()> {
        start_shards(&self.ctx, ids.into_iter().collect(), None).await
    }

    /// Close these shards' connections (without changing the conduit).
    pub async fn remove_shards(&self, ids: impl IntoIterator<Item = u32>) {
        for id in ids {
            lock(&self.ctx.owned).remove(&id);
            lock(&self.ctx.attached).remove(&id);
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

/// Connect owned shards, optionally set the conduit's shard count, then
/// attach them all (in batched calls, refused ones again with backoff). A
/// shard that cannot be connected or attached is dropped from the pool
/// and its error returned.
async fn start_shards<E: EventPayload + Send + 'static>(
    ctx: &Arc<PoolCtx<E>>,
    ids: Vec<u32>,
    grow_to: Option<u32>,
) -> Result<()> {
    lock(&ctx.owned).extend(ids.iter().copied());
    let started = start_each(ctx, ids, grow_to).await;
    started.error.map_or(Ok(()), Err)
}

/// Claim free shards until the pool holds as many as it claims (without a
/// count: every free shard of its range). Each round reads Get Conduit
/// Shards and attaches the lowest free ids; a shard another process won
/// meanwhile is let go, and the next round looks again. The claimed ids,
/// and the first error.
async fn claim_free<E: EventPayload + Send + 'static>(ctx: &Arc<PoolCtx<E>>) -> (Vec<u32>, Option<Error>) {
    let Some(claim) = ctx.claim.clone() else { return (Vec::new(), None) };
    let _one = ctx.claiming.lock().await;
    let (mut claimed, mut error) = (Vec::new(), None);
    for _ in 0..CLAIM_ROUNDS {
        let want = ctx.missing().map_or(usize::MAX, |n| n as usize);
        if want == 0 {
            break;
        }
        let listed = match ctx.api.conduit_shards(ctx.conduit_id.clone()).await {
            Ok(listed) => listed,
            Err(e) => {
                error.get_or_insert(e);
                break;
            }
        };
        let mut free = free_shards(ctx, &claim, &listed);
        free.truncate(want);
        if free.is_empty() {
            break;
        }
        tracing::debug!(shards = ?free, "eventsub: claiming free shards");
        let started = start_each(ctx, free, None).await;
        claimed.extend(started.attached);
        if let Some(e) = started.error {
            error.get_or_insert(e);
        }
        if started.released.is_empty() {
            break;
        }
        for (id, reason) in started.released {
            tracing::info!(shard = id, reason = ?reason, "eventsub: lost a claim to another session; looking again");
        }
    }
    (claimed, error)
}

/// A shard in this status may be claimed: not enabled, and not a webhook
/// Twitch is verifying (someone's, about to be enabled).
fn is_free(status: &str) -> bool {
    status != "enabled" && status != "webhook_callback_verification_pending"
}

/// The free shards of `listed`, in the claim's range and not run here,
/// lowest first.
fn free_shards<E>(ctx: &PoolCtx<E>, claim: &Claim, listed: &[ShardStatus]) -> Vec<u32> {
    let running: BTreeSet<u32> = lock(&ctx.shards).keys().copied().collect();
    let mut free: Vec<u32> = listed
        .iter()
        .filter(|s| is_free(&s.status))
        .filter_map(|s| s.shard_id.parse().ok())
        .filter(|id| claim.contains(*id) && !running.contains(id))
        .collect();
    free.sort_unstable();
    free
}

/// What starting some shards came to.
struct Started {
    attached: Vec<u32>,
    /// Claimed shards that turned out to be another session's.
    released: Vec<(u32, ReleaseReason)>,
    error: Option<Error>,
}

async fn start_each<E: EventPayload + Send + 'static>(
    ctx: &Arc<PoolCtx<E>>,
    ids: Vec<u32>,
    grow_to: Option<u32>,
) -> Started {
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
    let mut started = Started { attached: Vec::new(), released: Vec::new(), error: None };
    if let Some(count) = grow_to
        && let Err(e) = ctx.api.update_conduit(ctx.conduit_id.clone(), count).await
    {
        for (id, _, _) in connected {
            ctx.forget(id);
        }
        started.error = Some(e);
        return started;
    }
    let mut attaching = Vec::new();
    for (id, gate, done) in connected {
        let _ = gate.send(());
        attaching.push((id, done));
    }
    for (id, done) in attaching {
        match done.await.unwrap_or_else(|_| Err(closed())) {
            Ok(Outcome::Attached | Outcome::Superseded) => started.attached.push(id),
            Ok(Outcome::Released(reason)) => started.released.push((id, reason)),
            Err(e) => {
                tracing::warn!(shard = id, error = %e, "eventsub: shard not attached");
                ctx.forget(id);
                first_error.get_or_insert(e);
            }
        }
    }
    started.error = first_error;
    started
}

fn closed() -> Error {
    Error::EventSub(EventSubError::Closed)
}

/// The turning points of a starting shard, reported to `start_shards`.
struct Steps {
    connected: oneshot::Sender<Result<()>>,
    /// Released when the shard may be attached.
    gate: oneshot::Receiver<()>,
    done: oneshot::Sender<Result<Outcome>>,
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
    let attached = attach(&pool, shard_id, &welcome.id, false).await;
    let runs = matches!(attached, Ok(Outcome::Attached | Outcome::Superseded));
    let _ = steps.done.send(attached);
    let Some(tx) = pool.tx() else { return };
    if !runs {
        engine::close(ws).await;
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
        clock: Default::default(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn listed() -> Vec<ShardStatus> {
        vec![
            ShardStatus::new("0", "enabled", Some("mine".into())),
            ShardStatus::new("1", "enabled", Some("theirs".into())),
            ShardStatus::new("2", "websocket_disconnected", Some("theirs".into())),
            ShardStatus::new("3", "enabled", None),
        ]
    }

    #[test]
    fn a_claimed_shard_is_released_only_when_another_session_holds_it_or_it_is_gone() {
        let mine = vec!["mine".to_owned(), "mine-before".to_owned()];
        assert_eq!(release_reason(&listed(), 0, &mine), None);
        assert_eq!(
            release_reason(&listed(), 1, &mine),
            Some(ReleaseReason::Taken { session_id: Some("theirs".into()) })
        );
        // Disabled, whoever had it last: free, so still ours to attach.
        assert_eq!(release_reason(&listed(), 2, &mine), None);
        // Enabled on something that is no WebSocket session (a webhook).
        assert_eq!(release_reason(&listed(), 3, &mine), Some(ReleaseReason::Taken { session_id: None }));
        assert_eq!(release_reason(&listed(), 4, &mine), Some(ReleaseReason::Removed));
        // Twitch has not noticed the lost socket yet: the session it lists is one we had.
        let listed = [ShardStatus::new("5", "enabled", Some("mine-before".into()))];
        assert_eq!(release_reason(&listed, 5, &mine), None);
    }

    #[test]
    fn free_shards_are_neither_enabled_nor_a_webhook_being_verified() {
        assert!(is_free("websocket_disconnected") && is_free("websocket_failed_ping_pong"));
        assert!(is_free("webhook_callback_verification_failed") && is_free("some_new_status"));
        assert!(!is_free("enabled") && !is_free("webhook_callback_verification_pending"));
    }

    #[test]
    fn claim_ranges() {
        let b = ShardPoolBuilder::<Nothing>::new(Arc::new(NoApi), "c", "ws://127.0.0.1:9");
        let claim = |b: ShardPoolBuilder<_>| b.claim.expect("claims");
        let c = claim(b.claim(2));
        assert_eq!((c.count, c.describe()), (Some(2), "any".to_owned()));
        let b = ShardPoolBuilder::<Nothing>::new(Arc::new(NoApi), "c", "ws://127.0.0.1:9");
        let c = claim(b.claim_range(4..=7));
        assert_eq!((c.count, c.describe()), (None, "4..8".to_owned()));
        assert!(c.contains(4) && c.contains(7) && !c.contains(3) && !c.contains(8));
        let b = ShardPoolBuilder::<Nothing>::new(Arc::new(NoApi), "c", "ws://127.0.0.1:9");
        let c = claim(b.claim_range(3..).claim(0));
        assert_eq!((c.count, c.describe()), (Some(1), "3..".to_owned()));
        assert!(c.contains(u32::MAX));
    }

    /// Never decoded: the builder only names it.
    struct Nothing;

    impl EventPayload for Nothing {
        fn decode(_: &str, _: &str, _: &str) -> Result<Self, crate::DecodeError> {
            Ok(Nothing)
        }
        fn unknown(_: crate::eventsub::decode::UnknownEvent) -> Self {
            Nothing
        }
        fn kind(&self) -> (&str, &str) {
            ("", "")
        }
    }

    /// Never called: the builder only holds it.
    struct NoApi;

    impl EventSubApi for NoApi {
        fn create_subscription(
            &self,
            _: super::super::api::NewSubscription,
        ) -> BoxFuture<'_, Result<super::super::api::CreatedSubscription>> {
            unreachable!()
        }
        fn delete_subscription(
            &self,
            _: crate::base::types::SubscriptionId,
            _: Option<crate::base::types::UserId>,
        ) -> BoxFuture<'_, Result<()>> {
            unreachable!()
        }
        fn update_conduit_shards(&self, _: ConduitId, _: Vec<ShardAttach>) -> BoxFuture<'_, Result<Vec<ShardError>>> {
            unreachable!()
        }
        fn update_conduit(&self, _: ConduitId, _: u32) -> BoxFuture<'_, Result<()>> {
            unreachable!()
        }
        fn subscriptions(
            &self,
            _: String,
            _: Option<crate::base::types::UserId>,
        ) -> BoxFuture<'_, Result<Vec<SubscriptionInfo>>> {
            unreachable!()
        }
        fn conduit_shards(&self, _: ConduitId) -> BoxFuture<'_, Result<Vec<ShardStatus>>> {
            unreachable!()
        }
    }
}
