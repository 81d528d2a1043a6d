//! Everything the mock remembers, behind one lock.
//!
//! A single `std::sync::Mutex` keeps the model simple: handlers take it,
//! change what they need and release it before any `.await`. WebSocket
//! connections are reached through channels stored here, so delivering a
//! notification never waits on a socket while holding the lock.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, watch};
use twitch::Timestamp;

use crate::config::Config;
use crate::ratelimit::Bucket;
use crate::util;

/// How long app tokens live (what Twitch typically answers, about 58 days).
pub(crate) const APP_TOKEN_SECS: u64 = 5_011_271;
/// How long user tokens live (four hours).
pub(crate) const USER_TOKEN_SECS: u64 = 14_400;
/// Chat messages remembered for replies, and entries kept in the chat
/// log: the oldest go first, so a long-running mock stays small.
pub(crate) const CHAT_MEMORY: usize = 10_000;

/// A user of the mock's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct User {
    pub id: String,
    pub login: String,
    pub display_name: String,
}

impl User {
    pub fn new(id: &str, login: &str) -> Self {
        let mut display: Vec<char> = login.chars().collect();
        if let Some(c) = display.first_mut() {
            *c = c.to_ascii_uppercase();
        }
        Self { id: id.to_owned(), login: login.to_ascii_lowercase(), display_name: display.into_iter().collect() }
    }
}

/// Set an event's `{prefix}_id`, `_login` and `_name` to a user's.
pub(crate) fn set_user(event: &mut Value, prefix: &str, u: &User) {
    event[format!("{prefix}_id")] = json!(u.id);
    event[format!("{prefix}_login")] = json!(u.login);
    event[format!("{prefix}_name")] = json!(u.display_name);
}

/// App or user token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    App,
    User,
}

/// An access token the mock issued.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub client_id: String,
    pub kind: Kind,
    pub user: Option<User>,
    pub scopes: Vec<String>,
    pub expires_at: Instant,
}

/// What a refresh token or authorization code stands for.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub client_id: String,
    pub user: User,
    pub scopes: Vec<String>,
}

/// A device-code login in progress.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub pending_left: u32,
    pub expires_at: Instant,
}

/// What a WebSocket connection task is told to do.
#[derive(Debug)]
pub(crate) enum Out {
    /// Send this text frame.
    Text(String),
    /// Send this `session_reconnect` text frame and start the grace timer.
    Reconnect(String),
    /// Send a close frame with this code and reason, then stop.
    Close(u16, String),
    /// The session moved to a new connection (a reconnect was taken): send
    /// nothing more and close with 4004 after this grace, unless the
    /// client closes first.
    Retire(Duration),
}

/// One WebSocket connection of a session.
#[derive(Debug, Clone)]
pub(crate) struct Conn {
    pub id: u64,
    pub tx: mpsc::UnboundedSender<Out>,
}

/// An EventSub WebSocket session; it outlives a connection across a reconnect.
#[derive(Debug)]
pub(crate) struct Session {
    pub id: String,
    pub conn: Conn,
    pub connected_at: String,
    pub keepalive_secs: u64,
    /// A subscription or conduit shard was bound to it (no 4003 then).
    pub used: bool,
    /// The token of the reconnect URL last handed out.
    pub reconnect_token: Option<String>,
    /// The client id whose subscriptions or shards use it.
    pub client_id: Option<String>,
}

/// Where a subscription's notifications go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Transport {
    /// `secret` and `deliver` only matter when the mock posts to callbacks.
    Webhook {
        callback: String,
        secret: String,
        deliver: bool,
    },
    WebSocket {
        session_id: String,
        connected_at: String,
        disconnected_at: Option<String>,
    },
    Conduit {
        conduit_id: String,
    },
}

