//! Guest Star over Helix: the requests' parameters to the shared
//! `guest_star` module; channel settings through the store.
//!
//! A channel that never had a session answers Get Guest Star Session from
//! Twitch's example; from its first session on, it answers what is there.

use serde_json::{Value, json};
use twitch::EndpointMeta;

use crate::guest_star as gs;
use crate::helix::data;
use crate::state::Shared;
use crate::util;
use crate::wire::{Caller, Req, Resp};

/// Answer a request of this family; `None` for every other endpoint.
pub(crate) fn handle(
    shared: &Shared,
    meta: &'static EndpointMeta,
    caller: &Caller,
    req: &Req,
    body: &Value,
) -> Option<Resp> {
    let q = |k: &str| req.query_one(k).unwrap_or_default();
    let (b, m) = (q("broadcaster_id"), q("moderator_id"));
    let done = match meta.id {
        "update-channel-guest-star-settings" => return Some(update_settings(shared, meta, caller, req, body)),
        "get-guest-star-session" => {
            return Some(gs::session(shared, b, m).unwrap_or_else(|| data::answer(shared, meta, req)));
        }
        "create-guest-star-session" => return Some(gs::create(shared, meta, b)),
        "end-guest-star-session" => return Some(gs::end(shared, meta, b, q("session_id"))),
        "get-guest-star-invites" => return Some(gs::invites(shared, b, m, q("session_id"))),
        "send-guest-star-invite" => gs::invite(shared, b, m, q("session_id"), q("guest_id")),
        "delete-guest-star-invite" => gs::uninvite(shared, b, m, q("session_id"), q("guest_id")),
        "assign-guest-star-slot" => gs::assign(shared, b, m, q("session_id"), q("guest_id"), q("slot_id")),
        "update-guest-star-slot" => {
            gs::move_slot(shared, b, m, q("session_id"), q("source_slot_id"), req.query_one("destination_slot_id"))
        }
        "delete-guest-star-slot" => {
            let reinvite = q("should_reinvite_guest").eq_ignore_ascii_case("true");
            gs::remove(shared, b, m, q("session_id"), q("guest_id"), q("slot_id"), reinvite)
        }
        "update-guest-star-slot-settings" => gs::slot_settings(shared, b, m, req),
        _ => return None,
    };
    Some(match done {
        Ok(()) => Resp::empty(meta.success_status),
        Err(r) => r,
    })
}

/// Update Channel Guest Star Settings: the store keeps the settings;
/// `regenerate_browser_sources` issues a new browser source token. The new settings go out as `channel.guest_star_settings.update`.
fn update_settings(shared: &Shared, meta: &'static EndpointMeta, caller: &Caller, req: &Req, body: &Value) -> Resp {
    let Some(resp) = crate::store::handle(shared, meta, caller, req, body) else {
        return Resp::empty(meta.success_status);
    };
    if resp.status >= 300 {
        return resp;
    }
    let b = req.query_one("broadcaster_id").unwrap_or_default();
    let mut g = shared.lock();
    let Some(settings) = g.store.get_mut(&(gs::SETTINGS, b.to_owned())).and_then(|items| items.first_mut()) else {
        return resp;
    };
    let regenerate = body.get("regenerate_browser_sources").is_some_and(|v| v == &json!(true) || v == &json!("true"));
    // The store keeps only the fields Get shows, so the flag itself is not kept.
    if regenerate && let Some(map) = settings.as_object_mut() {
        map.insert("browser_source_token".into(), json!(util::token(22)));
    }
    let settings = settings.clone();
    let layout = settings.get("layout").or_else(|| settings.get("group_layout")).and_then(Value::as_str);
    let layout = match layout.unwrap_or("TILED_LAYOUT") {
        "SCREENSHARE_LAYOUT" => "screenshare",
        "HORIZONTAL_LAYOUT" => "horizontal_top",
        "VERTICAL_LAYOUT" => "vertical_left",
        _ => "tiled",
    };
    let mut event = gs::channel(&g, b);
    for k in ["is_moderator_send_live_enabled", "slot_count", "is_browser_source_audio_enabled"] {
        event[k] = settings.get(k).cloned().unwrap_or(Value::Null);
    }
    event["group_layout"] = json!(layout);
    gs::notify(&mut g, "channel.guest_star_settings.update", b, &event);
    resp
}
