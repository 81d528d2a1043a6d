//! `/units/...`: the Twitch CLI mock's unauthenticated peek at the data
//! Helix answers from, for finding ids to test with. Each answers
//! `{"cursor", "total", "data"}` as the CLI does, `first` (at most 100,
//! default 100) and `after` paging it.
//!
//! | unit | what |
//! |---|---|
//! | `clients` | the accepted clients (`ID`, `Secret`, `Name`, `IsExtension`, the CLI's field names; `Secret` empty: secrets are never shown) |
//! | `users` | the user directory, as Get Users shows users |
//! | `categories` | Get Top Games' data set |
//! | `streams` | Get Streams' data set |
//! | `subscriptions` | Get Broadcaster Subscriptions' data set |
//! | `videos` | Get Videos' data set |

use serde_json::{Value, json};

use super::data;
use crate::state::Shared;
use crate::wire::{Req, Resp};

/// Answer one units request (`path` is what follows `/units`).
pub(crate) fn handle(shared: &Shared, req: &Req, path: &str) -> Resp {
    if req.method != "GET" {
        return Resp::error(405, "Method Not Allowed");
    }
    let unit = path.trim_matches('/');
    let items: Vec<Value> = match unit {
        "clients" => clients(shared),
        "users" => users(shared),
        "categories" => endpoint_items(shared, "get-top-games"),
        "streams" => endpoint_items(shared, "get-streams"),
        "subscriptions" => endpoint_items(shared, "get-broadcaster-subscriptions"),
        "videos" => endpoint_items(shared, "get-videos"),
        _ => return Resp::error(404, "Not Found"),
    };
    let first = match req.query_one("first").map(str::parse::<usize>) {
        None => 100,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return Resp::error(400, "The value of \"first\" must be between 1 and 100"),
    };
    let list = format!("units:{unit}");
    let start = match req.query_one("after").filter(|a| !a.is_empty()) {
        None => 0,
        Some(after) => match data::decode_cursor(shared, &list, after) {
            Some(offset) => offset.min(items.len()),
            None => return Resp::error(400, "The cursor specified in the after query parameter is not valid."),
        },
    };
    let end = start.saturating_add(first).min(items.len());
    let cursor = if end < items.len() { data::cursor(shared, &list, end) } else { String::new() };
    Resp::json(200, &json!({"cursor": cursor, "total": items.len(), "data": items[start..end]}))
}

/// The accepted clients; with none configured (any is accepted), the
/// default client id. The secret stays out: whoever configured a client
/// knows it, and the mock shows secrets nowhere.
fn clients(shared: &Shared) -> Vec<Value> {
    let unit = |id: &str| json!({"ID": id, "Secret": "", "Name": "twitch-mock client", "IsExtension": false});
    if shared.config.clients.is_empty() {
        return vec![unit(crate::DEFAULT_CLIENT_ID)];
    }
    shared.config.clients.iter().map(|(id, _)| unit(id)).collect()
}

/// The user directory, each user as Get Users' example shows one.
fn users(shared: &Shared) -> Vec<Value> {
    let template =
        meta("get-users").and_then(|m| data::example_items(m).into_iter().next()).unwrap_or_else(|| json!({}));
    let g = shared.lock();
    g.users
        .iter()
        .map(|u| {
            let mut item = template.clone();
            if let Some(o) = item.as_object_mut() {
                o.remove("email");
            }
            item["id"] = json!(u.id);
            item["login"] = json!(u.login);
            item["display_name"] = json!(u.display_name);
            item
        })
        .collect()
}

fn meta(id: &str) -> Option<&'static twitch::EndpointMeta> {
    twitch::meta::endpoints().into_iter().find(|m| m.id == id)
}

/// The items a paginated endpoint walks.
fn endpoint_items(shared: &Shared, id: &str) -> Vec<Value> {
    meta(id).map(|m| data::dataset(shared, m).as_ref().clone()).unwrap_or_default()
}
