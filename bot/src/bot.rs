//! The bot: configuration, the event loop, dispatch to commands and
//! listeners, channels, waiting and shutdown.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream::BoxStream;
use futures_util::{FutureExt, StreamExt};
use tokio::sync::{Notify, Semaphore, broadcast};
use tokio::time::Instant;
use twitch::eventsub::channel::ChannelChatMessageV1;
use twitch::ids::{ConduitId, MessageId, SubscriptionId};
use twitch::websocket::{SessionHandle, SessionItem};
use twitch::{AnySubscription, Client, Event, FromEvent, ShardPool, UserId};

use crate::args::{ArgError, Args};
use crate::command::{BoxError, BoxFuture, Check, Command, Cooldown, CooldownScope, ErasedHandler, Group};
use crate::context::{Context, EventContext};
use crate::error::{BotError, Error, Failure};
use crate::message::{ChatMessage, MessageExt};
use crate::send::{Kind, SendError, SendLimits, Sender, Sent};

type ErrorHook = Arc<dyn Fn(BotError) -> BoxFuture<()> + Send + Sync>;
type SetupHook = Box<dyn FnOnce(BotHandle) -> BoxFuture<Result<(), BoxError>> + Send>;
type PerChannel = Arc<dyn Fn(&UserId, &UserId) -> Vec<AnySubscription> + Send + Sync>;
type Invoke = Arc<
    dyn Fn(BotHandle, Arc<ChatMessage>, &mut Args<'_>) -> Result<BoxFuture<Result<(), BoxError>>, ArgError>
        + Send
        + Sync,
>;
type Listener = Arc<dyn Fn(BotHandle, &Event) -> Option<BoxFuture<Result<(), BoxError>>> + Send + Sync>;

/// A command, a scope and who within it (user, channel, or nobody for global).
type CooldownKey = (Arc<str>, CooldownScope, String);

/// A registered command, its state bound in.
struct Entry {
    name: Arc<str>,
    aliases: Vec<String>,
    description: Option<String>,
    usage: Vec<&'static str>,
    group: Option<String>,
    checks: Vec<Check>,
    cooldowns: Vec<Cooldown>,
    cooldown_reply: Option<String>,
    invoke: Invoke,
}

impl Entry {
    fn of<G: Clone + Send + Sync + 'static>(
        cmd: Command<G>,
        state: G,
        group: Option<(&str, &[Check], &[Cooldown])>,
    ) -> Self {
        let handler: Arc<dyn ErasedHandler<G>> = cmd.handler;
        let name: Arc<str> = cmd.name.into();
        let invoked = name.clone();
        let invoke: Invoke = Arc::new(move |bot, message, args| {
            let ctx = Context { bot, state: state.clone(), message, command: invoked.clone() };
            handler.call(ctx, args)
        });
        let (group, mut checks, mut cooldowns) = match group {
            Some((g, c, d)) => (Some(g.to_owned()), c.to_vec(), d.to_vec()),
            None => (None, Vec::new(), Vec::new()),
        };
        checks.extend(cmd.checks);
        cooldowns.extend(cmd.cooldowns);
        Self {
            name,
            aliases: cmd.aliases,
            description: cmd.description,
            usage: cmd.usage,
            group,
            checks,
            cooldowns,
            cooldown_reply: cmd.cooldown_reply,
            invoke,
        }
    }

    fn answers_to(&self, word: &str) -> bool {
        *self.name == *word || self.aliases.iter().any(|a| a == word)
    }

    fn usage_line(&self, prefix: &str) -> String {
        let mut line = format!("{prefix}{}", self.name);
        for u in &self.usage {
            line.push(' ');
            line.push_str(u);
        }
        line
    }
}

/// The least time between two equal notices to one chatter in one
/// channel, unless [`Bot::notice_interval`] says otherwise.
pub const NOTICE_INTERVAL: Duration = Duration::from_secs(15);

/// What a bot does with a chat message that is a shared chat copy: the
/// same message, typed in another channel of the session
/// (`source_broadcaster_user_id` names it), delivered to this channel too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SharedChat {
    /// A command runs once, where it was typed: a copy is skipped when the
    /// bot is in the channel it came from (the original arrives there),
    /// and runs where it arrived otherwise.
    #[default]
    Once,
    /// A command runs in every channel of the session the bot is in, and
    /// replies in each.
    Everywhere,
}

/// Where events come from and how subscriptions are made.
enum Source {
    WebSocket,
    Conduit { conduit_id: ConduitId, shards: Option<Vec<u32>> },
    Stream(BoxStream<'static, Event>),
}

enum Running {
    Session(twitch::Session),
    Pool(ShardPool),
    Stream(BoxStream<'static, Event>),
}

/// What the event loop reads: a session's or pool's item, or a bare event.
enum Incoming {
    Item(SessionItem<Event>),
    Event(Event),
}

impl Running {
    async fn next(&mut self) -> Option<Incoming> {
        match self {
            Running::Session(s) => s.next().await.map(Incoming::Item),
            Running::Pool(p) => p.next().await.map(Incoming::Item),
            Running::Stream(s) => s.next().await.map(Incoming::Event),
        }
    }

