//! The Helix endpoints of EventSub: subscriptions and conduits.

use std::sync::Arc;

use serde_json::{Value, json};
use twitch::EndpointMeta;

use super::data;
use crate::delivery::close_reason;
use crate::state::{Conduit, Inner, Kind, Out, Shard, Shared, Subscription, Transport};
use crate::wire::{Caller, Req, Resp};
use crate::{util, webhook};

/// Enabled WebSocket subscriptions one session may hold.
const MAX_PER_SESSION: usize = 300;
/// `max_total_cost` of WebSocket subscriptions (per user and client).
const MAX_COST_WEBSOCKET: u32 = 10;
/// `max_total_cost` of webhook and conduit subscriptions (per client).
const MAX_COST_APP: u32 = 10_000;
/// Conduits per client id.
const MAX_CONDUITS: usize = 5;
/// Shards per conduit.
const MAX_SHARDS: i64 = 20_000;

/// The Helix endpoints of EventSub and conduits.
pub(crate) fn helix(
    shared: &Arc<Shared>,
    meta: &'static EndpointMeta,
    caller: &Caller,
    req: &Req,
    body: &Value,
) -> Resp {
    match meta.id {
        "create-eventsub-subscription" => create_subscription(shared, caller, body),
        "get-eventsub-subscriptions" => get_subscriptions(shared, meta, caller, req),
        "delete-eventsub-subscription" => delete_subscription(shared, caller, req),
        "get-conduits" => {
            let g = shared.lock();
            let data: Vec<Value> = g
                .conduits
                .iter()
                .filter(|c| c.client_id == caller.client_id)
                .map(|c| json!({"id": c.id, "shard_count": c.shards.len()}))
                .collect();
            Resp::json(200, &json!({"data": data}))
        }
        "create-conduits" => create_conduit(shared, caller, body),
        "update-conduits" => update_conduit(shared, caller, body),
        "delete-conduit" => delete_conduit(shared, caller, req),
        "get-conduit-shards" => get_shards(shared, meta, caller, req),
        "update-conduit-shards" => update_shards(shared, caller, body),
        _ => data::answer(shared, meta, req),
    }
}

/// Whose subscriptions a caller sees: an app sees its webhook and conduit
/// subscriptions, a user token its user's WebSocket subscriptions.
fn owned_by(sub: &Subscription, caller: &Caller) -> bool {
    if sub.client_id != caller.client_id {
        return false;
    }
    match (&sub.transport, &caller.user) {
        (Transport::WebSocket { .. }, Some(u)) => sub.user_id.as_deref() == Some(u.id.as_str()),
        (Transport::WebSocket { .. }, None) => false,
        (_, Some(_)) => false,
        (_, None) => true,
    }
}

/// `total`, `total_cost` and `max_total_cost` for a caller.
fn totals(g: &Inner, caller: &Caller) -> (usize, u32, u32) {
    let mine: Vec<&Subscription> = g.subs.iter().filter(|s| owned_by(s, caller)).collect();
    let cost = mine.iter().filter(|s| s.status == "enabled").map(|s| s.cost).sum();
    let max = if caller.user.is_some() { MAX_COST_WEBSOCKET } else { MAX_COST_APP };
    (mine.len(), cost, max)
}

