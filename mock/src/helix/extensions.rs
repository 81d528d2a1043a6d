//! Extension state: configuration segments, secrets, Bits products and the user's extensions.
//!
//! What nobody wrote answers from Twitch's examples as before (a segment,
//! an extension's secrets or products, a user's slots); from the first
//! write on, reads show what was written.

use serde_json::{Map, Value, json};
use twitch::{EndpointMeta, Timestamp};

use crate::helix::data;
use crate::state::{ExtensionSecret, Kind, Shared};
use crate::wire::{Caller, Req, Resp};

/// The three configuration segments, as Twitch spells them.
const SEGMENTS: &[&str] = &["broadcaster", "developer", "global"];

/// A segment holds at most 5 KB.
const SEGMENT_BYTES: usize = 5 * 1024;

/// Seconds before a new secret becomes active, by default and at least.
const SECRET_DELAY: i64 = 300;

/// How long a secret lives once active: Twitch's examples show 36,500 days.
const SECRET_LIFE: i64 = 36_500 * 24 * 60 * 60;

/// The slots each kind of extension has: 3 panels, 1 overlay, 2 components.
const SLOTS: &[(&str, &[&str])] = &[("panel", &["1", "2", "3"]), ("overlay", &["1"]), ("component", &["1", "2"])];

impl ExtensionSecret {
    fn json(&self) -> Value {
        json!({
            "content": self.content,
            "active_at": self.active_at.to_rfc3339_nanos(),
            "expires_at": self.expires_at.to_rfc3339_nanos(),
        })
    }
}

/// Answer a request of this family; `None` for every other endpoint.
pub(crate) fn handle(
    shared: &Shared,
    meta: &'static EndpointMeta,
    caller: &Caller,
    req: &Req,
    body: &Value,
) -> Option<Resp> {
    Some(match meta.id {
        "get-extension-configuration-segment" => get_segments(shared, meta, req),
        "set-extension-configuration-segment" => set_segment(shared, body),
        "set-extension-required-configuration" => set_required(shared, req, body),
        "get-extension-secrets" => get_secrets(shared, meta, req),
        "create-extension-secret" => create_secret(shared, meta, req),
        "get-extension-bits-products" => get_products(shared, meta, caller, req),
        "update-extension-bits-product" => update_product(shared, caller, body),
        "get-user-active-extensions" => get_active(shared, meta, caller, req),
        "update-user-extensions" => update_active(shared, caller, body),
        _ => return None,
    })
}

fn bad(message: impl Into<String>) -> Resp {
    Resp::error(400, message)
}

/// A body field as text (`None` when absent, null or not text).
fn text<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

/// The key a segment is kept under: `global` has no broadcaster.
fn segment_key(extension_id: &str, segment: &str, broadcaster_id: &str) -> (String, String, String) {
    let broadcaster = if segment == "global" { "" } else { broadcaster_id };
    (extension_id.to_owned(), segment.to_owned(), broadcaster.to_owned())
}

fn get_segments(shared: &Shared, meta: &EndpointMeta, req: &Req) -> Resp {
    let extension_id = req.query_one("extension_id").unwrap_or("");
    let broadcaster_id = req.query_one("broadcaster_id").unwrap_or("");
    // In the order asked for, duplicates ignored.
    let mut segments: Vec<&str> = Vec::new();
    for s in req.query_all("segment").into_iter().filter(|s| !s.is_empty()) {
        if !SEGMENTS.contains(&s) {
            return bad("The value in the segment query parameter is not valid");
        }
        if s != "global" && broadcaster_id.is_empty() {
            return bad(
                "The broadcaster_id query parameter is required if the segment query parameter is set to broadcaster or developer",
            );
        }
        if !segments.contains(&s) {
            segments.push(s);
        }
    }
    let example = data::example_items(meta).into_iter().next().unwrap_or_else(|| json!({}));
    let g = shared.lock();
    let items: Vec<Value> = segments
        .iter()
        .map(|s| match g.extensions.segments.get(&segment_key(extension_id, s, broadcaster_id)) {
            Some(item) => item.clone(),
            None => {
                // Nothing written there: Twitch's example, named as asked.
                let mut item = example.clone();
                item["segment"] = json!(s);
                if *s != "global" {
                    item["broadcaster_id"] = json!(broadcaster_id);
                }
                item
            }
        })
        .collect();
    Resp::json(200, &json!({ "data": items }))
}