    async fn close(self) {
        match self {
            Running::Session(s) => s.close().await,
            Running::Pool(p) => p.close().await,
            Running::Stream(_) => {}
        }
    }
}

/// How subscriptions are made once running.
#[derive(Clone)]
enum Subscriber {
    Session(SessionHandle),
    Conduit(ConduitId),
    /// Events come from a caller's stream: nothing to subscribe.
    None,
}

struct Core {
    client: Client,
    bot_id: UserId,
    prefixes: Vec<String>,
    entries: Vec<Entry>,
    listeners: Vec<(&'static str, Listener)>,
    help: Option<String>,
    reply_on_bad_arguments: bool,
    on_error: ErrorHook,
    per_channel: PerChannel,
    sender: Sender,
    /// The least time between two equal notices (usage, help, cooldown) to
    /// one chatter in one channel.
    notice_interval: Duration,
    shared_chat: SharedChat,
    /// When each (channel, chatter, notice) last went out.
    noticed: Mutex<HashMap<(UserId, UserId, String), Instant>>,
    events: broadcast::Sender<Arc<Event>>,
    /// Subscriptions by channel.
    channels: tokio::sync::Mutex<HashMap<UserId, Vec<SubscriptionId>>>,
    /// Channels the bot left (and has not joined again): their chat is
    /// ignored, also what was on its way when the bot left.
    left: Mutex<std::collections::HashSet<UserId>>,
    subscriber: Mutex<Subscriber>,
    /// When each (command, scope, key) may be used again.
    cooldowns: Mutex<HashMap<CooldownKey, Instant>>,
    handlers: Arc<Semaphore>,
    concurrency: u32,
    stopping: AtomicBool,
    stop: Notify,
    /// How long running handlers get at shutdown.
    grace: Mutex<Duration>,
}

/// The running bot, for handlers, listeners and the code that started it:
/// send to any channel, join and leave, wait for events, stop. Cheap to clone.
#[derive(Clone)]
pub struct BotHandle {
    core: Arc<Core>,
}

impl std::fmt::Debug for BotHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotHandle").field("bot", &self.core.bot_id).finish_non_exhaustive()
    }
}

impl BotHandle {
    /// The Helix client.
    pub fn client(&self) -> &Client {
        &self.core.client
    }

    /// The bot account's user id.
    pub fn bot_id(&self) -> &UserId {
        &self.core.bot_id
    }

    /// Say `text` in `channel`, through the send queue (within the chat
    /// limits). A message Twitch drops is [`SendError::Dropped`], and the
    /// error hook hears of it too.
    pub async fn say(&self, channel: impl Into<UserId>, text: impl Into<String>) -> Result<Sent, SendError> {
        self.send(channel.into(), text.into(), None).await
    }

    /// Reply to a message in `channel`.
    pub async fn reply(
        &self,
        channel: impl Into<UserId>,
        parent: impl Into<MessageId>,
        text: impl Into<String>,
    ) -> Result<Sent, SendError> {
        self.send(channel.into(), text.into(), Some(parent.into())).await
    }

    /// Say `text` in `channel` and pin it there for 20 minutes, as Send
    /// Chat Message's `pin` does: only where the bot is the broadcaster or
    /// a moderator, with `moderator:manage:chat_messages`. If Twitch cannot
    /// pin it, the message is not sent either ([`SendError::Failed`]).
    /// A reply cannot be pinned as it is sent; send it, then
    /// [`BotHandle::pin`] it.
    pub async fn say_pinned(&self, channel: impl Into<UserId>, text: impl Into<String>) -> Result<Sent, SendError> {
        self.send_with(channel.into(), text.into(), None, true).await
    }

    /// Pin a message of `channel` (the bot's or anyone's) as the bot, for
    /// `duration` (30 seconds to 30 minutes, checked before sending) or,
    /// with `None`, until the stream ends. It replaces the channel's pin.
    pub async fn pin(
        &self,
        channel: impl Into<UserId>,
        message: impl Into<MessageId>,
        duration: Option<Duration>,
    ) -> twitch::Result<()> {
        let mut req = self.core.client.pin_chat_message(channel.into(), self.core.bot_id.clone(), message.into());
        if let Some(d) = duration {
            req = req.duration_seconds(d);
        }
        if self.core.sender.as_user {
            req = req.as_user(self.core.bot_id.clone());
        }
        req.send().await
    }

    /// Unpin the pinned message of `channel`.
    pub async fn unpin(&self, channel: impl Into<UserId>, message: impl Into<MessageId>) -> twitch::Result<()> {
        let mut req = self.core.client.unpin_chat_message(channel.into(), self.core.bot_id.clone(), message.into());
        if self.core.sender.as_user {
            req = req.as_user(self.core.bot_id.clone());
        }
        req.send().await
    }

    pub(crate) async fn send(
        &self,
        channel: UserId,
        text: String,
        reply_to: Option<MessageId>,
    ) -> Result<Sent, SendError> {
        self.send_with(channel, text, reply_to, false).await
    }

