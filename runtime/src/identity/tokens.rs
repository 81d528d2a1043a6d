//! The token manager: the app token and several users' tokens, refreshed
//! before they expire and once after a 401, one refresh at a time per token.
//!
//! Only Twitch's definitive answers about a token make it invalid:
//! `validate` answering 401, then a refresh that the identity service
//! refuses (400 or 401 from `oauth2/token`), or no refresh token to try. A
//! transport error, a timeout or a 5xx never does: the token is kept, the
//! failure logged, and it is tried again later. Neither does a
//! configuration error: a refusal of the client itself (`invalid client`,
//! `invalid client secret`) is [`Error::ClientRefused`], and a token issued
//! to another client id (known from the token, or learnt from `validate`
//! when a refresh is refused) is [`Error::WrongClient`], before or instead
//! of spending it. A token found invalid is reported once
//! ([`TokenEvent::Invalid`]) and every later request for its user fails at
//! once with [`Error::TokenInvalid`] without any HTTP call, until the
//! application adds a new token for the user. Nothing is deleted from the
//! store on the manager's own judgement: only [`TokenManager::remove_user`]
//! removes a token.
//!
//! A store holds the tokens of one client id
//! ([`TokenStore::bind_client`]): applications sharing a database keep
//! their rows apart. A refreshed pair the store could not take is held in
//! memory, is the base of the next refresh, and is saved again every
//! few seconds until the store takes it.
//!
//! With a store that several processes share (`SqliteStore` and
//! `PostgresStore` behind the `sqlite` and `postgres` features, or any
//! [`TokenStore`] answering [`TokenStore::shared`]), a refresh is also one
//! at a time across the processes: the one that takes the token's lease
//! refreshes and stores the new pair before it releases the lease; the
//! others wait for the new version and take it. The save is conditional
//! on the version the refresh started from, so a late save never
//! overwrites a newer pair or brings back a removed user. Every
//! [`SharedTokenStore::sync_interval`] each process compares its tokens
//! with the store's versions: a token removed, added again or refreshed
//! elsewhere reaches it within that interval. The one loss that no order
//! of steps avoids: a process that dies after the identity service
//! answered and before the store took the answer has spent the refresh
//! token, and the new one is gone with it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, broadcast};

use crate::base::error::{Error, Result};
use crate::base::scope::Scope;
use crate::base::secret::AccessToken;
use crate::base::types::{BoxFuture, UserId};
use crate::http::client::{Client, ClientBuilder};
use crate::http::credentials::TokenSource;
use crate::identity::oauth::{AppToken, OAuth, OAuthError, UserToken};

/// How long before expiry a token is refreshed.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(120);

/// After a refresh failed for a reason that may pass, requests in the next
/// second get that failure rather than try again at once: an outage of the
/// identity service is not hammered with a refresh per request.
pub const REFRESH_RETRY_DELAY: Duration = Duration::from_secs(1);

/// With a shared store, how long past two lease lifetimes a process waits
/// for another's refresh before it gives up (for now; the token is kept).
const WAIT_BEYOND_LEASES: Duration = Duration::from_secs(30);

/// With a shared store, how often a refreshed token's save is tried again
/// before the lease is released (a little apart) when the store fails.
const SAVE_ATTEMPTS: usize = 3;

/// With a store of one process, how often a change the store could not
/// take is tried again.
const RESAVE_INTERVAL: Duration = Duration::from_secs(5);

pub use crate::http::credentials::{TokenEvent, TokenEvents};
pub use crate::identity::store::{SharedTokenStore, StoredVersion, TokenStore, Versioned};
#[cfg(feature = "postgres")]
pub use crate::identity::stores::postgres::{DEFAULT_CALL_TIMEOUT, PostgresStore};
#[cfg(feature = "sqlite")]
pub use crate::identity::stores::sqlite::SqliteStore;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use crate::identity::stores::{DEFAULT_LEASE_TTL, DEFAULT_SYNC_INTERVAL};

/// A JSON file's tokens by client id ("" for none named) and user.
type FileTokens = BTreeMap<(String, UserId), UserToken>;

/// A JSON file, written atomically (temporary file, then rename) and
/// readable by its owner only. Reads and writes run on tokio's blocking
/// threads; writes are serialized, so the file ends with the latest state.
///
/// The file may hold the tokens of several client ids: the store keeps
/// those of the client id it is bound to ([`TokenStore::bind_client`]) and
/// leaves the others as they are.
#[derive(Debug, Clone)]
pub struct JsonFileStore {
    path: PathBuf,
    /// The file's tokens once read, by client id ("" for none named) and
    /// user; every change writes all of them.
    cache: Arc<Mutex<Option<FileTokens>>>,
    client: Arc<std::sync::OnceLock<String>>,
}

#[derive(Serialize, Deserialize, Default)]
struct StoreFile {
    #[serde(default)]
    users: Vec<UserToken>,
}

impl JsonFileStore {
    /// A store at this path (created on first save).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into(), cache: Arc::default(), client: Arc::default() }
    }

    /// The file's path.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    async fn blocking<T: Send + 'static>(&self, f: impl FnOnce(PathBuf) -> Result<T> + Send + 'static) -> Result<T> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || f(path))
            .await
            .map_err(|e| Error::TokenStore { location: self.path.display().to_string(), source: Box::new(e) })?
    }

    /// The cached users, read from the file the first time.
    async fn users<'a>(&self, cache: &'a mut Option<FileTokens>) -> Result<&'a mut FileTokens> {
        if cache.is_none() {
            let users = self.blocking(read_file).await?;
            *cache = Some(
                users.into_iter().map(|u| ((u.client_id.clone().unwrap_or_default(), u.user_id.clone()), u)).collect(),
            );
        }
        Ok(cache.get_or_insert_with(BTreeMap::new))
    }

    /// The client id bound, or "".
    fn client(&self) -> String {
        self.client.get().cloned().unwrap_or_default()
    }

    /// A token of the bound client (or one naming none)?
    fn ours(&self, token: &UserToken) -> bool {
        token.client_id.as_ref().is_none_or(|c| self.client.get().is_none_or(|b| b == c))
    }

    async fn change(&self, f: impl FnOnce(&mut FileTokens)) -> Result<()> {
        let mut cache = self.cache.lock().await;
        let users = self.users(&mut cache).await?;
        let mut next = users.clone();
        f(&mut next);
        let body = StoreFile { users: next.values().cloned().collect() };
        self.blocking(move |path| write_file(&path, &body)).await?;
        // Only what reached the disk becomes the cached state.
        *users = next;
        Ok(())
    }
}

fn io_error(path: &std::path::Path, e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::TokenStore { location: path.display().to_string(), source: Box::new(e) }
}

