//! EventSub WebSocket sessions and shard pools against a scripted server on
//! 127.0.0.1: every connection the client opens is handed to the test,
//! which plays Twitch's side message by message. Helix is a hand-written
//! `EventSubApi` that records calls.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCode;
use twitch::Event;
use twitch::eventsub::stream::StreamOnlineV1;
use twitch::websocket::{
    Backoff, BoxFuture, CloseCode, CreatedSubscription, DisconnectReason, EventSubApi, EventSubError, NewSubscription,
    OnTokenInvalid, SessionBuilder, SessionItem, ShardAttach, ShardError, ShardPoolBuilder, ShardStatus,
    SubscriptionStatus, Transport,
};
use twitch::{Error, SubscriptionInfo};

/// Hang guard: a step that should happen does so long before this.
const WAIT: Duration = Duration::from_secs(20);

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, f).await.unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

// ---------------------------------------------------------------- server

/// A WebSocket listener that hands each accepted connection to the test.
struct Server {
    url: String,
    conns: mpsc::UnboundedReceiver<Conn>,
}

struct Conn {
    ws: WebSocketStream<TcpStream>,
    path: String,
}

impl Server {
    async fn start() -> Server {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let url = format!("ws://{}/ws", listener.local_addr().unwrap());
        let (tx, conns) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let path = Arc::new(Mutex::new(String::new()));
                    let p = path.clone();
                    #[allow(clippy::result_large_err)]
                    let cb = move |req: &tokio_tungstenite::tungstenite::handshake::server::Request, resp| {
                        *p.lock().unwrap() = req.uri().to_string();
                        Ok(resp)
                    };
                    if let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, cb).await {
                        let path = path.lock().unwrap().clone();
                        let _ = tx.send(Conn { ws, path });
                    }
                });
            }
        });
        Server { url, conns }
    }

    async fn accept(&mut self) -> Conn {
        within("a connection", self.conns.recv()).await.expect("server gone")
    }

    /// A URL on this server for `session_reconnect`.
    fn reconnect_url(&self) -> String {
        self.url.replace("/ws", "/reconnect")
    }
}

fn now() -> String {
    twitch::Timestamp::now().to_string()
}

fn welcome(id: &str, keepalive: u64) -> Value {
    json!({
        "metadata": {"message_id": format!("w-{id}"), "message_type": "session_welcome", "message_timestamp": now()},
        "payload": {"session": {"id": id, "status": "connected", "connected_at": now(),
            "keepalive_timeout_seconds": keepalive, "reconnect_url": null, "recovery_url": null}}
    })
}

fn stream_online(message_id: &str, broadcaster: &str) -> Value {
    stream_online_at(message_id, broadcaster, &now())
}

fn stream_online_at(message_id: &str, broadcaster: &str, timestamp: &str) -> Value {
    json!({
        "metadata": {"message_id": message_id, "message_type": "notification", "message_timestamp": timestamp,
            "subscription_type": "stream.online", "subscription_version": "1"},
        "payload": {
            "subscription": {"id": "sub-1", "status": "enabled", "type": "stream.online", "version": "1", "cost": 0,
                "condition": {"broadcaster_user_id": broadcaster},
                "transport": {"method": "websocket", "session_id": "s"}, "created_at": now()},
            "event": {"id": "9001", "broadcaster_user_id": broadcaster, "broadcaster_user_login": "cool_user",
                "broadcaster_user_name": "Cool_User", "type": "live", "started_at": now()}
        }
    })
}

impl Conn {
    async fn send(&mut self, v: Value) {
        self.ws.send(Message::text(v.to_string())).await.expect("send");
    }

    async fn send_text(&mut self, t: &str) {
        self.ws.send(Message::text(t.to_owned())).await.expect("send");
    }

    async fn welcome(&mut self, id: &str) {
        self.send(welcome(id, 10)).await;
    }

    async fn close(&mut self, code: u16) {
        let frame = CloseFrame { code: WsCode::from(code), reason: "scripted".into() };
        let _ = self.ws.send(Message::Close(Some(frame))).await;
    }

    async fn reconnect(&mut self, id: &str, url: &str) {
        self.send(json!({
            "metadata": {"message_id": format!("r-{url}"), "message_type": "session_reconnect", "message_timestamp": now()},
            "payload": {"session": {"id": id, "status": "reconnecting", "keepalive_timeout_seconds": null,
                "reconnect_url": url, "connected_at": now()}}
        }))
        .await;
    }

    /// Wait until the client's close frame is waiting on the socket, without
    /// reading it (reading it would make the server answer and stop sending).
    async fn until_client_closes(&mut self) {
        let mut first = [0u8; 1];
        within("the client's close frame", async {
            loop {
                // A client frame starts with FIN and the opcode; 0x88 is Close.
                if self.ws.get_ref().peek(&mut first).await.unwrap() > 0 && first[0] == 0x88 {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await;
    }

    /// The next frame the client sends (Pongs aside); `None` when it closed.
    async fn next_from_client(&mut self) -> Option<Message> {
        loop {
            match within("a frame from the client", self.ws.next()).await {
                Some(Ok(Message::Pong(_))) => continue,
                Some(Ok(m)) => return Some(m),
                _ => return None,
            }
        }
    }
}

// ---------------------------------------------------------------- Helix

/// A scripted answer to Create EventSub Subscription.
#[derive(Debug, Clone)]
enum Answer {
    /// Twitch's error body with this status and message.
    Fail(u16, &'static str),
}

/// Records every call; subscriptions get ids `sub-1`, `sub-2`, ...
#[derive(Default)]
struct FakeApi {
    created: Mutex<Vec<NewSubscription>>,
    /// What Twitch holds: every subscription created, as it answered.
    held: Mutex<Vec<SubscriptionInfo>>,
    deleted: Mutex<Vec<String>>,
    shard_updates: Mutex<Vec<Vec<ShardAttach>>>,
    /// Conduit calls in order: `count N` and `attach ID,ID,...`.
    conduit_log: Mutex<Vec<String>>,
    conduit_updates: Mutex<Vec<u32>>,
    /// Shard ids to refuse in update calls: (id, how many more times, message).
    refuse: Mutex<Vec<(u32, usize, &'static str)>>,
    /// What Get Conduit Shards answers.
    shard_statuses: Mutex<Vec<ShardStatus>>,
    shard_reads: AtomicUsize,
    /// How long each create takes.
    create_delay: Mutex<Duration>,
    /// Answers for the next creates, in order (then success).
    script: Mutex<std::collections::VecDeque<Answer>>,
    /// Sessions Twitch no longer knows: a create naming one gets a 400.
    gone: Mutex<Vec<String>>,
    /// Answer creates with Twitch's 429 for a fourth WebSocket transport.
    transports_full: std::sync::atomic::AtomicBool,
    /// The token events sessions and pools follow.
    tokens: Mutex<Option<tokio::sync::broadcast::Sender<twitch::TokenEvent>>>,
    n: AtomicUsize,
}

const OUT_OF_RANGE: &str = "The shard id is outside the conduit's range";

impl FakeApi {
    fn created(&self) -> Vec<NewSubscription> {
        self.created.lock().unwrap().clone()
    }

    fn session_of(n: &NewSubscription) -> String {
        match &n.transport {
            Transport::WebSocket { session_id } => session_id.to_string(),
            other => panic!("unexpected transport {other:?}"),
        }
    }

    fn with_tokens() -> (Arc<FakeApi>, tokio::sync::broadcast::Sender<twitch::TokenEvent>) {
        let (tx, _) = tokio::sync::broadcast::channel(16);
        let api = FakeApi { tokens: Mutex::new(Some(tx.clone())), ..FakeApi::default() };
        (Arc::new(api), tx)
    }

    fn fail(status: u16, message: &str) -> Error {
        Error::Api {
            endpoint: "create-eventsub-subscription".into(),
            status,
            error: "scripted".into(),
            message: message.into(),
            details: Default::default(),
        }
    }
}

impl EventSubApi for FakeApi {
    fn create_subscription(&self, new: NewSubscription) -> BoxFuture<'_, twitch::Result<CreatedSubscription>> {
        Box::pin(async move {
            let delay = *self.create_delay.lock().unwrap();
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if self.transports_full.load(Ordering::SeqCst) {
                return Err(Error::RateLimited {
                    endpoint: "create-eventsub-subscription".into(),
                    reset_at: None,
                    retry_after: None,
                    cooldown: false,
                    message: "number of websocket transports limit exceeded".into(),
                });
            }
            let session = FakeApi::session_of(&new);
            self.created.lock().unwrap().push(new.clone());
            if self.gone.lock().unwrap().contains(&session) {
                return Err(FakeApi::fail(
                    400,
                    "websocket transport session does not exist or has already disconnected",
                ));
            }
            if let Some(Answer::Fail(status, message)) = self.script.lock().unwrap().pop_front() {
                return Err(FakeApi::fail(status, message));
            }
            let id = self.n.fetch_add(1, Ordering::SeqCst) + 1;
            let info: SubscriptionInfo = serde_json::from_value(json!({
                "id": format!("sub-{id}"), "status": "enabled", "type": new.subscription_type,
                "version": new.version, "cost": 0, "condition": new.condition,
                "transport": {"method": "websocket", "session_id": session}, "created_at": now()
            }))
            .unwrap();
            self.held.lock().unwrap().push(info.clone());
            Ok(CreatedSubscription::new(info, id as i64, 0, 10))
        })
    }

    fn delete_subscription(
        &self,
        id: twitch::SubscriptionId,
        _: Option<twitch::UserId>,
    ) -> BoxFuture<'_, twitch::Result<()>> {
        Box::pin(async move {
            self.held.lock().unwrap().retain(|s| s.id != id);
            self.deleted.lock().unwrap().push(id.to_string());
            Ok(())
        })
    }

    fn update_conduit_shards(
        &self,
        _conduit_id: twitch::ConduitId,
        shards: Vec<ShardAttach>,
    ) -> BoxFuture<'_, twitch::Result<Vec<ShardError>>> {
        Box::pin(async move {
            let mut errors = Vec::new();
            for s in &shards {
                let mut refuse = self.refuse.lock().unwrap();
                if let Some(r) = refuse.iter_mut().find(|r| r.0 == s.shard_id && r.1 > 0) {
                    r.1 -= 1;
                    errors.push(ShardError::new(s.shard_id.to_string(), r.2, "invalid_parameter"));
                }
            }
            let ids: Vec<String> = shards.iter().map(|s| s.shard_id.to_string()).collect();
            self.conduit_log.lock().unwrap().push(format!("attach {}", ids.join(",")));
            self.shard_updates.lock().unwrap().push(shards);
            Ok(errors)
        })
    }

    fn update_conduit(&self, _conduit_id: twitch::ConduitId, shard_count: u32) -> BoxFuture<'_, twitch::Result<()>> {
        Box::pin(async move {
            self.conduit_updates.lock().unwrap().push(shard_count);
            self.conduit_log.lock().unwrap().push(format!("count {shard_count}"));
            Ok(())
        })
    }

    fn subscriptions(
        &self,
        subscription_type: String,
        _: Option<twitch::UserId>,
    ) -> BoxFuture<'_, twitch::Result<Vec<SubscriptionInfo>>> {
        Box::pin(async move {
            Ok(self.held.lock().unwrap().iter().filter(|s| s.subscription_type == subscription_type).cloned().collect())
        })
    }

    fn conduit_shards(&self, _: twitch::ConduitId) -> BoxFuture<'_, twitch::Result<Vec<ShardStatus>>> {
        Box::pin(async move {
            self.shard_reads.fetch_add(1, Ordering::SeqCst);
            Ok(self.shard_statuses.lock().unwrap().clone())
        })
    }

