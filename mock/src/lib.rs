//! A local Twitch for development and tests, driven by the same schema as
//! the bindings.
//!
//! One port serves everything, with paths mirroring Twitch's hosts:
//!
//! - `/helix/...`: every Helix endpoint of the schema, with token, scope
//!   and parameter checks, Twitch's rate-limit bucket and headers, answers
//!   from Twitch's examples, paginated data sets, and state where writes
//!   should show in reads (EventSub subscriptions, conduits, bans,
//!   moderators and VIPs, chat with Twitch's chat limits, deletions,
//!   announcements, Shoutouts and whispers as EventSub events, Guest Star
//!   sessions, extension configuration and products, and through one
//!   table-driven store custom rewards and redemptions, polls,
//!   predictions, stream markers, schedule segments, clips, blocked
//!   terms, channel and chat settings, shield mode and more: see the
//!   [`guide`], the crate's README). Documented body fields are also taken from the
//!   query string, as Twitch does.
//! - `/oauth2/...`: the identity service (token, device, authorize,
//!   validate, revoke), and OpenID Connect (signed ID tokens, keys,
//!   userinfo, discovery).
//! - `/ws`: the EventSub WebSocket server.
//! - Webhooks, with [`Mock::deliver_webhooks`]: the verification challenge,
//!   notifications and revocations posted, signed, to each webhook
//!   subscription's callback.
//! - `/dashboard`: a live page for the browser over the control API.
//! - `/control/...`: control endpoints to trigger events, chat lines from
//!   any chatter ([`MockServer::chat`]), reconnects, revocations, close
//!   codes and Helix faults.
//! - The Twitch CLI's mock layout over the same state, for clients with a
//!   switch for it: Helix under `/mock/...`, the identity service under
//!   `/auth/...`, the CLI's `/units/...`, and Helix's EventSub endpoints at
//!   `/eventsub/...` as the CLI's WebSocket server serves them.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let mock = twitch_mock::Mock::builder().page_items(50).start().await?;
//! let token = mock.mint_user_token("141981764", "twitchdev", &["user:read:email"]);
//! let client = twitch::Client::builder()
//!     .client_id(mock.client_id())
//!     .user_token(token)
//!     .helix_url(mock.helix_url())
//!     .auth_url(mock.auth_url())
//!     .build()
//!     .expect("client");
//! # let _ = client;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

/// The guide: what the mock serves, how to run it and drive it, how to
/// use it in tests, and how it behaves where Twitch does (the crate's
/// README). Documentation only.
#[cfg(any(doc, doctest))]
#[doc = include_str!("../README.md")]
pub mod guide {}

// The bottom: settings, helpers, state, the wire types.
mod config;
mod paging;
pub mod ratelimit;
mod state;
mod util;
mod wire;
// What the areas share above it.
mod chat;
mod delivery;
mod guest_star;
mod idtoken;
mod messages;
mod pins;
mod power_ups;
mod shared_chat;
mod store;
mod webhook;
// The areas, one router over them.
mod control;
mod helix;
mod oauth;
mod oidc;
mod router;
mod ws;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use chat::ChatLine;
pub use config::{DEFAULT_CLIENT_ID, Fault};
pub use delivery::{TriggerOptions, Triggered};
pub use power_ups::{NewPowerUp, PowerUpRedemption};
pub use state::{ChatDrop, ChatLogEntry};

use config::Config;
use state::{Kind, Role, Shared, User};

/// Builds and starts a mock server.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Mock {
    config: Config,
}

impl Mock {
    /// A builder with Twitch's defaults: 800 points per minute, keepalive
    /// and welcome window of 10 s, 30 s reconnect grace (5 s for the old
    /// connection once the reconnect is taken), chat limits of 20
    /// and 100 messages per 30 s, any client accepted.
    pub fn builder() -> Self {
        Self::default()
    }

