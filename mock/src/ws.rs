//! `/ws`: the EventSub WebSocket server.
//!
//! A connection gets a `session_welcome`, then notifications, keepalives
//! (after a quiet stretch) and pings. It is closed with Twitch's codes: 4001
//! when the client sends a data frame, 4002 when a ping goes unanswered
//! until the next one, 4003 when nothing subscribed within the welcome
//! window, 4004 when a reconnect was not taken within the grace time, 4007
//! for an unknown reconnect URL. A reconnect URL (`/ws?reconnect=TOKEN`)
//! welcomes the same session on a new connection; its subscriptions move
//! with it. The old connection gets nothing more and stays open for the
//! old-connection grace, for the client to close it (as Twitch's guide
//! asks); one still open then is closed with 4004, as Twitch does.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::{Message, handshake::derive_accept_key};

use crate::delivery::{close_reason, session_ended, status_for_close};
use crate::messages::message;
use crate::state::{Conn, Out, Session, Shared};
use crate::util;
use crate::wire::Resp;

/// Longest keepalive a client may ask for.
const MAX_KEEPALIVE: u64 = 600;
/// A write that takes longer than this counts as a network timeout (4005).
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Answer the upgrade request and serve the connection once upgraded.
pub(crate) fn upgrade(shared: Arc<Shared>, req: Request<Incoming>) -> Resp {
    let h = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    if req.method() != hyper::Method::GET || !h("upgrade").eq_ignore_ascii_case("websocket") {
        return Resp::error(400, "This endpoint only accepts WebSocket connections");
    }
    let key = h("sec-websocket-key");
    if key.is_empty() || h("sec-websocket-version") != "13" {
        return Resp::error(400, "Missing or unsupported Sec-WebSocket-Key or Sec-WebSocket-Version");
    }
    let query = util::parse_pairs(req.uri().query().unwrap_or(""));
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    // Twitch accepts 10..=600 and moves other numbers to the nearest valid
    // value; the mock's lower bound is its configured keepalive when smaller.
    let default = shared.config.keepalive.as_secs().max(1);
    let keepalive = match get("keepalive_timeout_seconds") {
        None => default,
        Some(v) => match v.parse::<i64>() {
            Ok(n) => n.clamp(default.min(10) as i64, MAX_KEEPALIVE as i64) as u64,
            Err(_) => return Resp::error(400, "keepalive_timeout_seconds must be a whole number of seconds"),
        },
    };
    let reconnect = get("reconnect");
    let accept = derive_accept_key(key.as_bytes());
    tokio::spawn(async move {
        if let Ok(upgraded) = hyper::upgrade::on(req).await {
            let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
            run(shared, ws, keepalive, reconnect).await;
        }
    });
    Resp::empty(101)
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Accept", accept)
}

type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Register the connection (new session or reconnect), then serve it.
async fn run(shared: Arc<Shared>, mut ws: Socket, keepalive: u64, reconnect: Option<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let Some((session_id, conn_id)) = register(&shared, tx, keepalive, reconnect.as_deref()) else {
        let _ = close(&mut ws, 4007).await;
        return;
    };
    let end = serve(&shared, &mut ws, rx, keepalive, &session_id).await;
    {
        let mut g = shared.lock();
        // Only the session's current connection ends the session; an old one
        // replaced by a reconnect just goes away.
        if g.sessions.get(&session_id).is_some_and(|s| s.conn.id == conn_id) {
            session_ended(&mut g, &session_id, status_for_close(end.code));
        }
    }
    // The state is settled before the client sees the close.
    if let Some(frame) = end.frame {
        let _ = close_with(&mut ws, frame).await;
    }
}

/// How a connection ended: the close code (for the status it leaves
/// behind) and the close frame still to send.
struct End {
    code: Option<u16>,
    frame: Option<CloseFrame>,
}

impl End {
    /// Closed by the server with one of Twitch's codes.
    fn twitch(code: u16) -> Self {
        Self::with(code, close_reason(code).to_owned())
    }

    fn with(code: u16, reason: String) -> Self {
        Self { code: Some(code), frame: Some(CloseFrame { code: CloseCode::from(code), reason: reason.into() }) }
    }

    /// The connection is gone (or failed with this code); nothing to send.
    fn gone(code: Option<u16>) -> Self {
        Self { code, frame: None }
    }
}

/// Add the connection to its session (a new one, or the session whose
/// reconnect URL it used) and queue the welcome. `None`: unknown reconnect URL.
fn register(
    shared: &Shared,
    tx: mpsc::UnboundedSender<Out>,
    keepalive: u64,
    reconnect: Option<&str>,
) -> Option<(String, u64)> {
    let connected_at = util::now_rfc3339();
    let mut g = shared.lock();
    let conn = Conn { id: g.conn_id(), tx: tx.clone() };
    let conn_id = conn.id;
    let session_id = match reconnect {
        Some(token) => {
            let session = g.sessions.values_mut().find(|s| s.reconnect_token.as_deref() == Some(token))?;
            session.reconnect_token = None;
            let old = std::mem::replace(&mut session.conn, conn);
            session.connected_at = connected_at.clone();
            session.keepalive_secs = keepalive;
            let _ = old.tx.send(Out::Retire(shared.config.old_connection_grace));
            session.id.clone()
        }
        None => {
            let id = util::token(28);
            g.sessions.insert(
                id.clone(),
                Session {
                    id: id.clone(),
                    conn,
                    connected_at: connected_at.clone(),
                    keepalive_secs: keepalive,
                    used: false,
                    reconnect_token: None,
                    client_id: None,
                },
            );
            id
        }
    };
    // Queued before the lock is released, so the welcome is the first
    // message even if a notification for this session races in.
    let welcome = json!({"session": {
        "id": session_id,
        "status": "connected",
        "connected_at": connected_at,
        "keepalive_timeout_seconds": keepalive,
        "reconnect_url": null,
        "recovery_url": null,
    }});
    let _ = tx.send(Out::Text(message("session_welcome", None, welcome)));
    Some((session_id, conn_id))
}

