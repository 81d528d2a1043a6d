//! Helix resources that writes change and reads show, kept generically:
//! one table says, per endpoint, which resource it touches, which request
//! parameter names the channel (or user) owning it, and what it does
//! (create, update, delete, list; get or set for one-per-channel
//! settings). Items have the shape of the resource's read endpoint's
//! example item, overlaid with what the requests said.
//!
//! A channel's resource that no request ever wrote answers from Twitch's
//! examples as before (so a client exploring the mock sees data); from the
//! first write on, that channel's resource is what was written.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use twitch::EndpointMeta;

use crate::state::{Inner, Shared};
use crate::util;
use crate::wire::{Caller, Req, Resp};

/// What an endpoint does to its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// Add an item with a fresh id; answer it.
    Create,
    /// Change the items the `id` parameter names; answer them.
    Update,
    /// Remove the items the `id` parameter names (all, without one).
    Delete,
    /// The channel's items, filtered by the parameters items have.
    List,
    /// One-per-channel settings, for each channel asked for.
    Get,
    /// Change one-per-channel settings; answer them.
    Set,
    /// An action nothing reads back (Warn Chat User, Add Suspicious Status):
    /// answer the endpoint's example with what the request said; keep
    /// nothing.
    Echo,
}

/// A field set when an item is written.
#[derive(Debug, Clone, Copy)]
enum Fill {
    /// The time now.
    Now,
    /// `null`.
    Null,
    /// This text.
    Text(&'static str),
    /// The time now, when the item's `field` (as text) is one of `values`.
    NowIf(&'static str, &'static [&'static str]),
}

/// How a list of items is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wrap {
    /// `{"data": [items]}`.
    Data,
    /// `{"data": {...the schedule, "segments": [items]}}`.
    Schedule,
    /// `{"data": [{user, "videos": [{"video_id", "markers": [items]}]}]}`.
    Markers,
}

/// One row of the table.
struct Entry {
    endpoint: &'static str,
    op: Op,
    resource: &'static str,
    /// The parameter naming the owner; `@caller` for the token's user.
    scope: &'static str,
    /// The endpoint whose example item gives the resource's shape.
    shape: &'static str,
    /// The parameter naming items to update or delete, and the item's
    /// field it matches (`id` and `id`, but Unblock User names a user).
    /// A create with another key replaces the item with the same key.
    key: (&'static str, &'static str),
    /// A resource whose items own these (a reward's redemptions): once the
    /// channel has one, this resource counts as written too.
    parent: Option<&'static str>,
    /// Request fields kept at another (dotted) path of the item.
    aliases: &'static [(&'static str, &'static str)],
    /// Fields set when this endpoint writes an item.
    fills: &'static [(&'static str, Fill)],
    wrap: Wrap,
}

const REWARD_ALIASES: &[(&str, &str)] = &[
    ("is_max_per_stream_enabled", "max_per_stream_setting.is_enabled"),
    ("max_per_stream", "max_per_stream_setting.max_per_stream"),
    ("is_max_per_user_per_stream_enabled", "max_per_user_per_stream_setting.is_enabled"),
    ("max_per_user_per_stream", "max_per_user_per_stream_setting.max_per_user_per_stream"),
    ("is_global_cooldown_enabled", "global_cooldown_setting.is_enabled"),
    ("global_cooldown_seconds", "global_cooldown_setting.global_cooldown_seconds"),
];
const SEGMENT_ALIASES: &[(&str, &str)] = &[("category_id", "category.id")];
const REDEMPTION_ALIASES: &[(&str, &str)] = &[("reward_id", "reward.id")];
const BLOCK_ALIASES: &[(&str, &str)] = &[("target_user_id", "user_id")];

const fn entry(
    endpoint: &'static str,
    op: Op,
    resource: &'static str,
    scope: &'static str,
    shape: &'static str,
) -> Entry {
    Entry {
        endpoint,
        op,
        resource,
        scope,
        shape,
        key: ("id", "id"),
        parent: None,
        aliases: &[],
        fills: &[],
        wrap: Wrap::Data,
    }
}

impl Entry {
    const fn key(mut self, param: &'static str, field: &'static str) -> Self {
        self.key = (param, field);
        self
    }

    const fn parent(mut self, resource: &'static str) -> Self {
        self.parent = Some(resource);
        self
    }

    const fn aliases(mut self, aliases: &'static [(&'static str, &'static str)]) -> Self {
        self.aliases = aliases;
        self
    }

    const fn fills(mut self, fills: &'static [(&'static str, Fill)]) -> Self {
        self.fills = fills;
        self
    }

    const fn wrap(mut self, wrap: Wrap) -> Self {
        self.wrap = wrap;
        self
    }
}

