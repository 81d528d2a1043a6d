//! Chat, shared by the areas: a message goes out as a `channel.chat.message`
//! notification with the chatter's badges (from the channel's roles),
//! mention fragments and its reply thread. Messages sent with Send Chat
//! Message first pass Twitch's chat rules: bans and timeouts, the chat
//! limits and the duplicate check.

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::{Value, json};

use crate::config::Config;
use crate::delivery::{self, Triggered};
use crate::state::{CHAT_MEMORY, ChatDrop, ChatLogEntry, ChatRecord, Inner, RecentChat, Role, Shared, User, set_user};
use crate::util;

/// Longest chat message Twitch takes, in characters.
const MAX_LEN: usize = 500;

/// A chat line from any chatter, for [`MockServer::chat`](crate::MockServer::chat):
/// what Twitch would deliver when that user types it in the channel.
#[derive(Debug, Clone)]
#[must_use]
pub struct ChatLine {
    broadcaster_id: String,
    chatter_id: String,
    chatter_login: String,
    text: String,
    badges: Vec<Badge>,
    reply_to: Option<String>,
    message_id: Option<String>,
}

impl ChatLine {
    /// `chatter_login` says `text` in `broadcaster_id`'s chat. A chatter
    /// the mock does not know joins its user directory.
    pub fn new(
        broadcaster_id: impl Into<String>,
        chatter_id: impl Into<String>,
        chatter_login: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        Self {
            broadcaster_id: broadcaster_id.into(),
            chatter_id: chatter_id.into(),
            chatter_login: chatter_login.into(),
            text: text.into(),
            badges: Vec::new(),
            reply_to: None,
            message_id: None,
        }
    }

    /// A badge the chatter shows (e.g. `subscriber`, `12`, `16`), after
    /// those the channel's state gives (`broadcaster`, `moderator`, `vip`).
    pub fn badge(mut self, set_id: impl Into<String>, id: impl Into<String>, info: impl Into<String>) -> Self {
        self.badges.push(Badge { set_id: set_id.into(), id: id.into(), info: info.into() });
        self
    }

    /// Reply to an earlier message of the channel.
    pub fn reply_to(mut self, parent_message_id: impl Into<String>) -> Self {
        self.reply_to = Some(parent_message_id.into());
        self
    }

    /// The event's `message_id` (default: a fresh UUID), e.g. to reply to it later.
    pub fn message_id(mut self, id: impl Into<String>) -> Self {
        self.message_id = Some(id.into());
        self
    }
}

/// A chat badge.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Badge {
    set_id: String,
    id: String,
    info: String,
}

impl Badge {
    fn new(set_id: &str, id: &str) -> Self {
        Self { set_id: set_id.to_owned(), id: id.to_owned(), info: String::new() }
    }
}

/// A message on its way to the channel's subscribers.
struct Message<'a> {
    broadcaster: User,
    chatter: User,
    text: &'a str,
    badges: &'a [Badge],
    reply_to: Option<&'a str>,
    message_id: String,
}

/// Deliver a chat line (no chat rules: Twitch already let it through).
pub(crate) fn line(shared: &Shared, line: ChatLine) -> Result<Triggered, String> {
    for (name, value) in [("broadcaster id", &line.broadcaster_id), ("chatter id", &line.chatter_id)] {
        if value.trim().is_empty() {
            return Err(format!("a chat line needs a {name}"));
        }
    }
    if line.text.trim().is_empty() {
        return Err("a chat line needs text".into());
    }
    if line.text.chars().count() > MAX_LEN {
        return Err(format!("a chat message is at most {MAX_LEN} characters"));
    }
    let mut g = shared.lock();
    let chatter = chatter(&mut g, &line.chatter_id, &line.chatter_login);
    let broadcaster = g.user_or_synth(&line.broadcaster_id);
    let message_id = line.message_id.clone().filter(|id| !id.is_empty()).unwrap_or_else(util::uuid);
    let (event, delivered) = post(
        &mut g,
        Message {
            broadcaster,
            chatter,
            text: &line.text,
            badges: &line.badges,
            reply_to: line.reply_to.as_deref(),
            message_id,
        },
    );
    Ok(Triggered { delivered, event, version: "1".into() })
}

