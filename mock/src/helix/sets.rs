//! Writes to the generated data sets: Delete Videos removes videos from
//! Get Videos' set, Update Drops Entitlements changes entitlements of Get
//! Drops Entitlements' set. The reads of those sets filter by the
//! parameters a client uses to look its writes up (ids, and the
//! entitlement's owner, game and status), so a write shows in them.

use std::sync::Arc;

use serde_json::{Value, json};
use twitch::EndpointMeta;

use super::data;
use crate::state::Shared;
use crate::util;
use crate::wire::{Caller, Req, Resp};

/// The endpoint's metadata by id.
fn meta_of(id: &str) -> &'static EndpointMeta {
    twitch::meta::endpoints().into_iter().find(|m| m.id == id).expect("an endpoint of the schema")
}

/// Change an endpoint's data set in place, under one lock, so that
/// concurrent writes do not lose each other's changes.
fn modify<R>(shared: &Shared, meta: &'static EndpointMeta, f: impl FnOnce(&mut Vec<Value>) -> R) -> R {
    let set = data::dataset(shared, meta);
    let mut g = shared.lock();
    let mut items = g.datasets.get(meta.id).map_or_else(|| set.as_ref().clone(), |s| s.as_ref().clone());
    let out = f(&mut items);
    g.datasets.insert(meta.id, Arc::new(items));
    out
}

/// A field of an item as text.
fn text<'a>(item: &'a Value, field: &str) -> &'a str {
    item.get(field).and_then(Value::as_str).unwrap_or_default()
}

/// One page of filtered items, as the generic answer pages the whole set.
/// The cursor's list name carries the filter, so a cursor of another
/// query is refused.
fn paged(shared: &Shared, meta: &'static EndpointMeta, req: &Req, filter: &str, items: &[Value]) -> Resp {
    let list = format!("{}?{filter}", meta.id);
    match data::page(shared, meta, &list, req, items) {
        Ok((page, pagination)) => Resp::json(meta.success_status, &json!({"data": page, "pagination": pagination})),
        Err(r) => r,
    }
}

/// Get Videos: by `id`, the videos of the set with those ids (Twitch's 404
/// when none is), after what Delete Videos removed; by `user_id` or
/// `game_id`, the whole set, paged.
pub(crate) fn get_videos(shared: &Shared, meta: &'static EndpointMeta, req: &Req) -> Resp {
    let ids = req.query_all("id");
    if ids.is_empty() {
        return data::answer(shared, meta, req);
    }
    let set = data::dataset(shared, meta);
    let found: Vec<Value> = set.iter().filter(|v| ids.contains(&text(v, "id"))).cloned().collect();
    if found.is_empty() {
        return Resp::error(404, "The ID in the id query parameter was not found.");
    }
    Resp::json(meta.success_status, &json!({"data": found, "pagination": {}}))
}

/// Delete Videos: removes the named videos of the token's user from Get
/// Videos' set and answers their ids. Unknown ids are ignored; a video of
/// another user refuses the whole request (Twitch's 401), deleting none.
pub(crate) fn delete_videos(shared: &Shared, meta: &'static EndpointMeta, caller: &Caller, req: &Req) -> Resp {
    let ids = req.query_all("id");
    let me = caller.user.as_ref().map(|u| u.id.as_str()).unwrap_or_default();
    let deleted = modify(shared, meta_of("get-videos"), |set| {
        let named = || set.iter().filter(|v| ids.contains(&text(v, "id")));
        if named().any(|v| text(v, "user_id") != me) {
            return None;
        }
        let deleted: Vec<String> = named().map(|v| text(v, "id").to_owned()).collect();
        set.retain(|v| !ids.contains(&text(v, "id")));
        Some(deleted)
    });
    match deleted {
        Some(deleted) => Resp::json(meta.success_status, &json!({ "data": deleted })),
        None => Resp::error(401, "The caller is not authorized to delete the specified video."),
    }
}

/// The fulfillment statuses an entitlement can have.
const FULFILLMENT: &[&str] = &["CLAIMED", "FULFILLED"];

