//! The mock's settings and the faults it can inject: the bottom of the
//! crate, read by every part.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// The client id [`MockServer::client_id`](crate::MockServer::client_id) reports when no clients are configured.
pub const DEFAULT_CLIENT_ID: &str = "mockclientid0000000000000000000";

/// Settings of a mock server.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub host: IpAddr,
    pub port: u16,
    pub bucket: u32,
    pub refill: Duration,
    pub page_items: usize,
    pub directory_size: usize,
    pub keepalive: Duration,
    pub welcome_window: Duration,
    pub reconnect_grace: Duration,
    /// How long the old connection stays open once a reconnect was taken.
    pub old_connection_grace: Duration,
    pub ping_interval: Option<Duration>,
    pub clients: Vec<(String, String)>,
    pub user_id: String,
    pub user_login: String,
    pub user_scopes: Option<Vec<String>>,
    pub device_pending: u32,
    pub device_interval: u64,
    pub deliver_webhooks: bool,
    /// Send Chat Message: messages per `chat_window` for a regular sender
    /// and for the broadcaster or a moderator of the channel.
    pub chat_normal: u32,
    pub chat_elevated: u32,
    pub chat_window: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            bucket: 800,
            refill: Duration::from_secs(60),
            page_items: 120,
            directory_size: 100,
            keepalive: Duration::from_secs(10),
            welcome_window: Duration::from_secs(10),
            reconnect_grace: Duration::from_secs(30),
            old_connection_grace: Duration::from_secs(5),
            ping_interval: Some(Duration::from_secs(60)),
            clients: Vec::new(),
            user_id: "141981764".into(),
            user_login: "twitchdev".into(),
            user_scopes: None,
            device_pending: 0,
            device_interval: 5,
            deliver_webhooks: false,
            chat_normal: 20,
            chat_elevated: 100,
            chat_window: Duration::from_secs(30),
        }
    }
}

/// Helix faults to inject (see [`MockServer::fault`](crate::MockServer::fault)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Delay every Helix response by this much until cleared.
    Latency(Duration),
    /// Answer the next `count` Helix requests with this status and Twitch's error body.
    Status {
        /// HTTP status, e.g. 503.
        status: u16,
        /// How many requests.
        count: u32,
    },
    /// Close the connection of the next `count` Helix requests without answering.
    Drop {
        /// How many requests.
        count: u32,
    },
    /// Expire every access token issued so far (refresh tokens stay valid).
    ExpireTokens,
    /// Clear latency, status and drop faults.
    Clear,
}
