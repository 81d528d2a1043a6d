//! OAuth against Twitch's identity service (`id.twitch.tv/oauth2`, base URL
//! overridable): client credentials, authorization code, implicit, device
//! code, refresh, validate and revoke; OpenID Connect on top of them
//! ([`oidc`]).

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::base::error::{Error, Result};
use crate::base::query::Query;
use crate::base::scope::Scope;
use crate::base::secret::{AccessToken, ClientSecret, RefreshToken};
use crate::base::types::{Timestamp, UserId, UserLogin};

pub use crate::base::error::OAuthError;

/// An app access token (client credentials).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AppToken {
    /// The token.
    pub access_token: AccessToken,
    /// When it expires.
    pub expires_at: Option<Timestamp>,
}

/// A user access token and what Twitch says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserToken {
    /// The token.
    pub access_token: AccessToken,
    /// Refresh token (absent for the implicit flow).
    pub refresh_token: Option<RefreshToken>,
    /// When the access token expires.
    pub expires_at: Option<Timestamp>,
    /// The user it acts for.
    pub user_id: UserId,
    /// The user's login.
    pub login: UserLogin,
    /// Granted scopes (ones this crate does not know kept as [`Scope::Unknown`]).
    pub scopes: Vec<Scope>,
    /// The client id of the application the token was issued to, when
    /// known (tokens from [`OAuth`] and from `validate` name it). A token
    /// only refreshes with its own client id; the
    /// [`TokenManager`](crate::TokenManager) refuses one of another
    /// application with [`Error::WrongClient`] instead of spending it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

impl UserToken {
    /// A token obtained elsewhere (another tool, an earlier run). Use
    /// [`OAuth::validate`] to learn its user and scopes if you do not know them.
    pub fn new(access_token: impl Into<String>, user_id: impl Into<UserId>, login: impl Into<UserLogin>) -> Self {
        Self {
            access_token: AccessToken::new(access_token),
            refresh_token: None,
            expires_at: None,
            user_id: user_id.into(),
            login: login.into(),
            scopes: Vec::new(),
            client_id: None,
        }
    }

    /// Issued to the application with this client id.
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// With a refresh token.
    pub fn with_refresh_token(mut self, token: impl Into<String>) -> Self {
        self.refresh_token = Some(RefreshToken::new(token));
        self
    }

    /// Expiring at this time.
    pub fn with_expiry(mut self, at: Timestamp) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// With these scopes ([`Scope`]s, or strings for scopes the crate does not know).
    pub fn with_scopes<S: AsRef<str>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(|s| Scope::from(s.as_ref())).collect();
        self
    }

    /// Expires within `margin` from now (a token without expiry never does).
    pub fn expires_within(&self, margin: Duration) -> bool {
        expires_within(self.expires_at, margin)
    }

    /// Does it hold this scope?
    pub fn has_scope(&self, scope: impl AsRef<str>) -> bool {
        self.scopes.iter().any(|s| s.as_str() == scope.as_ref())
    }
}

impl AppToken {
    /// An app token obtained elsewhere (an earlier run, a store).
    pub fn new(access_token: impl Into<String>, expires_at: Option<Timestamp>) -> Self {
        Self { access_token: AccessToken::new(access_token), expires_at }
    }

    /// Expires within `margin` from now.
    pub fn expires_within(&self, margin: Duration) -> bool {
        expires_within(self.expires_at, margin)
    }
}

fn expires_within(at: Option<Timestamp>, margin: Duration) -> bool {
    at.is_some_and(|t| t.to_system_time() <= SystemTime::now() + margin)
}

fn expiry(expires_in: Option<u64>) -> Option<Timestamp> {
    expires_in.map(Timestamp::in_secs)
}

/// What `oauth2/validate` says about a token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Validation {
    /// The app the token belongs to.
    pub client_id: String,
    /// The user's login (absent for app tokens).
    #[serde(default)]
    pub login: Option<UserLogin>,
    /// The user's id (absent for app tokens).
    #[serde(default)]
    pub user_id: Option<UserId>,
    /// Granted scopes.
    #[serde(default, deserialize_with = "crate::base::de::null_as_default")]
    pub scopes: Vec<Scope>,
    /// Seconds until expiry (0 for tokens that do not expire).
    #[serde(default)]
    pub expires_in: u64,
}

/// The longest a device code is waited for (Twitch's codes live 30 minutes).
const DEVICE_CODE_MAX_LIFE: u64 = 24 * 3600;

