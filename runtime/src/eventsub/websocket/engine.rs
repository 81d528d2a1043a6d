//! The loop behind one logical EventSub connection: reads frames, watches
//! keepalives, follows `session_reconnect` without a gap, recovers from
//! abrupt losses, and stops using a token Twitch refused. Sessions and
//! shard pools differ only in their [`Hooks`].

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

use super::conn::{self, Ws};
use super::frame::{Frame, Message, MessageMetadata, SessionInfo, decode_frame, frame_error};
use super::types::{
    Delivered, DisconnectReason, Lost, MAX_MESSAGE_AGE, OnTokenInvalid, Revocation, SessionItem, SubscriptionStatus,
    TokenInvalidated, UnknownMessage, lock,
};
use crate::base::error::EventSubError;
use crate::base::error::{Error, Result};
use crate::base::seen::SeenIds;
use crate::base::types::UserId;
use crate::base::types::{Backoff, BoxFuture};
use crate::eventsub::decode::{EventPayload, SubscriptionInfo};
use crate::http::credentials::TokenEvent;

/// How long the old socket of a handover is read after its close frame was
/// sent, for notifications Twitch wrote on it just before the new welcome.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// Connection settings shared by sessions and shard pools.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// Where fresh connections go.
    pub base_url: String,
    /// The `keepalive_timeout_seconds` to ask for, if any.
    pub keepalive: Option<u32>,
    /// Slack on top of the keepalive window before a socket counts as dead.
    pub grace: Duration,
    pub backoff: Backoff,
    pub max_message: usize,
    pub connect_timeout: Duration,
    /// How long the first message (the welcome) may take.
    pub welcome_timeout: Duration,
    /// What to do when the token is refused for good.
    pub on_token_invalid: OnTokenInvalid,
    /// Observe mode: events read once more for what the schema lacks.
    pub observer: Option<crate::base::observe::Observer>,
}

impl Config {
    pub fn new(base_url: String) -> Self {
        Self {
            base_url,
            keepalive: None,
            grace: Duration::from_secs(5),
            backoff: Backoff::default(),
            max_message: 4 << 20,
            connect_timeout: Duration::from_secs(10),
            welcome_timeout: Duration::from_secs(10),
            on_token_invalid: OnTokenInvalid::End,
            observer: None,
        }
    }

    /// The URL of a fresh connection, with the keepalive asked for.
    fn url(&self) -> String {
        match self.keepalive {
            Some(k) => {
                let sep = if self.base_url.contains('?') { '&' } else { '?' };
                format!("{}{sep}keepalive_timeout_seconds={}", self.base_url, k.clamp(10, 600))
            }
            None => self.base_url.clone(),
        }
    }
}

/// The connection's session as handles see it. `epoch` counts fresh
/// connections: a reconnect handover keeps it (Twitch moves the
/// subscriptions), a recovery after a loss raises it (they are gone).
/// `welcomes` counts every welcome, handovers included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Current {
    pub id: String,
    pub epoch: u64,
    pub welcomes: u64,
}

/// Where hooks send the items they produce.
pub(crate) type Emit<E> = mpsc::Sender<SessionItem<E>>;

/// What the owner of a connection does at its turning points. Each returns
/// an optional task, run on its own, that reports through `tx`.
pub(crate) trait Hooks<E>: Send + Sync + 'static {
    /// A fresh connection replaced a lost one: subscribe or attach again.
    fn fresh(&self, session_id: String, tx: Emit<E>) -> Option<BoxFuture<'static, ()>>;
    /// A reconnect handover ended on a different session id.
    fn moved(&self, session_id: String, tx: Emit<E>) -> Option<BoxFuture<'static, ()>>;
    /// Twitch revoked this subscription.
    fn revoked(&self, subscription: &SubscriptionInfo);
    /// `conduit.shard.disabled` arrived for this conduit and shard.
    fn shard_disabled(&self, conduit_id: &str, shard_id: &str, tx: Emit<E>) -> Option<BoxFuture<'static, ()>>;
}