/// Every endpoint that keeps state here (moderators, VIPs, bans, chat,
/// EventSub and users have handlers of their own).
const TABLE: &[Entry] = &[
    // Channel points.
    entry("create-custom-rewards", Op::Create, "reward", "broadcaster_id", "get-custom-reward")
        .aliases(REWARD_ALIASES)
        .fills(&[("cooldown_expires_at", Fill::Null), ("redemptions_redeemed_current_stream", Fill::Null)]),
    entry("update-custom-reward", Op::Update, "reward", "broadcaster_id", "get-custom-reward").aliases(REWARD_ALIASES),
    entry("delete-custom-reward", Op::Delete, "reward", "broadcaster_id", "get-custom-reward"),
    entry("get-custom-reward", Op::List, "reward", "broadcaster_id", "get-custom-reward"),
    entry("get-custom-reward-redemption", Op::List, "redemption", "broadcaster_id", "get-custom-reward-redemption")
        .parent("reward")
        .aliases(REDEMPTION_ALIASES),
    entry("update-redemption-status", Op::Update, "redemption", "broadcaster_id", "get-custom-reward-redemption")
        .parent("reward")
        .aliases(REDEMPTION_ALIASES),
    // Polls and predictions.
    entry("create-poll", Op::Create, "poll", "broadcaster_id", "get-polls").fills(&[
        ("status", Fill::Text("ACTIVE")),
        ("started_at", Fill::Now),
        ("ended_at", Fill::Null),
    ]),
    entry("end-poll", Op::Update, "poll", "broadcaster_id", "get-polls")
        .fills(&[("ended_at", Fill::NowIf("status", &["TERMINATED", "ARCHIVED"]))]),
    entry("get-polls", Op::List, "poll", "broadcaster_id", "get-polls"),
    entry("create-prediction", Op::Create, "prediction", "broadcaster_id", "get-predictions").fills(&[
        ("status", Fill::Text("ACTIVE")),
        ("created_at", Fill::Now),
        ("ended_at", Fill::Null),
        ("locked_at", Fill::Null),
        ("winning_outcome_id", Fill::Null),
    ]),
    entry("end-prediction", Op::Update, "prediction", "broadcaster_id", "get-predictions").fills(&[
        ("ended_at", Fill::NowIf("status", &["RESOLVED", "CANCELED"])),
        ("locked_at", Fill::NowIf("status", &["LOCKED"])),
    ]),
    entry("get-predictions", Op::List, "prediction", "broadcaster_id", "get-predictions"),
    // Stream markers (Get Stream Markers answers them by video).
    entry("create-stream-marker", Op::Create, "marker", "user_id", "get-stream-markers")
        .fills(&[("created_at", Fill::Now), ("position_seconds", Fill::Text("0"))])
        .wrap(Wrap::Markers),
    entry("get-stream-markers", Op::List, "marker", "user_id", "get-stream-markers").wrap(Wrap::Markers),
    // The stream schedule's segments.
    entry(
        "create-channel-stream-schedule-segment",
        Op::Create,
        "segment",
        "broadcaster_id",
        "get-channel-stream-schedule",
    )
    .aliases(SEGMENT_ALIASES)
    .wrap(Wrap::Schedule),
    entry(
        "update-channel-stream-schedule-segment",
        Op::Update,
        "segment",
        "broadcaster_id",
        "get-channel-stream-schedule",
    )
    .aliases(SEGMENT_ALIASES)
    .wrap(Wrap::Schedule),
    entry(
        "delete-channel-stream-schedule-segment",
        Op::Delete,
        "segment",
        "broadcaster_id",
        "get-channel-stream-schedule",
    )
    .wrap(Wrap::Schedule),
    entry("get-channel-stream-schedule", Op::List, "segment", "broadcaster_id", "get-channel-stream-schedule")
        .wrap(Wrap::Schedule),
    // Clips.
    entry("create-clip", Op::Create, "clip", "broadcaster_id", "get-clips")
        .fills(&[("created_at", Fill::Now), ("view_count", Fill::Text("0"))]),
    entry("create-clip-from-vod", Op::Create, "clip", "broadcaster_id", "get-clips")
        .fills(&[("created_at", Fill::Now), ("view_count", Fill::Text("0"))]),
    entry("get-clips", Op::List, "clip", "broadcaster_id", "get-clips"),
    // Blocked terms.
    entry("add-blocked-term", Op::Create, "blocked-term", "broadcaster_id", "get-blocked-terms").fills(&[
        ("created_at", Fill::Now),
        ("updated_at", Fill::Now),
        ("expires_at", Fill::Null),
    ]),
    entry("remove-blocked-term", Op::Delete, "blocked-term", "broadcaster_id", "get-blocked-terms"),
    entry("get-blocked-terms", Op::List, "blocked-term", "broadcaster_id", "get-blocked-terms"),
    // One-per-channel settings.
    entry("get-chat-settings", Op::Get, "chat-settings", "broadcaster_id", "get-chat-settings"),
    entry("update-chat-settings", Op::Set, "chat-settings", "broadcaster_id", "get-chat-settings"),
    entry("get-channel-information", Op::Get, "channel", "broadcaster_id", "get-channel-information"),
    entry("modify-channel-information", Op::Set, "channel", "broadcaster_id", "get-channel-information"),
    entry("get-shield-mode-status", Op::Get, "shield-mode", "broadcaster_id", "get-shield-mode-status"),
    entry("update-shield-mode-status", Op::Set, "shield-mode", "broadcaster_id", "get-shield-mode-status")
        .fills(&[("last_activated_at", Fill::NowIf("is_active", &["true"]))]),
    entry("update-user", Op::Set, "user", "@caller", "get-users"),
    entry("get-user-chat-color", Op::Get, "chat-color", "user_id", "get-user-chat-color"),
    entry("update-user-chat-color", Op::Set, "chat-color", "user_id", "get-user-chat-color"),
    entry("get-automod-settings", Op::Get, "automod", "broadcaster_id", "get-automod-settings"),
    entry("update-automod-settings", Op::Set, "automod", "broadcaster_id", "get-automod-settings"),
    entry(
        "get-channel-guest-star-settings",
        Op::Get,
        "guest-star",
        "broadcaster_id",
        "get-channel-guest-star-settings",
    ),
    entry(
        "update-channel-guest-star-settings",
        Op::Set,
        "guest-star",
        "broadcaster_id",
        "get-channel-guest-star-settings",
    )
    .aliases(&[("group_layout", "layout")]),
    // The token's user's block list.
    entry("block-user", Op::Create, "block", "@caller", "get-user-block-list")
        .key("target_user_id", "user_id")
        .aliases(BLOCK_ALIASES),
    entry("unblock-user", Op::Delete, "block", "@caller", "get-user-block-list")
        .key("target_user_id", "user_id")
        .aliases(BLOCK_ALIASES),
    entry("get-user-block-list", Op::List, "block", "broadcaster_id", "get-user-block-list"),
    // Actions: their answer says what the request did; nothing reads them back.
    entry("warn-chat-user", Op::Echo, "warning", "broadcaster_id", "warn-chat-user"),
    entry(
        "add-suspicious-status-to-chat-user",
        Op::Echo,
        "suspicious",
        "broadcaster_id",
        "add-suspicious-status-to-chat-user",
    )
    .fills(&[("updated_at", Fill::Now)]),
    entry(
        "remove-suspicious-status-from-chat-user",
        Op::Echo,
        "suspicious",
        "broadcaster_id",
        "remove-suspicious-status-from-chat-user",
    )
    .fills(&[("updated_at", Fill::Now)]),
    // Unban requests: banned viewers send them (`unban_request` below).
    entry("get-unban-requests", Op::List, "unban-request", "broadcaster_id", "get-unban-requests"),
    entry("resolve-unban-requests", Op::Update, "unban-request", "broadcaster_id", "get-unban-requests")
        .key("unban_request_id", "id")
        .fills(&[("resolved_at", Fill::Now)]),
    // A pending raid (no endpoint reads it; Cancel a Raid needs one).
    entry("start-a-raid", Op::Create, "raid", "from_broadcaster_id", "start-a-raid")
        .fills(&[("created_at", Fill::Now)]),
    entry("cancel-a-raid", Op::Delete, "raid", "broadcaster_id", "start-a-raid"),
];

