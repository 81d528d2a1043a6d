//! The HTTP client: credentials, base URLs, sending, errors.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::Instrument;

use crate::base::env::{HTTP, Vars, process_env};
use crate::base::error::{Error, Result};
use crate::base::meta::{EndpointMeta, Method, SplitMeta, TokenKind};
use crate::base::query::Query;
use crate::base::scope::Scope;
use crate::base::secret::AccessToken;
use crate::base::types::UserId;
use crate::http::credentials::TokenSource;
use crate::http::ratelimit::{Limiter, RateHeaders, RetryPolicy};

pub use crate::base::meta::{AUTH_URL, HELIX_URL};

/// The future `send()` returns: boxed, `Send`, `'static`.
pub type ResponseFuture<T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'static>>;

/// The token the client sends.
#[derive(Clone)]
enum Credentials {
    None,
    App(AccessToken),
    User { token: AccessToken, scopes: Option<Vec<Scope>> },
    Managed(Arc<dyn TokenSource>),
}

impl Credentials {
    fn describe(&self) -> &'static str {
        match self {
            Credentials::None => "none",
            Credentials::App(_) => "app token [redacted]",
            Credentials::User { .. } => "user token [redacted]",
            Credentials::Managed(_) => "token source",
        }
    }
}

/// Which token a request goes out with.
enum Chosen {
    None,
    Static(AccessToken),
    ManagedUser(UserId, AccessToken),
    ManagedApp(AccessToken),
}

fn needs_text(meta: &EndpointMeta) -> String {
    meta.tokens
        .iter()
        .map(|t| match t {
            TokenKind::App => "app access token",
            TokenKind::User => "user access token",
            TokenKind::ExtensionJwt => "extension JWT",
            TokenKind::None => "no token",
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

fn missing_scope_error(meta: &EndpointMeta, granted: &[Scope]) -> Result<()> {
    let missing = meta.missing_scopes(granted);
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::MissingScope {
        endpoint: meta.id.to_owned(),
        missing: missing.iter().map(|g| g.iter().map(|s| Scope::from(*s)).collect()).collect(),
    })
}

struct Inner {
    http: reqwest::Client,
    limiter: Limiter,
    retry: RetryPolicy,
    observer: Option<crate::base::observe::Observer>,
    client_id: String,
    credentials: Credentials,
    helix_url: String,
    auth_url: String,
    eventsub_ws_url: String,
}

/// A Twitch API client. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("client_id", &self.inner.client_id)
            .field("credentials", &self.inner.credentials.describe())
            .field("helix_url", &self.inner.helix_url)
            .field("auth_url", &self.inner.auth_url)
            .finish()
    }
}

/// Builds a [`Client`] (or the generated crate's wrapper `C`).
#[must_use]
pub struct ClientBuilder<C = Client> {
    client_id: Option<String>,
    credentials: Credentials,
    helix_url: String,
    auth_url: String,
    eventsub_ws_url: String,
    timeout: Duration,
    connect_timeout: Duration,
    http: Option<reqwest::Client>,
    retry: RetryPolicy,
    observer: Option<crate::base::observe::Observer>,
    _out: PhantomData<fn() -> C>,
}

impl<C> fmt::Debug for ClientBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("client_id", &self.client_id)
            .field("credentials", &self.credentials.describe())
            .field("helix_url", &self.helix_url)
            .field("auth_url", &self.auth_url)
            .finish()
    }
}

