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
}
