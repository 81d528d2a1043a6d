//! Commands, their handlers, checks, cooldowns and groups.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::args::{Arg, ArgError, Args};
use crate::context::Context;
use crate::message::{ChatMessage, MessageExt};

/// An error a handler returns.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What a handler may return: `()` or `Result<(), E>`.
pub trait IntoOutcome {
    /// The outcome as a `Result`.
    fn into_outcome(self) -> Result<(), BoxError>;
}

impl IntoOutcome for () {
    fn into_outcome(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<E: Into<BoxError>> IntoOutcome for Result<(), E> {
    fn into_outcome(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// An async function or closure that handles a command: it takes the
/// [`Context`] and then its arguments, each of a type that implements
/// [`Arg`] (up to six), and returns `()` or `Result<(), E>`.
///
/// ```
/// use twitch_bot::{Context, Rest};
///
/// async fn dice(ctx: Context, sides: Option<u32>) -> Result<(), twitch_bot::SendError> {
///     let roll = 1 + (ctx.message().message_id.len() as u32 % sides.unwrap_or(6));
///     ctx.reply(format!("You rolled {roll}")).await.map(|_| ())
/// }
///
/// async fn echo(ctx: Context, text: Rest) {
///     let _ = ctx.say(text.0).await;
/// }
/// # let _ = (twitch_bot::Command::new("dice", dice), twitch_bot::Command::new("echo", echo));
/// ```
pub trait Handler<S, A>: Send + Sync + 'static {
    /// Parse the arguments and start the handler.
    #[doc(hidden)]
    fn call(&self, ctx: Context<S>, args: &mut Args<'_>) -> Result<BoxFuture<Result<(), BoxError>>, ArgError>;

    /// The arguments' usage, in order.
    #[doc(hidden)]
    fn usage(&self) -> Vec<&'static str>;
}

macro_rules! handler {
    ($($a:ident),*) => {
        impl<S, F, Fut, R, $($a,)*> Handler<S, ($($a,)*)> for F
        where
            F: Fn(Context<S>, $($a,)*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = R> + Send + 'static,
            R: IntoOutcome,
            S: Send + 'static,
            $($a: Arg,)*
        {
            #[allow(non_snake_case, unused_variables)]
            fn call(&self, ctx: Context<S>, args: &mut Args<'_>) -> Result<BoxFuture<Result<(), BoxError>>, ArgError> {
                $(let $a = $a::parse(args)?;)*
                let fut = (self)(ctx, $($a,)*);
                Ok(Box::pin(async move { fut.await.into_outcome() }))
            }

            fn usage(&self) -> Vec<&'static str> {
                vec![$($a::usage()),*]
            }
        }
    };
}

handler!();
handler!(A1);
handler!(A1, A2);
handler!(A1, A2, A3);
handler!(A1, A2, A3, A4);
handler!(A1, A2, A3, A4, A5);
handler!(A1, A2, A3, A4, A5, A6);

pub(crate) trait ErasedHandler<S>: Send + Sync {
    fn call(&self, ctx: Context<S>, args: &mut Args<'_>) -> Result<BoxFuture<Result<(), BoxError>>, ArgError>;
}

struct Erased<H, A>(H, PhantomData<fn() -> A>);

impl<S, A: 'static, H: Handler<S, A>> ErasedHandler<S> for Erased<H, A> {
    fn call(&self, ctx: Context<S>, args: &mut Args<'_>) -> Result<BoxFuture<Result<(), BoxError>>, ArgError> {
        self.0.call(ctx, args)
    }
}

/// A permission check on the chatter, run before the command.
#[derive(Clone)]
pub struct Check {
    pub(crate) name: Arc<str>,
    pred: Arc<dyn Fn(&ChatMessage) -> bool + Send + Sync>,
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Check").field(&self.name).finish()
    }
}

impl Check {
    /// Only the channel's broadcaster.
    pub fn broadcaster() -> Self {
        Self::custom("broadcaster", |m| m.is_broadcaster())
    }

    /// Moderators and the broadcaster.
    pub fn moderator() -> Self {
        Self::custom("moderator", |m| m.is_moderator() || m.is_broadcaster())
    }

    /// VIPs, moderators and the broadcaster.
    pub fn vip() -> Self {
        Self::custom("vip", |m| m.is_vip() || m.is_moderator() || m.is_broadcaster())
    }

    /// Subscribers, moderators and the broadcaster.
    pub fn subscriber() -> Self {
        Self::custom("subscriber", |m| m.is_subscriber() || m.is_moderator() || m.is_broadcaster())
    }

    /// Any predicate over the message; `name` is what the error hook reports.
    pub fn custom(name: &str, pred: impl Fn(&ChatMessage) -> bool + Send + Sync + 'static) -> Self {
        Self { name: name.into(), pred: Arc::new(pred) }
    }

    pub(crate) fn passes(&self, m: &ChatMessage) -> bool {
        (self.pred)(m)
    }
}

/// Whose uses a cooldown counts together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CooldownScope {
    /// Each chatter in each channel on their own.
    User,
    /// Everyone in a channel together.
    Channel,
    /// Everyone everywhere together.
    Global,
}

/// After a use, the command rests for `per` within its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cooldown {
    pub(crate) scope: CooldownScope,
    pub(crate) per: Duration,
}

impl Cooldown {
    /// Per chatter (and channel).
    pub fn per_user(per: Duration) -> Self {
        Self { scope: CooldownScope::User, per }
    }

