//! Nothing that arrives over the network panics the library.
//!
//! Every example notification in the schema (as a WebSocket frame and as a
//! webhook body), plus the session messages, is cut short at many points
//! and has bytes replaced, removed, repeated or swapped for `null`; each
//! result goes through the decoders that read network input. Each must
//! come back as a value or an error. The generator has a fixed seed, so a
//! failure names the exact input and reproduces.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::SystemTime;

use ring::hmac;
use twitch::Event;
use twitch::webhook::{WebhookVerifier, headers};
use twitch::websocket::{Message, decode_frame};

#[path = "support/frames.rs"]
mod frames;

/// xorshift64*: small, deterministic, good enough to pick positions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that change what JSON means when dropped in.
const JSON_BYTES: &[u8] = b"\"\\{}[],:-+.0123456789eEntrufals \t\n\x00\x01\x1f\x7f";
/// Bytes that break UTF-8 (webhook bodies arrive as raw bytes).
const BAD_UTF8: &[u8] = &[0x80, 0xbf, 0xc3, 0xe2, 0xf0, 0xff];

const ROUNDS: usize = 60;

fn variants(input: &[u8], rng: &mut Rng, raw_bytes: bool) -> Vec<Vec<u8>> {
    let n = input.len();
    let mut out = Vec::new();
    // Cut short at evenly spread points, and at a few random ones.
    for k in 0..24 {
        out.push(input[..n * k / 24].to_vec());
    }
    for _ in 0..8 {
        out.push(input[..rng.below(n)].to_vec());
    }
    for _ in 0..ROUNDS {
        let mut v = input.to_vec();
        let at = rng.below(n);
        match rng.below(6) {
            0 => v[at] = JSON_BYTES[rng.below(JSON_BYTES.len())],
            1 if raw_bytes => v[at] = BAD_UTF8[rng.below(BAD_UTF8.len())],
            1 | 2 => {
                let end = (at + 1 + rng.below(24)).min(n);
                v.drain(at..end);
            }
            3 => {
                let end = (at + 1 + rng.below(48)).min(n);
                let copy = v[at..end].to_vec();
                v.splice(at..at, copy);
            }
            4 => {
                let end = (at + 1 + rng.below(16)).min(n);
                v.splice(at..end, b"null".iter().copied());
            }
            _ => {
                // Two replacements at once.
                v[at] = JSON_BYTES[rng.below(JSON_BYTES.len())];
                let other = rng.below(n);
                v[other] = JSON_BYTES[rng.below(JSON_BYTES.len())];
            }
        }
        out.push(v);
    }
    // Deeper nesting than any decoder allows.
    let mut deep = b"{\"metadata\":".to_vec();
    deep.extend(std::iter::repeat_n(b'[', 100_000));
    out.push(deep);
    out
}

/// Run `f` and turn a panic into a failure that shows the input.
fn no_panic(what: &str, input: &[u8], f: impl FnOnce()) -> Option<String> {
    catch_unwind(AssertUnwindSafe(f)).err().map(|_| format!("{what} panicked on {:?}", String::from_utf8_lossy(input)))
}

fn session_frames() -> Vec<String> {
    let meta = |kind: &str| {
        serde_json::json!({
            "message_id": "96a3f3b5-5dec-4eed-908e-e11ee657416c",
            "message_type": kind,
            "message_timestamp": "2023-07-19T14:56:51.634234626Z",
        })
    };
    let session = serde_json::json!({
        "id": "AQoQILE98gtqShGmLD7AM6yJThAB",
        "status": "connected",
        "connected_at": "2023-07-19T14:56:51.616329898Z",
        "keepalive_timeout_seconds": 10,
        "reconnect_url": "ws://127.0.0.1:1/ws",
    });
    let subscription = serde_json::json!({
        "id": "f1c2a387-161a-49f9-a165-0f21d7a4e1c4",
        "status": "authorization_revoked",
        "type": "channel.follow",
        "version": "2",
        "cost": 1,
        "condition": {"broadcaster_user_id": "12826"},
        "transport": {"method": "websocket", "session_id": "AQoQexAWVYKSTIu4ec_2VAxyuhAB"},
        "created_at": "2023-07-19T14:56:51.634234626Z",
    });
    [
        serde_json::json!({"metadata": meta("session_welcome"), "payload": {"session": session}}),
        serde_json::json!({"metadata": meta("session_reconnect"), "payload": {"session": session}}),
        serde_json::json!({"metadata": meta("session_keepalive"), "payload": {}}),
        serde_json::json!({"metadata": meta("revocation"), "payload": {"subscription": subscription}}),
        serde_json::json!({"metadata": meta("something_new"), "payload": {"x": [1, 2, {"y": null}]}}),
    ]
    .iter()
    .map(|v| v.to_string())
    .collect()
}

