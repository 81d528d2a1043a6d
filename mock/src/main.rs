//! `twitch-mock`: run the mock, or drive a running one through its control API.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Map, Value, json};

const USAGE: &str = "\
twitch-mock: a local Twitch (Helix, OAuth, EventSub WebSocket) for development and tests.
It serves /helix, /oauth2, /ws, the Twitch CLI's /mock, /auth, /units and /eventsub,
a dashboard at /dashboard, and the control API at /control that the subcommands call.

USAGE:
    twitch-mock [OPTIONS]                 run the server
    twitch-mock trigger <type> [--version V] [--session ID] [--subscription ID] [--condition KEY=VALUE]... [--count N]
    twitch-mock chat --broadcaster ID --chatter ID [--login LOGIN] [--badge SET/ID[/INFO]]... [--reply MESSAGE_ID] [--message-id ID] <text>...
    twitch-mock reconnect [--session ID]
    twitch-mock revoke <subscription-id> [--status STATUS]
    twitch-mock close <code> [--session ID]
    twitch-mock fault [--latency-ms N] [--status S [--count N]] [--expire-tokens] [--drop N] [--clear]
    twitch-mock sessions
    twitch-mock token [app|user] [--client-id ID] [--user-id ID] [--login LOGIN] [--scopes a,b,...]
    twitch-mock grant --user-id ID --scopes a,b,... [--client-id ID]
                                          the user authorizes the app (what app tokens may do for them)
    twitch-mock power-up add --broadcaster ID --title T [--bits N] [--prompt P] [--max-per-stream N]
                             [--max-per-user-per-stream N] [--cooldown-secs S]
    twitch-mock power-up redeem --broadcaster ID --id POWER_UP_ID --user-id ID [--input TEXT]
                                          a viewer redeems it: channel.custom_power_up_redemption.add
                                          and channel.bits.use go out

SERVER OPTIONS:
    --port P                  port to listen on (default 8080; 0 picks a free one)
    --host H                  address to listen on (default 127.0.0.1)
    --bucket N                rate-limit bucket size (default 800)
    --refill-secs S           seconds to refill an empty bucket (default 60)
    --page-items N            items in each paginated data set (default 120)
    --keepalive S             default keepalive_timeout_seconds (default 10)
    --welcome-window S        seconds to subscribe before close code 4003 (default 10)
    --reconnect-grace S       seconds to take a reconnect URL before close code 4004 (default 30)
    --old-connection-grace S  seconds the old connection stays open once a reconnect was taken,
                              then close code 4004 unless the client closed it (default 5; 0.5 works)
    --client-id ID --client-secret S
                              accept only this client (repeat for more; default: any)
    --user-id ID --login L    the user OAuth logins act as (default 141981764 twitchdev)
    --scopes a,b,...          scopes OAuth grants (default: what the app asks for)
    --device-pending N        device-code polls answered authorization_pending (default 0)
    --deliver-webhooks        post the verification challenge, notifications and revocations
                              to webhook subscriptions' callbacks, signed (default: store only)

CONTROL OPTIONS:
    --url URL                 the running mock (default http://127.0.0.1:8080)

    -h, --help                print this help
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("twitch-mock: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(args));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("twitch-mock: {e}\n\nSee twitch-mock --help.");
            ExitCode::from(2)
        }
    }
}

/// Command-line arguments: positionals and `--flag value` pairs (repeatable).
struct Args {
    positional: Vec<String>,
    flags: Vec<(String, Option<String>)>,
}

/// Flags that take no value.
const SWITCHES: &[&str] = &["--expire-tokens", "--clear", "--deliver-webhooks"];

impl Args {
    fn parse(args: Vec<String>) -> Result<Self, String> {
        let (mut positional, mut flags) = (Vec::new(), Vec::new());
        let mut it = args.into_iter();
        while let Some(a) = it.next() {
            if let Some((k, v)) = a.split_once('=').filter(|_| a.starts_with("--")) {
                flags.push((k.to_owned(), Some(v.to_owned())));
            } else if SWITCHES.contains(&a.as_str()) {
                flags.push((a, None));
            } else if a.starts_with("--") {
                let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
                flags.push((a, Some(v)));
            } else {
                positional.push(a);
            }
        }
        Ok(Self { positional, flags })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.flags.iter().rev().find(|(k, _)| k == name).and_then(|(_, v)| v.as_deref())
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.flags.iter().filter(|(k, _)| k == name).filter_map(|(_, v)| v.as_deref()).collect()
    }