fn create_subscription(shared: &Arc<Shared>, caller: &Caller, body: &Value) -> Resp {
    let bad = |m: &str| Resp::error(400, m);
    let s = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("");
    let (sub_type, version) = (s("type"), s("version"));
    // What Twitch withdrew is answered as Twitch answers it now.
    if let Some(w) = twitch::meta::withdrawn().iter().find(|w| w.id == sub_type && w.version == Some(version)) {
        return Resp::json(w.status, &json!({"error": w.error, "status": w.status, "message": w.message}));
    }
    let Some(sub_meta) = twitch::meta::subscription(sub_type, version) else {
        return bad("The combination of values in the type and version fields is not valid.");
    };
    let Some(condition) = body.get("condition").and_then(Value::as_object) else {
        return bad("The condition field is required.");
    };
    for (k, v) in condition {
        if !sub_meta.condition.contains(&k.as_str()) {
            return bad(&format!("The condition field \"{k}\" is not valid for {sub_type}."));
        }
        if !v.is_string() {
            return bad(&format!("The condition field \"{k}\" must be a string."));
        }
    }
    if !condition.values().any(|v| v.as_str().is_some_and(|s| !s.is_empty())) {
        return bad("The condition object is missing one or more required fields.");
    }
    let transport = body.get("transport").cloned().unwrap_or(Value::Null);
    let t = |k: &str| transport.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let method = t("method");
    if !["webhook", "websocket", "conduit"].contains(&method.as_str()) {
        return bad("The value specified in the method field is not valid.");
    }
    if !sub_meta.transports.contains(&method.as_str()) {
        return bad(&format!("The {method} transport is not supported for {sub_type}."));
    }
    let mut g = shared.lock();
    let transport = match method.as_str() {
        "websocket" => {
            if caller.user.is_none() {
                return Resp::error(401, "The WebSocket transport requires a user access token.");
            }
            let session_id = t("session_id");
            if session_id.is_empty() {
                return bad("The session_id field is required if you specify the WebSocket transport method.");
            }
            let Some(session) = g.sessions.get(&session_id) else {
                return bad("The WebSocket session does not exist or has disconnected.");
            };
            let connected_at = session.connected_at.clone();
            let enabled = g
                .subs
                .iter()
                .filter(|s| {
                    s.status == "enabled"
                        && matches!(&s.transport, Transport::WebSocket { session_id: id, .. } if *id == session_id)
                })
                .count();
            if enabled >= MAX_PER_SESSION {
                return Resp::error(429, "The WebSocket session has the maximum number of enabled subscriptions.");
            }
            Transport::WebSocket { session_id, connected_at, disconnected_at: None }
        }
        "webhook" | "conduit" if caller.kind != Some(Kind::App) => {
            return Resp::error(401, format!("The {method} transport requires an app access token."));
        }
        "webhook" => {
            let callback = t("callback");
            if !(callback.starts_with("https://") || callback.starts_with("http://")) {
                return bad("The URL in the transport's callback field is not valid.");
            }
            let secret = t("secret");
            if !(10..=100).contains(&secret.len()) {
                return bad("The length of the string in the secret field is not valid.");
            }
            Transport::Webhook { callback, secret, deliver: shared.config.deliver_webhooks }
        }
        _ => {
            let conduit_id = t("conduit_id");
            if conduit_id.is_empty() {
                return bad("The conduit_id field is required if you specify the Conduit transport method.");
            }
            if !g.conduits.iter().any(|c| c.id == conduit_id && c.client_id == caller.client_id) {
                return bad("The conduit specified in conduit_id does not exist.");
            }
            Transport::Conduit { conduit_id }
        }
    };
    // User tokens must hold the type's scopes; for app tokens Twitch checks
    // what the user granted the app, which the mock assumes was granted.
    if caller.user.is_some()
        && sub_meta.scopes.iter().any(|group| !group.iter().any(|s| caller.scopes.iter().any(|g| g == s)))
    {
        return Resp::error(403, "subscription missing proper authorization");
    }
    let condition = condition.clone();
    let target = |tr: &Transport| match tr {
        Transport::Webhook { callback, .. } => callback.clone(),
        Transport::WebSocket { session_id, .. } => session_id.clone(),
        Transport::Conduit { conduit_id } => conduit_id.clone(),
    };
    if let Some(existing) = g.subs.iter().find(|s| {
        s.status == "enabled"
            && s.client_id == caller.client_id
            && s.sub_type == sub_type
            && s.version == version
            && s.condition == condition
            && target(&s.transport) == target(&transport)
    }) {
        // Since 2026-04-17 the 409 names the subscription that exists.
        return Resp::json(
            409,
            &json!({"error": "Conflict", "status": 409, "message": "subscription already exists", "id": existing.id}),
        );
    }
    // Types that need a user's authorization cost nothing (the user
    // authorized the app); others cost 1 unless they are about the caller.
    let about_caller =
        caller.user.as_ref().is_some_and(|u| condition.values().any(|v| v.as_str() == Some(u.id.as_str())));
    let cost = if !sub_meta.scopes.is_empty() || about_caller { 0 } else { 1 };
    let (_, total_cost, max) = totals(&g, caller);
    if total_cost + cost > max {
        return Resp::error(429, "The subscription would exceed max_total_cost.");
    }
    if let Transport::WebSocket { session_id, .. } = &transport
        && let Some(session) = g.sessions.get_mut(session_id)
    {
        session.used = true;
        session.client_id = Some(caller.client_id.clone());
    }
    let verify = match &transport {
        Transport::Webhook { callback, secret, deliver: true } => Some((callback.clone(), secret.clone())),
        _ => None,
    };
    let sub = Subscription {
        id: util::uuid(),
        status: if verify.is_some() { webhook::PENDING } else { "enabled" }.into(),
        sub_type: sub_type.to_owned(),
        version: version.to_owned(),
        condition,
        created_at: util::now_rfc3339(),
        transport,
        cost,
        client_id: caller.client_id.clone(),
        user_id: caller.user.as_ref().map(|u| u.id.clone()),
    };
    let json = sub.to_json();
    if let Some((callback, secret)) = verify {
        webhook::verify(shared.clone(), sub.clone(), callback, secret);
    }
    g.subs.push(sub);
    let (total, total_cost, max) = totals(&g, caller);
    Resp::json(202, &json!({"data": [json], "total": total, "total_cost": total_cost, "max_total_cost": max}))
}