    /// Listen on this port (0, the default, picks a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.config.port = port;
        self
    }

    /// Listen on this address (default `127.0.0.1`).
    pub fn host(mut self, host: IpAddr) -> Self {
        self.config.host = host;
        self
    }

    /// Rate-limit bucket: `capacity` points, refilled continuously over `window`.
    pub fn bucket(mut self, capacity: u32, window: Duration) -> Self {
        self.config.bucket = capacity.max(1);
        self.config.refill = window;
        self
    }

    /// Items in each paginated endpoint's generated data set (default 120).
    pub fn page_items(mut self, n: usize) -> Self {
        self.config.page_items = n;
        self
    }

    /// Keepalive timeout for connections that do not ask for one (default
    /// 10 s, whole seconds). A value under 10 s also becomes the smallest a
    /// client may ask for, so tests can use short keepalives.
    pub fn keepalive(mut self, timeout: Duration) -> Self {
        self.config.keepalive = timeout.max(Duration::from_secs(1));
        self
    }

    /// Time a new connection has to get a subscription before 4003 (default 10 s).
    pub fn welcome_window(mut self, window: Duration) -> Self {
        self.config.welcome_window = window;
        self
    }

    /// Time to take a reconnect URL before the old connection closes with 4004 (default 30 s).
    pub fn reconnect_grace(mut self, grace: Duration) -> Self {
        self.config.reconnect_grace = grace;
        self
    }

    /// How long the old connection stays open after its session's
    /// reconnect URL welcomed a new one (default 5 s). Twitch's guide has
    /// the client close the old connection once the new one is welcomed,
    /// and Twitch close it with 4004 if the client never does, without
    /// saying when: the mock sends nothing more on it (notifications go
    /// to the new connection) and closes it with 4004 after this grace,
    /// unless the client closed it first.
    pub fn old_connection_grace(mut self, grace: Duration) -> Self {
        self.config.old_connection_grace = grace;
        self
    }

    /// Ping interval of WebSocket connections; an unanswered ping closes with
    /// 4002 at the next one (default 60 s, `None` for no pings).
    pub fn ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.config.ping_interval = interval;
        self
    }

    /// Accept only this client (call again for more); by default any client
    /// id and secret are accepted.
    pub fn client(mut self, client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.config.clients.push((client_id.into(), secret.into()));
        self
    }

    /// Accept only these clients.
    pub fn clients<I, A, B>(mut self, clients: I) -> Self
    where
        I: IntoIterator<Item = (A, B)>,
        A: Into<String>,
        B: Into<String>,
    {
        self.config.clients.extend(clients.into_iter().map(|(a, b)| (a.into(), b.into())));
        self
    }

    /// The user that `authorize` and the device flow log in (default
    /// `141981764`/`twitchdev`), and the scopes it grants (`None`: what the
    /// app asked for).
    pub fn authorize_as(
        mut self,
        user_id: impl Into<String>,
        login: impl Into<String>,
        scopes: Option<Vec<String>>,
    ) -> Self {
        self.config.user_id = user_id.into();
        self.config.user_login = login.into();
        self.config.user_scopes = scopes;
        self
    }

    /// How many polls of a device code answer `authorization_pending` before
    /// the token is issued (default 0), and the `interval` announced (default 5 s).
    pub fn device_flow(mut self, pending_polls: u32, interval_secs: u64) -> Self {
        self.config.device_pending = pending_polls;
        self.config.device_interval = interval_secs;
        self
    }

    /// Post to webhook subscriptions' callbacks, as Twitch does: the
    /// verification challenge when one is created (it is enabled only if
    /// the callback answers it), then its notifications and revocation,
    /// signed with its secret. Off by default: webhook subscriptions are
    /// then enabled at once and nothing is posted, so a made-up callback
    /// is never called.
    pub fn deliver_webhooks(mut self, on: bool) -> Self {
        self.config.deliver_webhooks = on;
        self
    }

    /// Send Chat Message's chat limits: messages a sender may send within a
    /// sliding `window`, `normal` by default and `elevated` in a channel
    /// where the sender is the broadcaster or a moderator (Twitch: 20 and
    /// 100 per 30 s). The window also bounds the duplicate check. It runs
    /// on tokio's clock, so a test with a paused clock can move it.
    pub fn chat_limits(mut self, normal: u32, elevated: u32, window: Duration) -> Self {
        self.config.chat_normal = normal;
        self.config.chat_elevated = elevated;
        self.config.chat_window = window;
        self
    }

    /// Bind and start serving in the background.
    pub async fn start(self) -> std::io::Result<MockServer> {
        let listener = TcpListener::bind((self.config.host, self.config.port)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(self.config, addr, rx));
        let task = tokio::spawn(router::serve(listener, Arc::clone(&shared)));
        Ok(MockServer { shared, task, shutdown: tx })
    }
}