    fn token_events(&self) -> Option<twitch::tokens::TokenEvents> {
        self.tokens.lock().unwrap().as_ref().map(|t| t.subscribe())
    }
}

/// Each test uses its own client id, so the per-user connection budget of
/// one test does not count against another's.
fn builder(api: &Arc<FakeApi>, server: &Server, client_id: &str) -> SessionBuilder<Event> {
    SessionBuilder::new(api.clone(), client_id, server.url.clone())
        .backoff(Backoff { initial: Duration::from_millis(10), max: Duration::from_millis(50) })
        .welcome_timeout(Duration::from_secs(10))
}

/// Connect while playing the server's part: accept, welcome.
async fn open(
    api: &Arc<FakeApi>,
    server: &mut Server,
    client_id: &str,
    session_id: &str,
) -> (twitch::websocket::Session<Event>, Conn) {
    let connect = tokio::spawn(builder(api, server, client_id).subscribe(StreamOnlineV1::new("1337")).connect());
    let mut conn = server.accept().await;
    conn.welcome(session_id).await;
    let session = within("connect", connect).await.unwrap().expect("connect");
    (session, conn)
}

async fn next_item(session: &mut twitch::websocket::Session<Event>) -> SessionItem<Event> {
    within("an item", session.next()).await.expect("stream ended")
}

fn message_id(item: &SessionItem<Event>) -> String {
    match item {
        SessionItem::Notification(n) => n.message_id.clone(),
        other => panic!("expected a notification, got {other:?}"),
    }
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn welcome_then_subscriptions_made_with_its_session_id() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let connect = tokio::spawn(
        builder(&api, &server, "c-welcome")
            .keepalive_timeout_seconds(30)
            .subscribe(StreamOnlineV1::new("1337"))
            .connect(),
    );
    let mut conn = server.accept().await;
    assert_eq!(conn.path, "/ws?keepalive_timeout_seconds=30");
    // Nothing is subscribed before the welcome names the session.
    assert!(api.created().is_empty());
    conn.welcome("session-a").await;
    let mut session = within("connect", connect).await.unwrap().expect("connect");
    let created = api.created();
    assert_eq!(created.len(), 1, "the subscription is made before connect returns");
    assert_eq!(created[0].subscription_type, "stream.online");
    assert_eq!(created[0].version, "1");
    assert_eq!(created[0].condition, json!({"broadcaster_user_id": "1337"}));
    assert_eq!(FakeApi::session_of(&created[0]), "session-a");
    assert_eq!(session.session_id().as_deref(), Some("session-a"));
    assert_eq!(session.subscriptions().len(), 1);

    let sent = now();
    conn.send(stream_online_at("m1", "1337", &sent)).await;
    match next_item(&mut session).await {
        SessionItem::Notification(n) => {
            assert_eq!(n.message_id, "m1");
            assert_eq!(n.timestamp, sent);
            assert_eq!(n.sent_at(), Some(twitch::Timestamp::parse(&sent).unwrap()));
            assert_eq!(n.subscription.parse().unwrap().subscription_type, "stream.online");
            assert_eq!(n.event.kind(), ("stream.online", "1"));
            assert!(n.decode_error.is_none());
            match n.event {
                Event::StreamOnlineV1(e) => assert_eq!(e.broadcaster_user_id, "1337"),
                other => panic!("unexpected event {other:?}"),
            }
        }
        other => panic!("unexpected {other:?}"),
    }

    // The client sends nothing but Pongs; closing sends a close frame.
    conn.ws.send(Message::Ping(b"hi".to_vec().into())).await.unwrap();
    match within("a pong", conn.ws.next()).await {
        Some(Ok(Message::Pong(p))) => assert_eq!(&p[..], b"hi"),
        other => panic!("expected a pong, got {other:?}"),
    }
    session.close().await;
    assert!(matches!(conn.next_from_client().await, Some(Message::Close(_)) | None));
    assert!(within("the end of the stream", session.next()).await.is_none());
}

#[tokio::test]
async fn a_server_that_sends_no_welcome_is_an_error() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let connect = tokio::spawn(builder(&api, &server, "c-nowelcome").connect());
    let mut conn = server.accept().await;
    conn.send(stream_online("m1", "1")).await;
    let err = within("connect", connect).await.unwrap().expect_err("no welcome");
    assert!(matches!(err, Error::EventSub(EventSubError::NoWelcome { .. })), "{err}");
}

/// Twitch's real windows on a paused clock: a 10 s keepalive and the default
/// 5 s grace; virtual time runs forward whenever every task waits.
#[tokio::test(start_paused = true)]
async fn silence_past_the_keepalive_window_counts_as_a_loss() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let connect = tokio::spawn(
        builder(&api, &server, "c-keepalive")
            .keepalive_timeout_seconds(10)
            .subscribe(StreamOnlineV1::new("1337"))
            .connect(),
    );
    let mut conn = server.accept().await;
    conn.send(welcome("quiet", 10)).await;
    let mut session = within("connect", connect).await.unwrap().expect("connect");
    let start = tokio::time::Instant::now();
    // Keepalives keep it alive well past one window...
    for i in 0..4 {
        tokio::time::sleep(Duration::from_secs(9)).await;
        conn.send(json!({"metadata": {"message_id": format!("k{i}"), "message_type": "session_keepalive",
            "message_timestamp": now()}, "payload": {}}))
            .await;
    }
    conn.send(stream_online("after-keepalives", "1337")).await;
    assert_eq!(message_id(&next_item(&mut session).await), "after-keepalives");
    // ...silence does not: the loss is declared 15 s (window + grace) after the last message.
    let quiet_from = tokio::time::Instant::now();
    match next_item(&mut session).await {
        SessionItem::EventsMayBeLost(lost) => {
            assert_eq!(lost.reason, DisconnectReason::KeepaliveTimeout);
            assert_eq!(lost.session_id, "quiet");
        }
        other => panic!("unexpected {other:?}"),
    }
    let silent = quiet_from.elapsed();
    assert!(silent >= Duration::from_secs(15) && silent < Duration::from_secs(16), "{silent:?}");
    assert!(start.elapsed() >= Duration::from_secs(36));
    let mut again = server.accept().await;
    again.welcome("loud").await;
    match next_item(&mut session).await {
        SessionItem::Recovered(r) => {
            assert_eq!(r.session_id, "loud");
            assert_eq!(r.resubscribed, 1);
        }
        other => panic!("unexpected {other:?}"),
    }
    drop(conn);
}