/// Parameters that page, bound a list in time or name the caller (the
/// moderator acting) rather than match a field.
const NOT_FILTERS: &[&str] =
    &["first", "after", "before", "sort", "start_time", "started_at", "ended_at", "moderator_id"];

/// An endpoint's example answer, parsed once.
fn example(id: &str) -> Option<&'static Value> {
    static EXAMPLES: std::sync::OnceLock<HashMap<&'static str, Value>> = std::sync::OnceLock::new();
    EXAMPLES
        .get_or_init(|| {
            twitch::meta::endpoints()
                .into_iter()
                .filter_map(|m| Some((m.id, serde_json::from_str(m.example_response?).ok()?)))
                .collect()
        })
        .get(id)
}

/// The first item of an endpoint's example (`data[0]`, or `data` when it
/// is an object).
fn example_item(id: &str) -> Value {
    let data = example(id).and_then(|e| e.get("data"));
    match data {
        Some(Value::Array(a)) => a.first().cloned().unwrap_or_else(|| json!({})),
        Some(v @ Value::Object(_)) => v.clone(),
        _ => json!({}),
    }
}

/// The template of a resource's items: the shape endpoint's example item
/// (a schedule's first segment, a marker of the first video).
fn template(e: &Entry) -> Value {
    let item = example_item(e.shape);
    match e.wrap {
        Wrap::Data => item,
        Wrap::Schedule => item["segments"][0].clone(),
        Wrap::Markers => item["videos"][0]["markers"][0].clone(),
    }
}

