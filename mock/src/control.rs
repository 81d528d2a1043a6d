//! `/control/...`: the mock's own control API (JSON in and out, no auth),
//! also used by the CLI's subcommands.
//!
//! | request | does |
//! |---|---|
//! | `POST /control/trigger {"type", "version"?, "session_id"?, "subscription_id"?, "condition"?, "count"?}` | deliver a fresh example event (`count` fresh events) |
//! | `POST /control/chat {"broadcaster_id", "chatter_id", "chatter_login"?, "text", "badges"?: [{"set_id", "id", "info"?}], "reply_parent_message_id"?, "message_id"?}` | a chat line from any chatter, as a `channel.chat.message` notification |
//! | `POST /control/redemptions {"broadcaster_id", "reward_id", "user_id", "user_input"?}` | a viewer redeems a custom reward the mock holds |
//! | `POST /control/unban_requests {"broadcaster_id", "user_id", "text"?}` | a viewer banned in the channel asks to be unbanned |
//! | `POST /control/guest_star_invites {"broadcaster_id", "guest_id", "status"}` | an invitee to the channel's Guest Star session accepts (`ACCEPTED`) or is ready to join (`READY`) |
//! | `POST /control/shared_chat {"host_broadcaster_id", "participants": [id, ...]}` | start a shared chat session (answers its `session_id`) |
//! | `POST /control/shared_chat/end {"session_id"}` | end it |
//! | `POST /control/reconnect {"session_id"?}` | send `session_reconnect` (one session or all) |
//! | `POST /control/revoke {"subscription_id", "status"?}` | revoke a subscription (default `authorization_revoked`) |
//! | `POST /control/close {"code", "session_id"?}` | close sessions with a close code |
//! | `POST /control/faults {"latency_ms"?, "status"?, "count"?, "expire_tokens"?, "drop"?}` | inject Helix faults |
//! | `DELETE /control/faults` | clear them |
//! | `GET /control/sessions` | sessions, subscriptions and conduits |
//! | `GET /control/dashboard` | the same, with the latest Helix calls, events sent, faults and every subscription type: what the dashboard (`GET /dashboard`) shows |
//! | `POST /control/tokens {"kind": "app"|"user", "client_id"?, "user_id"?, "login"?, "scopes"?}` | mint a token |

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::chat::{self, ChatLine};
use crate::config::Fault;
use crate::delivery::{self as eventsub, TriggerOptions};
use crate::state::{Kind, Shared, User};
use crate::util;
use crate::wire::{Req, Resp};

/// Most events one trigger request may ask for.
const MAX_TRIGGER_COUNT: u64 = 10_000_000;

