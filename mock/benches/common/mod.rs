//! What the mock's benches share: the mock as a child process, a bare
//! EventSub socket up to its welcome, one plain HTTP/1.1 request.

#![allow(dead_code)] // each bench uses a part

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};

use futures_util::StreamExt;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub const MOCK: &str = env!("CARGO_BIN_EXE_twitch-mock");

/// The mock's process, with what it printed at start; killed when dropped.
pub struct MockProcess {
    pub child: Child,
    _stdout: BufReader<ChildStdout>,
    pub url: String,
    pub ws_url: String,
    pub client_id: String,
    pub app_token: String,
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `twitch-mock --port 0 <extra>` and read its URLs, client id and
/// app token from what it prints.
pub fn spawn_mock(extra: &[&str]) -> Result<MockProcess, String> {
    let mut child = Command::new(MOCK)
        .args(["--port", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {MOCK}: {e}"))?;
    let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let (mut url, mut ws_url, mut client_id, mut app_token) = (None, None, None, None);
    let mut line = String::new();
    while app_token.is_none() || client_id.is_none() || ws_url.is_none() || url.is_none() {
        line.clear();
        if stdout.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            let _ = child.kill();
            return Err("the mock exited before printing its URLs".into());
        }
        let l = line.trim();
        let rest = |prefix: &str| l.strip_prefix(prefix).map(|r| r.trim().to_owned());
        if let Some(r) = rest("twitch-mock listening on") {
            url = Some(r);
        } else if let Some(r) = rest("eventsub") {
            ws_url = Some(r);
        } else if let Some(r) = rest("client id") {
            client_id = Some(r);
        } else if let Some(r) = rest("app token") {
            app_token = Some(r);
        }
    }
    Ok(MockProcess {
        child,
        _stdout: stdout,
        url: url.unwrap_or_default(),
        ws_url: ws_url.unwrap_or_default(),
        client_id: client_id.unwrap_or_default(),
        app_token: app_token.unwrap_or_default(),
    })
}

/// Open a socket to `ws_url` and read up to its welcome: the socket and
/// the session id.
pub async fn open_session(
    ws_url: &str,
    config: Option<WebSocketConfig>,
) -> Result<(WebSocketStream<TcpStream>, String), String> {
    let authority = ws_url.strip_prefix("ws://").and_then(|r| r.split('/').next()).ok_or("bad ws URL")?;
    let tcp = TcpStream::connect(authority).await.map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).ok();
    let (mut ws, _) =
        tokio_tungstenite::client_async_with_config(ws_url, tcp, config).await.map_err(|e| e.to_string())?;
    loop {
        match ws.next().await {
            Some(Ok(WsMessage::Text(t))) => {
                let v: Value = serde_json::from_str(&t).map_err(|e| e.to_string())?;
                let id = v["payload"]["session"]["id"].as_str().ok_or("no welcome")?.to_owned();
                return Ok((ws, id));
            }
            Some(Ok(_)) => {}
            other => return Err(format!("no welcome: {other:?}")),
        }
    }
}

/// One HTTP/1.1 request to the mock; the JSON answer of a 2xx.
pub async fn http(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Result<Value, String> {
    let authority = url.strip_prefix("http://").ok_or("bad mock URL")?.trim_end_matches('/');
    let mut stream = TcpStream::connect(authority).await.map_err(|e| e.to_string())?;
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        payload.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.map_err(|e| e.to_string())?;
    stream.write_all(payload.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("malformed HTTP answer")?;
    if !head.starts_with("HTTP/1.1 2") {
        return Err(format!("{method} {path}: {head} {body}"));
    }
    serde_json::from_str(body).map_err(|e| format!("{method} {path}: {e}: {body}"))
}