/// A running mock. Dropping it (or [`MockServer::shutdown`]) stops it.
pub struct MockServer {
    shared: Arc<Shared>,
    task: JoinHandle<()>,
    shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer").field("addr", &self.shared.addr).finish()
    }
}

impl MockServer {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// `http://host:port`
    pub fn url(&self) -> String {
        self.shared.url()
    }

    /// `http://host:port/helix`, for `ClientBuilder::helix_url`.
    pub fn helix_url(&self) -> String {
        format!("{}/helix", self.url())
    }

    /// `http://host:port/oauth2`, for `ClientBuilder::auth_url` and `OAuth::auth_url`.
    pub fn auth_url(&self) -> String {
        format!("{}/oauth2", self.url())
    }

    /// `ws://host:port/ws`, the EventSub WebSocket URL.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.shared.addr)
    }

    /// The client id minted tokens belong to: the first configured client,
    /// else [`DEFAULT_CLIENT_ID`].
    pub fn client_id(&self) -> String {
        self.shared.default_client_id()
    }

    /// A client builder pointed at this mock: its client id and its Helix,
    /// OAuth and EventSub WebSocket URLs. Add a token (`app_token`,
    /// `user_token`, `token_manager`) and build.
    pub fn client_builder(&self) -> twitch::ClientBuilder {
        twitch::Client::builder()
            .client_id(self.client_id())
            .helix_url(self.helix_url())
            .auth_url(self.auth_url())
            .eventsub_ws_url(self.ws_url())
    }

    /// The variables [`twitch::ClientBuilder::from_env`] and
    /// [`twitch::OAuth::from_env`] read, set for this mock (the client
    /// secret when a client is configured): for a program run as a child
    /// process, or for `from_vars`.
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        let mut vars = vec![
            ("TWITCH_CLIENT_ID", self.client_id()),
            ("TWITCH_HELIX_URL", self.helix_url()),
            ("TWITCH_AUTH_URL", self.auth_url()),
            ("TWITCH_EVENTSUB_WS_URL", self.ws_url()),
        ];
        if let Some(secret) = self.shared.client_secret(&self.client_id()) {
            vars.push(("TWITCH_CLIENT_SECRET", secret));
        }
        vars
    }

    /// A user access token for [`MockServer::client_id`] that Helix accepts,
    /// without going through OAuth. The user joins the user directory.
    pub fn mint_user_token(&self, user_id: &str, login: &str, scopes: &[&str]) -> String {
        self.mint_user_token_for(&self.client_id(), user_id, login, scopes)
    }

    /// A user access token for another client id.
    pub fn mint_user_token_for(&self, client_id: &str, user_id: &str, login: &str, scopes: &[&str]) -> String {
        let scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        self.shared.lock().issue(client_id, Kind::User, Some(User::new(user_id, login)), scopes).0
    }

    /// An app access token for this client id.
    pub fn mint_app_token(&self, client_id: &str) -> String {
        self.shared.lock().issue(client_id, Kind::App, None, Vec::new()).0
    }

    /// Deliver a fresh example event of a subscription type (newest version
    /// when `version` is `None`) to the subscriptions `options` select
    /// (`options.count` fresh events for load tests).
    pub fn trigger(
        &self,
        subscription_type: &str,
        version: Option<&str>,
        options: TriggerOptions,
    ) -> Result<Triggered, String> {
        delivery::trigger(&self.shared, subscription_type, version, &options)
    }

    /// A chat line from any chatter: a `channel.chat.message` v1
    /// notification to every enabled subscription for the channel's chat
    /// (WebSocket sessions and conduits), with the chatter's badges from
    /// the channel's roles and the line's own, mention fragments and its
    /// reply thread. Twitch's chat rules do not apply (it is what Twitch
    /// delivers); an empty text or one over 500 characters is an error.
    pub fn chat(&self, line: ChatLine) -> Result<Triggered, String> {
        chat::line(&self.shared, line)
    }

    /// A user authorizes the mock's default client with these scopes, as
    /// users do on Twitch's consent page (a user token issued for a client
    /// is such an authorization too). An app token calls an endpoint that
    /// acts as a user (Ban User's `moderator_id`, Start Commercial's
    /// `broadcaster_id`, ...) only within what that user granted.
    pub fn grant_scopes(&self, user_id: &str, scopes: &[&str]) {
        self.grant_scopes_for(&self.client_id(), user_id, scopes);
    }

    /// [`MockServer::grant_scopes`] for another client.
    pub fn grant_scopes_for(&self, client_id: &str, user_id: &str, scopes: &[&str]) {
        let mut g = self.shared.lock();
        let granted = g.grants.entry((client_id.to_owned(), user_id.to_owned())).or_default();
        granted.extend(scopes.iter().map(|s| (*s).to_owned()));
    }

    /// A broadcaster creates a custom Power-up, as broadcasters do on
    /// Twitch's site (no Helix endpoint does): Get Custom Power-up lists
    /// it. Returns it as Helix shows it.
    pub fn add_power_up(&self, broadcaster_id: &str, power_up: NewPowerUp) -> Result<serde_json::Value, String> {
        power_ups::add(&self.shared, broadcaster_id, power_up)
    }

    /// A viewer redeems a custom Power-up with Bits (on Twitch's site):
    /// within its caps and cooldown, a `channel.custom_power_up_redemption.add`
    /// notification to the channel's subscriptions (for every Power-up or
    /// this one) and a `channel.bits.use` with `type` `custom_power_up`.
    /// An error names what stopped it (unknown, paused, capped, cooling down,
    /// input missing).
    pub fn redeem_power_up(
        &self,
        broadcaster_id: &str,
        power_up_id: &str,
        user_id: &str,
        user_input: &str,
    ) -> Result<PowerUpRedemption, String> {
        power_ups::redeem(&self.shared, broadcaster_id, power_up_id, user_id, user_input)
    }

    /// Start a shared chat session (as broadcasters do on Twitch's site):
    /// `host` and `participants` share one chat until [`end_shared_chat`](Self::end_shared_chat).
    /// Each participant's subscribers hear `channel.shared_chat.begin`; a
    /// chat message in one participant's channel reaches the others'
    /// `channel.chat.message` subscriptions as a copy naming its source
    /// (`source_broadcaster_user_id`, `source_message_id`, `source_badges`);
    /// Get Shared Chat Session answers it. Returns the session id; refused
    /// for fewer than two channels or a channel already in a session.
    pub fn start_shared_chat(&self, host: &str, participants: &[&str]) -> Result<String, String> {
        shared_chat::start(&self.shared, host, participants)
    }

    /// End a shared chat session: each participant's subscribers hear
    /// `channel.shared_chat.end`, and chats are their own again.
    pub fn end_shared_chat(&self, session_id: &str) -> Result<(), String> {
        shared_chat::end(&self.shared, session_id)
    }

    /// Make a user a moderator of a channel, as Add Channel Moderator does
    /// (refused, with Twitch's message, for the broadcaster, a moderator, a
    /// VIP or a banned user).
    pub fn add_moderator(&self, broadcaster_id: &str, user_id: &str) -> Result<(), String> {
        self.grant(broadcaster_id, user_id, Role::Moderator)
    }

    /// Make a user a VIP of a channel, as Add Channel VIP does (refused,
    /// with Twitch's message, for the broadcaster, a VIP or a moderator).
    pub fn add_vip(&self, broadcaster_id: &str, user_id: &str) -> Result<(), String> {
        self.grant(broadcaster_id, user_id, Role::Vip)
    }

    fn grant(&self, broadcaster_id: &str, user_id: &str, role: Role) -> Result<(), String> {
        let mut g = self.shared.lock();
        let user = g.user_or_synth(user_id);
        g.grant(broadcaster_id, user, role).map_err(|(_, message)| message.to_owned())
    }

    /// A viewer redeems a custom reward that Create Custom Rewards made in
    /// this channel (viewers redeem on Twitch; no Helix endpoint does): an
    /// `UNFULFILLED` redemption that Get Custom Reward Redemption lists and
    /// Update Redemption Status changes. Returns the redemption as Helix
    /// shows it; an error names a reward the mock does not hold. No
    /// EventSub notification is sent (trigger one with [`MockServer::trigger`]).
    pub fn redeem(
        &self,
        broadcaster_id: &str,
        reward_id: &str,
        user_id: &str,
        user_input: &str,
    ) -> Result<serde_json::Value, String> {
        store::redeem(&self.shared, broadcaster_id, reward_id, user_id, user_input)
    }

    /// A viewer banned in this channel asks to be unbanned (viewers ask on
    /// Twitch's site; no Helix endpoint does): a `pending` request that Get
    /// Unban Requests lists and Resolve Unban Requests approves (which lifts
    /// the ban) or denies. Returns the request as Helix shows it; an error
    /// when the user is not banned there. No EventSub notification is sent.
    pub fn unban_request(&self, broadcaster_id: &str, user_id: &str, text: &str) -> Result<serde_json::Value, String> {
        store::unban_request(&self.shared, broadcaster_id, user_id, text)
    }

    /// An invitee of this channel's Guest Star session gets further in
    /// joining, as invitees do on Twitch's site: `"ACCEPTED"` (in the
    /// waiting room) or `"READY"` (Assign Guest Star Slot may now give them a
    /// slot). Sends `channel.guest_star_guest.update` and returns the invite
    /// as Get Guest Star Invites lists it; an error when the channel has no
    /// active session, the user holds no invite to it, or the status is
    /// neither of the two.
    pub fn guest_star_invite_status(
        &self,
        broadcaster_id: &str,
        guest_id: &str,
        status: &str,
    ) -> Result<serde_json::Value, String> {
        guest_star::invite_status(&self.shared, broadcaster_id, guest_id, status)
    }

    /// Every Send Chat Message request so far, in order (the latest 10,000):
    /// what was sent, and whether it went out or why it was dropped.
    pub fn chat_log(&self) -> Vec<ChatLogEntry> {
        self.shared.lock().chat_log.iter().cloned().collect()
    }

    /// Send `session_reconnect` to one session (or all); returns the sessions asked.
    pub fn reconnect(&self, session_id: Option<&str>) -> Vec<String> {
        delivery::reconnect(&self.shared, session_id)
    }

    /// Revoke a subscription with this status (e.g. `authorization_revoked`):
    /// its session gets a `revocation` message. `false` if it does not exist.
    pub fn revoke(&self, subscription_id: &str, status: &str) -> bool {
        delivery::revoke(&self.shared, subscription_id, status)
    }

    /// Close one session (or all) with a close code; returns the sessions closed.
    pub fn close(&self, session_id: Option<&str>, code: u16) -> Vec<String> {
        delivery::close(&self.shared, session_id, code)
    }

    /// Inject a Helix fault.
    pub fn fault(&self, fault: Fault) {
        control::apply(&self.shared, fault);
    }

    /// Sessions, subscriptions and conduits, as `GET /control/sessions` shows them.
    pub fn state(&self) -> serde_json::Value {
        control::sessions(&self.shared)
    }

    /// Ids of the connected WebSocket sessions.
    pub fn session_ids(&self) -> Vec<String> {
        self.shared.lock().sessions.keys().cloned().collect()
    }

    /// Stop serving: WebSocket clients get a close frame, HTTP connections are closed.
    pub fn shutdown(self) {
        drop(self);
    }

    /// Wait until the server task ends (for the binary: forever, unless it fails).
    pub async fn wait(&mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.task.abort();
    }
}
