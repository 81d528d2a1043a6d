//! [`PostgresStore`]: tokens in PostgreSQL, shared by processes on several
//! machines, over the library's rustls (nothing installed process-wide).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};

use super::{
    DEFAULT_LEASE_TTL, DEFAULT_SYNC_INTERVAL, Keys, NewerSchema, REMOVED, decode, encode, holder_id, store_error,
    version,
};
use crate::base::error::Result;
use crate::base::types::{BoxFuture, UserId};
use crate::identity::oauth::{AppToken, UserToken};
use crate::identity::store::{SharedTokenStore, StoredVersion, TokenStore, Versioned};

/// The migrations, in order; the schema version is how many ran. Only
/// ever append.
const MIGRATIONS: &[&str] = &[
    // 1: tokens and leases (lease times on the database's clock, so the
    // machines' clocks need not agree).
    "CREATE TABLE twitch_tokens (
        key TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        version BIGINT NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE TABLE twitch_leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL
    );",
];

/// How long one call of the store may take, connecting included, unless
/// told otherwise: well under the refresh lease, so that a database that
/// stopped answering (a black-holed host, a failover) fails a call in
/// time for the lease to still cover the save.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The advisory lock that makes processes opening the store at the same
/// time migrate one after the other ("twitchtk" in ASCII).
const MIGRATION_LOCK: i64 = 0x7477_6974_6368_746b;

/// Tokens in PostgreSQL, shared by processes on several machines, with
/// leases (rows with an expiry on the database's clock) so that one
/// process at a time refreshes a token (see [`SharedTokenStore`]). The
/// tables are created (and migrated) when the store connects.
///
/// The connection is one `tokio-postgres` connection, made again when it
/// broke: a statement that meets a cut connection (a restarted server, a
/// proxy's idle timeout) is sent once more on a new one, so the caller sees
/// the fault only if the server stays out of reach. Every call, connecting
/// included, is bounded ([`DEFAULT_CALL_TIMEOUT`], or
/// [`with_call_timeout`](Self::with_call_timeout)): a database that does not
/// answer is an error in time, not a caller held for minutes, and the
/// connection it hung on is made again for the next call.
///
/// TLS goes through the library's rustls (ring, the platform's verifier).
/// It is required unless the connection string names another `sslmode`:
/// `sslmode=disable` for plaintext (a database on the same host, a
/// private network you trust), `sslmode=prefer` for TLS that an attacker
/// on the path can strip. A Unix socket host needs no TLS and gets none.
/// Refresh tokens cross this connection; keep it encrypted. SCRAM channel
/// binding is not offered. The connection string's password appears in no
/// `Debug` output or error.
///
/// Which rustls configuration is used: the library's own (the platform's
/// certificate verifier, ring), or one you build with the `rustls` crate
/// of the version this library depends on and hand to
/// [`connect_with_tls`](Self::connect_with_tls); that parameter follows
/// rustls's major version, and a new major version of rustls is a new
/// major version of this library.
///
/// ```no_run
/// # async fn f(oauth: twitch_runtime::OAuth) -> twitch_runtime::Result<()> {
/// use twitch_runtime::{TokenManager, tokens::PostgresStore};
/// let store = PostgresStore::connect("host=db.internal user=bot dbname=bot sslmode=require").await?;
/// let manager = TokenManager::with_store(oauth, store).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
    lease_ttl: Duration,
    sync_interval: Duration,
    call_timeout: Duration,
}

struct Inner {
    config: tokio_postgres::Config,
    tls: MakeRustls,
    /// Where, without secrets: `postgres://user@host:port/dbname`.
    location: String,
    client: tokio::sync::Mutex<Option<Arc<tokio_postgres::Client>>>,
    holder: String,
    keys: Keys,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("location", &self.inner.location)
            .field("holder", &self.inner.holder)
            .field("lease_ttl", &self.lease_ttl)
            .field("call_timeout", &self.call_timeout)
            .finish()
    }
}

/// The connection's target without its password.
fn location(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().map(|u| format!("{u}@")).unwrap_or_default();
    format!("postgres://{user}{host}:{port}/{}", config.get_dbname().unwrap_or(""))
}

