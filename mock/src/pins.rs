//! Pinned chat messages, shared by the areas: Pin, Update and Unpin Chat
//! Message, Send Chat Message with `pin`, and Get Pinned Chat Message.
//!
//! A channel has at most one pinned message, one of its messages the mock
//! remembers. A pin with a duration ends by itself (on tokio's clock, so a
//! test with a paused clock moves it); one without lasts until unpinned,
//! as Twitch's lasts until the stream ends.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use twitch::Timestamp;

use crate::chat::Refusal;
use crate::state::{Inner, Pin, Shared, User};

/// How long Send Chat Message's `pin` pins the message it sends.
pub(crate) const SEND_PIN: Duration = Duration::from_secs(20 * 60);

/// The channel's pin, dropped first if its time is up.
fn current<'a>(g: &'a mut Inner, broadcaster_id: &str) -> Option<&'a Pin> {
    let now = tokio::time::Instant::now();
    if g.pins.get(broadcaster_id).is_some_and(|p| p.until.is_some_and(|u| u <= now)) {
        g.pins.remove(broadcaster_id);
    }
    g.pins.get(broadcaster_id)
}

/// Only the broadcaster and the channel's moderators pin.
fn check_moderator(g: &Inner, broadcaster_id: &str, moderator_id: &str) -> Result<(), Refusal> {
    if g.is_elevated(broadcaster_id, moderator_id) {
        Ok(())
    } else {
        Err((403, "The user in moderator_id is not one of the broadcaster's moderators.".into()))
    }
}

/// A moderator names the channel's pinned message (Update and Unpin).
fn check_pinned(g: &mut Inner, broadcaster_id: &str, moderator_id: &str, message_id: &str) -> Result<(), Refusal> {
    check_moderator(g, broadcaster_id, moderator_id)?;
    if current(g, broadcaster_id).is_none_or(|p| p.message_id != message_id) {
        return Err((404, "The message in message_id is not pinned in the broadcaster's chat.".into()));
    }
    Ok(())
}

/// When a pin of `duration` made at `now` ends: tokio's instant for the
/// mock, the wall-clock time for the answer.
fn ends(now: SystemTime, duration: Option<Duration>) -> (Option<tokio::time::Instant>, Option<Timestamp>) {
    match duration {
        Some(d) => (Some(tokio::time::Instant::now() + d), Some(Timestamp::from(now + d))),
        None => (None, None),
    }
}

/// Pin Chat Message: one of the channel's messages, replacing any pin.
pub(crate) fn pin(
    shared: &Shared,
    broadcaster_id: &str,
    moderator_id: &str,
    message_id: &str,
    duration: Option<Duration>,
) -> Result<(), Refusal> {
    let mut g = shared.lock();
    check_moderator(&g, broadcaster_id, moderator_id)?;
    let Some(record) =
        g.chat_messages.iter().rev().find(|r| r.message_id == message_id && r.broadcaster_id == broadcaster_id)
    else {
        return Err((404, "The message in message_id was not found in the broadcaster's chat.".into()));
    };
    let (sender, text) = (record.chatter.clone(), record.text.clone());
    let moderator = g.user_or_synth(moderator_id);
    place(&mut g, broadcaster_id, message_id, sender, &text, moderator, duration);
    Ok(())
}

/// Pin a message that was just sent (Send Chat Message with `pin`).
pub(crate) fn pin_sent(g: &mut Inner, broadcaster_id: &str, message_id: &str, sender: User, text: &str) {
    place(g, broadcaster_id, message_id, sender.clone(), text, sender, Some(SEND_PIN));
}

fn place(
    g: &mut Inner,
    broadcaster_id: &str,
    message_id: &str,
    sender: User,
    text: &str,
    pinned_by: User,
    duration: Option<Duration>,
) {
    let wall = SystemTime::now();
    let (until, ends_at) = ends(wall, duration);
    let now = Timestamp::from(wall);
    let fragments = crate::chat::fragments(g, text);
    g.pins.insert(
        broadcaster_id.to_owned(),
        Pin {
            message_id: message_id.to_owned(),
            sender,
            pinned_by,
            text: text.to_owned(),
            fragments,
            starts_at: now,
            ends_at,
            updated_at: now,
            until,
        },
    );
}

/// Update Pinned Chat Message: a new end, counted from now.
pub(crate) fn update(
    shared: &Shared,
    broadcaster_id: &str,
    moderator_id: &str,
    message_id: &str,
    duration: Option<Duration>,
) -> Result<(), Refusal> {
    let mut g = shared.lock();
    check_pinned(&mut g, broadcaster_id, moderator_id, message_id)?;
    let wall = SystemTime::now();
    let (until, ends_at) = ends(wall, duration);
    if let Some(p) = g.pins.get_mut(broadcaster_id) {
        p.until = until;
        p.ends_at = ends_at;
        p.updated_at = Timestamp::from(wall);
    }
    Ok(())
}

/// Unpin Chat Message.
pub(crate) fn unpin(
    shared: &Shared,
    broadcaster_id: &str,
    moderator_id: &str,
    message_id: &str,
) -> Result<(), Refusal> {
    let mut g = shared.lock();
    check_pinned(&mut g, broadcaster_id, moderator_id, message_id)?;
    g.pins.remove(broadcaster_id);
    Ok(())
}

/// Get Pinned Chat Message: the pin as Helix shows it, if there is one.
pub(crate) fn get(shared: &Shared, broadcaster_id: &str, moderator_id: &str) -> Result<Option<Value>, Refusal> {
    let mut g = shared.lock();
    check_moderator(&g, broadcaster_id, moderator_id)?;
    Ok(current(&mut g, broadcaster_id).map(|p| {
        json!({
            "message_id": p.message_id,
            "broadcaster_id": broadcaster_id,
            "sender_user_id": p.sender.id,
            "sender_user_login": p.sender.login,
            "sender_user_name": p.sender.display_name,
            "pinned_by_user_id": p.pinned_by.id,
            "pinned_by_user_login": p.pinned_by.login,
            "pinned_by_user_name": p.pinned_by.display_name,
            "message": {"text": p.text, "fragments": p.fragments},
            "starts_at": p.starts_at.to_rfc3339_nanos(),
            "ends_at": p.ends_at.map(|t| t.to_rfc3339_nanos()),
            "updated_at": p.updated_at.to_rfc3339_nanos(),
        })
    }))
}