/// Decode a frame the way a session does, and touch what the session hands
/// on. Whether it came out as a notification.
fn read_frame(text: &str) -> bool {
    match decode_frame::<Event>(text) {
        Ok(frame) => match frame.message {
            Message::Notification { subscription, event, .. } => {
                let _ = subscription.parse();
                let _ = event.kind();
                let _ = format!("{event:?}");
                true
            }
            _ => false,
        },
        Err(_) => false,
    }
}

/// Any JSON, refusing an object that names a key twice (which JSON leaves
/// undefined, and Twitch never sends).
struct UniqueKeys;

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = UniqueKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
                let mut seen = std::collections::HashSet::new();
                while let Some(key) = map.next_key::<String>()? {
                    if !seen.insert(key) {
                        return Err(serde::de::Error::custom("a key named twice"));
                    }
                    map.next_value::<UniqueKeys>()?;
                }
                Ok(UniqueKeys)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueKeys, A::Error> {
                while seq.next_element::<UniqueKeys>()?.is_some() {}
                Ok(UniqueKeys)
            }
            fn visit_bool<E>(self, _: bool) -> Result<UniqueKeys, E> {
                Ok(UniqueKeys)
            }
            fn visit_i64<E>(self, _: i64) -> Result<UniqueKeys, E> {
                Ok(UniqueKeys)
            }
            fn visit_u64<E>(self, _: u64) -> Result<UniqueKeys, E> {
                Ok(UniqueKeys)
            }
            fn visit_f64<E>(self, _: f64) -> Result<UniqueKeys, E> {
                Ok(UniqueKeys)
            }
            fn visit_str<E>(self, _: &str) -> Result<UniqueKeys, E> {
                Ok(UniqueKeys)
            }
            fn visit_unit<E>(self) -> Result<UniqueKeys, E> {
                Ok(UniqueKeys)
            }
        }
        d.deserialize_any(V)
    }
}

/// Still JSON, with the original metadata and subscription: only the event
/// changed, so the notification must still be delivered (typed, or raw with
/// its decode error).
fn only_the_event_changed(original: &serde_json::Value, text: &str) -> bool {
    if serde_json::from_str::<UniqueKeys>(text).is_err() {
        return false;
    }
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else { return false };
    v["metadata"] == original["metadata"]
        && v["payload"]["subscription"] == original["payload"]["subscription"]
        && v["payload"].get("event").is_some()
}

