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
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Dropped(r) => write!(f, "message {r}"),
            SendError::Failed(e) => write!(f, "sending failed: {e}"),
            SendError::Closed => f.write_str("the bot is shutting down"),
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
    /// it is not elevated.
    pub(crate) fn next_slot(&mut self, now: Instant, elevated: bool) -> Instant {
        while self.sent.front().is_some_and(|t| *t + self.limits.window <= now) {
            self.sent.pop_front();
        }
        let limit = if elevated { self.limits.elevated } else { self.limits.normal }.max(1) as usize;
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

pub(crate) struct Job {
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
            while let Some(job) = rx.recv().await {
                let is_elevated = job.channel == bot
                    || elevated_in
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(&job.channel)
                        .copied()
                        .unwrap_or(false);
                let now = Instant::now();
                let at = window.next_slot(now, is_elevated);
                // Only when there is a wait: a timer rounds up to the next millisecond.
                if at > now {
                    tokio::time::sleep_until(at).await;
                }
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
        channel: UserId,
        text: String,
        reply_to: Option<MessageId>,
        pin: bool,
    ) -> Result<Sent, SendError> {
        let (done, rx) = oneshot::channel();
        self.jobs.send(Job { channel, text, reply_to, pin, done }).map_err(|_| SendError::Closed)?;
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
            assert_eq!(w.next_slot(t0, false), t0);
            w.record(t0 + Duration::from_secs(i));
        }
        // Full for ordinary channels until the first leaves the window.
        assert_eq!(w.next_slot(t0 + Duration::from_secs(2), false), t0 + Duration::from_secs(30));
        // An elevated channel still has room.
        assert_eq!(w.next_slot(t0 + Duration::from_secs(2), true), t0 + Duration::from_secs(2));
        w.record(t0 + Duration::from_secs(2));
        assert_eq!(w.next_slot(t0 + Duration::from_secs(3), true), t0 + Duration::from_secs(30));
        assert_eq!(w.next_slot(t0 + Duration::from_secs(3), false), t0 + Duration::from_secs(31));
        assert_eq!(w.next_slot(t0 + Duration::from_secs(31), false), t0 + Duration::from_secs(31));
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
