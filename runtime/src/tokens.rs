//! The token manager: the app token and several users' tokens, refreshed
//! before they expire and once after a 401, one refresh at a time per token.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, broadcast};

use crate::auth::{AppToken, OAuth, UserToken};
use crate::error::{Error, Result};
use crate::secret::AccessToken;
use crate::types::UserId;

/// How long before expiry a token is refreshed.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(120);

/// Something the application may want to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenEvent {
    /// A user's token was refreshed (persist it if you store tokens yourself).
    Refreshed(UserId),
    /// A new app token was fetched.
    AppTokenRenewed,
    /// A user's token is no longer valid and could not be refreshed: the
    /// user must authorize again.
    Invalid(UserId),
}

/// Where tokens are kept between runs.
pub trait TokenStore: Send + Sync {
    /// Every stored user token.
    fn load(&self) -> Result<Vec<UserToken>>;
    /// Replace the stored tokens.
    fn save(&self, tokens: &[UserToken]) -> Result<()>;
}

/// A JSON file, written atomically (temporary file, then rename) and
/// readable by its owner only.
#[derive(Debug, Clone)]
pub struct JsonFileStore {
    path: PathBuf,
}

#[derive(Serialize, Deserialize, Default)]
struct StoreFile {
    #[serde(default)]
    users: Vec<UserToken>,
}

impl JsonFileStore {
    /// A store at this path (created on first save).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

fn io_error(path: &std::path::Path, e: impl std::fmt::Display) -> Error {
    Error::Config(format!("token store {}: {e}", path.display()))
}

impl TokenStore for JsonFileStore {
    fn load(&self) -> Result<Vec<UserToken>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => {
                let f: StoreFile = serde_json::from_slice(&bytes).map_err(|e| io_error(&self.path, e))?;
                Ok(f.users)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(io_error(&self.path, e)),
        }
    }

    fn save(&self, tokens: &[UserToken]) -> Result<()> {
        use std::io::Write;
        let body =
            serde_json::to_vec_pretty(&StoreFile { users: tokens.to_vec() }).map_err(|e| io_error(&self.path, e))?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| io_error(&self.path, e))?;
        }
        let tmp = self.path.with_extension("tmp");
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(|e| io_error(&tmp, e))?;
        f.write_all(&body).and_then(|_| f.sync_all()).map_err(|e| io_error(&tmp, e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| io_error(&self.path, e))
    }
}

struct UserSlot {
    /// Held while refreshing: concurrent callers wait and then see the new token.
    token: Mutex<UserToken>,
}

struct Inner {
    oauth: OAuth,
    app: Mutex<Option<AppToken>>,
    users: RwLock<BTreeMap<UserId, Arc<UserSlot>>>,
    default_user: RwLock<Option<UserId>>,
    store: Option<Arc<dyn TokenStore>>,
    /// The latest token of every user, for saving without taking slot locks.
    snapshot: std::sync::Mutex<BTreeMap<UserId, UserToken>>,
    events: broadcast::Sender<TokenEvent>,
    /// App tokens come from client credentials when the OAuth client has a secret.
    fetch_app_tokens: bool,
    /// An app token was handed in with `set_app_token`.
    app_given: std::sync::atomic::AtomicBool,
}

/// Holds and refreshes tokens; give it to
/// [`ClientBuilder::token_manager`](crate::ClientBuilder::token_manager).
/// Cheap to clone; clones share state.
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let users: Vec<UserId> = self.inner.users.read().map(|u| u.keys().cloned().collect()).unwrap_or_default();
        f.debug_struct("TokenManager").field("oauth", &self.inner.oauth).field("users", &users).finish()
    }
}

impl TokenManager {
    /// A manager using this OAuth client. With a client secret it fetches
    /// and renews the app token itself (client credentials).
    pub fn new(oauth: OAuth) -> Self {
        Self::build(oauth, None)
    }

    /// Like [`TokenManager::new`], loading users' tokens from `store` and
    /// saving them there whenever they change.
    pub fn with_store(oauth: OAuth, store: impl TokenStore + 'static) -> Result<Self> {
        let store: Arc<dyn TokenStore> = Arc::new(store);
        let loaded = store.load()?;
        let m = Self::build(oauth, Some(store));
        for t in loaded {
            m.insert(t);
        }
        Ok(m)
    }