/// The request's parameters: the query's, then the body's top-level
/// fields (the body was merged with the query already).
fn params(req: &Req, body: &Value) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (k, _) in &req.query {
        if seen.contains(&k.as_str()) {
            continue;
        }
        seen.push(k);
        let values: Vec<&str> = req.query_all(k).into_iter().filter(|v| !v.is_empty()).collect();
        match values.as_slice() {
            [] => {}
            [one] => out.push((k.clone(), json!(one))),
            many => out.push((k.clone(), json!(many))),
        }
    }
    // Ban User and Warn Chat User wrap their fields in a `data` object.
    let inner = body.get("data").and_then(Value::as_object).into_iter().flatten();
    for (k, v) in body.as_object().into_iter().flatten().chain(inner) {
        if !v.is_null() && !out.iter().any(|(n, _)| n == k) {
            out.push((k.clone(), v.clone()));
        }
    }
    out
}

/// The values given for a parameter, as text.
fn values_of(params: &[(String, Value)], name: &str) -> Vec<String> {
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match params.iter().find(|(k, _)| k == name).map(|(_, v)| v) {
        Some(Value::Array(a)) => a.iter().filter_map(text).collect(),
        Some(v) => text(v).into_iter().collect(),
        None => Vec::new(),
    }
}

/// A value at a dotted path.
fn at<'a>(item: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(item, |v, k| v.get(k))
}

fn at_mut<'a>(item: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    path.split('.').try_fold(item, |v, k| v.get_mut(k))
}

/// A value as text, for comparing with a query value.
fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A request value for a field that holds `like`: query text becomes a
/// number or a boolean where the field is one; a list of objects (poll
/// choices, prediction outcomes) becomes the template's object overlaid
/// with each one, with a fresh id.
fn shaped(value: &Value, like: &Value) -> Value {
    match (value, like) {
        (Value::String(s), Value::Bool(_)) => match s.as_str() {
            "true" => json!(true),
            "false" => json!(false),
            _ => value.clone(),
        },
        (Value::String(s), Value::Number(_)) => {
            s.parse::<i64>().map(|n| json!(n)).or_else(|_| s.parse::<f64>().map(|n| json!(n))).unwrap_or(value.clone())
        }
        (Value::Array(given), Value::Array(have)) if given.iter().all(Value::is_object) && !given.is_empty() => {
            let base = have.first().cloned().unwrap_or_else(|| json!({}));
            let items = given.iter().enumerate().map(|(i, g)| {
                let mut item = have.get(i).cloned().unwrap_or_else(|| base.clone());
                if item.get("id").is_some() {
                    item["id"] = json!(util::uuid());
                }
                if let (Some(o), Some(g)) = (item.as_object_mut(), g.as_object()) {
                    for (k, v) in g {
                        let v = match o.get(k) {
                            Some(like) => shaped(v, like),
                            None => v.clone(),
                        };
                        o.insert(k.clone(), v);
                    }
                }
                item
            });
            Value::Array(items.collect())
        }
        _ => value.clone(),
    }
}

/// Overlay the request's parameters on an item: each one the item has a
/// field for (by name or alias), except the id. `*_id` parameters also
/// fill the matching `*_login` and `*_name` (or `*_user_*`) from the user
/// directory.
fn overlay(g: &Inner, e: &Entry, item: &mut Value, params: &[(String, Value)]) {
    for (name, value) in params {
        if name == "id" || name == e.key.0 && e.key.1 == "id" {
            continue;
        }
        let path = e.aliases.iter().find(|(n, _)| n == name).map_or(name.as_str(), |(_, p)| p);
        if let Some(slot) = at_mut(item, path) {
            *slot = shaped(value, slot);
        } else {
            continue;
        }
        if let (Some(prefix), Some(id)) = (path.strip_suffix("_id"), value.as_str())
            && !prefix.contains('.')
            && item.get(format!("{prefix}_login")).is_some()
        {
            let user = g.user_or_synth(id);
            item[format!("{prefix}_login")] = json!(user.login);
            // Users are `*_name`, or `display_name` where the user is the item.
            let name = if item.get(format!("{prefix}_name")).is_some() {
                format!("{prefix}_name")
            } else {
                "display_name".into()
            };
            if item.get(&name).is_some() {
                item[name] = json!(user.display_name);
            }
        }
    }
}

fn apply_fills(e: &Entry, item: &mut Value) {
    let now = util::now_rfc3339();
    for (field, fill) in e.fills {
        if item.get(*field).is_none() && !matches!(fill, Fill::Null) {
            continue;
        }
        let v = match fill {
            Fill::Now => json!(now),
            Fill::Null => Value::Null,
            Fill::Text(t) => shaped(&json!(t), item.get(*field).unwrap_or(&Value::Null)),
            Fill::NowIf(when, values) => match item.get(*when) {
                Some(v) if values.contains(&as_text(v).as_str()) => json!(now),
                _ => continue,
            },
        };
        if let Some(o) = item.as_object_mut() {
            o.insert((*field).to_owned(), v);
        }
    }
}

