//! [`SqliteStore`]: tokens in an SQLite file that the processes of one
//! machine share (SQLite's locking works on local disks, not on network
//! file systems).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};

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
    // 1: tokens and leases (times in milliseconds since the Unix epoch).
    "CREATE TABLE twitch_tokens (
        key TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        version INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE twitch_leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at INTEGER NOT NULL
    );",
];

/// How long a statement waits for another process's write to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Tokens in an SQLite file shared by several processes on one machine,
/// with leases so that one process at a time refreshes a token (see
/// [`SharedTokenStore`]). The tables are created (and migrated) when the
/// store is opened; the file is created readable by its owner only.
///
/// Lease expiry is read from the machine's clock. Every call runs on
/// tokio's blocking threads.
///
/// ```no_run
/// # async fn f(oauth: twitch_runtime::OAuth) -> twitch_runtime::Result<()> {
/// use twitch_runtime::{TokenManager, tokens::SqliteStore};
/// let manager = TokenManager::with_store(oauth, SqliteStore::open("tokens.sqlite")?).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
    lease_ttl: Duration,
    sync_interval: Duration,
}

struct Inner {
    path: PathBuf,
    location: String,
    conn: Mutex<Connection>,
    holder: String,
    keys: Keys,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("holder", &self.inner.holder)
            .field("lease_ttl", &self.lease_ttl)
            .finish()
    }
}

fn now_ms() -> i64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl SqliteStore {
    /// Open (or create) the store at `path` and bring its tables up to
    /// date. This blocks briefly; do it at startup.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let location = path.display().to_string();
        let err = |e: rusqlite::Error| store_error(&location, e);
        create_private(&path).map_err(|e| store_error(&location, e))?;
        let mut conn = Connection::open(&path).map_err(err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
        // Readers do not block the writer, nor the writer the readers.
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        migrate(&mut conn, &location)?;
        let holder = holder_id();
        Ok(Self {
            inner: Arc::new(Inner { path, location, conn: Mutex::new(conn), holder, keys: Keys::default() }),
            lease_ttl: DEFAULT_LEASE_TTL,
            sync_interval: DEFAULT_SYNC_INTERVAL,
        })
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

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
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
        self.run(move |c| {
            c.query_row(
                "SELECT holder FROM twitch_leases WHERE name = ?1 AND expires_at > ?2",
                params![name, now_ms()],
                |r| r.get(0),
            )
            .optional()
        })
        .await
    }

    /// The schema version the tables are at.
    pub async fn schema_version(&self) -> Result<i64> {
        self.run(|c| c.query_row("SELECT version FROM twitch_schema_version", [], |r| r.get(0))).await
    }

    /// Run `f` on the connection, on a blocking thread.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = Arc::clone(&self.inner);
        let location = inner.location.clone();
        tokio::task::spawn_blocking(move || {
            let conn = inner.conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&conn).map_err(|e| store_error(&inner.location, e))
        })
        .await
        .map_err(|e| store_error(&location, e))?
    }

    /// A row by its key, or (for a user) the legacy row while this client
    /// has no row of its own; a removed token reads as none.
    async fn load_row<T: serde::de::DeserializeOwned>(
        &self,
        key: String,
        legacy: String,
    ) -> Result<Option<Versioned<T>>> {
        let k = key.clone();
        let row: Option<(String, i64)> = self
            .run(move |c| {
                c.query_row(
                    "SELECT body, version FROM twitch_tokens WHERE key = ?1
                     UNION ALL
                     SELECT body, version FROM twitch_tokens
                        WHERE key = ?2 AND NOT EXISTS (SELECT 1 FROM twitch_tokens WHERE key = ?1)
                     LIMIT 1",
                    params![k, legacy],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
            })
            .await?;
        let loc = &self.inner.location;
        row.filter(|(body, _)| body != REMOVED)
            .map(|(body, v)| Ok(Versioned::new(decode(loc, &key, &body)?, version(loc, v)?)))
            .transpose()
    }

    /// Store a row under its key: the first version follows the legacy
    /// row's, so processes that read that one see a change.
    async fn save_row(&self, key: String, legacy: String, body: String) -> Result<u64> {
        let v: i64 = self
            .run(move |c| {
                c.query_row(
                    "INSERT INTO twitch_tokens (key, body, version, updated_at)
                     VALUES (?1, ?2, 1 + COALESCE((SELECT version FROM twitch_tokens WHERE key = ?4), 0), ?3)
                     ON CONFLICT (key) DO UPDATE SET body = excluded.body, version = twitch_tokens.version + 1,
                        updated_at = excluded.updated_at
                     RETURNING version",
                    params![key, body, now_ms(), legacy],
                    |r| r.get(0),
                )
            })
            .await?;
        version(&self.inner.location, v)
    }
}

