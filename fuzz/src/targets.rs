//! What each fuzz target does with its input. The cargo-fuzz targets in
//! `fuzz_targets/` call these, and so does the stable test that replays
//! the regression corpus (`tests/tests/fuzz_regressions.rs` includes this
//! file), so a crash found on nightly is checked on every CI run through
//! the same code.
//!
//! Every function takes arbitrary bytes. None may panic; where a property
//! must hold (a timestamp prints as text that parses back, a query string
//! survives encoding), it is asserted.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use twitch::webhook::{WebhookMessage, WebhookVerifier, headers};
use twitch::{Event, OAuth, Timestamp};

/// What a target runs.
pub type Target = fn(&[u8]);

/// The targets by name, as `cargo fuzz run <name>` knows them.
pub const TARGETS: &[(&str, Target)] = &[
    ("frame", frame),
    ("notification", notification),
    ("webhook", webhook),
    ("oauth_redirect", oauth_redirect),
    ("id_token", id_token),
    ("query", query),
    ("ratelimit", ratelimit),
    ("timestamp", timestamp),
    ("schema", schema),
];

/// The secret the webhook target signs with.
pub const WEBHOOK_SECRET: &str = "fuzz-secret-0123456789";
/// The time every signed webhook input says it was sent.
pub const WEBHOOK_TIMESTAMP: &str = "2023-07-19T14:56:51.634234626Z";
/// The issuer and client the ID token target verifies for.
pub const ID_TOKEN_ISSUER: &str = "https://id.twitch.tv/oauth2";
/// The client id an ID token must name.
pub const ID_TOKEN_CLIENT: &str = "cid";
/// Seconds since the epoch at which ID tokens are checked.
pub const ID_TOKEN_NOW: u64 = 2_000_000_100;

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// One EventSub WebSocket message.
pub fn frame(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let decoded = twitch::websocket::decode_frame::<Event>(t);
    let _ = format!("{decoded:?}");
}

/// A notification payload (`{"subscription", "event"}`), and its
/// subscription object on its own.
pub fn notification(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let _ = format!("{:?}", twitch::decode_notification(t));
    let _ = serde_json::from_str::<twitch::SubscriptionInfo>(t);
}

/// A request to a webhook callback. Byte 0 picks the mode: below 0x80 the
/// rest is a body signed correctly here (so it reaches decoding) under the
/// message type `byte % 4` names; from 0x80 the rest is id, timestamp,
/// signature, type and body separated by NUL, as a sender might mangle them.
pub fn webhook(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let v = WebhookVerifier::new(WEBHOOK_SECRET);
    let sent = Timestamp::parse(WEBHOOK_TIMESTAMP).expect("constant").to_system_time();
    let now = sent + Duration::from_secs(1);
    if mode < 0x80 {
        let kind = ["notification", "webhook_callback_verification", "revocation", "something_else"][mode as usize % 4];
        let sig = v.sign("fuzz-id", WEBHOOK_TIMESTAMP, rest);
        let lookup = |name: &str| match name {
            headers::MESSAGE_ID => Some("fuzz-id"),
            headers::MESSAGE_TIMESTAMP => Some(WEBHOOK_TIMESTAMP),
            headers::MESSAGE_SIGNATURE => Some(sig.as_str()),
            headers::MESSAGE_TYPE => Some(kind),
            _ => None,
        };
        let first = v.handle::<Event>(lookup, rest, now);
        let _ = format!("{first:?}");
        // Handled once, the same id is a duplicate; refused, it is not remembered.
        let again = v.handle::<Event>(lookup, rest, now);
        match (&first, &again) {
            (Ok(_), Ok((_, WebhookMessage::Duplicate { .. }))) => {}
            (Err(_), Err(_)) => {}
            _ => panic!("a second delivery of the same message: {first:?} then {again:?}"),
        }
        // The same body under a signature that does not match is refused.
        let forged = |name: &str| if name == headers::MESSAGE_SIGNATURE { Some("sha256=00") } else { lookup(name) };
        assert!(v.handle::<Event>(forged, rest, now).is_err());
    } else {
        let mut parts = rest.splitn(5, |b| *b == 0);
        let mut next = || parts.next().and_then(|p| std::str::from_utf8(p).ok());
        let (id, ts, sig, kind) = (next(), next(), next(), next());
        let body = rest.rsplit(|b| *b == 0).next().unwrap_or_default();
        let lookup = |name: &str| match name {
            headers::MESSAGE_ID => id,
            headers::MESSAGE_TIMESTAMP => ts,
            headers::MESSAGE_SIGNATURE => sig,
            headers::MESSAGE_TYPE => kind,
            _ => None,
        };
        let _ = format!("{:?}", v.handle::<Event>(lookup, body, now));
    }
}

