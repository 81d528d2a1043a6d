//! Sending chat messages within Twitch's limits: one queue per bot account,
//! a sliding window of what was sent, and typed drop reasons.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use twitch::helix::chat::ChatMessageDropReason;
use twitch::ids::MessageId;
use twitch::{Client, UserId};

/// How many messages the bot account may send per window: Twitch's chat
/// limits. The defaults are those Twitch documents for an ordinary account:
/// 20 per 30 seconds, 100 in channels where the bot is the broadcaster or a
/// moderator. Verified bots have higher limits: configure them here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendLimits {
    /// Messages per window in ordinary channels.
    pub normal: u32,
    /// Messages per window where the bot is broadcaster or moderator.
    pub elevated: u32,
    /// The window.
    pub window: Duration,
}

impl Default for SendLimits {
    fn default() -> Self {
        Self { normal: 20, elevated: 100, window: Duration::from_secs(30) }
    }
}

/// Why Twitch dropped a message, by kind. Send Chat Message reports the
/// code in `drop_reason.code`; the codes are Twitch's chat notice ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DropKind {
    /// The same message was sent less than 30 seconds ago (`msg_duplicate`).
    Duplicate,
    /// Over the chat rate limit (`msg_ratelimit`).
    RateLimited,
    /// Held or refused by AutoMod or blocked terms (`msg_rejected`,
    /// `msg_rejected_mandatory`).
    AutoMod,
    /// The bot is banned in the channel (`msg_banned`).
    Banned,
    /// The bot is timed out in the channel (`msg_timedout`).
    TimedOut,
    /// A chat mode forbids it: followers, subscribers or emote only, slow
    /// or unique mode (`msg_followersonly`, `msg_subsonly`, `msg_emoteonly`,
    /// `msg_slowmode`, `msg_r9k`, ...).
    ChatMode,
    /// Another code; see [`DropReason::code`].
    Other,
}

impl DropKind {
    /// The kind of a `drop_reason.code`.
    pub fn of(code: &str) -> Self {
        match code {
            "msg_duplicate" => DropKind::Duplicate,
            "msg_ratelimit" | "msg_rate_limit" => DropKind::RateLimited,
            "msg_rejected" | "msg_rejected_mandatory" | "msg_automod" => DropKind::AutoMod,
            "msg_banned" | "msg_channel_blocked" => DropKind::Banned,
            "msg_timedout" => DropKind::TimedOut,
            c if c.starts_with("msg_followersonly")
                || matches!(c, "msg_subsonly" | "msg_emoteonly" | "msg_slowmode" | "msg_r9k") =>
            {
                DropKind::ChatMode
            }
            _ => DropKind::Other,
        }
    }
}

/// A message Twitch accepted but did not post.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DropReason {
    /// The kind.
    pub kind: DropKind,
    /// Twitch's code, as sent.
    pub code: String,
    /// Twitch's explanation.
    pub message: String,
}

impl From<&ChatMessageDropReason> for DropReason {
    fn from(r: &ChatMessageDropReason) -> Self {
        Self { kind: DropKind::of(&r.code), code: r.code.clone(), message: r.message.clone() }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dropped by Twitch ({}): {}", self.code, self.message)
    }
}

/// A message that went out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sent {
    /// Its id in chat.
    pub message_id: MessageId,
}

/// A message that did not go out.
#[derive(Debug)]
#[non_exhaustive]
pub enum SendError {
    /// Twitch accepted the request and dropped the message.
    Dropped(DropReason),
    /// The request failed (refused, unauthorized, transport...).
    Failed(twitch::Error),
    /// The bot is shutting down.
    Closed,
    /// The channel's queue was full (a flood of commands): the message was
    /// not queued.
    QueueFull,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Dropped(r) => write!(f, "message {r}"),
            SendError::Failed(e) => write!(f, "sending failed: {e}"),
            SendError::Closed => f.write_str("the bot is shutting down"),
            SendError::QueueFull => f.write_str("the channel's send queue is full; the message was not queued"),
        }
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SendError::Failed(e) => Some(e),
            _ => None,
        }
    }
}