    async fn send_with(
        &self,
        channel: UserId,
        text: String,
        reply_to: Option<MessageId>,
        pin: bool,
    ) -> Result<Sent, SendError> {
        self.send_kind(Kind::Reply, channel, text, reply_to, pin).await
    }

    async fn send_kind(
        &self,
        kind: Kind,
        channel: UserId,
        text: String,
        reply_to: Option<MessageId>,
        pin: bool,
    ) -> Result<Sent, SendError> {
        let result = self.core.sender.send(kind, channel.clone(), text.clone(), reply_to, pin).await;
        if let Err(SendError::Dropped(reason)) = &result {
            self.report(BotError {
                failure: Failure::Dropped { channel, text, reason: reason.clone() },
                command: None,
                message: None,
            });
        }
        result
    }

    /// The channels the bot is in.
    pub async fn channels(&self) -> Vec<UserId> {
        self.core.channels.lock().await.keys().cloned().collect()
    }

    /// Join a channel: subscribe its chat messages and the bot's other
    /// per-channel types. Joining a channel the bot is in does nothing.
    pub async fn join(&self, channel: impl Into<UserId>) -> Result<(), Error> {
        let channel = channel.into();
        let mut channels = self.core.channels.lock().await;
        if channels.contains_key(&channel) {
            return Ok(());
        }
        self.core.left.lock().unwrap_or_else(|e| e.into_inner()).remove(&channel);
        let subs = (self.core.per_channel)(&channel, &self.core.bot_id);
        let subscriber = self.core.subscriber.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut ids = Vec::new();
        let mut failed = Vec::new();
        match subscriber {
            Subscriber::Session(h) => {
                for s in subs {
                    match h.subscribe_raw(s.subscription_type, s.version, s.condition.clone()).await {
                        Ok(made) => ids.push(made.subscription.id),
                        Err(e) => failed.push((s.subscription_type, e)),
                    }
                }
            }
            Subscriber::Conduit(conduit) => {
                let done = self.core.client.subscribe_all(twitch::Transport::conduit(conduit), subs).await;
                ids.extend(done.created.into_iter().map(|(_, c)| SubscriptionId::from(c.subscription.id.as_str())));
                // Already there (a restart): Twitch's 409 names them, so `leave` can delete them.
                ids.extend(done.existing.into_iter().filter_map(|(_, id)| id));
                failed.extend(done.failed.into_iter().map(|(s, e)| (s.subscription_type, e)));
            }
            Subscriber::None => {}
        }
        // What was made is kept, so `leave` removes it even after a partial failure.
        channels.insert(channel.clone(), ids);
        match failed.into_iter().next() {
            None => Ok(()),
            Some((ty, e)) => Err(Error::Subscribe { channel, subscription_type: ty, source: e }),
        }
    }

    /// Leave a channel: delete every subscription the bot holds for it now
    /// (matched by type, version and condition: also those a session made
    /// again under new ids after a drop, or that a conduit already had
    /// before a restart), and ignore its chat from here on, also what is
    /// already on its way. Leaving a channel the bot is not in still looks
    /// for such subscriptions, so a leave that failed can be tried again.
    pub async fn leave(&self, channel: impl Into<UserId>) -> Result<(), Error> {
        let channel = channel.into();
        self.core.left.lock().unwrap_or_else(|e| e.into_inner()).insert(channel.clone());
        let mut channels = self.core.channels.lock().await;
        let mut ids = channels.remove(&channel).unwrap_or_default();
        let subscriber = self.core.subscriber.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let wanted = (self.core.per_channel)(&channel, &self.core.bot_id);
        let ours = |ty: &str, version: &str, condition: &serde_json::Value| {
            wanted.iter().any(|w| w.subscription_type == ty && w.version == version && w.condition == *condition)
        };
        match &subscriber {
            Subscriber::Session(h) => ids.extend(
                h.subscriptions()
                    .into_iter()
                    .filter(|s| ours(&s.subscription_type, &s.version, &s.condition.to_value()))
                    .map(|s| s.id),
            ),
            Subscriber::Conduit(conduit) => {
                let mut listed = self.core.client.get_eventsub_subscriptions().conduit_id(conduit.clone()).paginate();
                loop {
                    match listed.try_next().await {
                        Ok(Some(s)) if ours(&s.subscription_type, &s.version, &s.condition) => ids.push(s.id),
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(source) => {
                            // Kept, so that the next leave deletes them.
                            channels.insert(channel.clone(), ids.clone());
                            let subscription_id = ids.first().cloned().unwrap_or_else(|| SubscriptionId::from(""));
                            return Err(Error::Unsubscribe { channel, subscription_id, source });
                        }
                    }
                }
            }
            Subscriber::None => {}
        }
        ids.sort();
        ids.dedup();
        for (i, id) in ids.iter().enumerate() {
            let done = match &subscriber {
                Subscriber::Session(h) => h.unsubscribe(id).await,
                Subscriber::Conduit(_) => self.core.client.delete_eventsub_subscription(id.clone()).send().await,
                Subscriber::None => Ok(()),
            };
            match done {
                // Gone already (an id from before a drop): what leaving wants.
                Err(e) if e.status() == Some(404) => {}
                Err(source) => {
                    channels.insert(channel.clone(), ids[i..].to_vec());
                    return Err(Error::Unsubscribe { channel, subscription_id: id.clone(), source });
                }
                Ok(()) => {}
            }
        }
        Ok(())
    }