/// An OAuth redirect: the code flow's query, the implicit flow's fragment.
pub fn oauth_redirect(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let _ = format!("{:?}", OAuth::code_from_redirect(t, "fuzz-state"));
    let _ = format!("{:?}", OAuth::token_from_fragment(t, "fuzz-state"));
}

/// An ID token, then (after a NUL) the signing keys' JSON; without a NUL,
/// the keys are [`ID_TOKEN_KEYS`](crate::seeds::ID_TOKEN_KEYS)'s.
pub fn id_token(data: &[u8]) {
    let (jwt, keys) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, crate::seeds::id_token_keys().as_bytes()),
    };
    let (Some(jwt), Some(keys)) = (text(jwt), text(keys)) else { return };
    let o = OAuth::new(ID_TOKEN_CLIENT, None).auth_url(ID_TOKEN_ISSUER);
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(ID_TOKEN_NOW);
    let _ = format!("{:?}", o.verify_id_token_with_keys(jwt, keys, Some("fuzz-nonce"), at));
}

/// A query string or form body: decoded, and what it decodes to survives
/// being encoded and decoded again.
pub fn query(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let _ = twitch_runtime::query::percent_decode(t);
    let pairs = twitch_runtime::query::parse_pairs(t);
    let mut q = twitch_runtime::Query::new();
    for (k, v) in &pairs {
        q.push_dynamic(k.clone(), v.clone());
    }
    let encoded = q.encode();
    assert_eq!(twitch_runtime::query::parse_pairs(&encoded), pairs, "{t:?} encoded as {encoded:?}");
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime"))
}

/// Rate-limit headers from a server, answer after answer: lines of
/// `limit remaining reset` (each any bytes), fed to one limiter; after each
/// answer a request tries to reserve a point without waiting.
pub fn ratelimit(data: &[u8]) {
    use futures_util::FutureExt;
    use reqwest::header::{HeaderMap, HeaderValue};
    let limiter = twitch_runtime::ratelimit::Limiter::default();
    runtime().block_on(async {
        for (n, line) in data.split(|b| *b == b'\n').take(64).enumerate() {
            let mut fields = line.split(|b| *b == b' ');
            let mut map = HeaderMap::new();
            for name in ["Ratelimit-Limit", "Ratelimit-Remaining", "Ratelimit-Reset"] {
                if let Some(v) = fields.next().and_then(|f| HeaderValue::from_bytes(f).ok()) {
                    map.insert(name, v);
                }
            }
            let h = twitch_runtime::ratelimit::RateHeaders::from_headers(&map);
            let _ = h.wait();
            let reserved = limiter.acquire("k").now_or_never().unwrap_or(false);
            limiter.update("k", h, reserved || n % 3 == 0);
        }
        let _ = limiter.acquire("k").now_or_never();
    });
}

/// A timestamp: whatever parses prints (both ways) as text that parses
/// back to it, and survives serde and `SystemTime`. The first 12 bytes also
/// make seconds and nanoseconds for `Timestamp::from_unix`.
pub fn timestamp(data: &[u8]) {
    let check = |t: Timestamp| {
        for printed in [t.to_string(), t.to_rfc3339_nanos()] {
            assert_eq!(Timestamp::parse(&printed), Ok(t), "{t:?} printed as {printed}");
        }
        let json = serde_json::to_string(&t).expect("serializes");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).ok(), Some(t), "{json}");
        assert_eq!(Timestamp::from(t.to_system_time()), t);
    };
    if let Some(Ok(t)) = text(data).map(Timestamp::parse) {
        check(t);
    }
    if let (Some(s), Some(n)) = (data.get(..8), data.get(8..12)) {
        let secs = i64::from_le_bytes(s.try_into().expect("8 bytes"));
        let nanos = u32::from_le_bytes(n.try_into().expect("4 bytes"));
        if let Some(t) = Timestamp::from_unix(secs, nanos) {
            check(t);
        }
    }
}

/// A schema file: loaded, validated and, if valid, generated and its
/// examples checked. Problems are diagnostics, never panics.
pub fn schema(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let Ok(file) = twitch_codegen::load::parse_file("helix/fuzz.yaml", t) else { return };
    let files = [file];
    if twitch_codegen::generate_from(&files).is_ok() {
        let model = twitch_codegen::model::build(&files);
        let _ = twitch_codegen::examples_check::check_examples(&model);
    }
}