impl<C: From<Client>> Default for ClientBuilder<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: From<Client>> ClientBuilder<C> {
    /// A builder with Twitch's URLs and default timeouts (10 s to connect, 30 s overall).
    pub fn new() -> Self {
        Self {
            client_id: None,
            credentials: Credentials::None,
            helix_url: HELIX_URL.to_owned(),
            auth_url: AUTH_URL.to_owned(),
            eventsub_ws_url: crate::base::meta::EVENTSUB_WS_URL.to_owned(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            http: None,
            retry: RetryPolicy::default(),
            observer: None,
            _out: PhantomData,
        }
    }

    /// Observe mode (off unless set): record what responses, and the
    /// events of sessions made from this client, carry that the schema
    /// does not describe (see [`crate::observe`]). The observer is shared:
    /// keep a clone to read or write its report.
    pub fn observe(mut self, observer: crate::base::observe::Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The application's client id (sent as `Client-Id`).
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// Send this app access token.
    pub fn app_token(mut self, token: impl Into<String>) -> Self {
        self.credentials = Credentials::App(AccessToken::new(token));
        self
    }

    /// Send this user access token. Scopes are unknown, so scope checks are
    /// left to Twitch.
    pub fn user_token(mut self, token: impl Into<String>) -> Self {
        self.credentials = Credentials::User { token: AccessToken::new(token), scopes: None };
        self
    }

    /// Send this user access token, which has these scopes: endpoints whose
    /// scope groups it does not satisfy fail before sending. Scopes are
    /// the generated `Scope`s or strings.
    pub fn user_token_with_scopes<S: AsRef<str>>(
        mut self,
        token: impl Into<String>,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.credentials = Credentials::User {
            token: AccessToken::new(token),
            scopes: Some(scopes.into_iter().map(|s| Scope::from(s.as_ref())).collect()),
        };
        self
    }

    /// Take tokens from a [`TokenSource`] (the token manager is one; see
    /// `token_manager`): user tokens (the default user, or the one a
    /// request names with `as_user`) and the app token, asked again once
    /// after a 401.
    pub fn token_source(mut self, source: impl TokenSource) -> Self {
        self.credentials = Credentials::Managed(Arc::new(source));
        self
    }

    /// Helix base URL, e.g. `http://127.0.0.1:8080/helix` for a local mock.
    pub fn helix_url(mut self, url: impl Into<String>) -> Self {
        self.helix_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// OAuth base URL, e.g. `http://127.0.0.1:8080/oauth2`.
    pub fn auth_url(mut self, url: impl Into<String>) -> Self {
        self.auth_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// EventSub WebSocket URL (default `wss://eventsub.wss.twitch.tv/ws`).
    pub fn eventsub_ws_url(mut self, url: impl Into<String>) -> Self {
        self.eventsub_ws_url = url.into();
        self
    }

    /// Overall time limit of one request.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Time limit for establishing a connection.
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// How 429s, 5xx and transport errors are retried, and whether the
    /// client-side rate limiter runs (by default: yes, 3 retries).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Use this `reqwest` client (its own timeouts then apply).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Configure from the environment, as deployments and examples do:
    ///
    /// | variable | sets | |
    /// |---|---|---|
    /// | `TWITCH_CLIENT_ID` | [`client_id`](Self::client_id) | required |
    /// | `TWITCH_USER_TOKEN` | [`user_token`](Self::user_token) | optional |
    /// | `TWITCH_APP_TOKEN` | [`app_token`](Self::app_token) | optional, used when there is no user token |
    /// | `TWITCH_HELIX_URL` | [`helix_url`](Self::helix_url) | optional (a local mock, a proxy) |
    /// | `TWITCH_AUTH_URL` | [`auth_url`](Self::auth_url) | optional |
    /// | `TWITCH_EVENTSUB_WS_URL` | [`eventsub_ws_url`](Self::eventsub_ws_url) | optional |
    ///
    /// An empty variable counts as unset. A missing `TWITCH_CLIENT_ID`, a
    /// value that is not UTF-8 or a URL that is not http(s) (ws(s) for the
    /// WebSocket) is [`Error::Env`], naming the variable. Settings made
    /// after this call override it.
    pub fn from_env(self) -> Result<Self> {
        self.configure(process_env)
    }

    /// [`from_env`](Self::from_env) with the variables read from `lookup`
    /// instead of the process environment (a config file's map, a test).
    pub fn from_vars(self, lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        self.configure(|name| Ok(lookup(name)))
    }

    fn configure(mut self, lookup: impl Fn(&str) -> Result<Option<String>>) -> Result<Self> {
        let vars = Vars(lookup);
        self.client_id = Some(vars.required("TWITCH_CLIENT_ID")?);
        if let Some(t) = vars.get("TWITCH_USER_TOKEN")? {
            self = self.user_token(t);
        } else if let Some(t) = vars.get("TWITCH_APP_TOKEN")? {
            self = self.app_token(t);
        }
        if let Some(u) = vars.url("TWITCH_HELIX_URL", HTTP)? {
            self = self.helix_url(u);
        }
        if let Some(u) = vars.url("TWITCH_AUTH_URL", HTTP)? {
            self = self.auth_url(u);
        }
        if let Some(u) = vars.url("TWITCH_EVENTSUB_WS_URL", &["wss://", "ws://"])? {
            self = self.eventsub_ws_url(u);
        }
        Ok(self)
    }

    /// Build the client.
    pub fn build(self) -> Result<C> {
        let client_id = self.client_id.ok_or_else(|| Error::Config("a client id is required".into()))?;
        for url in [&self.helix_url, &self.auth_url] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(Error::Config(format!("base URL must be http(s): {url}")));
            }
        }
        let http = match self.http {
            Some(h) => h,
            // One TLS stack, rustls with ring, configured here: nothing process-wide.
            None => crate::http::tls::http_client(self.timeout, self.connect_timeout)?,
        };
        Ok(C::from(Client {
            inner: Arc::new(Inner {
                http,
                limiter: Limiter::default(),
                retry: self.retry,
                observer: self.observer,
                client_id,
                credentials: self.credentials,
                helix_url: self.helix_url,
                auth_url: self.auth_url,
                eventsub_ws_url: self.eventsub_ws_url,
            }),
        }))
    }
}

/// An HTTP request as it would be sent, without credentials. `Debug` and
/// `Display` show the body with secret fields (a webhook transport's
/// `secret`, ...) scrubbed; the `body` field itself is what would be sent.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PreparedRequest {
    /// HTTP method.
    pub method: Method,
    /// Full URL with the query string.
    pub url: String,
    /// JSON body.
    pub body: Option<String>,
}

impl fmt::Debug for PreparedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body = self.body.as_deref().map(crate::base::error::ResponseBody::from);
        f.debug_struct("PreparedRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("body", &body.as_ref().map(|b| b.as_str()))
            .finish()
    }
}

