//! A tour of the `twitch` crate as a real program: get an app token, log a
//! user in, look users up, walk paginated live streams, open an EventSub
//! WebSocket session, subscribe to chat, send a chat message and receive it
//! as an event, then shut down cleanly.
//!
//! ```text
//! cargo run -p twitch --example quickstart
//! ```
//!
//! By default Twitch is played by `twitch-mock`, started inside this program
//! on 127.0.0.1: no account, no network. With `TWITCH_CLIENT_ID` and
//! `TWITCH_CLIENT_SECRET` set it talks to the real Twitch; the user token
//! comes from `TWITCH_USER_TOKEN`, or from a device-code login it walks you
//! through (the app needs the scopes `user:read:chat user:write:chat`).

use std::error::Error;
use std::time::Duration;

use twitch::eventsub::channel::ChannelChatMessageV1;
use twitch::websocket::SessionItem;
use twitch::{AccessToken, Client, ClientSecret, Event, OAuth, TokenManager, UserToken};

type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// Scopes the tour needs from the user: read chat over EventSub, send chat.
const SCOPES: [&str; 2] = ["user:read:chat", "user:write:chat"];

/// How many live streams to walk at most.
const MAX_STREAMS: usize = 60;

/// Where the tour talks to.
pub enum Target {
    /// The local mock (the default).
    Mock,
    /// The real Twitch.
    Twitch {
        /// The application's client id.
        client_id: String,
        /// Its client secret.
        client_secret: String,
        /// A user token, if one is at hand (otherwise a device-code login).
        user_token: Option<String>,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let target = match (var("TWITCH_CLIENT_ID"), var("TWITCH_CLIENT_SECRET")) {
        (Some(client_id), Some(client_secret)) => {
            Target::Twitch { client_id, client_secret, user_token: var("TWITCH_USER_TOKEN") }
        }
        _ => Target::Mock,
    };
    run(target).await
}

/// The whole tour; the test suite runs it against the mock.
pub async fn run(target: Target) -> Result<()> {
    // 0. Where Twitch is.
    let (mock, client_id, secret, user_token) = match target {
        Target::Mock => {
            let mock = twitch_mock::Mock::builder()
                .authorize_as("141981764", "twitchdev", None)
                .device_flow(1, 1)
                .page_items(45)
                .start()
                .await?;
            println!("Twitch is played by twitch-mock at {} (set TWITCH_CLIENT_ID and", mock.url());
            println!("TWITCH_CLIENT_SECRET to use the real one).");
            let id = mock.client_id();
            (Some(mock), id, "mock-secret".to_owned(), None)
        }
        Target::Twitch { client_id, client_secret, user_token } => {
            println!("TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET are set: talking to the real Twitch.");
            (None, client_id, client_secret, user_token)
        }
    };
    let mut oauth = OAuth::new(client_id.clone(), Some(ClientSecret::new(secret)));
    if let Some(m) = &mock {
        oauth = oauth.auth_url(m.auth_url());
    }

    // 1. An app token (client credentials).
    section("An app token");
    let app = oauth.client_credentials().await?;
    println!("Got an app token; its Debug output hides it: {:?}", app.access_token);

    // 2. A user token: from the environment, or a device-code login.
    section("A user token");
    let user = match user_token {
        Some(token) => {
            let token = AccessToken::new(token);
            let v = oauth.validate(&token).await?;
            println!("TWITCH_USER_TOKEN belongs to {} with scopes {:?}.", v.login.as_deref().unwrap_or("?"), v.scopes);
            UserToken::new(token.secret().to_owned(), v.user_id.unwrap_or_default(), v.login.unwrap_or_default())
                .with_scopes(v.scopes)
        }
        None => {
            let device = oauth.device_start(&SCOPES).await?;
            println!("Open {} and enter the code {}.", device.verification_uri, device.user_code);
            if mock.is_some() {
                println!("(The mock approves it by itself after one poll.)");
            }
            let user = oauth.device_poll(&device).await?;
            println!("Logged in as {} (id {}), scopes {:?}.", user.login, user.user_id, user.scopes);
            user
        }
    };
    let me = user.user_id.clone();

    // 3. One client with both tokens: the manager picks the right one per
    //    endpoint and refreshes them before they expire.
    let manager = TokenManager::new(oauth);
    manager.set_app_token(app).await;
    manager.add_user(user).await?;
    manager.set_default_user(me.clone());
    let mut builder = Client::builder().client_id(client_id).token_manager(manager);
    if let Some(m) = &mock {
        builder = builder.helix_url(m.helix_url()).auth_url(m.auth_url()).eventsub_ws_url(m.ws_url());
    }
    let client = builder.build()?;

    // 4. A plain request: required parameters are arguments, optional ones setters.
    section("Looking users up");
    for u in client.get_users().id(me.clone()).login("twitchdev").send().await? {
        println!("{} (login `{}`, id {}), on Twitch since {}.", u.display_name, u.login, u.id, u.created_at);
    }

    // 5. Pagination: one item at a time; pages are fetched as needed.
    section("Walking live streams, 20 per page");
    let mut live = client.get_streams().first(20).paginate();
    let mut seen = 0;
    while let Some(stream) = live.try_next().await? {
        seen += 1;
        if seen <= 3 {
            println!(
                "  stream {}: {} plays {} for {} viewers",
                stream.id, stream.user_name, stream.game_name, stream.viewer_count
            );
        }
        if seen == MAX_STREAMS {
            break;
        }
    }
    println!("  ... {seen} streams on {} pages.", live.pages_fetched());

    // 6. Documented limits are checked before anything goes on the wire.
    section("Breaking a documented limit");
    match client.get_users().ids((0..101).map(|i| i.to_string())).send().await {
        Err(twitch::Error::InvalidRequest { endpoint, source }) => {
            println!("Refused before sending: {endpoint}: {source}")
        }
        other => return Err(format!("expected Error::InvalidRequest, got {other:?}").into()),
    }

    // 7. EventSub over WebSocket: connect, and subscribe within the welcome window.
    section("Chat over EventSub");
    let mut session =
        client.eventsub_websocket().subscribe(ChannelChatMessageV1::new(me.clone(), me.clone())).connect().await?;
    println!("Session {} is subscribed to channel.chat.message.", session.session_id().unwrap_or_default());

    // 8. Say something, and hear it back as an event.
    let text = "Hello from the twitch quickstart!";
    let sent = client.send_chat_message(me.clone(), me.clone(), text).send().await?;
    println!("Sent: {} (posted: {})", sent.message_id, sent.is_sent);
    let heard = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(item) = session.next().await {
            match item {
                SessionItem::Notification(n) => match n.event {
                    Event::ChannelChatMessageV1(m) if m.message.text == text => return Ok(m),
                    other => println!("  (another event: {} v{})", other.subscription_type(), other.version()),
                },
                SessionItem::EventsMayBeLost(lost) => println!("  connection lost: {}; reconnecting", lost.reason),
                SessionItem::Recovered(r) => println!("  reconnected as {}", r.session_id),
                other => println!("  {other:?}"),
            }
        }
        Err("the session ended")
    })
    .await
    .map_err(|_| "no chat message within 30 s")??;
    println!("Heard: {}: {}", heard.chatter_user_name, heard.message.text);

    // 9. Shut down: close the session (its stream then ends) and the mock.
    section("Done");
    session.close().await;
    while session.next().await.is_some() {}
    println!("The session is closed.");
    if let Some(m) = mock {
        m.shutdown();
        println!("The mock has shut down.");
    }
    Ok(())
}

fn section(title: &str) {
    println!("\n== {title} ==");
}
