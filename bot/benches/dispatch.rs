//! The bot against the in-process mock, beside a hand-written loop over a
//! session (the `match` a user writes without the bot layer), in the same
//! run:
//!
//! - commands dispatched per second: chat lines delivered as fast as the
//!   mock sends them, to a command that counts;
//! - latency from a chat notification to the reply leaving: one `!ping` at
//!   a time, from the mock sending the notification to the mock receiving
//!   the Send Chat Message request;
//! - the dispatch alone, without a network: decoded events from a channel
//!   into the bot (`events_from`) or into the same hand-written `match`.
//!
//! `cargo bench -p twitch-bot --bench dispatch` (BOT_BENCH_LINES and
//! BOT_BENCH_PINGS set the sizes).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use twitch::eventsub::channel::ChannelChatMessageV1;
use twitch::websocket::SessionItem;
use twitch::{Client, Event};
use twitch_bot::{Bot, Command, Context, SendLimits};
use twitch_mock::{ChatLine, Mock, MockServer};

const BOT: &str = "100";
const CHANNEL: &str = "300";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn client(mock: &MockServer) -> Client {
    let token = mock.mint_user_token(BOT, "botty", &["user:read:chat", "user:write:chat"]);
    mock.client_builder().user_token(token).build().unwrap()
}

async fn mock() -> MockServer {
    // No chat limit in the way: this measures the bot, not the queue.
    Mock::builder().chat_limits(1_000_000, 1_000_000, Duration::from_secs(1)).start().await.unwrap()
}

/// Deliver `n` lines and wait until `seen` counts them all.
async fn flood(mock: &MockServer, n: usize, seen: &AtomicUsize) -> Duration {
    let start = Instant::now();
    for i in 0..n {
        mock.chat(ChatLine::new(CHANNEL, "200", "viewer", format!("!count {i}"))).unwrap();
    }
    while seen.load(Ordering::SeqCst) < n {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    start.elapsed()
}

/// Send `n` pings one after the other; the time from each notification to
/// its reply reaching the mock.
async fn pings(mock: &MockServer, n: usize) -> Vec<Duration> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let before = mock.chat_log().len();
        let start = Instant::now();
        mock.chat(ChatLine::new(CHANNEL, "200", "viewer", format!("!ping {i}"))).unwrap();
        while mock.chat_log().len() == before {
            tokio::task::yield_now().await;
        }
        out.push(start.elapsed());
    }
    out
}

fn summary(name: &str, lines: usize, flood: Duration, mut latencies: Vec<Duration>) {
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "{name:<28} {:>10.0} commands/s   ping→reply median {:>7.0} µs   p95 {:>7.0} µs",
        lines as f64 / flood.as_secs_f64(),
        at(0.5).as_secs_f64() * 1e6,
        at(0.95).as_secs_f64() * 1e6,
    );
}

async fn with_the_bot(lines: usize, n_pings: usize) {
    let mock = mock().await;
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let bot = Bot::builder(client(&mock), BOT)
        .channel(CHANNEL)
        .reply_on_bad_arguments(false)
        .send_limits(SendLimits { normal: 1_000_000, elevated: 1_000_000, window: Duration::from_secs(1) })
        .command(Command::new("count", move |_: Context, _n: u64| {
            s.fetch_add(1, Ordering::SeqCst);
            async {}
        }))
        .command(Command::new("ping", |ctx: Context, n: u64| async move {
            ctx.reply(format!("pong {n}")).await.map(|_| ())
        }))
        .start()
        .await
        .unwrap();
    let took = flood(&mock, lines, &seen).await;
    let latencies = pings(&mock, n_pings).await;
    summary("twitch-bot", lines, took, latencies);
    bot.shutdown(Duration::from_secs(5)).await;
}