impl fmt::Display for PreparedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.url)?;
        if let Some(b) = &self.body {
            write!(f, "\n{}", crate::base::error::ResponseBody::from(b.as_str()).as_str())?;
        }
        Ok(())
    }
}

/// Which token a request asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Want {
    /// The client decides (see [`RequestOptions`](crate::http::endpoint::RequestOptions)).
    Auto,
    /// This user's token.
    User(UserId),
    /// The app token.
    App,
}

impl Want {
    pub(crate) fn of(as_user: Option<&UserId>, as_app: bool) -> Self {
        match (as_app, as_user) {
            (true, _) => Want::App,
            (false, Some(u)) => Want::User(u.clone()),
            (false, None) => Want::Auto,
        }
    }
}

/// The value of a request's parameter that names a user: from the query,
/// or from the top level of a JSON body.
fn param_value(name: &str, query: &Query, body: Option<&[u8]>) -> Option<UserId> {
    if let Some(v) = query.get(name) {
        return Some(UserId::from(v));
    }
    let body: serde_json::Value = serde_json::from_slice(body?).ok()?;
    body.get(name)?.as_str().map(UserId::from)
}

/// What a request needs once the endpoint's own code has run.
pub(crate) struct Outgoing<'a> {
    pub endpoint: &'a str,
    pub want: Want,
    /// The caller allows retries although the endpoint is not idempotent.
    pub retry_non_idempotent: bool,
    pub meta: Option<&'static EndpointMeta>,
    pub method: Method,
    pub path: &'a str,
    pub query: Query,
    pub body: Option<Vec<u8>>,
}

/// The body and status of a successful response.
pub(crate) struct Success {
    pub body: Vec<u8>,
}