#[tokio::test]
async fn every_close_code_is_typed_and_recovered_from() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let (mut session, mut conn) = open(&api, &mut server, "c-codes", "s-0").await;
    let codes = [
        (4000, CloseCode::InternalServerError),
        (4001, CloseCode::ClientSentInboundTraffic),
        (4002, CloseCode::ClientFailedPingPong),
        (4003, CloseCode::ConnectionUnused),
        (4004, CloseCode::ReconnectGraceTimeExpired),
        (4005, CloseCode::NetworkTimeout),
        (4006, CloseCode::NetworkError),
        (4007, CloseCode::InvalidReconnect),
        (1000, CloseCode::Normal),
        (4999, CloseCode::Other(4999)),
    ];
    for (i, (code, typed)) in codes.into_iter().enumerate() {
        conn.close(code).await;
        match next_item(&mut session).await {
            SessionItem::EventsMayBeLost(lost) => {
                assert_eq!(lost.reason, DisconnectReason::Closed { code: typed, reason: "scripted".into() });
                assert_eq!(typed.code(), code);
            }
            other => panic!("{code}: unexpected {other:?}"),
        }
        assert_eq!(session.session_id(), None, "no session while reconnecting");
        conn = server.accept().await;
        let id = format!("s-{}", i + 1);
        conn.welcome(&id).await;
        match next_item(&mut session).await {
            SessionItem::Recovered(r) => {
                assert_eq!(r.session_id, id);
                assert_eq!(r.resubscribed, 1);
                assert!(r.failed.is_empty());
            }
            other => panic!("{code}: unexpected {other:?}"),
        }
        let last = api.created().last().cloned().unwrap();
        assert_eq!(FakeApi::session_of(&last), id, "{code}: resubscribed on the new session");
        conn.send(stream_online(&format!("after-{code}"), "1337")).await;
        assert_eq!(message_id(&next_item(&mut session).await), format!("after-{code}"));
    }
    assert_eq!(api.created().len(), 1 + codes.len());
    assert_eq!(session.subscriptions().len(), 1);
}

#[tokio::test]
async fn reconnect_handover_delivers_each_notification_once_and_does_not_resubscribe() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let (mut session, mut old) = open(&api, &mut server, "c-handover", "keep-me").await;
    old.send(stream_online("a", "1337")).await;
    assert_eq!(message_id(&next_item(&mut session).await), "a");

    let url = server.reconnect_url();
    old.reconnect("keep-me", &url).await;
    let mut new = server.accept().await;
    assert_eq!(new.path, "/reconnect");
    // Until the new welcome, the old socket still delivers.
    old.send(stream_online("b", "1337")).await;
    assert_eq!(message_id(&next_item(&mut session).await), "b");
    new.welcome("keep-me").await;
    // The old socket is closed by the client once the new one is welcomed.
    assert!(matches!(old.next_from_client().await, Some(Message::Close(_)) | None));
    // Twitch may send the same notification on both sockets.
    new.send(stream_online("b", "1337")).await;
    new.send(stream_online("c", "1337")).await;
    assert_eq!(message_id(&next_item(&mut session).await), "c");
    assert_eq!(api.created().len(), 1, "a reconnect keeps the subscriptions");
    assert_eq!(session.session_id().as_deref(), Some("keep-me"));

    // A reconnect from the new socket: nested handovers work the same way.
    new.reconnect("keep-me", &url).await;
    let mut third = server.accept().await;
    third.welcome("keep-me").await;
    assert!(matches!(new.next_from_client().await, Some(Message::Close(_)) | None));
    third.send(stream_online("c", "1337")).await;
    third.send(stream_online("d", "1337")).await;
    assert_eq!(message_id(&next_item(&mut session).await), "d");
    assert_eq!(api.created().len(), 1);
}

#[tokio::test]
async fn a_reconnect_url_that_fails_falls_back_to_a_fresh_session() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let (mut session, mut old) = open(&api, &mut server, "c-badurl", "first").await;
    // A port nothing listens on.
    let dead = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let dead_url = format!("ws://{}/ws", dead.local_addr().unwrap());
    drop(dead);
    old.reconnect("first", &dead_url).await;
    // The old socket keeps working meanwhile.
    old.send(stream_online("still-here", "1337")).await;
    assert_eq!(message_id(&next_item(&mut session).await), "still-here");
    old.close(4004).await;
    match next_item(&mut session).await {
        SessionItem::EventsMayBeLost(lost) => assert_eq!(
            lost.reason,
            DisconnectReason::Closed { code: CloseCode::ReconnectGraceTimeExpired, reason: "scripted".into() }
        ),
        other => panic!("unexpected {other:?}"),
    }
    let mut fresh = server.accept().await;
    assert_eq!(fresh.path, "/ws", "a fresh connection goes to the configured URL");
    fresh.welcome("second").await;
    assert!(matches!(next_item(&mut session).await, SessionItem::Recovered(r) if r.session_id == "second"));
    assert_eq!(api.created().len(), 2);
}

#[tokio::test]
async fn an_abrupt_drop_reconnects_with_backoff_and_resubscribes() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let (mut session, conn) = open(&api, &mut server, "c-drop", "before").await;
    session.subscribe(twitch::eventsub::stream::StreamOfflineV1::new("1337")).await.unwrap();
    drop(conn); // TCP closed without a close frame
    match next_item(&mut session).await {
        SessionItem::EventsMayBeLost(lost) => {
            assert!(
                matches!(lost.reason, DisconnectReason::Ended | DisconnectReason::Transport(_)),
                "{:?}",
                lost.reason
            );
            assert_eq!(lost.session_id, "before");
        }
        other => panic!("unexpected {other:?}"),
    }
    // The first attempt is refused (its handshake is dropped); the next one works.
    let refused = server.accept().await;
    drop(refused);
    let mut conn = server.accept().await;
    conn.welcome("after").await;
    match next_item(&mut session).await {
        SessionItem::Recovered(r) => {
            assert_eq!(r.session_id, "after");
            assert_eq!(r.resubscribed, 2);
        }
        other => panic!("unexpected {other:?}"),
    }
    let created = api.created();
    assert_eq!(created.len(), 4);
    let mut types: Vec<_> =
        created[2..].iter().map(|c| (c.subscription_type.as_str(), FakeApi::session_of(c))).collect();
    types.sort();
    assert_eq!(types, [("stream.offline", "after".to_owned()), ("stream.online", "after".to_owned())]);
}

#[tokio::test]
async fn a_subscription_made_during_a_recovery_is_kept() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let (mut session, conn) = open(&api, &mut server, "c-race", "one").await;
    *api.create_delay.lock().unwrap() = Duration::from_millis(300);
    drop(conn);
    assert!(matches!(next_item(&mut session).await, SessionItem::EventsMayBeLost(_)));
    let mut conn = server.accept().await;
    conn.welcome("two").await;
    // The recovery is re-creating stream.online (slowly); meanwhile the
    // application subscribes to something else on the new session.
    let handle = session.handle();
    let extra =
        tokio::spawn(async move { handle.subscribe(twitch::eventsub::stream::StreamOfflineV1::new("1337")).await });
    match next_item(&mut session).await {
        SessionItem::Recovered(r) => assert_eq!(r.resubscribed, 1),
        other => panic!("unexpected {other:?}"),
    }
    within("the extra subscription", extra).await.unwrap().expect("subscribed");
    let mut types: Vec<String> = session.subscriptions().into_iter().map(|s| s.subscription_type).collect();
    types.sort();
    assert_eq!(types, ["stream.offline", "stream.online"]);
    assert!(session.subscriptions().iter().all(|s| s.transport.session_id.as_deref() == Some("two")));
}

