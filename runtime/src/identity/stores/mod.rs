//! Token stores on databases, shared by several processes: SQLite (one
//! machine) and PostgreSQL (several machines). Both keep the same tables:
//!
//! - `twitch_tokens (key, body, version, updated_at)`: one row per token,
//!   `<client id>/user:<id>` for a user's, `<client id>/app` for the app
//!   token, so that applications sharing a database keep their tokens
//!   apart; `body` is the token as JSON (the same fields
//!   [`JsonFileStore`](super::tokens::JsonFileStore) writes), or empty for
//!   a removed token; `version` is 1 on the first save and one more on each
//!   save and removal. A user row of a release before client ids were
//!   part of the key (`user:<id>`) is read by every application bound to
//!   the store until that application saves or removes the user's token
//!   under its own key; it is never changed or deleted (a process with a
//!   wrong client id must not take other applications' tokens).
//! - `twitch_leases (name, holder, expires_at)`: who refreshes what until
//!   when (`<client id>/user:<id>`, `<client id>/app`, `<client id>/validation`).
//! - `twitch_schema_version (version)`: how far the migrations went.
//!
//! Migrations: each store has an ordered list of SQL steps; opening a store
//! applies, in one transaction that excludes other processes opening it at
//! the same time, every step past the recorded version, then records the
//! new version. Steps are only ever appended, never edited, so a database
//! of any earlier release is brought up to date in order. A database
//! recorded at a version newer than this library knows is refused with an
//! error, untouched (an older binary beside a newer one must not guess).

use std::time::Duration;

use crate::base::error::Error;

#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

/// How long a refresh lease lasts unless the store is told otherwise: past
/// the OAuth client's 30 s timeout, with room to store the result. It is
/// also the longest a process dying in the middle of a refresh holds up
/// the others.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(40);

/// How often a process compares its tokens with the store's unless told
/// otherwise.
pub const DEFAULT_SYNC_INTERVAL: Duration = Duration::from_secs(5);

/// The body of a removed token's row.
const REMOVED: &str = "";

/// Row keys and lease names, under the client id the store is bound to
/// (unbound: the keys of earlier releases, without one).
#[derive(Debug, Default)]
struct Keys {
    client: std::sync::OnceLock<String>,
}

impl Keys {
    /// Bind to `client_id`; `true` the first time. A store already bound
    /// to another client id refuses.
    fn bind(&self, location: &str, client_id: &str) -> crate::base::error::Result<bool> {
        if client_id.is_empty() || client_id.contains(['/', '%', '_']) {
            return Err(store_error(location, format!("`{client_id}` is not a client id")));
        }
        let mut first = false;
        let bound = self.client.get_or_init(|| {
            first = true;
            client_id.to_owned()
        });
        if bound != client_id {
            return Err(store_error(
                location,
                format!("this store is bound to client id {bound}; open another instance for {client_id}"),
            ));
        }
        Ok(first)
    }

    fn prefix(&self) -> String {
        self.client.get().map(|c| format!("{c}/")).unwrap_or_default()
    }

    fn user(&self, user: &str) -> String {
        format!("{}user:{user}", self.prefix())
    }

    /// A user's key as releases without client ids wrote it.
    fn legacy_user(user: &str) -> String {
        format!("user:{user}")
    }

    /// The start every user row's key of this client has.
    fn users(&self) -> String {
        format!("{}user:", self.prefix())
    }

    fn app(&self) -> String {
        format!("{}app", self.prefix())
    }

    fn lease(&self, name: &str) -> String {
        format!("{}{name}", self.prefix())
    }

    /// The user id in a user row's key (this client's or a legacy one).
    fn user_of<'k>(&self, key: &'k str) -> Option<&'k str> {
        key.strip_prefix(&self.users()).or_else(|| key.strip_prefix("user:"))
    }
}

/// A holder id unique to one store instance: the process id and a random
/// part (process ids are reused, and one process may open two stores).
fn holder_id() -> String {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 8];
    // Without randomness the process id and the time stand in.
    if ring::rand::SystemRandom::new().fill(&mut b).is_err() {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        b = (t.as_nanos() as u64).to_le_bytes();
    }
    format!("{}-{:016x}", std::process::id(), u64::from_le_bytes(b))
}

fn store_error(location: &str, e: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Error {
    Error::TokenStore { location: location.to_owned(), source: e.into() }
}

/// A stored body into its token; a row that does not decode is named.
fn decode<T: serde::de::DeserializeOwned>(location: &str, key: &str, body: &str) -> crate::base::error::Result<T> {
    serde_json::from_str(body).map_err(|e| store_error(&format!("{location} ({key})"), e))
}

fn encode<T: serde::Serialize>(location: &str, token: &T) -> crate::base::error::Result<String> {
    serde_json::to_string(token).map_err(|e| store_error(location, e))
}

/// A version as stored (a signed 64-bit column) into the trait's `u64`.
fn version(location: &str, v: i64) -> crate::base::error::Result<u64> {
    u64::try_from(v).map_err(|_| store_error(location, format!("a token's version is negative ({v})")))
}

/// The database is newer than this library.
#[derive(Debug)]
struct NewerSchema {
    found: i64,
    known: usize,
}

impl std::fmt::Display for NewerSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the tables are at schema version {}, this library knows up to {}: a newer release migrated them; upgrade this program",
            self.found, self.known
        )
    }
}

impl std::error::Error for NewerSchema {}
