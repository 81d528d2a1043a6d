//! Chat bots on the [`twitch`] crate: typed commands with prefixes and
//! aliases, checks from badges, cooldowns, a help listing, replies threaded
//! to the message, a send queue within Twitch's chat limits, listeners for
//! any EventSub type, `wait_for`, handlers isolated from each other, channels
//! joined and left at runtime, over a WebSocket session or a conduit.
//!
//! ```no_run
//! use twitch_bot::{Bot, Command, Context};
//!
//! async fn hello(ctx: Context) -> Result<(), twitch_bot::SendError> {
//!     ctx.reply(format!("Hello, {}!", ctx.chatter())).await.map(|_| ())
//! }
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = twitch::Client::builder().from_env()?.build()?;
//! Bot::builder(client, "BOT_USER_ID")
//!     .channel("BROADCASTER_ID")
//!     .command(Command::new("hello", hello))
//!     .run()
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! Built only on the public API of `twitch`. The [`guide`] explains the
//! crate topic by topic, with examples that run against `twitch-mock`.

/// The guide: commands, sending, pinning, events, channels and
/// transports, lifecycle, the chat message, testing. Documentation only.
#[cfg(any(doc, doctest))]
#[doc = include_str!("../guide.md")]
pub mod guide {}

mod args;
mod bot;
mod command;
mod context;
mod error;
mod message;
mod send;

pub use args::{Arg, ArgError, Args, Rest};
pub use bot::{Bot, BotHandle, NOTICE_INTERVAL, RunningBot, SharedChat};
pub use command::{BoxError, Check, Command, Cooldown, CooldownScope, Group, Handler, IntoOutcome};
pub use context::{Context, EventContext};
pub use error::{BotError, Error, Failure};
pub use message::{ChatMessage, EmoteFormat, EmoteScale, EmoteTheme, MessageExt, emote_url};
pub use send::{DropKind, DropReason, SendError, SendLimits, Sent};
pub use twitch::shared::ChatMessageFragmentKind;