/// Create the file readable by its owner only, before SQLite opens it (its
/// journal files take the same permissions).
fn create_private(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path).map(drop)
}

/// Apply the migrations past the recorded version, in one write
/// transaction (another process opening the file at the same time waits).
fn migrate(conn: &mut Connection, location: &str) -> Result<()> {
    let err = |e: rusqlite::Error| store_error(location, e);
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(err)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS twitch_schema_version (version INTEGER NOT NULL)").map_err(err)?;
    let found: Option<i64> =
        tx.query_row("SELECT version FROM twitch_schema_version", [], |r| r.get(0)).optional().map_err(err)?;
    let from = found.unwrap_or(0);
    let known = MIGRATIONS.len();
    let from_index = usize::try_from(from).map_err(|_| store_error(location, format!("schema version {from}")))?;
    if from_index > known {
        return Err(store_error(location, NewerSchema { found: from, known }));
    }
    for step in &MIGRATIONS[from_index..] {
        tx.execute_batch(step).map_err(err)?;
    }
    let to = i64::try_from(known).unwrap_or(i64::MAX);
    if found.is_none() {
        tx.execute("INSERT INTO twitch_schema_version (version) VALUES (?1)", params![to]).map_err(err)?;
    } else if from_index < known {
        tx.execute("UPDATE twitch_schema_version SET version = ?1", params![to]).map_err(err)?;
    }
    tx.commit().map_err(err)
}

/// The rows of this client's users, and of a user it has no row for, the
/// row a release before client ids wrote (`?1`: this client's user key
/// prefix; `?2`: its key prefix, empty when there is no client id). One
/// rule for `load` (live tokens) and `versions` (tombstones too).
macro_rules! user_rows {
    () => {
        "(SELECT key, version, body FROM twitch_tokens WHERE substr(key, 1, length(?1)) = ?1
          UNION ALL
          SELECT key, version, body FROM twitch_tokens AS l
             WHERE ?2 <> '' AND substr(l.key, 1, 5) = 'user:'
             AND NOT EXISTS (SELECT 1 FROM twitch_tokens WHERE key = ?2 || l.key)) AS user_rows"
    };
}

