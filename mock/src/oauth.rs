//! `/oauth2/...`: the identity service (`id.twitch.tv/oauth2`).
//!
//! `token` (client credentials, authorization code, refresh token, device
//! code), `device`, `authorize` (approves at once, as the configured user),
//! `validate` and `revoke`; with the `openid` scope, OpenID Connect
//! (`crate::oidc`). Any client id and secret are accepted unless the mock
//! was given a list of clients. Also served under `/auth/...`, the Twitch
//! CLI's layout, with the CLI's `POST /authorize?grant_type=user_token`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::idtoken;
use crate::state::{Device, Grant, Inner, Kind, OidcRequest, Shared, User};
use crate::util;
use crate::wire::{Req, Resp, token_of};

/// Answer one request (`path` is what follows `/oauth2`).
pub(crate) fn handle(shared: &Shared, req: &Req, path: &str) -> Resp {
    match (req.method.as_str(), path.trim_end_matches('/')) {
        ("POST", "/token") => token(shared, req),
        ("POST", "/device") => device(shared, req),
        ("GET", "/authorize") => authorize(shared, req),
        ("POST", "/authorize") => cli_user_token(shared, req),
        ("GET", "/validate") => validate(shared, req),
        ("POST", "/revoke") => revoke(shared, req),
        ("GET", "/activate") => {
            Resp::text(200, "text/plain; charset=utf-8", "The mock approves device codes by itself.\n")
        }
        _ => Resp::oauth_error(404, "Not Found"),
    }
}

fn form_get<'a>(form: &'a [(String, String)], k: &str) -> &'a str {
    form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or("")
}

/// Check a client id (and, when `secret` is given, its secret) against the
/// configured clients; with none configured, everything is accepted.
fn check_client(shared: &Shared, client_id: &str, secret: Option<&str>) -> Result<(), Resp> {
    if client_id.is_empty() {
        return Err(Resp::oauth_error(400, "missing client id"));
    }
    let clients = &shared.config.clients;
    if clients.is_empty() {
        return Ok(());
    }
    match clients.iter().find(|(id, _)| id == client_id) {
        None => Err(Resp::oauth_error(400, "invalid client")),
        Some((_, s)) => match secret {
            Some(given) if given != s => Err(Resp::oauth_error(403, "invalid client secret")),
            _ => Ok(()),
        },
    }
}

/// The scopes granted: the configured ones, or else what was asked for.
fn granted(shared: &Shared, asked: &str) -> Vec<String> {
    match &shared.config.user_scopes {
        Some(s) => s.clone(),
        None => asked.split([' ', '+']).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
    }
}

/// The user logins act as: the known user with the configured id (so a
/// display name like `TwitchDev` is kept), or a new one.
fn configured_user(shared: &Shared, g: &Inner) -> User {
    g.user_by_id(&shared.config.user_id)
        .cloned()
        .unwrap_or_else(|| User::new(&shared.config.user_id, &shared.config.user_login))
}

/// A user token and its refresh token, as the token endpoint answers.
fn user_tokens(g: &mut Inner, grant: Grant) -> Resp {
    Resp::json(200, &user_token_body(g, grant))
}

fn user_token_body(g: &mut Inner, grant: Grant) -> Value {
    let (access, secs) = g.issue(&grant.client_id, Kind::User, Some(grant.user.clone()), grant.scopes.clone());
    let refresh = util::token(50);
    let scopes = grant.scopes.clone();
    g.refresh_tokens.insert(refresh.clone(), grant);
    json!({"access_token": access, "expires_in": secs, "refresh_token": refresh, "scope": scopes, "token_type": "bearer"})
}

fn has_openid(scopes: &[String]) -> bool {
    scopes.iter().any(|s| s == "openid")
}

