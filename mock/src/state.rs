//! Everything the mock remembers, behind one lock.
//!
//! A single `std::sync::Mutex` keeps the model simple: handlers take it,
//! change what they need and release it before any `.await`. WebSocket
//! connections are reached through channels stored here, so delivering a
//! notification never waits on a socket while holding the lock.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, watch};

use crate::config::Config;
use crate::ratelimit::Bucket;
use crate::util;

/// How long app tokens live (what Twitch typically answers, about 58 days).
pub(crate) const APP_TOKEN_SECS: u64 = 5_011_271;
/// How long user tokens live (four hours).
pub(crate) const USER_TOKEN_SECS: u64 = 14_400;

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

/// Faults injected into Helix.
#[derive(Debug, Clone, Default)]
pub(crate) struct Faults {
    pub latency: Option<Duration>,
    pub status: Option<(u16, u32)>,
    pub drop: u32,
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
    pub faults: Faults,
    pub datasets: HashMap<&'static str, Arc<Vec<Value>>>,
    pub next_conn: u64,
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