/// The chatter of a line: the directory's user when the id and login
/// match one (for its display name), else a user made from them, who
/// joins the directory if the id is new.
fn chatter(g: &mut Inner, id: &str, login: &str) -> User {
    match g.user_by_id(id) {
        Some(u) if login.is_empty() || u.login.eq_ignore_ascii_case(login) => u.clone(),
        Some(_) => User::new(id, login),
        None if login.is_empty() => g.user_or_synth(id),
        None => {
            let u = User::new(id, login);
            g.add_user(u.clone());
            u
        }
    }
}

/// Send Chat Message: check Twitch's chat rules, then deliver. Returns the
/// message id, or why it was dropped with Twitch's text. Either way the
/// request goes into the chat log.
pub(crate) fn send(
    shared: &Shared,
    sender: User,
    broadcaster_id: &str,
    text: &str,
    reply_to: Option<&str>,
) -> Result<String, (ChatDrop, String)> {
    let now = tokio::time::Instant::now();
    let mut g = shared.lock();
    let broadcaster = g.user_or_synth(broadcaster_id);
    let outcome = match check(&mut g, &shared.config, now, &sender, &broadcaster, text) {
        Err(drop) => Err(drop),
        Ok(()) => {
            let recent = g.chat_recent.entry(sender.id.clone()).or_default();
            recent.push_back(RecentChat { at: now, broadcaster_id: broadcaster.id.clone(), text: text.to_owned() });
            let message_id = util::uuid();
            let message = Message {
                broadcaster,
                chatter: sender.clone(),
                text,
                badges: &[],
                reply_to,
                message_id: message_id.clone(),
            };
            post(&mut g, message);
            Ok(message_id)
        }
    };
    let entry = ChatLogEntry {
        broadcaster_id: broadcaster_id.to_owned(),
        sender_id: sender.id,
        text: text.to_owned(),
        message_id: outcome.as_ref().cloned().unwrap_or_default(),
        reply_parent_message_id: reply_to.map(str::to_owned),
        dropped: outcome.as_ref().err().map(|(d, _)| *d),
    };
    push_bounded(&mut g.chat_log, entry);
    outcome
}

/// Twitch's chat rules for a message, in the order checked: a ban or
/// timeout in the channel; the sender's chat limit (messages in every
/// channel within the window count, the channel sets the limit: higher for
/// its broadcaster and moderators); the same text as the sender's previous
/// message in the channel within the window.
fn check(
    g: &mut Inner,
    config: &Config,
    now: tokio::time::Instant,
    sender: &User,
    broadcaster: &User,
    text: &str,
) -> Result<(), (ChatDrop, String)> {
    if let Some(ban) = g.active_ban(&broadcaster.id, &sender.id) {
        if ban.expires_at.is_empty() {
            return Err((
                ChatDrop::Banned,
                format!("You are permanently banned from talking in {}.", broadcaster.login),
            ));
        }
        let left = twitch::Timestamp::parse(&ban.expires_at)
            .ok()
            .and_then(|t| t.to_system_time().duration_since(std::time::SystemTime::now()).ok())
            .unwrap_or_default();
        let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        return Err((ChatDrop::TimedOut, format!("You are timed out for {secs} more seconds.")));
    }
    let window = config.chat_window;
    let limit = if g.is_elevated(&broadcaster.id, &sender.id) { config.chat_elevated } else { config.chat_normal };
    let recent = g.chat_recent.entry(sender.id.clone()).or_default();
    while recent.front().is_some_and(|r| now.saturating_duration_since(r.at) >= window) {
        recent.pop_front();
    }
    if recent.len() >= limit as usize {
        return Err((
            ChatDrop::Ratelimit,
            "Your message was not sent because you are sending messages too quickly.".into(),
        ));
    }
    if recent.iter().rev().find(|r| r.broadcaster_id == broadcaster.id).is_some_and(|r| r.text == text) {
        return Err((
            ChatDrop::Duplicate,
            format!(
                "Your message was not sent because it is identical to the previous one you sent, less than {} ago.",
                seconds(window)
            ),
        ));
    }
    Ok(())
}