fn set_segment(shared: &Shared, body: &Value) -> Resp {
    let extension_id = text(body, "extension_id").unwrap_or("");
    let segment = text(body, "segment").unwrap_or("");
    let broadcaster_id = text(body, "broadcaster_id").unwrap_or("");
    if extension_id.is_empty() {
        return bad("The extension_id field is required");
    }
    if !SEGMENTS.contains(&segment) {
        return bad("The value in the segment field is not valid");
    }
    if segment != "global" && broadcaster_id.is_empty() {
        return bad("The broadcaster_id field is required if segment is set to developer or broadcaster");
    }
    for name in ["content", "version"] {
        if body.get(name).is_some_and(|v| !v.is_null() && !v.is_string()) {
            return bad(format!("The {name} field must be a string"));
        }
    }
    let content = text(body, "content");
    if content.is_some_and(|c| c.len() > SEGMENT_BYTES) {
        return bad("The segment is limited to 5 KB");
    }
    let mut g = shared.lock();
    let key = segment_key(extension_id, segment, broadcaster_id);
    let old = g.extensions.segments.get(&key);
    // Without a version the latest definition is updated; without content the old one stays.
    let keep = |name: &str| old.and_then(|o| o.get(name)).and_then(Value::as_str).unwrap_or("").to_owned();
    let content = content.map_or_else(|| keep("content"), str::to_owned);
    let version = text(body, "version").map_or_else(|| keep("version"), str::to_owned);
    let mut item = json!({ "segment": segment });
    if segment != "global" {
        item["broadcaster_id"] = json!(broadcaster_id);
    }
    item["content"] = json!(content);
    item["version"] = json!(version);
    g.extensions.segments.insert(key, item);
    Resp::empty(204)
}

fn set_required(shared: &Shared, req: &Req, body: &Value) -> Resp {
    let broadcaster_id = req.query_one("broadcaster_id").unwrap_or("");
    if broadcaster_id.is_empty() {
        return bad("The broadcaster_id query parameter is required");
    }
    let field = |name: &str| match text(body, name) {
        Some(v) if !v.is_empty() => Ok(v.to_owned()),
        _ => Err(bad(format!("The {name} field is required"))),
    };
    let (extension_id, version, required) =
        match (field("extension_id"), field("extension_version"), field("required_configuration")) {
            (Ok(a), Ok(b), Ok(c)) => (a, b, c),
            (Err(r), _, _) | (_, Err(r), _) | (_, _, Err(r)) => return r,
        };
    shared.lock().extensions.required.insert((extension_id, broadcaster_id.to_owned()), (version, required));
    Resp::empty(204)
}

/// Twitch's answer shape for an extension's secrets.
fn secrets_json(secrets: &[ExtensionSecret]) -> Value {
    json!({ "data": [{ "format_version": 1, "secrets": secrets.iter().map(ExtensionSecret::json).collect::<Vec<_>>() }] })
}

/// The example's secrets: what an extension nobody rotated has.
fn example_secrets(meta: &EndpointMeta) -> Vec<ExtensionSecret> {
    let items = data::example_items(meta);
    let list = items.first().and_then(|i| i.get("secrets")).and_then(Value::as_array).cloned().unwrap_or_default();
    list.iter()
        .filter_map(|s| {
            let time = |name: &str| s.get(name).and_then(Value::as_str).and_then(|t| Timestamp::parse(t).ok());
            Some(ExtensionSecret {
                content: s.get("content")?.as_str()?.to_owned(),
                active_at: time("active_at")?,
                expires_at: time("expires_at")?,
            })
        })
        .collect()
}

fn get_secrets(shared: &Shared, meta: &'static EndpointMeta, req: &Req) -> Resp {
    let extension_id = req.query_one("extension_id").unwrap_or("");
    match shared.lock().extensions.secrets.get(extension_id) {
        Some(secrets) => Resp::json(200, &secrets_json(secrets)),
        None => data::answer(shared, meta, req),
    }
}