/// Answer one control request (`path` is what follows `/control`).
pub(crate) fn handle(shared: &Shared, req: &Req, path: &str) -> Resp {
    let body: Value = if req.body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v @ Value::Object(_)) => v,
            _ => return Resp::error(400, "The body must be a JSON object"),
        }
    };
    let s = |k: &str| body.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    match (req.method.as_str(), path.trim_end_matches('/')) {
        ("POST", "/trigger") => {
            let Some(sub_type) = s("type") else { return Resp::error(400, "Missing \"type\"") };
            let count = match body.get("count") {
                None | Some(Value::Null) => 1,
                Some(v) => match v.as_u64().filter(|n| (1..=MAX_TRIGGER_COUNT).contains(n)) {
                    Some(n) => n as usize,
                    None => {
                        return Resp::error(400, format!("\"count\" must be between 1 and {MAX_TRIGGER_COUNT}"));
                    }
                },
            };
            let opts = TriggerOptions {
                session_id: s("session_id").map(str::to_owned),
                subscription_id: s("subscription_id").map(str::to_owned),
                condition: body.get("condition").and_then(Value::as_object).cloned().unwrap_or_else(Map::new),
                count,
            };
            let started = std::time::Instant::now();
            match eventsub::trigger(shared, sub_type, s("version"), &opts) {
                Ok(t) => Resp::json(
                    200,
                    &json!({"delivered": t.delivered, "type": sub_type, "version": t.version, "event": t.event,
                        "count": count, "elapsed_ms": started.elapsed().as_secs_f64() * 1000.0}),
                ),
                Err(e) => Resp::error(404, e),
            }
        }
        ("POST", "/chat") => {
            let (Some(broadcaster), Some(chatter), Some(text)) = (s("broadcaster_id"), s("chatter_id"), s("text"))
            else {
                return Resp::error(400, "Missing \"broadcaster_id\", \"chatter_id\" or \"text\"");
            };
            // Without a login, the directory's (or a made-up one).
            let login = s("chatter_login").map(str::to_owned).unwrap_or_default();
            let mut line = ChatLine::new(broadcaster, chatter, login, text);
            for b in body.get("badges").and_then(Value::as_array).into_iter().flatten() {
                let field = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or("");
                if field("set_id").is_empty() || field("id").is_empty() {
                    return Resp::error(400, "Each badge needs \"set_id\" and \"id\"");
                }
                line = line.badge(field("set_id"), field("id"), field("info"));
            }
            if let Some(parent) = s("reply_parent_message_id") {
                line = line.reply_to(parent);
            }
            if let Some(id) = s("message_id") {
                line = line.message_id(id);
            }
            match chat::line(shared, line) {
                Ok(t) => Resp::json(
                    200,
                    &json!({"delivered": t.delivered, "message_id": t.event["message_id"], "event": t.event}),
                ),
                Err(e) => Resp::error(400, e),
            }
        }
        ("POST", "/redemptions") => {
            let (Some(broadcaster), Some(reward), Some(user)) = (s("broadcaster_id"), s("reward_id"), s("user_id"))
            else {
                return Resp::error(400, "Missing \"broadcaster_id\", \"reward_id\" or \"user_id\"");
            };
            match crate::store::redeem(shared, broadcaster, reward, user, s("user_input").unwrap_or("")) {
                Ok(redemption) => Resp::json(200, &json!({"data": [redemption]})),
                Err(e) => Resp::error(404, e),
            }
        }
        ("POST", "/shared_chat") => {
            let Some(host) = s("host_broadcaster_id") else {
                return Resp::error(400, "Missing \"host_broadcaster_id\"");
            };
            let participants: Vec<&str> = match body.get("participants") {
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            match crate::shared_chat::start(shared, host, &participants) {
                Ok(id) => Resp::json(200, &json!({"session_id": id})),
                Err(e) => Resp::error(400, e),
            }
        }
        ("POST", "/shared_chat/end") => {
            let Some(id) = s("session_id") else {
                return Resp::error(400, "Missing \"session_id\"");
            };
            match crate::shared_chat::end(shared, id) {
                Ok(()) => Resp::empty(204),
                Err(e) => Resp::error(404, e),
            }
        }
        ("POST", "/power_ups") => {
            let (Some(broadcaster), Some(title)) = (s("broadcaster_id"), s("title")) else {
                return Resp::error(400, "Missing \"broadcaster_id\" or \"title\"");
            };
            let n = |k: &str| body.get(k).and_then(Value::as_u64);
            let mut new = crate::power_ups::NewPowerUp::new(title, n("bits").unwrap_or(100));
            if let Some(p) = s("prompt") {
                new = new.prompt(p);
            }
            if let Some(m) = n("max_per_stream") {
                new = new.max_per_stream(m);
            }
            if let Some(m) = n("max_per_user_per_stream") {
                new = new.max_per_user_per_stream(m);
            }
            if let Some(secs) = n("global_cooldown_seconds") {
                new = new.cooldown(std::time::Duration::from_secs(secs));
            }
            match crate::power_ups::add(shared, broadcaster, new) {
                Ok(power_up) => Resp::json(200, &json!({"data": [power_up]})),
                Err(e) => Resp::error(400, e),
            }
        }
        ("POST", "/power_ups/redemptions") => {
            let (Some(broadcaster), Some(id), Some(user)) = (s("broadcaster_id"), s("power_up_id"), s("user_id"))
            else {
                return Resp::error(400, "Missing \"broadcaster_id\", \"power_up_id\" or \"user_id\"");
            };
            match crate::power_ups::redeem(shared, broadcaster, id, user, s("user_input").unwrap_or("")) {
                Ok(r) => Resp::json(200, &json!({"delivered": r.delivered, "event": r.event})),
                Err(e) => Resp::error(400, e),
            }
        }
        ("POST", "/grants") => {
            let Some(user) = s("user_id") else {
                return Resp::error(400, "Missing \"user_id\"");
            };
            let scopes: Vec<String> = match body.get("scopes") {
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                Some(Value::String(list)) => {
                    list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
                }
                _ => return Resp::error(400, "Missing \"scopes\": a list, or names separated by commas"),
            };
            let client_id = s("client_id").map(str::to_owned).unwrap_or_else(|| shared.default_client_id());
            let mut g = shared.lock();
            let granted = g.grants.entry((client_id.clone(), user.to_owned())).or_default();
            granted.extend(scopes);
            Resp::json(
                200,
                &json!({"client_id": client_id, "user_id": user, "scopes": granted.iter().collect::<Vec<_>>()}),
            )
        }
        ("POST", "/unban_requests") => {
            let (Some(broadcaster), Some(user)) = (s("broadcaster_id"), s("user_id")) else {
                return Resp::error(400, "Missing \"broadcaster_id\" or \"user_id\"");
            };
            match crate::store::unban_request(shared, broadcaster, user, s("text").unwrap_or("")) {
                Ok(request) => Resp::json(200, &json!({"data": [request]})),
                Err(e) => Resp::error(400, e),
            }
        }
        ("POST", "/guest_star_invites") => {
            let (Some(broadcaster), Some(guest), Some(status)) = (s("broadcaster_id"), s("guest_id"), s("status"))
            else {
                return Resp::error(400, "Missing \"broadcaster_id\", \"guest_id\" or \"status\"");
            };
            match crate::guest_star::invite_status(shared, broadcaster, guest, status) {
                Ok(invite) => Resp::json(200, &json!({"data": [invite]})),
                Err(e) => Resp::error(400, e),
            }
        }
        ("POST", "/reconnect") => Resp::json(200, &json!({"sessions": eventsub::reconnect(shared, s("session_id"))})),
        ("POST", "/revoke") => {
            let Some(id) = s("subscription_id") else { return Resp::error(400, "Missing \"subscription_id\"") };
            let status = s("status").unwrap_or("authorization_revoked");
            if eventsub::revoke(shared, id, status) {
                Resp::json(200, &json!({"revoked": id, "status": status}))
            } else {
                Resp::error(404, format!("no subscription {id}"))
            }
        }
        ("POST", "/close") => {
            let code = body.get("code").and_then(Value::as_u64).unwrap_or(4000);
            let Ok(code) = u16::try_from(code) else { return Resp::error(400, "\"code\" must be a close code") };
            if !(1000..5000).contains(&code) {
                return Resp::error(400, "\"code\" must be a close code");
            }
            Resp::json(200, &json!({"closed": eventsub::close(shared, s("session_id"), code)}))
        }
        ("POST", "/faults") => {
            let n = |k: &str| body.get(k).and_then(Value::as_u64);
            if let Some(ms) = n("latency_ms") {
                apply(shared, Fault::Latency(Duration::from_millis(ms)));
            }
            if let Some(status) = n("status") {
                let Some(status) = u16::try_from(status).ok().filter(|s| (100..600).contains(s)) else {
                    return Resp::error(400, "\"status\" must be an HTTP status");
                };
                let count = n("count").unwrap_or(1).min(u64::from(u32::MAX)) as u32;
                apply(shared, Fault::Status { status, count });
            }
            if body.get("expire_tokens").and_then(Value::as_bool) == Some(true) {
                apply(shared, Fault::ExpireTokens);
            }
            if let Some(drop) = n("drop") {
                apply(shared, Fault::Drop { count: drop.min(u64::from(u32::MAX)) as u32 });
            }
            faults_json(shared)
        }
        ("DELETE", "/faults") => {
            apply(shared, Fault::Clear);
            faults_json(shared)
        }
        ("GET", "/faults") => faults_json(shared),
        ("GET", "/sessions") => Resp::json(200, &sessions(shared)),
        ("GET", "/buckets") => Resp::json(200, &buckets(shared)),
        ("DELETE", "/buckets") => {
            shared.lock().buckets.clear();
            Resp::json(200, &buckets(shared))
        }
        ("GET", "/dashboard") => Resp::json(200, &dashboard(shared)),
        ("POST", "/tokens") => {
            let client_id = s("client_id").map(str::to_owned).unwrap_or_else(|| shared.default_client_id());
            let scopes: Vec<String> = body
                .get("scopes")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default();
            let mut g = shared.lock();
            let (token, secs) = match s("kind").unwrap_or("user") {
                "app" => g.issue(&client_id, Kind::App, None, Vec::new()),
                "user" => {
                    let id = s("user_id").unwrap_or(&shared.config.user_id).to_owned();
                    let login = s("login").map(str::to_owned).unwrap_or_else(|| match g.user_by_id(&id) {
                        Some(u) => u.login.clone(),
                        None => format!("user{id}"),
                    });
                    g.issue(&client_id, Kind::User, Some(User::new(&id, &login)), scopes)
                }
                _ => return Resp::error(400, "\"kind\" must be \"app\" or \"user\""),
            };
            Resp::json(200, &json!({"access_token": token, "client_id": client_id, "expires_in": secs}))
        }
        _ => Resp::error(404, "Not Found"),
    }
}