/// `30 seconds`, `1 second`, `0.5 seconds`.
fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    format!("{s} second{}", if s == 1.0 { "" } else { "s" })
}

/// Build the event, remember the message for replies and deliver it to
/// every enabled `channel.chat.message` v1 subscription of the channel.
/// Returns the event and how many notifications went out.
fn post(g: &mut Inner, m: Message<'_>) -> (Value, usize) {
    let badges = badges(g, &m.broadcaster.id, &m.chatter.id, m.badges);
    let fragments = fragments(g, m.text);
    let (reply, thread) = match m.reply_to.filter(|p| !p.is_empty()) {
        Some(parent) => {
            let (reply, thread) = reply(g, &m.broadcaster, parent);
            (reply, Some(thread))
        }
        None => (Value::Null, None),
    };
    let mut event = delivery::fresh_event("channel.chat.message", "1").unwrap_or_else(|| json!({}));
    if let Some(e) = event.as_object_mut() {
        for (prefix, u) in [("broadcaster_user", &m.broadcaster), ("chatter_user", &m.chatter)] {
            e.insert(format!("{prefix}_id"), json!(u.id));
            e.insert(format!("{prefix}_login"), json!(u.login));
            e.insert(format!("{prefix}_name"), json!(u.display_name));
        }
        e.insert("message_id".into(), json!(m.message_id));
        e.insert("message".into(), json!({"text": m.text, "fragments": fragments}));
        e.insert("message_type".into(), json!("text"));
        e.insert("badges".into(), json!(badges));
        e.insert("cheer".into(), Value::Null);
        e.insert("reply".into(), reply);
    }
    push_bounded(
        &mut g.chat_messages,
        ChatRecord {
            message_id: m.message_id.clone(),
            broadcaster_id: m.broadcaster.id.clone(),
            chatter: m.chatter.clone(),
            text: m.text.to_owned(),
            thread,
        },
    );
    let condition = [("broadcaster_user_id", m.broadcaster.id.as_str())];
    let mut delivered = delivery::deliver_matching(g, "channel.chat.message", "1", &condition, &event);
    let chatter = m.chatter.id.clone();
    delivered += crate::shared_chat::deliver_copies(g, &m.broadcaster.id, &event, |g, channel| {
        self::badges(g, channel, &chatter, m.badges)
    });
    (event, delivered)
}

/// The badges a chatter shows: `broadcaster/1` in their own channel,
/// `moderator/1` or `vip/1` from the channel's roles, then the given ones
/// (one per set).
fn badges(g: &Inner, broadcaster_id: &str, chatter_id: &str, given: &[Badge]) -> Vec<Value> {
    let mut all = Vec::new();
    if chatter_id == broadcaster_id {
        all.push(Badge::new("broadcaster", "1"));
    }
    match g.role(broadcaster_id, chatter_id) {
        Some(Role::Moderator) => all.push(Badge::new("moderator", "1")),
        Some(Role::Vip) => all.push(Badge::new("vip", "1")),
        None => {}
    }
    for b in given {
        if !all.iter().any(|a| a.set_id == b.set_id) {
            all.push(b.clone());
        }
    }
    all.into_iter().map(|b| json!({"set_id": b.set_id, "id": b.id, "info": b.info})).collect()
}