    /// The next event of type `T` for which `pred` holds, within `timeout`;
    /// `None` when none came (nothing is left waiting afterwards). Events
    /// count from this call on, before the future is first polled.
    pub fn wait_for<T, P>(
        &self,
        pred: P,
        timeout: Duration,
    ) -> impl Future<Output = Option<T::Event>> + Send + use<T, P>
    where
        T: FromEvent<Event>,
        T::Event: Clone + Send + 'static,
        P: Fn(&T::Event) -> bool + Send + 'static,
    {
        let rx = self.core.events.subscribe();
        let deadline = Instant::now() + timeout;
        wait(rx, pred, deadline, T::from_event_ref)
    }

    /// Every event the bot receives from now on, as a stream (events a slow
    /// reader fell too far behind on are skipped). For code that wants the
    /// raw flow beside the commands and listeners.
    pub fn events(&self) -> impl futures_util::Stream<Item = Arc<Event>> + Send + 'static + use<> {
        futures_util::stream::unfold(self.core.events.subscribe(), |mut rx| async move {
            next_event(&mut rx).await.map(|e| (e, rx))
        })
    }

    /// Stop: no more events are read; running handlers get `grace` to
    /// finish; then the session or pool is closed. [`RunningBot::shutdown`]
    /// does this and waits for it.
    pub fn stop(&self) {
        self.core.stopping.store(true, Ordering::SeqCst);
        self.core.stop.notify_one();
    }

    fn report(&self, error: BotError) {
        let hook = self.core.on_error.clone();
        tokio::spawn(async move { hook(error).await });
    }
}

/// A bot under construction: [`Bot::builder`] or [`Bot::with_state`].
pub struct Bot<S = ()> {
    client: Client,
    bot_id: UserId,
    state: S,
    prefixes: Vec<String>,
    entries: Vec<Entry>,
    listeners: Vec<(&'static str, Listener)>,
    help: Option<String>,
    reply_on_bad_arguments: bool,
    notice_interval: Duration,
    shared_chat: SharedChat,
    on_error: ErrorHook,
    setup: Option<SetupHook>,
    per_channel: Vec<PerChannel>,
    channels: Vec<UserId>,
    limits: SendLimits,
    concurrency: u32,
    source: Source,
}

impl Bot<()> {
    /// A bot that acts as user `bot_id` through `client`: a user token for
    /// a WebSocket session (the default), or an app token for a conduit.
    pub fn builder(client: Client, bot_id: impl Into<UserId>) -> Self {
        Self::with_state(client, bot_id, ())
    }
}

impl<S: Clone + Send + Sync + 'static> Bot<S> {
    /// A bot whose commands and listeners see `state` (`ctx.state()`).
    pub fn with_state(client: Client, bot_id: impl Into<UserId>, state: S) -> Self {
        Self {
            client,
            bot_id: bot_id.into(),
            state,
            prefixes: Vec::new(),
            entries: Vec::new(),
            listeners: Vec::new(),
            help: None,
            reply_on_bad_arguments: true,
            notice_interval: NOTICE_INTERVAL,
            shared_chat: SharedChat::Once,
            on_error: Arc::new(|e: BotError| {
                Box::pin(async move { tracing::warn!(target: "twitch_bot", "{e}") }) as BoxFuture<()>
            }),
            setup: None,
            per_channel: Vec::new(),
            channels: Vec::new(),
            limits: SendLimits::default(),
            concurrency: 64,
            source: Source::WebSocket,
        }
    }

