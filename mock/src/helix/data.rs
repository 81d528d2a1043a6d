//! Answers built from Twitch's example responses, generated data sets and
//! cursor pagination.
//!
//! A paginated endpoint's data set is `page_items` items made from the
//! example's items, with ids varied so that no two are equal. Cursors are
//! opaque: the offset and an HMAC of it and the data set's name, so a cursor
//! from another list (or a made-up one) is refused with Twitch's 400.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value, json};
use twitch::EndpointMeta;

pub(crate) use crate::paging::{cursor, decode_cursor, page};
use crate::state::Shared;
use crate::wire::{Req, Resp};

/// The example response of an endpoint, parsed once.
pub(crate) fn example(meta: &EndpointMeta) -> Option<&'static Value> {
    static EXAMPLES: OnceLock<HashMap<&'static str, Value>> = OnceLock::new();
    EXAMPLES
        .get_or_init(|| {
            twitch::meta::endpoints()
                .into_iter()
                .filter_map(|m| Some((m.id, serde_json::from_str(m.example_response?).ok()?)))
                .collect()
        })
        .get(meta.id)
}

/// The example's `data` items (empty when it has none).
pub(crate) fn example_items(meta: &EndpointMeta) -> Vec<Value> {
    example(meta).and_then(|v| v.get("data")).and_then(Value::as_array).cloned().unwrap_or_default()
}

/// The generated data set of a paginated endpoint (cached).
pub(crate) fn dataset(shared: &Shared, meta: &'static EndpointMeta) -> Arc<Vec<Value>> {
    if let Some(d) = shared.lock().datasets.get(meta.id) {
        return Arc::clone(d);
    }
    let base = example_items(meta);
    let items: Vec<Value> = if base.is_empty() {
        Vec::new()
    } else {
        (0..shared.config.page_items).map(|i| vary(&base[i % base.len()], i)).collect()
    };
    let items = Arc::new(items);
    shared.lock().datasets.insert(meta.id, Arc::clone(&items));
    items
}

/// Item `i` of a data set: the example item with its identity changed.
/// Items with an `id` get a new `id`; others (followers, chatters) get a new
/// `*user_id` and matching login and name.
fn vary(item: &Value, i: usize) -> Value {
    let mut item = item.clone();
    if i == 0 {
        return item;
    }
    let Some(obj) = item.as_object_mut() else { return item };
    if let Some(id) = obj.get("id").and_then(Value::as_str) {
        let id = derive_id(id, i);
        obj.insert("id".into(), json!(id));
        return item;
    }
    let keys: Vec<String> = obj.keys().filter(|k| k.ends_with("user_id") || k.as_str() == "user_id").cloned().collect();
    for key in keys {
        let prefix = key.trim_end_matches("id");
        if let Some(v) = obj.get(&key).and_then(Value::as_str) {
            let id = derive_id(v, i);
            obj.insert(key.clone(), json!(id));
        }
        for suffix in ["login", "name"] {
            let k = format!("{prefix}{suffix}");
            if let Some(v) = obj.get(&k).and_then(Value::as_str) {
                let v = format!("{v}{i}");
                obj.insert(k, json!(v));
            }
        }
    }
    item
}

/// A distinct id: numeric ids count up, others get a suffix.
fn derive_id(id: &str, i: usize) -> String {
    match id.parse::<u64>() {
        Ok(n) => (n + i as u64).to_string(),
        Err(_) => format!("{id}-{i}"),
    }
}

/// The generic answer of an endpoint: from its example, paginated over its
/// data set when the endpoint paginates.
pub(crate) fn answer(shared: &Shared, meta: &'static EndpointMeta, req: &Req) -> Resp {
    use twitch::ResponseShape as S;
    match meta.response {
        S::None => Resp::empty(meta.success_status),
        S::Text => {
            // The schema keeps no example for the iCalendar feed: a minimal, valid calendar.
            let text = meta.example_response.unwrap_or(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//twitch-mock//schedule//EN\r\nEND:VCALENDAR\r\n",
            );
            Resp::text(meta.success_status, "text/calendar; charset=utf-8", text)
        }
        _ if meta.paginated && meta.response == S::Data => {
            let items = dataset(shared, meta);
            match page(shared, meta, meta.id, req, &items) {
                Ok((data, pagination)) => {
                    let mut body = example(meta).and_then(Value::as_object).cloned().unwrap_or_else(Map::new);
                    if body.contains_key("total") {
                        body.insert("total".into(), json!(items.len()));
                    }
                    body.insert("data".into(), Value::Array(data));
                    body.insert("pagination".into(), pagination);
                    Resp::json(meta.success_status, &Value::Object(body))
                }
                Err(r) => r,
            }
        }
        _ => {
            let body = example(meta).cloned().unwrap_or_else(|| match meta.response {
                S::Data => json!({"data": []}),
                _ => json!({}),
            });
            Resp::json(meta.success_status, &body)
        }
    }
}
