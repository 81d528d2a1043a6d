//! OpenID Connect in `/oauth2`: ID tokens signed with RS256 by the mock's
//! own key (`oidc_signing_key.der`, made for the mock and public; nothing
//! it signs is worth anything outside it), `keys`, `userinfo` and the
//! discovery document. The issuer is the mock's `/oauth2` base URL as the
//! client reached it (its `Host` header).

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents};
use serde_json::{Value, json};

use crate::http::{Req, Resp};
use crate::state::{Shared, User};

const KEY_DER: &[u8] = include_bytes!("oidc_signing_key.der");
const KEY_ID: &str = "mock-1";
/// ID tokens live as long as Twitch's do (not refreshable).
const ID_TOKEN_SECS: i64 = 900;

/// Parsed once.
fn key() -> &'static RsaKeyPair {
    static KEY: OnceLock<RsaKeyPair> = OnceLock::new();
    KEY.get_or_init(|| RsaKeyPair::from_der(KEY_DER).expect("the mock's signing key is valid"))
}

/// Unpadded base64url.
fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// The issuer, as the client reached the mock.
pub(crate) fn issuer(req: &Req) -> String {
    format!("http://{}/oauth2", req.header("host").unwrap_or("127.0.0.1"))
}

/// What an authorization asked for, kept until the code is exchanged.
#[derive(Debug, Clone, Default)]
pub(crate) struct OidcRequest {
    pub nonce: Option<String>,
    /// Claims asked for in the ID token.
    pub id_token: Vec<String>,
    /// Claims asked for in `userinfo`.
    pub userinfo: Vec<String>,
}

impl OidcRequest {
    /// From the `nonce` and `claims` parameters of an authorization.
    pub fn from_authorize(nonce: &str, claims: &str) -> Self {
        let parsed: Value = serde_json::from_str(claims).unwrap_or(Value::Null);
        let names = |part: &str| parsed[part].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
        Self {
            nonce: (!nonce.is_empty()).then(|| nonce.to_owned()),
            id_token: names("id_token"),
            userinfo: names("userinfo"),
        }
    }
}

/// The profile claims asked for that this user and these scopes allow.
fn profile(user: &User, scopes: &[String], asked: &[String], into: &mut Value) {
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

/// `GET /oauth2/keys`
pub(crate) fn keys() -> Resp {
    let c: RsaPublicKeyComponents<Vec<u8>> = key().public().into();
    Resp::json(
        200,
        &json!({"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": KEY_ID, "n": b64url(&c.n), "e": b64url(&c.e)}]}),
    )
}

/// `GET /oauth2/userinfo` with a user token that has `openid`.
pub(crate) fn userinfo(shared: &Shared, req: &Req) -> Resp {
    let token = crate::oauth::token_of(req);
    let g = shared.lock();
    let Some(t) = g.token(token) else { return Resp::oauth_error(401, "invalid access token") };
    let Some(user) = &t.user else { return Resp::oauth_error(401, "not a user access token") };
    if !t.scopes.iter().any(|s| s == "openid") {
        return Resp::oauth_error(401, "the token does not have the openid scope");
    }
    let now = now();
    let mut body = json!({
        "iss": issuer(req), "sub": user.id, "aud": t.client_id, "exp": now + ID_TOKEN_SECS, "iat": now,
        "preferred_username": user.display_name,
    });
    let asked = g.userinfo_claims.get(token).cloned().unwrap_or_default();
    profile(user, &t.scopes, &asked, &mut body);
    Resp::json(200, &body)
}

/// `GET /oauth2/.well-known/openid-configuration`
pub(crate) fn discovery(req: &Req) -> Resp {
    let base = issuer(req);
    Resp::json(
        200,
        &json!({
            "issuer": base,
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/token"),
            "userinfo_endpoint": format!("{base}/userinfo"),
            "jwks_uri": format!("{base}/keys"),
            "claims_parameter_supported": true,
            "claims_supported": ["email", "email_verified", "picture", "preferred_username", "exp", "iss", "sub", "azp", "aud", "iat", "updated_at"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["id_token", "code", "token", "code id_token", "token id_token"],
            "scopes_supported": ["openid"],
            "subject_types_supported": ["public"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
        }),
    )
}