/// Send a close frame with one of Twitch's codes.
async fn close(ws: &mut Socket, code: u16) -> Result<(), ()> {
    let frame = CloseFrame { code: CloseCode::from(code), reason: close_reason(code).into() };
    close_with(ws, frame).await
}

async fn close_with(ws: &mut Socket, frame: CloseFrame) -> Result<(), ()> {
    let r = tokio::time::timeout(WRITE_TIMEOUT, ws.send(Message::Close(Some(frame)))).await;
    // Give the client a moment to answer the close, without waiting on it forever.
    let _ = tokio::time::timeout(Duration::from_secs(2), async { while let Some(Ok(_)) = ws.next().await {} }).await;
    match r {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

async fn send(ws: &mut Socket, msg: Message) -> Result<(), Option<u16>> {
    match tokio::time::timeout(WRITE_TIMEOUT, ws.send(msg)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(None),
        Err(_) => Err(Some(4005)),
    }
}

/// Serve one connection until it ends; the close code it ended with, if any.
async fn serve(
    shared: &Shared,
    ws: &mut Socket,
    mut rx: mpsc::UnboundedReceiver<Out>,
    keepalive: u64,
    session_id: &str,
) -> End {
    let config = &shared.config;
    // Keepalives go out after three quarters of the timeout without a
    // message, so clients that enforce the timeout exactly never miss one.
    let quiet = (Duration::from_secs(keepalive) * 3 / 4).max(Duration::from_millis(200));
    let mut keepalive_at = Instant::now() + quiet;
    let welcome_deadline = Instant::now() + config.welcome_window;
    let mut check_unused = true;
    let mut grace: Option<Instant> = None;
    let mut next_ping = config.ping_interval.map(|p| Instant::now() + p);
    let mut awaiting_pong = false;
    // Set once the session moved to a new connection: the close deadline.
    let mut retired: Option<Instant> = None;
    let mut shutdown = shared.shutdown.clone();
    let far = || Instant::now() + Duration::from_secs(86_400);
    loop {
        tokio::select! {
            // A retired connection's sender is gone with the session's old
            // `Conn`; it waits for its deadline or the client's close.
            out = rx.recv(), if retired.is_none() => match out {
                Some(Out::Text(text)) => {
                    if let Err(code) = send(ws, Message::text(text)).await {
                        return End::gone(code);
                    }
                    keepalive_at = Instant::now() + quiet;
                }
                Some(Out::Reconnect(text)) => {
                    if let Err(code) = send(ws, Message::text(text)).await {
                        return End::gone(code);
                    }
                    keepalive_at = Instant::now() + quiet;
                    grace = Some(Instant::now() + config.reconnect_grace);
                }
                Some(Out::Close(code, reason)) => return End::with(code, reason),
                Some(Out::Retire(after)) => {
                    retired = Some(Instant::now() + after);
                    // The reconnect was taken: no 4004 for an untaken one.
                    grace = None;
                }
                None => return End::gone(None),
            },
            _ = sleep_until(retired.unwrap_or_else(far)), if retired.is_some() => return End::twitch(4004),
            incoming = ws.next() => match incoming {
                None | Some(Err(_)) => return End::gone(None),
                Some(Ok(Message::Text(_) | Message::Binary(_))) => return End::twitch(4001),
                Some(Ok(Message::Pong(_))) => awaiting_pong = false,
                // Pings are answered by tungstenite; a close is answered and
                // the stream then ends.
                Some(Ok(_)) => {}
            },
            _ = sleep_until(keepalive_at), if retired.is_none() => {
                let text = message("session_keepalive", None, json!({}));
                if let Err(code) = send(ws, Message::text(text)).await {
                    return End::gone(code);
                }
                keepalive_at = Instant::now() + quiet;
            }
            _ = sleep_until(welcome_deadline), if check_unused => {
                check_unused = false;
                let used = shared.lock().sessions.get(session_id).is_none_or(|s| s.used);
                if !used {
                    return End::twitch(4003);
                }
            }
            _ = sleep_until(grace.unwrap_or_else(far)), if grace.is_some() => return End::twitch(4004),
            _ = sleep_until(next_ping.unwrap_or_else(far)), if next_ping.is_some() => {
                if awaiting_pong {
                    return End::twitch(4002);
                }
                if let Err(code) = send(ws, Message::Ping(Default::default())).await {
                    return End::gone(code);
                }
                awaiting_pong = true;
                next_ping = config.ping_interval.map(|p| Instant::now() + p);
            }
            _ = shutdown.changed() => return End::with(1001, "server shutting down".into()),
        }
    }
}
