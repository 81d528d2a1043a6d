//! OpenID Connect on top of the OAuth flows: the OIDC authorization code
//! and implicit flows, ID token verification (RS256 against the identity
//! service's published keys, issuer, audience, expiry, nonce) and the
//! `userinfo` endpoint.
//!
//! The issuer an ID token must name is the OAuth base URL
//! (`https://id.twitch.tv/oauth2` unless [`OAuth::auth_url`] changed it).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer};

use crate::base::error::OAuthError;
use crate::base::error::{Error, Result};
use crate::base::query::Query;
use crate::base::secret::AccessToken;
use crate::base::types::UserId;
use crate::identity::jwks::{Jwk, Jwks, base64url, pick_key};
use crate::identity::oauth::{OAuth, TokenResponse, UserToken, check_redirect};

/// Seconds of clock difference tolerated when checking `exp` and `iat`.
const LEEWAY_SECS: i64 = 60;

/// Claims to ask for with the `claims` parameter, in the ID token or in
/// the `userinfo` answer. Twitch offers `email`, `email_verified`,
/// `picture`, `preferred_username` and `updated_at` (the email claims need
/// the `user:read:email` scope).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OidcClaims {
    id_token: Vec<String>,
    userinfo: Vec<String>,
}

impl OidcClaims {
    /// No extra claims.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ask for a claim in the ID token.
    pub fn id_token(mut self, claim: impl Into<String>) -> Self {
        self.id_token.push(claim.into());
        self
    }

    /// Ask for a claim in the `userinfo` answer.
    pub fn userinfo(mut self, claim: impl Into<String>) -> Self {
        self.userinfo.push(claim.into());
        self
    }

    /// The `claims` parameter: `{"id_token":{"email":null},"userinfo":{...}}`;
    /// `None` when nothing was asked for.
    pub fn to_param(&self) -> Option<String> {
        let part = |names: &[String]| {
            names.iter().map(|n| (n.clone(), serde_json::Value::Null)).collect::<serde_json::Map<_, _>>()
        };
        let mut root = serde_json::Map::new();
        if !self.id_token.is_empty() {
            root.insert("id_token".into(), part(&self.id_token).into());
        }
        if !self.userinfo.is_empty() {
            root.insert("userinfo".into(), part(&self.userinfo).into());
        }
        (!root.is_empty()).then(|| serde_json::Value::Object(root).to_string())
    }
}

/// A JWT `aud`: one audience or several.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Aud {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Aud::deserialize(d)? {
        Aud::One(a) => vec![a],
        Aud::Many(a) => a,
    })
}

/// What a verified ID token says.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct IdClaims {
    /// Who issued it (the OAuth base URL).
    pub iss: String,
    /// The user's id.
    pub sub: UserId,
    /// The client id(s) it was issued to.
    #[serde(deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    /// Expiry, Unix seconds. ID tokens cannot be refreshed.
    pub exp: i64,
    /// Issue time, Unix seconds.
    pub iat: i64,
    /// The nonce sent with the authorization request.
    #[serde(default)]
    pub nonce: Option<String>,
    /// The party it was issued to.
    #[serde(default)]
    pub azp: Option<String>,
    /// The user's email (asked for with [`OidcClaims`]).
    #[serde(default)]
    pub email: Option<String>,
    /// Whether Twitch verified that email.
    #[serde(default)]
    pub email_verified: Option<bool>,
    /// Profile image URL.
    #[serde(default)]
    pub picture: Option<String>,
    /// The user's display name.
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// When the profile last changed.
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// A verified ID token: its claims, and the token itself (kept out of
/// `Debug`: it vouches for the user to anyone who trusts Twitch).
#[derive(Clone, PartialEq, Eq)]
pub struct IdToken {
    /// What it says.
    pub claims: IdClaims,
    raw: String,
}

impl IdToken {
    /// The JWT as received.
    pub fn raw(&self) -> &str {
        &self.raw
    }
}

