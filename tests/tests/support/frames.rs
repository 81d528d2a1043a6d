//! EventSub WebSocket frames built from the schema's example notifications,
//! shared by the robustness test and the decode bench (`#[path]`-included).

/// A `notification` frame for one subscription type, with Twitch's example
/// payload (`{"subscription": …, "event": …}`) under `metadata` that names
/// the type; compact, as Twitch sends it.
pub fn notification(ty: &str, version: &str, example: &str) -> String {
    let payload: serde_json::Value = serde_json::from_str(example).expect("example JSON");
    serde_json::json!({
        "metadata": {
            "message_id": "befa7b53-d79d-478f-86b9-120f112b044e",
            "message_type": "notification",
            "message_timestamp": "2022-11-16T10:11:12.464757833Z",
            "subscription_type": ty,
            "subscription_version": version,
        },
        "payload": payload,
    })
    .to_string()
}

/// The notification frame for a type and version from the schema.
#[allow(dead_code)] // Not every includer needs it.
pub fn example(ty: &str, version: &str) -> String {
    let meta = twitch::meta::subscription(ty, version).expect("type in schema");
    notification(ty, version, meta.example.expect("example"))
}
