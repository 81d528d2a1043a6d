//! Opening a WebSocket: TCP, TLS for `wss://` (rustls with the platform's
//! verifier, like the HTTP client), then the handshake.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::base::error::{Error, Result};

/// Any byte stream a WebSocket runs over.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub(crate) type Ws = WebSocketStream<Box<dyn Io>>;

/// Socket limits. Small read and write buffers keep an idle connection
/// cheap (Twitch's messages are a few KiB); `max_message` bounds what one
/// message may cost.
pub(crate) fn ws_config(max_message: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(64 * 1024)
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message))
}

fn ws_error(url: &str, what: impl std::fmt::Display) -> Error {
    Error::EventSub(super::EventSubError::Connect { url: url.to_owned(), message: what.to_string() })
}

/// Connect and complete the handshake, within `timeout`.
pub(crate) async fn open(url: &str, timeout: Duration, max_message: usize) -> Result<Ws> {
    tokio::time::timeout(timeout, open_inner(url, max_message)).await.map_err(|_| ws_error(url, "timed out"))?
}

async fn open_inner(url: &str, max_message: usize) -> Result<Ws> {
    let parsed = url::Url::parse(url).map_err(|e| ws_error(url, e))?;
    let secure = match parsed.scheme() {
        "wss" => true,
        "ws" => false,
        _ => return Err(ws_error(url, "not a ws:// or wss:// URL")),
    };
    // `url` knows the default ports of ws (80) and wss (443).
    let port = parsed.port_or_known_default().ok_or_else(|| ws_error(url, "no port"))?;
    let host = match parsed.host() {
        Some(url::Host::Domain(d)) => d.to_owned(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(ws_error(url, "no host")),
    };
    let host = host.as_str();
    let tcp = TcpStream::connect((host, port)).await.map_err(|e| ws_error(url, e))?;
    tcp.set_nodelay(true).ok();
    let io: Box<dyn Io> = if secure {
        let name = rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|e| ws_error(url, e))?;
        let tls = tokio_rustls::TlsConnector::from(crate::http::tls::websocket_config()?)
            .connect(name, tcp)
            .await
            .map_err(|e| ws_error(url, e))?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, io, Some(ws_config(max_message)))
        .await
        .map_err(|e| ws_error(url, e))?;
    Ok(ws)
}
