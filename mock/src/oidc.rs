//! OpenID Connect's own endpoints in `/oauth2`: the signing `keys`,
//! `userinfo` and the discovery document (the ID tokens themselves come
//! from the identity service's token answers, signed by [`crate::idtoken`]).

use ring::signature::RsaPublicKeyComponents;
use serde_json::json;

use crate::idtoken::{ID_TOKEN_SECS, KEY_ID, b64url, issuer, key, now, profile};
use crate::state::Shared;
use crate::wire::{Req, Resp};

/// Answer `GET /oauth2/keys`, `/userinfo` or `/.well-known/openid-configuration`.
pub(crate) fn handle(shared: &Shared, req: &Req, path: &str) -> Resp {
    match path {
        "/keys" => keys(),
        "/userinfo" => userinfo(shared, req),
        _ => discovery(req),
    }
}

/// `GET /oauth2/keys`
fn keys() -> Resp {
    let c: RsaPublicKeyComponents<Vec<u8>> = key().public().into();
    Resp::json(
        200,
        &json!({"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": KEY_ID, "n": b64url(&c.n), "e": b64url(&c.e)}]}),
    )
}

/// `GET /oauth2/userinfo` with a user token that has `openid`.
fn userinfo(shared: &Shared, req: &Req) -> Resp {
    let token = crate::wire::token_of(req);
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
fn discovery(req: &Req) -> Resp {
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