/// What a user writes without the bot layer: a session, a `match`, a
/// prefix test, `send_chat_message` in a task.
async fn by_hand(lines: usize, n_pings: usize) {
    let mock = mock().await;
    let client = client(&mock);
    let mut session =
        client.eventsub_websocket().subscribe(ChannelChatMessageV1::new(CHANNEL, BOT)).connect().await.unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let reader = tokio::spawn(async move {
        while let Some(item) = session.next().await {
            let SessionItem::Notification(n) = item else { continue };
            let Event::ChannelChatMessageV1(m) = n.event else { continue };
            let text = m.message.text.as_str();
            if let Some(rest) = text.strip_prefix("!count ") {
                if rest.parse::<u64>().is_ok() {
                    s.fetch_add(1, Ordering::SeqCst);
                }
            } else if let Some(rest) = text.strip_prefix("!ping ") {
                let (client, text) = (client.clone(), format!("pong {rest}"));
                tokio::spawn(async move {
                    let _ = client
                        .send_chat_message(m.broadcaster_user_id, BOT, text)
                        .reply_parent_message_id(m.message_id)
                        .await;
                });
            }
        }
    });
    let took = flood(&mock, lines, &seen).await;
    let latencies = pings(&mock, n_pings).await;
    summary("hand-written session loop", lines, took, latencies);
    reader.abort();
}

fn events(n: usize) -> Vec<Event> {
    (0..n)
        .map(|i| {
            let v = serde_json::json!({
                "broadcaster_user_id": CHANNEL, "broadcaster_user_login": "chan", "broadcaster_user_name": "Chan",
                "chatter_user_id": "200", "chatter_user_login": "viewer", "chatter_user_name": "Viewer",
                "message_id": format!("m-{i}"), "message_type": "text", "color": "",
                "message": {"text": format!("!count {i}"), "fragments": []},
                "badges": [{"set_id": "subscriber", "id": "12", "info": "14"}],
            });
            Event::ChannelChatMessageV1(Box::new(serde_json::from_value(v).unwrap()))
        })
        .collect()
}

/// Events handed over a channel, as a stream.
fn feed(events: Vec<Event>) -> impl futures_util::Stream<Item = Event> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    for e in events {
        tx.send(e).unwrap();
    }
    drop(tx);
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) })
}

async fn dispatch_only(n: usize) {
    let unused = Client::builder().client_id("x").app_token("t").helix_url("http://127.0.0.1:9/helix").build().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let start = Instant::now();
    let bot = Bot::builder(unused, BOT)
        .events_from(feed(events(n)))
        .command(Command::new("count", move |_: Context, _n: u64| {
            s.fetch_add(1, Ordering::SeqCst);
            async {}
        }))
        .start()
        .await
        .unwrap();
    while seen.load(Ordering::SeqCst) < n {
        tokio::task::yield_now().await;
    }
    let bot_rate = n as f64 / start.elapsed().as_secs_f64();
    bot.shutdown(Duration::from_secs(1)).await;

    let seen = AtomicUsize::new(0);
    let start = Instant::now();
    let mut stream = std::pin::pin!(feed(events(n)));
    while let Some(e) = futures_util::StreamExt::next(&mut stream).await {
        let Event::ChannelChatMessageV1(m) = e else { continue };
        if let Some(rest) = m.message.text.strip_prefix("!count ")
            && rest.parse::<u64>().is_ok()
        {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    }
    let hand_rate = n as f64 / start.elapsed().as_secs_f64();
    println!("dispatch alone, {n} events: twitch-bot {bot_rate:>10.0}/s   hand-written match {hand_rate:>10.0}/s");
}

fn main() {
    let lines = env("BOT_BENCH_LINES", 20_000);
    let n_pings = env("BOT_BENCH_PINGS", 500);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        println!("{lines} chat lines flooded, {n_pings} pings one at a time, against the in-process mock");
        // Twice, alternating, so neither side gets a warmer machine.
        for _ in 0..2 {
            by_hand(lines, n_pings).await;
            with_the_bot(lines, n_pings).await;
        }
        for _ in 0..2 {
            dispatch_only(lines * 5).await;
        }
    });
}