#[test]
fn websocket_frames_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut frames: Vec<String> = twitch::meta::subscriptions()
        .into_iter()
        .filter_map(|s| s.example.map(|ex| frames::notification(s.subscription_type, s.version, ex)))
        .collect();
    assert!(frames.len() >= 80, "every subscription type has an example frame ({})", frames.len());
    frames.extend(session_frames());
    let mut failures = Vec::new();
    let (mut tried, mut event_only) = (0, 0);
    for frame in &frames {
        // The untouched frame decodes.
        assert!(decode_frame::<Event>(frame).is_ok(), "example frame does not decode: {frame}");
        let original: serde_json::Value = serde_json::from_str(frame).unwrap();
        for v in variants(frame.as_bytes(), &mut rng, false) {
            // A WebSocket text frame is UTF-8 (the socket layer checks).
            let Ok(text) = std::str::from_utf8(&v) else { continue };
            tried += 1;
            let must_deliver =
                original["metadata"]["message_type"] == "notification" && only_the_event_changed(&original, text);
            let mut delivered = false;
            failures.extend(no_panic("decode_frame", &v, || delivered = read_frame(text)));
            if must_deliver {
                event_only += 1;
                if !delivered {
                    failures.push(format!("a frame whose event alone changed was not delivered: {text}"));
                }
            }
        }
    }
    assert!(tried > frames.len() * 60, "only {tried} inputs tried");
    assert!(event_only > frames.len() * 5, "only {event_only} inputs changed just the event");
    assert!(failures.is_empty(), "{} of {tried} inputs panicked:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn webhook_bodies_and_headers_never_panic() {
    const SECRET: &str = "s3cRe7s3cRe7";
    const ID: &str = "e76c6bd4-55c9-4987-8304-da1588d8988b";
    const TS: &str = "2019-11-16T10:11:12.634234626Z";
    let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET.as_bytes());
    let sign = |id: &str, ts: &str, body: &[u8]| {
        let mut msg = Vec::new();
        msg.extend_from_slice(id.as_bytes());
        msg.extend_from_slice(ts.as_bytes());
        msg.extend_from_slice(body);
        let tag = hmac::sign(&key, &msg);
        let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256={hex}")
    };
    let now = twitch::Timestamp::parse(TS).unwrap().to_system_time();
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut failures = Vec::new();
    let mut tried = 0;
    let bodies: Vec<&str> = twitch::meta::subscriptions().into_iter().filter_map(|s| s.example).collect();
    for body in &bodies {
        for v in variants(body.as_bytes(), &mut rng, true) {
            let verifier = WebhookVerifier::new(SECRET);
            let sig = sign(ID, TS, &v);
            for kind in ["notification", "revocation", "webhook_callback_verification", "something_new"] {
                tried += 1;
                let h = |name: &str| match name {
                    headers::MESSAGE_ID => Some(ID),
                    headers::MESSAGE_TIMESTAMP => Some(TS),
                    headers::MESSAGE_SIGNATURE => Some(sig.as_str()),
                    headers::MESSAGE_TYPE => Some(kind),
                    _ => None,
                };
                failures.extend(no_panic("WebhookVerifier::handle", &v, || {
                    let _ = verifier.handle::<Event>(h, &v, now);
                }));
            }
            if let Ok(text) = std::str::from_utf8(&v) {
                failures.extend(no_panic("decode_notification", &v, || {
                    let _ = twitch::decode_notification(text);
                }));
            }
        }
    }
    // Headers as anything at all: timestamps, signatures, ids.
    let body = bodies[0].as_bytes();
    for v in variants(TS.as_bytes(), &mut rng, false) {
        let Ok(ts) = std::str::from_utf8(&v) else { continue };
        let sig = sign(ID, ts, body);
        for signature in [sig.as_str(), "sha256=", "sha256=zz", "", "md5=00", &sig[..sig.len() / 2]] {
            tried += 1;
            let verifier = WebhookVerifier::new(SECRET);
            let h = |name: &str| match name {
                headers::MESSAGE_ID => Some(ts),
                headers::MESSAGE_TIMESTAMP => Some(ts),
                headers::MESSAGE_SIGNATURE => Some(signature),
                headers::MESSAGE_TYPE => Some("notification"),
                _ => None,
            };
            failures.extend(no_panic("WebhookVerifier::handle (headers)", &v, || {
                let _ = verifier.handle::<Event>(h, body, SystemTime::now());
            }));
        }
    }
    assert!(failures.is_empty(), "{} of {tried} inputs panicked:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn timestamps_and_form_bodies_never_panic() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let mut failures = Vec::new();
    let seeds = [
        "2023-07-19T14:56:51.634234626Z",
        "2020-02-29T23:59:60+14:00",
        "0000-01-01T00:00:00-23:59",
        "9999-12-31T23:59:59.9999999999999999999999Z",
    ];
    for seed in seeds {
        for v in variants(seed.as_bytes(), &mut rng, false) {
            let Ok(s) = std::str::from_utf8(&v) else { continue };
            failures.extend(no_panic("Timestamp::parse", &v, || {
                if let Ok(t) = twitch::Timestamp::parse(s) {
                    let _ = t.to_rfc3339_nanos();
                    let _ = t.to_string();
                    let _ = t.to_system_time();
                }
            }));
        }
    }
    // Multi-byte characters right after `%` and at the end of the input.
    for seed in ["code=abc%20def&state=x%E2%9C%93&scope=a+b", "%é%%ü%2", "a=%C3", "=&=&&="] {
        for v in variants(seed.as_bytes(), &mut rng, false) {
            let Ok(s) = std::str::from_utf8(&v) else { continue };
            failures.extend(no_panic("parse_pairs", &v, || {
                let _ = twitch_runtime::query::parse_pairs(s);
            }));
        }
    }
    assert!(failures.is_empty(), "{} inputs panicked:\n{}", failures.len(), failures.join("\n"));
}