/// The message split into text and `mention` fragments: a word `@login`
/// naming a user the mock knows is a mention (what follows the login, like
/// a comma, is text again).
pub(crate) fn fragments(g: &Inner, text: &str) -> Vec<Value> {
    let fragment = |kind: &str, part: &str, mention: Value| json!({"type": kind, "text": part, "cheermote": null, "emote": null, "mention": mention});
    let mut out = Vec::new();
    let (mut plain_from, mut i) = (0, 0);
    while i < text.len() {
        // '@' is ASCII, so `i` is a char boundary whenever it is found.
        if text.as_bytes()[i] == b'@' && (i == 0 || text[..i].ends_with(char::is_whitespace)) {
            let rest = &text[i + 1..];
            let len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
            if let Some(u) = g.user_by_login(&rest[..len]).filter(|_| len > 0) {
                if plain_from < i {
                    out.push(fragment("text", &text[plain_from..i], Value::Null));
                }
                let end = i + 1 + len;
                let mention = json!({"user_id": u.id, "user_name": u.display_name, "user_login": u.login});
                out.push(fragment("mention", &text[i..end], mention));
                (plain_from, i) = (end, end);
                continue;
            }
        }
        i += 1;
    }
    if plain_from < text.len() {
        out.push(fragment("text", &text[plain_from..], Value::Null));
    }
    out
}

/// The `reply` object for a reply to `parent_id`, and the thread the new
/// message belongs to. A parent the mock remembers names its author, text
/// and thread; an unknown one is taken to be the broadcaster's, with no text.
fn reply(g: &Inner, broadcaster: &User, parent_id: &str) -> (Value, (String, User)) {
    let parent = g.chat_messages.iter().rev().find(|r| r.message_id == parent_id && r.broadcaster_id == broadcaster.id);
    let (author, body, thread) = match parent {
        Some(p) => (
            p.chatter.clone(),
            p.text.clone(),
            p.thread.clone().unwrap_or_else(|| (p.message_id.clone(), p.chatter.clone())),
        ),
        None => (broadcaster.clone(), String::new(), (parent_id.to_owned(), broadcaster.clone())),
    };
    let reply = json!({
        "parent_message_id": parent_id,
        "parent_message_body": body,
        "parent_user_id": author.id,
        "parent_user_name": author.display_name,
        "parent_user_login": author.login,
        "thread_message_id": thread.0,
        "thread_user_id": thread.1.id,
        "thread_user_name": thread.1.display_name,
        "thread_user_login": thread.1.login,
    });
    (reply, thread)
}

/// A refusal of a chat action: Twitch's status and message.
pub(crate) type Refusal = (u16, String);

/// Delete Chat Messages: one message of the channel (Twitch's 404 when the
/// mock does not remember it; the broadcaster's messages and another
/// moderator's may not be deleted), which goes out as
/// `channel.chat.message_delete`; or, without an id, every message, as
/// `channel.chat.clear`. Returns how many notifications went out.
pub(crate) fn delete_messages(
    shared: &Shared,
    broadcaster_id: &str,
    moderator_id: &str,
    message_id: Option<&str>,
) -> Result<usize, Refusal> {
    let mut g = shared.lock();
    let broadcaster = g.user_or_synth(broadcaster_id);
    let condition = [("broadcaster_user_id", broadcaster_id)];
    let Some(message_id) = message_id.filter(|m| !m.is_empty()) else {
        g.chat_messages.retain(|r| r.broadcaster_id != broadcaster_id);
        let mut event = delivery::fresh_event("channel.chat.clear", "1").unwrap_or_else(|| json!({}));
        set_user(&mut event, "broadcaster_user", &broadcaster);
        return Ok(delivery::deliver_matching(&mut g, "channel.chat.clear", "1", &condition, &event));
    };
    let at = g.chat_messages.iter().position(|r| r.message_id == message_id && r.broadcaster_id == broadcaster_id);
    let Some(at) = at else { return Err((404, "The ID in message_id was not found.".into())) };
    let author = g.chat_messages[at].chatter.clone();
    if author.id == broadcaster_id {
        return Err((400, "You may not delete the broadcaster's messages.".into()));
    }
    if author.id != moderator_id && g.role(broadcaster_id, &author.id) == Some(Role::Moderator) {
        return Err((400, "You may not delete another moderator's messages.".into()));
    }
    g.chat_messages.remove(at);
    let mut event = delivery::fresh_event("channel.chat.message_delete", "1").unwrap_or_else(|| json!({}));
    set_user(&mut event, "broadcaster_user", &broadcaster);
    set_user(&mut event, "target_user", &author);
    event["message_id"] = json!(message_id);
    Ok(delivery::deliver_matching(&mut g, "channel.chat.message_delete", "1", &condition, &event))
}

