//! EventSub delivery, shared by the areas: notifications to WebSocket
//! sessions, conduit shards and webhooks, fresh events from Twitch's
//! examples, and what the control API asks for (events, reconnects,
//! revocations, closes).

use serde_json::{Map, Value, json};
use twitch::Timestamp;

use crate::messages::{message, message_with};
use crate::state::{DASHBOARD_MEMORY, EventRecord, Inner, Out, Shared, Subscription, Transport};
use crate::{util, webhook};

/// Send a notification for `sub`. WebSocket subscriptions go to their
/// session; conduit subscriptions to the conduit's enabled WebSocket shards
/// in turn. Webhooks are not called. Returns whether it went out.
pub(crate) fn deliver(g: &mut Inner, sub: &Subscription, event: Value) -> bool {
    send_for(g, sub, "notification", notification(sub, event))
}

/// Deliver `event` to every enabled subscription of this type and version
/// whose condition has these values (other condition fields, such as the
/// reading user, match anything). Returns how many notifications went out.
pub(crate) fn deliver_matching(
    g: &mut Inner,
    sub_type: &str,
    version: &str,
    condition: &[(&str, &str)],
    event: &Value,
) -> usize {
    let targets: Vec<Subscription> = g
        .subs
        .iter()
        .filter(|s| s.status == "enabled" && s.sub_type == sub_type && s.version == version)
        .filter(|s| condition.iter().all(|(k, v)| s.condition.get(*k).and_then(Value::as_str) == Some(*v)))
        .cloned()
        .collect();
    targets.iter().filter(|sub| deliver(g, sub, event.clone())).count()
}

/// The `notification` message of `sub` carrying `event`.
fn notification(sub: &Subscription, event: Value) -> String {
    let key = if event.is_array() { "events" } else { "event" };
    message("notification", Some(sub), json!({"subscription": sub.to_json(), key: event}))
}

/// A notification to send many times: its text cut where a fresh id or the
/// current time goes, so that each copy costs one string concatenation
/// (the same text `notification` makes, with other ids).
struct Copies {
    /// The text between slots: one more than `slots`.
    parts: Vec<String>,
    /// What each slot takes: `true` a new id, `false` the current time.
    slots: Vec<bool>,
}

impl Copies {
    fn new(sub: &Subscription, event: &Value) -> Self {
        let mark = util::token(24);
        let (id_mark, time_mark) = (format!("<id-{mark}>"), format!("<time-{mark}>"));
        let mut event = event.clone();
        mark_ids(&mut event, None, &id_mark);
        let key = if event.is_array() { "events" } else { "event" };
        let payload = json!({"subscription": sub.to_json(), key: event});
        let text = message_with("notification", Some(sub), payload, id_mark.clone(), time_mark.clone());
        let (mut parts, mut slots) = (Vec::new(), Vec::new());
        let mut rest = text.as_str();
        loop {
            let next = [(rest.find(&id_mark), true, id_mark.len()), (rest.find(&time_mark), false, time_mark.len())]
                .into_iter()
                .filter_map(|(at, id, len)| Some((at?, id, len)))
                .min_by_key(|(at, ..)| *at);
            let Some((at, id, len)) = next else { break };
            parts.push(rest[..at].to_owned());
            slots.push(id);
            rest = &rest[at + len..];
        }
        parts.push(rest.to_owned());
        Self { parts, slots }
    }

    fn render(&self, uuids: &mut Uuids) -> String {
        let now = util::now_rfc3339();
        let len = self.parts.iter().map(String::len).sum::<usize>() + 40 * self.slots.len();
        let mut text = String::with_capacity(len);
        for (i, part) in self.parts.iter().enumerate() {
            text.push_str(part);
            match self.slots.get(i) {
                Some(true) => uuids.push_to(&mut text),
                Some(false) => text.push_str(&now),
                None => {}
            }
        }
        text
    }
}

/// Random version-4 UUIDs like `util::uuid`'s, sixteen from each call to
/// the system RNG (a counted trigger needs several per event).
struct Uuids {
    bytes: [u8; 256],
    used: usize,
}

impl Uuids {
    fn new() -> Self {
        Self { bytes: [0; 256], used: 256 }
    }

    fn push_to(&mut self, out: &mut String) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        if self.used == self.bytes.len() {
            self.bytes = util::random_bytes();
            self.used = 0;
        }
        let mut b = [0u8; 16];
        b.copy_from_slice(&self.bytes[self.used..self.used + 16]);
        self.used += 16;
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        for (i, byte) in b.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                out.push('-');
            }
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 15)] as char);
        }
    }
}