/// Get Drops Entitlements: the set filtered by `id`, `user_id`, `game_id`
/// and `fulfillment_status`. A user token sees only its user's
/// entitlements and may not name another user (Twitch's 400).
pub(crate) fn get_entitlements(shared: &Shared, meta: &'static EndpointMeta, caller: &Caller, req: &Req) -> Resp {
    let ids = req.query_all("id");
    let mut user = req.query_one("user_id").filter(|u| !u.is_empty());
    if let Some(me) = &caller.user {
        if user.is_some_and(|u| u != me.id) {
            return Resp::error(
                400,
                "The ID in the user_id query parameter must match the user ID in the user access token.",
            );
        }
        user = Some(me.id.as_str());
    }
    let game = req.query_one("game_id").filter(|g| !g.is_empty());
    let status = req.query_one("fulfillment_status").filter(|s| !s.is_empty());
    if status.is_some_and(|s| !FULFILLMENT.contains(&s)) {
        return Resp::error(400, "The value in the fulfillment_status query parameter is not valid.");
    }
    let set = data::dataset(shared, meta);
    let items: Vec<Value> = set
        .iter()
        .filter(|e| ids.is_empty() || ids.contains(&text(e, "id")))
        .filter(|e| user.is_none_or(|u| text(e, "user_id") == u))
        .filter(|e| game.is_none_or(|g| text(e, "game_id") == g))
        .filter(|e| status.is_none_or(|s| text(e, "fulfillment_status") == s))
        .cloned()
        .collect();
    let filter = format!("{ids:?}{user:?}{game:?}{status:?}");
    paged(shared, meta, req, &filter, &items)
}

/// Is this an entitlement id at all (Twitch's are UUIDs; the set's vary
/// them with a suffix)? Anything else is `INVALID_ID`.
fn valid_entitlement_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Update Drops Entitlements: sets the status (and `last_updated`) of the
/// named entitlements of Get Drops Entitlements' set and answers the ids
/// grouped by outcome, in Twitch's order: `SUCCESS`, `INVALID_ID`,
/// `NOT_FOUND`, `UNAUTHORIZED` (a user token updating another user's
/// entitlement). Groups without ids are left out.
pub(crate) fn update_entitlements(shared: &Shared, meta: &'static EndpointMeta, caller: &Caller, body: &Value) -> Resp {
    let status = body.get("fulfillment_status").and_then(Value::as_str);
    let Some(status) = status.filter(|s| FULFILLMENT.contains(s)) else {
        return Resp::error(400, "The value in the fulfillment_status field is not valid.");
    };
    let ids: Vec<&str> = match body.get("entitlement_ids") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) if a.len() <= 100 => a.iter().map(|v| v.as_str().unwrap_or_default()).collect(),
        Some(Value::Array(_)) => return Resp::error(400, "The entitlement_ids field may contain at most 100 IDs."),
        Some(_) => return Resp::error(400, "The entitlement_ids field must be a list of IDs."),
    };
    let now = util::now_rfc3339();
    let groups = modify(shared, meta_of("get-drops-entitlements"), |set| {
        let mut groups: [(&str, Vec<&str>); 4] =
            [("SUCCESS", vec![]), ("INVALID_ID", vec![]), ("NOT_FOUND", vec![]), ("UNAUTHORIZED", vec![])];
        for id in ids {
            let group = if !valid_entitlement_id(id) {
                1
            } else {
                match set.iter_mut().find(|e| text(e, "id") == id) {
                    None => 2,
                    Some(e) if caller.user.as_ref().is_some_and(|u| u.id != text(e, "user_id")) => 3,
                    Some(e) => {
                        e["fulfillment_status"] = json!(status);
                        e["last_updated"] = json!(now);
                        0
                    }
                }
            };
            if !groups[group].1.contains(&id) {
                groups[group].1.push(id);
            }
        }
        groups
    });
    let data: Vec<Value> = groups
        .iter()
        .filter(|(_, ids)| !ids.is_empty())
        .map(|(status, ids)| json!({"status": status, "ids": ids}))
        .collect();
    Resp::json(meta.success_status, &json!({ "data": data }))
}
