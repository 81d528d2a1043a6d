//! A shared token store on an SQLite file with faults to inject: saves that
//! fail (a database failing over) or conditional saves that take a while
//! (a database under load). Short poll and sync intervals, so the tests
//! that use it run in milliseconds.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use twitch::tokens::{SharedTokenStore, SqliteStore, StoredVersion, Versioned};
use twitch::{AppToken, BoxFuture, Error, Result, TokenStore, UserId, UserToken};

#[derive(Clone)]
pub struct FaultyStore {
    pub store: SqliteStore,
    /// While set, every save of a user's token fails.
    pub failing: Arc<AtomicBool>,
    /// How long each conditional save (a refreshed pair) takes.
    pub save_delay: Duration,
}

impl FaultyStore {
    pub fn new(store: SqliteStore) -> Self {
        Self { store, failing: Arc::default(), save_delay: Duration::ZERO }
    }

    pub fn with_save_delay(self, save_delay: Duration) -> Self {
        Self { save_delay, ..self }
    }

    fn check(&self) -> Result<()> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(Error::TokenStore { location: "faulty".into(), source: "the database is away".into() });
        }
        Ok(())
    }
}

impl TokenStore for FaultyStore {
    fn load(&self) -> BoxFuture<'_, Result<Vec<UserToken>>> {
        self.store.load()
    }
    fn save_user(&self, token: UserToken) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            self.check()?;
            self.store.save_user(token).await
        })
    }
    fn remove_user(&self, user: UserId) -> BoxFuture<'_, Result<()>> {
        self.store.remove_user(user)
    }
    fn bind_client<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<()>> {
        self.store.bind_client(client_id)
    }
    fn shared(&self) -> Option<&dyn SharedTokenStore> {
        Some(self)
    }
}

impl SharedTokenStore for FaultyStore {
    fn load_user_versioned<'a>(&'a self, user: &'a UserId) -> BoxFuture<'a, Result<Option<Versioned<UserToken>>>> {
        self.store.load_user_versioned(user)
    }
    fn save_user_versioned(&self, token: UserToken) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move {
            self.check()?;
            self.store.save_user_versioned(token).await
        })
    }
    fn replace_user(&self, token: UserToken, expected: u64) -> BoxFuture<'_, Result<Option<u64>>> {
        Box::pin(async move {
            tokio::time::sleep(self.save_delay).await;
            self.check()?;
            self.store.replace_user(token, expected).await
        })
    }
    fn versions(&self) -> BoxFuture<'_, Result<Vec<StoredVersion>>> {
        self.store.versions()
    }
    fn load_app(&self) -> BoxFuture<'_, Result<Option<Versioned<AppToken>>>> {
        self.store.load_app()
    }
    fn save_app(&self, token: AppToken) -> BoxFuture<'_, Result<u64>> {
        self.store.save_app(token)
    }
    fn try_lease<'a>(&'a self, name: &'a str, ttl: Duration) -> BoxFuture<'a, Result<bool>> {
        self.store.try_lease(name, ttl)
    }
    fn release<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<()>> {
        self.store.release(name)
    }
    fn lease_ttl(&self) -> Duration {
        self.store.lease_ttl()
    }
    fn poll_interval(&self) -> Duration {
        Duration::from_millis(10)
    }
    fn sync_interval(&self) -> Duration {
        Duration::from_millis(50)
    }
}