    /// Per channel.
    pub fn per_channel(per: Duration) -> Self {
        Self { scope: CooldownScope::Channel, per }
    }

    /// Across every channel.
    pub fn global(per: Duration) -> Self {
        Self { scope: CooldownScope::Global, per }
    }
}

/// A command: a name, aliases, a handler, checks and cooldowns. `S` is the
/// state its handler sees (`ctx.state()`): the bot's, or its group's.
pub struct Command<S = ()> {
    pub(crate) name: String,
    pub(crate) aliases: Vec<String>,
    pub(crate) description: Option<String>,
    pub(crate) usage: Vec<&'static str>,
    pub(crate) checks: Vec<Check>,
    pub(crate) cooldowns: Vec<Cooldown>,
    pub(crate) cooldown_reply: Option<String>,
    pub(crate) handler: Arc<dyn ErasedHandler<S>>,
}

impl<S> std::fmt::Debug for Command<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Command")
            .field("name", &self.name)
            .field("aliases", &self.aliases)
            .field("checks", &self.checks)
            .field("cooldowns", &self.cooldowns)
            .finish_non_exhaustive()
    }
}

impl<S: Send + 'static> Command<S> {
    /// A command answering to `name` (without prefix; matched case-insensitively).
    pub fn new<A: 'static>(name: impl Into<String>, handler: impl Handler<S, A>) -> Self {
        let usage = handler.usage();
        Self {
            name: name.into().to_lowercase(),
            aliases: Vec::new(),
            description: None,
            usage,
            checks: Vec::new(),
            cooldowns: Vec::new(),
            cooldown_reply: None,
            handler: Arc::new(Erased(handler, PhantomData)),
        }
    }

    /// Another name it answers to.
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.aliases.push(alias.into().to_lowercase());
        self
    }

    /// One line for the help listing.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Run only when this check passes (every check must).
    pub fn check(mut self, check: Check) -> Self {
        self.checks.push(check);
        self
    }

    /// Rest after each use (several scopes may apply together).
    pub fn cooldown(mut self, cooldown: Cooldown) -> Self {
        self.cooldowns.push(cooldown);
        self
    }

    /// What to answer while cooling down; `{remaining}` becomes the seconds
    /// left. Without it, a use during the cooldown goes to the error hook only.
    pub fn cooldown_reply(mut self, template: impl Into<String>) -> Self {
        self.cooldown_reply = Some(template.into());
        self
    }
}

/// Commands that share a state of their own and, optionally, checks and
/// cooldowns (a bot's "components"): a game's commands and its scores, the
/// moderation commands behind one check.
pub struct Group<G> {
    pub(crate) name: String,
    pub(crate) state: G,
    pub(crate) commands: Vec<Command<G>>,
    pub(crate) checks: Vec<Check>,
    pub(crate) cooldowns: Vec<Cooldown>,
}

impl<G: Clone + Send + Sync + 'static> Group<G> {
    /// A group named `name` whose handlers see `state` (cloned per call:
    /// wrap what they change in `Arc<Mutex<..>>` or atomics).
    pub fn new(name: impl Into<String>, state: G) -> Self {
        Self { name: name.into(), state, commands: Vec::new(), checks: Vec::new(), cooldowns: Vec::new() }
    }

    /// A command of the group.
    pub fn command(mut self, command: Command<G>) -> Self {
        self.commands.push(command);
        self
    }

    /// A check every command of the group runs first.
    pub fn check(mut self, check: Check) -> Self {
        self.checks.push(check);
        self
    }

    /// A cooldown every command of the group has (each its own).
    pub fn cooldown(mut self, cooldown: Cooldown) -> Self {
        self.cooldowns.push(cooldown);
        self
    }
}