impl Client {
    /// A builder; the generated crate's `Client::builder()` wraps this.
    pub fn builder() -> ClientBuilder<Client> {
        ClientBuilder::new()
    }

    /// The application's client id.
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// The observer given to [`ClientBuilder::observe`], if any.
    pub fn observer(&self) -> Option<&crate::base::observe::Observer> {
        self.inner.observer.as_ref()
    }

    /// Helix base URL in use.
    pub fn helix_url(&self) -> &str {
        &self.inner.helix_url
    }

    /// OAuth base URL in use.
    pub fn auth_url(&self) -> &str {
        &self.inner.auth_url
    }

    /// EventSub WebSocket URL in use.
    pub fn eventsub_ws_url(&self) -> &str {
        &self.inner.eventsub_ws_url
    }

    /// A request to any Helix path, for what the schema lacks. Same
    /// credentials, error handling and tracing as generated endpoints.
    pub fn raw(&self, method: Method, path: impl Into<String>) -> RawRequest {
        RawRequest {
            client: self.clone(),
            as_user: None,
            as_app: false,
            retry_non_idempotent: false,
            method,
            path: path.into(),
            query: Query::new(),
            body: None,
        }
    }

    /// The token source, if the client takes its tokens from one.
    pub fn token_source(&self) -> Option<&dyn TokenSource> {
        match &self.inner.credentials {
            Credentials::Managed(m) => Some(m.as_ref()),
            _ => None,
        }
    }

    /// Pick the token for a request and check the endpoint's token kind and
    /// scopes, all before any Helix request is sent.
    ///
    /// With a token source, a request that names no token goes out with
    /// the user token of the user the endpoint acts as (its `token_user`
    /// parameter) when the source holds it, else with the app token on an
    /// endpoint that takes one, else with the default user's token; on
    /// endpoints without a `token_user`, the default user's token comes
    /// before the app token. `as_user` and `as_app` choose explicitly.
    async fn choose(
        &self,
        meta: Option<&EndpointMeta>,
        want: &Want,
        query: &Query,
        body: Option<&[u8]>,
    ) -> Result<Chosen> {
        let Some(meta) = meta else {
            // Raw requests: what was asked for, else the default user first.
            return Ok(match (&self.inner.credentials, want) {
                (Credentials::None, _) => Chosen::None,
                (Credentials::App(t) | Credentials::User { token: t, .. }, _) => Chosen::Static(t.clone()),
                (Credentials::Managed(m), Want::App) => Chosen::ManagedApp(m.app_token().await?),
                (Credentials::Managed(m), Want::User(u)) => Chosen::ManagedUser(u.clone(), m.user_token(u).await?),
                (Credentials::Managed(m), Want::Auto) => match m.default_user() {
                    Some(u) => Chosen::ManagedUser(u.clone(), m.user_token(&u).await?),
                    None => Chosen::ManagedApp(m.app_token().await?),
                },
            });
        };
        let endpoint = meta.id;
        if meta.tokens.contains(&TokenKind::None) {
            return Ok(Chosen::None);
        }
        let accepts = |k| meta.tokens.contains(&k);
        let wrong = || Error::WrongToken { endpoint: endpoint.to_owned(), needs: needs_text(meta) };
        match &self.inner.credentials {
            Credentials::Managed(m) => {
                let as_user = |u: UserId| async move {
                    let scopes = m.scopes(&u).await.ok_or_else(|| Error::NoToken { user: Some(u.clone()) })?;
                    missing_scope_error(meta, &scopes)?;
                    let t = m.user_token(&u).await?;
                    Ok(Chosen::ManagedUser(u, t))
                };
                let app = || async move {
                    if m.has_app_token() {
                        Ok(Chosen::ManagedApp(m.app_token().await?))
                    } else {
                        Err(Error::NoToken { user: None })
                    }
                };
                match want {
                    Want::App if accepts(TokenKind::App) => app().await,
                    Want::User(u) if accepts(TokenKind::User) => as_user(u.clone()).await,
                    Want::App | Want::User(_) => Err(wrong()),
                    Want::Auto => {
                        // The user the request acts as, when the source holds their token.
                        let named = meta.token_user.and_then(|p| param_value(p, query, body));
                        if let Some(u) = &named
                            && accepts(TokenKind::User)
                            && m.scopes(u).await.is_some()
                        {
                            return as_user(u.clone()).await;
                        }
                        if named.is_some() && accepts(TokenKind::App) && m.has_app_token() {
                            return app().await;
                        }
                        if let Some(u) = named.filter(|_| accepts(TokenKind::User)) {
                            // Another user's token would be refused by Twitch.
                            return Err(Error::NoToken { user: Some(u) });
                        }
                        match m.default_user().filter(|_| accepts(TokenKind::User)) {
                            Some(u) => as_user(u).await,
                            None if accepts(TokenKind::App) && m.has_app_token() => app().await,
                            None if accepts(TokenKind::ExtensionJwt) => Ok(Chosen::None),
                            None => Err(wrong()),
                        }
                    }
                }
            }
            // A static token is what it is: asking for another kind cannot be met.
            Credentials::App(_) if let Want::User(u) = want => Err(Error::NoToken { user: Some(u.clone()) }),
            Credentials::User { .. } if *want == Want::App => Err(Error::NoToken { user: None }),
            Credentials::App(t) if accepts(TokenKind::App) => Ok(Chosen::Static(t.clone())),
            Credentials::User { token, scopes } if accepts(TokenKind::User) => {
                if let Some(granted) = scopes {
                    missing_scope_error(meta, granted)?;
                }
                Ok(Chosen::Static(token.clone()))
            }
            // Extension JWTs are not managed here; let Twitch judge.
            _ if accepts(TokenKind::ExtensionJwt) => Ok(Chosen::None),
            _ => Err(wrong()),
        }
    }