    fn has(&self, name: &str) -> bool {
        self.flags.iter().any(|(k, _)| k == name)
    }

    fn num<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, String> {
        self.get(name).map(|v| v.parse().map_err(|_| format!("{name}: not a number: {v}"))).transpose()
    }

    /// Fail on flags a command does not know.
    fn only(&self, known: &[&str]) -> Result<(), String> {
        match self.flags.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            Some((k, _)) => Err(format!("unknown option {k}")),
            None => Ok(()),
        }
    }
}

async fn run(args: Vec<String>) -> Result<ExitCode, String> {
    let args = Args::parse(args)?;
    let command = args.positional.first().map(String::as_str).unwrap_or("serve");
    let url = args.get("--url").unwrap_or("http://127.0.0.1:8080").to_owned();
    let s = |k: &str| args.get(k).map(|v| json!(v)).unwrap_or(Value::Null);
    let (method, path, body) = match command {
        "serve" => return serve(&args).await,
        "trigger" => {
            args.only(&["--url", "--version", "--session", "--subscription", "--condition", "--count"])?;
            let sub_type = args.positional.get(1).ok_or("trigger needs a subscription type")?;
            let mut condition = Map::new();
            for c in args.all("--condition") {
                let (k, v) = c.split_once('=').ok_or_else(|| format!("--condition {c}: expected KEY=VALUE"))?;
                condition.insert(k.to_owned(), json!(v));
            }
            let body = json!({"type": sub_type, "version": s("--version"), "session_id": s("--session"),
                "subscription_id": s("--subscription"), "condition": condition, "count": args.num::<u64>("--count")?});
            ("POST", "/control/trigger", body)
        }
        "chat" => {
            args.only(&["--url", "--broadcaster", "--chatter", "--login", "--badge", "--reply", "--message-id"])?;
            let broadcaster = args.get("--broadcaster").ok_or("chat needs --broadcaster ID")?;
            let chatter = args.get("--chatter").ok_or("chat needs --chatter ID")?;
            let text = args.positional[1..].join(" ");
            if text.trim().is_empty() {
                return Err("chat needs the message text".into());
            }
            let mut badges = Vec::new();
            for b in args.all("--badge") {
                let mut parts = b.splitn(3, '/');
                let (Some(set_id), Some(id)) = (parts.next(), parts.next().filter(|id| !id.is_empty())) else {
                    return Err(format!("--badge {b}: expected SET/ID or SET/ID/INFO"));
                };
                if set_id.is_empty() {
                    return Err(format!("--badge {b}: expected SET/ID or SET/ID/INFO"));
                }
                badges.push(json!({"set_id": set_id, "id": id, "info": parts.next().unwrap_or("")}));
            }
            let body = json!({"broadcaster_id": broadcaster, "chatter_id": chatter, "chatter_login": s("--login"),
                "text": text, "badges": badges, "reply_parent_message_id": s("--reply"), "message_id": s("--message-id")});
            ("POST", "/control/chat", body)
        }
        "reconnect" => {
            args.only(&["--url", "--session"])?;
            ("POST", "/control/reconnect", json!({"session_id": s("--session")}))
        }
        "revoke" => {
            args.only(&["--url", "--status"])?;
            let id = args.positional.get(1).ok_or("revoke needs a subscription id")?;
            ("POST", "/control/revoke", json!({"subscription_id": id, "status": s("--status")}))
        }
        "close" => {
            args.only(&["--url", "--session"])?;
            let code: u16 = args.positional.get(1).and_then(|c| c.parse().ok()).ok_or("close needs a close code")?;
            ("POST", "/control/close", json!({"code": code, "session_id": s("--session")}))
        }
        "fault" => {
            args.only(&["--url", "--latency-ms", "--status", "--count", "--expire-tokens", "--drop", "--clear"])?;
            if args.has("--clear") {
                ("DELETE", "/control/faults", json!({}))
            } else {
                let body = json!({
                    "latency_ms": args.num::<u64>("--latency-ms")?,
                    "status": args.num::<u16>("--status")?,
                    "count": args.num::<u32>("--count")?,
                    "expire_tokens": args.has("--expire-tokens"),
                    "drop": args.num::<u32>("--drop")?,
                });
                ("POST", "/control/faults", body)
            }
        }
        "sessions" => {
            args.only(&["--url"])?;
            ("GET", "/control/sessions", Value::Null)
        }
        "token" => {
            args.only(&["--url", "--client-id", "--user-id", "--login", "--scopes"])?;
            let kind = args.positional.get(1).map(String::as_str).unwrap_or("user");
            let scopes: Vec<&str> =
                args.get("--scopes").map(|s| s.split(',').filter(|s| !s.is_empty()).collect()).unwrap_or_default();
            let body = json!({"kind": kind, "client_id": s("--client-id"), "user_id": s("--user-id"),
                "login": s("--login"), "scopes": scopes});
            ("POST", "/control/tokens", body)
        }
        "grant" => {
            args.only(&["--url", "--client-id", "--user-id", "--scopes"])?;
            let user = args.get("--user-id").ok_or("grant needs --user-id ID")?;
            let scopes = args.get("--scopes").ok_or("grant needs --scopes a,b,...")?;
            ("POST", "/control/grants", json!({"user_id": user, "scopes": scopes, "client_id": s("--client-id")}))
        }
        "power-up" => match args.positional.get(1).map(String::as_str) {
            Some("add") => {
                args.only(&[
                    "--url",
                    "--broadcaster",
                    "--title",
                    "--bits",
                    "--prompt",
                    "--max-per-stream",
                    "--max-per-user-per-stream",
                    "--cooldown-secs",
                ])?;
                let broadcaster = args.get("--broadcaster").ok_or("power-up add needs --broadcaster ID")?;
                let title = args.get("--title").ok_or("power-up add needs --title T")?;
                let body = json!({"broadcaster_id": broadcaster, "title": title, "bits": args.num::<u64>("--bits")?,
                    "prompt": s("--prompt"), "max_per_stream": args.num::<u64>("--max-per-stream")?,
                    "max_per_user_per_stream": args.num::<u64>("--max-per-user-per-stream")?,
                    "global_cooldown_seconds": args.num::<u64>("--cooldown-secs")?});
                ("POST", "/control/power_ups", body)
            }
            Some("redeem") => {
                args.only(&["--url", "--broadcaster", "--id", "--user-id", "--input"])?;
                let broadcaster = args.get("--broadcaster").ok_or("power-up redeem needs --broadcaster ID")?;
                let id = args.get("--id").ok_or("power-up redeem needs --id POWER_UP_ID")?;
                let user = args.get("--user-id").ok_or("power-up redeem needs --user-id ID")?;
                let body = json!({"broadcaster_id": broadcaster, "power_up_id": id, "user_id": user,
                    "user_input": s("--input")});
                ("POST", "/control/power_ups/redemptions", body)
            }
            _ => return Err("power-up needs add or redeem".into()),
        },
        other => return Err(format!("unknown command {other}")),
    };
    let (status, text) = request(&url, method, path, &body).await?;
    println!("{text}");
    Ok(if (200..300).contains(&status) { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Every scope the schema mentions, for the printed user token.
fn all_scopes() -> Vec<&'static str> {
    let mut set = BTreeSet::new();
    for e in twitch::meta::endpoints() {
        set.extend(e.scopes.iter().flat_map(|g| g.iter().copied()));
    }
    for s in twitch::meta::subscriptions() {
        set.extend(s.scopes.iter().flat_map(|g| g.iter().copied()));
    }
    set.into_iter().collect()
}

async fn serve(args: &Args) -> Result<ExitCode, String> {
    args.only(&[
        "--port",
        "--host",
        "--bucket",
        "--refill-secs",
        "--page-items",
        "--keepalive",
        "--welcome-window",
        "--reconnect-grace",
        "--old-connection-grace",
        "--client-id",
        "--client-secret",
        "--user-id",
        "--login",
        "--scopes",
        "--device-pending",
        "--deliver-webhooks",
    ])?;
    let mut mock = twitch_mock::Mock::builder().port(args.num("--port")?.unwrap_or(8080));
    if let Some(h) = args.get("--host") {
        mock = mock.host(h.parse().map_err(|_| format!("--host: not an IP address: {h}"))?);
    }
    let bucket = args.num("--bucket")?.unwrap_or(800);
    let refill = args.num("--refill-secs")?.unwrap_or(60u64);
    mock = mock.bucket(bucket, Duration::from_secs(refill.max(1)));
    if let Some(n) = args.num("--page-items")? {
        mock = mock.page_items(n);
    }
    if let Some(s) = args.num("--keepalive")? {
        mock = mock.keepalive(Duration::from_secs(s));
    }
    if let Some(s) = args.num("--welcome-window")? {
        mock = mock.welcome_window(Duration::from_secs(s));
    }
    if let Some(s) = args.num("--reconnect-grace")? {
        mock = mock.reconnect_grace(Duration::from_secs(s));
    }
    if let Some(s) = args.num::<f64>("--old-connection-grace")? {
        let grace =
            Duration::try_from_secs_f64(s).map_err(|_| format!("--old-connection-grace: not a duration: {s}"))?;
        mock = mock.old_connection_grace(grace);
    }
    let (ids, secrets) = (args.all("--client-id"), args.all("--client-secret"));
    if ids.len() != secrets.len() {
        return Err("every --client-id needs a --client-secret".into());
    }
    mock = mock.clients(ids.into_iter().zip(secrets));
    if args.get("--user-id").is_some() || args.get("--login").is_some() || args.get("--scopes").is_some() {
        let scopes = args.get("--scopes").map(|s| s.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect());
        mock = mock.authorize_as(
            args.get("--user-id").unwrap_or("141981764"),
            args.get("--login").unwrap_or("twitchdev"),
            scopes,
        );
    }
    if let Some(n) = args.num("--device-pending")? {
        mock = mock.device_flow(n, 5);
    }
    mock = mock.deliver_webhooks(args.has("--deliver-webhooks"));
    let mut server = mock.start().await.map_err(|e| format!("cannot listen: {e}"))?;
    let client_id = server.client_id();
    let app = server.mint_app_token(&client_id);
    let user = server.mint_user_token(
        args.get("--user-id").unwrap_or("141981764"),
        args.get("--login").unwrap_or("twitchdev"),
        &all_scopes(),
    );
    println!("twitch-mock listening on {}", server.url());
    println!("  helix      {}", server.helix_url());
    println!("  oauth2     {}", server.auth_url());
    println!("  eventsub   {}", server.ws_url());
    println!("  control    {}/control (see --help)", server.url());
    println!("  dashboard  {}/dashboard", server.url());
    println!("  twitch cli {0}/mock, {0}/auth, {0}/units, {0}/eventsub/subscriptions", server.url());
    println!("  client id  {client_id}");
    println!("  app token  {app}");
    println!("  user token {user} (every scope)");
    server.wait().await;
    Ok(ExitCode::SUCCESS)
}

/// One request to the mock's control API. Returns the status and the body.
async fn request(url: &str, method: &str, path: &str, body: &Value) -> Result<(u16, String), String> {
    let base = url.trim_end_matches('/');
    if !base.starts_with("http://") && !base.starts_with("https://") {
        return Err(format!("--url must start with http:// ({url})"));
    }
    let http = twitch_runtime::tls::http_client(Duration::from_secs(30), Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    let mut req = http.request(method, format!("{base}{path}"));
    if !body.is_null() {
        req = req.header("Content-Type", "application/json").body(body.to_string());
    }
    let resp = req.send().await.map_err(|e| format!("cannot reach the mock at {base}: {e}"))?;
    let status = resp.status().as_u16();
    let text = resp.text().await.map_err(|e| e.to_string())?;
    Ok((status, text))
}