fn token(shared: &Shared, req: &Req) -> Resp {
    let form = req.form();
    let get = |k: &str| form_get(&form, k);
    let client_id = get("client_id");
    match get("grant_type") {
        "client_credentials" => {
            if get("client_secret").is_empty() {
                return Resp::oauth_error(400, "missing client secret");
            }
            if let Err(r) = check_client(shared, client_id, Some(get("client_secret"))) {
                return r;
            }
            let (access, secs) = shared.lock().issue(client_id, Kind::App, None, Vec::new());
            Resp::json(200, &json!({"access_token": access, "expires_in": secs, "token_type": "bearer"}))
        }
        "authorization_code" => {
            if get("client_secret").is_empty() {
                return Resp::oauth_error(400, "missing client secret");
            }
            if let Err(r) = check_client(shared, client_id, Some(get("client_secret"))) {
                return r;
            }
            let mut g = shared.lock();
            // Codes are single-use: taken out whatever happens next.
            match g.codes.remove(get("code")) {
                Some((grant, redirect, oidc))
                    if grant.client_id == client_id
                        && (get("redirect_uri").is_empty() || get("redirect_uri") == redirect) =>
                {
                    let openid = has_openid(&grant.scopes);
                    let id = openid.then(|| idtoken::id_token(req, client_id, &grant.user, &grant.scopes, &oidc));
                    let mut body = user_token_body(&mut g, grant);
                    if let Some(id) = id {
                        body["id_token"] = json!(id);
                        let access = body["access_token"].as_str().unwrap_or("").to_owned();
                        g.userinfo_claims.insert(access, oidc.userinfo);
                    }
                    Resp::json(200, &body)
                }
                _ => Resp::oauth_error(400, "Invalid authorization code"),
            }
        }
        "refresh_token" => {
            let secret = Some(get("client_secret")).filter(|s| !s.is_empty());
            if let Err(r) = check_client(shared, client_id, secret) {
                return r;
            }
            let mut g = shared.lock();
            // Refresh tokens are single-use and rotate.
            match g.refresh_tokens.remove(get("refresh_token")) {
                Some(grant) if grant.client_id == client_id => user_tokens(&mut g, grant),
                Some(grant) => {
                    g.refresh_tokens.insert(get("refresh_token").to_owned(), grant);
                    Resp::json(400, &json!({"error": "Bad Request", "status": 400, "message": "Invalid refresh token"}))
                }
                None => {
                    Resp::json(400, &json!({"error": "Bad Request", "status": 400, "message": "Invalid refresh token"}))
                }
            }
        }
        "urn:ietf:params:oauth:grant-type:device_code" => {
            if let Err(r) = check_client(shared, client_id, None) {
                return r;
            }
            let mut g = shared.lock();
            let code = get("device_code");
            let Some(d) = g.devices.get_mut(code) else { return Resp::oauth_error(400, "invalid device code") };
            if d.client_id != client_id || d.expires_at <= Instant::now() {
                g.devices.remove(code);
                return Resp::oauth_error(400, "invalid device code");
            }
            if d.pending_left > 0 {
                d.pending_left -= 1;
                return Resp::oauth_error(400, "authorization_pending");
            }
            let Some(d) = g.devices.remove(code) else { return Resp::oauth_error(400, "invalid device code") };
            let grant = Grant { client_id: d.client_id, user: configured_user(shared, &g), scopes: d.scopes };
            user_tokens(&mut g, grant)
        }
        "" => Resp::oauth_error(400, "missing grant_type"),
        _ => Resp::oauth_error(400, "unsupported grant type"),
    }
}

/// The Twitch CLI mock's user token: `POST /authorize` with `client_id`,
/// `client_secret`, `grant_type=user_token`, `user_id` and `scope`, in the
/// query or a form, answered at once for that user (no login).
fn cli_user_token(shared: &Shared, req: &Req) -> Resp {
    let form = req.form();
    let get = |k: &str| form_get(&form, k);
    if get("grant_type") != "user_token" {
        return Resp::oauth_error(400, "grant_type must be user_token");
    }
    if get("client_secret").is_empty() {
        return Resp::oauth_error(400, "missing client secret");
    }
    if let Err(r) = check_client(shared, get("client_id"), Some(get("client_secret"))) {
        return r;
    }
    if get("user_id").is_empty() {
        return Resp::oauth_error(400, "missing user_id");
    }
    let scopes = get("scope").split([' ', '+']).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    let mut g = shared.lock();
    let user = g.user_or_synth(get("user_id"));
    user_tokens(&mut g, Grant { client_id: get("client_id").to_owned(), user, scopes })
}

fn device(shared: &Shared, req: &Req) -> Resp {
    let form = req.form();
    let client_id = form_get(&form, "client_id");
    if let Err(r) = check_client(shared, client_id, None) {
        return r;
    }
    let device_code = util::token(40);
    let user_code = util::user_code();
    let expires = 1800;
    shared.lock().devices.insert(
        device_code.clone(),
        Device {
            client_id: client_id.to_owned(),
            scopes: granted(shared, form_get(&form, "scopes")),
            pending_left: shared.config.device_pending,
            expires_at: Instant::now() + Duration::from_secs(expires),
        },
    );
    Resp::json(
        200,
        &json!({
            "device_code": device_code,
            "expires_in": expires,
            "interval": shared.config.device_interval,
            "user_code": user_code,
            "verification_uri": format!("{}/oauth2/activate?public=true&device-code={user_code}", shared.url()),
        }),
    )
}