#[tokio::test]
async fn revocations_are_typed_and_forget_the_subscription() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let (mut session, mut conn) = open(&api, &mut server, "c-revoke", "s").await;
    let id = session.subscriptions()[0].id.clone();
    for (n, status, typed) in [
        (1, "authorization_revoked", SubscriptionStatus::AuthorizationRevoked),
        (2, "something_new", SubscriptionStatus::Unknown("something_new".into())),
    ] {
        conn.send(json!({
            "metadata": {"message_id": format!("rev-{n}"), "message_type": "revocation", "message_timestamp": now(),
                "subscription_type": "stream.online", "subscription_version": "1"},
            "payload": {"subscription": {"id": id, "status": status, "type": "stream.online", "version": "1",
                "cost": 0, "condition": {"broadcaster_user_id": "1337"},
                "transport": {"method": "websocket", "session_id": "s"}, "created_at": now()}}
        }))
        .await;
        match next_item(&mut session).await {
            SessionItem::Revoked(r) => {
                assert_eq!(r.status, typed);
                assert_eq!(r.subscription.status, status);
                assert_eq!(r.subscription.id, id);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(session.subscriptions().is_empty());
}

/// Control messages decode what matters (ids, status, session, URLs)
/// strictly and the rest leniently: a malformed timestamp, a string cost or
/// an odd transport keeps its raw value and turns nothing into an error.
#[tokio::test]
async fn control_messages_survive_bad_non_essential_fields() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let connect = tokio::spawn(builder(&api, &server, "c-lenient").subscribe(StreamOnlineV1::new("1337")).connect());
    let mut conn = server.accept().await;
    // A welcome with a string keepalive and a number where a time should be.
    conn.send(json!({
        "metadata": {"message_id": 17, "message_type": "session_welcome", "message_timestamp": 1_700_000_000},
        "payload": {"session": {"id": "s", "status": null, "connected_at": 12345,
            "keepalive_timeout_seconds": "10", "reconnect_url": null, "recovery_url": {"x": 1}}}
    }))
    .await;
    let mut session = within("connect", connect).await.unwrap().expect("a lenient welcome connects");
    assert_eq!(session.session_id().as_deref(), Some("s"));
    let sub = session.subscriptions()[0].clone();

    // Twitch's own docs example of a revocation has this timestamp.
    conn.send(json!({
        "metadata": {"message_id": "rev-1", "message_type": "revocation", "message_timestamp": "2020-11-10T20:08:464757833Z",
            "subscription_type": "stream.online", "subscription_version": "1"},
        "payload": {"subscription": {"id": sub.id, "status": "authorization_revoked", "type": "stream.online",
            "version": "1", "cost": "1", "condition": {"broadcaster_user_id": "1337"},
            "transport": {"method": "websocket", "session_id": ["s"]}, "created_at": "2020-11-10T20:08:464757833Z"}}
    }))
    .await;
    // Keepalives with odd metadata are still keepalives, not error items.
    conn.send(
        json!({"metadata": {"message_id": null, "message_type": "session_keepalive", "message_timestamp": false},
        "payload": {}}),
    )
    .await;
    match next_item(&mut session).await {
        SessionItem::Revoked(r) => {
            assert_eq!(r.status, SubscriptionStatus::AuthorizationRevoked);
            assert_eq!(r.subscription.id, sub.id);
            assert_eq!(r.subscription.subscription_type, "stream.online");
            assert_eq!(r.subscription.cost, 1, "a numeric string is read as the number");
            assert_eq!(r.subscription.created_at, None);
            assert_eq!(r.subscription.unparsed["created_at"], json!("2020-11-10T20:08:464757833Z"));
            assert_eq!(r.subscription.transport.method, "websocket");
            assert_eq!(r.subscription.transport.session_id, None);
            assert_eq!(r.subscription.unparsed["transport"]["session_id"], json!(["s"]));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(session.subscriptions().is_empty(), "the revoked subscription is no longer tracked");

    // A revocation without a readable id is matched by type, version and condition.
    session.subscribe(StreamOnlineV1::new("42")).await.unwrap();
    conn.send(json!({
        "metadata": {"message_id": "rev-2", "message_type": "revocation", "message_timestamp": now()},
        "payload": {"subscription": {"id": ["?"], "status": "user_removed", "type": "stream.online", "version": "1",
            "cost": {"no": 1}, "condition": {"broadcaster_user_id": "42"}, "transport": "websocket", "created_at": null}}
    }))
    .await;
    match next_item(&mut session).await {
        SessionItem::Revoked(r) => {
            assert_eq!(r.status, SubscriptionStatus::UserRemoved);
            assert_eq!(r.subscription.id, "");
            assert_eq!(r.subscription.unparsed["id"], json!(["?"]));
            assert_eq!(r.subscription.unparsed["cost"], json!({"no": 1}));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(session.subscriptions().is_empty());
    // The session still delivers.
    conn.send(stream_online("after", "1337")).await;
    assert_eq!(message_id(&next_item(&mut session).await), "after");
}

#[tokio::test]
async fn bad_frames_are_items_and_the_session_goes_on() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let (mut session, mut conn) = open(&api, &mut server, "c-frames", "s").await;

    conn.send_text("this is not JSON").await;
    match next_item(&mut session).await {
        SessionItem::Error(Error::Decode { body, .. }) => assert_eq!(body, "this is not JSON"),
        other => panic!("unexpected {other:?}"),
    }
    conn.send(json!({"metadata": {"message_id": "u1", "message_type": "session_teleport",
        "message_timestamp": "2026-11-23T10:11:12.123456789Z"},
        "payload": {"where": "mars"}}))
        .await;
    match next_item(&mut session).await {
        SessionItem::Unknown(u) => {
            assert_eq!(u.metadata.message_type, twitch::websocket::MessageType::Other("session_teleport".into()));
            assert_eq!(
                u.metadata.sent_at().map(|t| t.to_rfc3339_nanos()).as_deref(),
                Some("2026-11-23T10:11:12.123456789Z")
            );
            assert_eq!(u.payload, json!({"where": "mars"}));
        }
        other => panic!("unexpected {other:?}"),
    }
    // A type this crate does not know: raw, not an error.
    let mut unknown = stream_online("new-type", "1337");
    unknown["metadata"]["subscription_type"] = json!("channel.teleport");
    unknown["payload"]["subscription"]["type"] = json!("channel.teleport");
    conn.send(unknown).await;
    match next_item(&mut session).await {
        SessionItem::Notification(n) => match n.event {
            Event::Unknown(u) => {
                assert_eq!(u.subscription_type, "channel.teleport");
                assert_eq!(u.raw["broadcaster_user_id"], "1337");
                assert!(n.decode_error.is_none());
            }
            other => panic!("unexpected {other:?}"),
        },
        other => panic!("unexpected {other:?}"),
    }
    // A known type whose event no longer fits: delivered raw, with the reason.
    let mut changed = stream_online("changed", "1337");
    changed["payload"]["event"]["started_at"] = json!(12345);
    conn.send(changed).await;
    match next_item(&mut session).await {
        SessionItem::Notification(n) => {
            assert!(matches!(n.event, Event::Unknown(_)));
            match n.decode_error.as_deref() {
                Some(Error::Decode { path, .. }) => assert_eq!(path, "started_at"),
                other => panic!("unexpected {other:?}"),
            }
        }
        other => panic!("unexpected {other:?}"),
    }
    // New fields, a new enum value, a null where a value may be absent.
    let mut evolved = stream_online("evolved", "1337");
    evolved["payload"]["event"]["brand_new_field"] = json!({"x": 1});
    evolved["payload"]["event"]["type"] = json!("hologram");
    evolved["metadata"]["brand_new_meta"] = json!(true);
    conn.send(evolved).await;
    match next_item(&mut session).await {
        SessionItem::Notification(n) => match n.event {
            Event::StreamOnlineV1(e) => {
                assert_eq!(e.stream_type, twitch::eventsub::stream::StreamOnlineType::Unknown("hologram".into()))
            }
            other => panic!("unexpected {other:?}"),
        },
        other => panic!("unexpected {other:?}"),
    }
    // Payload before metadata still decodes.
    let v = stream_online("reordered", "1337");
    let text = format!(r#"{{"payload":{},"metadata":{}}}"#, v["payload"], v["metadata"]);
    conn.send_text(&text).await;
    assert_eq!(message_id(&next_item(&mut session).await), "reordered");
    // Replays: a repeated id, and a message older than ten minutes.
    conn.send(stream_online("reordered", "1337")).await;
    conn.send(stream_online_at("stale", "1337", "2020-01-01T00:00:00.000000000Z")).await;
    conn.send(stream_online("fresh", "1337")).await;
    assert_eq!(message_id(&next_item(&mut session).await), "fresh");
}

#[tokio::test]
async fn an_oversized_message_drops_the_connection_which_recovers() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let connect = tokio::spawn(
        builder(&api, &server, "c-big").max_message_size(2048).subscribe(StreamOnlineV1::new("1337")).connect(),
    );
    let mut conn = server.accept().await;
    conn.welcome("small").await;
    let mut session = within("connect", connect).await.unwrap().expect("connect");
    let mut big = stream_online("big", "1337");
    big["payload"]["event"]["padding"] = json!("x".repeat(8192));
    conn.send(big).await;
    match next_item(&mut session).await {
        SessionItem::EventsMayBeLost(lost) => {
            assert!(matches!(lost.reason, DisconnectReason::MessageTooLarge(_)), "{:?}", lost.reason)
        }
        other => panic!("unexpected {other:?}"),
    }
    let mut conn = server.accept().await;
    conn.welcome("small-2").await;
    assert!(matches!(next_item(&mut session).await, SessionItem::Recovered(_)));
}

#[tokio::test]
async fn a_fourth_connection_per_user_token_is_refused() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let mut sessions = Vec::new();
    for i in 0..3 {
        sessions.push(open(&api, &mut server, "c-limit", &format!("s{i}")).await);
    }
    let err = builder(&api, &server, "c-limit").connect().await.expect_err("a fourth connection");
    match &err {
        Error::EventSub(EventSubError::TooManyConnections { limit, .. }) => assert_eq!(*limit, 3),
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("at most 3"), "{err}");
    // Another user has a budget of its own.
    let other_user = tokio::spawn(builder(&api, &server, "c-limit").as_user("42").connect());
    server.accept().await.welcome("other").await;
    within("connect", other_user).await.unwrap().expect("another user's connection");
    // Closing one frees its slot (when its connection task has ended).
    let (closed, _conn) = sessions.pop().unwrap();
    drop(closed);
    let url = server.url.clone();
    let again = tokio::spawn(async move {
        for _ in 0..500 {
            match SessionBuilder::<Event>::new(api.clone(), "c-limit", url.clone()).connect().await {
                Ok(s) => return s,
                Err(Error::EventSub(EventSubError::TooManyConnections { .. })) => {
                    tokio::time::sleep(Duration::from_millis(10)).await
                }
                Err(e) => panic!("unexpected {e}"),
            }
        }
        panic!("the slot was never given back");
    });
    server.accept().await.welcome("s3").await;
    within("connect", again).await.unwrap();
}

#[tokio::test]
async fn twitchs_transport_limit_and_the_subscription_limit_are_clear_errors() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let (session, _conn) = open(&api, &mut server, "c-subs", "s").await;
    for i in 1..300 {
        session
            .handle()
            .subscribe_raw("stream.online", "1", json!({"broadcaster_user_id": i.to_string()}))
            .await
            .unwrap();
    }
    assert_eq!(session.subscriptions().len(), 300);
    let err = session.subscribe(StreamOnlineV1::new("301")).await.expect_err("over 300");
    assert!(matches!(err, Error::EventSub(EventSubError::TooManySubscriptions { limit: 300 })), "{err}");
    assert_eq!(api.created().len(), 300, "refused before any request");

    let (session2, _conn2) = open(&api, &mut server, "c-subs-2", "s2").await;
    api.transports_full.store(true, Ordering::SeqCst);
    let err = session2.subscribe(StreamOnlineV1::new("1")).await.expect_err("Twitch's 429");
    assert!(matches!(err, Error::EventSub(EventSubError::TooManyConnections { .. })), "{err}");
}

/// Twitch's rule is about messages: a socket that answers pings but sends
/// no keepalive or notification for longer than the window is lost.
#[tokio::test(start_paused = true)]
async fn pings_do_not_keep_a_silent_session_alive() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let connect = tokio::spawn(builder(&api, &server, "c-pings").subscribe(StreamOnlineV1::new("1337")).connect());
    let mut conn = server.accept().await;
    conn.send(welcome("pinged", 10)).await;
    let mut session = within("connect", connect).await.unwrap().expect("connect");
    let quiet_from = tokio::time::Instant::now();
    let pinger = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(3)).await;
            if conn.ws.send(Message::Ping(vec![1].into())).await.is_err() {
                break conn;
            }
            // The client answers every ping.
            let _ = conn.ws.next().await;
        }
    });
    match next_item(&mut session).await {
        SessionItem::EventsMayBeLost(lost) => assert_eq!(lost.reason, DisconnectReason::KeepaliveTimeout),
        other => panic!("unexpected {other:?}"),
    }
    let silent = quiet_from.elapsed();
    assert!(silent >= Duration::from_secs(15) && silent < Duration::from_secs(16), "{silent:?}");
    pinger.abort();
}