    pub(crate) fn url(&self, path: &str, query: &Query) -> String {
        let mut url = format!("{}{}", self.inner.helix_url, path);
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query.encode());
        }
        url
    }

    /// Send a request whose body list `split.param` may be longer than
    /// Twitch takes: as requests of at most `split.max` items, in order,
    /// their JSON answers merged (lists joined, other fields from the
    /// first). The first failure ends it; the parts before it were applied.
    /// Run one request to completion: retries, token choice, splitting a
    /// long body list. Boxed behind `#[inline(never)]` so this code is
    /// compiled once, here, and not again in every crate and for every
    /// endpoint that sends (the generic part of a send is only building
    /// the request and decoding the answer).
    #[inline(never)]
    pub(crate) fn dispatch(
        &self,
        out: Outgoing<'static>,
        split: Option<SplitMeta>,
        span: tracing::Span,
    ) -> ResponseFuture<Success> {
        let client = self.clone();
        Box::pin(
            async move {
                match split {
                    Some(split) => client.execute_split(out, split).await,
                    None => client.execute(out).await,
                }
            }
            .instrument(span),
        )
    }

    pub(crate) async fn execute_split(&self, out: Outgoing<'_>, split: SplitMeta) -> Result<Success> {
        let parsed: Option<serde_json::Map<String, serde_json::Value>> =
            out.body.as_deref().and_then(|b| serde_json::from_slice(b).ok());
        let (mut body, items) = match parsed {
            Some(mut body) => match body.remove(split.param) {
                Some(serde_json::Value::Array(items)) if items.len() > split.max as usize => (body, items),
                Some(v) => {
                    body.insert(split.param.to_owned(), v);
                    return self.execute(out).await;
                }
                None => return self.execute(out).await,
            },
            None => return self.execute(out).await,
        };
        let Outgoing { endpoint, want, retry_non_idempotent, meta, method, path, query, .. } = out;
        let mut merged: Option<serde_json::Map<String, serde_json::Value>> = None;
        let mut last = Success { body: Vec::new() };
        for part in items.chunks(split.max as usize) {
            body.insert(split.param.to_owned(), serde_json::Value::Array(part.to_vec()));
            let bytes = serde_json::to_vec(&body).map_err(|e| Error::InvalidRequest {
                endpoint: endpoint.to_owned(),
                source: crate::base::error::InvalidParam { param: split.param.into(), message: e.to_string() },
            })?;
            let part = Outgoing {
                endpoint,
                want: want.clone(),
                retry_non_idempotent,
                meta,
                method,
                path,
                query: query.clone(),
                body: Some(bytes),
            };
            last = self.execute(part).await?;
            if let Ok(answer) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&last.body) {
                match &mut merged {
                    None => merged = Some(answer),
                    Some(m) => {
                        for (k, v) in answer {
                            match (m.get_mut(&k), v) {
                                (Some(serde_json::Value::Array(all)), serde_json::Value::Array(more)) => {
                                    all.extend(more)
                                }
                                (None, v) => {
                                    m.insert(k, v);
                                }
                                _ => {}
                            }
                        }
                    }
                }
            }
        }
        match merged {
            Some(m) => Ok(Success { body: serde_json::to_vec(&m).unwrap_or_default() }),
            None => Ok(last),
        }
    }

    pub(crate) async fn execute(&self, out: Outgoing<'_>) -> Result<Success> {
        let mut chosen = self.choose(out.meta, &out.want, &out.query, out.body.as_deref()).await?;
        let url = self.url(out.path, &out.query);
        let endpoint = out.endpoint;
        let policy = self.inner.retry;
        let idempotent = out.meta.map(|m| m.idempotent).unwrap_or(out.method == Method::Get);
        // A request that may have reached Twitch is sent again only when
        // doing it twice is harmless, or when the caller said so.
        let may_repeat = idempotent || policy.retry_non_idempotent || out.retry_non_idempotent;
        let (mut refreshed, mut failures, mut limited) = (false, 0u32, 0u32);
        loop {
            let (token, bucket) = match &chosen {
                Chosen::None => (None, "anonymous".to_owned()),
                Chosen::Static(t) => (Some(t.clone()), "static".to_owned()),
                Chosen::ManagedUser(u, t) => (Some(t.clone()), format!("user:{u}")),
                Chosen::ManagedApp(t) => (Some(t.clone()), "app".to_owned()),
            };
            let reserved = policy.limiter && self.inner.limiter.acquire(&bucket).await;
            let sent = self.send_once(endpoint, out.method, &url, token.as_ref(), out.body.clone()).await;
            let (status, rate, body) = match sent {
                Ok(r) => r,
                Err(e) => {
                    self.inner.limiter.update(&bucket, RateHeaders::default(), reserved);
                    // A connection that was never made carried nothing.
                    let unsent = matches!(&e, Error::Transport { source, .. } if source.is_connect());
                    if (may_repeat || unsent) && failures < policy.max_retries {
                        failures += 1;
                        let wait = policy.backoff.delay(failures - 1);
                        tracing::warn!(endpoint, attempt = failures, wait_ms = wait.as_millis() as u64, error = %e, "retrying after a transport error");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(e);
                }
            };
            if policy.limiter {
                self.inner.limiter.update(&bucket, rate, reserved);
            }
            if (200..300).contains(&status) {
                return Ok(Success { body });
            }
            // A 401 with a managed token: refresh it (once, shared by every
            // caller that saw the same token) and send again, once. Not when
            // the 401 says the token belongs to another client: a new token
            // would not help.
            if status == 401
                && !refreshed
                && let Some(m) = self.token_source()
                && refresh_can_help(&twitch_error(&body).message)
            {
                let fresh = match &chosen {
                    Chosen::ManagedUser(u, t) => {
                        let n = m.user_token_after_401(u, t).await?;
                        (&n != t).then(|| Chosen::ManagedUser(u.clone(), n))
                    }
                    Chosen::ManagedApp(t) => {
                        let n = m.app_token_after_401(t).await?;
                        (&n != t).then_some(Chosen::ManagedApp(n))
                    }
                    _ => None,
                };
                if let Some(next) = fresh {
                    tracing::debug!(endpoint, "401: retrying once with a refreshed token");
                    chosen = next;
                    refreshed = true;
                    continue;
                }
            }
            // The bucket ran dry: wait for a refill and send again (Twitch
            // did nothing, so this holds for every request). A 429 while the
            // bucket still has points is an endpoint's own cooldown.
            if status == 429 && !is_cooldown(&rate) && limited < policy.max_rate_limit_retries {
                limited += 1;
                if policy.limiter {
                    self.inner.limiter.refused(&bucket, policy.share_bucket);
                }
                // The bucket refills continuously: a point is back after
                // one point's interval, not at the reset. The wait is spread
                // (other processes were refused at the same moment); the
                // limiter, when on, then paces the retry to its share, and
                // without it the waits double with each refusal.
                let point = rate.point_interval().unwrap_or(Duration::from_secs(1));
                let wait = if policy.limiter {
                    crate::base::types::Backoff { initial: point, max: point }.delay(0)
                } else {
                    crate::base::types::Backoff { initial: point.saturating_mul(2), max: Duration::from_secs(60) }
                        .delay(limited - 1)
                };
                tracing::warn!(
                    endpoint,
                    attempt = limited,
                    wait_ms = wait.as_millis() as u64,
                    "429: waiting for the bucket to refill"
                );
                tokio::time::sleep(wait).await;
                continue;
            }
            if (500..600).contains(&status) && may_repeat && failures < policy.max_retries {
                failures += 1;
                let wait = policy.backoff.delay(failures - 1);
                tracing::warn!(
                    endpoint,
                    status,
                    attempt = failures,
                    wait_ms = wait.as_millis() as u64,
                    "retrying after a server error"
                );
                tokio::time::sleep(wait).await;
                continue;
            }
            return Err(error_from_response(endpoint, status, rate, &body));
        }
    }

    async fn send_once(
        &self,
        endpoint: &str,
        method: Method,
        url: &str,
        token: Option<&AccessToken>,
        body: Option<Vec<u8>>,
    ) -> Result<(u16, RateHeaders, Vec<u8>)> {
        let mut req = self.inner.http.request(to_reqwest(method), url).header("Client-Id", &self.inner.client_id);
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {}", t.secret()));
        }
        if let Some(body) = body {
            req = req.header("Content-Type", "application/json").body(body);
        }
        let transport = |source| Error::Transport { endpoint: endpoint.to_owned(), source };
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let rate = RateHeaders::from_headers(resp.headers());
        let body = resp.bytes().await.map_err(transport)?.to_vec();
        tracing::debug!(status, bytes = body.len(), remaining = rate.remaining, "response");
        Ok((status, rate, body))
    }
}

