//! Guest Star sessions, invites and slots, shared by the Helix handlers
//! and the control API.
//!
//! A channel has at most one active session. Create Guest Star Session
//! starts one with the broadcaster alone in slot `"0"`; moderators invite
//! guests, an invitee says they are ready (on Twitch's site: here with
//! `MockServer::guest_star_invite_status` or `POST /control/guest_star_invites`),
//! and a moderator assigns them a slot from `"1"` to the channel's
//! `slot_count` (Get Channel Guest Star Settings). Slots move and swap,
//! their settings change, guests leave; End Guest Star Session ends it all.
//! Each change goes out as the matching `channel.guest_star_*` notification,
//! one per subscribed moderator, as Twitch sends them.
//!
//! Moderators are the broadcaster and the channel's moderators (Add Channel
//! Moderator); whose token calls is not checked, as elsewhere in the mock.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use twitch::{EndpointMeta, Timestamp};

use crate::delivery;
use crate::state::{
    GuestStarInvite, GuestStarMedia, GuestStarSession, GuestStarSlot, Inner, Shared, Subscription, User, set_user,
};
use crate::util;
use crate::wire::{Req, Resp};

/// The host's slot.
const HOST_SLOT: &str = "0";

/// Slots a channel has when its settings were never written (Twitch's example).
const DEFAULT_SLOTS: i64 = 4;

/// The store's resource holding a channel's Guest Star settings.
pub(crate) const SETTINGS: &str = "guest-star";

/// The EventSub version of every Guest Star subscription type.
const VERSION: &str = "beta";

impl GuestStarMedia {
    fn json(self) -> Value {
        json!({"is_available": self.available, "is_host_enabled": self.host, "is_guest_enabled": self.guest})
    }
}

impl GuestStarSlot {
    /// The slot as Get Guest Star Session lists it; `alias` adds the slot
    /// under `id` as well, as Twitch's Create and End examples name it.
    fn json(&self, slot_id: &str, alias: bool) -> Value {
        let mut v = json!({
            "slot_id": slot_id,
            "user_id": self.user.id,
            "user_display_name": self.user.display_name,
            "user_login": self.user.login,
            "is_live": self.is_live,
            "volume": self.volume,
            "assigned_at": self.assigned_at.to_rfc3339_nanos(),
            "audio_settings": self.audio.json(),
            "video_settings": self.video.json(),
        });
        if alias {
            v["id"] = json!(slot_id);
        }
        v
    }

    /// The guest's state in `channel.guest_star_guest.update`.
    fn state(&self) -> &'static str {
        if self.is_live { "live" } else { "backstage" }
    }
}

impl GuestStarInvite {
    /// A new invite, `INVITED` now.
    fn new(user: User, audio: bool, video: bool) -> Self {
        GuestStarInvite { user, invited_at: Timestamp::now(), status: "INVITED", audio, video }
    }

    fn json(&self) -> Value {
        json!({
            "user_id": self.user.id,
            "invited_at": self.invited_at.to_rfc3339_nanos(),
            "status": self.status,
            "is_audio_enabled": self.audio,
            "is_video_enabled": self.video,
            "is_audio_available": true,
            "is_video_available": true,
        })
    }
}

impl GuestStarSession {
    fn json(&self, alias: bool) -> Value {
        let guests: Vec<Value> = self.slots.iter().map(|(id, s)| s.json(id, alias)).collect();
        json!({"id": self.id, "guests": guests})
    }

    fn slot_of(&self, user_id: &str) -> Option<&str> {
        self.slots.iter().find(|(_, s)| s.user.id == user_id).map(|(id, _)| id.as_str())
    }
}

/// A write's outcome: done, or Twitch's refusal.
pub(crate) type Done = Result<(), Resp>;

fn invalid_session() -> Resp {
    Resp::error(400, "Missing or invalid session_id")
}

fn invalid_slot() -> Resp {
    Resp::error(400, "Missing or invalid slot_id")
}