impl Transport {
    pub fn to_json(&self) -> Value {
        match self {
            Transport::Webhook { callback, .. } => json!({"method": "webhook", "callback": callback}),
            Transport::WebSocket { session_id, connected_at, disconnected_at } => {
                let mut t = json!({"method": "websocket", "session_id": session_id, "connected_at": connected_at});
                if let Some(d) = disconnected_at {
                    t["disconnected_at"] = json!(d);
                }
                t
            }
            Transport::Conduit { conduit_id } => json!({"method": "conduit", "conduit_id": conduit_id}),
        }
    }
}

/// An EventSub subscription.
#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    pub id: String,
    pub status: String,
    pub sub_type: String,
    pub version: String,
    pub condition: Map<String, Value>,
    pub created_at: String,
    pub transport: Transport,
    pub cost: u32,
    pub client_id: String,
    /// The user whose token created it (WebSocket subscriptions).
    pub user_id: Option<String>,
}

impl Subscription {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "status": self.status,
            "type": self.sub_type,
            "version": self.version,
            "condition": self.condition,
            "created_at": self.created_at,
            "transport": self.transport.to_json(),
            "cost": self.cost,
        })
    }
}

/// A conduit shard.
#[derive(Debug, Clone)]
pub(crate) struct Shard {
    pub status: String,
    pub transport: Value,
    /// The WebSocket session it delivers to, while enabled.
    pub session_id: Option<String>,
}

impl Shard {
    pub fn unassigned() -> Self {
        Self { status: "websocket_disconnected".into(), transport: json!({"method": "websocket"}), session_id: None }
    }
}

/// A conduit and its shards.
#[derive(Debug, Clone)]
pub(crate) struct Conduit {
    pub id: String,
    pub client_id: String,
    pub shards: Vec<Shard>,
    /// Round-robin position for spreading notifications over shards.
    pub next: usize,
}

/// A ban or timeout, as Get Banned Users lists it.
#[derive(Debug, Clone)]
pub(crate) struct Ban {
    pub broadcaster_id: String,
    pub user: User,
    pub moderator: User,
    pub reason: String,
    pub created_at: String,
    pub expires_at: String,
}

/// The roles a channel gives its users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Moderator,
    Vip,
}

/// A user's role in a channel, kept in the order given (Get Moderators and
/// Get VIPs list them so).
#[derive(Debug, Clone)]
pub(crate) struct ChannelRole {
    pub broadcaster_id: String,
    pub user: User,
    pub role: Role,
}

/// A message Send Chat Message posted, counted by the chat limits.
#[derive(Debug, Clone)]
pub(crate) struct RecentChat {
    /// Tokio's clock, so that a test's paused clock moves the window.
    pub at: tokio::time::Instant,
    pub broadcaster_id: String,
    pub text: String,
}

/// A delivered chat message, for a reply to name its parent and thread.
#[derive(Debug, Clone)]
pub(crate) struct ChatRecord {
    pub message_id: String,
    pub broadcaster_id: String,
    pub chatter: User,
    pub text: String,
    /// The top message of its thread and its author, when it is a reply.
    pub thread: Option<(String, User)>,
}

/// Why Send Chat Message dropped a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChatDrop {
    /// Over the sender's chat limit (`msg_ratelimit`).
    Ratelimit,
    /// The same text as the sender's previous message in the channel,
    /// within the window (`msg_duplicate`).
    Duplicate,
    /// The sender is banned in the channel (`msg_banned`).
    Banned,
    /// The sender is timed out in the channel (`msg_timedout`).
    TimedOut,
}

impl ChatDrop {
    /// Twitch's chat notice id, which Send Chat Message answers in `drop_reason.code`.
    pub fn code(self) -> &'static str {
        match self {
            ChatDrop::Ratelimit => "msg_ratelimit",
            ChatDrop::Duplicate => "msg_duplicate",
            ChatDrop::Banned => "msg_banned",
            ChatDrop::TimedOut => "msg_timedout",
        }
    }
}

/// One Send Chat Message request, as [`MockServer::chat_log`](crate::MockServer::chat_log) lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChatLogEntry {
    /// The channel.
    pub broadcaster_id: String,
    /// The user it was sent as.
    pub sender_id: String,
    /// The text.
    pub text: String,
    /// The message id answered; empty when the message was dropped.
    pub message_id: String,
    /// The message it replies to.
    pub reply_parent_message_id: Option<String>,
    /// Why it was dropped; `None` when it was sent.
    pub dropped: Option<ChatDrop>,
}