/// Replace the template's id wherever a text field holds it (a clip's
/// URLs name its id).
fn rename_id(item: &mut Value, old: &str, new: &str) {
    if old.is_empty() {
        return;
    }
    match item {
        Value::String(s) if s.contains(old) => *s = s.replace(old, new),
        Value::Array(a) => a.iter_mut().for_each(|v| rename_id(v, old, new)),
        Value::Object(o) => o.values_mut().for_each(|v| rename_id(v, old, new)),
        _ => {}
    }
}

/// The owner a request names.
fn scope_of(e: &Entry, caller: &Caller, params: &[(String, Value)]) -> Vec<String> {
    if e.scope == "@caller" {
        return caller.user.iter().map(|u| u.id.clone()).collect();
    }
    values_of(params, e.scope)
}

/// Answer a request from the store: `None` when the endpoint keeps no
/// state here, or reads a channel nothing was written to (the caller then
/// answers from the example).
pub(crate) fn handle(
    shared: &Shared,
    meta: &'static EndpointMeta,
    caller: &Caller,
    req: &Req,
    body: &Value,
) -> Option<Resp> {
    let e = TABLE.iter().find(|e| e.endpoint == meta.id)?;
    let params = params(req, body);
    let scopes = scope_of(e, caller, &params);
    let mut g = shared.lock();
    match e.op {
        Op::Create => {
            let scope = scopes.first()?.clone();
            let mut item = template(e);
            let old_id = item.get("id").map(as_text).unwrap_or_default();
            if item.get("id").is_some() {
                let id = util::uuid();
                rename_id(&mut item, &old_id, &id);
                item["id"] = json!(id);
            }
            overlay(&g, e, &mut item, &params);
            apply_fills(e, &mut item);
            let items = g.store.entry((e.resource, scope.clone())).or_default();
            if e.key.1 != "id" {
                let key = at(&item, e.key.1).cloned();
                items.retain(|i| at(i, e.key.1).cloned() != key);
            }
            items.push(item.clone());
            Some(written(&g, e, meta, &scope, vec![item], &old_id))
        }
        Op::Update | Op::Delete => {
            let scope = scopes.first()?.clone();
            let ids = values_of(&params, e.key.0);
            if !touched(&g, e, &scope) {
                // Nothing written to this channel: the example answers.
                return None;
            }
            let none = Vec::new();
            let items = g.store.get(&(e.resource, scope.clone())).unwrap_or(&none);
            let hit: Vec<usize> = (0..items.len())
                .filter(|&i| ids.is_empty() || ids.contains(&at(&items[i], e.key.1).map(as_text).unwrap_or_default()))
                .collect();
            if hit.is_empty() {
                // Nothing to remove is done, unless the schema lists a 404
                // for it (Remove Blocked Term: "also returned if the ID is
                // not found"); an update of nothing is a 404.
                if e.op == Op::Delete && !meta.errors.iter().any(|x| x.status == 404) {
                    return Some(Resp::empty(meta.success_status));
                }
                return Some(Resp::error(404, not_found(e)));
            }
            if e.op == Op::Delete {
                let items = g.store.entry((e.resource, scope)).or_default();
                let mut i = 0;
                items.retain(|_| {
                    i += 1;
                    !hit.contains(&(i - 1))
                });
                return Some(Resp::empty(meta.success_status));
            }
            let mut changed = Vec::new();
            for i in hit {
                let mut item = g.store[&(e.resource, scope.clone())][i].clone();
                overlay(&g, e, &mut item, &params);
                apply_fills(e, &mut item);
                if let Some(slot) = g.store.get_mut(&(e.resource, scope.clone())).and_then(|v| v.get_mut(i)) {
                    *slot = item.clone();
                }
                changed.push(item);
            }
            Some(written(&g, e, meta, &scope, changed, ""))
        }
        Op::List => {
            let items: Vec<Value> = match scopes.first() {
                // A vacation was set on a schedule whose segments nobody wrote:
                // the example's segments around the broadcaster's vacation.
                Some(scope) if !touched(&g, e, scope) && e.wrap == Wrap::Schedule && has_vacation(&g, scope) => {
                    example_item(e.shape)["segments"].as_array().cloned().unwrap_or_default()
                }
                Some(scope) if !touched(&g, e, scope) => return None,
                Some(scope) => g.store.get(&(e.resource, scope.clone())).cloned().unwrap_or_default(),
                // No owner named (Get Clips by id): what was written anywhere.
                None => g.store.iter().filter(|((r, _), _)| *r == e.resource).flat_map(|(_, v)| v.clone()).collect(),
            };
            let template = template(e);
            let items: Vec<Value> = items
                .into_iter()
                .filter(|item| {
                    params.iter().all(|(name, _)| {
                        if name == e.scope || NOT_FILTERS.contains(&name.as_str()) {
                            return true;
                        }
                        let path = e.aliases.iter().find(|(n, _)| n == name).map_or(name.as_str(), |(_, p)| p);
                        // Parameters that are no field of the items do not filter.
                        if at(&template, path).is_none() {
                            return true;
                        }
                        let wanted = values_of(&params, name);
                        at(item, path).is_some_and(|v| wanted.contains(&as_text(v)))
                    })
                })
                .collect();
            if scopes.is_empty() && items.is_empty() {
                return None;
            }
            let scope = scopes.first().cloned().unwrap_or_default();
            let list = format!("store:{}:{scope}", e.resource);
            let (page, pagination) = if meta.paginated {
                match crate::paging::page(shared, meta, &list, req, &items) {
                    Ok(p) => p,
                    Err(r) => return Some(r),
                }
            } else {
                (items, json!({}))
            };
            let mut resp = wrapped(&g, e, &scope, page);
            if meta.paginated {
                resp["pagination"] = pagination;
            }
            Some(Resp::json(meta.success_status, &resp))
        }
        Op::Get => {
            if scopes.is_empty() || scopes.iter().all(|s| !g.store.contains_key(&(e.resource, s.clone()))) {
                return None;
            }
            let items: Vec<Value> = scopes.iter().map(|s| settings(&g, e, s)).collect();
            Some(Resp::json(meta.success_status, &json!({"data": items})))
        }
        Op::Echo => {
            let mut item = example_item(meta.id);
            overlay(&g, e, &mut item, &params);
            apply_fills(e, &mut item);
            Some(Resp::json(meta.success_status, &json!({"data": [item]})))
        }
        Op::Set => {
            let scope = scopes.first()?.clone();
            let mut item = settings(&g, e, &scope);
            overlay(&g, e, &mut item, &params);
            apply_fills(e, &mut item);
            g.store.insert((e.resource, scope), vec![item.clone()]);
            if meta.response == twitch::ResponseShape::None {
                return Some(Resp::empty(meta.success_status));
            }
            Some(Resp::json(meta.success_status, &json!({"data": [item]})))
        }
    }
}

