//! EventSub messages as the WebSocket server writes them (`{metadata,
//! payload}`), for sessions and webhook posts alike.

use serde_json::{Value, json};

use crate::state::Subscription;
use crate::util;

/// A `{metadata, payload}` message as the WebSocket server sends it.
pub(crate) fn message(message_type: &str, sub: Option<&Subscription>, payload: Value) -> String {
    message_with(message_type, sub, payload, util::uuid(), util::now_rfc3339())
}

pub(crate) fn message_with(
    message_type: &str,
    sub: Option<&Subscription>,
    payload: Value,
    message_id: String,
    timestamp: String,
) -> String {
    let mut metadata = json!({
        "message_id": message_id,
        "message_type": message_type,
        "message_timestamp": timestamp,
    });
    if let Some(s) = sub {
        metadata["subscription_type"] = json!(s.sub_type);
        metadata["subscription_version"] = json!(s.version);
    }
    json!({"metadata": metadata, "payload": payload}).to_string()
}