impl ChatLogEntry {
    /// It went out (`is_sent: true`).
    pub fn is_sent(&self) -> bool {
        self.dropped.is_none()
    }
}

/// The message pinned in a channel's chat.
#[derive(Debug, Clone)]
pub(crate) struct Pin {
    pub message_id: String,
    pub sender: User,
    pub pinned_by: User,
    pub text: String,
    pub fragments: Vec<Value>,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    /// When the pin ends on tokio's clock; `None` until unpinned.
    pub until: Option<tokio::time::Instant>,
}

/// A channel's custom Power-up.
#[derive(Debug, Clone)]
pub(crate) struct PowerUp {
    pub id: String,
    pub title: String,
    pub prompt: String,
    pub bits: u64,
    pub background_color: String,
    pub is_enabled: bool,
    pub is_paused: bool,
    pub is_user_input_required: bool,
    /// Most redemptions per stream, when capped.
    pub max_per_stream: Option<u64>,
    /// Most redemptions per viewer per stream, when capped.
    pub max_per_user_per_stream: Option<u64>,
    /// Time between redemptions, when set.
    pub cooldown: Option<Duration>,
    /// Redemptions so far, in all and per viewer.
    pub redeemed: u64,
    pub redeemed_by: HashMap<String, u64>,
    /// The current cooldown's end: tokio's clock, and the wall clock for answers.
    pub cooling: Option<(tokio::time::Instant, Timestamp)>,
}

/// Helix calls and events the dashboard lists (the latest of each).
pub(crate) const DASHBOARD_MEMORY: usize = 200;

/// A Helix call, as the dashboard lists it.
#[derive(Debug, Clone)]
pub(crate) struct HelixRecord {
    pub at: String,
    pub method: String,
    /// The path with its query (tokens travel in headers, never here).
    pub path: String,
    pub status: u16,
    pub limit: u64,
    pub remaining: u64,
    pub reset: u64,
}

/// Messages sent for a subscription, as the dashboard lists them.
#[derive(Debug, Clone)]
pub(crate) struct EventRecord {
    pub at: String,
    /// `notification` or `revocation`.
    pub kind: &'static str,
    pub sub_type: String,
    pub version: String,
    pub subscription_id: String,
    /// The session, conduit or callback it went to.
    pub to: String,
    /// How many messages (a counted trigger sends many at once).
    pub count: usize,
}

/// Faults injected into Helix.
#[derive(Debug, Clone, Default)]
pub(crate) struct Faults {
    pub latency: Option<Duration>,
    pub status: Option<(u16, u32)>,
    pub drop: u32,
}

/// Guest Star sessions (`guest_star` keeps them).
#[derive(Debug, Default)]
pub(crate) struct GuestStarState {
    /// The active session of each channel that has one.
    pub sessions: HashMap<String, GuestStarSession>,
    /// Channels that had a session (they no longer answer from the example),
    /// with the ids of their ended sessions.
    pub ended: HashMap<String, HashSet<String>>,
}

#[derive(Debug, Clone)]
pub(crate) struct GuestStarSession {
    pub id: String,
    pub started_at: Timestamp,
    /// Occupied slots by slot id, the host's `"0"` included.
    pub slots: BTreeMap<String, GuestStarSlot>,
    /// Pending invites, oldest first.
    pub invites: Vec<GuestStarInvite>,
}