/// The colors of an announcement.
const ANNOUNCEMENT_COLORS: &[&str] = &["blue", "green", "orange", "purple", "primary"];
/// The notice objects of `channel.chat.notification`, one per notice type.
const NOTICES: &[&str] = &[
    "sub",
    "resub",
    "sub_gift",
    "community_sub_gift",
    "gift_paid_upgrade",
    "prime_paid_upgrade",
    "pay_it_forward",
    "raid",
    "unraid",
    "announcement",
    "bits_badge_tier",
    "charity_donation",
];

/// Send Chat Announcement: the sender's message goes out as a
/// `channel.chat.notification` of type `announcement` (color `primary`
/// unless given). One announcement per channel every 2 seconds (Twitch's
/// 429 otherwise); an empty or over-long message or an unknown color is
/// its 400.
pub(crate) fn announce(
    shared: &Shared,
    broadcaster_id: &str,
    sender: User,
    text: &str,
    color: Option<&str>,
) -> Result<usize, Refusal> {
    if text.trim().is_empty() {
        return Err((400, "The message field may not contain an empty string.".into()));
    }
    if text.chars().count() > MAX_LEN {
        return Err((400, format!("The message field may be at most {MAX_LEN} characters.")));
    }
    let color = color.filter(|c| !c.is_empty()).unwrap_or("primary").to_ascii_lowercase();
    if !ANNOUNCEMENT_COLORS.contains(&color.as_str()) {
        return Err((400, "The specified color is not valid.".into()));
    }
    let now = tokio::time::Instant::now();
    let mut g = shared.lock();
    if g.announced.get(broadcaster_id).is_some_and(|at| now.saturating_duration_since(*at) < Duration::from_secs(2)) {
        return Err((
            429,
            "The sender has exceeded the number of announcements they may send to this broadcaster_id within a given window.".into(),
        ));
    }
    g.announced.insert(broadcaster_id.to_owned(), now);
    let broadcaster = g.user_or_synth(broadcaster_id);
    let mut event = delivery::fresh_event("channel.chat.notification", "1").unwrap_or_else(|| json!({}));
    set_user(&mut event, "broadcaster_user", &broadcaster);
    set_user(&mut event, "chatter_user", &sender);
    event["chatter_is_anonymous"] = json!(false);
    event["color"] = json!("");
    event["badges"] = json!(badges(&g, broadcaster_id, &sender.id, &[]));
    event["system_message"] = json!("");
    event["message_id"] = json!(util::uuid());
    event["message"] = json!({"text": text, "fragments": fragments(&g, text)});
    event["notice_type"] = json!("announcement");
    for notice in NOTICES {
        event[*notice] = Value::Null;
    }
    event["announcement"] = json!({"color": color.to_ascii_uppercase()});
    let condition = [("broadcaster_user_id", broadcaster_id)];
    Ok(delivery::deliver_matching(&mut g, "channel.chat.notification", "1", &condition, &event))
}

/// Time between two Shoutouts of a channel, and between two to the same channel.
const SHOUTOUT_COOLDOWN: Duration = Duration::from_secs(120);
const SHOUTOUT_TARGET_COOLDOWN: Duration = Duration::from_secs(3600);