fn get_subscriptions(shared: &Shared, meta: &EndpointMeta, caller: &Caller, req: &Req) -> Resp {
    let g = shared.lock();
    let (status, sub_type, user_id, sub_id) =
        (req.query_one("status"), req.query_one("type"), req.query_one("user_id"), req.query_one("subscription_id"));
    let conduit = req.query_one("conduit_id");
    let items: Vec<Value> = g
        .subs
        .iter()
        .filter(|s| owned_by(s, caller))
        .filter(|s| status.is_none_or(|x| s.status == x))
        .filter(|s| sub_type.is_none_or(|x| s.sub_type == x))
        .filter(|s| user_id.is_none_or(|x| s.condition.values().any(|v| v.as_str() == Some(x))))
        .filter(|s| sub_id.is_none_or(|x| s.id == x))
        .filter(|s| {
            conduit.is_none_or(|x| matches!(&s.transport, Transport::Conduit { conduit_id } if conduit_id == x))
        })
        .map(Subscription::to_json)
        .collect();
    let (total, total_cost, max) = totals(&g, caller);
    drop(g);
    match data::page(shared, meta, "eventsub-subscriptions", req, &items) {
        Ok((data, pagination)) => Resp::json(
            200,
            &json!({"data": data, "total": total, "total_cost": total_cost, "max_total_cost": max, "pagination": pagination}),
        ),
        Err(r) => r,
    }
}

fn delete_subscription(shared: &Shared, caller: &Caller, req: &Req) -> Resp {
    let id = req.query_one("id").unwrap_or_default();
    let mut g = shared.lock();
    let before = g.subs.len();
    g.subs.retain(|s| !(s.id == id && owned_by(s, caller)));
    if g.subs.len() == before {
        return Resp::error(404, "The subscription was not found.");
    }
    Resp::empty(204)
}

fn shard_count(body: &Value) -> Result<usize, Resp> {
    match body.get("shard_count").and_then(Value::as_i64) {
        Some(n) if (1..=MAX_SHARDS).contains(&n) => Ok(n as usize),
        _ => Err(Resp::error(400, format!("The shard_count field must be between 1 and {MAX_SHARDS}."))),
    }
}

fn create_conduit(shared: &Shared, caller: &Caller, body: &Value) -> Resp {
    let n = match shard_count(body) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let mut g = shared.lock();
    if g.conduits.iter().filter(|c| c.client_id == caller.client_id).count() >= MAX_CONDUITS {
        return Resp::error(429, "The client already has the maximum number of conduits.");
    }
    let conduit = Conduit {
        id: util::uuid(),
        client_id: caller.client_id.clone(),
        shards: vec![Shard::unassigned(); n],
        next: 0,
    };
    let json = json!({"data": [{"id": conduit.id, "shard_count": n}]});
    g.conduits.push(conduit);
    Resp::json(200, &json)
}

fn update_conduit(shared: &Shared, caller: &Caller, body: &Value) -> Resp {
    let n = match shard_count(body) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let id = body.get("id").and_then(Value::as_str).unwrap_or_default();
    let mut g = shared.lock();
    let Some(c) = g.conduits.iter_mut().find(|c| c.id == id && c.client_id == caller.client_id) else {
        return Resp::error(404, "Conduit not found.");
    };
    c.shards.resize(n, Shard::unassigned());
    Resp::json(200, &json!({"data": [{"id": c.id, "shard_count": n}]}))
}

fn delete_conduit(shared: &Shared, caller: &Caller, req: &Req) -> Resp {
    let id = req.query_one("id").unwrap_or_default();
    let mut g = shared.lock();
    let before = g.conduits.len();
    g.conduits.retain(|c| !(c.id == id && c.client_id == caller.client_id));
    if g.conduits.len() == before {
        return Resp::error(404, "Conduit not found.");
    }
    g.subs.retain(|s| !matches!(&s.transport, Transport::Conduit { conduit_id } if conduit_id == id));
    Resp::empty(204)
}