fn read_file(path: PathBuf) -> Result<Vec<UserToken>> {
    match std::fs::read(&path) {
        Ok(bytes) => {
            let f: StoreFile = serde_json::from_slice(&bytes).map_err(|e| io_error(&path, e))?;
            Ok(f.users)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io_error(&path, e)),
    }
}

fn write_file(path: &std::path::Path, file: &StoreFile) -> Result<()> {
    use std::io::Write;
    let body = serde_json::to_vec_pretty(file).map_err(|e| io_error(path, e))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io_error(path, e))?;
    }
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(|e| io_error(&tmp, e))?;
    f.write_all(&body).and_then(|_| f.sync_all()).map_err(|e| io_error(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_error(path, e))
}

impl TokenStore for JsonFileStore {
    fn load(&self) -> BoxFuture<'_, Result<Vec<UserToken>>> {
        Box::pin(async move {
            let mut cache = self.cache.lock().await;
            Ok(self.users(&mut cache).await?.values().filter(|t| self.ours(t)).cloned().collect())
        })
    }

    fn save_user(&self, mut token: UserToken) -> BoxFuture<'_, Result<()>> {
        let client = self.client();
        if token.client_id.is_none() && !client.is_empty() {
            token.client_id = Some(client.clone());
        }
        Box::pin(self.change(move |users| {
            users.remove(&(String::new(), token.user_id.clone()));
            users.insert((token.client_id.clone().unwrap_or_default(), token.user_id.clone()), token);
        }))
    }

    fn remove_user(&self, user: UserId) -> BoxFuture<'_, Result<()>> {
        let client = self.client();
        Box::pin(self.change(move |users| {
            users.remove(&(String::new(), user.clone()));
            users.remove(&(client, user));
        }))
    }

    fn bind_client<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let bound = self.client.get_or_init(|| client_id.to_owned());
            if bound != client_id {
                return Err(Error::TokenStore {
                    location: self.path.display().to_string(),
                    source: format!("this store is bound to client id {bound}; open another instance for {client_id}")
                        .into(),
                });
            }
            Ok(())
        })
    }
}

/// `f` (a save), with the lease `name` renewed every third of its life
/// while `f` runs: a save slower than the lease does not let another
/// process take the lease and spend the refresh token just used.
async fn holding<T>(shared: &dyn SharedTokenStore, name: &str, f: impl std::future::Future<Output = T>) -> T {
    let every = shared.lease_ttl() / 3;
    let renew = async {
        loop {
            tokio::time::sleep(every).await;
            if let Ok(false) = shared.try_lease(name, shared.lease_ttl()).await {
                tracing::warn!(lease = name, "the refresh lease went to another process during a slow save");
            }
        }
    };
    tokio::select! {
        out = f => out,
        never = renew => never,
    }
}

/// What a failed refresh (or client credentials grant) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// The client id or secret was refused: a configuration error.
    Client,
    /// The token was refused (400 or 401): final for this client.
    Token,
    /// Anything else may pass.
    Passing,
}

fn refusal(e: &Error) -> Refusal {
    match e {
        Error::OAuth(OAuthError::Rejected { status, message, .. }) => {
            let m = message.to_ascii_lowercase();
            if *status == 403 || m.contains("invalid client") || m.contains("missing client") {
                Refusal::Client
            } else if matches!(status, 400 | 401) {
                Refusal::Token
            } else {
                Refusal::Passing
            }
        }
        _ => Refusal::Passing,
    }
}

/// A user's token and what is known about it.
struct UserState {
    token: UserToken,
    /// Twitch refused the token for good: why.
    invalid: Option<String>,
    /// The last refresh attempt failed for a reason that may pass: what
    /// went wrong and when, for callers that waited on that attempt.
    last_failure: Option<(String, tokio::time::Instant)>,
}

impl UserState {
    fn failed_recently(&self) -> bool {
        self.last_failure.as_ref().is_some_and(|(_, at)| at.elapsed() < REFRESH_RETRY_DELAY)
    }
}

struct UserSlot {
    /// Held while refreshing: concurrent callers wait and then see the new
    /// token, or the outcome of the attempt they waited on.
    state: Mutex<UserState>,
    /// Refresh attempts made; a caller that sees it change while it waited
    /// shares that attempt's outcome instead of making another.
    attempts: AtomicU64,
    /// Mirrors `state.invalid.is_some()`, readable without the lock.
    invalid: AtomicBool,
    /// The shared store's version of the token held (0: not known to be
    /// stored). Changed with the state's lock held.
    version: AtomicU64,
}

struct AppState {
    token: Option<AppToken>,
    invalid: Option<String>,
    last_failure: Option<String>,
}

struct Inner {
    oauth: OAuth,
    /// The OAuth client's id: the application tokens must belong to.
    client_id: String,
    app: Mutex<AppState>,
    app_attempts: AtomicU64,
    users: RwLock<BTreeMap<UserId, Arc<UserSlot>>>,
    default_user: RwLock<Option<UserId>>,
    store: Option<Arc<dyn TokenStore>>,
    /// Users whose latest change the store has not taken yet (it failed):
    /// retried with the next store operation.
    unsaved: std::sync::Mutex<BTreeSet<UserId>>,
    events: broadcast::Sender<TokenEvent>,
    /// App tokens come from client credentials when the OAuth client has a secret.
    fetch_app_tokens: bool,
    /// An app token was handed in with `set_app_token`.
    app_given: AtomicBool,
}

/// Holds and refreshes tokens; give it to
/// [`ClientBuilder::token_manager`](crate::http::client::ClientBuilder::token_manager).
/// Cheap to clone; clones share state.
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager").field("oauth", &self.inner.oauth).field("users", &self.user_ids()).finish()
    }
}

fn lock_read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn lock_write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

impl TokenManager {
    /// A manager using this OAuth client. With a client secret it fetches
    /// and renews the app token itself (client credentials).
    pub fn new(oauth: OAuth) -> Self {
        Self::build(oauth, None)
    }

