//! The loop behind one logical EventSub connection: reads frames, watches
//! keepalives, follows `session_reconnect` without a gap, and recovers from
//! abrupt losses. Sessions and shard pools differ only in their [`Hooks`].

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

use super::conn::{self, Ws};
use super::frame::{Frame, Message, MessageMetadata, SessionInfo, decode_frame, frame_error};
use super::{
    Backoff, Delivered, DisconnectReason, EventSubError, Lost, MAX_MESSAGE_AGE, Revocation, SessionItem,
    SubscriptionStatus, UnknownMessage, lock,
};
use crate::error::{Error, Result};
use crate::eventsub::EventPayload;
use crate::webhook::SeenIds;

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

/// What the owner of a connection does at its turning points. Each returns
/// an optional future whose item (if any) joins the stream.
pub(crate) trait Hooks<E>: Send + Sync + 'static {
    /// A fresh connection replaced a lost one: subscribe or attach again.
    fn fresh(&self, session_id: String) -> Option<super::BoxFuture<'static, Option<SessionItem<E>>>>;
    /// A reconnect handover ended on a different session id.
    fn moved(&self, session_id: String) -> Option<super::BoxFuture<'static, Option<SessionItem<E>>>>;
    /// Twitch revoked this subscription.
    fn revoked(&self, subscription: &crate::eventsub::SubscriptionInfo);
    /// `conduit.shard.disabled` arrived for this conduit and shard.
    fn shard_disabled(
        &self,
        conduit_id: &str,
        shard_id: &str,
    ) -> Option<super::BoxFuture<'static, Option<SessionItem<E>>>>;
}

/// Commands from handles.
#[derive(Debug)]
pub(crate) enum Command {
    Close,
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

/// A message whose timestamp is more than ten minutes old is a replay (one
/// without a readable timestamp is not).
fn too_old(md: &MessageMetadata) -> bool {
    md.sent_at()
        .is_some_and(|t| SystemTime::now().duration_since(t.to_system_time()).is_ok_and(|age| age > MAX_MESSAGE_AGE))
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

pub(crate) struct Engine<E> {
    pub cfg: Config,
    pub shard: Option<u32>,
    pub tx: mpsc::Sender<SessionItem<E>>,
    pub dedup: Arc<Mutex<SeenIds>>,
    pub state: watch::Sender<Option<String>>,
    pub cmd: mpsc::Receiver<Command>,
    pub hooks: Arc<dyn Hooks<E>>,
}

impl<E: EventPayload + Send + 'static> Engine<E> {
    /// Run until closed or until nobody reads the stream.
    pub async fn run(mut self, mut ws: Ws, welcome: SessionInfo) {
        let mut session_id = welcome.id.clone();
        let mut keepalive = keepalive_of(&welcome);
        let _ = self.state.send(Some(session_id.clone()));
        let mut last = Instant::now();
        let mut connecting: Option<JoinHandle<Result<Ws>>> = None;
        let mut incoming: Option<Ws> = None;
        loop {
            let deadline = last + keepalive + self.cfg.grace;
            let mut lost = None;
            tokio::select! {
                biased;
                // A close command, or nobody reads the stream any more.
                _ = async { tokio::select! { _ = self.cmd.recv() => {}, _ = self.tx.closed() => {} } } => {
                    close(ws).await;
                    if let Some(new) = incoming { close(new).await; }
                    break;
                }
                m = ws.next() => {
                    last = Instant::now();
                    match self.on_ws(m).await {
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
                            let old = std::mem::replace(&mut ws, new);
                            if self.drain(old).await.is_err() { break; }
                            last = Instant::now();
                            keepalive = keepalive_of(&info);
                            if info.id != session_id {
                                session_id = info.id.clone();
                                let _ = self.state.send(Some(session_id.clone()));
                                if let Some(f) = self.hooks.moved(session_id.clone()) { self.spawn_hook(f); }
                            }
                            tracing::debug!(session = %session_id, "eventsub: reconnect handover done");
                        }
                    }
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
                    if info.id != session_id {
                        session_id = info.id.clone();
                        let _ = self.state.send(Some(session_id.clone()));
                        if let Some(f) = self.hooks.moved(session_id.clone()) {
                            self.spawn_hook(f);
                        }
                    }
                    continue;
                }
            }
            let _ = self.state.send(None);
            let item = SessionItem::EventsMayBeLost(Lost { reason, session_id: session_id.clone(), shard: self.shard });
            if self.tx.send(item).await.is_err() {
                break;
            }
            let Some((new, info)) = self.recover().await else { break };
            ws = new;
            last = Instant::now();
            keepalive = keepalive_of(&info);
            session_id = info.id.clone();
            let _ = self.state.send(Some(session_id.clone()));
            if let Some(f) = self.hooks.fresh(session_id.clone()) {
                self.spawn_hook(f);
            }
        }
        let _ = self.state.send(None);
    }