/// Apply a fault to Helix.
pub(crate) fn apply(shared: &Shared, fault: Fault) {
    let mut g = shared.lock();
    match fault {
        Fault::Latency(d) => g.faults.latency = Some(d).filter(|d| !d.is_zero()),
        Fault::Status { status, count } => g.faults.status = Some((status, count)).filter(|(_, n)| *n > 0),
        Fault::Drop { count } => g.faults.drop = count,
        Fault::ExpireTokens => {
            let now = std::time::Instant::now();
            for t in g.tokens.values_mut() {
                t.expires_at = now;
            }
        }
        Fault::Clear => g.faults = Default::default(),
    }
}

fn faults_json(shared: &Shared) -> Resp {
    Resp::json(200, &faults(shared))
}

/// The rate-limit buckets (one per client id, and per client id and user):
/// their state and how many requests each let through and refused.
fn buckets(shared: &Shared) -> Value {
    let mut g = shared.lock();
    let mut out: Vec<Value> = g
        .buckets
        .iter_mut()
        .map(|(key, b)| {
            let (allowed, refused) = b.counts();
            let t = b.peek();
            json!({"key": key, "limit": t.limit, "remaining": t.remaining, "reset": t.reset,
                "allowed": allowed, "refused": refused})
        })
        .collect();
    out.sort_by(|a, b| a["key"].as_str().cmp(&b["key"].as_str()));
    json!({ "buckets": out })
}