    /// Like [`TokenManager::new`], loading users' tokens from `store` and
    /// saving them there whenever they change. The store is bound to the
    /// OAuth client's id first ([`TokenStore::bind_client`]); a stored
    /// token that names another client id is left where it is, unused.
    ///
    /// This starts a task on the current tokio runtime that saves again
    /// what the store could not take and, with a shared store, takes in
    /// what other processes changed (every
    /// [`SharedTokenStore::sync_interval`]). It ends within one interval
    /// of the last clone of the manager being dropped.
    pub async fn with_store(oauth: OAuth, store: impl TokenStore) -> Result<Self> {
        store.bind_client(oauth.client_id()).await?;
        let store: Arc<dyn TokenStore> = Arc::new(store);
        // Versions before tokens: a token saved in between is then newer
        // than its recorded version, and the next sync reads it again.
        let versions: BTreeMap<UserId, u64> = match store.shared() {
            Some(shared) => {
                shared.versions().await?.into_iter().filter(|v| !v.removed).map(|v| (v.user, v.version)).collect()
            }
            None => BTreeMap::new(),
        };
        let loaded = store.load().await?;
        let app = match store.shared() {
            Some(shared) => shared.load_app().await?,
            None => None,
        };
        let every = store.shared().map_or(RESAVE_INTERVAL, |s| s.sync_interval());
        let m = Self::build(oauth, Some(store));
        for t in loaded {
            if let Some(other) = t.client_id.as_deref().filter(|c| *c != m.inner.client_id) {
                tracing::error!(user = %t.user_id, token_client_id = other, client_id = %m.inner.client_id, "the store holds a token of another client id; it is left there and not used");
                continue;
            }
            let version = versions.get(&t.user_id).copied().unwrap_or(0);
            m.insert_with(t, true, version);
        }
        if let Some(v) = app {
            m.inner.app.lock().await.token = Some(v.token);
        }
        m.spawn_sync(every);
        Ok(m)
    }

