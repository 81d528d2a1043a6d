//! Starting inputs for each target, made from the schema's examples (every
//! notification payload, every schema file) and a few hand-written ones.
//! `cargo run --manifest-path fuzz/Cargo.toml --example seed` writes them
//! to `fuzz/corpus/<target>/`; the regression test runs them too.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::targets::{ID_TOKEN_CLIENT, ID_TOKEN_ISSUER, ID_TOKEN_NOW};

/// An RSA key made for the OIDC tests; worthless outside them.
const KEY: &[u8] = include_bytes!("../../tests/tests/fixtures/oidc_test_key_1.der");

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The JWKS (`oauth2/keys` JSON) publishing the test key as `k1`.
pub fn id_token_keys() -> &'static str {
    static KEYS: OnceLock<String> = OnceLock::new();
    KEYS.get_or_init(|| {
        let pair = ring::signature::RsaKeyPair::from_der(KEY).expect("the test key");
        let c: ring::signature::RsaPublicKeyComponents<Vec<u8>> = pair.public().into();
        json!({"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "k1", "n": b64url(&c.n), "e": b64url(&c.e)}]})
            .to_string()
    })
}

/// An ID token the target accepts: signed with the test key, valid at
/// [`ID_TOKEN_NOW`], with the nonce the target expects.
pub fn id_token() -> String {
    let header = b64url(json!({"alg": "RS256", "typ": "JWT", "kid": "k1"}).to_string().as_bytes());
    let claims = json!({"iss": ID_TOKEN_ISSUER, "sub": "1234", "aud": ID_TOKEN_CLIENT, "azp": ID_TOKEN_CLIENT,
        "exp": ID_TOKEN_NOW + 600, "iat": ID_TOKEN_NOW - 10, "nonce": "fuzz-nonce", "email": "a@example.com",
        "email_verified": true, "preferred_username": "A"});
    let input = format!("{header}.{}", b64url(claims.to_string().as_bytes()));
    let pair = ring::signature::RsaKeyPair::from_der(KEY).expect("the test key");
    let mut sig = vec![0; pair.public().modulus_len()];
    pair.sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), input.as_bytes(), &mut sig)
        .expect("signs");
    format!("{input}.{}", b64url(&sig))
}

fn frame(message_type: &str, extra_meta: Value, payload: Value) -> String {
    let mut metadata = json!({"message_id": "befa7b53-d79d-478f-86b9-120f112b044e", "message_type": message_type,
        "message_timestamp": "2022-11-16T10:11:12.464757833Z"});
    if let (Some(m), Some(extra)) = (metadata.as_object_mut(), extra_meta.as_object()) {
        m.extend(extra.clone());
    }
    json!({"metadata": metadata, "payload": payload}).to_string()
}