impl fmt::Debug for IdToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdToken").field("claims", &self.claims).field("raw", &"<redacted>").finish()
    }
}

/// What `oauth2/userinfo` says about the token's user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct UserInfo {
    /// The user's id.
    pub sub: UserId,
    /// The user's display name.
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// The user's email (asked for with [`OidcClaims::userinfo`]).
    #[serde(default)]
    pub email: Option<String>,
    /// Whether Twitch verified that email.
    #[serde(default)]
    pub email_verified: Option<bool>,
    /// Profile image URL.
    #[serde(default)]
    pub picture: Option<String>,
    /// When the profile last changed.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Issuer.
    #[serde(default)]
    pub iss: Option<String>,
    /// Client id(s).
    #[serde(default, deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
}

#[derive(Deserialize)]
struct JwtHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

fn invalid(why: impl Into<String>) -> Error {
    Error::OAuth(OAuthError::InvalidIdToken(why.into()))
}

/// The three parts of a JWT and its header, which must say RS256.
fn jwt_header(jwt: &str) -> Result<(JwtHeader, [&str; 3])> {
    let mut parts = jwt.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(invalid("not a JWT (three dot-separated parts)"));
    };
    let header: JwtHeader =
        base64url(h).and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(|| invalid("unreadable JWT header"))?;
    if header.alg != "RS256" {
        return Err(invalid(format!("signed with {}, not RS256", header.alg)));
    }
    Ok((header, [h, p, s]))
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl OAuth {
    fn oidc_url(
        &self,
        response_type: &str,
        redirect_uri: &str,
        scopes: &[impl AsRef<str>],
        state: &str,
        nonce: &str,
        claims: &OidcClaims,
    ) -> String {
        let mut all: Vec<&str> = vec!["openid"];
        all.extend(scopes.iter().map(AsRef::as_ref).filter(|s| *s != "openid"));
        let claims = claims.to_param();
        let mut extra = vec![("nonce", nonce)];
        extra.extend(claims.as_deref().map(|c| ("claims", c)));
        self.authorize(response_type, redirect_uri, &crate::identity::oauth::join_scopes(&all), state, &extra)
    }

    /// The page to send the user to for the OIDC authorization code flow.
    /// `openid` is added to the scopes; `nonce` comes back in the ID token
    /// ([`random_state`](crate::auth::random_state) makes a good one).
    pub fn oidc_authorize_url(
        &self,
        redirect_uri: &str,
        scopes: &[impl AsRef<str>],
        state: &str,
        nonce: &str,
        claims: &OidcClaims,
    ) -> String {
        self.oidc_url("code", redirect_uri, scopes, state, nonce, claims)
    }

    /// The page to send the user to for the OIDC implicit flow: an ID
    /// token, and an access token too when `with_access_token`.
    pub fn oidc_implicit_url(
        &self,
        redirect_uri: &str,
        scopes: &[impl AsRef<str>],
        state: &str,
        nonce: &str,
        claims: &OidcClaims,
        with_access_token: bool,
    ) -> String {
        let response_type = if with_access_token { "token id_token" } else { "id_token" };
        self.oidc_url(response_type, redirect_uri, scopes, state, nonce, claims)
    }

    /// Exchange an OIDC authorization code: the user token and its
    /// verified ID token (which must carry `nonce`).
    pub async fn exchange_code_oidc(
        &self,
        code: &str,
        redirect_uri: &str,
        nonce: &str,
    ) -> Result<(UserToken, IdToken)> {
        let mut q = Query::new();
        q.push_dynamic("client_id", &self.client_id);
        self.with_secret(&mut q)?;
        q.push_dynamic("code", code);
        q.push_dynamic("grant_type", "authorization_code");
        q.push_dynamic("redirect_uri", redirect_uri);
        let mut t: TokenResponse = self.token_request(q).await?;
        let jwt =
            t.id_token.take().ok_or_else(|| invalid("the token answer has no id_token (was `openid` asked for?)"))?;
        let id = self.verify_id_token(&jwt, Some(nonce)).await?;
        let token = self.user_token(t).await?;
        Ok((token, id))
    }

    /// Read an OIDC implicit-flow redirect (the whole URL or its fragment):
    /// checks `state`, verifies the ID token against `nonce`, and returns
    /// the access token when one was asked for.
    pub async fn id_token_from_fragment(
        &self,
        redirect: &str,
        expected_state: &str,
        nonce: &str,
    ) -> Result<(IdToken, Option<AccessToken>)> {
        let fragment = redirect.split_once('#').map(|(_, f)| f).unwrap_or(redirect);
        let params = crate::base::query::parse_pairs(fragment);
        check_redirect(&params, expected_state)?;
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let jwt = get("id_token")
            .ok_or_else(|| Error::OAuth(OAuthError::MalformedRedirect("no `id_token` in the fragment".into())))?;
        let id = self.verify_id_token(jwt, Some(nonce)).await?;
        Ok((id, get("access_token").map(|t| AccessToken::new(t.to_owned()))))
    }

    /// Verify an ID token: an RS256 signature by one of the identity
    /// service's keys (fetched from `oauth2/keys` and cached; fetched again
    /// for a key id not seen yet), the issuer, this client among its
    /// audience, not expired, and the nonce when one is given.
    pub async fn verify_id_token(&self, jwt: &str, nonce: Option<&str>) -> Result<IdToken> {
        let (header, _) = jwt_header(jwt)?;
        let key = self.signing_key(header.kid.as_deref()).await?;
        self.check_id_token(jwt, &key, nonce, unix_now())
    }

    /// [`verify_id_token`](Self::verify_id_token) against keys you already
    /// hold (the JSON that `oauth2/keys` answers), at the time `now`:
    /// no network, for apps that cache the keys themselves.
    pub fn verify_id_token_with_keys(
        &self,
        jwt: &str,
        keys: &str,
        nonce: Option<&str>,
        now: SystemTime,
    ) -> Result<IdToken> {
        let (header, _) = jwt_header(jwt)?;
        let keys: Jwks = serde_json::from_str(keys).map_err(|e| invalid(format!("unreadable keys: {e}")))?;
        let key = pick_key(&keys.keys, header.kid.as_deref())
            .ok_or_else(|| invalid(format!("no signing key {}", header.kid.as_deref().unwrap_or("(unnamed)"))))?;
        let now = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        self.check_id_token(jwt, &key, nonce, now)
    }

    /// Everything but finding the key.
    fn check_id_token(&self, jwt: &str, key: &Jwk, nonce: Option<&str>, now: i64) -> Result<IdToken> {
        let (_, [h, p, s]) = jwt_header(jwt)?;
        let signature = base64url(s).ok_or_else(|| invalid("unreadable signature"))?;
        let (n, e) = match (base64url(&key.n), base64url(&key.e)) {
            (Some(n), Some(e)) if key.kty == "RSA" => (n, e),
            _ => return Err(invalid("the signing key is not a readable RSA key")),
        };
        let message = &jwt.as_bytes()[..h.len() + 1 + p.len()];
        ring::signature::RsaPublicKeyComponents { n, e }
            .verify(&ring::signature::RSA_PKCS1_2048_8192_SHA256, message, &signature)
            .map_err(|_| invalid("bad signature"))?;
        let claims: IdClaims =
            base64url(p).and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(|| invalid("unreadable claims"))?;
        if claims.iss != self.auth_url {
            return Err(invalid(format!("issued by {}, not {}", claims.iss, self.auth_url)));
        }
        if !claims.aud.contains(&self.client_id) {
            return Err(invalid("issued to another client"));
        }
        if claims.exp.saturating_add(LEEWAY_SECS) < now {
            return Err(invalid("expired"));
        }
        if claims.iat.saturating_sub(LEEWAY_SECS) > now {
            return Err(invalid("issued in the future"));
        }
        if let Some(expected) = nonce
            && claims.nonce.as_deref() != Some(expected)
        {
            return Err(invalid("the nonce is not the one sent"));
        }
        Ok(IdToken { claims, raw: jwt.to_owned() })
    }

    async fn signing_key(&self, kid: Option<&str>) -> Result<Jwk> {
        let pick = |keys: &[Jwk]| pick_key(keys, kid);
        let cached = pick(&self.keys.0.lock().unwrap_or_else(|e| e.into_inner()));
        if let Some(key) = cached {
            return Ok(key);
        }
        let fresh = self.fetch_keys().await?;
        let key = pick(&fresh);
        *self.keys.0.lock().unwrap_or_else(|e| e.into_inner()) = fresh;
        key.ok_or_else(|| invalid(format!("no signing key {}", kid.unwrap_or("(unnamed)"))))
    }

    async fn fetch_keys(&self) -> Result<Vec<Jwk>> {
        let (status, body) = self.get("keys", "/keys", None).await?;
        if status != 200 {
            return Err(Self::rejected("keys", status, &body));
        }
        crate::base::decode::json::<Jwks>("oauth2/keys", &body).map(|k| k.keys)
    }

    /// Ask `oauth2/userinfo` about the user of a token that has `openid`.
    pub async fn userinfo(&self, token: &AccessToken) -> Result<UserInfo> {
        let (status, body) = self.get("userinfo", "/userinfo", Some(format!("Bearer {}", token.secret()))).await?;
        if status != 200 {
            return Err(Self::rejected("userinfo", status, &body));
        }
        crate::base::decode::json("oauth2/userinfo", &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_decodes_and_refuses_garbage() {
        assert_eq!(base64url("").unwrap(), b"");
        assert_eq!(base64url("Zg").unwrap(), b"f");
        assert_eq!(base64url("Zm8").unwrap(), b"fo");
        assert_eq!(base64url("Zm9v").unwrap(), b"foo");
        assert_eq!(base64url("Zm9vYg==").unwrap(), b"foob");
        assert_eq!(base64url("-_8").unwrap(), [0xfb, 0xff]);
        assert!(base64url("Z").is_none(), "a lone character encodes nothing");
        assert!(base64url("Zh").is_none(), "non-zero padding bits");
        assert!(base64url("Zm9v!").is_none());
    }

    #[test]
    fn claims_parameter() {
        assert_eq!(OidcClaims::new().to_param(), None);
        let c = OidcClaims::new().id_token("email").id_token("email_verified").userinfo("picture");
        assert_eq!(
            c.to_param().unwrap(),
            r#"{"id_token":{"email":null,"email_verified":null},"userinfo":{"picture":null}}"#
        );
    }

    #[test]
    fn oidc_urls_add_openid_and_the_nonce() {
        let o = OAuth::new("cid", None).auth_url("http://127.0.0.1:1/oauth2");
        let u = o.oidc_authorize_url("http://localhost:3000", &["user:read:email"], "st", "n1", &OidcClaims::new());
        assert_eq!(
            u,
            "http://127.0.0.1:1/oauth2/authorize?response_type=code&client_id=cid&redirect_uri=http%3A%2F%2Flocalhost%3A3000&scope=openid%20user%3Aread%3Aemail&state=st&nonce=n1"
        );
        let i =
            o.oidc_implicit_url("http://localhost", &["openid"], "s", "n", &OidcClaims::new().id_token("email"), true);
        assert!(i.contains("response_type=token%20id_token&"), "{i}");
        assert!(i.contains("scope=openid&"), "openid once: {i}");
        assert!(i.contains("claims=%7B%22id_token%22%3A%7B%22email%22%3Anull%7D%7D"), "{i}");
        let only = o.oidc_implicit_url("http://localhost", crate::auth::NO_SCOPES, "s", "n", &OidcClaims::new(), false);
        assert!(only.contains("response_type=id_token&"), "{only}");
    }
}