/// A notification Twitch wrote on the old socket just before the new
/// welcome is still delivered: the old socket is closed with the closing
/// handshake and read until its close frame. Here it arrives only after
/// the client has sent its close frame, every time.
#[tokio::test]
async fn a_notification_in_flight_on_the_old_socket_at_handover_is_delivered() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let (mut session, mut old) = open(&api, &mut server, "c-inflight", "s").await;
    let url = server.reconnect_url();
    for round in 0..30 {
        old.reconnect("s", &url).await;
        let mut new = server.accept().await;
        new.welcome("s").await;
        // The client closes the old socket once the new one is welcomed...
        old.until_client_closes().await;
        // ...and what was already on its way on the old socket still counts.
        old.send(stream_online(&format!("late-{round}"), "1337")).await;
        assert!(matches!(old.next_from_client().await, Some(Message::Close(_))), "round {round}");
        assert_eq!(message_id(&next_item(&mut session).await), format!("late-{round}"));
        new.send(stream_online(&format!("next-{round}"), "1337")).await;
        assert_eq!(message_id(&next_item(&mut session).await), format!("next-{round}"));
        old = new;
    }
    assert_eq!(api.created().len(), 1);
}

/// A subscription requested while a reconnect handover is under way ends
/// up on the session in use, once, and `subscribe` succeeds: whether
/// Twitch refuses the request for the departing session (then it is made
/// again after the new welcome) or makes it and carries it over.
#[tokio::test]
async fn a_subscription_created_during_a_handover_is_made_once() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let (session, mut old) = open(&api, &mut server, "c-handover-sub", "before").await;
    let url = server.reconnect_url();

    // Twitch refuses: the session named in the request is no longer connected.
    *api.create_delay.lock().unwrap() = Duration::from_millis(200);
    api.gone.lock().unwrap().push("before".into());
    let handle = session.handle();
    let pending = tokio::spawn(async move { handle.subscribe(StreamOnlineV1::new("1")).await });
    old.reconnect("before", &url).await;
    let mut new = server.accept().await;
    new.welcome("after").await;
    let made = within("subscribe", pending).await.unwrap().expect("subscribe succeeds");
    assert_eq!(made.subscription.transport.session_id.as_deref(), Some("after"));
    let on_after = api.created().iter().filter(|c| FakeApi::session_of(c) == "after").count();
    assert_eq!(on_after, 1, "made once on the new session");

    // Twitch made it on the departing session and carried it over.
    let handle = session.handle();
    let pending = tokio::spawn(async move { handle.subscribe(StreamOnlineV1::new("2")).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    new.reconnect("after", &url).await;
    let mut third = server.accept().await;
    third.welcome("after").await;
    let made = within("subscribe", pending).await.unwrap().expect("subscribe succeeds");
    assert_eq!(made.subscription.condition, json!({"broadcaster_user_id": "2"}));
    let for_2 = api.created().iter().filter(|c| c.condition == json!({"broadcaster_user_id": "2"})).count();
    assert_eq!(for_2, 1, "not made again");
    let conditions: Vec<_> = session.subscriptions().iter().map(|s| s.condition.to_value()).collect();
    assert_eq!(conditions.len(), 3, "{conditions:?}");
    drop(third);
}

/// After a drop, a 409 "already exists" means present: the subscription
/// is confirmed with Get EventSub Subscriptions and kept. One that exists
/// only on the dead session is a leftover: deleted, and made again.
#[tokio::test]
async fn a_409_on_resubscribe_means_present() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let (mut session, conn) = open(&api, &mut server, "c-409", "first").await;
    session.subscribe(twitch::eventsub::stream::StreamOfflineV1::new("1337")).await.unwrap();
    // Twitch already holds stream.online on the new session (made by an
    // earlier attempt), and stream.offline only on the dead one.
    let online = api.held.lock().unwrap().iter().find(|s| s.subscription_type == "stream.online").cloned().unwrap();
    let mut present = online.clone();
    present.id = "present".into();
    present.transport.session_id = Some("second".into());
    api.held.lock().unwrap().retain(|s| s.subscription_type != "stream.online");
    api.held.lock().unwrap().push(present);
    api.script
        .lock()
        .unwrap()
        .extend([Answer::Fail(409, "subscription already exists"), Answer::Fail(409, "subscription already exists")]);
    drop(conn);
    assert!(matches!(next_item(&mut session).await, SessionItem::EventsMayBeLost(_)));
    let mut second = server.accept().await;
    second.welcome("second").await;
    match next_item(&mut session).await {
        SessionItem::Recovered(r) => {
            assert_eq!(r.resubscribed, 2, "{:?}", r.failed);
            assert!(r.failed.is_empty());
        }
        other => panic!("unexpected {other:?}"),
    }
    let subs = session.subscriptions();
    assert_eq!(subs.len(), 2, "both kept");
    assert!(subs.iter().any(|s| s.id == "present"), "the one found is tracked with its id");
    let offline_old = api.deleted.lock().unwrap().clone();
    assert_eq!(offline_old.len(), 1, "the leftover on the dead session was deleted");
    assert!(subs.iter().all(|s| s.transport.session_id.as_deref() == Some("second")), "{subs:?}");
    drop(second);
}

