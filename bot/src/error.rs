//! What can go wrong: starting the bot ([`Error`]) and while it runs
//! ([`BotError`], for the error hook).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use twitch::UserId;
use twitch::ids::SubscriptionId;

use crate::args::ArgError;
use crate::command::BoxError;
use crate::message::ChatMessage;
use crate::send::DropReason;

/// Starting, joining or leaving failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The session or shard pool could not connect.
    Connect(twitch::Error),
    /// A subscription for a channel could not be made (those that could
    /// were kept, so leaving the channel deletes them).
    Subscribe {
        /// The channel.
        channel: UserId,
        /// The subscription type.
        subscription_type: &'static str,
        /// Why.
        source: twitch::Error,
    },
    /// A channel's subscription could not be deleted.
    Unsubscribe {
        /// The channel.
        channel: UserId,
        /// The subscription.
        subscription_id: SubscriptionId,
        /// Why.
        source: twitch::Error,
    },
    /// The setup hook failed.
    Setup(BoxError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Connect(e) => write!(f, "cannot connect: {e}"),
            Error::Subscribe { channel, subscription_type, source } => {
                write!(f, "cannot subscribe to {subscription_type} in channel {channel}: {source}")
            }
            Error::Unsubscribe { channel, subscription_id, source } => {
                write!(f, "cannot delete subscription {subscription_id} of channel {channel}: {source}")
            }
            Error::Setup(e) => write!(f, "the setup hook failed: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Connect(e) | Error::Subscribe { source: e, .. } | Error::Unsubscribe { source: e, .. } => Some(e),
            Error::Setup(e) => Some(e.as_ref()),
        }
    }
}

/// What went wrong while the bot ran.
#[derive(Debug)]
#[non_exhaustive]
pub enum Failure {
    /// A command's arguments did not parse.
    BadArguments {
        /// The command's usage line.
        usage: String,
        /// Which argument and why.
        error: ArgError,
    },
    /// A check refused the chatter.
    CheckFailed {
        /// The check's name.
        check: String,
    },
    /// The command is cooling down.
    CoolingDown {
        /// How long it still rests.
        remaining: Duration,
    },
    /// A command or listener returned an error.
    Handler {
        /// `command dice`, `listener for ...`.
        what: String,
        /// The error.
        error: BoxError,
    },
    /// A command or listener panicked; the bot goes on.
    Panicked {
        /// `command dice`, `listener for ...`.
        what: String,
        /// The panic's message.
        panic: String,
    },
    /// Twitch dropped a message the bot sent.
    Dropped {
        /// The channel.
        channel: UserId,
        /// The text.
        text: String,
        /// Why.
        reason: DropReason,
    },
    /// The session or pool reported trouble (a revocation, a refused
    /// token, a frame that could not be read).
    Session(String),
}

/// A failure, with the command and the message it concerns, if any.
#[derive(Debug)]
#[non_exhaustive]
pub struct BotError {
    /// What went wrong.
    pub failure: Failure,
    /// The command concerned.
    pub command: Option<String>,
    /// The chat message concerned.
    pub message: Option<Arc<ChatMessage>>,
}

impl BotError {
    pub(crate) fn of(failure: Failure) -> Self {
        Self { failure, command: None, message: None }
    }
}

impl fmt::Display for BotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(c) = &self.command {
            write!(f, "!{c}: ")?;
        }
        match &self.failure {
            Failure::BadArguments { usage, error } => write!(f, "{error} (usage: {usage})")?,
            Failure::CheckFailed { check } => write!(f, "refused by the {check} check")?,
            Failure::CoolingDown { remaining } => write!(f, "cooling down for {remaining:?}")?,
            Failure::Handler { what, error } => write!(f, "{what} failed: {error}")?,
            Failure::Panicked { what, panic } => write!(f, "{what} panicked: {panic}")?,
            Failure::Dropped { channel, reason, .. } => write!(f, "message to channel {channel} {reason}")?,
            Failure::Session(what) => f.write_str(what)?,
        }
        if let Some(m) = &self.message {
            write!(f, " (message {} from {})", m.message_id, m.chatter_user_login)?;
        }
        Ok(())
    }
}

impl std::error::Error for BotError {}