/// Send a Shoutout: `channel.shoutout.create` to the sender's subscribers
/// and `channel.shoutout.receive` to the receiver's. A channel may send one
/// every 2 minutes, and one to the same channel every 60 minutes (Twitch's
/// 429); not to itself (its 400).
pub(crate) fn shoutout(shared: &Shared, from_id: &str, to_id: &str, moderator_id: &str) -> Result<usize, Refusal> {
    if from_id == to_id {
        return Err((400, "The broadcaster may not give themselves a Shoutout.".into()));
    }
    let now = tokio::time::Instant::now();
    let mut g = shared.lock();
    let since = |at: &tokio::time::Instant| now.saturating_duration_since(*at);
    if g.shoutouts.iter().any(|(f, _, at)| f == from_id && since(at) < SHOUTOUT_COOLDOWN) {
        return Err((
            429,
            "The broadcaster exceeded the number of Shoutouts they may send within a given window.".into(),
        ));
    }
    if g.shoutouts.iter().any(|(f, t, at)| f == from_id && t == to_id && since(at) < SHOUTOUT_TARGET_COOLDOWN) {
        return Err((
            429,
            "The broadcaster exceeded the number of Shoutouts they may send the same broadcaster within a given window."
                .into(),
        ));
    }
    g.shoutouts.retain(|(f, t, at)| since(at) < SHOUTOUT_TARGET_COOLDOWN && !(f == from_id && t == to_id));
    g.shoutouts.push((from_id.to_owned(), to_id.to_owned(), now));
    let (from, to, moderator) = (g.user_or_synth(from_id), g.user_or_synth(to_id), g.user_or_synth(moderator_id));
    let started = std::time::SystemTime::now();
    let at = |d: Duration| twitch::Timestamp::from(started + d).to_rfc3339_nanos();
    let mut created = delivery::fresh_event("channel.shoutout.create", "1").unwrap_or_else(|| json!({}));
    set_user(&mut created, "broadcaster_user", &from);
    set_user(&mut created, "to_broadcaster_user", &to);
    set_user(&mut created, "moderator_user", &moderator);
    created["started_at"] = json!(at(Duration::ZERO));
    created["cooldown_ends_at"] = json!(at(SHOUTOUT_COOLDOWN));
    created["target_cooldown_ends_at"] = json!(at(SHOUTOUT_TARGET_COOLDOWN));
    let mut received = delivery::fresh_event("channel.shoutout.receive", "1").unwrap_or_else(|| json!({}));
    set_user(&mut received, "broadcaster_user", &to);
    set_user(&mut received, "from_broadcaster_user", &from);
    received["started_at"] = created["started_at"].clone();
    received["viewer_count"] = created["viewer_count"].clone();
    let sent = delivery::deliver_matching(
        &mut g,
        "channel.shoutout.create",
        "1",
        &[("broadcaster_user_id", from_id)],
        &created,
    );
    Ok(sent
        + delivery::deliver_matching(
            &mut g,
            "channel.shoutout.receive",
            "1",
            &[("broadcaster_user_id", to_id)],
            &received,
        ))
}

/// Longest whisper to someone the sender never whispered, and to others;
/// Twitch cuts longer ones.
const FIRST_WHISPER_LEN: usize = 500;
const WHISPER_LEN: usize = 10_000;