    /// A prefix commands start with (`!` if none is given); call again for more.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefixes.push(prefix.into());
        self
    }

    /// A command whose handler sees the bot's state.
    pub fn command(mut self, command: Command<S>) -> Self {
        self.entries.push(Entry::of(command, self.state.clone(), None));
        self
    }

    /// A group of commands with a state of their own.
    pub fn group<G: Clone + Send + Sync + 'static>(mut self, group: Group<G>) -> Self {
        let Group { name, state, commands, checks, cooldowns } = group;
        for c in commands {
            self.entries.push(Entry::of(c, state.clone(), Some((&name, &checks, &cooldowns))));
        }
        self
    }

    /// A `help` command under this name: without an argument it lists the
    /// commands the chatter may use, with one it shows that command's usage.
    pub fn help_command(mut self, name: impl Into<String>) -> Self {
        self.help = Some(name.into().to_lowercase());
        self
    }

    /// The least time between two equal notices (usage, help and cooldown
    /// replies) to one chatter in one channel (default 15 s): a chatter
    /// repeating a command that is cooling down, or its wrong arguments,
    /// gets one answer, not one per line. Notices also wait
    /// behind every real reply, use at most half of the send window, and
    /// only a few per channel are queued; the rest are not sent (the error
    /// hook still hears of each failure).
    pub fn notice_interval(mut self, interval: Duration) -> Self {
        self.notice_interval = interval;
        self
    }

    /// What to do with shared chat copies of a message (default
    /// [`SharedChat::Once`]: a command runs where it was typed).
    pub fn shared_chat(mut self, policy: SharedChat) -> Self {
        self.shared_chat = policy;
        self
    }

    /// Whether a command whose arguments do not parse answers with its
    /// usage (default: yes). The error hook hears of it either way.
    pub fn reply_on_bad_arguments(mut self, on: bool) -> Self {
        self.reply_on_bad_arguments = on;
        self
    }

    /// Where failures go: handler errors and panics, bad arguments, checks
    /// and cooldowns that stopped a command, dropped messages, session
    /// trouble. The default logs them with `tracing` at warn level.
    pub fn on_error<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(BotError) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_error = Arc::new(move |e| Box::pin(hook(e)));
        self
    }

    /// Listen to events of subscription type `T` (subscribe to them with
    /// [`Bot::subscribe_in_channels`]).
    pub fn on<T, F, Fut, R>(mut self, handler: F) -> Self
    where
        T: FromEvent<Event> + 'static,
        T::Event: Clone + Send + 'static,
        F: Fn(EventContext<S>, T::Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: crate::command::IntoOutcome,
    {
        let state = self.state.clone();
        let listener: Listener = Arc::new(move |bot, event| {
            let e = T::from_event_ref(event)?.clone();
            let fut = handler(EventContext { bot, state: state.clone() }, e);
            Some(Box::pin(async move { fut.await.into_outcome() }))
        });
        self.listeners.push((std::any::type_name::<T>(), listener));
        self
    }

    /// More subscriptions per channel, made on join and deleted on leave
    /// (`channel.chat.message` always is): given the channel and the bot's id.
    pub fn subscribe_in_channels(
        mut self,
        subs: impl Fn(&UserId, &UserId) -> Vec<AnySubscription> + Send + Sync + 'static,
    ) -> Self {
        self.per_channel.push(Arc::new(subs));
        self
    }

    /// A channel to join at start.
    pub fn channel(mut self, channel: impl Into<UserId>) -> Self {
        self.channels.push(channel.into());
        self
    }

    /// The chat limits the send queue keeps to.
    pub fn send_limits(mut self, limits: SendLimits) -> Self {
        self.limits = limits;
        self
    }

    /// How many handlers (commands and listeners) run at once; more wait
    /// their turn without holding up the event loop (default 64).
    pub fn concurrency(mut self, handlers: u32) -> Self {
        self.concurrency = handlers.max(1);
        self
    }

    /// Run after connecting and joining the first channels, before any
    /// event is handled. An error stops the start.
    pub fn setup<F, Fut>(mut self, hook: F) -> Self
    where
        F: FnOnce(BotHandle) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        self.setup = Some(Box::new(move |h| Box::pin(hook(h))));
        self
    }

    /// Receive events over an EventSub WebSocket session (the default): the
    /// client needs the bot's user token with `user:read:chat` and
    /// `user:write:chat`. For a bot in a few channels.
    pub fn websocket(mut self) -> Self {
        self.source = Source::WebSocket;
        self
    }

    /// Receive events through a conduit (Twitch's setup for a bot in many
    /// channels): the client needs an app token, the bot account must have
    /// granted `user:bot` (and `user:read:chat`, `user:write:chat`) and each
    /// channel `channel:bot` (or made the bot a moderator). `shards`: the
    /// shards this process runs (`None`: all of the conduit's).
    pub fn conduit(mut self, conduit_id: impl Into<ConduitId>, shards: Option<Vec<u32>>) -> Self {
        self.source = Source::Conduit { conduit_id: conduit_id.into(), shards };
        self
    }

    /// Take events from a stream (from a source you run yourself, or made
    /// up in tests); joining then subscribes nothing.
    pub fn events_from(mut self, stream: impl futures_util::Stream<Item = Event> + Send + 'static) -> Self {
        self.source = Source::Stream(stream.boxed());
        self
    }

    /// Connect, join the channels, run the setup hook; then handle events
    /// in the background. Returns once the bot is ready.
    pub async fn start(self) -> Result<RunningBot, Error> {
        let Bot {
            client,
            bot_id,
            state: _,
            mut prefixes,
            entries,
            listeners,
            help,
            reply_on_bad_arguments,
            notice_interval,
            shared_chat,
            on_error,
            setup,
            per_channel,
            channels,
            limits,
            concurrency,
            source,
        } = self;
        if prefixes.is_empty() {
            prefixes.push("!".into());
        }
        let (running, subscriber) = match source {
            Source::WebSocket => {
                let session =
                    client.eventsub_websocket().as_user(bot_id.clone()).connect().await.map_err(Error::Connect)?;
                let handle = session.handle();
                (Running::Session(session), Subscriber::Session(handle))
            }
            Source::Conduit { conduit_id, shards } => {
                let mut b = client.shard_pool(conduit_id.clone());
                b = match shards {
                    Some(ids) => b.shards(ids),
                    // Every shard: Twitch spreads notifications over all of them.
                    None => b.shard_count(conduit_shard_count(&client, &conduit_id).await?),
                };
                (Running::Pool(b.start().await.map_err(Error::Connect)?), Subscriber::Conduit(conduit_id))
            }
            Source::Stream(s) => (Running::Stream(s), Subscriber::None),
        };
        let as_user = matches!(subscriber, Subscriber::Session(_));
        let sender = Sender::start(client.clone(), bot_id.clone(), limits, as_user);
        let per_channel: PerChannel = Arc::new(move |channel, bot| {
            let mut subs = vec![AnySubscription::from(ChannelChatMessageV1::new(channel.clone(), bot.clone()))];
            for f in &per_channel {
                subs.extend(f(channel, bot));
            }
            subs
        });
        let core = Arc::new(Core {
            client,
            bot_id,
            prefixes,
            entries,
            listeners,
            help,
            reply_on_bad_arguments,
            on_error,
            per_channel,
            sender,
            notice_interval,
            shared_chat,
            noticed: Default::default(),
            events: broadcast::channel(1024).0,
            channels: Default::default(),
            left: Default::default(),
            subscriber: Mutex::new(subscriber),
            cooldowns: Default::default(),
            handlers: Arc::new(Semaphore::new(concurrency as usize)),
            concurrency,
            stopping: AtomicBool::new(false),
            stop: Notify::new(),
            grace: Mutex::new(Duration::from_secs(10)),
        });
        let handle = BotHandle { core };
        for c in channels {
            if let Err(e) = handle.join(c).await {
                running.close().await;
                return Err(e);
            }
        }
        if let Some(setup) = setup
            && let Err(e) = setup(handle.clone()).await
        {
            running.close().await;
            return Err(Error::Setup(e));
        }
        let task = tokio::spawn(event_loop(handle.clone(), running));
        Ok(RunningBot { handle, task })
    }

    /// Start and run until the events end or the bot is stopped.
    pub async fn run(self) -> Result<(), Error> {
        self.start().await?.wait().await;
        Ok(())
    }
}

