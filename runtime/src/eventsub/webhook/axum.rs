//! An `axum` route for EventSub webhooks (feature `axum`).
//!
//! [`WebhookReceiver`] builds a [`Router`] that serves `POST` on one path
//! (`/eventsub` unless told otherwise). Each request is checked by a
//! [`WebhookVerifier`] (signature, replay window, duplicate ids) and answered
//! at once, as Twitch wants within a few seconds; what it carried goes to a
//! bounded [`tokio::sync::mpsc`] channel for the application to read at its
//! own pace. The handler never waits on the application.
//!
//! | request | reply | passed on |
//! | --- | --- | --- |
//! | notification | 204 | [`WebhookMessage::Notification`] |
//! | `webhook_callback_verification` | 200, `text/plain`, the challenge | [`WebhookMessage::Verification`] |
//! | the same, for a conduit's webhook shard | 200, `text/plain`, the challenge | [`WebhookMessage::ShardVerification`] |
//! | revocation | 204 | [`WebhookMessage::Revocation`] |
//! | message id already handled | 204 (200 and the challenge for a verification) | nothing |
//! | bad or missing signature, stale timestamp | 403 | nothing |
//! | unknown message type, undecodable body | 400 | nothing, and the id is not remembered |
//! | body over the limit (1 MiB by default) | 413 | nothing |
//! | the channel is full, or its receiver dropped | 503 | nothing, and the id is not remembered |
//!
//! **A full channel is not acknowledged.** Room for the message is reserved
//! *before* the request is checked; when there is none the handler answers
//! 503 without touching the verifier, so the message id is not marked as
//! seen and Twitch's redelivery is taken as a new message, not dropped as a
//! duplicate. Twitch retries failed notifications for a while and revokes a
//! subscription whose callback keeps failing, so size the channel for bursts
//! and keep reading it. A verification is the one exception: Twitch does not
//! retry it, so its challenge is answered even when the channel is full (the
//! [`WebhookMessage::Verification`] is then not passed on, with a warning).
//!
//! Refusals are logged with [`tracing`] at `warn` (the reason, never the
//! secret), duplicates at `debug`. Twitch only calls `https` callbacks on
//! port 443: serve the router behind a proxy that terminates TLS.
//!
//! ```
//! use twitch_runtime::EventPayload;
//! use twitch_runtime::webhook::axum::WebhookReceiver;
//! use twitch_runtime::webhook::{WebhookMessage, WebhookVerifier};
//!
//! // `E` is the generated `twitch::Event` in practice.
//! fn app<E: EventPayload + Send + std::fmt::Debug + 'static>() -> axum::Router {
//!     let (router, mut messages) =
//!         WebhookReceiver::new(WebhookVerifier::new("the subscription secret")).path("/eventsub").build::<E>();
//!     tokio::spawn(async move {
//!         while let Some(message) = messages.recv().await {
//!             if let WebhookMessage::Notification { notification, .. } = message {
//!                 println!("{:?}", notification.event);
//!             }
//!         }
//!     });
//!     router // serve it with `axum::serve`, or merge it into your app
//! }
//! ```

use std::sync::Arc;
use std::time::SystemTime;

use ::axum::Router;
use ::axum::body::{Body, Bytes};
use ::axum::extract::{DefaultBodyLimit, State};
use ::axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use ::axum::response::Response;
use ::axum::routing::post;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use super::{VERIFICATION, WebhookMessage, WebhookReply, WebhookVerifier, headers};
use crate::eventsub::decode::EventPayload;

/// The path served unless [`WebhookReceiver::path`] says otherwise.
pub const DEFAULT_PATH: &str = "/eventsub";

/// Messages the channel of [`WebhookReceiver::build`] holds unless
/// [`WebhookReceiver::channel_capacity`] says otherwise.
pub const DEFAULT_CHANNEL_CAPACITY: usize = 1024;

/// Largest body accepted unless [`WebhookReceiver::body_limit`] says
/// otherwise: 1 MiB. Twitch's messages are a few KiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Builds the axum route that receives EventSub webhooks; see the
/// [module documentation](self) for what it answers.
#[derive(Debug)]
pub struct WebhookReceiver {
    verifier: Arc<WebhookVerifier>,
    path: String,
    capacity: usize,
    body_limit: usize,
}