fn create_secret(shared: &Shared, meta: &EndpointMeta, req: &Req) -> Resp {
    let extension_id = req.query_one("extension_id").unwrap_or("");
    if extension_id.is_empty() {
        return bad("The extension_id query parameter is required");
    }
    let delay = match req.query_one("delay").filter(|d| !d.is_empty()) {
        None => SECRET_DELAY,
        Some(d) => match d.parse::<i64>() {
            Ok(n) if n >= SECRET_DELAY => n,
            Ok(_) => return bad("The delay specified in the delay query parameter is too short"),
            Err(_) => return bad("The delay specified in the delay query parameter is not valid"),
        },
    };
    let now = Timestamp::now();
    let at = |secs: i64| now.unix_timestamp().checked_add(secs).and_then(|s| Timestamp::from_unix(s, now.nanosecond()));
    let (Some(active_at), Some(expires_at)) = (at(delay), delay.checked_add(SECRET_LIFE).and_then(at)) else {
        return bad("The delay specified in the delay query parameter is not valid");
    };
    let mut g = shared.lock();
    let secrets = g.extensions.secrets.entry(extension_id.to_owned()).or_insert_with(|| example_secrets(meta));
    // Secrets past their expiry are of no use to anyone; the rest leave
    // service once the new one is active.
    secrets.retain(|s| s.expires_at > now);
    for s in secrets.iter_mut() {
        if s.expires_at > active_at {
            s.expires_at = active_at;
        }
    }
    secrets.push(ExtensionSecret { content: crate::util::token(32), active_at, expires_at });
    Resp::json(200, &secrets_json(secrets))
}

/// Has this product expired (an expiration in the past disables it)?
fn expired(product: &Value, now: Timestamp) -> bool {
    product.get("expiration").and_then(Value::as_str).and_then(|t| Timestamp::parse(t).ok()).is_some_and(|t| t <= now)
}

fn get_products(shared: &Shared, meta: &'static EndpointMeta, caller: &Caller, req: &Req) -> Resp {
    let all = match req.query_one("should_include_all").unwrap_or("") {
        "" | "false" => false,
        "true" => true,
        _ => return bad("The value of \"should_include_all\" must be true or false"),
    };
    let g = shared.lock();
    let Some(products) = g.extensions.products.get(&caller.client_id) else {
        drop(g);
        return data::answer(shared, meta, req);
    };
    let now = Timestamp::now();
    // Ascending SKU order, as the map keeps them.
    let items: Vec<Value> = products.values().filter(|p| all || !expired(p, now)).cloned().collect();
    Resp::json(200, &json!({ "data": items }))
}

fn update_product(shared: &Shared, caller: &Caller, body: &Value) -> Resp {
    let sku = text(body, "sku").unwrap_or("");
    if sku.is_empty() {
        return bad("The sku field is required");
    }
    if !sku.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
        return bad(
            "The value in the sku field is not valid. The SKU may contain only alphanumeric characters, dashes (-), underscores (_), and periods (.)",
        );
    }
    let cost = body.get("cost").unwrap_or(&Value::Null);
    let amount = match cost.get("amount") {
        None | Some(Value::Null) => return bad("The cost object's amount field is required"),
        Some(a) => match a.as_i64() {
            Some(n) if (1..=10_000).contains(&n) => n,
            _ => return bad("The value in the cost object's amount field is not valid"),
        },
    };
    match cost.get("type") {
        None | Some(Value::Null) => return bad("The cost object's type field is required"),
        Some(t) if t.as_str() != Some("bits") => return bad("The value in the cost object's type field is not valid"),
        _ => {}
    }
    let display_name = match text(body, "display_name") {
        Some(n) if !n.is_empty() => n,
        _ => return bad("The display_name field is required"),
    };
    let flag = |name: &str| match body.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(bad(format!("The value in the {name} field is not valid"))),
    };
    let (in_development, is_broadcast) = match (flag("in_development"), flag("is_broadcast")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let expiration = match body.get("expiration") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) if s.is_empty() || Timestamp::parse(s).is_ok() => s.as_str(),
        Some(_) => return bad("The value in the expiration field is not valid"),
    };
    let product = json!({
        "sku": sku,
        "cost": { "amount": amount, "type": "bits" },
        "in_development": in_development,
        "display_name": display_name,
        "expiration": expiration,
        "is_broadcast": is_broadcast,
    });
    let mut g = shared.lock();
    g.extensions.products.entry(caller.client_id.clone()).or_default().insert(sku.to_owned(), product.clone());
    Resp::json(200, &json!({ "data": [product] }))
}

