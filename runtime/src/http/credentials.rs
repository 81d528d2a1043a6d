//! Where the HTTP client takes tokens from when they can change: a
//! [`TokenSource`]. The token manager of the identity layer implements it;
//! so can an application's own (tokens held in another service, say).

use std::any::Any;

use crate::base::error::Result;
use crate::base::scope::Scope;
use crate::base::secret::AccessToken;
use crate::base::types::{BoxFuture, UserId};

/// Something the application may want to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenEvent {
    /// A user's token was refreshed (persist it if you store tokens yourself).
    Refreshed(UserId),
    /// A user's token was added or replaced.
    Added(UserId),
    /// A new app token was fetched, or one was handed in.
    AppTokenRenewed,
    /// A user's token is no longer valid and could not be refreshed: the
    /// user must authorize again. Sent once per token.
    Invalid(UserId),
    /// The app token was refused and cannot be renewed (no client secret to
    /// fetch another): hand in a new one.
    AppTokenInvalid,
    /// A user's token was removed: here, or (with a shared store) by
    /// another process.
    Removed(UserId),
}

/// The receiving end of a source's [`TokenEvent`]s.
pub type TokenEvents = tokio::sync::broadcast::Receiver<TokenEvent>;

/// Tokens that change over time, for the client to send: the users' and the
/// app's, refreshed by the source as it sees fit.
pub trait TokenSource: Send + Sync + 'static {
    /// The user requests go out as unless they name another.
    fn default_user(&self) -> Option<UserId>;

    /// The scopes of a user's token, if the source holds one (the client
    /// checks an endpoint's scopes against them before sending).
    fn scopes<'a>(&'a self, user: &'a UserId) -> BoxFuture<'a, Option<Vec<Scope>>>;

    /// A current token for this user.
    fn user_token<'a>(&'a self, user: &'a UserId) -> BoxFuture<'a, Result<AccessToken>>;

    /// `rejected` was refused with a 401: the token to try once more (the
    /// same one when nothing better is known: the client then returns the 401).
    fn user_token_after_401<'a>(
        &'a self,
        user: &'a UserId,
        rejected: &'a AccessToken,
    ) -> BoxFuture<'a, Result<AccessToken>>;

    /// Is there an app token, or a way to get one?
    fn has_app_token(&self) -> bool;

    /// A current app token.
    fn app_token(&self) -> BoxFuture<'_, Result<AccessToken>>;

    /// The app token `rejected` was refused with a 401: the one to try once
    /// more (the same one when nothing better is known).
    fn app_token_after_401<'a>(&'a self, rejected: &'a AccessToken) -> BoxFuture<'a, Result<AccessToken>>;

    /// Events about the tokens, for EventSub sessions that must stop using
    /// a token refused for good.
    fn events(&self) -> Option<TokenEvents> {
        None
    }

    /// The source as `Any`, so its concrete type can be recovered.
    fn as_any(&self) -> &dyn Any;
}