/// The faults in force, as `GET /control/faults` answers them.
fn faults(shared: &Shared) -> Value {
    let g = shared.lock();
    let f = &g.faults;
    json!({
        "latency_ms": f.latency.map(|d| d.as_millis() as u64),
        "status": f.status.map(|(s, _)| s),
        "count": f.status.map(|(_, n)| n),
        "drop": f.drop,
    })
}

/// The dashboard: a page served at `/dashboard` that reads
/// `GET /control/dashboard` every second and drives the control API.
pub(crate) fn page() -> Resp {
    Resp::text(200, "text/html; charset=utf-8", include_str!("dashboard.html"))
}

/// What the dashboard shows: sessions, conduits and subscriptions, the
/// latest Helix calls (with their rate-limit headers) and events sent,
/// the faults in force, and every subscription type to trigger.
fn dashboard(shared: &Shared) -> Value {
    let mut out = sessions(shared);
    let faults = faults(shared);
    let g = shared.lock();
    let helix: Vec<Value> = g
        .helix_log
        .iter()
        .map(|h| {
            json!({"at": h.at, "method": h.method, "path": h.path, "status": h.status,
                "limit": h.limit, "remaining": h.remaining, "reset": h.reset})
        })
        .collect();
    let events: Vec<Value> = g
        .events_log
        .iter()
        .map(|e| {
            json!({"at": e.at, "kind": e.kind, "type": e.sub_type, "version": e.version,
                "subscription_id": e.subscription_id, "to": e.to, "count": e.count})
        })
        .collect();
    let power_ups: Vec<Value> = g
        .power_ups
        .iter()
        .flat_map(|(b, all)| {
            all.iter().map(move |p| {
                json!({"broadcaster_id": b, "id": p.id, "title": p.title,
            "bits": p.bits, "redeemed": p.redeemed, "input": p.is_user_input_required})
            })
        })
        .collect();
    drop(g);
    let types: Vec<Value> = twitch::meta::subscriptions()
        .into_iter()
        .map(|s| json!({"type": s.subscription_type, "version": s.version}))
        .collect();
    out["helix"] = json!(helix);
    out["events"] = json!(events);
    out["faults"] = faults;
    out["subscription_types"] = json!(types);
    out["power_ups"] = json!(power_ups);
    out
}

/// Sessions with their subscriptions, and conduits with their shards.
pub(crate) fn sessions(shared: &Shared) -> Value {
    let g = shared.lock();
    let sessions: Vec<Value> = g
        .sessions
        .values()
        .map(|s| {
            let subs: Vec<Value> = g
                .subs
                .iter()
                .filter(|x| {
                    matches!(&x.transport, crate::state::Transport::WebSocket { session_id, .. } if *session_id == s.id)
                })
                .map(|x| x.to_json())
                .collect();
            json!({
                "id": s.id,
                "connected_at": s.connected_at,
                "keepalive_timeout_seconds": s.keepalive_secs,
                "subscriptions": subs,
            })
        })
        .collect();
    let conduits: Vec<Value> = g
        .conduits
        .iter()
        .map(|c| {
            let shards: Vec<Value> = c
                .shards
                .iter()
                .enumerate()
                .map(|(i, sh)| json!({"id": i.to_string(), "status": sh.status, "transport": sh.transport}))
                .collect();
            json!({"id": c.id, "client_id": c.client_id, "shards": shards})
        })
        .collect();
    let subscriptions: Vec<Value> = g.subs.iter().map(|s| s.to_json()).collect();
    json!({"sessions": sessions, "conduits": conduits, "subscriptions": subscriptions, "now": util::now_rfc3339()})
}