impl PostgresStore {
    /// Connect with a connection string (`host=... user=... dbname=...`
    /// or `postgresql://...`) and bring the tables up to date.
    pub async fn connect(params: &str) -> Result<Self> {
        Self::connect_with_tls(params, crate::http::tls::postgres_config()?).await
    }

    /// Like [`PostgresStore::connect`], with a rustls configuration of your
    /// own (a private certificate authority, client certificates).
    pub async fn connect_with_tls(params: &str, tls: Arc<rustls::ClientConfig>) -> Result<Self> {
        // The parse error of tokio-postgres names no part of the string.
        let mut config: tokio_postgres::Config = params
            .parse()
            .map_err(|e: tokio_postgres::Error| store_error("postgres (connection string)", readable(e.into())))?;
        secure_by_default(&mut config, params);
        // A host that does not answer the connection is given up on in
        // time too (the call's bound covers the rest).
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(DEFAULT_CALL_TIMEOUT);
        }
        let location = location(&config);
        let store = Self {
            inner: Arc::new(Inner {
                config,
                tls: MakeRustls { config: tls },
                location,
                client: tokio::sync::Mutex::new(None),
                holder: holder_id(),
                keys: Keys::default(),
            }),
            lease_ttl: DEFAULT_LEASE_TTL,
            sync_interval: DEFAULT_SYNC_INTERVAL,
            call_timeout: DEFAULT_CALL_TIMEOUT,
        };
        store.bounded(store.migrate()).await?;
        Ok(store)
    }

    /// Bound each call of the store by this instead of 5 s (keep it well
    /// under the lease: a refresh's save must land while the lease holds).
    pub fn with_call_timeout(self, call_timeout: Duration) -> Self {
        Self { call_timeout, ..self }
    }

    /// `f`, or an error naming the bound once it has taken longer.
    async fn bounded<T>(&self, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        match tokio::time::timeout(self.call_timeout, f).await {
            Ok(r) => r,
            Err(_) => {
                Err(self.error(format!("the database did not answer within {:.1} s", self.call_timeout.as_secs_f64())))
            }
        }
    }

    /// Refresh leases of this length instead of 40 s (see
    /// [`SharedTokenStore::lease_ttl`]).
    pub fn with_lease_ttl(self, lease_ttl: Duration) -> Self {
        Self { lease_ttl, ..self }
    }

    /// Compare the tokens held with the store's this often instead of
    /// every 5 s (see [`SharedTokenStore::sync_interval`]).
    pub fn with_sync_interval(self, sync_interval: Duration) -> Self {
        Self { sync_interval, ..self }
    }

    /// The id this store's leases are held under: the process id, a dash
    /// and a random part.
    pub fn holder(&self) -> &str {
        &self.inner.holder
    }

    /// Who holds the lease `name` (`user:<id>`, `app`, `validation`), if
    /// anyone does and it has not expired: for operators and tests.
    pub async fn lease_holder(&self, name: &str) -> Result<Option<String>> {
        let name = self.inner.keys.lease(name);
        let name = name.as_str();
        let row = self
            .run(|c| async move {
                c.query_opt(
                    "SELECT holder FROM twitch_leases WHERE name = $1 AND expires_at > clock_timestamp()",
                    &[&name],
                )
                .await
            })
            .await?;
        row.map(|r| r.try_get(0).map_err(|e| self.error(e))).transpose()
    }

    /// The schema version the tables are at.
    pub async fn schema_version(&self) -> Result<i64> {
        let row =
            self.run(|c| async move { c.query_one("SELECT version FROM twitch_schema_version", &[]).await }).await?;
        row.try_get(0).map_err(|e| self.error(e))
    }

    fn error(&self, e: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> crate::base::error::Error {
        store_error(&self.inner.location, readable(e.into()))
    }

    /// Run a statement, and once more on a new connection when the one it
    /// went out on turned out to be cut. Every statement here may run twice:
    /// reads and lease statements are idempotent, and a save that landed
    /// before its answer was lost only bumps the version once more.
    ///
    /// The whole call is bounded by the call timeout; a call that ran out
    /// of it drops its connection, so the next one starts on a new one
    /// rather than queue behind a statement that will not come back.
    async fn run<T, F, Fut>(&self, statement: F) -> Result<T>
    where
        F: Fn(Arc<tokio_postgres::Client>) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, tokio_postgres::Error>>,
    {
        let used = std::sync::Mutex::new(None::<Arc<tokio_postgres::Client>>);
        let outcome = tokio::time::timeout(self.call_timeout, self.run_once(&statement, &used)).await;
        match outcome {
            Ok(r) => r,
            Err(_) => {
                let client = used.lock().unwrap_or_else(|p| p.into_inner()).take();
                if let Some(c) = client {
                    self.forget(&c).await;
                }
                Err(self.error(format!("the database did not answer within {:.1} s", self.call_timeout.as_secs_f64())))
            }
        }
    }

    async fn run_once<T, F, Fut>(
        &self,
        statement: &F,
        used: &std::sync::Mutex<Option<Arc<tokio_postgres::Client>>>,
    ) -> Result<T>
    where
        F: Fn(Arc<tokio_postgres::Client>) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, tokio_postgres::Error>>,
    {
        let client = self.client().await?;
        *used.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&client));
        match statement(Arc::clone(&client)).await {
            Err(e) if connection_lost(&e) || client.is_closed() => {
                tracing::debug!(store = %self.inner.location, error = %e, "the token store's connection was cut; sending again");
                self.forget(&client).await;
                statement(self.client().await?).await.map_err(|e| self.error(e))
            }
            other => other.map_err(|e| self.error(e)),
        }
    }

    /// Drop `client` from the slot (if no other call replaced it already).
    async fn forget(&self, client: &Arc<tokio_postgres::Client>) {
        let mut slot = self.inner.client.lock().await;
        if slot.as_ref().is_some_and(|c| Arc::ptr_eq(c, client)) {
            *slot = None;
        }
    }

    /// The connection, made (again) if there is none or it broke.
    async fn client(&self) -> Result<Arc<tokio_postgres::Client>> {
        let mut slot = self.inner.client.lock().await;
        if let Some(c) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(Arc::clone(c));
        }
        let (client, connection) =
            self.inner.config.connect(self.inner.tls.clone()).await.map_err(|e| self.error(e))?;
        let location = self.inner.location.clone();
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(store = %location, error = %e, "the token store's connection broke; it is made again when next needed");
            }
        });
        let client = Arc::new(client);
        *slot = Some(Arc::clone(&client));
        Ok(client)
    }

    async fn migrate(&self) -> Result<()> {
        let mut client = {
            // A connection of its own for the transaction.
            let (client, connection) =
                self.inner.config.connect(self.inner.tls.clone()).await.map_err(|e| self.error(e))?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            client
        };
        let err = |e: tokio_postgres::Error| self.error(e);
        let tx = client.transaction().await.map_err(err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await.map_err(err)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS twitch_schema_version (version BIGINT NOT NULL)")
            .await
            .map_err(err)?;
        let found: Option<i64> =
            match tx.query_opt("SELECT version FROM twitch_schema_version", &[]).await.map_err(err)? {
                Some(row) => Some(row.try_get(0).map_err(err)?),
                None => None,
            };
        let from = found.unwrap_or(0);
        let known = MIGRATIONS.len();
        let from_index = usize::try_from(from).map_err(|_| self.error(format!("schema version {from}")))?;
        if from_index > known {
            return Err(self.error(NewerSchema { found: from, known }));
        }
        for step in &MIGRATIONS[from_index..] {
            tx.batch_execute(step).await.map_err(err)?;
        }
        let to = i64::try_from(known).unwrap_or(i64::MAX);
        if found.is_none() {
            tx.execute("INSERT INTO twitch_schema_version (version) VALUES ($1)", &[&to]).await.map_err(err)?;
        } else if from_index < known {
            tx.execute("UPDATE twitch_schema_version SET version = $1", &[&to]).await.map_err(err)?;
        }
        tx.commit().await.map_err(err)
    }

    /// A row by its key, or (for a user) the legacy row while this client
    /// has no row of its own; a removed token reads as none.
    async fn load_row<T: serde::de::DeserializeOwned>(
        &self,
        key: String,
        legacy: String,
    ) -> Result<Option<Versioned<T>>> {
        let (k, l) = (&key, &legacy);
        let row = self
            .run(|c| async move {
                c.query_opt(
                    "SELECT body, version FROM twitch_tokens WHERE key = $1
                     UNION ALL
                     SELECT body, version FROM twitch_tokens
                        WHERE key = $2 AND NOT EXISTS (SELECT 1 FROM twitch_tokens WHERE key = $1)
                     LIMIT 1",
                    &[k, l],
                )
                .await
            })
            .await?;
        let Some(row) = row else { return Ok(None) };
        let body: String = row.try_get(0).map_err(|e| self.error(e))?;
        let v: i64 = row.try_get(1).map_err(|e| self.error(e))?;
        if body == REMOVED {
            return Ok(None);
        }
        let loc = &self.inner.location;
        Ok(Some(Versioned::new(decode(loc, &key, &body)?, version(loc, v)?)))
    }

    /// Store a row under its key: the first version follows the legacy
    /// row's, so processes that read that one see a change.
    async fn save_row(&self, key: String, legacy: String, body: String) -> Result<u64> {
        let (key, legacy, body) = (&key, &legacy, &body);
        let row = self
            .run(|c| async move {
                c.query_one(
                    "INSERT INTO twitch_tokens (key, body, version, updated_at)
                     VALUES ($1, $2, 1 + COALESCE((SELECT version FROM twitch_tokens WHERE key = $3), 0), now())
                     ON CONFLICT (key) DO UPDATE SET body = EXCLUDED.body, version = twitch_tokens.version + 1,
                        updated_at = now()
                     RETURNING version",
                    &[key, body, legacy],
                )
                .await
            })
            .await?;
        let v: i64 = row.try_get(0).map_err(|e| self.error(e))?;
        version(&self.inner.location, v)
    }
}