/// A started device-code login: show `user_code` and `verification_uri`.
/// `Debug` leaves `device_code` out: whoever holds it can poll for the token.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct DeviceCode {
    /// Code to poll with (not for the user's eyes).
    pub device_code: String,
    /// Code the user types in.
    pub user_code: String,
    /// Page where the user approves.
    pub verification_uri: String,
    /// Seconds the codes live.
    pub expires_in: u64,
    /// Seconds to wait between polls.
    pub interval: u64,
    /// Scopes asked for (filled in by [`OAuth::device_start`]).
    #[serde(skip)]
    pub scopes: Vec<Scope>,
}

impl std::fmt::Debug for DeviceCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCode")
            .field("device_code", &"[redacted]")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .field("scopes", &self.scopes)
            .finish()
    }
}

#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default, deserialize_with = "crate::base::de::null_as_default")]
    scope: Vec<Scope>,
    /// OIDC only.
    #[serde(default)]
    pub(crate) id_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ErrorBody {
    message: String,
    error: String,
}

/// OAuth client for one application.
#[derive(Clone)]
pub struct OAuth {
    /// The HTTP client, or why the TLS setup failed (reported by every call).
    pub(crate) http: std::result::Result<reqwest::Client, String>,
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<ClientSecret>,
    pub(crate) auth_url: String,
    pub(crate) keys: crate::identity::jwks::KeyCache,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("auth_url", &self.auth_url)
            .finish()
    }
}

/// A random string for the `state` parameter (CSRF protection).
pub fn random_state() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    // The system RNG does not fail on supported platforms; fall back to time if it does.
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        let t = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_nanos();
        bytes.copy_from_slice(&t.to_le_bytes());
    }
    data_encoding::HEXLOWER.encode(&bytes)
}

/// No scopes, for the calls that take a list of them (`&[]` alone does not
/// say which element type is meant).
pub const NO_SCOPES: &[&str] = &[];

fn force_verify_param(on: bool) -> &'static [(&'static str, &'static str)] {
    if on { &[("force_verify", "true")] } else { &[] }
}

/// Scopes as the identity service takes them: separated by spaces.
pub(crate) fn join_scopes(scopes: &[impl AsRef<str>]) -> String {
    scopes.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(" ")
}

impl OAuth {
    /// A confidential client (server apps) with its secret, or a public
    /// client (`None`: desktop, mobile, device-code apps).
    pub fn new(client_id: impl Into<String>, client_secret: Option<ClientSecret>) -> Self {
        Self {
            http: crate::http::tls::http_client(Duration::from_secs(30), Duration::from_secs(10))
                .map_err(|e| e.to_string()),
            client_id: client_id.into(),
            client_secret,
            auth_url: crate::base::meta::AUTH_URL.to_owned(),
            keys: crate::identity::jwks::KeyCache::default(),
        }
    }

    /// Configure from the environment: `TWITCH_CLIENT_ID` (required),
    /// `TWITCH_CLIENT_SECRET` (optional: without it, a public client) and
    /// `TWITCH_AUTH_URL` (optional, another identity server). Empty counts
    /// as unset; a missing client id, a value that is not UTF-8 or a URL
    /// that is not http(s) is [`Error::Env`] naming the variable.
    pub fn from_env() -> Result<Self> {
        Self::configure(crate::base::env::process_env)
    }

