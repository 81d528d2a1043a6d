//! What a token store is: the trait the [`TokenManager`](super::tokens::TokenManager)
//! keeps tokens through, and what a store shared by several processes adds
//! (versions and leases). Below both the manager and the stores.

use std::time::Duration;

use crate::base::error::Result;
use crate::base::types::{BoxFuture, UserId};
use crate::identity::oauth::{AppToken, UserToken};

/// Where tokens are kept between runs. Every method is async, so a store
/// may do I/O without blocking the executor (the file store moves its
/// writes to a blocking thread).
pub trait TokenStore: Send + Sync + 'static {
    /// Every stored user token.
    fn load(&self) -> BoxFuture<'_, Result<Vec<UserToken>>>;
    /// Store this user's token, replacing the one stored for them.
    fn save_user(&self, token: UserToken) -> BoxFuture<'_, Result<()>>;
    /// Forget this user's token.
    fn remove_user(&self, user: UserId) -> BoxFuture<'_, Result<()>>;

    /// From now on keep only the tokens of the application with this
    /// client id: the [`TokenManager`](super::tokens::TokenManager) calls
    /// it once, before anything else, with its OAuth client's id. A store
    /// that several applications may share keeps their rows apart, so that
    /// none adopts or overwrites another's tokens. The default does
    /// nothing (a store of one application).
    fn bind_client<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<()>> {
        let _ = client_id;
        Box::pin(async { Ok(()) })
    }

    /// A store that several processes share answers with itself here, and
    /// the [`TokenManager`](super::tokens::TokenManager) then coordinates
    /// through it: one refresh per token across all processes, one
    /// validation per interval. A store one process owns (the default,
    /// like [`JsonFileStore`](super::tokens::JsonFileStore)) answers `None`.
    fn shared(&self) -> Option<&dyn SharedTokenStore> {
        None
    }
}

/// A token as a shared store holds it, with its version: 1 when first
/// saved, one more with every save after that.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Versioned<T> {
    /// The token.
    pub token: T,
    /// Its version.
    pub version: u64,
}

impl<T> Versioned<T> {
    /// A token at this version.
    pub fn new(token: T, version: u64) -> Self {
        Self { token, version }
    }
}

/// A user's row in a shared store: its version, and whether the token was
/// removed (a removal is a version too, so that a token added again later
/// never comes back at a version another process already holds).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredVersion {
    /// The user.
    pub user: UserId,
    /// The row's version.
    pub version: u64,
    /// The token was removed ([`TokenStore::remove_user`]).
    pub removed: bool,
}

impl StoredVersion {
    /// A row at this version.
    pub fn new(user: UserId, version: u64, removed: bool) -> Self {
        Self { user, version, removed }
    }
}

/// What a store shared by several processes adds to [`TokenStore`]:
/// versioned tokens, the app token, and leases.
///
/// A lease is a named lock with an expiry, held by one store instance (its
/// holder id) at a time. The [`TokenManager`](super::tokens::TokenManager)
/// takes `user:<id>` (or `app`) before it refreshes a token, stores the
/// new token before it releases the lease, and the other processes wait
/// for the new version instead of refreshing themselves. A holder that dies blocks the others until its
/// lease expires. `validation` is taken for the validation interval and
/// not released, so the hourly validation runs in one process only.
pub trait SharedTokenStore: Send + Sync {
    /// One user's token and its version, if stored.
    fn load_user_versioned<'a>(&'a self, user: &'a UserId) -> BoxFuture<'a, Result<Option<Versioned<UserToken>>>>;
    /// Store this user's token; answers its new version.
    fn save_user_versioned(&self, token: UserToken) -> BoxFuture<'_, Result<u64>>;
    /// Store this user's token only if their row is still at `expected`
    /// (0: there is no row yet) and holds a token: answers the new version,
    /// or `None` when another process changed or removed it meanwhile. A
    /// refreshed pair is saved this way, so a save that comes late (a
    /// slow database, a lease that ran out) never overwrites a newer pair
    /// or brings back a removed user.
    fn replace_user(&self, token: UserToken, expected: u64) -> BoxFuture<'_, Result<Option<u64>>>;
    /// Every user row of this application, with its version; removed
    /// tokens included (as removed). Each process compares these with what
    /// it holds every [`sync_interval`](Self::sync_interval).
    fn versions(&self) -> BoxFuture<'_, Result<Vec<StoredVersion>>>;
    /// The app token and its version, if stored.
    fn load_app(&self) -> BoxFuture<'_, Result<Option<Versioned<AppToken>>>>;
    /// Store the app token; answers its new version.
    fn save_app(&self, token: AppToken) -> BoxFuture<'_, Result<u64>>;
    /// Take the lease `name` for `ttl`, or renew it if this store holds it
    /// already. `false`: another holder has it and it has not expired.
    fn try_lease<'a>(&'a self, name: &'a str, ttl: Duration) -> BoxFuture<'a, Result<bool>>;
    /// Give the lease `name` back, if this store holds it.
    fn release<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<()>>;
    /// How long a refresh lease lasts: longer than a refresh can take (the
    /// OAuth client's timeout), as short as a dead holder may block others.
    fn lease_ttl(&self) -> Duration;
    /// How often a process waiting for another's refresh looks again.
    fn poll_interval(&self) -> Duration {
        Duration::from_millis(100)
    }
    /// How often each process compares its tokens with the store's (see
    /// [`versions`](Self::versions)): the longest it takes a removal, a
    /// token added again or a refresh elsewhere to reach every process,
    /// and the longest a pair the store could not take waits for its next
    /// save.
    fn sync_interval(&self) -> Duration {
        Duration::from_secs(5)
    }
}