/// Send a text frame where `sub`'s notifications go.
fn send_for(g: &mut Inner, sub: &Subscription, kind: &'static str, text: String) -> bool {
    send_all(g, sub, kind, [text]) == 1
}

/// Send messages where `sub`'s notifications go: a WebSocket
/// subscription's session, the conduit's enabled WebSocket shards in turn
/// (one frame each), or a webhook's callback when the mock delivers
/// webhooks. Returns how many went out.
fn send_all(g: &mut Inner, sub: &Subscription, kind: &'static str, texts: impl IntoIterator<Item = String>) -> usize {
    let (sent, to) = send_texts(g, sub, texts);
    if sent > 0 {
        g.events_log.push_back(EventRecord {
            at: util::now_rfc3339(),
            kind,
            sub_type: sub.sub_type.clone(),
            version: sub.version.clone(),
            subscription_id: sub.id.clone(),
            to,
            count: sent,
        });
        if g.events_log.len() > DASHBOARD_MEMORY {
            g.events_log.pop_front();
        }
    }
    sent
}

/// `send_all` without the record: how many went out, and where (for the
/// dashboard).
fn send_texts(g: &mut Inner, sub: &Subscription, texts: impl IntoIterator<Item = String>) -> (usize, String) {
    if let Transport::Webhook { callback, secret, deliver: true } = &sub.transport {
        let mut sent = 0;
        for text in texts {
            webhook::post(callback.clone(), secret.clone(), text);
            sent += 1;
        }
        return (sent, callback.clone());
    }
    let (live, conduit): (Vec<String>, Option<usize>) = match &sub.transport {
        Transport::WebSocket { session_id, .. } => (vec![session_id.clone()], None),
        Transport::Conduit { conduit_id } => match g.conduits.iter().position(|c| &c.id == conduit_id) {
            Some(i) => {
                let shards = &g.conduits[i].shards;
                (
                    shards.iter().filter(|s| s.status == "enabled").filter_map(|s| s.session_id.clone()).collect(),
                    Some(i),
                )
            }
            None => (Vec::new(), None),
        },
        Transport::Webhook { .. } => (Vec::new(), None),
    };
    if live.is_empty() {
        return (0, String::new());
    }
    let to = match &sub.transport {
        Transport::Conduit { conduit_id } => format!("conduit {conduit_id}"),
        _ => format!("session {}", live[0]),
    };
    let mut sent = 0;
    for text in texts {
        let pick = match conduit {
            Some(i) => {
                let c = &mut g.conduits[i];
                c.next = c.next.wrapping_add(1);
                c.next % live.len()
            }
            None => 0,
        };
        if g.sessions.get(&live[pick]).is_some_and(|s| s.conn.tx.send(Out::Text(text)).is_ok()) {
            sent += 1;
        }
    }
    (sent, to)
}

/// The subscription type's example event with fresh ids (`id`,
/// `*message_id`) and its times moved so that the earliest is now.
pub(crate) fn fresh_event(sub_type: &str, version: &str) -> Option<Value> {
    let meta = twitch::meta::subscription(sub_type, version)?;
    let example: Value = serde_json::from_str(meta.example?).ok()?;
    let mut event = example.get("event").or_else(|| example.get("events")).cloned()?;
    let mut earliest: Option<Timestamp> = None;
    visit_times(&event, &mut |t| earliest = Some(earliest.map_or(t, |e| e.min(t))));
    let shift =
        earliest.and_then(|e| std::time::SystemTime::now().duration_since(e.to_system_time()).ok()).unwrap_or_default();
    refresh(&mut event, None, shift);
    Some(event)
}