/// The rows of this client's users, and of a user it has no row for, the
/// row a release before client ids wrote (`$1`: this client's user key
/// prefix; `$2`: its key prefix, empty when there is no client id). One
/// rule for `load` (live tokens) and `versions` (tombstones too).
macro_rules! user_rows {
    () => {
        "(SELECT key, version, body FROM twitch_tokens WHERE substr(key, 1, length($1)) = $1
          UNION ALL
          SELECT key, version, body FROM twitch_tokens AS l
             WHERE $2 <> '' AND substr(l.key, 1, 5) = 'user:'
             AND NOT EXISTS (SELECT 1 FROM twitch_tokens WHERE key = $2 || l.key)) AS user_rows"
    };
}

impl TokenStore for PostgresStore {
    fn load(&self) -> BoxFuture<'_, Result<Vec<UserToken>>> {
        Box::pin(async move {
            let (users, prefix) = (self.inner.keys.users(), self.inner.keys.prefix());
            let (users, prefix) = (&users, &prefix);
            let rows = self
                .run(|c| async move {
                    c.query(
                        concat!("SELECT key, body FROM ", user_rows!(), " WHERE body <> '' ORDER BY key"),
                        &[users, prefix],
                    )
                    .await
                })
                .await?;
            rows.iter()
                .map(|r| {
                    let key: String = r.try_get(0).map_err(|e| self.error(e))?;
                    let body: String = r.try_get(1).map_err(|e| self.error(e))?;
                    decode(&self.inner.location, &key, &body)
                })
                .collect()
        })
    }

    fn save_user(&self, token: UserToken) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { self.save_user_versioned(token).await.map(drop) })
    }

    fn remove_user(&self, user: UserId) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let (key, legacy) = (self.inner.keys.user(&user), Keys::legacy_user(&user));
            let (key, legacy) = (&key, &legacy);
            // A removal is a version of this client's row (the legacy row
            // stays, shadowed).
            self.run(|c| async move {
                c.execute(
                    "INSERT INTO twitch_tokens (key, body, version, updated_at)
                     SELECT $1::text, '', 1 + COALESCE((SELECT version FROM twitch_tokens WHERE key = $2::text), 0), now()
                     WHERE EXISTS (SELECT 1 FROM twitch_tokens WHERE key IN ($1::text, $2::text) AND body <> '')
                     ON CONFLICT (key) DO UPDATE SET body = '', version = twitch_tokens.version + 1, updated_at = now()
                     WHERE twitch_tokens.body <> ''",
                    &[key, legacy],
                )
                .await
            })
            .await
            .map(drop)
        })
    }

    fn bind_client<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { self.inner.keys.bind(&self.inner.location, client_id).map(drop) })
    }

    fn shared(&self) -> Option<&dyn SharedTokenStore> {
        Some(self)
    }
}