/// The channel's slot count: its written settings, else Twitch's example's.
fn slot_count(g: &Inner, broadcaster_id: &str) -> i64 {
    g.store
        .get(&(SETTINGS, broadcaster_id.to_owned()))
        .and_then(|items| items.first())
        .and_then(|s| s.get("slot_count"))
        .and_then(|n| n.as_i64().or_else(|| n.as_str().and_then(|s| s.parse().ok())))
        .unwrap_or(DEFAULT_SLOTS)
}

/// Is `slot_id` a guest slot of this channel (`"1"` to its slot count)?
fn guest_slot(g: &Inner, broadcaster_id: &str, slot_id: &str) -> bool {
    slot_id.parse::<i64>().is_ok_and(|n| n >= 1 && n <= slot_count(g, broadcaster_id)) && !slot_id.starts_with('0')
}

/// The channel's active session with this id, for a moderator of the
/// channel; `status` is what a non-moderator gets (Twitch answers 401 on
/// Assign Guest Star Slot, 403 elsewhere).
fn moderated<'a>(
    g: &'a mut Inner,
    broadcaster_id: &str,
    moderator_id: &str,
    session_id: &str,
    status: u16,
) -> Result<&'a mut GuestStarSession, Resp> {
    if !g.is_elevated(broadcaster_id, moderator_id) {
        return Err(Resp::error(status, "moderator_id is not a Guest Star moderator"));
    }
    match g.guest_star.sessions.get_mut(broadcaster_id) {
        Some(s) if s.id == session_id => Ok(s),
        _ => Err(invalid_session()),
    }
}

/// Get Guest Star Session: the active session (none once it ended), for
/// the channel's moderators and for its invitees and guests; `None` for a
/// channel that never had a session.
pub(crate) fn session(shared: &Shared, b: &str, m: &str) -> Option<Resp> {
    let g = shared.lock();
    let session = g.guest_star.sessions.get(b);
    if session.is_none() && !g.guest_star.ended.contains_key(b) {
        return None;
    }
    let taking_part = session.is_some_and(|s| s.slot_of(m).is_some() || s.invites.iter().any(|i| i.user.id == m));
    if !g.is_elevated(b, m) && !taking_part {
        return Some(Resp::error(401, "moderator_id is not a Guest Star moderator"));
    }
    let data: Vec<Value> = session.map(|s| s.json(false)).into_iter().collect();
    Some(Resp::json(200, &json!({ "data": data })))
}

/// Get Guest Star Invites.
pub(crate) fn invites(shared: &Shared, b: &str, m: &str, session_id: &str) -> Resp {
    let mut g = shared.lock();
    match moderated(&mut g, b, m, session_id, 403) {
        Ok(s) => Resp::json(200, &json!({"data": s.invites.iter().map(GuestStarInvite::json).collect::<Vec<_>>()})),
        Err(r) => r,
    }
}

/// Create Guest Star Session: the broadcaster alone in slot `"0"`, live.
pub(crate) fn create(shared: &Shared, meta: &EndpointMeta, broadcaster_id: &str) -> Resp {
    let mut g = shared.lock();
    if g.guest_star.sessions.contains_key(broadcaster_id) {
        return Resp::error(400, "Session limit reached (1 active call)");
    }
    let now = Timestamp::now();
    let all = GuestStarMedia { host: true, guest: true, available: true };
    let host = GuestStarSlot {
        user: g.user_or_synth(broadcaster_id),
        is_live: true,
        volume: 100,
        assigned_at: now,
        audio: all,
        video: all,
    };
    let session = GuestStarSession {
        id: util::token(27),
        started_at: now,
        slots: BTreeMap::from([(HOST_SLOT.to_owned(), host)]),
        invites: Vec::new(),
    };
    let answer = json!({"data": [session.json(true)]});
    let mut event = channel(&g, broadcaster_id);
    event["session_id"] = json!(session.id);
    event["started_at"] = json!(now.to_rfc3339_nanos());
    g.guest_star.sessions.insert(broadcaster_id.to_owned(), session);
    g.guest_star.ended.entry(broadcaster_id.to_owned()).or_default();
    notify(&mut g, "channel.guest_star_session.begin", broadcaster_id, &event);
    Resp::json(meta.success_status, &answer)
}