/// Commands from handles.
#[derive(Debug)]
pub(crate) enum Command {
    Close,
}

/// The token events a session follows, for its user.
pub(crate) struct TokenWatch {
    pub rx: broadcast::Receiver<TokenEvent>,
    pub user: UserId,
}

/// Open a fresh socket and read its welcome.
pub(crate) async fn connect<E: EventPayload>(cfg: &Config) -> Result<(Ws, SessionInfo)> {
    let mut ws = conn::open(&cfg.url(), cfg.connect_timeout, cfg.max_message).await?;
    match tokio::time::timeout(cfg.welcome_timeout, read_welcome::<E>(&mut ws)).await {
        Ok(Ok(info)) => Ok((ws, info)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(no_welcome(format!("nothing within {:?}", cfg.welcome_timeout))),
    }
}

fn no_welcome(message: String) -> Error {
    Error::EventSub(EventSubError::NoWelcome { message })
}

async fn read_welcome<E: EventPayload>(ws: &mut Ws) -> Result<SessionInfo> {
    loop {
        let text = match ws.next().await {
            Some(Ok(WsMessage::Text(t))) => t,
            Some(Ok(WsMessage::Close(f))) => {
                return Err(no_welcome(match f {
                    Some(f) => format!("closed with {} {}", u16::from(f.code), f.reason),
                    None => "closed".into(),
                }));
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(no_welcome(e.to_string())),
            None => return Err(no_welcome("the connection ended".into())),
        };
        return match decode_frame::<E>(&text) {
            Ok(Frame { message: Message::Welcome(info), .. }) => Ok(*info),
            Ok(Frame { metadata, .. }) => Err(no_welcome(format!("got `{}` first", metadata.message_type))),
            Err(e) => Err(no_welcome(e.to_string())),
        };
    }
}

/// The welcome's keepalive window, within Twitch's documented 10-600 s
/// (a server's number is bounded before it reaches timer arithmetic).
fn keepalive_of(info: &SessionInfo) -> Duration {
    Duration::from_secs(info.keepalive_timeout_seconds.unwrap_or(10).clamp(1, 600))
}

/// How far the local clock is ahead of Twitch's (negative: behind), in
/// nanoseconds, from the last welcome or keepalive: a message's age is
/// judged on Twitch's clock, so a host whose clock runs fast or slow still
/// takes fresh messages and still drops replays.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ClockOffset(Option<i128>);

impl ClockOffset {
    /// Learn the offset from a time Twitch stamped just now.
    fn learn(&mut self, twitch_now: Option<crate::base::types::Timestamp>) {
        if let Some(t) = twitch_now {
            self.0 = Some(nanos(SystemTime::now()) - nanos(t.to_system_time()));
        }
    }

    /// Learn it from a welcome: Twitch stamps the connection with its clock.
    fn learn_welcome(&mut self, info: &SessionInfo) {
        self.learn(info.connected_at.as_deref().and_then(|t| crate::base::types::Timestamp::parse(t).ok()));
    }

    /// How old a message is on Twitch's clock.
    fn age(&self, sent: SystemTime) -> i128 {
        nanos(SystemTime::now()) - self.0.unwrap_or(0) - nanos(sent)
    }
}

fn nanos(t: SystemTime) -> i128 {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// A message whose timestamp is more than ten minutes old, on Twitch's
/// clock, is a replay (one without a readable timestamp is not).
fn too_old(md: &MessageMetadata, clock: &ClockOffset) -> bool {
    md.sent_at().is_some_and(|t| clock.age(t.to_system_time()) > MAX_MESSAGE_AGE.as_nanos() as i128)
}

enum Incoming {
    Welcome(SessionInfo),
    Wait,
    Failed,
}

enum Step {
    Go,
    Reconnect(String),
    Lost(DisconnectReason),
    Stop,
}

/// The token event that ends this connection's use of its token, if any.
async fn next_token_event(watch: &mut Option<TokenWatch>) -> Option<TokenEvent> {
    let Some(w) = watch.as_mut() else { return std::future::pending().await };
    loop {
        match w.rx.recv().await {
            Ok(e) => return Some(e),
            // Missed events are not replayed; the next ones still count.
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => {
                *watch = None;
                return std::future::pending().await;
            }
        }
    }
}

pub(crate) struct Engine<E> {
    pub cfg: Config,
    pub shard: Option<u32>,
    pub tx: mpsc::Sender<SessionItem<E>>,
    pub dedup: Arc<Mutex<SeenIds>>,
    pub state: watch::Sender<Option<Current>>,
    pub cmd: mpsc::Receiver<Command>,
    pub hooks: Arc<dyn Hooks<E>>,
    /// Followed by sessions of a user whose tokens a manager holds.
    pub token: Option<TokenWatch>,
    /// The local clock against Twitch's.
    pub clock: ClockOffset,
}

impl<E: EventPayload + Send + 'static> Engine<E> {
    fn publish(&self, current: Option<Current>) {
        let _ = self.state.send(current);
    }

    /// After a new connection replaced a lost one: say which session is in
    /// use, and let the hooks re-create what the old one had.
    fn fresh_session(&self, session_id: &str, epoch: u64, welcomes: u64) {
        self.publish(Some(Current { id: session_id.to_owned(), epoch, welcomes }));
        if let Some(f) = self.hooks.fresh(session_id.to_owned(), self.tx.clone()) {
            tokio::spawn(f);
        }
    }

    /// Run until closed, until nobody reads the stream, or until the token
    /// is refused for good (with [`OnTokenInvalid::End`]).
    pub async fn run(mut self, mut ws: Ws, welcome: SessionInfo) {
        // Twitch stamps the welcome's connection with its own clock.
        self.clock.learn_welcome(&welcome);
        let mut session_id = welcome.id.clone();
        let mut epoch = 0u64;
        let mut welcomes = 0u64;
        let mut keepalive = keepalive_of(&welcome);
        self.publish(Some(Current { id: session_id.clone(), epoch, welcomes }));
        // When the last EventSub message arrived: pings and pongs do not
        // count, Twitch's rule is about messages.
        let mut last = Instant::now();
        let mut connecting: Option<JoinHandle<Result<Ws>>> = None;
        let mut incoming: Option<Ws> = None;
        // The old socket of a handover, read until its close frame.
        let mut draining: Option<(Ws, Instant)> = None;
        loop {
            let deadline = last + keepalive + self.cfg.grace;
            let drain_until = draining.as_ref().map_or_else(Instant::now, |(_, d)| *d);
            let mut lost = None;
            tokio::select! {
                biased;
                // A close command, or nobody reads the stream any more.
                _ = async { tokio::select! { _ = self.cmd.recv() => {}, _ = self.tx.closed() => {} } } => {
                    close(ws).await;
                    if let Some(new) = incoming { close(new).await; }
                    if let Some((old, _)) = draining { close(old).await; }
                    break;
                }
                ev = next_token_event(&mut self.token) => {
                    let Some(user) = self.token.as_ref().map(|w| w.user.clone()) else { continue };
                    if ev != Some(TokenEvent::Invalid(user.clone())) {
                        continue;
                    }
                    // Twitch: stop using the token and end its sessions.
                    tracing::warn!(user = %user, "eventsub: the session's token was refused for good; closing the connection");
                    if let Some(c) = connecting.take() { c.abort(); }
                    close(ws).await;
                    if let Some(new) = incoming.take() { close(new).await; }
                    if let Some((old, _)) = draining.take() { close(old).await; }
                    self.publish(None);
                    let policy = self.cfg.on_token_invalid;
                    let item = SessionItem::TokenInvalid(TokenInvalidated { user: Some(user.clone()), policy });
                    if self.tx.send(item).await.is_err() || policy == OnTokenInvalid::End {
                        return;
                    }
                    if !self.wait_for_new_token(&user).await {
                        return;
                    }
                    let Some((new, info)) = self.recover().await else { return };
                    ws = new;
                    last = Instant::now();
                    keepalive = keepalive_of(&info);
                    self.clock.learn_welcome(&info);
                    session_id = info.id.clone();
                    epoch += 1;
                    welcomes += 1;
                    self.fresh_session(&session_id, epoch, welcomes);
                }
                m = ws.next() => {
                    let (step, message) = self.on_ws(m).await;
                    if message { last = Instant::now(); }
                    match step {
                        Step::Go => {}
                        Step::Stop => break,
                        Step::Reconnect(url) => {
                            if connecting.is_none() && incoming.is_none() {
                                let cfg = self.cfg.clone();
                                tracing::debug!(%url, "eventsub: session_reconnect");
                                connecting = Some(tokio::spawn(async move {
                                    conn::open(&url, cfg.connect_timeout, cfg.max_message).await
                                }));
                            }
                        }
                        Step::Lost(r) => lost = Some(r),
                    }
                }
                r = async { connecting.as_mut().expect("guarded").await }, if connecting.is_some() => {
                    connecting = None;
                    match r {
                        Ok(Ok(new)) => incoming = Some(new),
                        Ok(Err(e)) => tracing::warn!(error = %e, "eventsub: the reconnect URL failed; staying on the old socket"),
                        Err(e) => tracing::warn!(error = %e, "eventsub: reconnect task failed"),
                    }
                }
                m = async { incoming.as_mut().expect("guarded").next().await }, if incoming.is_some() => {
                    match self.on_incoming(m) {
                        Incoming::Wait => {}
                        Incoming::Failed => incoming = None,
                        Incoming::Welcome(info) => {
                            let new = incoming.take().expect("guarded");
                            let mut old = std::mem::replace(&mut ws, new);
                            // Close the old socket with the closing handshake and
                            // keep reading it: Twitch may have written a
                            // notification on it just before the new welcome.
                            let _ = tokio::time::timeout(DRAIN_TIMEOUT, old.close(None)).await;
                            if let Some((older, _)) = draining.replace((old, Instant::now() + DRAIN_TIMEOUT)) {
                                tokio::spawn(close(older));
                            }
                            last = Instant::now();
                            keepalive = keepalive_of(&info);
                            self.clock.learn_welcome(&info);
                            welcomes += 1;
                            let moved = info.id != session_id;
                            session_id = info.id.clone();
                            self.publish(Some(Current { id: session_id.clone(), epoch, welcomes }));
                            if moved && let Some(f) = self.hooks.moved(session_id.clone(), self.tx.clone()) {
                                tokio::spawn(f);
                            }
                            tracing::debug!(session = %session_id, "eventsub: reconnect handover done");
                        }
                    }
                }
                m = async { draining.as_mut().expect("guarded").0.next().await }, if draining.is_some() => {
                    match m {
                        Some(Ok(WsMessage::Text(t))) => {
                            if let Step::Stop = self.on_text(&t).await.0 { break; }
                        }
                        Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_) | WsMessage::Binary(_))) => {}
                        // Its close frame, or the end: the handover is complete.
                        _ => draining = None,
                    }
                }
                _ = tokio::time::sleep_until(drain_until), if draining.is_some() => {
                    tracing::debug!("eventsub: the old socket did not finish closing in time; dropped");
                    draining = None;
                }
                _ = tokio::time::sleep_until(deadline) => lost = Some(DisconnectReason::KeepaliveTimeout),
            }
            let Some(reason) = lost else { continue };
            // The old socket is gone. A handover under way may still save the session.
            if let Some(c) = connecting.take()
                && let Ok(Ok(new)) = c.await
            {
                incoming = Some(new);
            }
            if let Some(mut new) = incoming.take() {
                let welcome = tokio::time::timeout(self.cfg.welcome_timeout, read_welcome::<E>(&mut new)).await;
                if let Ok(Ok(info)) = welcome {
                    ws = new;
                    last = Instant::now();
                    keepalive = keepalive_of(&info);
                    self.clock.learn_welcome(&info);
                    welcomes += 1;
                    let moved = info.id != session_id;
                    session_id = info.id.clone();
                    self.publish(Some(Current { id: session_id.clone(), epoch, welcomes }));
                    if moved && let Some(f) = self.hooks.moved(session_id.clone(), self.tx.clone()) {
                        tokio::spawn(f);
                    }
                    continue;
                }
            }
            self.publish(None);
            let item = SessionItem::EventsMayBeLost(Lost { reason, session_id: session_id.clone(), shard: self.shard });
            if self.tx.send(item).await.is_err() {
                break;
            }
            let Some((new, info)) = self.recover().await else { break };
            ws = new;
            last = Instant::now();
            keepalive = keepalive_of(&info);
            self.clock.learn_welcome(&info);
            session_id = info.id.clone();
            epoch += 1;
            welcomes += 1;
            self.fresh_session(&session_id, epoch, welcomes);
        }
        self.publish(None);
    }

    /// Wait for the application to add a new token for `user`; false if the
    /// session was closed (or the manager dropped) meanwhile.
    async fn wait_for_new_token(&mut self, user: &UserId) -> bool {
        loop {
            tokio::select! {
                biased;
                _ = self.cmd.recv() => return false,
                _ = self.tx.closed() => return false,
                ev = next_token_event(&mut self.token) => match ev {
                    Some(TokenEvent::Added(u)) if &u == user => return true,
                    Some(_) => {}
                    None => return false,
                },
            }
        }
    }

    /// Connect again with backoff, until connected or closed.
    async fn recover(&mut self) -> Option<(Ws, SessionInfo)> {
        let mut attempt = 0u32;
        loop {
            tokio::select! {
                biased;
                _ = self.cmd.recv() => return None,
                _ = self.tx.closed() => return None,
                r = connect::<E>(&self.cfg) => match r {
                    Ok(ok) => return Some(ok),
                    Err(e) => tracing::warn!(error = %e, attempt, "eventsub: reconnect failed"),
                },
            }
            let wait = self.cfg.backoff.delay(attempt);
            attempt = attempt.saturating_add(1);
            tokio::select! {
                biased;
                _ = self.cmd.recv() => return None,
                _ = self.tx.closed() => return None,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// The new socket of a handover: its first message must be a welcome.
    fn on_incoming(&self, m: Option<std::result::Result<WsMessage, tungstenite::Error>>) -> Incoming {
        match m {
            Some(Ok(WsMessage::Text(t))) => match decode_frame::<E>(&t) {
                Ok(Frame { message: Message::Welcome(info), .. }) => Incoming::Welcome(*info),
                _ => {
                    tracing::warn!("eventsub: the reconnect socket did not start with a welcome");
                    Incoming::Failed
                }
            },
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => Incoming::Wait,
            _ => Incoming::Failed,
        }
    }

    /// What a socket gave, and whether it was an EventSub message (which
    /// resets the keepalive watchdog; pings and pongs do not).
    async fn on_ws(&mut self, m: Option<std::result::Result<WsMessage, tungstenite::Error>>) -> (Step, bool) {
        match m {
            None => (Step::Lost(DisconnectReason::Ended), false),
            Some(Err(tungstenite::Error::Capacity(e))) => {
                (Step::Lost(DisconnectReason::MessageTooLarge(e.to_string())), false)
            }
            Some(Err(e)) => (Step::Lost(DisconnectReason::Transport(e.to_string())), false),
            Some(Ok(WsMessage::Text(t))) => self.on_text(&t).await,
            Some(Ok(WsMessage::Binary(b))) => match std::str::from_utf8(&b) {
                Ok(t) => self.on_text(t).await,
                Err(_) => {
                    let e = frame_error("", String::new(), "a binary frame that is not UTF-8".into());
                    (self.emit(SessionItem::Error(e)).await, false)
                }
            },
            Some(Ok(WsMessage::Close(f))) => (
                Step::Lost(match f {
                    Some(f) => {
                        DisconnectReason::Closed { code: u16::from(f.code).into(), reason: f.reason.to_string() }
                    }
                    None => DisconnectReason::Ended,
                }),
                false,
            ),
            Some(Ok(_)) => (Step::Go, false),
        }
    }

    async fn emit(&self, item: SessionItem<E>) -> Step {
        match self.tx.send(item).await {
            Ok(()) => Step::Go,
            Err(_) => Step::Stop,
        }
    }

    fn first_time(&self, md: &MessageMetadata) -> bool {
        if too_old(md, &self.clock) {
            let (message_id, timestamp) = (&md.message_id, &md.message_timestamp);
            let local_ahead_ms = self.clock.0.map(|n| (n / 1_000_000) as i64);
            tracing::warn!(
                message_id,
                timestamp,
                local_ahead_ms,
                "eventsub: dropped a message older than ten minutes on Twitch's clock (a replay)"
            );
            return false;
        }
        // A message without a readable id cannot be told apart from another.
        md.message_id.is_empty() || lock(&self.dedup).insert(&md.message_id)
    }

    /// A text frame; the flag says it was an EventSub message.
    async fn on_text(&mut self, text: &str) -> (Step, bool) {
        let frame = match decode_frame::<E>(text) {
            Ok(f) => f,
            Err(e) => return (self.emit(SessionItem::Error(e)).await, false),
        };
        let md = frame.metadata;
        let step = match frame.message {
            Message::Welcome(_) | Message::Keepalive => {
                // Stamped by Twitch as it sent them: its clock, now.
                self.clock.learn(md.sent_at());
                Step::Go
            }
            Message::Reconnect(info) => match info.reconnect_url {
                Some(url) => Step::Reconnect(url),
                None => Step::Go,
            },
            Message::Notification { subscription, event, decode_error } => {
                if !self.first_time(&md) {
                    return (Step::Go, true);
                }
                if let Some(o) = &self.cfg.observer {
                    super::frame::observe_frame::<E>(o, text);
                }
                if event.kind().0 == SHARD_DISABLED
                    && let Some((conduit, shard)) = shard_of(text)
                    && let Some(f) = self.hooks.shard_disabled(&conduit, &shard, self.tx.clone())
                {
                    tokio::spawn(f);
                }
                self.emit(SessionItem::Notification(Delivered {
                    message_id: md.message_id,
                    timestamp: md.message_timestamp,
                    subscription,
                    event,
                    decode_error,
                    shard: self.shard,
                }))
                .await
            }
            Message::Revocation(subscription) => {
                if !self.first_time(&md) {
                    return (Step::Go, true);
                }
                self.hooks.revoked(&subscription);
                let status = SubscriptionStatus::from(subscription.status.as_str());
                self.emit(SessionItem::Revoked(Box::new(Revocation {
                    status,
                    subscription: *subscription,
                    shard: self.shard,
                })))
                .await
            }
            Message::Unknown(payload) => {
                self.emit(SessionItem::Unknown(UnknownMessage { metadata: md, payload: *payload })).await
            }
        };
        (step, true)
    }
}

/// The subscription type through which Twitch reports a conduit shard it
/// disabled; a shard pool re-attaches its own shards when it sees one.
const SHARD_DISABLED: &str = "conduit.shard.disabled";

fn shard_of(text: &str) -> Option<(String, String)> {
    #[derive(serde::Deserialize)]
    struct F {
        payload: P,
    }
    #[derive(serde::Deserialize)]
    struct P {
        event: Ev,
    }
    #[derive(serde::Deserialize)]
    struct Ev {
        conduit_id: String,
        shard_id: String,
    }
    let f: F = serde_json::from_str(text).ok()?;
    Some((f.payload.event.conduit_id, f.payload.event.shard_id))
}

pub(crate) async fn close(mut ws: Ws) {
    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
    let _ = ws.flush().await;
}