fn visit_times(v: &Value, f: &mut impl FnMut(Timestamp)) {
    match v {
        Value::String(s) => {
            if let Ok(t) = Timestamp::parse(s) {
                f(t);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| visit_times(x, f)),
        Value::Object(o) => o.values().for_each(|x| visit_times(x, f)),
        _ => {}
    }
}

fn refresh(v: &mut Value, key: Option<&str>, shift: std::time::Duration) {
    match v {
        Value::String(s) => {
            if key.is_some_and(is_id_key) {
                *s = util::uuid();
            } else if let Ok(t) = Timestamp::parse(s) {
                *s = Timestamp::from(t.to_system_time() + shift).to_rfc3339_nanos();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| refresh(x, key, shift)),
        Value::Object(o) => o.iter_mut().for_each(|(k, x)| refresh(x, Some(k), shift)),
        _ => {}
    }
}

/// Fields that identify an event (fresh in each copy of an example).
fn is_id_key(key: &str) -> bool {
    key == "id" || key.ends_with("message_id")
}

/// Put `mark` where an event's ids are.
fn mark_ids(v: &mut Value, key: Option<&str>, mark: &str) {
    match v {
        Value::String(s) if key.is_some_and(is_id_key) => mark.clone_into(s),
        Value::Array(a) => a.iter_mut().for_each(|x| mark_ids(x, key, mark)),
        Value::Object(o) => o.iter_mut().for_each(|(k, x)| mark_ids(x, Some(k), mark)),
        _ => {}
    }
}

/// Put condition values into an event: `broadcaster_user_id` sets the
/// event's field of that name, and its `_login` and `_name` siblings from the directory.
fn apply_condition(g: &Inner, event: &mut Value, condition: &Map<String, Value>) {
    let Some(e) = event.as_object_mut() else { return };
    for (k, v) in condition {
        let Some(id) = v.as_str() else { continue };
        if !e.contains_key(k) {
            continue;
        }
        e.insert(k.clone(), json!(id));
        if let Some(prefix) = k.strip_suffix("_id") {
            let user = g.user_or_synth(id);
            for (suffix, value) in [("_login", &user.login), ("_name", &user.display_name)] {
                let key = format!("{prefix}{suffix}");
                if e.contains_key(&key) {
                    e.insert(key, json!(value));
                }
            }
        }
    }
}

/// What [`crate::MockServer::trigger`] delivers to.
#[derive(Debug, Clone, Default)]
pub struct TriggerOptions {
    /// Only this session's subscriptions (or, if it has none of this type,
    /// the session itself, with a made-up subscription).
    pub session_id: Option<String>,
    /// Only this subscription.
    pub subscription_id: Option<String>,
    /// Only subscriptions whose condition has these values; they are also
    /// written into the event.
    pub condition: Map<String, Value>,
    /// How many events to send (0 counts as 1). Each is a fresh event with
    /// its own ids and message id; a conduit's events are spread over its
    /// shards in turn. For load tests: events go out as they are made.
    pub count: usize,
}

/// The outcome of a trigger.
#[derive(Debug, Clone)]
pub struct Triggered {
    /// How many notifications went out.
    pub delivered: usize,
    /// The event (before each subscription's condition was applied).
    pub event: Value,
    /// The version used.
    pub version: String,
}

/// The newest version of a type, for triggers that name none.
fn latest_version(sub_type: &str) -> Option<&'static str> {
    let versions: Vec<&'static str> = twitch::meta::subscriptions()
        .into_iter()
        .filter(|s| s.subscription_type == sub_type)
        .map(|s| s.version)
        .collect();
    versions
        .iter()
        .copied()
        .filter_map(|v| Some((v.parse::<u32>().ok()?, v)))
        .max()
        .map(|(_, v)| v)
        .or(versions.first().copied())
}

/// Deliver a fresh example event of a type to matching subscriptions.
pub(crate) fn trigger(
    shared: &Shared,
    sub_type: &str,
    version: Option<&str>,
    opts: &TriggerOptions,
) -> Result<Triggered, String> {
    let version = match version.filter(|v| !v.is_empty()) {
        Some(v) => v.to_owned(),
        None => latest_version(sub_type).ok_or_else(|| format!("unknown subscription type {sub_type}"))?.to_owned(),
    };
    let base =
        fresh_event(sub_type, &version).ok_or_else(|| format!("no example event for {sub_type} version {version}"))?;
    let mut g = shared.lock();
    let on_session = |s: &Subscription, session: &str, g: &Inner| match &s.transport {
        Transport::WebSocket { session_id, .. } => session_id == session,
        Transport::Conduit { conduit_id } => g
            .conduits
            .iter()
            .any(|c| &c.id == conduit_id && c.shards.iter().any(|sh| sh.session_id.as_deref() == Some(session))),
        Transport::Webhook { .. } => false,
    };
    let targets: Vec<Subscription> = g
        .subs
        .iter()
        .filter(|s| s.status == "enabled" && s.sub_type == sub_type && s.version == version)
        .filter(|s| opts.subscription_id.as_ref().is_none_or(|id| &s.id == id))
        .filter(|s| opts.session_id.as_ref().is_none_or(|id| on_session(s, id, &g)))
        .filter(|s| opts.condition.iter().all(|(k, v)| s.condition.get(k) == Some(v)))
        .cloned()
        .collect();
    let mut delivered = 0;
    // With a count: where the event went, with the event as sent there.
    let more = opts.count > 1;
    let mut copies: Vec<(Subscription, Value)> = Vec::new();
    if targets.is_empty()
        && let Some(session_id) = &opts.session_id
    {
        // Like `twitch event trigger`: a session without such a subscription
        // still gets the event, under a made-up subscription.
        let Some(session) = g.sessions.get(session_id) else { return Err(format!("no session {session_id}")) };
        let sub = Subscription {
            id: util::uuid(),
            status: "enabled".into(),
            sub_type: sub_type.to_owned(),
            version: version.clone(),
            condition: opts.condition.clone(),
            created_at: util::now_rfc3339(),
            transport: Transport::WebSocket {
                session_id: session_id.clone(),
                connected_at: session.connected_at.clone(),
                disconnected_at: None,
            },
            cost: 0,
            client_id: session.client_id.clone().unwrap_or_default(),
            user_id: None,
        };
        let mut event = base.clone();
        apply_condition(&g, &mut event, &opts.condition);
        if more {
            copies.push((sub.clone(), event.clone()));
        }
        delivered += usize::from(deliver(&mut g, &sub, event));
    }
    for sub in &targets {
        let mut event = base.clone();
        apply_condition(&g, &mut event, &sub.condition);
        apply_condition(&g, &mut event, &opts.condition);
        if more {
            copies.push((sub.clone(), event.clone()));
        }
        delivered += usize::from(deliver(&mut g, sub, event));
    }
    drop(g);
    // Further events: copies with new ids, made outside the lock and sent
    // in chunks, so a large count streams out while it is being made.
    let copies: Vec<(Subscription, Copies)> = copies
        .into_iter()
        .map(|(sub, event)| {
            let c = Copies::new(&sub, &event);
            (sub, c)
        })
        .collect();
    let mut left = opts.count.max(1) - 1;
    let mut uuids = Uuids::new();
    while left > 0 && !copies.is_empty() {
        let n = left.min(TRIGGER_CHUNK);
        left -= n;
        for (sub, copy) in &copies {
            let texts: Vec<String> = (0..n).map(|_| copy.render(&mut uuids)).collect();
            delivered += send_all(&mut shared.lock(), sub, "notification", texts);
        }
    }
    Ok(Triggered { delivered, event: base, version })
}

/// Events a counted trigger makes before taking the lock to send them.
const TRIGGER_CHUNK: usize = 64;

/// Revoke a subscription: it takes `status`, and its session (if any) gets a
/// `revocation` message. Returns whether the subscription exists.
pub(crate) fn revoke(shared: &Shared, subscription_id: &str, status: &str) -> bool {
    let mut g = shared.lock();
    let Some(sub) = g.subs.iter_mut().find(|s| s.id == subscription_id) else { return false };
    sub.status = status.to_owned();
    let sub = sub.clone();
    let text = message("revocation", Some(&sub), json!({"subscription": sub.to_json()}));
    send_for(&mut g, &sub, "revocation", text);
    true
}

/// Ask sessions (one, or all) to reconnect; returns the sessions asked.
pub(crate) fn reconnect(shared: &Shared, session: Option<&str>) -> Vec<String> {
    let mut g = shared.lock();
    let addr = shared.addr;
    let mut asked = Vec::new();
    for s in g.sessions.values_mut().filter(|s| session.is_none_or(|id| s.id == id)) {
        let token = util::token(32);
        let payload = json!({"session": {
            "id": s.id,
            "status": "reconnecting",
            "keepalive_timeout_seconds": null,
            "reconnect_url": format!("ws://{addr}/ws?reconnect={token}"),
            "connected_at": s.connected_at,
            "recovery_url": null,
        }});
        if s.conn.tx.send(Out::Reconnect(message("session_reconnect", None, payload))).is_ok() {
            s.reconnect_token = Some(token);
            asked.push(s.id.clone());
        }
    }
    asked
}

/// Close sessions (one, or all) with a close code; returns the sessions closed.
pub(crate) fn close(shared: &Shared, session: Option<&str>, code: u16) -> Vec<String> {
    let g = shared.lock();
    g.sessions
        .values()
        .filter(|s| session.is_none_or(|id| s.id == id))
        .filter(|s| s.conn.tx.send(Out::Close(code, close_reason(code).to_owned())).is_ok())
        .map(|s| s.id.clone())
        .collect()
}

/// Twitch's reason text for its close codes.
pub(crate) fn close_reason(code: u16) -> &'static str {
    match code {
        4000 => "internal server error",
        4001 => "sent inbound traffic",
        4002 => "failed ping pong",
        4003 => "connection unused",
        4004 => "reconnect grace time expired",
        4005 => "network timeout",
        4006 => "network error",
        4007 => "invalid reconnect",
        _ => "closed",
    }
}