/// End Guest Star Session: answers the session as it was.
pub(crate) fn end(shared: &Shared, meta: &EndpointMeta, broadcaster_id: &str, session_id: &str) -> Resp {
    let mut g = shared.lock();
    let active = g.guest_star.sessions.get(broadcaster_id).is_some_and(|s| s.id == session_id);
    let Some(session) = active.then(|| g.guest_star.sessions.remove(broadcaster_id)).flatten() else {
        let ended = g.guest_star.ended.get(broadcaster_id).is_some_and(|e| e.contains(session_id));
        return if ended { Resp::error(400, "Session has already been ended") } else { invalid_session() };
    };
    g.guest_star.ended.entry(broadcaster_id.to_owned()).or_default().insert(session.id.clone());
    let mut event = channel(&g, broadcaster_id);
    event["session_id"] = json!(session.id);
    event["started_at"] = json!(session.started_at.to_rfc3339_nanos());
    event["ended_at"] = json!(util::now_rfc3339());
    set_user(&mut event, "host_user", &g.user_or_synth(broadcaster_id));
    notify(&mut g, "channel.guest_star_session.end", broadcaster_id, &event);
    Resp::json(meta.success_status, &json!({"data": [session.json(true)]}))
}

/// Send Guest Star Invite: a pending invite, `INVITED`.
pub(crate) fn invite(shared: &Shared, b: &str, m: &str, session_id: &str, guest_id: &str) -> Done {
    let mut g = shared.lock();
    let banned = g.active_ban(b, guest_id).is_some();
    let user = g.user_or_synth(guest_id);
    let s = moderated(&mut g, b, m, session_id, 403)?;
    if banned || guest_id == b {
        return Err(Resp::error(403, "Unauthorized guest invited"));
    }
    if s.invites.iter().any(|i| i.user.id == guest_id) || s.slot_of(guest_id).is_some() {
        return Err(Resp::error(403, "Guest already invited"));
    }
    s.invites.push(GuestStarInvite::new(user.clone(), true, true));
    let id = s.id.clone();
    guest_update(&mut g, (b, &id), Some(m), &user, None, "invited");
    Ok(())
}

/// Delete Guest Star Invite.
pub(crate) fn uninvite(shared: &Shared, b: &str, m: &str, session_id: &str, guest_id: &str) -> Done {
    let mut g = shared.lock();
    let s = moderated(&mut g, b, m, session_id, 403)?;
    let Some(at) = s.invites.iter().position(|i| i.user.id == guest_id) else {
        return Err(Resp::error(404, "No invite exists for specified guest_id"));
    };
    let user = s.invites.remove(at).user;
    let id = s.id.clone();
    guest_update(&mut g, (b, &id), Some(m), &user, None, "removed");
    Ok(())
}

/// Assign Guest Star Slot: a ready invitee into a free guest slot,
/// backstage (not live) until Update Guest Star Slot Settings says
/// `is_live`.
pub(crate) fn assign(shared: &Shared, b: &str, m: &str, session_id: &str, guest_id: &str, slot_id: &str) -> Done {
    let mut g = shared.lock();
    let valid = guest_slot(&g, b, slot_id);
    let s = moderated(&mut g, b, m, session_id, 401)?;
    if slot_id == HOST_SLOT {
        return Err(Resp::error(403, "Cannot assign host slot"));
    }
    if !valid {
        return Err(invalid_slot());
    }
    if s.slot_of(guest_id).is_some() {
        return Err(Resp::error(403, "Guest already assigned to slot"));
    }
    let Some(at) = s.invites.iter().position(|i| i.user.id == guest_id) else {
        return Err(Resp::error(403, "Guest not invited to session"));
    };
    if s.invites[at].status != "READY" {
        return Err(Resp::error(403, "Guest is not ready to join"));
    }
    if s.slots.contains_key(slot_id) {
        return Err(Resp::error(400, "The slot is assigned to another guest"));
    }
    let i = s.invites.remove(at);
    let slot = GuestStarSlot {
        user: i.user.clone(),
        is_live: false,
        volume: 100,
        assigned_at: Timestamp::now(),
        audio: GuestStarMedia { host: true, guest: i.audio, available: true },
        video: GuestStarMedia { host: true, guest: i.video, available: true },
    };
    s.slots.insert(slot_id.to_owned(), slot.clone());
    let id = s.id.clone();
    guest_update(&mut g, (b, &id), Some(m), &i.user, Some((slot_id, &slot)), slot.state());
    Ok(())
}