/// Send Whisper: a `user.whisper.message` to the recipient's subscribers,
/// cut to 500 characters for a first whisper between the two and to 10,000
/// after. Not to oneself, and not empty (Twitch's 400).
pub(crate) fn whisper(shared: &Shared, from: User, to_id: &str, text: &str) -> Result<usize, Refusal> {
    if from.id == to_id {
        return Err((400, "The ID in the from_user_id and to_user_id query parameters must be different.".into()));
    }
    if text.is_empty() {
        return Err((400, "The message field must not contain an empty string.".into()));
    }
    let mut g = shared.lock();
    let first = g.whispered.insert((from.id.clone(), to_id.to_owned()));
    let max = if first { FIRST_WHISPER_LEN } else { WHISPER_LEN };
    let text: String = text.chars().take(max).collect();
    let to = g.user_or_synth(to_id);
    let mut event = delivery::fresh_event("user.whisper.message", "1").unwrap_or_else(|| json!({}));
    set_user(&mut event, "from_user", &from);
    set_user(&mut event, "to_user", &to);
    event["whisper_id"] = json!(util::uuid());
    event["whisper"] = json!({ "text": text });
    Ok(delivery::deliver_matching(&mut g, "user.whisper.message", "1", &[("user_id", to_id)], &event))
}

/// Append, dropping the oldest beyond `CHAT_MEMORY`.
fn push_bounded<T>(list: &mut VecDeque<T>, item: T) {
    if list.len() >= CHAT_MEMORY {
        list.pop_front();
    }
    list.push_back(item);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inner() -> Inner {
        let mut g = Inner::default();
        g.add_user(User::new("1", "streamer"));
        g.add_user(User::new("2", "viewer_2"));
        g
    }

    #[test]
    fn mentions_of_known_users_become_mention_fragments() {
        let g = inner();
        let f = fragments(&g, "hi @Viewer_2, meet @nobody and @streamer");
        let kinds: Vec<(&str, &str)> =
            f.iter().map(|x| (x["type"].as_str().unwrap_or(""), x["text"].as_str().unwrap_or(""))).collect();
        assert_eq!(
            kinds,
            [("text", "hi "), ("mention", "@Viewer_2"), ("text", ", meet @nobody and "), ("mention", "@streamer")]
        );
        assert_eq!(f[1]["mention"], json!({"user_id": "2", "user_name": "Viewer_2", "user_login": "viewer_2"}));
        assert_eq!(f[0]["mention"], Value::Null);
        // Not a mention: mid-word, or a bare '@'; non-ASCII text stays whole.
        let f = fragments(&g, "mail@streamer é @ ü");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0]["text"], "mail@streamer é @ ü");
    }

    #[test]
    fn badges_come_from_roles_then_the_given_ones() {
        let mut g = inner();
        let own = badges(&g, "1", "1", &[Badge::new("broadcaster", "9"), Badge::new("subscriber", "12")]);
        assert_eq!(own[0], json!({"set_id": "broadcaster", "id": "1", "info": ""}));
        assert_eq!(own.len(), 2, "one badge per set: {own:?}");
        g.grant("1", User::new("2", "viewer_2"), Role::Vip).expect("VIP");
        assert_eq!(badges(&g, "1", "2", &[]), [json!({"set_id": "vip", "id": "1", "info": ""})]);
        assert!(badges(&g, "3", "2", &[]).is_empty(), "a role is per channel");
    }

    #[test]
    fn a_reply_names_its_parent_and_the_thread_top() {
        let mut g = inner();
        let (streamer, viewer) = (User::new("1", "streamer"), User::new("2", "viewer_2"));
        g.chat_messages.push_back(ChatRecord {
            message_id: "top".into(),
            broadcaster_id: "1".into(),
            chatter: streamer.clone(),
            text: "first".into(),
            thread: None,
        });
        let (r, thread) = reply(&g, &streamer, "top");
        assert_eq!((r["parent_message_body"].as_str(), r["thread_message_id"].as_str()), (Some("first"), Some("top")));
        g.chat_messages.push_back(ChatRecord {
            message_id: "second".into(),
            broadcaster_id: "1".into(),
            chatter: viewer,
            text: "re".into(),
            thread: Some(thread),
        });
        let (r, _) = reply(&g, &streamer, "second");
        assert_eq!(r["parent_user_login"], "viewer_2");
        assert_eq!(r["thread_message_id"], "top");
        assert_eq!(r["thread_user_login"], "streamer");
    }
}