/// The subscription and shard status a close code leaves behind.
pub(crate) fn status_for_close(code: Option<u16>) -> &'static str {
    match code {
        Some(4000) => "websocket_internal_error",
        Some(4001) => "websocket_received_inbound_traffic",
        Some(4002) => "websocket_failed_ping_pong",
        Some(4003) => "websocket_connection_unused",
        Some(4004) => "websocket_failed_to_reconnect",
        Some(4005) => "websocket_network_timeout",
        Some(4006) => "websocket_network_error",
        _ => "websocket_disconnected",
    }
}

/// A session's last connection ended: its subscriptions and shards take
/// `status`, and subscribers of `conduit.shard.disabled` hear about the shards.
pub(crate) fn session_ended(g: &mut Inner, session_id: &str, status: &str) {
    g.sessions.remove(session_id);
    let now = util::now_rfc3339();
    for s in &mut g.subs {
        if let Transport::WebSocket { session_id: id, disconnected_at, .. } = &mut s.transport
            && id == session_id
            && s.status == "enabled"
        {
            s.status = status.to_owned();
            *disconnected_at = Some(now.clone());
        }
    }
    let mut disabled = Vec::new();
    for c in &mut g.conduits {
        for (i, shard) in c.shards.iter_mut().enumerate() {
            if shard.session_id.as_deref() == Some(session_id) {
                shard.status = status.to_owned();
                shard.session_id = None;
                shard.transport["disconnected_at"] = json!(now);
                disabled.push((c.client_id.clone(), c.id.clone(), i, shard.transport.clone()));
            }
        }
    }
    for (client_id, conduit_id, shard, transport) in disabled {
        let targets: Vec<Subscription> = g
            .subs
            .iter()
            .filter(|s| s.status == "enabled" && s.sub_type == "conduit.shard.disabled")
            .filter(|s| s.condition.get("client_id").and_then(Value::as_str) == Some(client_id.as_str()))
            .filter(|s| s.condition.get("conduit_id").and_then(Value::as_str).is_none_or(|c| c == conduit_id))
            .cloned()
            .collect();
        let event =
            json!({"conduit_id": conduit_id, "shard_id": shard.to_string(), "status": status, "transport": transport});
        for sub in &targets {
            deliver(g, sub, event.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without its ids and time, a copy is the text `notification` makes.
    #[test]
    fn copies_are_notifications_with_new_ids() {
        let event = fresh_event("channel.chat.message", "1").expect("example");
        let sub = Subscription {
            id: util::uuid(),
            status: "enabled".into(),
            sub_type: "channel.chat.message".into(),
            version: "1".into(),
            condition: Map::new(),
            created_at: util::now_rfc3339(),
            transport: Transport::Conduit { conduit_id: util::uuid() },
            cost: 0,
            client_id: "c".into(),
            user_id: None,
        };
        let blank = |text: &str| {
            let mut v: Value = serde_json::from_str(text).expect("JSON");
            mark_ids(&mut v, None, "ID");
            v["metadata"]["message_timestamp"] = json!("T");
            v
        };
        let copies = Copies::new(&sub, &event);
        let mut uuids = Uuids::new();
        let (a, b) = (copies.render(&mut uuids), copies.render(&mut uuids));
        assert_eq!(blank(&a), blank(&notification(&sub, event.clone())));
        let ids = |t: &str| {
            let v: Value = serde_json::from_str(t).expect("JSON");
            (v["metadata"]["message_id"].clone(), v["payload"]["event"]["message_id"].clone())
        };
        let (ia, ib) = (ids(&a), ids(&b));
        assert!(ia.0.is_string() && ia.1.is_string(), "{a}");
        assert_ne!(ia.0, ib.0);
        assert_ne!(ia.1, ib.1);
        let id = ia.0.as_str().unwrap_or_default();
        assert_eq!((id.len(), &id[14..15]), (36, "4"), "{id}");
        assert_eq!(id.split('-').map(str::len).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
    }
}