/// How many shards the conduit has (Get Conduits).
async fn conduit_shard_count(client: &Client, conduit_id: &ConduitId) -> Result<u32, Error> {
    let conduits = client.get_conduits().send().await.map_err(Error::Connect)?;
    let conduit = conduits.iter().find(|c| c.id == *conduit_id).ok_or_else(|| {
        Error::Connect(twitch::Error::EventSub(twitch::EventSubError::ConduitGone {
            conduit_id: conduit_id.to_string(),
            message: "Get Conduits does not list it".into(),
        }))
    })?;
    Ok(u32::try_from(conduit.shard_count).unwrap_or(0).max(1))
}

/// A started bot.
#[derive(Debug)]
pub struct RunningBot {
    handle: BotHandle,
    task: tokio::task::JoinHandle<bool>,
}

impl RunningBot {
    /// The bot's handle.
    pub fn handle(&self) -> &BotHandle {
        &self.handle
    }

    /// Run until the events end (the session closed for good) or
    /// [`BotHandle::stop`] is called.
    pub async fn wait(self) {
        let _ = self.task.await;
    }

    /// Stop reading events, give running handlers up to `grace` to finish,
    /// close the session or pool. Returns whether every handler finished.
    pub async fn shutdown(self, grace: Duration) -> bool {
        *self.handle.core.grace.lock().unwrap_or_else(|e| e.into_inner()) = grace;
        self.handle.stop();
        self.task.await.unwrap_or(false)
    }
}

async fn wait<E: Clone>(
    mut rx: broadcast::Receiver<Arc<Event>>,
    pred: impl Fn(&E) -> bool,
    deadline: Instant,
    take: fn(&Event) -> Option<&E>,
) -> Option<E> {
    loop {
        let event = tokio::time::timeout_at(deadline, next_event(&mut rx)).await.ok()??;
        if let Some(e) = take(&event)
            && pred(e)
        {
            return Some(e.clone());
        }
    }
}