impl SharedTokenStore for PostgresStore {
    fn load_user_versioned<'a>(&'a self, user: &'a UserId) -> BoxFuture<'a, Result<Option<Versioned<UserToken>>>> {
        Box::pin(self.load_row(self.inner.keys.user(user), Keys::legacy_user(user)))
    }

    fn save_user_versioned(&self, token: UserToken) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move {
            let body = encode(&self.inner.location, &token)?;
            self.save_row(self.inner.keys.user(&token.user_id), Keys::legacy_user(&token.user_id), body).await
        })
    }

    fn replace_user(&self, token: UserToken, expected: u64) -> BoxFuture<'_, Result<Option<u64>>> {
        Box::pin(async move {
            let body = encode(&self.inner.location, &token)?;
            let (key, legacy) = (self.inner.keys.user(&token.user_id), Keys::legacy_user(&token.user_id));
            let expected = i64::try_from(expected).unwrap_or(i64::MAX);
            let (key, legacy, body, expected) = (&key, &legacy, &body, &expected);
            // This client's row at that version; or none yet, and the legacy
            // row (or nothing) at that version.
            let row = self
                .run(|c| async move {
                    let updated = c
                        .query_opt(
                            "UPDATE twitch_tokens SET body = $1, version = version + 1, updated_at = now()
                             WHERE key = $2 AND version = $3 AND body <> '' RETURNING version",
                            &[body, key, expected],
                        )
                        .await?;
                    if updated.is_some() {
                        return Ok(updated);
                    }
                    c.query_opt(
                        "INSERT INTO twitch_tokens (key, body, version, updated_at)
                         SELECT $2::text, $1::text, $3::bigint + 1, now()
                         WHERE NOT EXISTS (SELECT 1 FROM twitch_tokens WHERE key = $2::text)
                         AND COALESCE((SELECT version FROM twitch_tokens WHERE key = $4::text AND body <> ''), 0) = $3::bigint
                         ON CONFLICT (key) DO NOTHING RETURNING version",
                        &[body, key, expected, legacy],
                    )
                    .await
                })
                .await?;
            let Some(row) = row else { return Ok(None) };
            let v: i64 = row.try_get(0).map_err(|e| self.error(e))?;
            version(&self.inner.location, v).map(Some)
        })
    }

    fn versions(&self) -> BoxFuture<'_, Result<Vec<StoredVersion>>> {
        Box::pin(async move {
            let (users, prefix) = (self.inner.keys.users(), self.inner.keys.prefix());
            let (users, prefix) = (&users, &prefix);
            let rows = self
                .run(|c| async move {
                    c.query(concat!("SELECT key, version, body = '' FROM ", user_rows!()), &[users, prefix]).await
                })
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let key: String = r.try_get(0).map_err(|e| self.error(e))?;
                let v: i64 = r.try_get(1).map_err(|e| self.error(e))?;
                let removed: bool = r.try_get(2).map_err(|e| self.error(e))?;
                if let Some(user) = self.inner.keys.user_of(&key) {
                    out.push(StoredVersion::new(user.into(), version(&self.inner.location, v)?, removed));
                }
            }
            Ok(out)
        })
    }

    fn load_app(&self) -> BoxFuture<'_, Result<Option<Versioned<AppToken>>>> {
        Box::pin(self.load_row(self.inner.keys.app(), self.inner.keys.app()))
    }

    fn save_app(&self, token: AppToken) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move {
            let body = encode(&self.inner.location, &token)?;
            self.save_row(self.inner.keys.app(), self.inner.keys.app(), body).await
        })
    }

    fn try_lease<'a>(&'a self, name: &'a str, ttl: Duration) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let name = self.inner.keys.lease(name);
            let name = name.as_str();
            let holder = &self.inner.holder;
            let secs = ttl.as_secs_f64();
            // One statement: the row is taken if it is free, expired, or
            // this store's own; a concurrent taker waits on the row's lock
            // and then finds it held.
            let changed = self
                .run(|c| async move {
                    c.execute(
                        "INSERT INTO twitch_leases (name, holder, expires_at)
                         VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3))
                         ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
                         WHERE twitch_leases.expires_at <= clock_timestamp() OR twitch_leases.holder = EXCLUDED.holder",
                        &[&name, holder, &secs],
                    )
                    .await
                })
                .await?;
            Ok(changed == 1)
        })
    }

    fn release<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let name = self.inner.keys.lease(name);
            let name = name.as_str();
            let holder = &self.inner.holder;
            self.run(|c| async move {
                c.execute("DELETE FROM twitch_leases WHERE name = $1 AND holder = $2", &[&name, holder]).await
            })
            .await
            .map(drop)
        })
    }

    fn lease_ttl(&self) -> Duration {
        self.lease_ttl
    }

    fn sync_interval(&self) -> Duration {
        self.sync_interval
    }
}

