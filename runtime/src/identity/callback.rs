//! A one-shot HTTP listener on 127.0.0.1 that catches Twitch's redirect,
//! for desktop and command-line apps using the authorization code flow.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::base::error::{Error, Result};
use crate::identity::oauth::{OAuth, UserToken, random_state};

const PAGE: &str = "<!doctype html><title>Signed in</title><p>You are signed in; you can close this window.</p>";

/// Listens on `127.0.0.1:<port>` for the redirect to `path`.
#[derive(Debug)]
pub struct CallbackServer {
    listener: TcpListener,
    path: String,
    port: u16,
}

fn io(e: std::io::Error) -> Error {
    Error::Callback { source: e }
}

impl CallbackServer {
    /// Bind `127.0.0.1:port` (0 picks a free port; Twitch needs the exact
    /// redirect URI registered, so real apps use a fixed one such as 3000).
    pub async fn bind(port: u16, path: &str) -> Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(io)?;
        let port = listener.local_addr().map_err(io)?.port();
        let path = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
        Ok(Self { listener, path, port })
    }

    /// The redirect URI to register with Twitch and send in the authorize URL.
    pub fn redirect_uri(&self) -> String {
        format!("http://localhost:{}{}", self.port, self.path)
    }

    /// Wait for the browser to arrive at the redirect; returns its URL
    /// (path and query). Other paths (a favicon, say) get a 404.
    pub async fn wait(self, timeout: Duration) -> Result<String> {
        tokio::time::timeout(timeout, async {
            loop {
                let (mut sock, _) = self.listener.accept().await.map_err(io)?;
                let mut buf = Vec::with_capacity(1024);
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf);
                let target = head.lines().next().and_then(|l| l.split(' ').nth(1)).unwrap_or("").to_owned();
                let path = target.split('?').next().unwrap_or("");
                if path == self.path {
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{PAGE}",
                        PAGE.len()
                    );
                    let _ = sock.write_all(resp.as_bytes()).await;
                    let _ = sock.shutdown().await;
                    return Ok(target);
                }
                let _ = sock.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
            }
        })
        .await
        .map_err(|_| Error::LoginTimedOut { waited: timeout })?
    }
}

/// The whole authorization code login: builds the authorize URL (with a
/// fresh `state`), hands it to `open` (print it, or launch a browser), waits
/// for the redirect, checks `state` and exchanges the code.
pub async fn login(
    oauth: &OAuth,
    server: CallbackServer,
    scopes: &[impl AsRef<str>],
    timeout: Duration,
    open: impl FnOnce(&str),
) -> Result<UserToken> {
    let state = random_state();
    let redirect_uri = server.redirect_uri();
    open(&oauth.authorize_url(&redirect_uri, scopes, &state, false));
    let redirect = server.wait(timeout).await?;
    let code = OAuth::code_from_redirect(&redirect, &state)?;
    oauth.exchange_code(&code, &redirect_uri).await
}