/// Was anything written to this channel's resource (or its parent)?
fn touched(g: &Inner, e: &Entry, scope: &str) -> bool {
    let key = |r: &'static str| (r, scope.to_owned());
    g.store.contains_key(&key(e.resource)) || e.parent.is_some_and(|p| g.store.contains_key(&key(p)))
}

/// A channel's settings: what was written, or the example's with the
/// channel's identity.
fn settings(g: &Inner, e: &Entry, scope: &str) -> Value {
    if let Some(item) = g.store.get(&(e.resource, scope.to_owned())).and_then(|v| v.first()) {
        return item.clone();
    }
    let mut item = template(e);
    if e.scope == "@caller"
        && let Some(o) = item.as_object_mut()
    {
        // Get Users shows the email only to its owner with the scope.
        o.remove("email");
    }
    let key = if e.scope == "@caller" { "id" } else { e.scope };
    let mut identity = vec![(key.to_owned(), json!(scope))];
    if e.scope == "@caller"
        && let Some(u) = g.user_by_id(scope)
    {
        identity.push(("login".into(), json!(u.login)));
        identity.push(("display_name".into(), json!(u.display_name)));
    }
    for (k, v) in &identity {
        if let Some(slot) = item.get_mut(k) {
            *slot = v.clone();
        }
    }
    overlay(g, e, &mut item, &identity);
    item
}

/// The answer to a write: the items, in the endpoint's own shape (a
/// create answer that Twitch keeps shorter than the item, such as Create
/// Clip's `{id, edit_url}`, keeps only its fields).
fn written(g: &Inner, e: &Entry, meta: &EndpointMeta, scope: &str, items: Vec<Value>, old_id: &str) -> Resp {
    if meta.response == twitch::ResponseShape::None {
        return Resp::empty(meta.success_status);
    }
    let own = example_item(meta.id);
    let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    let own_keys = keys(&own);
    // Create Clip's `{id, edit_url}` and Create Stream Marker's marker are
    // shorter than (or beside) what the reads show.
    let short = match e.wrap {
        Wrap::Markers => true,
        Wrap::Schedule => false,
        Wrap::Data => {
            let have = keys(&template(e));
            !own_keys.iter().all(|k| have.contains(k))
        }
    };
    if short {
        let own_id = own.get("id").map(as_text).unwrap_or_default();
        let items: Vec<Value> = items
            .iter()
            .map(|item| {
                let fields = own_keys.iter().map(|k| {
                    let v = item.get(k).cloned().unwrap_or_else(|| {
                        // A field only the write's example has: its value,
                        // naming the new id where it named the example's.
                        let mut v = own[k].clone();
                        if let Some(id) = item.get("id").map(as_text) {
                            rename_id(&mut v, &own_id, &id);
                            rename_id(&mut v, old_id, &id);
                        }
                        v
                    });
                    (k.clone(), v)
                });
                Value::Object(fields.collect::<Map<String, Value>>())
            })
            .collect();
        return Resp::json(meta.success_status, &json!({"data": items}));
    }
    Resp::json(meta.success_status, &wrapped(g, e, scope, items))
}