/// Build the error for a non-2xx response.
/// A 429 while the bucket still has points left is an endpoint's cooldown.
fn is_cooldown(rate: &RateHeaders) -> bool {
    rate.remaining.is_some_and(|r| r > 0)
}

#[derive(Default)]
struct TwitchError {
    error: String,
    message: String,
    details: crate::base::error::ApiDetails,
}

/// Twitch's error body; text that is not one becomes the message (cut short).
fn twitch_error(body: &[u8]) -> TwitchError {
    match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body) {
        Ok(map) => {
            let text = |k: &str| map.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            let (error, message) = (text("error"), text("message"));
            TwitchError { error, message, details: crate::base::error::ApiDetails::from_body(map) }
        }
        Err(_) => {
            TwitchError { message: String::from_utf8_lossy(body).chars().take(512).collect(), ..TwitchError::default() }
        }
    }
}

/// Can a new token fix a 401 with this message? Not when Twitch says the
/// token and the client id do not belong together (or the client id is
/// the problem): that is configuration, and refreshing would only spend a
/// refresh token.
fn refresh_can_help(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    !(m.contains("do not match") || m.contains("client id") || m.contains("client-id"))
}

fn error_from_response(endpoint: &str, status: u16, rate: RateHeaders, body: &[u8]) -> Error {
    let reset_at = rate.reset_at;
    let parsed = twitch_error(body);
    let endpoint = endpoint.to_owned();
    match status {
        401 if !refresh_can_help(&parsed.message) => Error::TokenMismatch { endpoint, message: parsed.message },
        401 => Error::Unauthorized { endpoint, message: parsed.message },
        429 => {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            Error::RateLimited {
                endpoint,
                reset_at,
                retry_after: reset_at.map(|r| Duration::from_secs(r.saturating_sub(now))),
                cooldown: is_cooldown(&rate),
                message: parsed.message,
            }
        }
        _ => Error::Api { endpoint, status, error: parsed.error, message: parsed.message, details: parsed.details },
    }
}

