//! `/helix/...`: every endpoint of the schema. Checks the `Client-Id` and
//! the token (kind and scopes), takes a point from the caller's rate-limit
//! bucket, validates parameters against the schema, then answers from the
//! mock's state or Twitch's example.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use twitch::{EndpointMeta, RuleKind, TokenKind};

use crate::state::{Ban, Kind, Role, Shared, User};
use crate::wire::{Caller, Outcome, Req, Resp};

mod ads;
mod data;
mod eventsub;
pub(crate) mod extensions;
pub(crate) mod guest_star;
mod pins;
mod sets;
mod units;

use crate::{chat, util};
pub(crate) use units::handle as units;

/// Answer one Helix request (`path` is what follows `/helix`).
pub(crate) async fn handle(shared: &Arc<Shared>, req: &Req, path: &str) -> Outcome {
    // Faults first: they apply to every Helix request.
    let (latency, status, drop) = {
        let mut g = shared.lock();
        let f = &mut g.faults;
        let drop = f.drop > 0;
        if drop {
            f.drop -= 1;
        }
        let status = match &mut f.status {
            Some((s, n)) if *n > 0 && !drop => {
                *n -= 1;
                Some(*s)
            }
            _ => None,
        };
        if matches!(f.status, Some((_, 0))) {
            f.status = None;
        }
        (f.latency, status, drop)
    };
    if let Some(d) = latency {
        tokio::time::sleep(d).await;
    }
    if drop {
        return Outcome::Drop;
    }

    let path = path.trim_end_matches('/');
    let meta = twitch::meta::endpoints().into_iter().find(|m| m.path == path && m.method.as_str() == req.method);
    let caller = match meta {
        Some(meta) => authenticate(shared, req, meta),
        None => Err(withdrawn(req, path).unwrap_or_else(|| Resp::error(404, "Not Found"))),
    };
    let key = match &caller {
        Ok(c) => c.bucket_key(),
        Err(_) => req.header("client-id").unwrap_or("anonymous").to_owned(),
    };
    let taken = {
        let mut g = shared.lock();
        let config = &shared.config;
        g.buckets.entry(key).or_insert_with(|| crate::ratelimit::Bucket::new(config.bucket, config.refill)).take()
    };
    let resp = match (meta, caller) {
        (_, Err(r)) => r,
        _ if !taken.allowed => Resp::error(429, "Too Many Requests"),
        _ if status.is_some() => {
            let s = status.unwrap_or(500);
            Resp::error(s, format!("injected fault: {}", crate::wire::reason(s)))
        }
        (Some(meta), Ok(caller)) => match validate(meta, req) {
            Ok(body) => dispatch(shared, meta, &caller, req, &body),
            Err(r) => r,
        },
        (None, Ok(_)) => Resp::error(404, "Not Found"),
    };
    {
        let mut g = shared.lock();
        let path = match req.query.is_empty() {
            true => req.path.clone(),
            false => {
                format!("{}?{}", req.path, util::encode_pairs(req.query.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
            }
        };
        g.helix_log.push_back(crate::state::HelixRecord {
            at: util::now_rfc3339(),
            method: req.method.clone(),
            path,
            status: resp.status,
            limit: taken.limit,
            remaining: taken.remaining,
            reset: taken.reset,
        });
        if g.helix_log.len() > crate::state::DASHBOARD_MEMORY {
            g.helix_log.pop_front();
        }
    }
    resp.header("Ratelimit-Limit", taken.limit.to_string())
        .header("Ratelimit-Remaining", taken.remaining.to_string())
        .header("Ratelimit-Reset", taken.reset.to_string())
        .into()
}

/// An endpoint Twitch withdrew, answered as Twitch answers it now.
fn withdrawn(req: &Req, path: &str) -> Option<Resp> {
    let w = twitch::meta::withdrawn()
        .iter()
        .find(|w| w.endpoint.is_some_and(|(m, p)| p == path && m.as_str() == req.method))?;
    Some(Resp::json(w.status, &json!({"error": w.error, "status": w.status, "message": w.message})))
}

/// Does this look like a JWT (three base64url parts)? Signatures are not checked.
fn is_jwt(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_=".contains(&b)))
}

/// Check `Client-Id`, the token, its kind and its scopes.
fn authenticate(shared: &Shared, req: &Req, meta: &EndpointMeta) -> Result<Caller, Resp> {
    let client_id = req.header("client-id").map(str::trim).unwrap_or("");
    if meta.tokens.contains(&TokenKind::None) {
        return Ok(Caller { client_id: client_id.to_owned(), kind: None, user: None, scopes: Vec::new() });
    }
    let unauthorized = |m: &str| Err(Resp::error(401, m));
    let auth = req.header("authorization").map(str::trim).unwrap_or("");
    let token = match auth.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() => t.trim(),
        _ if auth.is_empty() => return unauthorized("OAuth token is missing"),
        _ => return unauthorized("Invalid OAuth token"),
    };
    if client_id.is_empty() {
        return unauthorized("Client ID is missing");
    }
    if meta.tokens.contains(&TokenKind::ExtensionJwt) && is_jwt(token) {
        return Ok(Caller { client_id: client_id.to_owned(), kind: None, user: None, scopes: Vec::new() });
    }
    let g = shared.lock();
    let Some(t) = g.token(token) else {
        if meta.tokens == [TokenKind::ExtensionJwt] {
            return unauthorized("JWT token is missing or invalid");
        }
        return unauthorized("Invalid OAuth token");
    };
    if t.client_id != client_id {
        return unauthorized("Client ID and OAuth token do not match");
    }
    match t.kind {
        Kind::User if !meta.tokens.contains(&TokenKind::User) => {
            return unauthorized("This endpoint requires an app access token");
        }
        Kind::App if !meta.tokens.contains(&TokenKind::App) => {
            return unauthorized("Missing User OAUTH Token");
        }
        _ => {}
    }
    // Scopes belong to users; app tokens carry none, and Twitch checks what
    // the users granted the app instead.
    if t.kind == Kind::User
        && let Some(group) = meta.missing_scopes(&t.scopes).first()
    {
        return unauthorized(&format!("Missing scope: {}", group.join(" or ")));
    }
    // An endpoint that acts as the user in one of its parameters: a user
    // token must be theirs; an app token works within what they granted
    // the app (their user tokens for this client are such grants). On other
    // endpoints the mock assumes the users granted what is needed.
    if let Some(param) = meta.token_user
        && let Some(named) = param_value(req, param)
    {
        match (t.kind, &t.user) {
            (Kind::User, Some(u)) if u.id != named => {
                return unauthorized(&format!("The ID in {param} must match the user ID in the access token."));
            }
            (Kind::App, _) => {
                let granted: Vec<String> =
                    g.grants.get(&(t.client_id.clone(), named.clone())).into_iter().flatten().cloned().collect();
                if let Some(group) = meta.missing_scopes(&granted).first() {
                    return unauthorized(&format!(
                        "The user in {param} has not granted this app the scope {}",
                        group.join(" or ")
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(Caller { client_id: t.client_id.clone(), kind: Some(t.kind), user: t.user.clone(), scopes: t.scopes.clone() })
}

/// A parameter's value from the query, or from the top level of a JSON
/// body (Twitch takes body fields from either).
fn param_value(req: &Req, name: &str) -> Option<String> {
    if let Some(v) = req.query_one(name).filter(|v| !v.is_empty()) {
        return Some(v.to_owned());
    }
    let body: Value = serde_json::from_slice(&req.body).ok()?;
    body.get(name)?.as_str().filter(|v| !v.is_empty()).map(str::to_owned)
}

/// Check parameters against the schema: required ones, repeat counts,
/// numeric ranges, lengths and the rules between parameters. Returns the
/// parsed JSON body (`Null` when there is none).
fn validate(meta: &EndpointMeta, req: &Req) -> Result<Value, Resp> {
    let bad = |m: String| Err(Resp::error(400, m));
    for p in meta.query {
        let given = req.query_all(p.name);
        let values: Vec<&str> = given.iter().copied().filter(|v| !v.is_empty()).collect();
        if p.required && values.is_empty() {
            return bad(format!("Missing required parameter \"{}\"", p.name));
        }
        // Every occurrence of a repeatable one counts toward its limit,
        // empty ones too.
        let most = p.repeat.unwrap_or(1) as usize;
        let counted = if p.repeat.is_some() { given.len() } else { values.len() };
        if counted > most {
            return bad(format!("The parameter \"{}\" may be given at most {most} times", p.name));
        }
        for v in &values {
            check_value(p, &json!(v), true)?;
        }
    }
    let mut body: Value = if req.body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(_) if meta.body.is_empty() => Value::Null,
            Err(_) => return bad("The request body is not valid JSON".into()),
        }
    };
    if !meta.body.is_empty() {
        let mut obj = match body {
            Value::Object(o) => o,
            Value::Null => Map::new(),
            _ => return bad("The request body must be a JSON object".into()),
        };
        // Lenient as Twitch is: a documented body field the body lacks may
        // come in the query string (clients send Send Chat Message's ids and
        // Create Conduits' shard_count so).
        for p in meta.body {
            if obj.get(p.name).is_none_or(Value::is_null) {
                let values: Vec<&str> = req.query_all(p.name).into_iter().filter(|v| !v.is_empty()).collect();
                if !values.is_empty() {
                    obj.insert(p.name.to_owned(), from_query(meta, p, &values));
                }
            }
        }
        for p in meta.body {
            match obj.get(p.name) {
                None | Some(Value::Null) if p.required => {
                    return bad(format!("Missing required parameter \"{}\"", p.name));
                }
                Some(v) if !v.is_null() => check_value(p, v, false)?,
                _ => {}
            }
        }
        body = Value::Object(obj);
    }
    // A body field taken from the query counts once.
    let count = |name: &str| -> usize {
        let q = if meta.query.iter().any(|p| p.name == name) || !meta.body.iter().any(|p| p.name == name) {
            req.query_all(name).into_iter().filter(|v| !v.is_empty()).count()
        } else {
            0
        };
        let b = match body.get(name) {
            None | Some(Value::Null) => 0,
            Some(Value::Array(a)) => a.len(),
            Some(_) => 1,
        };
        q + b
    };
    for rule in meta.rules {
        let given: Vec<&str> = rule.params.iter().copied().filter(|p| count(p) > 0).collect();
        let list = rule.params.join(", ");
        match rule.kind {
            RuleKind::Exclusive if given.len() > 1 => {
                return bad(format!("The parameters {} are mutually exclusive", given.join(", ")));
            }
            RuleKind::OneOf if given.len() != 1 => {
                return bad(format!("Exactly one of these parameters is required: {list}"));
            }
            RuleKind::AtLeastOne if given.is_empty() => {
                return bad(format!("At least one of these parameters is required: {list}"));
            }
            RuleKind::MaxTotal(n) if rule.params.iter().map(|p| count(p)).sum::<usize>() > n as usize => {
                return bad(format!("At most {n} values in total may be given for {list}"));
            }
            _ => {}
        }
    }
    Ok(body)
}

/// A body field's value from the query string, typed as the endpoint's
/// example answer types the field of that name (the schema keeps no wire
/// types in its metadata): numbers for ranged fields and numeric
/// examples, booleans for boolean examples, lists for repeatable fields
/// and list examples, text otherwise. A value that does not parse stays
/// text, and the checks that follow refuse it as they refuse it in a body.
fn from_query(meta: &EndpointMeta, p: &twitch::ParamMeta, values: &[&str]) -> Value {
    let example = data::example(meta).and_then(|e| {
        let item = e.get("data").and_then(|d| d.get(0).or(Some(d))).unwrap_or(e);
        item.get(p.name).or_else(|| e.get(p.name))
    });
    if p.repeat.is_some() || matches!(example, Some(Value::Array(_))) {
        return Value::Array(values.iter().map(|v| json!(v)).collect());
    }
    let v = values[0];
    match example {
        Some(Value::Bool(_)) => match v {
            "true" => return json!(true),
            "false" => return json!(false),
            _ => {}
        },
        Some(Value::Number(_)) => {}
        _ if p.min.is_none() && p.max.is_none() => return json!(v),
        _ => {}
    }
    if let Ok(n) = v.parse::<i64>() {
        return json!(n);
    }
    match v.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
        Some(n) => Value::Number(n),
        None => json!(v),
    }
}

/// A value's documented range and length.
fn check_value(p: &twitch::ParamMeta, v: &Value, from_query: bool) -> Result<(), Resp> {
    check_kind(p, v, from_query)?;
    if p.min.is_some() || p.max.is_some() {
        let n = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) if from_query => s.parse::<f64>().ok(),
            _ => None,
        };
        let Some(n) = n else {
            return Err(Resp::error(400, format!("The parameter \"{}\" must be a number", p.name)));
        };
        let below = p.min.is_some_and(|m| n < m as f64);
        let above = p.max.is_some_and(|m| n > m as f64);
        if below || above {
            let range = match (p.min, p.max) {
                (Some(a), Some(b)) => format!("between {a} and {b}"),
                (Some(a), None) => format!("at least {a}"),
                (None, Some(b)) => format!("at most {b}"),
                (None, None) => String::new(),
            };
            return Err(Resp::error(400, format!("The value of \"{}\" must be {range}", p.name)));
        }
    }
    if let (Some(max), Value::String(s)) = (p.max_len, v)
        && s.chars().count() > max as usize
    {
        return Err(Resp::error(400, format!("The value of \"{}\" may be at most {max} characters long", p.name)));
    }
    Ok(())
}

/// A value of the kind the schema gives the parameter, as Twitch refuses
/// others (400, in Twitch's words): in a body the JSON kind, in a query
/// string text that reads as it.
fn check_kind(p: &twitch::ParamMeta, v: &Value, from_query: bool) -> Result<(), Resp> {
    use twitch::WireKind;
    let fits = match (p.kind, v) {
        (WireKind::Any, _) => true,
        (kind, Value::String(s)) if from_query => match kind {
            WireKind::Integer => s.parse::<i64>().is_ok() || s.parse::<u64>().is_ok(),
            WireKind::Number => s.parse::<f64>().is_ok_and(f64::is_finite),
            // What Go's strconv.ParseBool takes (Python clients send `False`).
            WireKind::Boolean => matches!(
                s.as_str(),
                "1" | "t" | "T" | "TRUE" | "true" | "True" | "0" | "f" | "F" | "FALSE" | "false" | "False"
            ),
            WireKind::Timestamp => twitch::Timestamp::parse(s).is_ok(),
            _ => true,
        },
        (WireKind::String, Value::String(_)) => true,
        (WireKind::Timestamp, Value::String(s)) => twitch::Timestamp::parse(s).is_ok(),
        (WireKind::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
        (WireKind::Number, Value::Number(_)) => true,
        (WireKind::Boolean, Value::Bool(_)) => true,
        (WireKind::Object, Value::Object(_)) => true,
        (WireKind::Array, Value::Array(_)) => true,
        _ => false,
    };
    if !fits {
        // Twitch's words for each.
        let message = if p.kind == WireKind::Timestamp {
            format!("The format of the string in {} is not valid.", p.name)
        } else if from_query {
            format!("The value in the {} query parameter is not valid.", p.name)
        } else {
            "The JSON payload is malformed".to_owned()
        };
        return Err(Resp::error(400, message));
    }
    // An enumerated parameter takes only its values (in a list, each item).
    let known = |v: &Value| v.as_str().is_some_and(|s| p.values.contains(&s));
    let valid = p.values.is_empty()
        || match v {
            Value::Array(items) => items.iter().all(known),
            v => known(v),
        };
    if !valid {
        let place = if from_query { "query parameter" } else { "field" };
        return Err(Resp::error(400, format!("The value in the {} {place} is not valid.", p.name)));
    }
    Ok(())
}

/// Endpoints with state; the rest answer from their examples.
fn dispatch(shared: &Arc<Shared>, meta: &'static EndpointMeta, caller: &Caller, req: &Req, body: &Value) -> Resp {
    match meta.id {
        "get-users" => get_users(shared, meta, caller, req),
        "ban-user" => ban_user(shared, caller, req, body),
        "unban-user" => unban_user(shared, meta, req),
        "get-banned-users" => get_banned_users(shared, meta, req),
        "send-chat-message" => send_chat_message(shared, caller, body),
        "delete-chat-messages" | "send-chat-announcement" | "send-a-shoutout" | "send-whisper" => {
            chat_action(shared, meta, caller, req, body)
        }
        "get-moderators" => list_role(shared, meta, req, Role::Moderator),
        "add-channel-moderator" => grant_role(shared, meta, req, Role::Moderator),
        "remove-channel-moderator" => take_role(shared, meta, req, Role::Moderator),
        "get-vips" => list_role(shared, meta, req, Role::Vip),
        "add-channel-vip" => grant_role(shared, meta, req, Role::Vip),
        "remove-channel-vip" => take_role(shared, meta, req, Role::Vip),
        "get-ad-schedule" => ads::get(shared, meta, req),
        "snooze-next-ad" => ads::snooze(shared, meta, req),
        "start-commercial" => ads::commercial(shared, meta, body),
        "check-automod-status" => crate::store::check_automod(shared, req, body),
        "resolve-unban-requests" => resolve_unban_request(shared, meta, caller, req, body),
        "get-videos" => sets::get_videos(shared, meta, req),
        "delete-videos" => sets::delete_videos(shared, meta, caller, req),
        "get-drops-entitlements" => sets::get_entitlements(shared, meta, caller, req),
        "update-drops-entitlements" => sets::update_entitlements(shared, meta, caller, body),
        "update-channel-stream-schedule" => crate::store::set_vacation(shared, req),
        "create-eventsub-subscription"
        | "get-eventsub-subscriptions"
        | "delete-eventsub-subscription"
        | "get-conduits"
        | "create-conduits"
        | "update-conduits"
        | "delete-conduit"
        | "get-conduit-shards"
        | "update-conduit-shards" => eventsub::helix(shared, meta, caller, req, body),
        "get-shared-chat-session" => {
            let g = shared.lock();
            let session = req.query_one("broadcaster_id").and_then(|b| crate::shared_chat::of(&g, b));
            let data: Vec<Value> = session.map(|s| crate::shared_chat::session_json(&g, s)).into_iter().collect();
            Resp::json(200, &json!({"data": data}))
        }
        _ => pins::handle(shared, meta, req)
            .or_else(|| guest_star::handle(shared, meta, caller, req, body))
            .or_else(|| extensions::handle(shared, meta, caller, req, body))
            .or_else(|| crate::store::handle(shared, meta, caller, req, body))
            .unwrap_or_else(|| data::answer(shared, meta, req)),
    }
}

/// The example's first item with a user's identity in it.
/// `email` only for the token's own user with `user:read:email`, as Twitch does.
fn user_json(meta: &EndpointMeta, u: &User, caller: &Caller) -> Value {
    let mut item = data::example_items(meta).into_iter().next().unwrap_or_else(|| json!({}));
    let own = caller.user.as_ref().is_some_and(|c| c.id == u.id);
    if let Some(o) = item.as_object_mut()
        && !(own && caller.scopes.iter().any(|s| s == "user:read:email"))
    {
        o.remove("email");
    }
    item["id"] = json!(u.id);
    item["login"] = json!(u.login);
    item["display_name"] = json!(u.display_name);
    item
}

fn get_users(shared: &Shared, meta: &EndpointMeta, caller: &Caller, req: &Req) -> Resp {
    let g = shared.lock();
    // What Update User changed (the description).
    let user_json = |meta: &EndpointMeta, u: &User, caller: &Caller| {
        let mut item = user_json(meta, u, caller);
        if let Some(Value::Object(stored)) = crate::store::user_fields(&g, &u.id) {
            for (k, v) in stored {
                if k != "email" && item.get(&k).is_some() {
                    item[k] = v;
                }
            }
        }
        item
    };
    let ids = req.query_all("id");
    let logins = req.query_all("login");
    let mut found: Vec<Value> = Vec::new();
    if ids.is_empty() && logins.is_empty() {
        match &caller.user {
            Some(u) => found.push(user_json(meta, u, caller)),
            None => return Resp::error(400, "Must provide an ID, Login or OAuth Token"),
        }
    }
    // Unknown ids and logins are left out, as Twitch does.
    for u in ids.iter().filter_map(|id| g.user_by_id(id)).chain(logins.iter().filter_map(|l| g.user_by_login(l))) {
        let j = user_json(meta, u, caller);
        if !found.contains(&j) {
            found.push(j);
        }
    }
    Resp::json(200, &json!({"data": found}))
}

fn ban_user(shared: &Shared, caller: &Caller, req: &Req, body: &Value) -> Resp {
    let broadcaster_id = req.query_one("broadcaster_id").unwrap_or_default().to_owned();
    let moderator_id = req.query_one("moderator_id").unwrap_or_default().to_owned();
    let data = &body["data"];
    let Some(user_id) = data.get("user_id").and_then(Value::as_str).filter(|s| !s.is_empty()) else {
        return Resp::error(400, "Missing required parameter \"user_id\"");
    };
    let duration = match data.get("duration") {
        None | Some(Value::Null) => None,
        Some(d) => match d.as_u64().or_else(|| d.as_str().and_then(|s| s.parse().ok())) {
            Some(n) if (1..=1_209_600).contains(&n) => Some(n),
            _ => return Resp::error(400, "The value in the duration field is not valid."),
        },
    };
    let mut g = shared.lock();
    // A timeout may be replaced (by a ban or another timeout); a ban may not.
    if g.bans.iter().any(|b| b.broadcaster_id == broadcaster_id && b.user.id == user_id && b.expires_at.is_empty()) {
        return Resp::error(400, "The user specified in the user_id field is already banned.");
    }
    g.bans.retain(|b| !(b.broadcaster_id == broadcaster_id && b.user.id == user_id));
    let now = util::now_rfc3339();
    let end = duration.map(|d| {
        twitch::Timestamp::from(std::time::SystemTime::now() + std::time::Duration::from_secs(d)).to_rfc3339_nanos()
    });
    let user = g.user_or_synth(user_id);
    let moderator = caller.user.clone().unwrap_or_else(|| g.user_or_synth(&moderator_id));
    g.bans.push(Ban {
        broadcaster_id: broadcaster_id.clone(),
        user,
        moderator,
        reason: data.get("reason").and_then(Value::as_str).unwrap_or("").to_owned(),
        created_at: now.clone(),
        expires_at: end.clone().unwrap_or_default(),
    });
    Resp::json(
        200,
        &json!({"data": [{
            "broadcaster_id": broadcaster_id,
            "moderator_id": moderator_id,
            "user_id": user_id,
            "created_at": now,
            "end_time": end,
        }]}),
    )
}

fn unban_user(shared: &Shared, meta: &EndpointMeta, req: &Req) -> Resp {
    let broadcaster_id = req.query_one("broadcaster_id").unwrap_or_default();
    let user_id = req.query_one("user_id").unwrap_or_default();
    let mut g = shared.lock();
    let before = g.bans.len();
    g.bans.retain(|b| !(b.broadcaster_id == broadcaster_id && b.user.id == user_id));
    if g.bans.len() == before {
        return Resp::error(400, "The user specified in the user_id query parameter is not banned.");
    }
    Resp::empty(meta.success_status)
}

/// Resolve Unban Requests: the store changes the request; an approved one
/// lifts the user's ban. A request resolved already is Twitch's 400.
fn resolve_unban_request(
    shared: &Shared,
    meta: &'static EndpointMeta,
    caller: &Caller,
    req: &Req,
    body: &Value,
) -> Resp {
    let broadcaster_id = req.query_one("broadcaster_id").unwrap_or_default();
    let id = req.query_one("unban_request_id").unwrap_or_default();
    let held = crate::store::unban_request_of(&shared.lock(), broadcaster_id, id);
    if held.as_ref().is_some_and(|(status, _)| status != "pending") {
        return Resp::error(400, "Invalid requested update");
    }
    let resp = crate::store::handle(shared, meta, caller, req, body).unwrap_or_else(|| data::answer(shared, meta, req));
    if let Some((_, user_id)) = held
        && resp.status == meta.success_status
        && req.query_one("status") == Some("approved")
    {
        shared.lock().bans.retain(|b| !(b.broadcaster_id == broadcaster_id && b.user.id == user_id));
    }
    resp
}

fn get_banned_users(shared: &Shared, meta: &EndpointMeta, req: &Req) -> Resp {
    let broadcaster_id = req.query_one("broadcaster_id").unwrap_or_default();
    let wanted = req.query_all("user_id");
    let items: Vec<Value> = shared
        .lock()
        .bans
        .iter()
        .filter(|b| b.broadcaster_id == broadcaster_id && (wanted.is_empty() || wanted.contains(&b.user.id.as_str())))
        .map(|b| {
            json!({
                "user_id": b.user.id,
                "user_login": b.user.login,
                "user_name": b.user.display_name,
                "expires_at": b.expires_at,
                "created_at": b.created_at,
                "reason": b.reason,
                "moderator_id": b.moderator.id,
                "moderator_login": b.moderator.login,
                "moderator_name": b.moderator.display_name,
            })
        })
        .collect();
    match data::page(shared, meta, &format!("bans:{broadcaster_id}"), req, &items) {
        Ok((data, pagination)) => Resp::json(200, &json!({"data": data, "pagination": pagination})),
        Err(r) => r,
    }
}

/// Get Moderators and Get VIPs: the channel's users in that role, in the
/// order they got it, or (with `user_id`) those of the given users who have
/// it, in the order given. The broadcaster is never listed.
fn list_role(shared: &Shared, meta: &EndpointMeta, req: &Req, role: Role) -> Resp {
    let broadcaster_id = req.query_one("broadcaster_id").unwrap_or_default();
    let wanted = req.query_all("user_id");
    let items: Vec<Value> = {
        let g = shared.lock();
        let holders: Vec<&User> =
            g.roles.iter().filter(|r| r.broadcaster_id == broadcaster_id && r.role == role).map(|r| &r.user).collect();
        let listed: Vec<&User> = if wanted.is_empty() {
            holders
        } else {
            let mut seen = Vec::new();
            for id in &wanted {
                if let Some(u) = holders.iter().find(|u| u.id == *id)
                    && !seen.iter().any(|s: &&User| s.id == u.id)
                {
                    seen.push(*u);
                }
            }
            seen
        };
        listed.iter().map(|u| json!({"user_id": u.id, "user_login": u.login, "user_name": u.display_name})).collect()
    };
    let list = match role {
        Role::Moderator => format!("moderators:{broadcaster_id}"),
        Role::Vip => format!("vips:{broadcaster_id}"),
    };
    match data::page(shared, meta, &list, req, &items) {
        Ok((data, pagination)) => Resp::json(200, &json!({"data": data, "pagination": pagination})),
        Err(r) => r,
    }
}

/// Add Channel Moderator and Add Channel VIP, with Twitch's refusals.
fn grant_role(shared: &Shared, meta: &EndpointMeta, req: &Req, role: Role) -> Resp {
    let broadcaster_id = req.query_one("broadcaster_id").unwrap_or_default();
    let user_id = req.query_one("user_id").unwrap_or_default();
    let mut g = shared.lock();
    let user = g.user_or_synth(user_id);
    match g.grant(broadcaster_id, user, role) {
        Ok(()) => Resp::empty(meta.success_status),
        Err((status, message)) => Resp::error(status, message),
    }
}

/// Remove Channel Moderator and Remove Channel VIP.
fn take_role(shared: &Shared, meta: &EndpointMeta, req: &Req, role: Role) -> Resp {
    let broadcaster_id = req.query_one("broadcaster_id").unwrap_or_default();
    let user_id = req.query_one("user_id").unwrap_or_default();
    match shared.lock().take(broadcaster_id, user_id, role) {
        Ok(()) => Resp::empty(meta.success_status),
        Err((status, message)) => Resp::error(status, message),
    }
}

/// Send Chat Message: past Twitch's chat rules (bans, timeouts, the chat
/// limits, duplicates), the message goes out as a `channel.chat.message`
/// notification to every subscription for the broadcaster's chat; a
/// dropped one is a 200 with `is_sent: false` and Twitch's notice id as
/// `drop_reason.code`.
/// The chat actions that Twitch answers with 204 and that go out as
/// EventSub notifications (deletions, announcements, Shoutouts, whispers).
fn chat_action(shared: &Shared, meta: &EndpointMeta, caller: &Caller, req: &Req, body: &Value) -> Resp {
    let q = |k: &str| req.query_one(k).unwrap_or_default();
    let text = |k: &str| body.get(k).and_then(Value::as_str);
    let me = || match &caller.user {
        Some(u) => u.clone(),
        None => shared.lock().user_or_synth(q("moderator_id")),
    };
    let done = match meta.id {
        "delete-chat-messages" => {
            chat::delete_messages(shared, q("broadcaster_id"), q("moderator_id"), req.query_one("message_id"))
        }
        "send-chat-announcement" => {
            let source_only =
                req.query_one("for_source_only").is_some() || !body.get("for_source_only").is_none_or(Value::is_null);
            if caller.kind == Some(Kind::User) && source_only {
                return Resp::error(400, "Cannot set for_source_only if User Access Token is used.");
            }
            chat::announce(shared, q("broadcaster_id"), me(), text("message").unwrap_or(""), text("color"))
        }
        "send-a-shoutout" => {
            chat::shoutout(shared, q("from_broadcaster_id"), q("to_broadcaster_id"), q("moderator_id"))
        }
        _ => {
            let from = match &caller.user {
                Some(u) => u.clone(),
                None => shared.lock().user_or_synth(q("from_user_id")),
            };
            chat::whisper(shared, from, q("to_user_id"), text("message").unwrap_or(""))
        }
    };
    match done {
        Ok(_) => Resp::empty(meta.success_status),
        Err((status, message)) => Resp::error(status, message),
    }
}

fn send_chat_message(shared: &Shared, caller: &Caller, body: &Value) -> Resp {
    let text = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("");
    if caller.kind == Some(Kind::User) && !body.get("for_source_only").is_none_or(Value::is_null) {
        return Resp::error(400, "Cannot set for_source_only if User Access Token is used.");
    }
    let sender = match &caller.user {
        Some(u) => u.clone(),
        None => shared.lock().user_or_synth(text("sender_id")),
    };
    let broadcaster_id = text("broadcaster_id");
    // A message sent with `pin` is pinned for 20 minutes; if it cannot be
    // pinned, it is not sent.
    let pin = body.get("pin").and_then(Value::as_bool) == Some(true);
    if pin {
        let g = shared.lock();
        let scope = "moderator:manage:chat_messages";
        let granted = match caller.kind {
            Some(Kind::User) => caller.scopes.iter().any(|s| s == scope),
            _ => g.grants.get(&(caller.client_id.clone(), sender.id.clone())).is_some_and(|s| s.contains(scope)),
        };
        if !granted {
            return Resp::error(401, format!("Missing scope: {scope}"));
        }
        if !g.is_elevated(broadcaster_id, &sender.id) {
            return Resp::error(403, "Only the broadcaster or a moderator may pin a message.");
        }
    }
    let reply_to = body.get("reply_parent_message_id").and_then(Value::as_str);
    match chat::send(shared, sender.clone(), broadcaster_id, text("message"), reply_to) {
        Ok(message_id) => {
            if pin {
                crate::pins::pin_sent(&mut shared.lock(), broadcaster_id, &message_id, sender, text("message"));
            }
            Resp::json(200, &json!({"data": [{"message_id": message_id, "is_sent": true}]}))
        }
        Err((drop, message)) => Resp::json(
            200,
            &json!({"data": [{"message_id": "", "is_sent": false,
                "drop_reason": {"code": drop.code(), "message": message}}]}),
        ),
    }
}