/// `{"data": ...}` around items, as the resource's endpoints answer them.
fn wrapped(g: &Inner, e: &Entry, scope: &str, items: Vec<Value>) -> Value {
    match e.wrap {
        Wrap::Data => json!({"data": items}),
        Wrap::Schedule => {
            let mut schedule = example_item(e.shape);
            let user = g.user_or_synth(scope);
            schedule["broadcaster_id"] = json!(user.id);
            schedule["broadcaster_login"] = json!(user.login);
            schedule["broadcaster_name"] = json!(user.display_name);
            schedule["segments"] = Value::Array(items);
            schedule["vacation"] =
                g.store.get(&(VACATION, scope.to_owned())).and_then(|v| v.first()).cloned().unwrap_or(Value::Null);
            json!({"data": schedule})
        }
        Wrap::Markers => {
            let mut entry = example_item(e.shape);
            let user = g.user_or_synth(scope);
            entry["user_id"] = json!(user.id);
            entry["user_login"] = json!(user.login);
            entry["user_name"] = json!(user.display_name);
            let mut video = entry["videos"][0].clone();
            video["markers"] = Value::Array(items);
            entry["videos"] = json!([video]);
            json!({"data": [entry]})
        }
    }
}

/// The store's resource holding a broadcaster's vacation (`null` once
/// cancelled).
const VACATION: &str = "vacation";

fn has_vacation(g: &Inner, scope: &str) -> bool {
    g.store.contains_key(&(VACATION, scope.to_owned()))
}

/// Update Channel Stream Schedule: with `is_vacation_enabled=true` the
/// broadcaster's vacation from `vacation_start_time` to
/// `vacation_end_time` (both needed, with `timezone`, and the end after the
/// start), which Get Channel Stream Schedule then shows as its `vacation`;
/// with `false` the vacation is cancelled (`null`); without it nothing
/// changes.
pub(crate) fn set_vacation(shared: &Shared, req: &Req) -> Resp {
    let broadcaster = req.query_one("broadcaster_id").unwrap_or_default().to_owned();
    let enabled = match req.query_one("is_vacation_enabled") {
        None | Some("") => return Resp::empty(204),
        Some("true") => true,
        Some("false") => false,
        Some(_) => return Resp::error(400, "The value in the is_vacation_enabled query parameter is not valid."),
    };
    let vacation = if enabled {
        let time = |name: &str| match req.query_one(name).filter(|t| !t.is_empty()) {
            None => Err(Resp::error(400, format!("Missing required parameter \"{name}\""))),
            Some(t) => twitch::Timestamp::parse(t)
                .map_err(|_| Resp::error(400, format!("The format of the string in {name} is not valid."))),
        };
        let (start, end) = match (time("vacation_start_time"), time("vacation_end_time")) {
            (Ok(start), Ok(end)) => (start, end),
            (Err(r), _) | (_, Err(r)) => return r,
        };
        if req.query_one("timezone").is_none_or(str::is_empty) {
            return Resp::error(400, "Missing required parameter \"timezone\"");
        }
        if end <= start {
            return Resp::error(
                400,
                "The date in vacation_end_time must be later than the date in vacation_start_time.",
            );
        }
        json!({"start_time": start.to_string(), "end_time": end.to_string()})
    } else {
        Value::Null
    };
    shared.lock().store.insert((VACATION, broadcaster), vec![vacation]);
    Resp::empty(204)
}

fn not_found(e: &Entry) -> &'static str {
    match e.resource {
        "reward" => "The custom reward specified in the id query parameter was not found.",
        "redemption" => "The redemptions specified in the id query parameter were not found.",
        "poll" => "The poll specified in the id field was not found.",
        "prediction" => "The prediction specified in the id field was not found.",
        "segment" => "The segment specified in the id query parameter was not found.",
        "raid" => "The broadcaster doesn't have a pending raid to cancel.",
        "unban-request" => "The unban request ID was not found.",
        _ => "Not Found",
    }
}

/// The stored fields of a user (Update User's description), for Get Users.
pub(crate) fn user_fields(g: &Inner, user_id: &str) -> Option<Value> {
    g.store.get(&("user", user_id.to_owned())).and_then(|v| v.first()).cloned()
}

