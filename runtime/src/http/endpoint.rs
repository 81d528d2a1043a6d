//! The traits generated requests implement.

use crate::base::error::Error;
use crate::base::error::{InvalidParam, Result};
use crate::base::meta::EndpointMeta;
use crate::base::query::Query;
use crate::http::client::{Client, Outgoing, PreparedRequest, ResponseFuture};

/// A Helix request. Implemented by generated code, one type per endpoint.
pub trait Endpoint: Send + Sync + Sized + 'static {
    /// What a successful response decodes to.
    type Output: Send + 'static;

    /// The endpoint's static description.
    fn meta(&self) -> &'static EndpointMeta;

    /// The client to send with.
    fn client(&self) -> &Client;

    /// Per-request settings: the user to send as, retries.
    fn options(&self) -> &RequestOptions;

    /// The same, to change (for wrappers such as [`Lookup`]).
    fn options_mut(&mut self) -> &mut RequestOptions;

    /// Check documented limits; runs before any I/O.
    fn validate(&self) -> Result<(), InvalidParam> {
        Ok(())
    }

    /// Append the query parameters.
    fn query(&self, q: &mut Query) {
        let _ = q;
    }

    /// The JSON body, if the endpoint takes one.
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        Ok(None)
    }

    /// Decode a successful response body.
    fn decode(body: &[u8]) -> Result<Self::Output>;
}

/// Settings of one request, carried by every generated builder (its
/// `as_user`, `as_app` and `retry_non_idempotent` setters fill them in).
///
/// # Which token a request goes out with
///
/// With one static token, that token. With a token manager (or another
/// [`TokenSource`](crate::http::credentials::TokenSource)):
///
/// - `as_user(id)`: that user's token; `as_app()`: the app token. An
///   endpoint that takes no such token, or a source that holds none, is an
///   error before anything is sent.
/// - Neither, on an endpoint that acts as a user named in a parameter
///   ([`EndpointMeta::token_user`](crate::base::meta::EndpointMeta::token_user):
///   the `moderator_id` of Ban User, the `sender_id` of Send Chat Message,
///   the `broadcaster_id` of Start Commercial): that user's token when the
///   source holds it; otherwise the app token, where the endpoint takes one
///   (Twitch then checks that the user has granted the app the endpoint's
///   scopes); otherwise [`Error::NoToken`](crate::Error::NoToken) naming the
///   user, since another user's token would be refused.
/// - Neither, elsewhere: the default user's token where the endpoint takes
///   a user token, else the app token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestOptions {
    /// Send with this user's token (held by the client's token manager).
    pub as_user: Option<crate::base::types::UserId>,
    /// Send with the app token, on an endpoint that takes either.
    pub as_app: bool,
    /// Retry after a 5xx or a transport error although the endpoint is not
    /// idempotent (see [`RetryPolicy::retry_non_idempotent`](crate::http::ratelimit::RetryPolicy::retry_non_idempotent)).
    pub retry_non_idempotent: bool,
}

/// A request that looks one thing up (a user by login, a channel by id):
/// `.await` answers the item, or `None` when Twitch found nothing. Made by
/// the generated lookup calls (`client.get_user_by_login(..)`).
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until it is awaited"]
pub struct Lookup<E>(E);

impl<E: Endpoint> Lookup<E> {
    /// Look up with this request (it names one thing).
    pub fn new(request: E) -> Self {
        Self(request)
    }

    /// Send with this user's token (held by the client's token manager).
    pub fn as_user(mut self, user: impl Into<crate::base::types::UserId>) -> Self {
        let o = self.0.options_mut();
        o.as_user = Some(user.into());
        o.as_app = false;
        self
    }

    /// Send with the app token.
    pub fn as_app(mut self) -> Self {
        let o = self.0.options_mut();
        o.as_app = true;
        o.as_user = None;
        self
    }

    /// The request as built.
    pub fn request(&self) -> &E {
        &self.0
    }
}

