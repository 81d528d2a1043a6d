//! ID tokens signed with RS256 by the mock's own key
//! (`oidc_signing_key.der`, made for the mock and public; nothing it signs
//! is worth anything outside it), and the claims they carry: what the
//! identity service and the OpenID Connect endpoints share. The issuer is
//! the mock's `/oauth2` base URL as the client reached it (its `Host` header).

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::{Value, json};

use crate::state::{OidcRequest, User};
use crate::wire::Req;

const KEY_DER: &[u8] = include_bytes!("oidc_signing_key.der");
pub(crate) const KEY_ID: &str = "mock-1";
/// ID tokens live as long as Twitch's do (not refreshable).
pub(crate) const ID_TOKEN_SECS: i64 = 900;

/// Parsed once.
pub(crate) fn key() -> &'static RsaKeyPair {
    static KEY: OnceLock<RsaKeyPair> = OnceLock::new();
    KEY.get_or_init(|| RsaKeyPair::from_der(KEY_DER).expect("the mock's signing key is valid"))
}

/// Unpadded base64url.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// The issuer, as the client reached the mock.
pub(crate) fn issuer(req: &Req) -> String {
    format!("http://{}/oauth2", req.header("host").unwrap_or("127.0.0.1"))
}

/// The profile claims asked for that this user and these scopes allow.
pub(crate) fn profile(user: &User, scopes: &[String], asked: &[String], into: &mut Value) {
    let email = scopes.iter().any(|s| s == "user:read:email");
    for claim in asked {
        match claim.as_str() {
            "email" if email => into["email"] = json!(format!("{}@example.com", user.login)),
            "email_verified" if email => into["email_verified"] = json!(true),
            "picture" => into["picture"] = json!(format!("https://static-cdn.jtvnw.net/mock/{}.png", user.login)),
            "preferred_username" => into["preferred_username"] = json!(user.display_name),
            "updated_at" => into["updated_at"] = json!("2024-01-01T00:00:00Z"),
            _ => {}
        }
    }
}

/// A signed ID token for this user.
pub(crate) fn id_token(req: &Req, client_id: &str, user: &User, scopes: &[String], oidc: &OidcRequest) -> String {
    let now = now();
    let mut claims = json!({
        "iss": issuer(req), "sub": user.id, "aud": client_id, "azp": client_id,
        "exp": now + ID_TOKEN_SECS, "iat": now, "preferred_username": user.display_name,
    });
    if let Some(n) = &oidc.nonce {
        claims["nonce"] = json!(n);
    }
    profile(user, scopes, &oidc.id_token, &mut claims);
    let header = b64url(json!({"alg": "RS256", "typ": "JWT", "kid": KEY_ID}).to_string().as_bytes());
    let input = format!("{header}.{}", b64url(claims.to_string().as_bytes()));
    let key = key();
    let mut sig = vec![0; key.public().modulus_len()];
    key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut sig).expect("RSA signing");
    format!("{input}.{}", b64url(&sig))
}
