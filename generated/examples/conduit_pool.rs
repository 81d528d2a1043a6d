//! Receive EventSub notifications through a conduit, with this process
//! running some (or all) of its WebSocket shards.
//!
//! ```text
//! TWITCH_CLIENT_ID=... TWITCH_CLIENT_SECRET=... TWITCH_BROADCASTER_ID=... \
//!     cargo run -p twitch --example conduit_pool
//! ```
//!
//! Without `TWITCH_CONDUIT_ID` it creates a conduit of `TWITCH_SHARD_COUNT`
//! shards (default 4) and subscribes it to `stream.online` and
//! `stream.offline` for the broadcaster. `TWITCH_SHARDS=0-1` makes this
//! process run shards 0 and 1 only: start one process per range to spread a
//! conduit over machines (see the README's "Conduits" section).
//! `TWITCH_CLAIM=2` makes it claim two shards that are not enabled instead
//! (from the `TWITCH_SHARDS` range if set): start as many processes as you
//! like, with no assignment. The `TWITCH_*_URL` variables point it at
//! `twitch-mock`, as in `chat_reader`.

use twitch::eventsub::stream::{StreamOfflineV1, StreamOnlineV1};
use twitch::websocket::SessionItem;
use twitch::{AnySubscription, Client, OAuth, Transport};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::main]
async fn main() -> Result<()> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    // Conduits belong to the application: an app token, from the client
    // id and secret in the environment.
    if var("TWITCH_CLIENT_SECRET").is_none() {
        return Err("set TWITCH_CLIENT_SECRET: conduits need an app token".into());
    }
    let app = OAuth::from_env()?.client_credentials().await?;
    let client = Client::builder().from_env()?.app_token(app.access_token.secret()).build()?;

    let shard_count: u16 = var("TWITCH_SHARD_COUNT").map(|n| n.parse()).transpose()?.unwrap_or(4);
    let conduit_id = match var("TWITCH_CONDUIT_ID") {
        Some(id) => twitch::ConduitId::from(id),
        None => {
            let id = client.create_conduits(shard_count).send().await?.id;
            eprintln!("Created conduit {id} with {shard_count} shards.");
            if let Some(broadcaster) = var("TWITCH_BROADCASTER_ID") {
                let subs = [
                    AnySubscription::from(StreamOnlineV1::new(broadcaster.as_str())),
                    StreamOfflineV1::new(broadcaster.as_str()).into(),
                ];
                let done = client.subscribe_all(Transport::conduit(&id), subs).await;
                for (sub, _) in &done.created {
                    eprintln!("Subscribed the conduit to {} for {broadcaster}.", sub.subscription_type);
                }
                for (sub, e) in &done.failed {
                    eprintln!("Could not subscribe to {}: {e}", sub.subscription_type);
                }
            }
            id
        }
    };

    // Which shard ids this process runs: `2-3`, `5`, or all of them.
    let range: Option<(u32, u32)> = match var("TWITCH_SHARDS") {
        Some(range) => Some(match range.split_once('-') {
            Some((a, b)) => (a.parse()?, b.parse()?),
            None => (range.parse()?, range.parse()?),
        }),
        None => None,
    };
    let builder = client.shard_pool(conduit_id.clone());
    let mut pool = match var("TWITCH_CLAIM") {
        Some(count) => {
            let builder = builder.claim(count.parse()?);
            match range {
                Some((a, b)) => builder.claim_range(a..=b),
                None => builder,
            }
            .start()
            .await?
        }
        None => {
            let (a, b) = range.unwrap_or((0, u32::from(shard_count) - 1));
            builder.shards(a..=b).start().await?
        }
    };
    eprintln!("Running shards {:?} of conduit {conduit_id}.", pool.shard_ids());

    while let Some(item) = pool.next().await {
        match item {
            SessionItem::Notification(n) => {
                println!("shard {:?}: {} v{}: {:?}", n.shard, n.event.subscription_type(), n.event.version(), n.event)
            }
            SessionItem::EventsMayBeLost(lost) => {
                eprintln!("shard {:?} lost its connection: {}", lost.shard, lost.reason)
            }
            SessionItem::Recovered(r) => eprintln!("shard {:?} is attached again as {}", r.shard, r.session_id),
            SessionItem::ShardReleased(r) => eprintln!("let shard {} go: {:?}", r.shard, r.reason),
            SessionItem::ShardClaimed(c) => eprintln!("claimed shard {} on {}", c.shard, c.session_id),
            SessionItem::Error(e) => eprintln!("error: {e}"),
            other => eprintln!("{other:?}"),
        }
    }
    Ok(())
}