#[derive(Debug, Clone)]
pub(crate) struct GuestStarSlot {
    pub user: User,
    pub is_live: bool,
    pub volume: i64,
    pub assigned_at: Timestamp,
    pub audio: GuestStarMedia,
    pub video: GuestStarMedia,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct GuestStarMedia {
    pub host: bool,
    pub guest: bool,
    pub available: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct GuestStarInvite {
    pub user: User,
    pub invited_at: Timestamp,
    /// `INVITED`, `ACCEPTED` or `READY`.
    pub status: &'static str,
    pub audio: bool,
    pub video: bool,
}

/// Extension state (`helix::extensions` keeps it).
#[derive(Debug, Default)]
pub(crate) struct ExtensionState {
    /// Written segments by extension, segment and broadcaster (empty for
    /// `global`): the item Get Extension Configuration Segment answers.
    pub segments: HashMap<(String, String, String), Value>,
    /// Required configurations by extension and broadcaster:
    /// `(extension_version, required_configuration)`. No Helix read shows them.
    pub required: HashMap<(String, String), (String, String)>,
    /// Each extension's secrets, oldest first.
    pub secrets: HashMap<String, Vec<ExtensionSecret>>,
    /// Bits products by extension (client id), by SKU: the item as answered.
    pub products: HashMap<String, BTreeMap<String, Value>>,
    /// Active extensions by user: the `data` object Get User Active Extensions answers.
    pub active: HashMap<String, Value>,
}

/// One shared secret and its validity window.
#[derive(Debug, Clone)]
pub(crate) struct ExtensionSecret {
    pub content: String,
    pub active_at: Timestamp,
    pub expires_at: Timestamp,
}

/// The mutable part of the mock.
#[derive(Default)]
pub(crate) struct Inner {
    pub tokens: HashMap<String, Token>,
    pub refresh_tokens: HashMap<String, Grant>,
    pub codes: HashMap<String, (Grant, String, OidcRequest)>,
    /// Claims each OIDC access token asked for in `userinfo`.
    pub userinfo_claims: HashMap<String, Vec<String>>,
    pub devices: HashMap<String, Device>,
    pub users: Vec<User>,
    pub buckets: HashMap<String, Bucket>,
    pub subs: Vec<Subscription>,
    pub conduits: Vec<Conduit>,
    pub sessions: HashMap<String, Session>,
    pub bans: Vec<Ban>,
    /// Moderators and VIPs of each channel.
    pub roles: Vec<ChannelRole>,
    /// Each sender's messages within the chat window, oldest first.
    pub chat_recent: HashMap<String, VecDeque<RecentChat>>,
    /// The latest delivered chat messages (at most `CHAT_MEMORY`).
    pub chat_messages: VecDeque<ChatRecord>,
    /// Send Chat Message requests in order (at most `CHAT_MEMORY`).
    pub chat_log: VecDeque<ChatLogEntry>,
    /// When each channel last sent an announcement (one per 2 seconds).
    pub announced: HashMap<String, tokio::time::Instant>,
    /// Shoutouts sent: (from, to, when), the latest of each pair.
    pub shoutouts: Vec<(String, String, tokio::time::Instant)>,
    /// (sender, recipient) pairs that whispered before (a first whisper is shorter).
    pub whispered: std::collections::HashSet<(String, String)>,
    pub faults: Faults,
    pub datasets: HashMap<&'static str, Arc<Vec<Value>>>,
    /// The latest Helix calls and subscription messages (dashboard).
    pub helix_log: VecDeque<HelixRecord>,
    pub events_log: VecDeque<EventRecord>,
    /// The store's resources: (resource, owner) to items, in the order written.
    pub store: HashMap<(&'static str, String), Vec<Value>>,
    /// Guest Star sessions, invites and slots.
    pub guest_star: GuestStarState,
    /// Extension configuration, secrets, Bits products, user extensions.
    pub extensions: ExtensionState,
    /// The scopes each user granted each client: (client id, user id) to
    /// scopes. A user token issued for a client is such a grant; an app
    /// token acts for a user only within it.
    pub grants: HashMap<(String, String), BTreeSet<String>>,
    /// The pinned message of each channel that has one.
    pub pins: HashMap<String, Pin>,
    /// Custom Power-ups by channel, in the order created.
    pub power_ups: HashMap<String, Vec<PowerUp>>,
    /// Shared chat sessions running.
    pub shared_chats: Vec<SharedChatSession>,
    pub next_conn: u64,
}

/// A shared chat session (see the `shared_chat` module).
#[derive(Debug, Clone)]
pub(crate) struct SharedChatSession {
    pub id: String,
    pub host: String,
    /// The host first.
    pub participants: Vec<String>,
    pub created_at: String,
}

/// The mock's shared state.
pub(crate) struct Shared {
    pub config: Config,
    pub addr: SocketAddr,
    pub inner: Mutex<Inner>,
    /// Signs pagination cursors (opaque, tamper-evident).
    pub cursor_key: ring::hmac::Key,
    /// Flips to `true` when the server stops; connection tasks watch it.
    pub shutdown: watch::Receiver<bool>,
}

impl Shared {
    pub fn new(config: Config, addr: SocketAddr, shutdown: watch::Receiver<bool>) -> Self {
        let mut inner = Inner::default();
        // The users of Twitch's examples, the configured user and a few more.
        inner.users.push(User { id: "141981764".into(), login: "twitchdev".into(), display_name: "TwitchDev".into() });
        inner.users.push(User::new(&config.user_id, &config.user_login));
        for i in 1..=config.directory_size {
            inner.users.push(User::new(&(10_000 + i).to_string(), &format!("mockuser{i}")));
        }
        inner.users.dedup_by(|a, b| a.id == b.id);
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &util::random_bytes::<32>());
        Self { config, addr, inner: Mutex::new(inner), cursor_key: key, shutdown }
    }

    /// The state, even if a panicking thread poisoned the lock.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The client id tests and the CLI use when none is given.
    pub fn default_client_id(&self) -> String {
        self.config.clients.first().map(|(id, _)| id.clone()).unwrap_or_else(|| crate::DEFAULT_CLIENT_ID.to_owned())
    }

    /// The secret of a configured client.
    pub fn client_secret(&self, client_id: &str) -> Option<String> {
        self.config.clients.iter().find(|(id, _)| id == client_id).map(|(_, s)| s.clone())
    }

    /// `http://host:port`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Inner {
    /// The user with this id (directory), or `None`.
    pub fn user_by_id(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    /// The user with this login (case-insensitive), or `None`.
    pub fn user_by_login(&self, login: &str) -> Option<&User> {
        self.users.iter().find(|u| u.login.eq_ignore_ascii_case(login))
    }

    /// A user for ids that are not in the directory (events, bans): made up from the id.
    pub fn user_or_synth(&self, id: &str) -> User {
        self.user_by_id(id).cloned().unwrap_or_else(|| User::new(id, &format!("user{id}")))
    }

    /// Add a user to the directory (replacing one with the same id).
    pub fn add_user(&mut self, user: User) {
        self.users.retain(|u| u.id != user.id);
        self.users.push(user);
    }

    /// Issue an access token.
    pub fn issue(&mut self, client_id: &str, kind: Kind, user: Option<User>, scopes: Vec<String>) -> (String, u64) {
        let secs = if kind == Kind::App { APP_TOKEN_SECS } else { USER_TOKEN_SECS };
        let token = util::token(30);
        if let Some(u) = &user
            && self.user_by_id(&u.id).is_none()
        {
            self.add_user(u.clone());
        }
        // A user who got a token for a client authorized it with those scopes.
        if let Some(u) = user.as_ref().filter(|_| kind == Kind::User) {
            self.grants.entry((client_id.to_owned(), u.id.clone())).or_default().extend(scopes.iter().cloned());
        }
        self.tokens.insert(
            token.clone(),
            Token {
                client_id: client_id.to_owned(),
                kind,
                user,
                scopes,
                expires_at: Instant::now() + Duration::from_secs(secs),
            },
        );
        (token, secs)
    }

    /// A valid (known, unexpired) token.
    pub fn token(&self, token: &str) -> Option<&Token> {
        self.tokens.get(token).filter(|t| t.expires_at > Instant::now())
    }

    /// A user's role in a channel.
    pub fn role(&self, broadcaster_id: &str, user_id: &str) -> Option<Role> {
        self.roles.iter().find(|r| r.broadcaster_id == broadcaster_id && r.user.id == user_id).map(|r| r.role)
    }

    /// The broadcaster, or a moderator of the channel: who gets the higher chat limit.
    pub fn is_elevated(&self, broadcaster_id: &str, user_id: &str) -> bool {
        broadcaster_id == user_id || self.role(broadcaster_id, user_id) == Some(Role::Moderator)
    }

    /// The user's ban (no end) or timeout (an end in the future) in a channel.
    pub fn active_ban(&self, broadcaster_id: &str, user_id: &str) -> Option<&Ban> {
        let now = std::time::SystemTime::now();
        self.bans.iter().find(|b| {
            b.broadcaster_id == broadcaster_id
                && b.user.id == user_id
                && (b.expires_at.is_empty()
                    || twitch::Timestamp::parse(&b.expires_at).is_ok_and(|t| t.to_system_time() > now))
        })
    }

    /// Make a user a moderator or VIP of a channel. Refusals carry the
    /// status and message Twitch answers: already in the role, in the
    /// other role (422), banned (moderators), or the broadcaster.
    pub fn grant(&mut self, broadcaster_id: &str, user: User, role: Role) -> Result<(), (u16, &'static str)> {
        let (already, other) = match role {
            Role::Moderator => (
                (400, "The user specified in the user_id query parameter is already a moderator."),
                "The user specified in the user_id query parameter is a VIP. To make them a moderator, first remove them as a VIP.",
            ),
            Role::Vip => (
                (422, "The user specified in the user_id query parameter is already a VIP."),
                "The user specified in the user_id query parameter is a moderator. To make them a VIP, first remove them as a moderator.",
            ),
        };
        if user.id == broadcaster_id {
            return Err((400, "The broadcaster may not be given a role in their own channel."));
        }
        match self.role(broadcaster_id, &user.id) {
            Some(r) if r == role => return Err(already),
            Some(_) => return Err((422, other)),
            None => {}
        }
        if role == Role::Moderator && self.active_ban(broadcaster_id, &user.id).is_some_and(|b| b.expires_at.is_empty())
        {
            return Err((400, "The user specified in the user_id query parameter is banned."));
        }
        self.roles.push(ChannelRole { broadcaster_id: broadcaster_id.to_owned(), user, role });
        Ok(())
    }

    /// Take a role away; refused (Twitch's status and message) when the user does not have it.
    pub fn take(&mut self, broadcaster_id: &str, user_id: &str, role: Role) -> Result<(), (u16, &'static str)> {
        let before = self.roles.len();
        self.roles.retain(|r| !(r.broadcaster_id == broadcaster_id && r.user.id == user_id && r.role == role));
        if self.roles.len() < before {
            return Ok(());
        }
        Err(match role {
            Role::Moderator => (400, "The user specified in the user_id query parameter is not a moderator."),
            Role::Vip => (422, "The user specified in the user_id query parameter is not a VIP."),
        })
    }

    /// A fresh connection id.
    pub fn conn_id(&mut self) -> u64 {
        self.next_conn += 1;
        self.next_conn
    }
}

/// What an authorization asked for, kept until the code is exchanged.
#[derive(Debug, Clone, Default)]
pub(crate) struct OidcRequest {
    pub nonce: Option<String>,
    /// Claims asked for in the ID token.
    pub id_token: Vec<String>,
    /// Claims asked for in `userinfo`.
    pub userinfo: Vec<String>,
}

impl OidcRequest {
    /// From the `nonce` and `claims` parameters of an authorization.
    pub fn from_authorize(nonce: &str, claims: &str) -> Self {
        let parsed: Value = serde_json::from_str(claims).unwrap_or(Value::Null);
        let names = |part: &str| parsed[part].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
        Self {
            nonce: (!nonce.is_empty()).then(|| nonce.to_owned()),
            id_token: names("id_token"),
            userinfo: names("userinfo"),
        }
    }
}