    /// The task behind [`TokenManager::with_store`]'s saving again and
    /// syncing: holds the manager only while it works.
    fn spawn_sync(&self, every: Duration) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(inner) = weak.upgrade() else { break };
                TokenManager { inner }.sync().await;
            }
        });
    }

    fn build(oauth: OAuth, store: Option<Arc<dyn TokenStore>>) -> Self {
        let fetch_app_tokens = oauth.has_secret();
        let (events, _) = broadcast::channel(256);
        Self {
            inner: Arc::new(Inner {
                client_id: oauth.client_id().to_owned(),
                oauth,
                app: Mutex::new(AppState { token: None, invalid: None, last_failure: None }),
                app_attempts: AtomicU64::new(0),
                users: RwLock::new(BTreeMap::new()),
                default_user: RwLock::new(None),
                store,
                unsaved: std::sync::Mutex::default(),
                events,
                fetch_app_tokens,
                app_given: AtomicBool::new(false),
            }),
        }
    }

    fn insert_with(&self, token: UserToken, replace: bool, version: u64) {
        let id = token.user_id.clone();
        let slot = UserSlot {
            state: Mutex::new(UserState { token, invalid: None, last_failure: None }),
            attempts: AtomicU64::new(0),
            invalid: AtomicBool::new(false),
            version: AtomicU64::new(version),
        };
        {
            let mut users = lock_write(&self.inner.users);
            if !replace && users.contains_key(&id) {
                return;
            }
            users.insert(id.clone(), Arc::new(slot));
        }
        let mut d = lock_write(&self.inner.default_user);
        if d.is_none() {
            *d = Some(id);
        }
    }

    /// Add (or replace) a user's token; the first user added becomes the
    /// default. A token that was found invalid is replaced, and requests for
    /// the user work again (with a shared store, in every process within
    /// its sync interval). The token is held even if the store fails to
    /// save it (the error says so, and the save is tried again until the
    /// store takes it). A token that names another client id than the
    /// OAuth client's is refused with [`Error::WrongClient`], and nothing
    /// changes.
    pub async fn add_user(&self, token: UserToken) -> Result<()> {
        if let Some(e) = self.wrong_client(&token) {
            return Err(e);
        }
        let id = token.user_id.clone();
        self.insert_with(token.clone(), true, 0);
        let _ = self.inner.events.send(TokenEvent::Added(id));
        self.save(token).await
    }

    /// Forget a user's token here and in the store (after logging out or
    /// revoking it, for example). With a shared store the other processes
    /// forget it too, within the store's sync interval, and none of them
    /// writes it back.
    pub async fn remove_user(&self, user: &UserId) -> Result<()> {
        self.forget(user, None);
        match &self.inner.store {
            Some(store) => store.remove_user(user.clone()).await,
            None => Ok(()),
        }
    }

    /// Drop a user's slot here (`slot`: only if it is still that one) and
    /// say so.
    fn forget(&self, user: &UserId, slot: Option<&UserSlot>) {
        {
            let mut users = lock_write(&self.inner.users);
            if let Some(held) = users.get(user)
                && slot.is_none_or(|s| std::ptr::eq(Arc::as_ptr(held), s))
            {
                users.remove(user);
            } else {
                return;
            }
        }
        {
            let mut d = lock_write(&self.inner.default_user);
            if d.as_ref() == Some(user) {
                *d = None;
            }
        }
        self.unsaved().remove(user);
        let _ = self.inner.events.send(TokenEvent::Removed(user.clone()));
    }

    /// The error for a token of another application, if it is one.
    fn wrong_client(&self, token: &UserToken) -> Option<Error> {
        let other = token.client_id.as_deref().filter(|c| *c != self.inner.client_id)?;
        Some(Error::WrongClient {
            user: token.user_id.clone(),
            token_client_id: other.to_owned(),
            client_id: self.inner.client_id.clone(),
        })
    }

    /// Use an app token you already have.
    pub async fn set_app_token(&self, token: AppToken) {
        let mut app = self.inner.app.lock().await;
        *app = AppState { token: Some(token), invalid: None, last_failure: None };
        self.inner.app_given.store(true, Ordering::Relaxed);
        let _ = self.inner.events.send(TokenEvent::AppTokenRenewed);
    }

    /// Make this user the one requests use unless they name another.
    pub fn set_default_user(&self, user: impl Into<UserId>) {
        *lock_write(&self.inner.default_user) = Some(user.into());
    }

    /// The default user, if any.
    pub fn default_user(&self) -> Option<UserId> {
        lock_read(&self.inner.default_user).clone()
    }

    fn user_ids(&self) -> Vec<UserId> {
        lock_read(&self.inner.users).keys().cloned().collect()
    }

    /// The users whose tokens are held and not known to be invalid.
    pub fn users(&self) -> Vec<UserId> {
        lock_read(&self.inner.users)
            .iter()
            .filter(|(_, s)| !s.invalid.load(Ordering::Acquire))
            .map(|(u, _)| u.clone())
            .collect()
    }

    /// The users whose tokens Twitch refused for good: they must authorize
    /// again.
    pub fn invalid_users(&self) -> Vec<UserId> {
        lock_read(&self.inner.users)
            .iter()
            .filter(|(_, s)| s.invalid.load(Ordering::Acquire))
            .map(|(u, _)| u.clone())
            .collect()
    }

    /// Is there an app token, or a way to get one?
    pub fn has_app_token(&self) -> bool {
        self.inner.fetch_app_tokens || self.inner.app_given.load(Ordering::Relaxed)
    }

    /// Events: refreshed, added and invalid tokens.
    pub fn subscribe(&self) -> TokenEvents {
        self.inner.events.subscribe()
    }

    /// The scopes of a user's token, if held (also when it was found invalid).
    pub async fn scopes(&self, user: &UserId) -> Option<Vec<Scope>> {
        let slot = self.slot_or_load(user).await.ok()?;
        let st = slot.state.lock().await;
        Some(st.token.scopes.clone())
    }

    fn slot(&self, user: &UserId) -> Option<Arc<UserSlot>> {
        lock_read(&self.inner.users).get(user).cloned()
    }

    /// The user's slot; with a shared store, a user another process added
    /// since this one started is read from it.
    async fn slot_or_load(&self, user: &UserId) -> Result<Arc<UserSlot>> {
        if let Some(slot) = self.slot(user) {
            return Ok(slot);
        }
        if let Some(shared) = self.shared() {
            match shared.load_user_versioned(user).await {
                Ok(Some(v)) => {
                    if self.wrong_client(&v.token).is_some() {
                        return Err(Self::no_token(user));
                    }
                    self.insert_with(v.token, false, v.version);
                    if let Some(slot) = self.slot(user) {
                        return Ok(slot);
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(user = %user, error = %e, "could not look for a user's token in the shared store")
                }
            }
        }
        Err(Self::no_token(user))
    }

    fn no_token(user: &UserId) -> Error {
        Error::NoToken { user: Some(user.clone()) }
    }

    fn invalid(user: &UserId, why: &str) -> Error {
        Error::TokenInvalid { user: Some(user.clone()), message: why.to_owned() }
    }

    /// A current access token for this user, refreshed first if it expires
    /// soon. If that refresh fails for a reason that may pass while the
    /// token has not expired yet, the token is used as it is.
    pub async fn user_token(&self, user: &UserId) -> Result<AccessToken> {
        let slot = self.slot_or_load(user).await?;
        let seen = slot.attempts.load(Ordering::Acquire);
        let mut st = slot.state.lock().await;
        if let Some(why) = &st.invalid {
            return Err(Self::invalid(user, why));
        }
        if !(st.token.expires_within(REFRESH_MARGIN) && st.token.refresh_token.is_some()) {
            return Ok(st.token.access_token.clone());
        }
        let outcome = if slot.attempts.load(Ordering::Acquire) != seen || st.failed_recently() {
            // An attempt ran while this caller waited, or just before; it
            // failed (else the token would not expire soon): not again now.
            Err(self.shared_failure(user, &st))
        } else {
            self.refresh_locked(&slot, &mut st).await
        };
        match outcome {
            Ok(()) => Ok(st.token.access_token.clone()),
            // Final here: removed elsewhere, another application's token.
            Err(e @ (Error::TokenInvalid { .. } | Error::NoToken { .. } | Error::WrongClient { .. })) => Err(e),
            Err(e) if !st.token.expires_within(Duration::ZERO) => {
                tracing::warn!(user = %user, error = %e, "refreshing a token before it expires failed; using it as it is");
                Ok(st.token.access_token.clone())
            }
            Err(e) => Err(e),
        }
    }

    /// The token `rejected` was refused with a 401: refresh it, unless
    /// another caller already did (or already tried). Returns the token to
    /// retry with.
    pub async fn user_token_after_401(&self, user: &UserId, rejected: &AccessToken) -> Result<AccessToken> {
        let slot = self.slot_or_load(user).await?;
        let seen = slot.attempts.load(Ordering::Acquire);
        let mut st = slot.state.lock().await;
        if let Some(why) = &st.invalid {
            return Err(Self::invalid(user, why));
        }
        if &st.token.access_token != rejected {
            return Ok(st.token.access_token.clone());
        }
        if slot.attempts.load(Ordering::Acquire) != seen || st.failed_recently() {
            return Err(self.shared_failure(user, &st));
        }
        if st.token.refresh_token.is_none() {
            // Nothing to refresh with: the caller keeps its 401. Whether
            // the token is dead is for `validate` to say.
            return Ok(st.token.access_token.clone());
        }
        self.refresh_locked(&slot, &mut st).await?;
        Ok(st.token.access_token.clone())
    }

    fn shared_failure(&self, user: &UserId, st: &UserState) -> Error {
        match &st.invalid {
            Some(why) => Self::invalid(user, why),
            None => Error::RefreshFailed {
                user: Some(user.clone()),
                message: st.last_failure.as_ref().map_or_else(|| "the refresh failed".into(), |(m, _)| m.clone()),
            },
        }
    }

    /// Refresh with the slot's lock held. A definitive refusal marks the
    /// user invalid (once); anything else keeps the token.
    async fn refresh_locked(&self, slot: &UserSlot, st: &mut UserState) -> Result<()> {
        slot.attempts.fetch_add(1, Ordering::AcqRel);
        if let Some(e) = self.wrong_client(&st.token) {
            // Not spent with a client id it does not belong to.
            return Err(e);
        }
        if let Some(shared) = self.shared() {
            return self.refresh_shared(shared, slot, st).await;
        }
        let user = st.token.user_id.clone();
        let outcome = self.inner.oauth.refresh(&st.token).await;
        match outcome {
            Ok(fresh) => {
                st.token = fresh;
                st.last_failure = None;
                let _ = self.inner.events.send(TokenEvent::Refreshed(user.clone()));
                tracing::debug!(user = %user, "user token refreshed");
                // Saved before the lock is released, so no caller gets a
                // token the store has not seen (single-use refresh tokens).
                if let Err(e) = self.save(st.token.clone()).await {
                    tracing::warn!(user = %user, error = %e, "the refreshed token could not be stored; it is kept in memory and saved again later");
                }
                Ok(())
            }
            Err(e) => self.refresh_refused(slot, st, e).await,
        }
    }

    /// A refresh failed: decide what it means. The client refused is a
    /// configuration error, the token kept; the token refused is final
    /// unless `validate` shows it belongs to another client id (then it is
    /// kept for that application); anything else may pass.
    async fn refresh_refused(&self, slot: &UserSlot, st: &mut UserState, e: Error) -> Result<()> {
        let user = st.token.user_id.clone();
        match refusal(&e) {
            Refusal::Client => {
                let (status, message) = match &e {
                    Error::OAuth(OAuthError::Rejected { status, message, .. }) => (*status, message.clone()),
                    _ => (0, e.to_string()),
                };
                let e = Error::ClientRefused { client_id: self.inner.client_id.clone(), status, message };
                tracing::error!(user = %user, error = %e, "the identity service refused this program's client; the token is kept");
                st.last_failure = Some((e.to_string(), tokio::time::Instant::now()));
                Err(e)
            }
            Refusal::Token => {
                if st.token.client_id.is_none()
                    && let Ok(v) = self.inner.oauth.validate(&st.token.access_token).await
                {
                    st.token.client_id = Some(v.client_id);
                    if let Some(e) = self.wrong_client(&st.token) {
                        tracing::error!(user = %user, error = %e, "a token of another client id was refused; it is kept for its own application");
                        return Err(e);
                    }
                }
                let why = e.to_string();
                self.mark_invalid(slot, st, why.clone());
                Err(Self::invalid(&user, &why))
            }
            Refusal::Passing => {
                tracing::warn!(user = %user, error = %e, "refreshing a token failed; it is kept and tried again later");
                st.last_failure = Some((e.to_string(), tokio::time::Instant::now()));
                Err(Error::RefreshFailed { user: Some(user), message: e.to_string() })
            }
        }
    }

    fn shared(&self) -> Option<&dyn SharedTokenStore> {
        self.inner.store.as_ref()?.shared()
    }

    /// Refresh through a shared store, the slot's lock held: take over a
    /// token another process refreshed meanwhile, or take the user's lease,
    /// refresh, store the new token and only then release the lease. While
    /// another process holds the lease, wait for its new version; if that
    /// process died, its lease expires and this one takes over.
    async fn refresh_shared(&self, shared: &dyn SharedTokenStore, slot: &UserSlot, st: &mut UserState) -> Result<()> {
        let user = st.token.user_id.clone();
        let lease = format!("user:{user}");
        let failed = |st: &mut UserState, message: String| {
            st.last_failure = Some((message.clone(), tokio::time::Instant::now()));
            Error::RefreshFailed { user: Some(user.clone()), message }
        };
        let deadline = tokio::time::Instant::now() + 2 * shared.lease_ttl() + WAIT_BEYOND_LEASES;
        loop {
            let stored = match shared.load_user_versioned(&user).await {
                Ok(v) => v,
                Err(e) => return Err(failed(st, format!("the shared token store failed: {e}"))),
            };
            if let Some(v) = stored.filter(|v| Self::newer(slot, st, v)) {
                self.adopt(slot, st, v);
                return Ok(());
            }
            match shared.try_lease(&lease, shared.lease_ttl()).await {
                Ok(true) => break,
                Ok(false) => {}
                Err(e) => return Err(failed(st, format!("the shared token store failed: {e}"))),
            }
            if tokio::time::Instant::now() >= deadline {
                let message = "another process holds the refresh lease and stored no new token in time".to_owned();
                tracing::warn!(user = %user, "{message}");
                return Err(failed(st, message));
            }
            tokio::time::sleep(shared.poll_interval()).await;
        }
        let (outcome, stored) = self.refresh_leased(shared, slot, st).await;
        // Not stored: the lease is kept until it expires, so that no other
        // process refreshes at once with the refresh token used up here.
        if stored {
            self.release(shared, &lease).await;
        }
        match outcome {
            Err(Error::RefreshFailed { message, .. }) => Err(failed(st, message)),
            other => other,
        }
    }

    /// A token another process stored, newer than the one held and good
    /// for a while.
    fn newer(slot: &UserSlot, st: &UserState, stored: &Versioned<UserToken>) -> bool {
        stored.version != slot.version.load(Ordering::Acquire)
            && stored.token.access_token != st.token.access_token
            && !stored.token.expires_within(REFRESH_MARGIN)
    }

    /// The refresh itself, the lease held. Also answers whether the store
    /// holds the outcome (false: a new token is only here).
    async fn refresh_leased(
        &self,
        shared: &dyn SharedTokenStore,
        slot: &UserSlot,
        st: &mut UserState,
    ) -> (Result<()>, bool) {
        let user = st.token.user_id.clone();
        let transient = |message: String| Error::RefreshFailed { user: Some(user.clone()), message };
        // Read again under the lease: the last holder may have stored a
        // new token between the read above and the lease.
        let stored = match shared.load_user_versioned(&user).await {
            Ok(v) => v,
            Err(e) => return (Err(transient(format!("the shared token store failed: {e}"))), true),
        };
        let known = slot.version.load(Ordering::Acquire);
        let expected = stored.as_ref().map_or(0, |v| v.version);
        let base = match stored {
            // Stored once and gone now: another process removed it.
            None if known != 0 => {
                tracing::info!(user = %user, "the token was removed in the shared store; forgotten here");
                self.forget(&user, Some(slot));
                return (Err(Self::no_token(&user)), true);
            }
            None => st.token.clone(),
            Some(v) if Self::newer(slot, st, &v) => {
                self.adopt(slot, st, v);
                return (Ok(()), true);
            }
            // The version held: the pair here is as new, or newer (a save
            // that did not land), and carries the latest refresh token.
            Some(v) if v.version == known => st.token.clone(),
            // Another version: it carries the latest refresh token.
            Some(v) => v.token,
        };
        match self.inner.oauth.refresh(&base).await {
            Ok(fresh) => {
                st.token = fresh;
                st.last_failure = None;
                tracing::debug!(user = %user, "user token refreshed");
                // Stored before the lease is released: the refresh token
                // just used is gone, the new pair must be where the other
                // processes look. Only over the version the refresh
                // started from: a newer pair or a removal is not undone.
                // A failed save is tried a few times; then the token is
                // kept here, saved again later, and the lease left to
                // expire.
                // The lease is renewed first, so that it covers the save
                // (each store call is bounded well under it).
                let lease = format!("user:{user}");
                let renew = || async {
                    if matches!(shared.try_lease(&lease, shared.lease_ttl()).await, Ok(false)) {
                        tracing::warn!(user = %user, "the refresh lease ran out before the save; saving only over the version the refresh started from");
                    }
                };
                renew().await;
                let mut saved = holding(shared, &lease, shared.replace_user(st.token.clone(), expected)).await;
                for _ in 0..SAVE_ATTEMPTS {
                    if saved.is_ok() {
                        break;
                    }
                    tokio::time::sleep(shared.poll_interval()).await;
                    renew().await;
                    saved = holding(shared, &lease, shared.replace_user(st.token.clone(), expected)).await;
                }
                match saved {
                    Ok(Some(v)) => {
                        slot.version.store(v, Ordering::Release);
                        self.unsaved().remove(&user);
                        let _ = self.inner.events.send(TokenEvent::Refreshed(user.clone()));
                        (Ok(()), true)
                    }
                    Ok(None) => (self.changed_meanwhile(shared, slot, st).await, true),
                    Err(e) => {
                        tracing::warn!(user = %user, error = %e, "the refreshed token could not be stored; it is kept in memory and saved again as soon as the store takes it");
                        slot.version.store(expected, Ordering::Release);
                        self.unsaved().insert(user.clone());
                        let _ = self.inner.events.send(TokenEvent::Refreshed(user.clone()));
                        (Ok(()), false)
                    }
                }
            }
            Err(e) => {
                if refusal(&e) == Refusal::Token {
                    // Refused: unless another process stored a new token
                    // after all (its lease had expired while it refreshed).
                    if let Ok(Some(again)) = shared.load_user_versioned(&user).await
                        && Self::newer(slot, st, &again)
                    {
                        self.adopt(slot, st, again);
                        return (Ok(()), true);
                    }
                }
                match self.refresh_refused(slot, st, e).await {
                    Err(Error::RefreshFailed { message, .. }) => (Err(transient(message)), true),
                    other => (other, true),
                }
            }
        }
    }

    /// A save found the row changed: take the newer pair another process
    /// stored, or forget a user removed meanwhile.
    async fn changed_meanwhile(
        &self,
        shared: &dyn SharedTokenStore,
        slot: &UserSlot,
        st: &mut UserState,
    ) -> Result<()> {
        let user = st.token.user_id.clone();
        match shared.load_user_versioned(&user).await {
            Ok(Some(v)) => {
                self.adopt(slot, st, v);
                Ok(())
            }
            Ok(None) => {
                tracing::info!(user = %user, "the token was removed in the shared store while it was refreshed; forgotten here");
                self.forget(&user, Some(slot));
                Err(Self::no_token(&user))
            }
            Err(e) => {
                Err(Error::RefreshFailed { user: Some(user), message: format!("the shared token store failed: {e}") })
            }
        }
    }

    /// Take over the token another process stored.
    fn adopt(&self, slot: &UserSlot, st: &mut UserState, stored: Versioned<UserToken>) {
        tracing::debug!(user = %stored.token.user_id, version = stored.version, "took over a token another process stored");
        st.token = stored.token;
        st.last_failure = None;
        slot.version.store(stored.version, Ordering::Release);
        let user = st.token.user_id.clone();
        if st.invalid.take().is_some() {
            // Added again elsewhere: requests for the user work again.
            slot.invalid.store(false, Ordering::Release);
            let _ = self.inner.events.send(TokenEvent::Added(user));
        } else {
            let _ = self.inner.events.send(TokenEvent::Refreshed(user));
        }
    }

    async fn release(&self, shared: &dyn SharedTokenStore, lease: &str) {
        if let Err(e) = shared.release(lease).await {
            tracing::warn!(lease, error = %e, "could not release a lease in the token store; it expires by itself");
        }
    }

    fn mark_invalid(&self, slot: &UserSlot, st: &mut UserState, why: String) {
        if st.invalid.is_some() {
            return;
        }
        let user = st.token.user_id.clone();
        tracing::warn!(user = %user, reason = %why, "a user's token is no longer valid; the user must authorize again");
        st.invalid = Some(why);
        slot.invalid.store(true, Ordering::Release);
        let _ = self.inner.events.send(TokenEvent::Invalid(user.clone()));
        self.unsaved().remove(&user);
        // Kept in the store: another process (one with the right client id,
        // or a newer pair) may still use it, and a new token replaces it.
    }

    fn unsaved(&self) -> std::sync::MutexGuard<'_, BTreeSet<UserId>> {
        self.inner.unsaved.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Save one user's token (as it is now, replacing what is stored), and
    /// retry the saves that failed before.
    async fn save(&self, token: UserToken) -> Result<()> {
        let Some(store) = &self.inner.store else { return Ok(()) };
        let user = token.user_id.clone();
        let result = match store.shared() {
            Some(shared) => shared.save_user_versioned(token).await.map(|v| {
                if let Some(slot) = self.slot(&user) {
                    slot.version.store(v, Ordering::Release);
                }
            }),
            None => store.save_user(token).await,
        };
        match &result {
            Ok(()) => {
                self.unsaved().remove(&user);
                self.retry_unsaved(store).await;
            }
            Err(_) => {
                self.unsaved().insert(user);
            }
        }
        result
    }

    /// Save again what the store could not take. A slot whose lock is
    /// taken (a refresh under way, which saves itself) is left for the next
    /// time. With a shared store the save is over the version the pair was
    /// made from, so a newer pair or a removal elsewhere wins.
    async fn retry_unsaved(&self, store: &Arc<dyn TokenStore>) {
        let pending: Vec<UserId> = self.unsaved().iter().cloned().collect();
        for user in pending {
            let Some(slot) = self.slot(&user) else {
                self.unsaved().remove(&user);
                continue;
            };
            let Ok(mut st) = slot.state.try_lock() else { continue };
            if st.invalid.is_some() {
                self.unsaved().remove(&user);
                continue;
            }
            let token = st.token.clone();
            let Some(shared) = store.shared() else {
                if store.save_user(token).await.is_ok() {
                    self.unsaved().remove(&user);
                    tracing::info!(user = %user, "a token the store could not take before is saved now");
                }
                continue;
            };
            match shared.replace_user(token, slot.version.load(Ordering::Acquire)).await {
                Ok(Some(v)) => {
                    slot.version.store(v, Ordering::Release);
                    self.unsaved().remove(&user);
                    tracing::info!(user = %user, version = v, "a token the store could not take before is saved now");
                }
                Ok(None) => {
                    self.unsaved().remove(&user);
                    let _ = self.changed_meanwhile(shared, &slot, &mut st).await;
                }
                Err(e) => {
                    tracing::debug!(user = %user, error = %e, "the token store still does not take a token; tried again later")
                }
            }
        }
    }

    /// Save again what the store could not take, and (shared store) take in
    /// what other processes changed: a token removed there is forgotten
    /// here, one added again or refreshed there replaces the one here.
    async fn sync(&self) {
        let Some(store) = self.inner.store.clone() else { return };
        self.retry_unsaved(&store).await;
        let Some(shared) = store.shared() else { return };
        let stored: BTreeMap<UserId, StoredVersion> = match shared.versions().await {
            Ok(v) => v.into_iter().map(|v| (v.user.clone(), v)).collect(),
            Err(e) => {
                tracing::debug!(error = %e, "could not compare the tokens with the shared store; tried again later");
                return;
            }
        };
        let held: Vec<(UserId, Arc<UserSlot>)> =
            lock_read(&self.inner.users).iter().map(|(u, s)| (u.clone(), Arc::clone(s))).collect();
        for (user, slot) in held {
            let known = slot.version.load(Ordering::Acquire);
            let row = stored.get(&user);
            let changed = row.map_or(known != 0, |r| r.version != known);
            if !changed || self.unsaved().contains(&user) {
                continue;
            }
            // A refresh under way takes in the store's state itself.
            let Ok(mut st) = slot.state.try_lock() else { continue };
            if slot.version.load(Ordering::Acquire) != known {
                continue;
            }
            if row.is_none_or(|r| r.removed) {
                tracing::info!(user = %user, "the token was removed in the shared store; forgotten here");
                self.forget(&user, Some(&slot));
                continue;
            }
            match shared.load_user_versioned(&user).await {
                Ok(Some(v)) if self.wrong_client(&v.token).is_none() => self.adopt(&slot, &mut st, v),
                Ok(Some(_)) => {}
                Ok(None) => self.forget(&user, Some(&slot)),
                Err(e) => {
                    tracing::debug!(user = %user, error = %e, "could not read a changed token; tried again later")
                }
            }
        }
    }

    /// A current app token, fetched or renewed when needed.
    pub async fn app_token(&self) -> Result<AccessToken> {
        let seen = self.inner.app_attempts.load(Ordering::Acquire);
        let mut app = self.inner.app.lock().await;
        if let Some(why) = &app.invalid {
            return Err(Error::TokenInvalid { user: None, message: why.clone() });
        }
        let stale = app.token.as_ref().is_none_or(|a| a.expires_within(REFRESH_MARGIN));
        if stale && self.inner.fetch_app_tokens {
            let still_usable = app.token.as_ref().is_some_and(|a| !a.expires_within(Duration::ZERO));
            let fetched = if self.inner.app_attempts.load(Ordering::Acquire) != seen {
                Err(Error::RefreshFailed { user: None, message: app.last_failure.clone().unwrap_or_default() })
            } else {
                self.fetch_app_locked(&mut app).await
            };
            if let Err(e) = fetched
                && !still_usable
            {
                return Err(e);
            }
        }
        app.token.as_ref().map(|a| a.access_token.clone()).ok_or(Error::NoToken { user: None })
    }

    async fn fetch_app_locked(&self, app: &mut AppState) -> Result<()> {
        self.inner.app_attempts.fetch_add(1, Ordering::AcqRel);
        if let Some(shared) = self.shared() {
            return self.fetch_app_shared(shared, app).await;
        }
        self.fetch_app_here(app).await
    }

    /// Take over an app token another process stored, or take the `app`
    /// lease, fetch one and store it for the others.
    async fn fetch_app_shared(&self, shared: &dyn SharedTokenStore, app: &mut AppState) -> Result<()> {
        let newer = |app: &AppState, stored: &Option<Versioned<AppToken>>| {
            stored.as_ref().is_some_and(|v| {
                app.token.as_ref().is_none_or(|t| t.access_token != v.token.access_token)
                    && !v.token.expires_within(REFRESH_MARGIN)
            })
        };
        let adopt = |app: &mut AppState, stored: Option<Versioned<AppToken>>| {
            *app = AppState { token: stored.map(|v| v.token), invalid: None, last_failure: None };
            let _ = self.inner.events.send(TokenEvent::AppTokenRenewed);
        };
        let deadline = tokio::time::Instant::now() + 2 * shared.lease_ttl() + WAIT_BEYOND_LEASES;
        loop {
            // App tokens are not single-use: with the store away, one is
            // fetched here rather than none at all.
            let stored = match shared.load_app().await {
                Ok(stored) => stored,
                Err(e) => {
                    tracing::warn!(error = %e, "the shared token store failed; fetching an app token here");
                    return self.fetch_app_here(app).await;
                }
            };
            if newer(app, &stored) {
                adopt(app, stored);
                return Ok(());
            }
            match shared.try_lease("app", shared.lease_ttl()).await {
                Ok(true) => break,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "the shared token store failed; fetching an app token here");
                    return self.fetch_app_here(app).await;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                let message = "another process holds the app token lease and stored no new token in time".to_owned();
                app.last_failure = Some(message.clone());
                return Err(Error::RefreshFailed { user: None, message });
            }
            tokio::time::sleep(shared.poll_interval()).await;
        }
        let outcome = match shared.load_app().await {
            Ok(stored) if newer(app, &stored) => {
                adopt(app, stored);
                Ok(())
            }
            Ok(_) => match self.fetch_app_here(app).await {
                Ok(()) => {
                    // App tokens are not single-use: a failed save costs the
                    // others a fetch of their own, nothing more.
                    if let Some(t) = app.token.clone()
                        && let Err(e) = shared.save_app(t).await
                    {
                        tracing::warn!(error = %e, "the app token could not be stored for the other processes");
                    }
                    Ok(())
                }
                Err(e) => Err(e),
            },
            Err(e) => {
                tracing::warn!(error = %e, "the shared token store failed; fetching an app token here");
                self.fetch_app_here(app).await
            }
        };
        self.release(shared, "app").await;
        outcome
    }

    async fn fetch_app_here(&self, app: &mut AppState) -> Result<()> {
        match self.inner.oauth.client_credentials().await {
            Ok(t) => {
                *app = AppState { token: Some(t), invalid: None, last_failure: None };
                let _ = self.inner.events.send(TokenEvent::AppTokenRenewed);
                Ok(())
            }
            Err(e) => {
                let e = match (refusal(&e), &e) {
                    (Refusal::Client, Error::OAuth(OAuthError::Rejected { status, message, .. })) => {
                        Error::ClientRefused {
                            client_id: self.inner.client_id.clone(),
                            status: *status,
                            message: message.clone(),
                        }
                    }
                    _ => e,
                };
                tracing::warn!(error = %e, "fetching an app token failed");
                app.last_failure = Some(e.to_string());
                Err(e)
            }
        }
    }

    /// The app token was refused with a 401: fetch a new one unless another
    /// caller already did (or already tried). An app token that was handed
    /// in and cannot be renewed is marked invalid ([`TokenEvent::AppTokenInvalid`]).
    pub async fn app_token_after_401(&self, rejected: &AccessToken) -> Result<AccessToken> {
        let seen = self.inner.app_attempts.load(Ordering::Acquire);
        let mut app = self.inner.app.lock().await;
        if let Some(why) = &app.invalid {
            return Err(Error::TokenInvalid { user: None, message: why.clone() });
        }
        let same = app.token.as_ref().is_some_and(|a| &a.access_token == rejected);
        if same {
            if self.inner.app_attempts.load(Ordering::Acquire) != seen {
                return Err(Error::RefreshFailed { user: None, message: app.last_failure.clone().unwrap_or_default() });
            }
            if self.inner.fetch_app_tokens {
                self.fetch_app_locked(&mut app).await?;
            }
            // Without a secret there is nothing to fetch: the caller keeps
            // its 401, and validation decides whether the token is dead.
        }
        app.token.as_ref().map(|a| a.access_token.clone()).ok_or(Error::NoToken { user: None })
    }

    /// Validate every token now, as Twitch asks apps to do when they start
    /// and hourly. A user token that `validate` refuses (401) is refreshed;
    /// one whose refresh Twitch refuses too (or that has no refresh token)
    /// is marked invalid and reported as [`TokenEvent::Invalid`] (and left
    /// in the store). A token that `validate` says belongs to another
    /// client id is logged at `error` and never refreshed here (its
    /// refresh answers [`Error::WrongClient`]): at start, this is where a
    /// wrong client id shows. Transport errors and 5xx change nothing:
    /// they are logged, and the token is checked again next time. The app
    /// token is validated too, and renewed (or reported) the same way.
    pub async fn validate_all(&self) {
        if let Some(store) = &self.inner.store {
            self.retry_unsaved(store).await;
        }
        for user in self.user_ids() {
            let Some(slot) = self.slot(&user) else { continue };
            // Validated without the lock, so requests are not held up by it.
            let token = {
                let st = slot.state.lock().await;
                if st.invalid.is_some() {
                    continue;
                }
                st.token.access_token.clone()
            };
            match self.inner.oauth.validate(&token).await {
                Ok(v) => {
                    let mut st = slot.state.lock().await;
                    if st.token.access_token == token && st.token.client_id.as_deref() != Some(v.client_id.as_str()) {
                        st.token.client_id = Some(v.client_id);
                        if let Some(e) = self.wrong_client(&st.token) {
                            tracing::error!(user = %user, error = %e, "a token belongs to another client id; it is not refreshed here");
                        }
                    }
                }
                Err(Error::OAuth(OAuthError::Rejected { status: 401, message, .. })) => {
                    let seen = slot.attempts.load(Ordering::Acquire);
                    let mut st = slot.state.lock().await;
                    // Refreshed (or judged) by someone else meanwhile.
                    if st.invalid.is_some()
                        || st.token.access_token != token
                        || slot.attempts.load(Ordering::Acquire) != seen
                    {
                        continue;
                    }
                    if st.token.refresh_token.is_some() {
                        // Refreshed, marked invalid, or kept: refresh_locked decides and logs.
                        let _ = self.refresh_locked(&slot, &mut st).await;
                    } else {
                        self.mark_invalid(&slot, &mut st, format!("oauth2/validate answered 401: {message}"));
                    }
                }
                Err(e) => {
                    tracing::warn!(user = %user, error = %e, "could not validate a token; it is kept and checked again next time");
                }
            }
        }
        self.validate_app().await;
    }

    async fn validate_app(&self) {
        let token = {
            let app = self.inner.app.lock().await;
            match (&app.token, &app.invalid) {
                (Some(t), None) => t.access_token.clone(),
                _ => return,
            }
        };
        match self.inner.oauth.validate(&token).await {
            Ok(_) => {}
            Err(Error::OAuth(OAuthError::Rejected { status: 401, message, .. })) => {
                let mut app = self.inner.app.lock().await;
                if app.token.as_ref().is_none_or(|t| t.access_token != token) || app.invalid.is_some() {
                    return;
                }
                if self.inner.fetch_app_tokens {
                    let _ = self.fetch_app_locked(&mut app).await;
                } else {
                    tracing::warn!(reason = %message, "the app token is no longer valid and there is no client secret to fetch another");
                    app.invalid = Some(format!("oauth2/validate answered 401: {message}"));
                    let _ = self.inner.events.send(TokenEvent::AppTokenInvalid);
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not validate the app token; checked again next time"),
        }
    }

    /// With a shared store, is it this process's turn to validate? The
    /// `validation` lease is taken for the interval and kept: whichever
    /// process ticks first after it expired validates, the others skip.
    /// A store that fails is no reason to skip validation.
    async fn validation_due(&self, every: Duration) -> bool {
        let Some(shared) = self.shared() else { return true };
        match shared.try_lease("validation", every).await {
            Ok(true) => true,
            Ok(false) => {
                tracing::debug!("another process validated the tokens within the interval; skipped here");
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "the token store failed to hand out the validation lease; validating here");
                true
            }
        }
    }

    /// Run [`TokenManager::validate_all`] now and then every `every` (Twitch
    /// asks for hourly) until the returned handle is aborted or the runtime
    /// stops. With a shared store ([`TokenStore::shared`]) it runs in one
    /// process per interval, whichever takes the store's `validation` lease.
    pub fn spawn_validation(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let m = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                // The first tick is at once.
                tick.tick().await;
                if m.validation_due(every).await {
                    m.validate_all().await;
                }
            }
        })
    }
}