/// A viewer redeems a custom reward (no Helix endpoint does; the control
/// API and [`MockServer::redeem`](crate::MockServer::redeem) do): an
/// `UNFULFILLED` redemption of a reward the store holds, which Get Custom
/// Reward Redemption then lists and Update Redemption Status changes.
pub(crate) fn redeem(
    shared: &Shared,
    broadcaster_id: &str,
    reward_id: &str,
    user_id: &str,
    user_input: &str,
) -> Result<Value, String> {
    let mut g = shared.lock();
    let reward = g
        .store
        .get(&("reward", broadcaster_id.to_owned()))
        .and_then(|v| v.iter().find(|r| r.get("id").map(as_text).as_deref() == Some(reward_id)))
        .cloned()
        .ok_or_else(|| format!("no custom reward {reward_id} of broadcaster {broadcaster_id} was created"))?;
    let e = TABLE.iter().find(|e| e.endpoint == "get-custom-reward-redemption").expect("in the table");
    let mut item = template(e);
    item["id"] = json!(util::uuid());
    let params = [
        ("broadcaster_id".to_owned(), json!(broadcaster_id)),
        ("user_id".to_owned(), json!(user_id)),
        ("user_input".to_owned(), json!(user_input)),
        ("status".to_owned(), json!("UNFULFILLED")),
        ("redeemed_at".to_owned(), json!(util::now_rfc3339())),
    ];
    overlay(&g, e, &mut item, &params);
    for k in ["id", "title", "prompt", "cost"] {
        item["reward"][k] = reward[k].clone();
    }
    g.store.entry(("redemption", broadcaster_id.to_owned())).or_default().push(item.clone());
    Ok(item)
}

/// A banned viewer asks to be unbanned (viewers ask on Twitch's site; no
/// Helix endpoint does; the control API and
/// [`MockServer::unban_request`](crate::MockServer::unban_request) do): a
/// `pending` unban request, which Get Unban Requests then lists and Resolve
/// Unban Requests approves (lifting the ban) or denies. Only a user banned
/// in the channel can ask.
pub(crate) fn unban_request(shared: &Shared, broadcaster_id: &str, user_id: &str, text: &str) -> Result<Value, String> {
    let mut g = shared.lock();
    if g.active_ban(broadcaster_id, user_id).is_none() {
        return Err(format!("user {user_id} is not banned in channel {broadcaster_id}"));
    }
    let e = TABLE.iter().find(|e| e.endpoint == "get-unban-requests").expect("in the table");
    let mut item = template(e);
    item["id"] = json!(util::uuid());
    let params = [
        ("broadcaster_id".to_owned(), json!(broadcaster_id)),
        ("user_id".to_owned(), json!(user_id)),
        ("text".to_owned(), json!(text)),
        ("status".to_owned(), json!("pending")),
        ("created_at".to_owned(), json!(util::now_rfc3339())),
    ];
    overlay(&g, e, &mut item, &params);
    for field in ["moderator_id", "moderator_login", "moderator_name"] {
        item[field] = json!("");
    }
    item["resolved_at"] = Value::Null;
    item["resolution_text"] = Value::Null;
    g.store.entry(("unban-request", broadcaster_id.to_owned())).or_default().push(item.clone());
    Ok(item)
}

/// The status and user of a channel's unban request the store holds.
pub(crate) fn unban_request_of(g: &Inner, broadcaster_id: &str, id: &str) -> Option<(String, String)> {
    let r = g
        .store
        .get(&("unban-request", broadcaster_id.to_owned()))?
        .iter()
        .find(|r| r.get("id").map(as_text).as_deref() == Some(id))?;
    Some((as_text(&r["status"]), as_text(&r["user_id"])))
}

/// Check AutoMod Status: each message is permitted unless it contains one
/// of the channel's blocked terms (case-insensitively); the mock has no
/// AutoMod of its own. Answers the request's `msg_id`s in order.
pub(crate) fn check_automod(shared: &Shared, req: &Req, body: &Value) -> Resp {
    let broadcaster = req.query_one("broadcaster_id").unwrap_or_default();
    let messages = match body.get("data").and_then(Value::as_array) {
        Some(m) if (1..=100).contains(&m.len()) => m,
        _ => return Resp::error(400, "The data field must contain 1 to 100 messages."),
    };
    let g = shared.lock();
    let terms: Vec<String> = g
        .store
        .get(&("blocked-term", broadcaster.to_owned()))
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("text").and_then(Value::as_str))
        .map(str::to_lowercase)
        .collect();
    let mut out = Vec::new();
    for m in messages {
        let (Some(id), Some(text)) =
            (m.get("msg_id").and_then(Value::as_str), m.get("msg_text").and_then(Value::as_str))
        else {
            return Resp::error(400, "Each message needs a msg_id and a msg_text.");
        };
        let text = text.to_lowercase();
        out.push(json!({"msg_id": id, "is_permitted": !terms.iter().any(|t| text.contains(t.as_str()))}));
    }
    Resp::json(200, &json!({ "data": out }))
}
