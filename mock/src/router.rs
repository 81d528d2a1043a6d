//! The HTTP/1.1 server (hyper) and the one router: by path prefix to the
//! area that answers (`/helix`, `/oauth2`, `/ws`, `/control` for the mock's
//! own control API), and the Twitch CLI's layout over the same areas
//! (`/mock` for Helix, `/auth` for the identity service, `/units`,
//! `/eventsub` for Helix's EventSub endpoints as the CLI's WebSocket server
//! serves them). The areas share state through [`Shared`] and never call
//! each other.

use std::sync::Arc;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::state::Shared;
use crate::wire::{MAX_BODY, Outcome, Req, Resp};

/// The error hyper sees when a fault drops a connection.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

/// Accept connections until the task is aborted (which closes them all).
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, Arc::clone(&shared)));
                }
                // E.g. too many open files: wait a little rather than spin.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |req| {
        let shared = Arc::clone(&shared);
        async move { route(shared, req).await }
    });
    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).with_upgrades().await;
}

async fn route(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Dropped> {
    let path = req.uri().path().to_owned();
    if path == "/ws" || path == "/ws/" {
        return Ok(to_hyper(crate::ws::upgrade(shared, req)));
    }
    let method = req.method().as_str().to_owned();
    let query = crate::util::parse_pairs(req.uri().query().unwrap_or(""));
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => return Ok(to_hyper(Resp::error(413, "The request body is too large"))),
    };
    let req = Req { method, path, query, headers: parts.headers, body };
    let path = req.path.clone();
    let outcome = if let Some(rest) = prefixed(&path, "/helix").or_else(|| prefixed(&path, "/mock")) {
        crate::helix::handle(&shared, &req, rest).await
    } else if path == "/eventsub" || path.starts_with("/eventsub/") {
        // The CLI's WebSocket server takes subscriptions at the root.
        crate::helix::handle(&shared, &req, &path).await
    } else if let Some(rest) = prefixed(&path, "/oauth2").or_else(|| prefixed(&path, "/auth")) {
        match (req.method.as_str(), rest) {
            // OpenID Connect's own endpoints.
            ("GET", "/keys" | "/userinfo" | "/.well-known/openid-configuration") => {
                crate::oidc::handle(&shared, &req, rest).into()
            }
            _ => crate::oauth::handle(&shared, &req, rest).into(),
        }
    } else if let Some(rest) = prefixed(&path, "/units") {
        crate::helix::units(&shared, &req, rest).into()
    } else if path == "/dashboard" || path == "/dashboard/" {
        crate::control::page().into()
    } else if let Some(rest) = prefixed(&path, "/control") {
        crate::control::handle(&shared, &req, rest).into()
    } else if path == "/" {
        let url = shared.url();
        Resp::json(
            200,
            &json!({
                "helix": format!("{url}/helix"),
                "oauth2": format!("{url}/oauth2"),
                "eventsub_websocket": format!("ws://{}/ws", shared.addr),
                "control": format!("{url}/control"),
                "dashboard": format!("{url}/dashboard"),
                "twitch_cli": {"mock": format!("{url}/mock"), "auth": format!("{url}/auth"),
                    "units": format!("{url}/units"), "eventsub": format!("{url}/eventsub/subscriptions")},
            }),
        )
        .into()
    } else {
        Resp::error(404, "Not Found").into()
    };
    match outcome {
        Outcome::Answer(r) => Ok(to_hyper(r)),
        Outcome::Drop => Err(Dropped),
    }
}

/// What follows `prefix` when the path is `prefix` or `prefix/...`.
fn prefixed<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    path.strip_prefix(prefix).filter(|rest| rest.is_empty() || rest.starts_with('/'))
}

fn to_hyper(r: Resp) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(r.status);
    for (k, v) in &r.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder.body(Full::new(Bytes::from(r.body))).unwrap_or_else(|_| {
        let mut resp = Response::new(Full::new(Bytes::from_static(b"internal error")));
        *resp.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        resp
    })
}