/// Update Guest Star Slot: the guest in the source slot moves to the
/// destination, whose guest (if any) moves to the source.
pub(crate) fn move_slot(
    shared: &Shared,
    b: &str,
    m: &str,
    session_id: &str,
    source: &str,
    destination: Option<&str>,
) -> Done {
    let mut g = shared.lock();
    let valid = |slot: &str| guest_slot(&g, b, slot);
    let Some(destination) = destination.filter(|d| valid(d)) else {
        return Err(invalid_slot());
    };
    if !valid(source) {
        return Err(invalid_slot());
    }
    let s = moderated(&mut g, b, m, session_id, 403)?;
    let Some(moving) = s.slots.remove(source) else {
        return Err(invalid_slot());
    };
    let mut moved = vec![(destination.to_owned(), moving.clone())];
    if let Some(other) = s.slots.insert(destination.to_owned(), moving) {
        s.slots.insert(source.to_owned(), other.clone());
        moved.push((source.to_owned(), other));
    }
    let id = s.id.clone();
    for (slot_id, slot) in &moved {
        guest_update(&mut g, (b, &id), Some(m), &slot.user, Some((slot_id, slot)), slot.state());
    }
    Ok(())
}

/// Delete Guest Star Slot: the guest leaves the call, back to the invites
/// with `should_reinvite_guest`.
pub(crate) fn remove(
    shared: &Shared,
    b: &str,
    m: &str,
    session_id: &str,
    guest_id: &str,
    slot_id: &str,
    reinvite: bool,
) -> Done {
    let mut g = shared.lock();
    let s = moderated(&mut g, b, m, session_id, 403)?;
    if slot_id == HOST_SLOT {
        return Err(Resp::error(403, "The request is attempting to modify a restricted slot"));
    }
    let held = s.slots.get(slot_id).is_some_and(|slot| slot.user.id == guest_id);
    let Some(slot) = held.then(|| s.slots.remove(slot_id)).flatten() else {
        return Err(Resp::error(404, "guest_id or slot_id not found"));
    };
    if reinvite {
        s.invites.push(GuestStarInvite::new(slot.user.clone(), slot.audio.guest, slot.video.guest));
    }
    let id = s.id.clone();
    guest_update(&mut g, (b, &id), Some(m), &slot.user, None, if reinvite { "invited" } else { "removed" });
    Ok(())
}

/// Update Guest Star Slot Settings: the host's switches of an occupied slot.
pub(crate) fn slot_settings(shared: &Shared, b: &str, m: &str, req: &Req) -> Done {
    let flag = |k: &str| match req.query_one(k) {
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(Resp::error(400, format!("The parameter \"{k}\" must be true or false"))),
        None => Ok(None),
    };
    let (audio, video, live) = (flag("is_audio_enabled")?, flag("is_video_enabled")?, flag("is_live")?);
    let volume = match req.query_one("volume") {
        Some(v) => Some(v.parse::<i64>().map_err(|_| Resp::error(400, "The parameter \"volume\" must be a number"))?),
        None => None,
    };
    let slot_id = req.query_one("slot_id").unwrap_or_default();
    let session_id = req.query_one("session_id").unwrap_or_default();
    let mut g = shared.lock();
    let s = moderated(&mut g, b, m, session_id, 403)?;
    if slot_id == HOST_SLOT {
        return Err(Resp::error(403, "The request is attempting to modify a restricted slot"));
    }
    let Some(slot) = s.slots.get_mut(slot_id) else { return Err(invalid_slot()) };
    if let Some(a) = audio {
        slot.audio.host = a;
    }
    if let Some(v) = video {
        slot.video.host = v;
    }
    if let Some(l) = live {
        slot.is_live = l;
    }
    if let Some(v) = volume {
        slot.volume = v;
    }
    let slot = slot.clone();
    let id = s.id.clone();
    guest_update(&mut g, (b, &id), Some(m), &slot.user, Some((slot_id, &slot)), slot.state());
    Ok(())
}