/// The user whose extensions a request is about: `user_id`, else the token's user.
fn user_of(caller: &Caller, req: &Req) -> Result<String, Resp> {
    match req.query_one("user_id").filter(|u| !u.is_empty()) {
        Some(u) => Ok(u.to_owned()),
        None => match &caller.user {
            Some(u) if caller.kind == Some(Kind::User) => Ok(u.id.clone()),
            _ => Err(bad("The user_id query parameter is required if you specify an app access token")),
        },
    }
}

/// The example's slots: what a user nobody wrote has.
fn example_active() -> Value {
    twitch::meta::endpoints()
        .into_iter()
        .find(|m| m.id == "get-user-active-extensions")
        .and_then(data::example)
        .and_then(|e| e.get("data"))
        .cloned()
        .unwrap_or_else(|| json!({}))
}

fn get_active(shared: &Shared, meta: &'static EndpointMeta, caller: &Caller, req: &Req) -> Resp {
    let user = match user_of(caller, req) {
        Ok(u) => u,
        Err(r) => return r,
    };
    match shared.lock().extensions.active.get(&user) {
        Some(active) => Resp::json(200, &json!({ "data": active })),
        None => data::answer(shared, meta, req),
    }
}

/// An extension's name, where a slot (kept or Twitch's example) shows one.
fn name_of(extension_id: &str, kept: &Value) -> Option<Value> {
    let example = example_active();
    [kept, &example]
        .into_iter()
        .filter_map(Value::as_object)
        .flat_map(|kinds| kinds.values())
        .filter_map(Value::as_object)
        .flat_map(|slots| slots.values())
        .find(|slot| slot.get("id").and_then(Value::as_str) == Some(extension_id))
        .and_then(|slot| slot.get("name").cloned())
}

fn update_active(shared: &Shared, caller: &Caller, body: &Value) -> Resp {
    let malformed = || bad("The JSON payload is malformed");
    let Some(user) = caller.user.as_ref().map(|u| u.id.clone()) else {
        return Resp::error(401, "Missing User OAUTH Token");
    };
    let Some(update) = body.get("data").and_then(Value::as_object) else {
        return malformed();
    };
    // Check everything before changing anything.
    let mut changes: Vec<(&str, &str, Value)> = Vec::new();
    for (kind, slots) in update {
        let Some((kind, names)) = SLOTS.iter().find(|(k, _)| k == kind) else {
            return malformed();
        };
        let Some(slots) = slots.as_object() else {
            return malformed();
        };
        for (slot, value) in slots {
            let Some(slot) = names.iter().find(|n| *n == slot) else {
                return malformed();
            };
            let Some(active) = value.get("active").and_then(Value::as_bool) else {
                return malformed();
            };
            if !active {
                changes.push((kind, slot, json!({ "active": false })));
                continue;
            }
            let (Some(id), Some(version)) = (text(value, "id"), text(value, "version")) else {
                return malformed();
            };
            if id.is_empty() || version.is_empty() {
                return malformed();
            }
            let mut item = json!({ "active": true, "id": id, "version": version });
            if *kind == "component" {
                for axis in ["x", "y"] {
                    match value.get(axis) {
                        None | Some(Value::Null) => item[axis] = json!(0),
                        Some(v) if v.is_i64() => item[axis] = v.clone(),
                        Some(_) => return malformed(),
                    }
                }
            }
            changes.push((kind, slot, item));
        }
    }
    let mut g = shared.lock();
    let active = g.extensions.active.entry(user).or_insert_with(example_active);
    for (kind, slot, mut item) in changes {
        if let Some(id) = item.get("id").and_then(Value::as_str)
            && let Some(name) = name_of(id, active)
        {
            item["name"] = name;
        }
        if !active.is_object() {
            *active = json!({});
        }
        let slots = active.as_object_mut().map(|a| a.entry(kind).or_insert_with(|| Value::Object(Map::new())));
        if let Some(slots) = slots {
            if !slots.is_object() {
                *slots = Value::Object(Map::new());
            }
            slots[slot] = item;
        }
    }
    Resp::json(200, &json!({ "data": active }))
}
