//! Shared chat: channels whose chats are one for a while. A session has a
//! host and participants; each participant's subscribers hear
//! `channel.shared_chat.begin` and `.end`, and a chat message in one
//! participant's channel reaches every other participant's
//! `channel.chat.message` subscriptions as a copy: its own message id, the
//! receiving channel as broadcaster, and the `source_*` fields naming the
//! channel it was typed in (as Twitch sends them; `null` on the original).

use serde_json::{Value, json};

use crate::delivery;
use crate::state::{Inner, Shared, SharedChatSession, User};
use crate::util;

fn user_fields(prefix: &str, u: &User, into: &mut serde_json::Map<String, Value>) {
    into.insert(format!("{prefix}_id"), json!(u.id));
    into.insert(format!("{prefix}_login"), json!(u.login));
    into.insert(format!("{prefix}_name"), json!(u.display_name));
}

/// The session as Get Shared Chat Session answers it.
pub(crate) fn session_json(g: &Inner, s: &SharedChatSession) -> Value {
    let participants: Vec<Value> = s
        .participants
        .iter()
        .map(|p| json!({"broadcaster_id": p, "broadcaster_login": g.user_or_synth(p).login}))
        .collect();
    json!({
        "session_id": s.id,
        "host_broadcaster_id": s.host,
        "participants": participants,
        "created_at": s.created_at,
        "updated_at": s.created_at,
    })
}

/// Tell each participant's subscribers that the session began or ended.
fn announce(g: &mut Inner, s: &SharedChatSession, sub_type: &str) {
    let host = g.user_or_synth(&s.host);
    let participants: Vec<Value> = s
        .participants
        .iter()
        .map(|p| {
            let u = g.user_or_synth(p);
            json!({"broadcaster_user_id": u.id, "broadcaster_user_login": u.login, "broadcaster_user_name": u.display_name})
        })
        .collect();
    for p in &s.participants {
        let mut event = delivery::fresh_event(sub_type, "1").unwrap_or_else(|| json!({}));
        if let Some(e) = event.as_object_mut() {
            e.insert("session_id".into(), json!(s.id));
            user_fields("broadcaster_user", &g.user_or_synth(p), e);
            user_fields("host_broadcaster_user", &host, e);
            if e.contains_key("participants") || sub_type.ends_with("begin") {
                e.insert("participants".into(), json!(participants));
            }
        }
        delivery::deliver_matching(g, sub_type, "1", &[("broadcaster_user_id", p)], &event);
    }
}

/// Start a session of `host` with `participants` (the host is one of them
/// whether listed or not). Refused for fewer than two channels or a
/// channel already in a session. Returns the session id.
pub(crate) fn start(shared: &Shared, host: &str, participants: &[&str]) -> Result<String, String> {
    let mut all = vec![host.to_owned()];
    for p in participants {
        if !all.iter().any(|a| a == p) {
            all.push((*p).to_owned());
        }
    }
    if all.len() < 2 {
        return Err("a shared chat session needs at least two channels".into());
    }
    let mut g = shared.lock();
    if let Some(busy) = all.iter().find(|c| g.shared_chats.iter().any(|s| s.participants.contains(c))) {
        return Err(format!("channel {busy} is in a shared chat session already"));
    }
    let session = SharedChatSession {
        id: util::uuid(),
        host: host.to_owned(),
        participants: all,
        created_at: util::now_rfc3339(),
    };
    announce(&mut g, &session, "channel.shared_chat.begin");
    let id = session.id.clone();
    g.shared_chats.push(session);
    Ok(id)
}

/// End a session; its participants' subscribers hear of it.
pub(crate) fn end(shared: &Shared, session_id: &str) -> Result<(), String> {
    let mut g = shared.lock();
    let Some(i) = g.shared_chats.iter().position(|s| s.id == session_id) else {
        return Err(format!("no shared chat session {session_id}"));
    };
    let session = g.shared_chats.remove(i);
    announce(&mut g, &session, "channel.shared_chat.end");
    Ok(())
}

/// The session `channel` is in, if any.
pub(crate) fn of<'a>(g: &'a Inner, channel: &str) -> Option<&'a SharedChatSession> {
    g.shared_chats.iter().find(|s| s.participants.iter().any(|p| p == channel))
}

/// Deliver copies of a chat message `event` typed in `channel` to the
/// other participants of its session: how many notifications went out.
/// `badges_in` gives the chatter's badges as a participant's chat shows
/// them.
pub(crate) fn deliver_copies(
    g: &mut Inner,
    channel: &str,
    event: &Value,
    badges_in: impl Fn(&Inner, &str) -> Vec<Value>,
) -> usize {
    let Some(session) = of(g, channel) else { return 0 };
    let others: Vec<String> = session.participants.iter().filter(|p| *p != channel).cloned().collect();
    let source = g.user_or_synth(channel);
    let mut delivered = 0;
    for p in others {
        let mut copy = event.clone();
        if let Some(e) = copy.as_object_mut() {
            user_fields("broadcaster_user", &g.user_or_synth(&p), e);
            user_fields("source_broadcaster_user", &source, e);
            e.insert("source_message_id".into(), e.get("message_id").cloned().unwrap_or(Value::Null));
            e.insert("source_badges".into(), e.get("badges").cloned().unwrap_or(Value::Null));
            e.insert("message_id".into(), json!(util::uuid()));
            e.insert("badges".into(), json!(badges_in(g, &p)));
            // A reply's thread lives in its own channel.
            e.insert("reply".into(), Value::Null);
        }
        delivered += delivery::deliver_matching(g, "channel.chat.message", "1", &[("broadcaster_user_id", &p)], &copy);
    }
    delivered
}
