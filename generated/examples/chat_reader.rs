//! Read a channel's chat over an EventSub WebSocket session, for as long as
//! it runs: reconnects, lost connections and revocations are reported, not
//! fatal.
//!
//! ```text
//! TWITCH_CLIENT_ID=... TWITCH_USER_TOKEN=... TWITCH_CHANNEL=somechannel \
//!     cargo run -p twitch --example chat_reader
//! ```
//!
//! The user token needs `user:read:chat`. `TWITCH_CHANNEL` is a login (the
//! token's own channel if unset). The other variables are those of
//! `ClientBuilder::from_env`: to run it against `cargo run -p twitch-mock`,
//! set `TWITCH_HELIX_URL`, `TWITCH_AUTH_URL` and `TWITCH_EVENTSUB_WS_URL` to
//! the URLs it prints (and use its client id and user token), then
//! `twitch-mock trigger channel.chat.message`.

use twitch::eventsub::channel::ChannelChatMessageV1;
use twitch::websocket::SessionItem;
use twitch::{AccessToken, Client, Event, OAuth};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::main]
async fn main() -> Result<()> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let token = var("TWITCH_USER_TOKEN").ok_or("set TWITCH_USER_TOKEN (a user token with user:read:chat)")?;

    // Who the token belongs to: the reader is that user.
    let me = OAuth::from_env()?.validate(&AccessToken::new(token.clone())).await?;
    let my_id = me.user_id.ok_or("TWITCH_USER_TOKEN is not a user token")?;

    // The client id and the URLs from the environment; the token with its scopes.
    let client = Client::builder().from_env()?.user_token_with_scopes(token, me.scopes).build()?;

    let channel = match var("TWITCH_CHANNEL") {
        Some(login) => {
            let users = client.get_users().login(login.as_str()).send().await?;
            users.into_iter().next().ok_or(format!("no user `{login}`"))?.id
        }
        None => my_id.clone(),
    };

    let mut session = client
        .eventsub_websocket()
        .keepalive_timeout_seconds(30)
        .subscribe(ChannelChatMessageV1::new(channel.clone(), my_id))
        .connect()
        .await?;
    eprintln!("Reading chat of channel {channel} (session {}).", session.session_id().unwrap_or_default());

    while let Some(item) = session.next().await {
        match item {
            SessionItem::Notification(n) => match n.event {
                Event::ChannelChatMessageV1(m) => println!("{}: {}", m.chatter_user_name, m.message.text),
                other => eprintln!("(event {} v{})", other.subscription_type(), other.version()),
            },
            SessionItem::EventsMayBeLost(lost) => eprintln!("(connection lost: {}; reconnecting)", lost.reason),
            SessionItem::Recovered(r) => {
                eprintln!("(back as {}; {} subscriptions made again)", r.session_id, r.resubscribed);
                for f in r.failed {
                    eprintln!("(could not subscribe to {} again: {})", f.subscription_type, f.error);
                }
            }
            SessionItem::Revoked(r) => {
                eprintln!("(Twitch revoked the subscription: {:?})", r.status);
                break;
            }
            other => eprintln!("({other:?})"),
        }
    }
    Ok(())
}