fn shard_json(i: usize, s: &Shard) -> Value {
    json!({"id": i.to_string(), "status": s.status, "transport": s.transport})
}

fn get_shards(shared: &Shared, meta: &EndpointMeta, caller: &Caller, req: &Req) -> Resp {
    let id = req.query_one("conduit_id").unwrap_or_default();
    let status = req.query_one("status");
    let g = shared.lock();
    let Some(c) = g.conduits.iter().find(|c| c.id == id && c.client_id == caller.client_id) else {
        return Resp::error(404, "Conduit not found.");
    };
    let items: Vec<Value> = c
        .shards
        .iter()
        .enumerate()
        .filter(|(_, s)| status.is_none_or(|x| s.status == x))
        .map(|(i, s)| shard_json(i, s))
        .collect();
    drop(g);
    match data::page(shared, meta, &format!("shards:{id}"), req, &items) {
        Ok((data, pagination)) => Resp::json(200, &json!({"data": data, "pagination": pagination})),
        Err(r) => r,
    }
}

fn update_shards(shared: &Shared, caller: &Caller, body: &Value) -> Resp {
    let id = body.get("conduit_id").and_then(Value::as_str).unwrap_or_default();
    let Some(updates) = body.get("shards").and_then(Value::as_array) else {
        return Resp::error(400, "The shards field is required.");
    };
    // Twitch's limit since 2026-06-18, the schema's `split`.
    let most = twitch::meta::endpoint("update-conduit-shards").and_then(|m| m.split).map_or(100, |s| s.max as usize);
    if updates.len() > most {
        return Resp::error(400, format!("The request may update at most {most} shards."));
    }
    let mut g = shared.lock();
    let Some(ci) = g.conduits.iter().position(|c| c.id == id && c.client_id == caller.client_id) else {
        return Resp::error(404, "Conduit not found.");
    };
    let (mut done, mut errors, mut displaced) = (Vec::new(), Vec::new(), Vec::new());
    for u in updates {
        let shard_id = match u.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let error = |message: &str, code: &str| json!({"id": shard_id, "message": message, "code": code});
        let index = shard_id.parse::<usize>().ok().filter(|i| *i < g.conduits[ci].shards.len());
        let Some(index) = index else {
            errors.push(error("The shard id is outside the conduit's range", "invalid_parameter"));
            continue;
        };
        let t = |k: &str| u["transport"].get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let shard = match t("method").as_str() {
            "websocket" => {
                let session_id = t("session_id");
                let Some(session) = g.sessions.get_mut(&session_id) else {
                    errors.push(error("The websocket session is not connected", "websocket_session_not_found"));
                    continue;
                };
                session.used = true;
                session.client_id = Some(caller.client_id.clone());
                Shard {
                    status: "enabled".into(),
                    transport: json!({"method": "websocket", "session_id": session_id, "connected_at": session.connected_at}),
                    session_id: Some(session_id),
                }
            }
            "webhook" => {
                let callback = t("callback");
                if !(callback.starts_with("https://") || callback.starts_with("http://")) {
                    errors.push(error("The callback URL is not valid", "invalid_parameter"));
                    continue;
                }
                Shard {
                    status: "enabled".into(),
                    transport: json!({"method": "webhook", "callback": callback}),
                    session_id: None,
                }
            }
            _ => {
                errors.push(error("The transport method is not valid", "invalid_parameter"));
                continue;
            }
        };
        done.push(shard_json(index, &shard));
        let previous = std::mem::replace(&mut g.conduits[ci].shards[index], shard);
        displaced.extend(previous.session_id);
    }
    close_unused(&g, displaced);
    Resp::json(202, &json!({"data": done, "errors": errors}))
}

/// Sessions whose shard went to another session and that nothing else
/// uses now (no shard, no enabled subscription) are closed with 4003, as
/// Twitch closes an unused connection: their owner learns the shard is gone.
fn close_unused(g: &Inner, displaced: Vec<String>) {
    for id in displaced {
        let on_shard = g.conduits.iter().any(|c| c.shards.iter().any(|s| s.session_id.as_deref() == Some(id.as_str())));
        let subscribed = g.subs.iter().any(|s| {
            s.status == "enabled"
                && matches!(&s.transport, Transport::WebSocket { session_id, .. } if *session_id == id)
        });
        if !on_shard
            && !subscribed
            && let Some(session) = g.sessions.get(&id)
        {
            let _ = session.conn.tx.send(Out::Close(4003, close_reason(4003).to_owned()));
        }
    }
}