    /// [`from_env`](Self::from_env) with the variables read from `lookup`.
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        Self::configure(|name| Ok(lookup(name)))
    }

    fn configure(lookup: impl Fn(&str) -> Result<Option<String>>) -> Result<Self> {
        let vars = crate::base::env::Vars(lookup);
        let mut oauth =
            Self::new(vars.required("TWITCH_CLIENT_ID")?, vars.get("TWITCH_CLIENT_SECRET")?.map(ClientSecret::new));
        if let Some(url) = vars.url("TWITCH_AUTH_URL", crate::base::env::HTTP)? {
            oauth = oauth.auth_url(url);
        }
        Ok(oauth)
    }

    /// Use another OAuth base URL (a local mock, for example).
    pub fn auth_url(mut self, url: impl Into<String>) -> Self {
        self.auth_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Use this HTTP client.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Ok(http);
        self
    }

    pub(crate) fn http(&self) -> Result<&reqwest::Client> {
        self.http.as_ref().map_err(|e| Error::Tls { message: e.clone() })
    }

    /// The application's client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// A confidential client (it has its secret).
    pub fn has_secret(&self) -> bool {
        self.client_secret.is_some()
    }

    pub(crate) fn with_secret(&self, q: &mut Query) -> Result<()> {
        match &self.client_secret {
            Some(s) => {
                q.push_dynamic("client_secret", s.secret());
                Ok(())
            }
            None => Err(Error::Config("this flow needs the client secret".into())),
        }
    }

    pub(crate) async fn post_form(&self, operation: &'static str, path: &str, form: Query) -> Result<(u16, Vec<u8>)> {
        let url = format!("{}{}", self.auth_url, path);
        let endpoint = format!("oauth2{path}");
        let resp = self
            .http()?
            .post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form.encode())
            .send()
            .await
            .map_err(|source| Error::Transport { endpoint: endpoint.clone(), source })?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|source| Error::Transport { endpoint, source })?.to_vec();
        tracing::debug!(operation, status, "oauth response");
        Ok((status, body))
    }

    pub(crate) fn rejected(operation: &'static str, status: u16, body: &[u8]) -> Error {
        let e: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
        let message = if e.message.is_empty() { e.error } else { e.message };
        Error::OAuth(OAuthError::Rejected { operation, status, message })
    }

    pub(crate) async fn token_request(&self, form: Query) -> Result<TokenResponse> {
        let (status, body) = self.post_form("token", "/token", form).await?;
        if status != 200 {
            return Err(Self::rejected("token", status, &body));
        }
        crate::base::decode::json("oauth2/token", &body)
    }

    /// Client credentials: an app access token.
    pub async fn client_credentials(&self) -> Result<AppToken> {
        let mut q = Query::new();
        q.push_dynamic("client_id", &self.client_id);
        self.with_secret(&mut q)?;
        q.push_dynamic("grant_type", "client_credentials");
        let t = self.token_request(q).await?;
        Ok(AppToken { access_token: AccessToken::new(t.access_token), expires_at: expiry(t.expires_in) })
    }

    /// The `/authorize` URL every browser flow starts at; `extra` follows
    /// the common parameters (`force_verify`, OIDC's `nonce` and `claims`).
    pub(crate) fn authorize(
        &self,
        response_type: &str,
        redirect_uri: &str,
        scopes: &str,
        state: &str,
        extra: &[(&str, &str)],
    ) -> String {
        let mut q = Query::new();
        q.push_dynamic("response_type", response_type);
        q.push_dynamic("client_id", &self.client_id);
        q.push_dynamic("redirect_uri", redirect_uri);
        q.push_dynamic("scope", scopes);
        q.push_dynamic("state", state);
        for &(k, v) in extra {
            q.push_dynamic(k, v);
        }
        format!("{}/authorize?{}", self.auth_url, q.encode())
    }

    /// The page to send the user to for the authorization code flow.
    /// Scopes are the generated `Scope`s or strings (for scopes the crate
    /// does not know yet): anything that is `AsRef<str>`.
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        scopes: &[impl AsRef<str>],
        state: &str,
        force_verify: bool,
    ) -> String {
        self.authorize("code", redirect_uri, &join_scopes(scopes), state, force_verify_param(force_verify))
    }

    /// The page to send the user to for the implicit flow.
    pub fn implicit_url(
        &self,
        redirect_uri: &str,
        scopes: &[impl AsRef<str>],
        state: &str,
        force_verify: bool,
    ) -> String {
        self.authorize("token", redirect_uri, &join_scopes(scopes), state, force_verify_param(force_verify))
    }

    /// Read the `code` from the redirect (the whole URL or its query), after
    /// checking `state`.
    pub fn code_from_redirect(redirect: &str, expected_state: &str) -> Result<String> {
        let query = redirect.split_once('?').map(|(_, q)| q).unwrap_or(redirect);
        let query = query.split('#').next().unwrap_or("");
        let params = crate::base::query::parse_pairs(query);
        check_redirect(&params, expected_state)?;
        params
            .iter()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| Error::OAuth(OAuthError::MalformedRedirect("no `code` in the redirect".into())))
    }

    /// Read the access token from an implicit-flow redirect's fragment
    /// (the whole URL or the part after `#`), after checking `state`.
    pub fn token_from_fragment(redirect: &str, expected_state: &str) -> Result<(AccessToken, Vec<Scope>)> {
        let fragment = redirect.split_once('#').map(|(_, f)| f).unwrap_or(redirect);
        let params = crate::base::query::parse_pairs(fragment);
        check_redirect(&params, expected_state)?;
        let token =
            params.iter().find(|(k, _)| k == "access_token").map(|(_, v)| AccessToken::new(v.clone())).ok_or_else(
                || Error::OAuth(OAuthError::MalformedRedirect("no `access_token` in the fragment".into())),
            )?;
        let scopes = params
            .iter()
            .find(|(k, _)| k == "scope")
            .map(|(_, v)| v.split(' ').filter(|s| !s.is_empty()).map(Scope::from).collect())
            .unwrap_or_default();
        Ok((token, scopes))
    }

    /// Exchange an authorization code for a user token (needs the secret).
    pub async fn exchange_code(&self, code: &str, redirect_uri: &str) -> Result<UserToken> {
        let mut q = Query::new();
        q.push_dynamic("client_id", &self.client_id);
        self.with_secret(&mut q)?;
        q.push_dynamic("code", code);
        q.push_dynamic("grant_type", "authorization_code");
        q.push_dynamic("redirect_uri", redirect_uri);
        let t = self.token_request(q).await?;
        self.user_token(t).await
    }

    /// Complete a user token: ask `validate` who it belongs to.
    pub(crate) async fn user_token(&self, t: TokenResponse) -> Result<UserToken> {
        let access_token = AccessToken::new(t.access_token);
        let v = self.validate(&access_token).await?;
        let scopes = if t.scope.is_empty() { v.scopes.clone() } else { t.scope };
        Ok(UserToken {
            access_token,
            refresh_token: t.refresh_token.map(RefreshToken::new),
            expires_at: expiry(t.expires_in).or_else(|| expiry(Some(v.expires_in).filter(|s| *s > 0))),
            user_id: v.user_id.unwrap_or_default(),
            login: v.login.unwrap_or_default(),
            scopes,
            client_id: Some(v.client_id),
        })
    }

    /// Start a device-code login (works for public clients).
    pub async fn device_start(&self, scopes: &[impl AsRef<str>]) -> Result<DeviceCode> {
        let mut q = Query::new();
        q.push_dynamic("client_id", &self.client_id);
        q.push_dynamic("scopes", join_scopes(scopes));
        let (status, body) = self.post_form("device", "/device", q).await?;
        if status != 200 {
            return Err(Self::rejected("device", status, &body));
        }
        let mut d: DeviceCode = crate::base::decode::json("oauth2/device", &body)?;
        d.scopes = scopes.iter().map(|s| Scope::from(s.as_ref())).collect();
        Ok(d)
    }

    /// Poll until the user approves, declines or the code expires. Waits the
    /// interval Twitch gave between polls, and 5 s more after `slow_down`.
    pub async fn device_poll(&self, device: &DeviceCode) -> Result<UserToken> {
        // Both numbers came from the server: bounded so the arithmetic cannot overflow.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(device.expires_in.min(DEVICE_CODE_MAX_LIFE));
        let mut interval = Duration::from_secs(device.interval.clamp(1, DEVICE_CODE_MAX_LIFE));
        loop {
            let mut q = Query::new();
            q.push_dynamic("client_id", &self.client_id);
            q.push_dynamic("scopes", join_scopes(&device.scopes));
            q.push_dynamic("device_code", &device.device_code);
            q.push_dynamic("grant_type", "urn:ietf:params:oauth:grant-type:device_code");
            let (status, body) = self.post_form("token", "/token", q).await?;
            if status == 200 {
                let t: TokenResponse = crate::base::decode::json("oauth2/token", &body)?;
                return self.user_token(t).await;
            }
            let e: ErrorBody = serde_json::from_slice(&body).unwrap_or_default();
            let msg = if e.message.is_empty() { e.error.clone() } else { e.message.clone() };
            match msg.as_str() {
                "authorization_pending" => {}
                "slow_down" => interval = interval.saturating_add(Duration::from_secs(5)),
                "invalid device code" | "expired_token" => return Err(Error::OAuth(OAuthError::DeviceCodeExpired)),
                "access_denied" | "authorization_denied" => {
                    return Err(Error::OAuth(OAuthError::Denied { error: msg, description: e.error }));
                }
                _ => return Err(Self::rejected("token", status, &body)),
            }
            if tokio::time::Instant::now() + interval > deadline {
                return Err(Error::OAuth(OAuthError::DeviceCodeExpired));
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// Refresh a user token. Confidential clients send their secret, public
    /// clients do not. The returned token keeps the user's id and login.
    pub async fn refresh(&self, token: &UserToken) -> Result<UserToken> {
        let refresh = token
            .refresh_token
            .as_ref()
            .ok_or_else(|| Error::Config("this token has no refresh token (implicit flow)".into()))?;
        let mut q = Query::new();
        q.push_dynamic("client_id", &self.client_id);
        if let Some(s) = &self.client_secret {
            q.push_dynamic("client_secret", s.secret());
        }
        q.push_dynamic("grant_type", "refresh_token");
        q.push_dynamic("refresh_token", refresh.secret());
        let t = self.token_request(q).await?;
        Ok(UserToken {
            access_token: AccessToken::new(t.access_token),
            refresh_token: t.refresh_token.map(RefreshToken::new).or_else(|| token.refresh_token.clone()),
            expires_at: expiry(t.expires_in),
            user_id: token.user_id.clone(),
            login: token.login.clone(),
            scopes: if t.scope.is_empty() { token.scopes.clone() } else { t.scope },
            client_id: Some(self.client_id.clone()),
        })
    }

    /// A GET to the identity service, with an `Authorization` header when
    /// given: the status and the body.
    pub(crate) async fn get(
        &self,
        operation: &'static str,
        path: &str,
        authorization: Option<String>,
    ) -> Result<(u16, Vec<u8>)> {
        let endpoint = format!("oauth2{path}");
        let transport = |source| Error::Transport { endpoint: endpoint.clone(), source };
        let mut req = self.http()?.get(format!("{}{}", self.auth_url, path));
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(transport)?.to_vec();
        tracing::debug!(operation, status, "oauth response");
        Ok((status, body))
    }

    /// Ask Twitch whether a token is still valid, and for whom.
    pub async fn validate(&self, token: &AccessToken) -> Result<Validation> {
        let (status, body) = self.get("validate", "/validate", Some(format!("OAuth {}", token.secret()))).await?;
        if status != 200 {
            return Err(Self::rejected("validate", status, &body));
        }
        crate::base::decode::json("oauth2/validate", &body)
    }

    /// Revoke a token. Idempotent: a token Twitch no longer knows (already
    /// revoked or expired; Twitch answers 400 "Invalid token") counts as
    /// revoked. Other refusals, such as an unknown client id (404), are errors.
    pub async fn revoke(&self, token: &AccessToken) -> Result<()> {
        let mut q = Query::new();
        q.push_dynamic("client_id", &self.client_id);
        q.push_dynamic("token", token.secret());
        let (status, body) = self.post_form("revoke", "/revoke", q).await?;
        match Self::rejected("revoke", status, &body) {
            _ if status == 200 => Ok(()),
            Error::OAuth(OAuthError::Rejected { status: 400, message, .. })
                if message.eq_ignore_ascii_case("invalid token") =>
            {
                tracing::debug!("revoke: the token was no longer valid; nothing to do");
                Ok(())
            }
            e => Err(e),
        }
    }
}

pub(crate) fn check_redirect(params: &[(String, String)], expected_state: &str) -> Result<()> {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if let Some(error) = get("error") {
        return Err(Error::OAuth(OAuthError::Denied {
            error: error.to_owned(),
            description: get("error_description").unwrap_or("").to_owned(),
        }));
    }
    match get("state") {
        Some(s) if s == expected_state => Ok(()),
        _ => Err(Error::OAuth(OAuthError::StateMismatch)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects() {
        let url = "http://localhost:3000/?code=abc%20d&scope=chat%3Aread&state=s1";
        assert_eq!(OAuth::code_from_redirect(url, "s1").unwrap(), "abc d");
        assert!(matches!(OAuth::code_from_redirect(url, "other"), Err(Error::OAuth(OAuthError::StateMismatch))));
        let denied = "http://localhost/?error=access_denied&error_description=The+user+denied&state=s1";
        assert!(matches!(OAuth::code_from_redirect(denied, "s1"), Err(Error::OAuth(OAuthError::Denied { .. }))));
        let frag = "http://localhost/#access_token=tok&scope=chat%3Aread%20chat%3Aedit&state=s2&token_type=bearer";
        let (t, scopes) = OAuth::token_from_fragment(frag, "s2").unwrap();
        assert_eq!(t.secret(), "tok");
        assert_eq!(scopes, [Scope::ChatRead, Scope::ChatEdit]);
    }

    #[test]
    fn authorize_urls() {
        let o = OAuth::new("cid", None).auth_url("http://127.0.0.1:1/oauth2");
        let u = o.authorize_url("http://localhost:3000", &["chat:read", "user:read:email"], "xyz", true);
        assert_eq!(
            u,
            "http://127.0.0.1:1/oauth2/authorize?response_type=code&client_id=cid&redirect_uri=http%3A%2F%2Flocalhost%3A3000&scope=chat%3Aread%20user%3Aread%3Aemail&state=xyz&force_verify=true"
        );
        assert!(o.implicit_url("http://localhost", NO_SCOPES, "s", false).contains("response_type=token"));
        assert_eq!(random_state().len(), 32);
        assert_ne!(random_state(), random_state());
    }
}