/// The sliding window: when each recent message went out.
#[derive(Debug)]
pub(crate) struct Window {
    limits: SendLimits,
    sent: VecDeque<Instant>,
}

impl Window {
    pub(crate) fn new(limits: SendLimits) -> Self {
        Self { limits, sent: VecDeque::new() }
    }

    /// When the next message may go out (now, or later). Counting every
    /// channel together keeps the account under the ordinary limit wherever
    /// it is not elevated. A notice may use half the window only, so that a
    /// real reply always finds room.
    pub(crate) fn next_slot_for(&mut self, now: Instant, elevated: bool, kind: Kind) -> Instant {
        while self.sent.front().is_some_and(|t| *t + self.limits.window <= now) {
            self.sent.pop_front();
        }
        let full = if elevated { self.limits.elevated } else { self.limits.normal }.max(1) as usize;
        let limit = match kind {
            Kind::Reply => full,
            Kind::Notice => (full / 2).max(1),
        };
        if self.sent.len() < limit {
            return now;
        }
        // The oldest message that must leave the window first.
        self.sent[self.sent.len() - limit] + self.limits.window
    }

    pub(crate) fn record(&mut self, at: Instant) {
        self.sent.push_back(at);
    }
}

/// What a message is to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A command's reply, or anything the application sends.
    Reply,
    /// What the bot says of its own accord: usage, help and cooldown
    /// replies. Sent after every reply waiting, within half the window,
    /// and only a few per channel are queued.
    Notice,
}

/// How many messages a channel may have queued, replies and notices apart.
const REPLIES_PER_CHANNEL: usize = 256;
const NOTICES_PER_CHANNEL: usize = 4;

/// One kind's queued jobs: a queue per channel, served in turn.
#[derive(Default)]
struct Lane {
    order: VecDeque<UserId>,
    jobs: HashMap<UserId, VecDeque<Job>>,
}

impl Lane {
    fn push(&mut self, job: Job, cap: usize) -> Result<(), Job> {
        let q = self.jobs.entry(job.channel.clone()).or_default();
        if q.len() >= cap {
            return Err(job);
        }
        if q.is_empty() {
            self.order.push_back(job.channel.clone());
        }
        q.push_back(job);
        Ok(())
    }

    fn peek(&self) -> Option<&Job> {
        self.order.front().and_then(|c| self.jobs.get(c)?.front())
    }

    fn pop(&mut self) -> Option<Job> {
        let channel = self.order.pop_front()?;
        let q = self.jobs.get_mut(&channel)?;
        let job = q.pop_front();
        if q.is_empty() {
            self.jobs.remove(&channel);
        } else {
            self.order.push_back(channel);
        }
        job
    }
}

/// Replies before notices; within each, the channels in turn.
#[derive(Default)]
struct Queues {
    replies: Lane,
    notices: Lane,
}

impl Queues {
    fn push(&mut self, job: Job) {
        let pushed = match job.kind {
            Kind::Reply => self.replies.push(job, REPLIES_PER_CHANNEL),
            Kind::Notice => self.notices.push(job, NOTICES_PER_CHANNEL),
        };
        if let Err(job) = pushed {
            let _ = job.done.send(Err(SendError::QueueFull));
        }
    }

    fn peek(&self) -> Option<&Job> {
        self.replies.peek().or_else(|| self.notices.peek())
    }

    fn pop(&mut self) -> Option<Job> {
        self.replies.pop().or_else(|| self.notices.pop())
    }
}

pub(crate) struct Job {
    pub kind: Kind,
    pub channel: UserId,
    pub text: String,
    pub reply_to: Option<MessageId>,
    /// Pin the message as it is sent (Send Chat Message's `pin`).
    pub pin: bool,
    pub done: oneshot::Sender<Result<Sent, SendError>>,
}

