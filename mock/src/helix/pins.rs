//! The pin endpoints and Get Custom Power-up: Helix glue over the shared
//! `pins` and `power_ups` modules.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use twitch::EndpointMeta;

use crate::state::Shared;
use crate::wire::{Req, Resp};

/// Answer a pin endpoint or Get Custom Power-up; `None` for any other.
pub(crate) fn handle(shared: &Arc<Shared>, meta: &EndpointMeta, req: &Req) -> Option<Resp> {
    let q = |k: &str| req.query_one(k).unwrap_or_default();
    // Checked against the schema's range already.
    let duration = req.query_one("duration_seconds").and_then(|d| d.parse().ok()).map(Duration::from_secs);
    let (broadcaster, moderator, message) = (q("broadcaster_id"), q("moderator_id"), q("message_id"));
    let done = match meta.id {
        "get-pinned-chat-message" => {
            return Some(match crate::pins::get(shared, broadcaster, moderator) {
                Ok(pin) => Resp::json(200, &json!({"data": pin.into_iter().collect::<Vec<_>>()})),
                Err((status, message)) => Resp::error(status, message),
            });
        }
        "get-custom-power-up" => {
            return Some(match crate::power_ups::list(shared, broadcaster, &req.query_all("id")) {
                Ok(items) => Resp::json(200, &json!({"data": items})),
                Err((status, message)) => Resp::error(status, message),
            });
        }
        "pin-chat-message" => crate::pins::pin(shared, broadcaster, moderator, message, duration),
        "update-pinned-chat-message" => crate::pins::update(shared, broadcaster, moderator, message, duration),
        "unpin-chat-message" => crate::pins::unpin(shared, broadcaster, moderator, message),
        _ => return None,
    };
    Some(match done {
        Ok(()) => Resp::empty(meta.success_status),
        Err((status, message)) => Resp::error(status, message),
    })
}