/// A re-creation that fails for a reason that may pass is not dropped: it
/// is tried again with backoff until it works, each attempt reported. One
/// Twitch refuses for good is dropped and reported as such.
#[tokio::test]
async fn transient_resubscribe_failures_are_retried_until_they_work() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let (mut session, conn) = open(&api, &mut server, "c-503", "first").await;
    session.subscribe(twitch::eventsub::stream::StreamOfflineV1::new("1337")).await.unwrap();
    // The two re-creations: one gets a 503, the other a 403; the retry of
    // the first gets another 503, then works.
    api.script.lock().unwrap().extend([
        Answer::Fail(503, "try again"),
        Answer::Fail(403, "subscription missing proper authorization"),
        Answer::Fail(503, "try again"),
    ]);
    *api.create_delay.lock().unwrap() = Duration::from_millis(20);
    drop(conn);
    assert!(matches!(next_item(&mut session).await, SessionItem::EventsMayBeLost(_)));
    let mut second = server.accept().await;
    second.welcome("second").await;
    let first = match next_item(&mut session).await {
        SessionItem::Recovered(r) => r,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(first.resubscribed, 0);
    let mut retrying: Vec<bool> = first.failed.iter().map(|f| f.retrying).collect();
    retrying.sort();
    assert_eq!(retrying, [false, true], "one refused for good, one kept");
    let kept = first.failed.iter().find(|f| f.retrying).unwrap().subscription_type.clone();
    assert_eq!(session.subscriptions().len(), 1, "the refused one is gone, the other kept");
    match next_item(&mut session).await {
        SessionItem::Recovered(r) => {
            assert_eq!((r.resubscribed, r.failed.len()), (0, 1));
            assert!(r.failed[0].retrying && r.failed[0].error.status() == Some(503));
        }
        other => panic!("unexpected {other:?}"),
    }
    match next_item(&mut session).await {
        SessionItem::Recovered(r) => assert_eq!((r.resubscribed, r.failed.len()), (1, 0)),
        other => panic!("unexpected {other:?}"),
    }
    let subs = session.subscriptions();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].subscription_type, kept);
    assert_eq!(subs[0].transport.session_id.as_deref(), Some("second"));
    drop(second);
}

/// When the token manager reports the session's token invalid, the
/// connection is closed and the stream ends with a typed item; with
/// `WaitForNewToken` it waits for a new token and comes back subscribed.
#[tokio::test]
async fn an_invalid_token_ends_its_session() {
    let mut server = Server::start().await;
    let (api, tokens) = FakeApi::with_tokens();
    let connect = tokio::spawn(
        builder(&api, &server, "c-invalid").as_user("42").subscribe(StreamOnlineV1::new("1337")).connect(),
    );
    let mut conn = server.accept().await;
    conn.welcome("s").await;
    let mut session = within("connect", connect).await.unwrap().unwrap();
    // Another user's token does not matter.
    tokens.send(twitch::TokenEvent::Invalid("7".into())).unwrap();
    conn.send(stream_online("still", "1337")).await;
    assert_eq!(message_id(&next_item(&mut session).await), "still");
    tokens.send(twitch::TokenEvent::Invalid("42".into())).unwrap();
    match next_item(&mut session).await {
        SessionItem::TokenInvalid(t) => {
            assert_eq!(t.user.as_deref(), Some("42"));
            assert_eq!(t.policy, OnTokenInvalid::End);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(conn.next_from_client().await, Some(Message::Close(_)) | None), "the socket is closed");
    assert!(within("the end", session.next()).await.is_none(), "the stream ends");

    let connect = tokio::spawn(
        builder(&api, &server, "c-invalid-wait")
            .as_user("42")
            .on_token_invalid(OnTokenInvalid::WaitForNewToken)
            .subscribe(StreamOnlineV1::new("1337"))
            .connect(),
    );
    let mut conn = server.accept().await;
    conn.welcome("w1").await;
    let mut session = within("connect", connect).await.unwrap().unwrap();
    tokens.send(twitch::TokenEvent::Invalid("42".into())).unwrap();
    assert!(matches!(next_item(&mut session).await, SessionItem::TokenInvalid(_)));
    assert!(matches!(conn.next_from_client().await, Some(Message::Close(_)) | None));
    assert_eq!(session.session_id(), None);
    tokens.send(twitch::TokenEvent::Added("42".into())).unwrap();
    let mut w2 = server.accept().await;
    w2.welcome("w2").await;
    match next_item(&mut session).await {
        SessionItem::Recovered(r) => assert_eq!((r.session_id.as_str(), r.resubscribed), ("w2", 1)),
        other => panic!("unexpected {other:?}"),
    }
    drop(w2);
}

/// A welcome with an absurd keepalive window is bounded, not a panic in
/// timer arithmetic.
#[tokio::test]
async fn a_huge_keepalive_window_is_bounded() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let connect = tokio::spawn(builder(&api, &server, "c-huge").subscribe(StreamOnlineV1::new("1337")).connect());
    let mut conn = server.accept().await;
    conn.send(welcome("huge", u64::MAX)).await;
    let mut session = within("connect", connect).await.unwrap().unwrap();
    conn.send(stream_online("fine", "1337")).await;
    assert_eq!(message_id(&next_item(&mut session).await), "fine");
}

// ---------------------------------------------------------------- shard pool