/// A request to any Helix path; see [`Client::raw`]. `Debug` shows the
/// body's length only: it may carry secrets.
#[derive(Clone)]
#[must_use = "a request does nothing until it is sent"]
pub struct RawRequest {
    client: Client,
    as_user: Option<UserId>,
    as_app: bool,
    retry_non_idempotent: bool,
    method: Method,
    path: String,
    query: Query,
    body: Option<Vec<u8>>,
}

impl fmt::Debug for RawRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("as_user", &self.as_user)
            .field("as_app", &self.as_app)
            .field("body", &self.body.as_ref().map(|b| format!("<{} bytes>", b.len())))
            .finish()
    }
}

impl RawRequest {
    /// Send with this user's token (with a token manager).
    pub fn as_user(mut self, user: impl Into<UserId>) -> Self {
        self.as_user = Some(user.into());
        self.as_app = false;
        self
    }

    /// Send with the app token (with a token manager).
    pub fn as_app(mut self) -> Self {
        self.as_app = true;
        self.as_user = None;
        self
    }

    /// Retry after a 5xx or a transport error although the request is not a
    /// `GET` (raw requests other than `GET` count as not idempotent).
    pub fn retry_non_idempotent(mut self) -> Self {
        self.retry_non_idempotent = true;
        self
    }