/// TLS unless the connection string names an `sslmode`: `require` for
/// network hosts, nothing for Unix sockets (which carry no TLS).
fn secure_by_default(config: &mut tokio_postgres::Config, params: &str) {
    if names_sslmode(params) {
        return;
    }
    let hosts = config.get_hosts();
    let unix_only = !hosts.is_empty()
        && config.get_hostaddrs().is_empty()
        && hosts.iter().all(|h| !matches!(h, tokio_postgres::config::Host::Tcp(_)));
    let mode =
        if unix_only { tokio_postgres::config::SslMode::Disable } else { tokio_postgres::config::SslMode::Require };
    config.ssl_mode(mode);
}

/// Does the connection string set `sslmode` (as `key=value` or as a URL's
/// query parameter)?
fn names_sslmode(params: &str) -> bool {
    params
        .split(|c: char| c.is_whitespace() || c == '?' || c == '&')
        .any(|part| part.trim_start().to_ascii_lowercase().starts_with("sslmode"))
}

/// Whether `e` says the connection is gone rather than that the statement
/// failed: closed, an I/O error, or the server ending the session (shut
/// down, restarted, or the backend terminated by an administrator).
fn connection_lost(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    let ended = [SqlState::ADMIN_SHUTDOWN, SqlState::CRASH_SHUTDOWN, SqlState::CANNOT_CONNECT_NOW];
    e.is_closed()
        || e.code().is_some_and(|c| ended.contains(c))
        || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
}