/// Approve at once and redirect back: `?code=` for the code flow, a
/// `#access_token=` fragment for the implicit flow.
fn authorize(shared: &Shared, req: &Req) -> Resp {
    let q = |k: &str| req.query_one(k).unwrap_or("");
    let (client_id, redirect_uri, state) = (q("client_id"), q("redirect_uri"), q("state"));
    if let Err(r) = check_client(shared, client_id, None) {
        return r;
    }
    if redirect_uri.is_empty() {
        return Resp::oauth_error(400, "missing redirect_uri");
    }
    let scopes = granted(shared, q("scope"));
    let scope = scopes.join(" ");
    let oidc = OidcRequest::from_authorize(q("nonce"), q("claims"));
    let mut kinds: Vec<&str> = q("response_type").split([' ', '+']).filter(|s| !s.is_empty()).collect();
    kinds.sort_unstable();
    if kinds.contains(&"id_token") && !has_openid(&scopes) {
        return Resp::oauth_error(400, "an id_token needs the openid scope");
    }
    let mut g = shared.lock();
    let grant = Grant { client_id: client_id.to_owned(), user: configured_user(shared, &g), scopes };
    let location = match kinds.as_slice() {
        ["code"] => {
            let code = util::token(30);
            g.codes.insert(code.clone(), (grant, redirect_uri.to_owned(), oidc));
            let sep = if redirect_uri.contains('?') { '&' } else { '?' };
            let pairs = util::encode_pairs([("code", code.as_str()), ("scope", scope.as_str()), ("state", state)]);
            format!("{redirect_uri}{sep}{pairs}")
        }
        ["token"] | ["id_token"] | ["id_token", "token"] => {
            let id = kinds
                .contains(&"id_token")
                .then(|| idtoken::id_token(req, client_id, &grant.user, &grant.scopes, &oidc));
            let mut pairs = Vec::new();
            let access =
                kinds.contains(&"token").then(|| g.issue(client_id, Kind::User, Some(grant.user), grant.scopes).0);
            if let Some(a) = &access {
                pairs.push(("access_token", a.as_str()));
                if id.is_some() {
                    g.userinfo_claims.insert(a.clone(), oidc.userinfo.clone());
                }
            }
            if let Some(id) = &id {
                pairs.push(("id_token", id.as_str()));
            }
            pairs.extend([("scope", scope.as_str()), ("state", state), ("token_type", "bearer")]);
            format!("{redirect_uri}#{}", util::encode_pairs(pairs))
        }
        _ => return Resp::oauth_error(400, "unsupported response_type"),
    };
    Resp::empty(302).header("Location", location)
}

fn validate(shared: &Shared, req: &Req) -> Resp {
    let token = token_of(req);
    let g = shared.lock();
    let Some(t) = g.token(token) else { return Resp::oauth_error(401, "invalid access token") };
    let expires_in = t.expires_at.saturating_duration_since(Instant::now()).as_secs();
    let mut body = json!({"client_id": t.client_id, "scopes": t.scopes, "expires_in": expires_in});
    if let Some(u) = &t.user {
        body["login"] = Value::from(u.login.clone());
        body["user_id"] = Value::from(u.id.clone());
    } else {
        body["scopes"] = json!([]);
    }
    Resp::json(200, &body)
}

fn revoke(shared: &Shared, req: &Req) -> Resp {
    let form = req.form();
    let (client_id, token) = (form_get(&form, "client_id"), form_get(&form, "token"));
    if !shared.config.clients.is_empty() && !shared.config.clients.iter().any(|(id, _)| id == client_id) {
        return Resp::oauth_error(404, "client does not exist");
    }
    let mut g = shared.lock();
    match g.tokens.get(token) {
        Some(t) if t.client_id == client_id => {
            g.tokens.remove(token);
            Resp::empty(200)
        }
        // Revoking a refresh token works as well.
        _ => match g.refresh_tokens.get(token) {
            Some(r) if r.client_id == client_id => {
                g.refresh_tokens.remove(token);
                Resp::empty(200)
            }
            _ => Resp::oauth_error(400, "Invalid token"),
        },
    }
}