    fn build(oauth: OAuth, store: Option<Arc<dyn TokenStore>>) -> Self {
        let fetch_app_tokens = oauth.has_secret();
        let (events, _) = broadcast::channel(64);
        Self {
            inner: Arc::new(Inner {
                oauth,
                app: Mutex::new(None),
                users: RwLock::new(BTreeMap::new()),
                default_user: RwLock::new(None),
                store,
                snapshot: std::sync::Mutex::new(BTreeMap::new()),
                events,
                fetch_app_tokens,
                app_given: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    fn insert(&self, token: UserToken) {
        let id = token.user_id.clone();
        self.remember(&token);
        if let Ok(mut users) = self.inner.users.write() {
            users.insert(id.clone(), Arc::new(UserSlot { token: Mutex::new(token) }));
        }
        if let Ok(mut d) = self.inner.default_user.write()
            && d.is_none()
        {
            *d = Some(id);
        }
    }

    /// Add (or replace) a user's token; the first user added becomes the default.
    pub async fn add_user(&self, token: UserToken) -> Result<()> {
        self.insert(token);
        self.persist().await
    }

    /// Use an app token you already have.
    pub async fn set_app_token(&self, token: AppToken) {
        *self.inner.app.lock().await = Some(token);
        self.inner.app_given.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Make this user the one requests use unless they name another.
    pub fn set_default_user(&self, user: impl Into<UserId>) {
        if let Ok(mut d) = self.inner.default_user.write() {
            *d = Some(user.into());
        }
    }

    /// The default user, if any.
    pub fn default_user(&self) -> Option<UserId> {
        self.inner.default_user.read().ok().and_then(|d| d.clone())
    }

    /// The users whose tokens are held.
    pub fn users(&self) -> Vec<UserId> {
        self.inner.users.read().map(|u| u.keys().cloned().collect()).unwrap_or_default()
    }

    /// Is there an app token, or a way to get one?
    pub fn has_app_token(&self) -> bool {
        self.inner.fetch_app_tokens || self.inner.app_given.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Events: refreshed and invalid tokens.
    pub fn subscribe(&self) -> broadcast::Receiver<TokenEvent> {
        self.inner.events.subscribe()
    }

    /// The scopes of a user's token, if held.
    pub async fn scopes(&self, user: &UserId) -> Option<Vec<String>> {
        let slot = self.slot(user)?;
        let t = slot.token.lock().await;
        Some(t.scopes.clone())
    }

    fn slot(&self, user: &UserId) -> Option<Arc<UserSlot>> {
        self.inner.users.read().ok().and_then(|u| u.get(user).cloned())
    }

    /// A current access token for this user, refreshed first if it expires soon.
    pub async fn user_token(&self, user: &UserId) -> Result<AccessToken> {
        let slot = self.slot(user).ok_or_else(|| Error::Config(format!("no token for user {user}")))?;
        let mut t = slot.token.lock().await;
        if t.expires_within(REFRESH_MARGIN) && t.refresh_token.is_some() {
            self.refresh_locked(&mut t).await?;
        }
        Ok(t.access_token.clone())
    }

    /// The token `rejected` was refused with a 401: refresh it, unless
    /// another caller already did. Returns the token to retry with.
    pub async fn user_token_after_401(&self, user: &UserId, rejected: &AccessToken) -> Result<AccessToken> {
        let slot = self.slot(user).ok_or_else(|| Error::Config(format!("no token for user {user}")))?;
        let mut t = slot.token.lock().await;
        if &t.access_token == rejected {
            self.refresh_locked(&mut t).await?;
        }
        Ok(t.access_token.clone())
    }

    fn remember(&self, token: &UserToken) {
        if let Ok(mut snap) = self.inner.snapshot.lock() {
            snap.insert(token.user_id.clone(), token.clone());
        }
    }

    async fn refresh_locked(&self, t: &mut UserToken) -> Result<()> {
        match self.inner.oauth.refresh(t).await {
            Ok(fresh) => {
                *t = fresh;
                self.remember(t);
                let _ = self.inner.events.send(TokenEvent::Refreshed(t.user_id.clone()));
                self.persist().await?;
                tracing::debug!(user = %t.user_id, "user token refreshed");
                Ok(())
            }
            Err(e) => {
                if matches!(e, Error::OAuth(_)) {
                    let _ = self.inner.events.send(TokenEvent::Invalid(t.user_id.clone()));
                }
                Err(e)
            }
        }
    }

    /// A current app token, fetched or renewed when needed.
    pub async fn app_token(&self) -> Result<AccessToken> {
        let mut app = self.inner.app.lock().await;
        let stale = app.as_ref().is_none_or(|a| a.expires_within(REFRESH_MARGIN));
        if stale && self.inner.fetch_app_tokens {
            *app = Some(self.inner.oauth.client_credentials().await?);
            let _ = self.inner.events.send(TokenEvent::AppTokenRenewed);
        }
        app.as_ref().map(|a| a.access_token.clone()).ok_or_else(|| Error::Config("no app token".into()))
    }

    /// The app token was refused with a 401: fetch a new one unless another
    /// caller already did.
    pub async fn app_token_after_401(&self, rejected: &AccessToken) -> Result<AccessToken> {
        let mut app = self.inner.app.lock().await;
        if app.as_ref().is_some_and(|a| &a.access_token == rejected) && self.inner.fetch_app_tokens {
            *app = Some(self.inner.oauth.client_credentials().await?);
            let _ = self.inner.events.send(TokenEvent::AppTokenRenewed);
        }
        app.as_ref().map(|a| a.access_token.clone()).ok_or_else(|| Error::Config("no app token".into()))
    }

    /// Validate every user token now, as Twitch asks apps to do hourly. A
    /// token Twitch refuses is refreshed; one that cannot be is dropped and
    /// reported as [`TokenEvent::Invalid`].
    pub async fn validate_all(&self) {
        for user in self.users() {
            let Some(slot) = self.slot(&user) else { continue };
            let mut t = slot.token.lock().await;
            if self.inner.oauth.validate(&t.access_token).await.is_ok() {
                continue;
            }
            if t.refresh_token.is_some() && self.refresh_locked(&mut t).await.is_ok() {
                continue;
            }
            drop(t);
            if let Ok(mut users) = self.inner.users.write() {
                users.remove(&user);
            }
            if let Ok(mut snap) = self.inner.snapshot.lock() {
                snap.remove(&user);
            }
            let _ = self.inner.events.send(TokenEvent::Invalid(user.clone()));
            let _ = self.persist().await;
        }
    }

    /// Run [`TokenManager::validate_all`] every `every` (Twitch asks for hourly)
    /// until the returned handle is aborted or the runtime stops.
    pub fn spawn_validation(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let m = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                m.validate_all().await;
            }
        })
    }

    async fn persist(&self) -> Result<()> {
        let Some(store) = &self.inner.store else { return Ok(()) };
        let all: Vec<UserToken> = self.inner.snapshot.lock().map(|s| s.values().cloned().collect()).unwrap_or_default();
        store.save(&all)
    }
}