    /// Add a query parameter (call again to repeat it).
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push_dynamic(name, value);
        self
    }

    /// Send this JSON body.
    pub fn json<T: serde::Serialize + ?Sized>(mut self, body: &T) -> Result<Self> {
        self.body = Some(serde_json::to_vec(body).map_err(|e| Error::InvalidRequest {
            endpoint: self.path.clone(),
            source: crate::base::error::InvalidParam { param: "body".into(), message: e.to_string() },
        })?);
        Ok(self)
    }

    /// Send and return the raw body (empty for 204).
    pub async fn send_bytes(self) -> Result<Vec<u8>> {
        let span = tracing::info_span!("twitch.request", endpoint = %self.path, method = self.method.as_str());
        async move {
            let out = Outgoing {
                endpoint: &self.path,
                want: Want::of(self.as_user.as_ref(), self.as_app),
                retry_non_idempotent: self.retry_non_idempotent,
                meta: None,
                method: self.method,
                path: &self.path,
                query: self.query.clone(),
                body: self.body.clone(),
            };
            Ok(self.client.execute(out).await?.body)
        }
        .instrument(span)
        .await
    }

    /// Send and decode the body as `T` (use `serde_json::Value` for anything).
    pub async fn send<T: serde::de::DeserializeOwned>(self) -> Result<T> {
        let path = self.path.clone();
        let observer = self.client.observer().cloned();
        let body = self.send_bytes().await?;
        let body = if body.is_empty() { b"null".to_vec() } else { body };
        match observer {
            Some(o) => o.decoding(crate::base::observe::Source::Endpoint(path.clone()), || {
                crate::base::decode::json(&path, &body)
            }),
            None => crate::base::decode::json(&path, &body),
        }
    }
}

/// The HTTP client's name for a method.
fn to_reqwest(method: crate::base::meta::Method) -> reqwest::Method {
    use crate::base::meta::Method;
    match method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
    }
}