impl WebhookReceiver {
    /// A receiver checking requests with `verifier` (an `Arc` shares its
    /// memory of seen message ids with other receivers).
    pub fn new(verifier: impl Into<Arc<WebhookVerifier>>) -> Self {
        Self {
            verifier: verifier.into(),
            path: DEFAULT_PATH.to_owned(),
            capacity: DEFAULT_CHANNEL_CAPACITY,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// The path to serve `POST` on (default [`DEFAULT_PATH`]); a missing
    /// leading `/` is added. Axum's path syntax applies: `{name}` is a
    /// capture, and an invalid path makes [`build`](Self::build) or
    /// [`router`](Self::router) panic as [`Router::route`] does.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        let path = path.into();
        self.path = if path.starts_with('/') { path } else { format!("/{path}") };
        self
    }

    /// How many messages the channel made by [`build`](Self::build) holds
    /// before requests are answered 503 (default
    /// [`DEFAULT_CHANNEL_CAPACITY`]; at least 1).
    pub fn channel_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// The largest body accepted, in bytes (default [`DEFAULT_BODY_LIMIT`]);
    /// a larger one is answered 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The route and the receiving end of a new channel of
    /// [`channel_capacity`](Self::channel_capacity) messages.
    pub fn build<E: EventPayload + Send + 'static>(self) -> (Router, mpsc::Receiver<WebhookMessage<E>>) {
        let (tx, rx) = mpsc::channel(self.capacity);
        (self.router(tx), rx)
    }

    /// The route, sending to a channel of your own (its capacity applies;
    /// [`channel_capacity`](Self::channel_capacity) is not used).
    pub fn router<E: EventPayload + Send + 'static>(self, tx: mpsc::Sender<WebhookMessage<E>>) -> Router {
        let shared = Arc::new(Shared { verifier: self.verifier, tx });
        Router::new()
            .route(&self.path, post(receive::<E>).layer(DefaultBodyLimit::max(self.body_limit)))
            .with_state(shared)
    }
}

/// The route on [`DEFAULT_PATH`] with the default body limit, sending to
/// `tx`: short for `WebhookReceiver::new(verifier).router(tx)`.
pub fn router<E: EventPayload + Send + 'static>(
    verifier: impl Into<Arc<WebhookVerifier>>,
    tx: mpsc::Sender<WebhookMessage<E>>,
) -> Router {
    WebhookReceiver::new(verifier).router(tx)
}

struct Shared<E> {
    verifier: Arc<WebhookVerifier>,
    tx: mpsc::Sender<WebhookMessage<E>>,
}

async fn receive<E: EventPayload + Send + 'static>(
    State(shared): State<Arc<Shared<E>>>,
    request_headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.receive(&request_headers, &body, SystemTime::now())
}

impl<E: EventPayload> Shared<E> {
    /// Everything after the body is read; it does not wait, so it cannot be
    /// cut short between marking an id as seen and passing the message on.
    fn receive(&self, request_headers: &HeaderMap, body: &[u8], now: SystemTime) -> Response {
        // `HeaderMap` looks names up case-insensitively; a value that is not
        // visible ASCII counts as missing.
        let lookup = |name: &str| request_headers.get(name).and_then(|v| v.to_str().ok());
        let permit = match self.tx.try_reserve() {
            Ok(permit) => Some(permit),
            Err(e) if lookup(headers::MESSAGE_TYPE) == Some(VERIFICATION) => {
                let why = if matches!(e, TrySendError::Full(())) { "full" } else { "closed" };
                tracing::warn!(
                    "EventSub webhook: answering a verification without passing it on: the channel is {why}"
                );
                None
            }
            Err(TrySendError::Full(())) => {
                tracing::warn!(
                    message_id = ?lookup(headers::MESSAGE_ID),
                    "EventSub webhook: the channel is full; answering 503 so that Twitch delivers again"
                );
                return status_only(StatusCode::SERVICE_UNAVAILABLE);
            }
            Err(TrySendError::Closed(())) => {
                tracing::warn!("EventSub webhook: the channel's receiver was dropped; answering 503");
                return status_only(StatusCode::SERVICE_UNAVAILABLE);
            }
        };
        match self.verifier.handle::<E>(lookup, body, now) {
            Ok((reply, WebhookMessage::Duplicate { message_id })) => {
                tracing::debug!(?message_id, "EventSub webhook: message already handled; acknowledged again");
                respond(reply)
            }
            Ok((reply, message)) => {
                if let Some(permit) = permit {
                    permit.send(message);
                }
                respond(reply)
            }
            Err(e) => {
                let reply = WebhookReply::for_error(&e);
                tracing::warn!(status = reply.status, error = %e, "EventSub webhook: request refused");
                respond(reply)
            }
        }
    }
}

fn status_only(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

fn respond(reply: WebhookReply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = status_only(status);
    if !reply.body.is_empty() {
        *response.body_mut() = Body::from(reply.body);
    }
    if let Some(content_type) = reply.content_type.and_then(|c| HeaderValue::from_str(c).ok()) {
        response.headers_mut().insert(header::CONTENT_TYPE, content_type);
    }
    response
}