/// Every seed, as (target, input).
pub fn all(schema_dir: &Path) -> Vec<(&'static str, Vec<u8>)> {
    let mut out: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let mut add = |target: &'static str, input: Vec<u8>| out.push((target, input));

    let subscription = json!({"id": "f1c2a387-161a-49f9-a165-0f21d7a4e1c4", "status": "enabled", "type": "stream.online",
        "version": "1", "cost": 1, "condition": {"broadcaster_user_id": "12826"},
        "transport": {"method": "websocket", "session_id": "AQoQexAWVYKSTIu4ec_2VAxyuhAB"},
        "created_at": "2020-11-10T20:08:464757833Z"});
    for meta in twitch::meta::subscriptions() {
        let Some(example) = meta.example else { continue };
        let Ok(payload) = serde_json::from_str::<Value>(example) else { continue };
        let compact = payload.to_string();
        let typed = json!({"subscription_type": meta.subscription_type, "subscription_version": meta.version});
        add("frame", frame("notification", typed, payload).into_bytes());
        add("notification", compact.clone().into_bytes());
        add("webhook", [&[0u8][..], compact.as_bytes()].concat());
    }
    let session = json!({"session": {"id": "AQoQexAWVYKSTIu4ec_2VAxyuhAB", "status": "connected",
        "connected_at": "2022-11-16T10:11:12.464757833Z", "keepalive_timeout_seconds": 10, "reconnect_url": null}});
    add("frame", frame("session_welcome", json!({}), session).into_bytes());
    add("frame", frame("session_keepalive", json!({}), json!({})).into_bytes());
    let reconnect = json!({"session": {"id": "AQoQexAWVYKSTIu4ec_2VAxyuhAB", "status": "reconnecting",
        "keepalive_timeout_seconds": null, "reconnect_url": "wss://eventsub.wss.twitch.tv?...",
        "connected_at": "2022-11-16T10:11:12.464757833Z"}});
    add("frame", frame("session_reconnect", json!({}), reconnect).into_bytes());
    let revoked = json!({"subscription_type": "stream.online", "subscription_version": "1"});
    add("frame", frame("revocation", revoked, json!({"subscription": subscription})).into_bytes());

    let verification = json!({"challenge": "pogchamp-kappa-360noscope-vohiyo", "subscription": subscription});
    add("webhook", [&[1u8][..], verification.to_string().as_bytes()].concat());
    let shard = r#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","conduit_shard":{"conduit_id":"3f1c2a87-161a-49f9-a165-0f21d7a4e1c4","shard":"42"}}"#;
    add("webhook", [&[1u8][..], shard.as_bytes()].concat());
    add("webhook", [&[2u8][..], json!({"subscription": subscription}).to_string().as_bytes()].concat());
    let mangled =
        [&[0x80u8][..], b"id\0", crate::targets::WEBHOOK_TIMESTAMP.as_bytes(), b"\0sha256=00\0notification\0{}"];
    add("webhook", mangled.concat());

    for r in [
        "http://localhost:3000/cb?code=abc%20d&scope=chat%3Aread&state=fuzz-state",
        "http://localhost/#access_token=tok&scope=chat%3Aread%20chat%3Aedit&state=fuzz-state&token_type=bearer",
        "http://localhost/?error=access_denied&error_description=The+user+denied&state=fuzz-state",
        "code=x&state=fuzz-state#id_token=a.b.c",
    ] {
        add("oauth_redirect", r.as_bytes().to_vec());
    }

    let token = id_token();
    add("id_token", token.clone().into_bytes());
    add("id_token", format!("{token}\0{}", id_token_keys()).into_bytes());
    add("id_token", b"eyJhbGciOiJub25lIn0.e30.\0{\"keys\":[]}".to_vec());

    for q in [
        "login=twitchdev&login=a%20b&first=20",
        "a=1&&b&c=x%3Dy",
        "%C3%BC=%zz%4&+=+",
        "client_id=cid&grant_type=refresh_token",
    ] {
        add("query", q.as_bytes().to_vec());
    }

    let now = 1_700_000_000u64;
    add("ratelimit", format!("800 799 {now}\n800 0 {}\n800 800 {}", now + 60, now + 61).into_bytes());
    add("ratelimit", format!("{m} 0 {}\n{m} {m} {}", now + 30, now + 31, m = u64::MAX).into_bytes());
    add("ratelimit", b"x y z\n-1 1.5 \n\n 800".to_vec());

    for t in [
        "2021-03-10T15:04:21Z",
        "2019-11-16T10:11:12.634234626Z",
        "2020-07-15T18:16:11.17106713Z",
        "2021-03-10T17:04:21+02:00",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999999Z",
        "2016-12-31T23:59:60Z",
    ] {
        add("timestamp", t.as_bytes().to_vec());
    }
    add("timestamp", [1_700_000_000i64.to_le_bytes().as_slice(), 5u32.to_le_bytes().as_slice()].concat());

    let mut files = Vec::new();
    collect_yaml(schema_dir, &mut files);
    files.sort();
    for f in files {
        if let Ok(text) = std::fs::read(&f) {
            add("schema", text);
        }
    }
    out
}

fn collect_yaml(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_yaml(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push(p);
        }
    }
}