/// An invitee gets further in joining (`ACCEPTED`, then `READY`), as they
/// do on Twitch's site. Returns the invite as Get Guest Star Invites lists it.
pub(crate) fn invite_status(
    shared: &Shared,
    broadcaster_id: &str,
    guest_id: &str,
    status: &str,
) -> Result<Value, String> {
    let status = match status.to_ascii_uppercase().as_str() {
        "ACCEPTED" => "ACCEPTED",
        "READY" => "READY",
        other => return Err(format!("status must be ACCEPTED or READY, not {other:?}")),
    };
    let mut g = shared.lock();
    let Some(s) = g.guest_star.sessions.get_mut(broadcaster_id) else {
        return Err(format!("channel {broadcaster_id} has no active Guest Star session"));
    };
    let Some(i) = s.invites.iter_mut().find(|i| i.user.id == guest_id) else {
        return Err(format!("user {guest_id} holds no invite to channel {broadcaster_id}'s session"));
    };
    i.status = status;
    let (answer, user, id) = (i.json(), i.user.clone(), s.id.clone());
    guest_update(&mut g, (broadcaster_id, &id), None, &user, None, &status.to_ascii_lowercase());
    Ok(answer)
}

/// An event's `broadcaster_user_*` fields.
pub(crate) fn channel(g: &Inner, broadcaster_id: &str) -> Value {
    let mut event = json!({});
    set_user(&mut event, "broadcaster_user", &g.user_or_synth(broadcaster_id));
    event
}

/// `channel.guest_star_guest.update` for `guest`, now in `slot` (or in
/// none), changed by the moderator `actor` (`None`: the guest did it).
fn guest_update(
    g: &mut Inner,
    (b, session_id): (&str, &str),
    actor: Option<&str>,
    guest: &User,
    slot: Option<(&str, &GuestStarSlot)>,
    state: &str,
) {
    let mut event = channel(g, b);
    event["session_id"] = json!(session_id);
    match actor {
        Some(m) => set_user(&mut event, "moderator_user", &g.user_or_synth(m)),
        None => {
            for k in ["moderator_user_id", "moderator_user_login", "moderator_user_name"] {
                event[k] = Value::Null;
            }
        }
    }
    set_user(&mut event, "guest_user", guest);
    set_user(&mut event, "host_user", &g.user_or_synth(b));
    event["state"] = json!(state);
    event["slot_id"] = json!(slot.map(|(id, _)| id));
    event["host_video_enabled"] = json!(slot.map(|(_, s)| s.video.host));
    event["host_audio_enabled"] = json!(slot.map(|(_, s)| s.audio.host));
    event["host_volume"] = json!(slot.map(|(_, s)| s.volume));
    notify(g, "channel.guest_star_guest.update", b, &event);
}

/// Deliver `event` to each subscription of this type for the channel. The
/// session events name the subscription's moderator in `moderator_user_*`
/// (as Twitch's examples do); the guest event names who made the change.
pub(crate) fn notify(g: &mut Inner, sub_type: &str, broadcaster_id: &str, event: &Value) -> usize {
    let targets: Vec<Subscription> = g
        .subs
        .iter()
        .filter(|s| s.status == "enabled" && s.sub_type == sub_type && s.version == VERSION)
        .filter(|s| s.condition.get("broadcaster_user_id").and_then(Value::as_str) == Some(broadcaster_id))
        .cloned()
        .collect();
    let names_moderator = sub_type.starts_with("channel.guest_star_session.");
    let mut sent = 0;
    for sub in &targets {
        let mut event = event.clone();
        if names_moderator && let Some(m) = sub.condition.get("moderator_user_id").and_then(Value::as_str) {
            set_user(&mut event, "moderator_user", &g.user_or_synth(m));
        }
        sent += usize::from(delivery::deliver(g, sub, event));
    }
    sent
}