    fn spawn_hook(&self, f: super::BoxFuture<'static, Option<SessionItem<E>>>) {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            if let Some(item) = f.await {
                let _ = tx.send(item).await;
            }
        });
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

    /// Read what the old socket still holds, then close it.
    async fn drain(&mut self, mut old: Ws) -> std::result::Result<(), ()> {
        while let Some(Some(m)) = old.next().now_or_never() {
            if let Step::Stop = self.on_ws(Some(m)).await {
                return Err(());
            }
        }
        tokio::spawn(close(old));
        Ok(())
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

    async fn on_ws(&mut self, m: Option<std::result::Result<WsMessage, tungstenite::Error>>) -> Step {
        match m {
            None => Step::Lost(DisconnectReason::Ended),
            Some(Err(tungstenite::Error::Capacity(e))) => Step::Lost(DisconnectReason::MessageTooLarge(e.to_string())),
            Some(Err(e)) => Step::Lost(DisconnectReason::Transport(e.to_string())),
            Some(Ok(WsMessage::Text(t))) => self.on_text(&t).await,
            Some(Ok(WsMessage::Binary(b))) => match std::str::from_utf8(&b) {
                Ok(t) => self.on_text(t).await,
                Err(_) => {
                    self.emit(SessionItem::Error(frame_error(
                        "",
                        String::new(),
                        "a binary frame that is not UTF-8".into(),
                    )))
                    .await
                }
            },
            Some(Ok(WsMessage::Close(f))) => Step::Lost(match f {
                Some(f) => DisconnectReason::Closed { code: u16::from(f.code).into(), reason: f.reason.to_string() },
                None => DisconnectReason::Ended,
            }),
            Some(Ok(_)) => Step::Go,
        }
    }

    async fn emit(&self, item: SessionItem<E>) -> Step {
        match self.tx.send(item).await {
            Ok(()) => Step::Go,
            Err(_) => Step::Stop,
        }
    }

    fn first_time(&self, md: &MessageMetadata) -> bool {
        if too_old(md) {
            let (message_id, timestamp) = (&md.message_id, &md.message_timestamp);
            tracing::debug!(message_id, timestamp, "eventsub: dropped a message older than ten minutes");
            return false;
        }
        // A message without a readable id cannot be told apart from another.
        md.message_id.is_empty() || lock(&self.dedup).insert(&md.message_id)
    }

    async fn on_text(&mut self, text: &str) -> Step {
        let frame = match decode_frame::<E>(text) {
            Ok(f) => f,
            Err(e) => return self.emit(SessionItem::Error(e)).await,
        };
        let md = frame.metadata;
        match frame.message {
            Message::Welcome(_) | Message::Keepalive => Step::Go,
            Message::Reconnect(info) => match info.reconnect_url {
                Some(url) => Step::Reconnect(url),
                None => Step::Go,
            },
            Message::Notification { subscription, event, decode_error } => {
                if !self.first_time(&md) {
                    return Step::Go;
                }
                if event.kind().0 == SHARD_DISABLED
                    && let Some((conduit, shard)) = shard_of(text)
                    && let Some(f) = self.hooks.shard_disabled(&conduit, &shard)
                {
                    self.spawn_hook(f);
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
                    return Step::Go;
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
        }
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

async fn close(mut ws: Ws) {
    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
    let _ = ws.flush().await;
}