impl TokenSource for TokenManager {
    fn default_user(&self) -> Option<UserId> {
        TokenManager::default_user(self)
    }

    fn scopes<'a>(&'a self, user: &'a UserId) -> BoxFuture<'a, Option<Vec<Scope>>> {
        Box::pin(TokenManager::scopes(self, user))
    }

    fn user_token<'a>(&'a self, user: &'a UserId) -> BoxFuture<'a, Result<AccessToken>> {
        Box::pin(TokenManager::user_token(self, user))
    }

    fn user_token_after_401<'a>(
        &'a self,
        user: &'a UserId,
        rejected: &'a AccessToken,
    ) -> BoxFuture<'a, Result<AccessToken>> {
        Box::pin(TokenManager::user_token_after_401(self, user, rejected))
    }

    fn has_app_token(&self) -> bool {
        TokenManager::has_app_token(self)
    }

    fn app_token(&self) -> BoxFuture<'_, Result<AccessToken>> {
        Box::pin(TokenManager::app_token(self))
    }

    fn app_token_after_401<'a>(&'a self, rejected: &'a AccessToken) -> BoxFuture<'a, Result<AccessToken>> {
        Box::pin(TokenManager::app_token_after_401(self, rejected))
    }

    fn events(&self) -> Option<TokenEvents> {
        Some(self.subscribe())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl<C: From<Client>> ClientBuilder<C> {
    /// Take tokens from a [`TokenManager`]: user tokens (the default user,
    /// or the one a request names with `as_user`) and the app token,
    /// refreshed before expiry and once after a 401.
    pub fn token_manager(self, manager: TokenManager) -> Self {
        self.token_source(manager)
    }
}

impl Client {
    /// The token manager, if the client takes its tokens from one.
    pub fn token_manager(&self) -> Option<&TokenManager> {
        self.token_source()?.as_any().downcast_ref()
    }
}