#[tokio::test]
async fn a_pool_of_fifty_shards_survives_drops_and_scale_changes() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let start = tokio::spawn(
        ShardPoolBuilder::<Event>::new(api.clone(), "conduit-1", server.url.clone())
            .shard_count(50)
            .backoff(Backoff { initial: Duration::from_millis(10), max: Duration::from_millis(50) })
            .start(),
    );
    let mut conns = Vec::new();
    for i in 0..50 {
        let mut c = server.accept().await;
        c.welcome(&format!("shard-session-{i}")).await;
        conns.push(c);
    }
    let mut pool = within("pool start", start).await.unwrap().expect("pool");
    assert_eq!(pool.shard_ids(), (0..50).collect::<Vec<_>>());
    let updates = api.shard_updates.lock().unwrap().clone();
    let attached: usize = updates.iter().map(Vec::len).sum();
    assert_eq!(attached, 50, "every shard attached once");
    assert!(updates.len() < 50, "attach calls are batched ({} calls)", updates.len());
    let sessions = pool.sessions();
    let mut attached_sessions: Vec<twitch::SessionId> =
        updates.iter().flatten().map(|a| a.session_id.clone()).collect();
    attached_sessions.sort();
    let mut pool_sessions: Vec<twitch::SessionId> = sessions.values().map(|s| s.clone().unwrap()).collect();
    pool_sessions.sort();
    assert_eq!(attached_sessions, pool_sessions);

    // One notification per shard, plus the same message id on two shards.
    for (i, c) in conns.iter_mut().enumerate() {
        c.send(stream_online(&format!("n{i}"), "1337")).await;
    }
    conns[7].send(stream_online("n3", "1337")).await;
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < 50 {
        match within("pool item", pool.next()).await.unwrap() {
            SessionItem::Notification(n) => {
                assert!(n.shard.is_some());
                assert!(seen.insert(n.message_id.clone()), "{} delivered twice", n.message_id);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    // Drop ten connections: each reconnects and is attached again.
    let before = api.shard_updates.lock().unwrap().iter().map(Vec::len).sum::<usize>();
    for c in conns.drain(0..10) {
        drop(c);
    }
    let mut lost = 0;
    let mut recovered = std::collections::BTreeSet::new();
    let mut pending_welcomes = 10;
    while recovered.len() < 10 {
        tokio::select! {
            item = pool.next() => match item.unwrap() {
                SessionItem::EventsMayBeLost(l) => {
                    assert!(l.shard.unwrap() < 10);
                    lost += 1;
                }
                SessionItem::Recovered(r) => { recovered.insert(r.shard.unwrap()); }
                other => panic!("unexpected {other:?}"),
            },
            c = server.conns.recv(), if pending_welcomes > 0 => {
                let mut c = c.unwrap();
                pending_welcomes -= 1;
                c.welcome(&format!("re-{pending_welcomes}")).await;
                conns.push(c);
            }
            _ = tokio::time::sleep(WAIT) => panic!("recovery timed out"),
        }
    }
    assert_eq!(lost, 10);
    assert_eq!(recovered, (0..10).collect());
    let after = api.shard_updates.lock().unwrap().iter().map(Vec::len).sum::<usize>();
    assert_eq!(after - before, 10, "only the dropped shards were attached again");

    // Twitch reports shard 20 disabled: the pool attaches it again.
    let disabled = json!({
        "metadata": {"message_id": "dis-20", "message_type": "notification", "message_timestamp": now(),
            "subscription_type": "conduit.shard.disabled", "subscription_version": "1"},
        "payload": {"subscription": {"id": "sub-d", "status": "enabled", "type": "conduit.shard.disabled",
            "version": "1", "cost": 0, "condition": {"client_id": "c"}, "transport": {"method": "conduit", "conduit_id": "conduit-1"},
            "created_at": now()},
            "event": {"conduit_id": "conduit-1", "shard_id": "20", "status": "websocket_disconnected",
                "transport": {"method": "websocket", "session_id": "shard-session-20", "connected_at": now(), "disconnected_at": now()}}}
    });
    conns[0].send(disabled).await;
    let mut got_event = false;
    let mut reattached = false;
    while !(got_event && reattached) {
        match within("shard 20", pool.next()).await.unwrap() {
            SessionItem::Notification(n) => {
                assert!(matches!(n.event, Event::ConduitShardDisabledV1(_)));
                got_event = true;
            }
            SessionItem::Recovered(r) => {
                assert_eq!(r.shard, Some(20));
                reattached = true;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let last = api.shard_updates.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last, [ShardAttach { shard_id: 20, session_id: "shard-session-20".into() }]);

    // Scale up to 60, then down to 40.
    let scale = {
        let fut = pool.scale(60);
        let mut accepted = Vec::new();
        tokio::pin!(fut);
        loop {
            tokio::select! {
                r = &mut fut => { r.expect("scale up"); break accepted; }
                c = server.conns.recv() => {
                    let mut c = c.unwrap();
                    c.welcome(&format!("grown-{}", accepted.len())).await;
                    accepted.push(c);
                }
            }
        }
    };
    assert_eq!(scale.len(), 10);
    assert_eq!(pool.shard_ids(), (0..60).collect::<Vec<_>>());
    // Growing: the new shards were connected before the count was raised,
    // and attached right after it.
    let log = api.conduit_log.lock().unwrap().clone();
    let at = log.iter().position(|l| l == "count 60").expect("the count was raised");
    let attached_after: Vec<u32> = log[at + 1..]
        .iter()
        .flat_map(|l| l.strip_prefix("attach ").unwrap().split(',').map(|i| i.parse::<u32>().unwrap()))
        .collect();
    assert_eq!(attached_after.iter().copied().collect::<std::collections::BTreeSet<_>>(), (50..60).collect());
    pool.scale(40).await.expect("scale down");
    assert_eq!(pool.shard_ids(), (0..40).collect::<Vec<_>>());
    assert_eq!(*api.conduit_updates.lock().unwrap(), [60, 40]);

    // A shard the conduit does not have is an error, not a silent gap, and
    // its socket is closed.
    api.refuse.lock().unwrap().push((45, usize::MAX, OUT_OF_RANGE));
    let add = tokio::spawn(async move {
        let r = pool.add_shards([45]).await;
        (pool, r)
    });
    let mut refused = server.accept().await;
    refused.welcome("refused").await;
    let (pool, r) = within("add shard", add).await.unwrap();
    assert!(!pool.shard_ids().contains(&45), "a refused shard is not kept");
    match r {
        Err(Error::EventSub(EventSubError::ShardOutOfRange { shard_id, message })) => {
            assert_eq!(shard_id, "45");
            assert_eq!(message, OUT_OF_RANGE);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(refused.next_from_client().await, Some(Message::Close(_)) | None), "its socket is closed");
}

fn pool_builder(api: &Arc<FakeApi>, server: &Server, shards: u32) -> ShardPoolBuilder<Event> {
    ShardPoolBuilder::<Event>::new(api.clone(), "conduit-1", server.url.clone())
        .shard_count(shards)
        .backoff(Backoff { initial: Duration::from_millis(10), max: Duration::from_millis(50) })
}

/// Start a pool, welcoming each of its connections; the connections in
/// shard order of arrival.
async fn start_pool(
    builder: ShardPoolBuilder<Event>,
    server: &mut Server,
    shards: u32,
) -> (twitch::Result<twitch::websocket::ShardPool<Event>>, Vec<Conn>) {
    let start = tokio::spawn(builder.start());
    let mut conns = Vec::new();
    for i in 0..shards {
        let mut c = server.accept().await;
        c.welcome(&format!("p-{i}")).await;
        conns.push(c);
    }
    (within("pool start", start).await.unwrap(), conns)
}

/// A shard Twitch refuses is tried again with backoff, each refusal
/// reported; after the last attempt the pool gives it up with a typed
/// error and closes its socket.
#[tokio::test]
async fn a_refused_shard_is_retried_then_given_up() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    api.refuse.lock().unwrap().push((1, 2, "the websocket session is not yet available"));
    let (pool, conns) = start_pool(pool_builder(&api, &server, 2), &mut server, 2).await;
    let mut pool = pool.expect("refused twice, attached the third time");
    for attempt in 1..=2 {
        match within("refusal", pool.next()).await.unwrap() {
            SessionItem::Error(Error::EventSub(EventSubError::ShardRefused { shard_id, attempt: a, .. })) => {
                assert_eq!((shard_id.as_str(), a), ("1", attempt));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(pool.shard_ids(), [0, 1]);
    let attaches_of_1 = api.shard_updates.lock().unwrap().iter().flatten().filter(|a| a.shard_id == 1).count();
    assert_eq!(attaches_of_1, 3);
    drop(conns);

    // Refused every time: given up after the configured attempts.
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    api.refuse.lock().unwrap().push((0, usize::MAX, "no"));
    let (pool, mut conns) = start_pool(pool_builder(&api, &server, 1).attach_attempts(3), &mut server, 1).await;
    match pool {
        Err(Error::EventSub(EventSubError::ShardGaveUp { shard_id, attempts, .. })) => {
            assert_eq!((shard_id.as_str(), attempts), ("0", 3));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(api.shard_updates.lock().unwrap().len(), 3);
    assert!(matches!(conns[0].next_from_client().await, Some(Message::Close(_)) | None), "its socket is closed");
}

/// A shard re-attached after a loss, which the conduit no longer has (it
/// was shrunk), is closed and no longer run.
#[tokio::test]
async fn a_shard_the_conduit_no_longer_has_is_closed() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let (pool, mut conns) = start_pool(pool_builder(&api, &server, 2), &mut server, 2).await;
    let mut pool = pool.unwrap();
    api.refuse.lock().unwrap().push((1, usize::MAX, OUT_OF_RANGE));
    conns.remove(1); // shard 1's connection drops
    assert!(matches!(within("loss", pool.next()).await.unwrap(), SessionItem::EventsMayBeLost(_)));
    let mut again = server.accept().await;
    again.welcome("p-1-again").await;
    match within("re-attach", pool.next()).await.unwrap() {
        SessionItem::Error(Error::EventSub(EventSubError::ShardOutOfRange { shard_id, .. })) => {
            assert_eq!(shard_id, "1")
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(again.next_from_client().await, Some(Message::Close(_)) | None), "the socket is closed");
    assert_eq!(pool.shard_ids(), [0]);
}

/// When every shard is disabled no `conduit.shard.disabled` can arrive: the
/// health check reads Get Conduit Shards and attaches again what Twitch
/// reports disabled although it is connected here.
#[tokio::test]
async fn the_health_check_reattaches_silently_disabled_shards() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let builder = pool_builder(&api, &server, 2).health_check(Some(Duration::from_millis(100)));
    let (pool, conns) = start_pool(builder, &mut server, 2).await;
    let mut pool = pool.unwrap();
    let sessions = pool.sessions();
    let s = |i: u32| sessions[&i].clone();
    *api.shard_statuses.lock().unwrap() = vec![
        ShardStatus::new("0", "websocket_disconnected", s(0)),
        ShardStatus::new("1", "enabled", s(1)),
        ShardStatus::new("7", "websocket_disconnected", Some("someone-else".into())),
    ];
    match within("health check", pool.next()).await.unwrap() {
        SessionItem::Recovered(r) => assert_eq!(r.shard, Some(0)),
        other => panic!("unexpected {other:?}"),
    }
    let last = api.shard_updates.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last, [ShardAttach { shard_id: 0, session_id: s(0).unwrap() }]);
    assert!(api.shard_reads.load(Ordering::SeqCst) >= 1);
    // Healthy: nothing more is attached.
    *api.shard_statuses.lock().unwrap() =
        vec![ShardStatus::new("0", "enabled", s(0)), ShardStatus::new("1", "enabled", s(1))];
    let reads = api.shard_reads.load(Ordering::SeqCst);
    while api.shard_reads.load(Ordering::SeqCst) < reads + 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let attaches = api.shard_updates.lock().unwrap().iter().flatten().count();
    assert_eq!(attaches, 3, "two at start, one by the health check");
    drop(conns);
}

/// A dropped pool's app-token watcher ends with it, also while it waits
/// for a new token after one was refused, instead of waiting for the next
/// token event.
#[tokio::test]
async fn a_dropped_pool_leaves_no_token_watcher_behind() {
    let mut server = Server::start().await;
    let (api, tokens) = FakeApi::with_tokens();
    let gone = async |tokens: &tokio::sync::broadcast::Sender<twitch::TokenEvent>| {
        while tokens.receiver_count() > 0 {
            tokio::task::yield_now().await;
        }
    };
    let (pool, conns) = start_pool(pool_builder(&api, &server, 1), &mut server, 1).await;
    assert_eq!(tokens.receiver_count(), 1, "the watcher");
    drop(pool);
    within("the watcher to end", gone(&tokens)).await;
    drop(conns);

    let builder = pool_builder(&api, &server, 1).on_token_invalid(OnTokenInvalid::WaitForNewToken);
    let (pool, _conns) = start_pool(builder, &mut server, 1).await;
    let mut pool = pool.unwrap();
    tokens.send(twitch::TokenEvent::AppTokenInvalid).unwrap();
    assert!(matches!(within("token invalid", pool.next()).await.unwrap(), SessionItem::TokenInvalid(_)));
    assert_eq!(tokens.receiver_count(), 1, "waiting for a new token");
    drop(pool);
    within("the waiting watcher to end", gone(&tokens)).await;
}

/// The app token refused for good: every shard is closed; the stream ends,
/// or (with `WaitForNewToken`) the shards start again with a new token.
#[tokio::test]
async fn an_invalid_app_token_ends_the_pool_or_waits_for_a_new_one() {
    let mut server = Server::start().await;
    let (api, tokens) = FakeApi::with_tokens();
    let (pool, mut conns) = start_pool(pool_builder(&api, &server, 2), &mut server, 2).await;
    let mut pool = pool.unwrap();
    tokens.send(twitch::TokenEvent::AppTokenInvalid).unwrap();
    match within("token invalid", pool.next()).await.unwrap() {
        SessionItem::TokenInvalid(t) => assert_eq!((t.user, t.policy), (None, OnTokenInvalid::End)),
        other => panic!("unexpected {other:?}"),
    }
    for c in &mut conns {
        assert!(matches!(c.next_from_client().await, Some(Message::Close(_)) | None));
    }
    assert!(within("the end", pool.next()).await.is_none(), "the pool's stream ends");

    let builder = pool_builder(&api, &server, 2).on_token_invalid(OnTokenInvalid::WaitForNewToken);
    let (pool, mut conns) = start_pool(builder, &mut server, 2).await;
    let mut pool = pool.unwrap();
    tokens.send(twitch::TokenEvent::AppTokenInvalid).unwrap();
    assert!(matches!(within("token invalid", pool.next()).await.unwrap(), SessionItem::TokenInvalid(_)));
    for c in &mut conns {
        assert!(matches!(c.next_from_client().await, Some(Message::Close(_)) | None));
    }
    tokens.send(twitch::TokenEvent::AppTokenRenewed).unwrap();
    let mut fresh = Vec::new();
    for i in 0..2 {
        let mut c = server.accept().await;
        c.welcome(&format!("renewed-{i}")).await;
        fresh.push(c);
    }
    let mut back = std::collections::BTreeSet::new();
    while back.len() < 2 {
        match within("recovered", pool.next()).await.unwrap() {
            SessionItem::Recovered(r) => {
                back.insert(r.shard.unwrap());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(pool.shard_ids(), [0, 1]);
    drop(fresh);
}

#[tokio::test]
async fn dropping_a_session_closes_its_socket() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let (session, mut conn) = open(&api, &mut server, "c-drop-session", "s").await;
    drop(session);
    match conn.next_from_client().await {
        Some(Message::Close(_)) => {}
        other => panic!("expected a close frame, got {other:?}"),
    }
}

/// Twitch's chat example with what Twitch might change: nulls where values
/// may be absent, a missing optional object, a field nobody knows yet.
#[test]
fn unexpected_nulls_and_missing_optionals_decode() {
    let meta = twitch::meta::subscription("channel.chat.message", "1").unwrap();
    let mut payload: Value = serde_json::from_str(meta.example.unwrap()).unwrap();
    let event = &mut payload["event"];
    event["badges"] = Value::Null;
    event["cheer"] = Value::Null;
    event.as_object_mut().unwrap().remove("reply");
    event["source_badges"] = Value::Null;
    event["brand_new"] = json!([1, 2, 3]);
    let frame = json!({
        "metadata": {"message_id": "m", "message_type": "notification", "message_timestamp": now(),
            "subscription_type": "channel.chat.message", "subscription_version": "1"},
        "payload": payload,
    });
    let decoded = twitch::websocket::decode_frame::<Event>(&frame.to_string()).expect("decodes");
    match decoded.message {
        twitch::websocket::Message::Notification {
            event: Event::ChannelChatMessageV1(m), decode_error: None, ..
        } => {
            assert!(m.badges.is_empty());
            assert!(m.cheer.is_none());
            assert!(m.reply.is_none());
            assert!(m.source_badges.is_none());
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// A host whose clock runs 11 minutes fast: Twitch's stamps all look 11
/// minutes old locally. Ages are judged on Twitch's clock (the welcome's
/// `connected_at`, then each keepalive), so fresh messages arrive and a
/// replay older than ten minutes on Twitch's clock is still dropped.
#[tokio::test]
async fn a_fast_local_clock_drops_no_fresh_message_and_still_drops_replays() {
    let twitch_time = |behind: Duration| twitch::Timestamp::from(std::time::SystemTime::now() - behind).to_string();
    let skew = Duration::from_secs(11 * 60);
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let connect = tokio::spawn(builder(&api, &server, "c-clock").subscribe(StreamOnlineV1::new("1337")).connect());
    let mut conn = server.accept().await;
    let mut hello = welcome("skewed", 10);
    hello["metadata"]["message_timestamp"] = json!(twitch_time(skew));
    hello["payload"]["session"]["connected_at"] = json!(twitch_time(skew));
    conn.send(hello).await;
    let mut session = within("connect", connect).await.unwrap().expect("connect");

    // Sent just now on Twitch's clock, which is 11 minutes behind ours.
    conn.send(stream_online_at("fresh-1", "1337", &twitch_time(skew))).await;
    assert_eq!(message_id(&next_item(&mut session).await), "fresh-1");
    // A replay: ten and a half minutes before Twitch's now.
    conn.send(stream_online_at("replay", "1337", &twitch_time(skew + Duration::from_secs(630)))).await;
    // A keepalive keeps the offset current.
    conn.send(json!({"metadata": {"message_id": "k1", "message_type": "session_keepalive",
        "message_timestamp": twitch_time(skew)}, "payload": {}}))
        .await;
    conn.send(stream_online_at("fresh-2", "1337", &twitch_time(skew))).await;
    assert_eq!(message_id(&next_item(&mut session).await), "fresh-2", "the replay was dropped, nothing else");
}

/// Two programs on one user token (an overlay beside a bot) subscribing to
/// the same thing: the second's 409 must not delete the first's enabled
/// subscription; it is told instead. A subscription of a session that is
/// gone (no longer enabled) is a leftover, deleted and made again.
#[tokio::test]
async fn a_409_leaves_another_live_sessions_subscription_alone() {
    let mut server = Server::start().await;
    let api = Arc::new(FakeApi::default());
    let (session, _conn) = open(&api, &mut server, "c-second", "bot-session").await;
    let held = |id: &str, status: &str, broadcaster: &str, on: &str| -> SubscriptionInfo {
        serde_json::from_value(json!({"id": id, "status": status, "type": "stream.online", "version": "1", "cost": 0,
            "condition": {"broadcaster_user_id": broadcaster},
            "transport": {"method": "websocket", "session_id": on}, "created_at": now()}))
        .unwrap()
    };
    api.held.lock().unwrap().push(held("overlay-sub", "enabled", "2001", "overlay-session"));
    api.held.lock().unwrap().push(held("old-sub", "websocket_disconnected", "2002", "dead-session"));

    api.script.lock().unwrap().push_back(Answer::Fail(409, "subscription already exists"));
    match session.subscribe(StreamOnlineV1::new("2001")).await.unwrap_err() {
        Error::EventSub(twitch::EventSubError::SubscribedElsewhere { subscription_id, session_id }) => {
            assert_eq!((subscription_id.as_str(), session_id.as_str()), ("overlay-sub", "overlay-session"))
        }
        other => panic!("{other:?}"),
    }
    assert!(api.deleted.lock().unwrap().is_empty(), "the overlay's subscription was left alone");

    api.script.lock().unwrap().push_back(Answer::Fail(409, "subscription already exists"));
    let made = session.subscribe(StreamOnlineV1::new("2002")).await.expect("the leftover cleared, then made");
    assert_eq!(*api.deleted.lock().unwrap(), ["old-sub"]);
    assert_eq!(made.subscription.transport.session_id.as_deref(), Some("bot-session"));
}
