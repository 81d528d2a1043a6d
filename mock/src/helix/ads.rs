//! A channel's ad schedule: Start Commercial runs an ad (and starts the
//! 8-minute cooldown), Snooze Next Ad spends a snooze to push the next ad
//! back 5 minutes, Get Ad Schedule shows both. Times are Unix seconds, 0
//! for none, as live Twitch sends them.
//!
//! A channel no ad write touched answers Get Ad Schedule from Twitch's
//! example. Its first write starts from a live channel's schedule: the
//! next ad an hour away, [`SNOOZES`] snoozes, no ad run yet.

use serde_json::{Value, json};
use twitch::EndpointMeta;

use super::data;
use crate::state::{Inner, Shared};
use crate::wire::{Req, Resp};

/// The store's resource holding a channel's schedule.
const RESOURCE: &str = "ad-schedule";
/// Snoozes a channel has when it has all of them.
pub(crate) const SNOOZES: i64 = 3;
/// A snooze spent comes back this long after.
const SNOOZE_REFRESH: i64 = 3600;
/// How far a snooze pushes the next ad.
const SNOOZE: i64 = 300;
/// Time between two ads.
const COOLDOWN: i64 = 480;
/// The longest ad Twitch runs.
const MAX_LENGTH: i64 = 180;

fn now() -> i64 {
    twitch::Timestamp::now().unix_timestamp()
}

fn int(item: &Value, field: &str) -> i64 {
    item.get(field).and_then(Value::as_i64).unwrap_or(0)
}

/// The channel's schedule as of `now`, with the snoozes that came back
/// since it was written; `None` when no ad write touched the channel.
fn schedule(g: &Inner, broadcaster: &str, now: i64) -> Option<Value> {
    let mut s = g.store.get(&(RESOURCE, broadcaster.to_owned()))?.first()?.clone();
    while int(&s, "snooze_count") < SNOOZES && int(&s, "snooze_refresh_at") != 0 && now >= int(&s, "snooze_refresh_at")
    {
        let count = int(&s, "snooze_count") + 1;
        let next = if count < SNOOZES { int(&s, "snooze_refresh_at") + SNOOZE_REFRESH } else { 0 };
        s["snooze_count"] = json!(count);
        s["snooze_refresh_at"] = json!(next);
    }
    Some(s)
}

/// The schedule a channel's first ad write starts from.
fn fresh(now: i64) -> Value {
    json!({
        "next_ad_at": now + 3600,
        "last_ad_at": 0,
        "duration": 60,
        "preroll_free_time": 0,
        "snooze_count": SNOOZES,
        "snooze_refresh_at": 0,
    })
}

/// Get Ad Schedule: what the channel's ad writes left (Twitch's example
/// for a channel none touched).
pub(crate) fn get(shared: &Shared, meta: &'static EndpointMeta, req: &Req) -> Resp {
    let broadcaster = req.query_one("broadcaster_id").unwrap_or_default();
    let found = schedule(&shared.lock(), broadcaster, now());
    match found {
        Some(s) => Resp::json(meta.success_status, &json!({ "data": [s] })),
        None => data::answer(shared, meta, req),
    }
}

/// Snooze Next Ad: one snooze fewer (Twitch's 429 when none is left), the
/// next ad 5 minutes later, and the spent snooze back in an hour.
pub(crate) fn snooze(shared: &Shared, meta: &'static EndpointMeta, req: &Req) -> Resp {
    let broadcaster = req.query_one("broadcaster_id").unwrap_or_default().to_owned();
    let now = now();
    let mut g = shared.lock();
    let mut s = schedule(&g, &broadcaster, now).unwrap_or_else(|| fresh(now));
    if int(&s, "snooze_count") <= 0 {
        return Resp::error(429, "Channel has no snoozes left.");
    }
    if int(&s, "next_ad_at") == 0 {
        return Resp::error(400, "Channel does not have an upcoming scheduled ad break.");
    }
    s["snooze_count"] = json!(int(&s, "snooze_count") - 1);
    s["next_ad_at"] = json!(int(&s, "next_ad_at") + SNOOZE);
    if int(&s, "snooze_refresh_at") == 0 {
        s["snooze_refresh_at"] = json!(now + SNOOZE_REFRESH);
    }
    let answer = json!({"data": [{
        "snooze_count": s["snooze_count"],
        "snooze_refresh_at": s["snooze_refresh_at"],
        "next_ad_at": s["next_ad_at"],
    }]});
    g.store.insert((RESOURCE, broadcaster), vec![s]);
    Resp::json(meta.success_status, &answer)
}

/// Start Commercial: runs an ad of the length asked for (at most 180 s)
/// now, which Get Ad Schedule shows as `last_ad_at`; another one within
/// 8 minutes is refused with Twitch's 429.
pub(crate) fn commercial(shared: &Shared, meta: &'static EndpointMeta, body: &Value) -> Resp {
    let broadcaster = body.get("broadcaster_id").and_then(Value::as_str).unwrap_or_default().to_owned();
    let length = match body.get("length") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    let Some(length) = length.filter(|l| *l > 0) else {
        return Resp::error(400, "The length field is not valid.");
    };
    let length = length.min(MAX_LENGTH);
    let now = now();
    let mut g = shared.lock();
    let mut s = schedule(&g, &broadcaster, now).unwrap_or_else(|| fresh(now));
    let last = int(&s, "last_ad_at");
    if last != 0 && now < last + COOLDOWN {
        return Resp::error(
            429,
            format!("The broadcaster may not run another commercial for {} seconds.", last + COOLDOWN - now),
        );
    }
    s["last_ad_at"] = json!(now);
    // Running an ad restarts the timer of the automatic ones.
    s["next_ad_at"] = json!(now + 3600);
    g.store.insert((RESOURCE, broadcaster), vec![s]);
    Resp::json(meta.success_status, &json!({"data": [{"length": length, "message": "", "retry_after": COOLDOWN}]}))
}