/// The next event a receiver gets, skipping what it fell behind on; `None`
/// once the bot is gone.
async fn next_event(rx: &mut broadcast::Receiver<Arc<Event>>) -> Option<Arc<Event>> {
    loop {
        match rx.recv().await {
            Ok(e) => return Some(e),
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}

/// Read events until they end or the bot stops; then let running handlers
/// finish (within the grace period) and close. Whether all finished.
async fn event_loop(bot: BotHandle, mut running: Running) -> bool {
    let core = bot.core.clone();
    loop {
        if core.stopping.load(Ordering::SeqCst) {
            break;
        }
        let item = tokio::select! {
            item = running.next() => item,
            () = core.stop.notified() => break,
        };
        let item = match item {
            None => break,
            Some(Incoming::Event(e)) => {
                dispatch(&bot, e);
                continue;
            }
            Some(Incoming::Item(item)) => item,
        };
        match item {
            SessionItem::Notification(d) => dispatch(&bot, d.event),
            SessionItem::Error(e) => bot.report(BotError::of(Failure::Session(e.to_string()))),
            SessionItem::TokenInvalid(t) => {
                let whose = t.user.map_or_else(|| "the app token".to_owned(), |u| format!("the token of user {u}"));
                bot.report(BotError::of(Failure::Session(format!("{whose} was refused for good"))))
            }
            SessionItem::Revoked(r) => bot.report(BotError::of(Failure::Session(format!(
                "Twitch revoked the {} subscription ({})",
                r.subscription.subscription_type, r.subscription.status
            )))),
            _ => {}
        }
    }
    let grace = *core.grace.lock().unwrap_or_else(|e| e.into_inner());
    let finished = tokio::time::timeout(grace, core.handlers.acquire_many(core.concurrency)).await.is_ok();
    running.close().await;
    finished
}

/// Hand an event to waiters, listeners and, for chat messages, commands.
fn dispatch(bot: &BotHandle, event: Event) {
    let core = &bot.core;
    let event = Arc::new(event);
    if let Some(message) = ChannelChatMessageV1::from_event_ref(&event)
        && core.left.lock().unwrap_or_else(|e| e.into_inner()).contains(&message.broadcaster_user_id)
    {
        // A channel the bot left: nothing in it is answered or waited for.
        return;
    }
    let _ = core.events.send(event.clone());
    for (name, listener) in &core.listeners {
        if let Some(fut) = listener(bot.clone(), &event) {
            let what = format!("listener for {name}");
            spawn_handler(bot, fut, what, None, None);
        }
    }
    if let Some(message) = ChannelChatMessageV1::from_event_ref(&event) {
        let message = Arc::new(message.clone());
        let copy = message.source_broadcaster_user_id.as_ref().filter(|s| **s != message.broadcaster_user_id);
        if message.chatter_user_id == core.bot_id {
            // The bot's own message: its badges say where it moderates (a
            // copy's badges are those of its own channel's chat).
            if copy.is_none() {
                core.sender
                    .set_elevated(&message.broadcaster_user_id, message.is_moderator() || message.is_broadcaster());
            }
            return;
        }
        if let Some(source) = copy
            && core.shared_chat == SharedChat::Once
            && joined(core, source)
        {
            // The original reaches the bot in its own channel.
            return;
        }
        command(bot, message);
    }
}

/// Whether the bot is in `channel` now (joined and not left since). The
/// channel map is locked by join and leave across awaits; when it is busy,
/// the channels left say enough.
fn joined(core: &Core, channel: &UserId) -> bool {
    match core.channels.try_lock() {
        Ok(channels) => channels.contains_key(channel),
        Err(_) => !core.left.lock().unwrap_or_else(|e| e.into_inner()).contains(channel),
    }
}

/// Find the command in a message and run it, if every check passes, its
/// arguments parse and no cooldown holds it.
fn command(bot: &BotHandle, message: Arc<ChatMessage>) {
    let core = &bot.core;
    let visible = crate::message::without_invisible(&message.message.text);
    let text = visible.trim();
    let Some(rest) = core.prefixes.iter().find_map(|p| text.strip_prefix(p.as_str())) else { return };
    let mut args = Args::new(rest);
    let Some(word) = args.word() else { return };
    let word = word.to_lowercase();
    if core.help.as_deref() == Some(word.as_str()) {
        help(bot, &message, args.word());
        return;
    }
    let Some(entry) = core.entries.iter().find(|e| e.answers_to(&word)) else { return };
    let fail =
        |failure: Failure| BotError { failure, command: Some(entry.name.to_string()), message: Some(message.clone()) };
    if let Some(check) = entry.checks.iter().find(|c| !c.passes(&message)) {
        bot.report(fail(Failure::CheckFailed { check: check.name.to_string() }));
        return;
    }
    let fut = match (entry.invoke)(bot.clone(), message.clone(), &mut args) {
        Ok(fut) => fut,
        Err(error) => {
            let usage = entry.usage_line(&core.prefixes[0]);
            if core.reply_on_bad_arguments {
                // Not the chatter's words: a moderator bot's messages pass
                // AutoMod, so it must not repeat what a chatter typed.
                let why = match error.found {
                    Some(_) => format!("expected {}", error.expected),
                    None => error.to_string(),
                };
                reply_in_background(bot, &message, format!("Usage: {usage} ({why})"));
            }
            bot.report(fail(Failure::BadArguments { usage, error }));
            return;
        }
    };
    if let Some(remaining) = cooling(core, entry, &message) {
        if let Some(template) = &entry.cooldown_reply {
            let text = template.replace("{remaining}", &remaining.as_secs_f64().ceil().to_string());
            reply_in_background(bot, &message, text);
        }
        bot.report(fail(Failure::CoolingDown { remaining }));
        return;
    }
    spawn_handler(bot, fut, format!("command {}", entry.name), Some(entry.name.to_string()), Some(message));
}

/// How long the command still rests, or `None` (and the cooldowns start).
fn cooling(core: &Core, entry: &Entry, message: &ChatMessage) -> Option<Duration> {
    let now = Instant::now();
    let mut cooldowns = core.cooldowns.lock().unwrap_or_else(|e| e.into_inner());
    let key = |scope: CooldownScope| {
        let k = match scope {
            CooldownScope::User => format!("{}/{}", message.broadcaster_user_id, message.chatter_user_id),
            CooldownScope::Channel => message.broadcaster_user_id.to_string(),
            CooldownScope::Global => String::new(),
        };
        (entry.name.clone(), scope, k)
    };
    let remaining = entry
        .cooldowns
        .iter()
        .filter_map(|c| cooldowns.get(&key(c.scope)).filter(|at| **at > now).map(|at| *at - now))
        .max();
    if remaining.is_some() {
        return remaining;
    }
    for c in &entry.cooldowns {
        cooldowns.insert(key(c.scope), now + c.per);
    }
    // Forget the ones that are over, so the map stays small.
    cooldowns.retain(|_, at| *at > now);
    None
}

/// `!help` and `!help <command>`.
fn help(bot: &BotHandle, message: &Arc<ChatMessage>, about: Option<&str>) {
    let core = &bot.core;
    let prefix = &core.prefixes[0];
    let allowed = |e: &&Entry| e.checks.iter().all(|c| c.passes(message));
    let text = match about.map(|a| a.trim_start_matches(prefix.as_str()).to_lowercase()) {
        Some(name) => match core.entries.iter().filter(allowed).find(|e| e.answers_to(&name)) {
            Some(e) => {
                let mut t = e.usage_line(prefix);
                if let Some(d) = &e.description {
                    t.push_str(" - ");
                    t.push_str(d);
                }
                if !e.aliases.is_empty() {
                    t.push_str(&format!(
                        " (also {})",
                        e.aliases.iter().map(|a| format!("{prefix}{a}")).collect::<Vec<_>>().join(", ")
                    ));
                }
                t
            }
            None => format!("There is no command {prefix}{name}."),
        },
        None => {
            let mut groups: Vec<(Option<&str>, Vec<String>)> = Vec::new();
            for e in core.entries.iter().filter(allowed) {
                let g = e.group.as_deref();
                match groups.iter_mut().find(|(name, _)| *name == g) {
                    Some((_, names)) => names.push(format!("{prefix}{}", e.name)),
                    None => groups.push((g, vec![format!("{prefix}{}", e.name)])),
                }
            }
            let parts: Vec<String> = groups
                .into_iter()
                .map(|(g, names)| match g {
                    Some(g) => format!("{g}: {}", names.join(" ")),
                    None => names.join(" "),
                })
                .collect();
            format!("Commands: {}", parts.join(" | "))
        }
    };
    reply_in_background(bot, message, text);
}

/// Answer `message` in its thread from a task of its own (the event loop
/// does not wait for the send queue); a drop reaches the error hook.
/// Reply with a notice (usage, help, cooldown), unless this chatter got the
/// same one in this channel within the notice interval.
fn reply_in_background(bot: &BotHandle, message: &ChatMessage, text: String) {
    let core = &bot.core;
    let now = Instant::now();
    {
        let mut noticed = core.noticed.lock().unwrap_or_else(|e| e.into_inner());
        let key = (message.broadcaster_user_id.clone(), message.chatter_user_id.clone(), text.clone());
        if noticed.get(&key).is_some_and(|at| now.duration_since(*at) < core.notice_interval) {
            return;
        }
        // Bounded: a raid's chatters are forgotten once their interval passed.
        if noticed.len() >= 4096 {
            noticed.retain(|_, at| now.duration_since(*at) < core.notice_interval);
        }
        noticed.insert(key, now);
    }
    let (bot, channel, id) = (bot.clone(), message.broadcaster_user_id.clone(), message.message_id.clone());
    tokio::spawn(async move { bot.send_kind(Kind::Notice, channel, text, Some(id), false).await });
}

/// Run a handler in its own task, within the concurrency limit; its error
/// or panic goes to the error hook and nowhere else.
fn spawn_handler(
    bot: &BotHandle,
    fut: BoxFuture<Result<(), BoxError>>,
    what: String,
    command: Option<String>,
    message: Option<Arc<ChatMessage>>,
) {
    let bot = bot.clone();
    let permits = bot.core.handlers.clone();
    tokio::spawn(async move {
        let Ok(_permit) = permits.acquire_owned().await else { return };
        let failure = match AssertUnwindSafe(fut).catch_unwind().await {
            Ok(Ok(())) => return,
            Ok(Err(error)) => Failure::Handler { what, error },
            Err(panic) => {
                let text = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".into());
                Failure::Panicked { what, panic: text }
            }
        };
        bot.report(BotError { failure, command, message });
    });
}