/// A tokio-postgres error that says what the server said: its own text is
/// only the kind ("db error"), the server's message is in its source.
#[derive(Debug)]
struct PgError(tokio_postgres::Error);

impl std::fmt::Display for PgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.0.as_db_error(), std::error::Error::source(&self.0)) {
            (Some(db), _) => write!(f, "{}: {} (SQLSTATE {})", self.0, db.message(), db.code().code()),
            (None, Some(cause)) => write!(f, "{}: {cause}", self.0),
            (None, None) => write!(f, "{}", self.0),
        }
    }
}

impl std::error::Error for PgError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

fn readable(
    e: Box<dyn std::error::Error + Send + Sync + 'static>,
) -> Box<dyn std::error::Error + Send + Sync + 'static> {
    match e.downcast::<tokio_postgres::Error>() {
        Ok(pg) => Box::new(PgError(*pg)),
        Err(other) => other,
    }
}

/// tokio-postgres's TLS hooks on tokio-rustls with a given configuration.
#[derive(Clone)]
struct MakeRustls {
    config: Arc<rustls::ClientConfig>,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> MakeTlsConnect<S> for MakeRustls {
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = std::io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> std::io::Result<RustlsConnect> {
        // Without a host name (a Unix socket, `hostaddr` only) there is
        // nothing to verify against: a TLS attempt fails in `connect`.
        let name = rustls::pki_types::ServerName::try_from(domain.to_owned()).ok();
        Ok(RustlsConnect { connector: tokio_rustls::TlsConnector::from(Arc::clone(&self.config)), name })
    }
}

struct RustlsConnect {
    connector: tokio_rustls::TlsConnector,
    name: Option<rustls::pki_types::ServerName<'static>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> TlsConnect<S> for RustlsConnect {
    type Stream = RustlsStream<S>;
    type Error = std::io::Error;
    type Future = BoxFuture<'static, std::io::Result<RustlsStream<S>>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let name = self.name.ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "TLS to PostgreSQL needs a host name to verify")
            })?;
            self.connector.connect(name, stream).await.map(RustlsStream)
        })
    }
}

struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> tokio_postgres::tls::TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