/// The send queue: one task sends the messages in order, each when the
/// window allows.
#[derive(Clone)]
pub(crate) struct Sender {
    jobs: mpsc::UnboundedSender<Job>,
    /// Calls other than sending go out with the bot's user token too.
    pub(crate) as_user: bool,
    /// Channels where the bot is broadcaster or moderator.
    pub(crate) elevated: Arc<Mutex<HashMap<UserId, bool>>>,
}

impl Sender {
    /// `as_user`: send with the bot's user token (WebSocket mode); without
    /// it the client's choice stands (the app token on a conduit).
    pub(crate) fn start(client: Client, bot: UserId, limits: SendLimits, as_user: bool) -> Self {
        let (jobs, mut rx) = mpsc::unbounded_channel::<Job>();
        let elevated: Arc<Mutex<HashMap<UserId, bool>>> = Arc::default();
        let elevated_in = elevated.clone();
        tokio::spawn(async move {
            let mut window = Window::new(limits);
            let mut queues = Queues::default();
            let mut open = true;
            loop {
                while let Ok(job) = rx.try_recv() {
                    queues.push(job);
                }
                let Some(next) = queues.peek() else {
                    if !open {
                        break;
                    }
                    match rx.recv().await {
                        Some(job) => queues.push(job),
                        None => open = false,
                    }
                    continue;
                };
                let is_elevated = next.channel == bot
                    || elevated_in
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(&next.channel)
                        .copied()
                        .unwrap_or(false);
                let now = Instant::now();
                let at = window.next_slot_for(now, is_elevated, next.kind);
                // Only when there is a wait: a timer rounds up to the next
                // millisecond. A message that comes meanwhile (a reply while
                // a notice waits) is looked at before this one goes.
                if at > now {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        job = rx.recv(), if open => match job {
                            Some(job) => queues.push(job),
                            None => open = false,
                        },
                    }
                    continue;
                }
                let Some(job) = queues.pop() else { continue };
                let mut req = client.send_chat_message(job.channel.clone(), bot.clone(), job.text);
                if let Some(parent) = job.reply_to {
                    req = req.reply_parent_message_id(parent);
                }
                if job.pin {
                    req = req.pin(true);
                }
                if as_user {
                    req = req.as_user(bot.clone());
                }
                let result = req.send().await;
                // Counted from when the answer came: Twitch counted it no later.
                window.record(Instant::now());
                let outcome = match result {
                    Ok(sent) if sent.is_sent => Ok(Sent { message_id: sent.message_id }),
                    Ok(sent) => {
                        Err(SendError::Dropped(sent.drop_reason.as_ref().map(DropReason::from).unwrap_or(DropReason {
                            kind: DropKind::Other,
                            code: String::new(),
                            message: "Twitch did not post the message and gave no reason".into(),
                        })))
                    }
                    Err(e) => Err(SendError::Failed(e)),
                };
                let _ = job.done.send(outcome);
            }
        });
        Self { jobs, as_user, elevated }
    }

    pub(crate) async fn send(
        &self,
        kind: Kind,
        channel: UserId,
        text: String,
        reply_to: Option<MessageId>,
        pin: bool,
    ) -> Result<Sent, SendError> {
        let (done, rx) = oneshot::channel();
        self.jobs.send(Job { kind, channel, text, reply_to, pin, done }).map_err(|_| SendError::Closed)?;
        rx.await.unwrap_or(Err(SendError::Closed))
    }

    pub(crate) fn set_elevated(&self, channel: &UserId, elevated: bool) {
        self.elevated.lock().unwrap_or_else(|e| e.into_inner()).insert(channel.clone(), elevated);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_holds_the_limit_and_frees_slots_in_order() {
        let limits = SendLimits { normal: 2, elevated: 3, window: Duration::from_secs(30) };
        let mut w = Window::new(limits);
        let t0 = Instant::now();
        for i in 0..2 {
            assert_eq!(w.next_slot_for(t0, false, Kind::Reply), t0);
            w.record(t0 + Duration::from_secs(i));
        }
        // Full for ordinary channels until the first leaves the window.
        assert_eq!(w.next_slot_for(t0 + Duration::from_secs(2), false, Kind::Reply), t0 + Duration::from_secs(30));
        // An elevated channel still has room.
        assert_eq!(w.next_slot_for(t0 + Duration::from_secs(2), true, Kind::Reply), t0 + Duration::from_secs(2));
        w.record(t0 + Duration::from_secs(2));
        assert_eq!(w.next_slot_for(t0 + Duration::from_secs(3), true, Kind::Reply), t0 + Duration::from_secs(30));
        assert_eq!(w.next_slot_for(t0 + Duration::from_secs(3), false, Kind::Reply), t0 + Duration::from_secs(31));
        assert_eq!(w.next_slot_for(t0 + Duration::from_secs(31), false, Kind::Reply), t0 + Duration::from_secs(31));
    }

    fn job(kind: Kind, channel: &str, text: &str) -> (Job, oneshot::Receiver<Result<Sent, SendError>>) {
        let (done, rx) = oneshot::channel();
        let job = Job { kind, channel: channel.into(), text: text.into(), reply_to: None, pin: false, done };
        (job, rx)
    }

    #[test]
    fn replies_go_first_channels_take_turns_and_queues_are_bounded() {
        let mut q = Queues::default();
        let mut keep = Vec::new();
        for i in 0..3 {
            let (j, rx) = job(Kind::Notice, "a", &format!("notice {i}"));
            q.push(j);
            keep.push(rx);
        }
        for i in 0..3 {
            let (j, rx) = job(Kind::Reply, "a", &format!("a{i}"));
            q.push(j);
            keep.push(rx);
        }
        let (j, rx) = job(Kind::Reply, "b", "b0");
        q.push(j);
        keep.push(rx);
        let order: Vec<String> = std::iter::from_fn(|| q.pop().map(|j| j.text)).collect();
        assert_eq!(order, ["a0", "b0", "a1", "a2", "notice 0", "notice 1", "notice 2"]);

        // A channel's notices beyond the few queued are refused at once.
        let mut refused = Vec::new();
        for i in 0..NOTICES_PER_CHANNEL + 2 {
            let (j, mut rx) = job(Kind::Notice, "a", &format!("n{i}"));
            q.push(j);
            if let Ok(Err(SendError::QueueFull)) = rx.try_recv() {
                refused.push(i);
            }
            keep.push(rx);
        }
        assert_eq!(refused, [NOTICES_PER_CHANNEL, NOTICES_PER_CHANNEL + 1]);
    }

    #[test]
    fn notices_use_half_the_window() {
        let limits = SendLimits { normal: 4, elevated: 10, window: Duration::from_secs(30) };
        let mut w = Window::new(limits);
        let t0 = Instant::now();
        for i in 0..2 {
            assert_eq!(w.next_slot_for(t0, false, Kind::Notice), t0);
            w.record(t0 + Duration::from_secs(i));
        }
        // Two notices fill their half; replies still have the rest.
        assert_eq!(w.next_slot_for(t0 + Duration::from_secs(2), false, Kind::Notice), t0 + Duration::from_secs(30));
        assert_eq!(w.next_slot_for(t0 + Duration::from_secs(2), false, Kind::Reply), t0 + Duration::from_secs(2));
    }

    #[test]
    fn drop_codes_have_kinds() {
        assert_eq!(DropKind::of("msg_duplicate"), DropKind::Duplicate);
        assert_eq!(DropKind::of("msg_ratelimit"), DropKind::RateLimited);
        assert_eq!(DropKind::of("msg_rejected_mandatory"), DropKind::AutoMod);
        assert_eq!(DropKind::of("msg_followersonly_zero"), DropKind::ChatMode);
        assert_eq!(DropKind::of("something_new"), DropKind::Other);
    }
}