impl TokenStore for SqliteStore {
    fn load(&self) -> BoxFuture<'_, Result<Vec<UserToken>>> {
        Box::pin(async move {
            let (users, prefix) = (self.inner.keys.users(), self.inner.keys.prefix());
            let rows: Vec<(String, String)> = self
                .run(move |c| {
                    let mut q =
                        c.prepare(concat!("SELECT key, body FROM ", user_rows!(), " WHERE body <> '' ORDER BY key"))?;
                    let rows = q.query_map(params![users, prefix], |r| Ok((r.get(0)?, r.get(1)?)))?;
                    rows.collect()
                })
                .await?;
            rows.iter().map(|(key, body)| decode(&self.inner.location, key, body)).collect()
        })
    }

    fn save_user(&self, token: UserToken) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { self.save_user_versioned(token).await.map(drop) })
    }

    fn remove_user(&self, user: UserId) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let (key, legacy) = (self.inner.keys.user(&user), Keys::legacy_user(&user));
            // A removal is a version of this client's row (the legacy row
            // stays, shadowed).
            self.run(move |c| {
                c.execute(
                    "INSERT INTO twitch_tokens (key, body, version, updated_at)
                     SELECT ?1, '', 1 + COALESCE((SELECT version FROM twitch_tokens WHERE key = ?2), 0), ?3
                     WHERE EXISTS (SELECT 1 FROM twitch_tokens WHERE key IN (?1, ?2) AND body <> '')
                     ON CONFLICT (key) DO UPDATE SET body = '', version = twitch_tokens.version + 1,
                        updated_at = excluded.updated_at
                     WHERE twitch_tokens.body <> ''",
                    params![key, legacy, now_ms()],
                )
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

impl SharedTokenStore for SqliteStore {
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
            let v: Option<i64> = self
                .run(move |c| {
                    // This client's row at that version; or none yet, and
                    // the legacy row (or nothing) at that version.
                    let updated = c
                        .query_row(
                            "UPDATE twitch_tokens SET body = ?1, version = version + 1, updated_at = ?2
                             WHERE key = ?3 AND version = ?4 AND body <> '' RETURNING version",
                            params![body, now_ms(), key, expected],
                            |r| r.get(0),
                        )
                        .optional()?;
                    if updated.is_some() {
                        return Ok(updated);
                    }
                    c.query_row(
                        "INSERT INTO twitch_tokens (key, body, version, updated_at)
                         SELECT ?3, ?1, ?4 + 1, ?2
                         WHERE NOT EXISTS (SELECT 1 FROM twitch_tokens WHERE key = ?3)
                         AND COALESCE((SELECT version FROM twitch_tokens WHERE key = ?5 AND body <> ''), 0) = ?4
                         ON CONFLICT (key) DO NOTHING RETURNING version",
                        params![body, now_ms(), key, expected, legacy],
                        |r| r.get(0),
                    )
                    .optional()
                })
                .await?;
            v.map(|v| version(&self.inner.location, v)).transpose()
        })
    }

    fn versions(&self) -> BoxFuture<'_, Result<Vec<StoredVersion>>> {
        Box::pin(async move {
            let (users, prefix) = (self.inner.keys.users(), self.inner.keys.prefix());
            let rows: Vec<(String, i64, bool)> = self
                .run(move |c| {
                    let mut q = c.prepare(concat!("SELECT key, version, body = '' FROM ", user_rows!()))?;
                    let rows = q.query_map(params![users, prefix], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                    rows.collect()
                })
                .await?;
            let loc = &self.inner.location;
            rows.into_iter()
                .filter_map(|(key, v, removed)| {
                    let user = self.inner.keys.user_of(&key)?.to_owned();
                    Some(version(loc, v).map(|v| StoredVersion::new(user.into(), v, removed)))
                })
                .collect()
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
        let (name, holder) = (self.inner.keys.lease(name), self.inner.holder.clone());
        Box::pin(async move {
            // One statement, so one write transaction: the row is taken if
            // it is free, expired, or this store's own.
            let changed = self
                .run(move |c| {
                    let now = now_ms();
                    c.execute(
                        "INSERT INTO twitch_leases (name, holder, expires_at) VALUES (?1, ?2, ?3)
                         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                         WHERE twitch_leases.expires_at <= ?4 OR twitch_leases.holder = excluded.holder",
                        params![name, holder, now.saturating_add(ms(ttl)), now],
                    )
                })
                .await?;
            Ok(changed == 1)
        })
    }

    fn release<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<()>> {
        let (name, holder) = (self.inner.keys.lease(name), self.inner.holder.clone());
        Box::pin(async move {
            self.run(move |c| {
                c.execute("DELETE FROM twitch_leases WHERE name = ?1 AND holder = ?2", params![name, holder])
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