impl<E, T> std::future::IntoFuture for Lookup<E>
where
    E: Endpoint<Output = Vec<T>>,
    T: Send + 'static,
{
    type Output = Result<Option<T>>;
    type IntoFuture = ResponseFuture<Option<T>>;

    fn into_future(self) -> Self::IntoFuture {
        let sent = send(self.0);
        Box::pin(async move { sent.await.map(|items| items.into_iter().next()) })
    }
}

/// A request whose responses carry a cursor.
pub trait Paginated: Endpoint + Clone + Unpin {
    /// One item of a page.
    type Item: Send + 'static;

    /// Ask for the page after `cursor` (`None`: the first page).
    fn set_cursor(&mut self, cursor: Option<String>);

    /// Split a response into its items and the next cursor.
    fn into_parts(output: Self::Output) -> (Vec<Self::Item>, Option<String>);
}

fn outgoing<E: Endpoint>(req: &E) -> Result<Outgoing<'static>> {
    let valid = req.validate();
    let mut query = Query::new();
    if valid.is_ok() {
        req.query(&mut query);
    }
    let body = if valid.is_ok() { req.body() } else { Ok(None) };
    assemble(req.meta(), valid, query, body, req.options())
}

/// The request from what the endpoint's methods gave (the part of
/// [`outgoing`] that does not depend on the endpoint's type, compiled once).
#[inline(never)]
fn assemble(
    meta: &'static EndpointMeta,
    valid: Result<(), InvalidParam>,
    query: Query,
    body: Result<Option<Vec<u8>>, serde_json::Error>,
    options: &RequestOptions,
) -> Result<Outgoing<'static>> {
    valid.map_err(|source| Error::InvalidRequest { endpoint: meta.id.to_owned(), source })?;
    let body = body.map_err(|e| Error::InvalidRequest {
        endpoint: meta.id.to_owned(),
        source: InvalidParam { param: "body".into(), message: e.to_string() },
    })?;
    Ok(Outgoing {
        endpoint: meta.id,
        want: crate::http::client::Want::of(options.as_user.as_ref(), options.as_app),
        retry_non_idempotent: options.retry_non_idempotent,
        meta: Some(meta),
        method: meta.method,
        path: meta.path,
        query,
        body,
    })
}

/// Send a generated request. Generated `send()` and `IntoFuture` call this.
///
/// Only building the request and decoding its answer are generic; the
/// sending is one boxed future of the client's, so an endpoint a program
/// uses costs it the endpoint's decoder and little more.
pub fn send<E: Endpoint>(req: E) -> ResponseFuture<E::Output> {
    let out = outgoing(&req);
    let (sent, span) = start(req.client(), req.meta(), out);
    let client = req.client().clone();
    let id = req.meta().id;
    Box::pin(async move {
        let ok = sent.await?;
        let _in = span.enter();
        match client.observer() {
            Some(o) => o.decoding(crate::base::observe::Source::Endpoint(id.to_owned()), || E::decode(&ok.body)),
            None => E::decode(&ok.body),
        }
    })
}

/// The request's span and the future that sends it (or fails at once with
/// what was wrong with it).
#[inline(never)]
fn start(
    client: &Client,
    meta: &'static EndpointMeta,
    out: Result<Outgoing<'static>>,
) -> (ResponseFuture<crate::http::client::Success>, tracing::Span) {
    let span = tracing::info_span!("twitch.request", endpoint = meta.id, method = meta.method.as_str());
    let sent = match out {
        Ok(out) => client.dispatch(out, meta.split, span.clone()),
        Err(e) => Box::pin(std::future::ready(Err(e))),
    };
    (sent, span)
}

/// The request a generated builder would send, without sending it.
pub fn prepare<E: Endpoint>(req: &E) -> Result<PreparedRequest> {
    let out = outgoing(req)?;
    Ok(PreparedRequest {
        method: out.method,
        url: req.client().url(out.path, &out.query),
        body: out.body.map(|b| String::from_utf8_lossy(&b).into_owned()),
    })
}
