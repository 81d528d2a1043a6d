//! What a handler gets: the message, the bot, its state.

use std::sync::Arc;
use std::time::Duration;

use twitch::eventsub::channel::ChannelChatMessageV1;
use twitch::{Client, FromEvent, UserId, UserLogin};

use crate::bot::BotHandle;
use crate::message::ChatMessage;
use crate::send::{SendError, Sent};

/// A command's invocation: the message that triggered it, the bot, and the
/// state of the command's group (`()` for plain commands).
pub struct Context<S = ()> {
    pub(crate) bot: BotHandle,
    pub(crate) state: S,
    pub(crate) message: Arc<ChatMessage>,
    pub(crate) command: Arc<str>,
}

impl<S: Clone> Clone for Context<S> {
    fn clone(&self) -> Self {
        Self {
            bot: self.bot.clone(),
            state: self.state.clone(),
            message: self.message.clone(),
            command: self.command.clone(),
        }
    }
}

impl<S> std::fmt::Debug for Context<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("command", &self.command)
            .field("channel", &self.message.broadcaster_user_login)
            .field("chatter", &self.message.chatter_user_login)
            .finish_non_exhaustive()
    }
}

impl<S> Context<S> {
    /// The state of the command's group.
    pub fn state(&self) -> &S {
        &self.state
    }

    /// The message that invoked the command.
    pub fn message(&self) -> &ChatMessage {
        &self.message
    }

    /// The command's name (the registered one, also when an alias was typed).
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The channel (its broadcaster's id).
    pub fn channel(&self) -> &UserId {
        &self.message.broadcaster_user_id
    }

    /// Who sent the message.
    pub fn chatter(&self) -> &UserLogin {
        &self.message.chatter_user_login
    }

    /// The bot: send elsewhere, join and leave, wait for events.
    pub fn bot(&self) -> &BotHandle {
        &self.bot
    }

    /// The Helix client the bot uses.
    pub fn client(&self) -> &Client {
        self.bot.client()
    }

    /// Answer in the message's reply thread.
    pub async fn reply(&self, text: impl Into<String>) -> Result<Sent, SendError> {
        self.bot.send(self.channel().clone(), text.into(), Some(self.message.message_id.clone())).await
    }

    /// Say something in the message's channel.
    pub async fn say(&self, text: impl Into<String>) -> Result<Sent, SendError> {
        self.bot.say(self.channel().clone(), text).await
    }

    /// Say something in the message's channel and pin it for 20 minutes
    /// (see [`BotHandle::say_pinned`]).
    pub async fn say_pinned(&self, text: impl Into<String>) -> Result<Sent, SendError> {
        self.bot.say_pinned(self.channel().clone(), text).await
    }

    /// Pin a message of this channel (see [`BotHandle::pin`]): the bot's
    /// answer (`Sent::message_id`), or the invoking message's id.
    pub async fn pin(
        &self,
        message: impl Into<twitch::ids::MessageId>,
        duration: Option<Duration>,
    ) -> twitch::Result<()> {
        self.bot.pin(self.channel().clone(), message, duration).await
    }

    /// Unpin this channel's pinned message.
    pub async fn unpin(&self, message: impl Into<twitch::ids::MessageId>) -> twitch::Result<()> {
        self.bot.unpin(self.channel().clone(), message).await
    }

    /// The next event of type `T` for which `pred` holds, within `timeout`;
    /// `None` when none came. Events count from this call on, before the
    /// future is first polled: start waiting, then say what is answered.
    pub fn wait_for<T, P>(
        &self,
        pred: P,
        timeout: Duration,
    ) -> impl Future<Output = Option<T::Event>> + Send + use<T, P, S>
    where
        T: FromEvent<twitch::Event>,
        T::Event: Clone + Send + 'static,
        P: Fn(&T::Event) -> bool + Send + 'static,
    {
        self.bot.wait_for::<T, _>(pred, timeout)
    }

    /// The chatter's next message in this channel, within `timeout`,
    /// counting from this call on (as [`Context::wait_for`]).
    pub fn next_message_from_chatter(
        &self,
        timeout: Duration,
    ) -> impl Future<Output = Option<ChatMessage>> + Send + use<S> {
        let (channel, chatter) = (self.channel().clone(), self.message.chatter_user_id.clone());
        self.wait_for::<ChannelChatMessageV1, _>(
            move |m| m.broadcaster_user_id == channel && m.chatter_user_id == chatter,
            timeout,
        )
    }
}

/// What a listener gets besides its event: the bot and its state.
pub struct EventContext<S = ()> {
    pub(crate) bot: BotHandle,
    pub(crate) state: S,
}

impl<S> EventContext<S> {
    /// The bot's state.
    pub fn state(&self) -> &S {
        &self.state
    }

    /// The bot.
    pub fn bot(&self) -> &BotHandle {
        &self.bot
    }
}
