//! The bot against the in-process mock: a WebSocket session and a conduit,
//! chatters writing through Send Chat Message, replies threaded, channels
//! joined and left while running.

use std::time::Duration;

use twitch::eventsub::channel::ChannelChatMessageV1;
use twitch::{Client, UserId};
use twitch_bot::{Bot, Command, Context, MessageExt, RunningBot};
use twitch_mock::{ChatLine, Mock, MockServer};

const BOT: &str = "100";
const VIEWER: &str = "200";
const CHANNEL: &str = "300";
const WAIT: Duration = Duration::from_secs(5);

fn bot_client(mock: &MockServer) -> Client {
    let token = mock.mint_user_token(BOT, "botty", &["user:read:chat", "user:write:chat", "user:bot"]);
    mock.client_builder().user_token(token).build().unwrap()
}

/// The viewer types `text` in `channel`; returns the message's id.
fn viewer_says(mock: &MockServer, channel: &str, text: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let id = format!("viewer-{}", N.fetch_add(1, std::sync::atomic::Ordering::SeqCst));
    mock.chat(ChatLine::new(channel, VIEWER, "viewer", text).message_id(&id)).unwrap();
    id
}

async fn dice(ctx: Context, sides: Option<u32>) -> Result<(), twitch_bot::SendError> {
    let sides = sides.unwrap_or(6);
    ctx.reply(format!("rolled 1..={sides}")).await.map(|_| ())
}

/// The bot's next message in `channel`.
fn next_bot_message(
    bot: &RunningBot,
    channel: &str,
) -> impl std::future::Future<Output = Option<twitch_bot::ChatMessage>> + use<> {
    let channel = UserId::from(channel);
    bot.handle().wait_for::<ChannelChatMessageV1, _>(
        move |m| *m.chatter_user_id == *BOT && m.broadcaster_user_id == channel,
        WAIT,
    )
}

#[tokio::test]
async fn a_command_is_answered_in_the_thread_over_a_websocket_session() {
    let mock = Mock::builder().start().await.unwrap();
    let bot = Bot::builder(bot_client(&mock), BOT)
        .channel(CHANNEL)
        .help_command("help")
        .command(Command::new("dice", dice).alias("roll").description("Roll a die"))
        .start()
        .await
        .unwrap();
    let answer = next_bot_message(&bot, CHANNEL);
    let asked = viewer_says(&mock, CHANNEL, "!roll 20");
    let answer = answer.await.expect("the bot answers");
    assert_eq!(answer.message.text, "rolled 1..=20");
    assert_eq!(answer.reply_parent().map(|id| id.as_str()), Some(asked.as_str()), "threaded to the question");

    let usage = next_bot_message(&bot, CHANNEL);
    viewer_says(&mock, CHANNEL, "!dice many");
    let usage = usage.await.expect("the usage");
    // The chatter's words are not repeated (a moderator bot's messages pass AutoMod).
    assert_eq!(usage.message.text, "Usage: !dice [number] (expected a whole number, not below 0)");

    let help = next_bot_message(&bot, CHANNEL);
    viewer_says(&mock, CHANNEL, "!help");
    assert_eq!(help.await.expect("help").message.text, "Commands: !dice");
    let help = next_bot_message(&bot, CHANNEL);
    viewer_says(&mock, CHANNEL, "!help roll");
    assert_eq!(help.await.expect("help").message.text, "!dice [number] - Roll a die (also !roll)");

    assert!(bot.shutdown(WAIT).await);
}

#[tokio::test]
async fn channels_are_joined_and_left_while_running() {
    let mock = Mock::builder().start().await.unwrap();
    let bot = Bot::builder(bot_client(&mock), BOT)
        .channel(CHANNEL)
        .command(Command::new("dice", dice))
        .start()
        .await
        .unwrap();
    let chat_subs = |mock: &MockServer| -> Vec<String> {
        let state = mock.state();
        let mut channels: Vec<String> = state["subscriptions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["type"] == "channel.chat.message")
            .map(|s| s["condition"]["broadcaster_user_id"].as_str().unwrap().to_owned())
            .collect();
        channels.sort();
        channels
    };
    assert_eq!(chat_subs(&mock), [CHANNEL]);

    bot.handle().join("400").await.unwrap();
    assert_eq!(chat_subs(&mock), [CHANNEL, "400"]);
    let answer = next_bot_message(&bot, "400");
    viewer_says(&mock, "400", "!dice");
    assert_eq!(answer.await.expect("answered in the new channel").message.text, "rolled 1..=6");

    bot.handle().leave("400").await.unwrap();
    assert_eq!(chat_subs(&mock), [CHANNEL]);
    let mut channels = bot.handle().channels().await;
    channels.sort();
    assert_eq!(channels, [UserId::from(CHANNEL)]);
    // Nothing is heard from the channel left; the other still answers.
    let silent = {
        let channel = UserId::from("400");
        bot.handle().wait_for::<ChannelChatMessageV1, _>(
            move |m| *m.chatter_user_id == *BOT && m.broadcaster_user_id == channel,
            Duration::from_millis(500),
        )
    };
    // Delivered to nobody: the mock has no subscription for the channel left.
    assert_eq!(mock.chat(ChatLine::new("400", VIEWER, "viewer", "!dice 8")).unwrap().delivered, 0);
    let answer = next_bot_message(&bot, CHANNEL);
    viewer_says(&mock, CHANNEL, "!dice");
    assert!(answer.await.is_some());
    assert!(silent.await.is_none(), "no answer from a channel the bot left");
    assert!(bot.shutdown(WAIT).await);
}

#[tokio::test]
async fn the_same_bot_runs_on_a_conduit_with_an_app_token() {
    let mock = Mock::builder().start().await.unwrap();
    // The bot's account authorized the app once; an app token sends as it within that.
    mock.grant_scopes(BOT, &["user:write:chat", "user:bot"]);
    let app = mock.client_builder().app_token(mock.mint_app_token(&mock.client_id())).build().unwrap();
    let conduit = app.create_conduits(1).await.unwrap();
    let bot = Bot::builder(app.clone(), BOT)
        .conduit(conduit.id.clone(), None)
        .channel(CHANNEL)
        .command(Command::new("dice", dice))
        .start()
        .await
        .unwrap();
    let subs = app.get_eventsub_subscriptions().await.unwrap();
    assert_eq!(subs.data.len(), 1);
    assert_eq!(subs.data[0].transport.conduit_id.as_ref(), Some(&conduit.id));

    let answer = next_bot_message(&bot, CHANNEL);
    let asked = viewer_says(&mock, CHANNEL, "!dice 12");
    let answer = answer.await.expect("answered through the conduit");
    assert_eq!(answer.message.text, "rolled 1..=12");
    assert_eq!(answer.reply_parent().map(|id| id.as_str()), Some(asked.as_str()));

    bot.handle().leave(CHANNEL).await.unwrap();
    assert!(app.get_eventsub_subscriptions().await.unwrap().data.is_empty());
    assert!(bot.shutdown(WAIT).await);
}

#[tokio::test]
async fn setup_runs_before_events_and_can_refuse_the_start() {
    let mock = Mock::builder().start().await.unwrap();
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let r = ran.clone();
    let bot = Bot::builder(bot_client(&mock), BOT)
        .channel(CHANNEL)
        .setup(move |bot| async move {
            // Joined already: the subscription exists.
            assert_eq!(bot.channels().await, [UserId::from(CHANNEL)]);
            r.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        })
        .start()
        .await
        .unwrap();
    assert!(ran.load(std::sync::atomic::Ordering::SeqCst));
    assert!(bot.shutdown(WAIT).await);

    let refused = Bot::builder(bot_client(&mock), BOT)
        .channel(CHANNEL)
        .setup(|_| async { Err("not today".into()) })
        .start()
        .await
        .unwrap_err();
    assert_eq!(refused.to_string(), "the setup hook failed: not today");
}

/// A burst far over the chat limit: the send queue spaces it so that the
/// mock, which enforces the same limits, drops nothing. The same burst sent
/// straight through the client loses the excess.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_never_trips_the_chat_limit() {
    use twitch_bot::SendLimits;
    let window = Duration::from_millis(700);
    let mock = Mock::builder().chat_limits(3, 6, window).start().await.unwrap();
    let client = bot_client(&mock);
    let bot = Bot::builder(client.clone(), BOT)
        .channel(CHANNEL)
        .send_limits(SendLimits { normal: 3, elevated: 6, window })
        .start()
        .await
        .unwrap();
    let sends = (0..10).map(|i| {
        let h = bot.handle().clone();
        tokio::spawn(async move { h.say(CHANNEL, format!("burst {i}")).await })
    });
    for s in sends.collect::<Vec<_>>() {
        s.await.unwrap().expect("every message of the burst goes out");
    }
    let log = mock.chat_log();
    assert_eq!(log.len(), 10);
    assert_eq!(log.iter().filter(|e| !e.is_sent()).count(), 0, "0 messages over the limit");

    // The control: the client alone, no queue.
    let direct: Vec<_> = futures_util::future::join_all(
        (0..10).map(|i| client.send_chat_message("301", BOT, format!("direct {i}")).into_future()),
    )
    .await;
    let dropped = direct.iter().filter(|r| !r.as_ref().unwrap().is_sent).count();
    assert!(dropped >= 4, "without the queue the mock drops the excess ({dropped} dropped)");
    assert!(bot.shutdown(WAIT).await);
}

/// Where the bot's own messages carry the moderator badge it may send at
/// the higher limit, at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_sends_faster_where_it_moderates() {
    use twitch_bot::SendLimits;
    let window = Duration::from_secs(20);
    let mock = Mock::builder().chat_limits(2, 6, window).start().await.unwrap();
    mock.add_moderator(CHANNEL, BOT).unwrap();
    let bot = Bot::builder(bot_client(&mock), BOT)
        .channel(CHANNEL)
        .send_limits(SendLimits { normal: 2, elevated: 6, window })
        .start()
        .await
        .unwrap();
    // Its first message comes back with the moderator badge.
    let echo = next_bot_message(&bot, CHANNEL);
    bot.handle().say(CHANNEL, "hello").await.unwrap();
    assert!(echo.await.expect("the echo").is_moderator());
    tokio::task::yield_now().await;
    let burst = async {
        for i in 0..4 {
            bot.handle().say(CHANNEL, format!("fast {i}")).await.unwrap();
        }
    };
    // Five messages within a window the ordinary limit (2) would make 20 s long.
    tokio::time::timeout(Duration::from_secs(10), burst).await.expect("sent at the moderator's limit");
    assert!(mock.chat_log().iter().all(|e| e.is_sent()));
    assert!(bot.shutdown(WAIT).await);
}

/// A message Twitch drops is an error for the caller, typed, and the error
/// hook hears of it too.
#[tokio::test]
async fn dropped_messages_are_reported_typed() {
    use twitch_bot::{DropKind, Failure, SendError};
    let mock = Mock::builder().start().await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let bot = Bot::builder(bot_client(&mock), BOT)
        .channel(CHANNEL)
        .on_error(move |e| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(e);
            }
        })
        .start()
        .await
        .unwrap();
    bot.handle().say(CHANNEL, "same words").await.unwrap();
    match bot.handle().say(CHANNEL, "same words").await {
        Err(SendError::Dropped(reason)) => {
            assert_eq!(reason.kind, DropKind::Duplicate);
            assert_eq!(reason.code, "msg_duplicate");
        }
        other => panic!("expected a drop, got {other:?}"),
    }
    let heard = tokio::time::timeout(WAIT, rx.recv()).await.unwrap().unwrap();
    match heard.failure {
        Failure::Dropped { reason, text, .. } => {
            assert_eq!((reason.kind, text.as_str()), (DropKind::Duplicate, "same words"))
        }
        other => panic!("{other:?}"),
    }
    assert!(bot.shutdown(WAIT).await);
}

/// Checks read the badges Twitch sends: the mock gives moderators theirs.
#[tokio::test]
async fn a_moderator_only_command_follows_the_channel_roles() {
    use twitch_bot::Check;
    let mock = Mock::builder().start().await.unwrap();
    mock.add_moderator(CHANNEL, "201").unwrap();
    let bot = Bot::builder(bot_client(&mock), BOT)
        .channel(CHANNEL)
        .command(
            Command::new("so", |ctx: Context, user: twitch::UserLogin| async move {
                ctx.say(format!("Go follow {user}!")).await.map(|_| ())
            })
            .check(Check::moderator()),
        )
        .start()
        .await
        .unwrap();
    let refused = next_bot_message(&bot, CHANNEL);
    mock.chat(ChatLine::new(CHANNEL, VIEWER, "viewer", "!so @friend")).unwrap();
    let allowed = next_bot_message(&bot, CHANNEL);
    mock.chat(ChatLine::new(CHANNEL, "201", "modder", "!so @friend")).unwrap();
    let said = allowed.await.expect("the moderator's shoutout");
    assert_eq!(said.message.text, "Go follow friend!");
    assert_eq!(refused.await.unwrap().message.text, "Go follow friend!", "the only answer is the moderator's");
    assert_eq!(mock.chat_log().len(), 1);
    assert!(bot.shutdown(WAIT).await);
}

/// The production setup: the client takes the bot's token from a
/// `TokenManager` whose store is a file. A restart reads the token from the
/// file and the bot answers again, nothing handed in by hand.
#[tokio::test]
async fn a_restarted_bot_finds_its_tokens_in_the_store() {
    use twitch::{JsonFileStore, OAuth, TokenManager, UserToken};
    let mock = Mock::builder().start().await.unwrap();
    let dir = std::env::temp_dir().join(format!("twitch-bot-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tokens.json");
    let _ = std::fs::remove_file(&path);
    let oauth = || OAuth::new(mock.client_id(), None).auth_url(mock.auth_url());
    let scopes = ["user:read:chat", "user:write:chat"];

    for run in 0..2 {
        let manager = TokenManager::with_store(oauth(), JsonFileStore::new(&path)).await.unwrap();
        if run == 0 {
            let token = mock.mint_user_token(BOT, "botty", &scopes);
            manager.add_user(UserToken::new(token, BOT, "botty").with_scopes(scopes)).await.unwrap();
        }
        assert_eq!(manager.users(), [UserId::from(BOT)], "run {run}: the bot's token is held");
        manager.set_default_user(BOT);
        let client = mock.client_builder().token_manager(manager).build().unwrap();
        let bot = Bot::builder(client, BOT).channel(CHANNEL).command(Command::new("dice", dice)).start().await.unwrap();
        let answer = next_bot_message(&bot, CHANNEL);
        viewer_says(&mock, CHANNEL, &format!("!dice {}", 10 + run));
        assert_eq!(answer.await.expect("answered").message.text, format!("rolled 1..={}", 10 + run));
        assert!(bot.shutdown(WAIT).await);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Over the mock too: a panicking command reaches the error hook with its
/// command and message, and the bot answers the next one.
#[tokio::test]
async fn a_panicking_command_does_not_stop_the_bot() {
    use twitch_bot::Failure;
    let mock = Mock::builder().start().await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let bot = Bot::builder(bot_client(&mock), BOT)
        .channel(CHANNEL)
        .command(Command::new("boom", |_: Context| async {
            if true {
                panic!("kaboom");
            }
        }))
        .command(Command::new("dice", dice))
        .on_error(move |e| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(e);
            }
        })
        .start()
        .await
        .unwrap();
    let asked = viewer_says(&mock, CHANNEL, "!boom");
    let e = tokio::time::timeout(WAIT, rx.recv()).await.unwrap().unwrap();
    assert!(matches!(&e.failure, Failure::Panicked { panic, .. } if panic == "kaboom"), "{e}");
    assert_eq!(e.command.as_deref(), Some("boom"));
    assert_eq!(e.message.as_ref().map(|m| m.message_id.to_string()), Some(asked));
    let answer = next_bot_message(&bot, CHANNEL);
    viewer_says(&mock, CHANNEL, "!dice 4");
    assert_eq!(answer.await.expect("still answering").message.text, "rolled 1..=4");
    assert!(bot.shutdown(WAIT).await);
}

/// `!rules`: the bot says the rules and pins them; `!unpin`: it unpins them.
async fn rules(ctx: Context) -> Result<(), twitch_bot::BoxError> {
    let sent = ctx.say_pinned("Be kind. No spoilers.").await?;
    *PINNED.lock().unwrap() = Some(sent.message_id.to_string());
    Ok(())
}

async fn unpin(ctx: Context) -> Result<(), twitch_bot::BoxError> {
    let pinned = PINNED.lock().unwrap().clone().ok_or("nothing pinned")?;
    ctx.unpin(pinned.as_str()).await?;
    ctx.say("unpinned").await?;
    Ok(())
}

static PINNED: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

#[tokio::test]
async fn a_handler_pins_what_it_sends_and_unpins_it() {
    let mock = Mock::builder().start().await.unwrap();
    mock.add_moderator(CHANNEL, BOT).unwrap();
    let scopes = ["user:read:chat", "user:write:chat", "user:bot", "moderator:manage:chat_messages"];
    let client = mock.client_builder().user_token(mock.mint_user_token(BOT, "botty", &scopes)).build().unwrap();
    let bot = Bot::builder(client.clone(), BOT)
        .channel(CHANNEL)
        .command(Command::new("rules", rules))
        .command(Command::new("unpin", unpin))
        .start()
        .await
        .unwrap();
    let said = next_bot_message(&bot, CHANNEL);
    viewer_says(&mock, CHANNEL, "!rules");
    let said = said.await.expect("the rules");
    let pin = client.get_pinned_chat_message(CHANNEL, BOT).await.unwrap().expect("pinned as sent");
    assert_eq!(
        (pin.message_id.as_str(), pin.message.text.as_str()),
        (said.message_id.as_str(), "Be kind. No spoilers.")
    );

    let done = next_bot_message(&bot, CHANNEL);
    viewer_says(&mock, CHANNEL, "!unpin");
    assert_eq!(done.await.expect("an answer").message.text, "unpinned");
    assert!(client.get_pinned_chat_message(CHANNEL, BOT).await.unwrap().is_none());

    // Where the bot is no moderator, Twitch refuses the pin and nothing is sent.
    let elsewhere = "301";
    bot.handle().join(elsewhere).await.unwrap();
    let before = mock.chat_log().len();
    let refused = bot.handle().say_pinned(elsewhere, "pin me").await.unwrap_err();
    assert!(matches!(refused, twitch_bot::SendError::Failed(ref e) if e.status() == Some(403)), "{refused:?}");
    assert_eq!(mock.chat_log().len(), before, "a message that cannot be pinned is not sent");
    assert!(bot.shutdown(WAIT).await);
}

/// The ids of the enabled chat subscriptions for `channel`.
fn chat_subscription_ids(mock: &MockServer, channel: &str) -> Vec<String> {
    let state = mock.state();
    state["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["type"] == "channel.chat.message" && s["condition"]["broadcaster_user_id"] == channel)
        .filter(|s| s["status"] == "enabled")
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A conduit bot with no shard ids runs every shard of the conduit: Twitch
/// spreads chat over all of them.
#[tokio::test]
async fn a_conduit_bot_runs_every_shard() {
    let mock = Mock::builder().start().await.unwrap();
    mock.grant_scopes(BOT, &["user:write:chat", "user:bot"]);
    let app = mock.client_builder().app_token(mock.mint_app_token(&mock.client_id())).build().unwrap();
    let conduit = app.create_conduits(4).await.unwrap();
    let bot = Bot::builder(app.clone(), BOT)
        .conduit(conduit.id.clone(), None)
        .channel(CHANNEL)
        .command(Command::new("dice", dice))
        .start()
        .await
        .unwrap();
    let shards = app.get_conduit_shards(conduit.id.clone()).send().await.unwrap();
    assert_eq!(shards.data.len(), 4);
    assert!(shards.data.iter().all(|s| s.status.as_str() == "enabled"), "{:?}", shards.data);
    for n in 1..=8 {
        let answer = next_bot_message(&bot, CHANNEL);
        viewer_says(&mock, CHANNEL, &format!("!dice {n}"));
        assert_eq!(answer.await.expect("answered").message.text, format!("rolled 1..={n}"));
    }
    assert!(bot.shutdown(WAIT).await);
}

/// After a dropped connection the session makes its subscriptions again
/// under new ids: `leave` deletes those, and the channel stays left.
#[tokio::test]
async fn leave_after_a_dropped_connection_leaves() {
    let mock = Mock::builder().start().await.unwrap();
    let bot = Bot::builder(bot_client(&mock), BOT)
        .channel(CHANNEL)
        .command(Command::new("dice", dice))
        .start()
        .await
        .unwrap();
    let before = chat_subscription_ids(&mock, CHANNEL);
    assert_eq!(before.len(), 1);
    mock.close(None, 4006);
    tokio::time::timeout(WAIT, async {
        loop {
            let now = chat_subscription_ids(&mock, CHANNEL);
            if now.len() == 1 && now != before {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the session made its subscription again");
    bot.handle().leave(CHANNEL).await.unwrap();
    assert!(chat_subscription_ids(&mock, CHANNEL).is_empty(), "nothing left for the channel");
    assert_eq!(mock.chat(ChatLine::new(CHANNEL, VIEWER, "viewer", "!dice")).unwrap().delivered, 0);
    assert!(bot.shutdown(WAIT).await);
}

/// A conduit bot restarted: its subscriptions existed already (409). `leave`
/// deletes them.
#[tokio::test]
async fn leave_after_a_restart_on_a_conduit_leaves() {
    let mock = Mock::builder().start().await.unwrap();
    mock.grant_scopes(BOT, &["user:write:chat", "user:bot"]);
    let app = mock.client_builder().app_token(mock.mint_app_token(&mock.client_id())).build().unwrap();
    let conduit = app.create_conduits(1).await.unwrap();
    let start = || {
        Bot::builder(app.clone(), BOT)
            .conduit(conduit.id.clone(), None)
            .channel(CHANNEL)
            .command(Command::new("dice", dice))
            .start()
    };
    let first = start().await.unwrap();
    assert!(first.shutdown(WAIT).await);
    let again = start().await.unwrap();
    assert_eq!(chat_subscription_ids(&mock, CHANNEL).len(), 1, "the one from the first run");
    again.handle().leave(CHANNEL).await.unwrap();
    assert!(chat_subscription_ids(&mock, CHANNEL).is_empty());
    assert!(again.shutdown(WAIT).await);
}

/// `!help dice` says nothing of a command the chatter may not use, as the
/// list leaves it out.
#[tokio::test]
async fn help_does_not_show_a_command_the_chatter_may_not_use() {
    use twitch_bot::Check;
    let mock = Mock::builder().start().await.unwrap();
    let bot = Bot::builder(bot_client(&mock), BOT)
        .channel(CHANNEL)
        .help_command("help")
        .command(Command::new("dice", dice).description("Roll a die"))
        .command(
            Command::new(
                "ban",
                |_: Context, _who: twitch::UserLogin| async move { Ok::<(), twitch_bot::BoxError>(()) },
            )
            .description("Ban someone")
            .check(Check::moderator()),
        )
        .start()
        .await
        .unwrap();
    let help = next_bot_message(&bot, CHANNEL);
    viewer_says(&mock, CHANNEL, "!help ban");
    assert_eq!(help.await.expect("help").message.text, "There is no command !ban.");
    let help = next_bot_message(&bot, CHANNEL);
    viewer_says(&mock, CHANNEL, "!help");
    assert_eq!(help.await.expect("help").message.text, "Commands: !dice");
    assert!(bot.shutdown(WAIT).await);
}

/// Twitch counts a user's WebSocket connections per server: bots on two
/// local Twitches in one process each get their own three.
#[tokio::test]
async fn the_connection_limit_is_per_server() {
    let (a, b) = (Mock::builder().start().await.unwrap(), Mock::builder().start().await.unwrap());
    let mut bots = Vec::new();
    for mock in [&a, &a, &a, &b] {
        let bot = Bot::builder(bot_client(mock), BOT).channel(CHANNEL).command(Command::new("dice", dice));
        bots.push(bot.start().await.expect("within the server's limit"));
    }
    let fourth = Bot::builder(bot_client(&a), BOT).channel(CHANNEL).start().await;
    assert!(fourth.is_err(), "a fourth on the same server is refused");
    for bot in bots {
        assert!(bot.shutdown(WAIT).await);
    }
}

/// A raid types `!help` fifty times and one chatter repeats a command with
/// wrong arguments: the notices take at most half the send window and are
/// queued only a few at a time, each chatter hears the same notice once,
/// and a real command's reply goes out at once, not after the flood.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_notices_cannot_hold_up_a_reply() {
    let mock = Mock::builder().start().await.unwrap();
    let bot = Bot::builder(bot_client(&mock), BOT)
        .channel(CHANNEL)
        .help_command("help")
        .command(Command::new("dice", dice))
        .start()
        .await
        .unwrap();
    let said = |mock: &MockServer, prefix: &str| {
        mock.chat_log()
            .iter()
            .filter(|l| l.sender_id == BOT && l.dropped.is_none() && l.text.starts_with(prefix))
            .count()
    };
    let usage = next_bot_message(&bot, CHANNEL);
    for _ in 0..10 {
        viewer_says(&mock, CHANNEL, "!dice many");
    }
    assert!(usage.await.expect("one usage").message.text.starts_with("Usage: "));
    for n in 0..50 {
        let id = format!("{}", 5000 + n);
        mock.chat(ChatLine::new(CHANNEL, &id, format!("raider{n}"), "!help")).unwrap();
    }
    let answer = bot.handle().wait_for::<ChannelChatMessageV1, _>(
        |m| *m.chatter_user_id == *BOT && m.message.text.starts_with("rolled"),
        WAIT,
    );
    mock.chat(ChatLine::new(CHANNEL, "201", "regular", "!dice 7")).unwrap();
    assert_eq!(answer.await.expect("the reply, not stuck behind the notices").message.text, "rolled 1..=7");
    // Half of the 20 a window allows, the usage included; the reply had room.
    assert!(said(&mock, "Commands: ") <= 9, "{} help lines", said(&mock, "Commands: "));
    assert_eq!(said(&mock, "Usage: "), 1, "the same notice once per chatter");
    assert!(bot.shutdown(WAIT).await);
}

/// In a shared chat session a message typed in one channel reaches the
/// others as a copy: a bot in two of them answers once, where it was typed;
/// in a channel of the session it is not in, the copy runs where it
/// arrived; with `SharedChat::Everywhere` it answers in each.
#[tokio::test]
async fn shared_chat_copies_run_a_command_once() {
    let mock = Mock::builder().start().await.unwrap();
    let start = |policy: twitch_bot::SharedChat, channels: &[&str]| {
        let mut b = Bot::builder(bot_client(&mock), BOT).shared_chat(policy).command(Command::new("dice", dice));
        for c in channels {
            b = b.channel(*c);
        }
        b.start()
    };
    let answers = |mock: &MockServer| -> Vec<String> {
        mock.chat_log().iter().filter(|l| l.sender_id == BOT).map(|l| l.broadcaster_id.clone()).collect()
    };
    let session = mock.start_shared_chat(CHANNEL, &["400", "500"]).unwrap();
    let bot = start(twitch_bot::SharedChat::Once, &[CHANNEL, "400"]).await.unwrap();
    let answer = next_bot_message(&bot, "400");
    let quiet = {
        let channel = UserId::from(CHANNEL);
        bot.handle().wait_for::<ChannelChatMessageV1, _>(
            move |m| {
                *m.chatter_user_id == *BOT && m.broadcaster_user_id == channel && m.source_broadcaster_user_id.is_none()
            },
            Duration::from_millis(500),
        )
    };
    // Typed in 400; its copy reaches 300 (and 500, where the bot is not).
    viewer_says(&mock, "400", "!dice 4");
    assert_eq!(answer.await.expect("answered where it was typed").message.text, "rolled 1..=4");
    assert!(quiet.await.is_none(), "not answered again from the copy in {CHANNEL}");
    assert_eq!(answers(&mock), ["400"]);
    assert!(bot.shutdown(WAIT).await);

    // A bot in 300 only: the copy of a message typed in 500 runs in 300.
    let only_here = start(twitch_bot::SharedChat::Once, &[CHANNEL]).await.unwrap();
    let answer = next_bot_message(&only_here, CHANNEL);
    viewer_says(&mock, "500", "!dice 5");
    assert_eq!(answer.await.expect("answered where the copy arrived").message.text, "rolled 1..=5");
    assert!(only_here.shutdown(WAIT).await);

    // Everywhere: both channels answer.
    let everywhere = start(twitch_bot::SharedChat::Everywhere, &[CHANNEL, "400"]).await.unwrap();
    let (here, there) = (next_bot_message(&everywhere, CHANNEL), next_bot_message(&everywhere, "400"));
    viewer_says(&mock, CHANNEL, "!dice 6");
    assert_eq!(here.await.expect("in 300").message.text, "rolled 1..=6");
    assert_eq!(there.await.expect("in 400").message.text, "rolled 1..=6");
    assert!(everywhere.shutdown(WAIT).await);

    // Ended: chats are their own again.
    mock.end_shared_chat(&session).unwrap();
    assert_eq!(mock.chat(ChatLine::new("500", VIEWER, "viewer", "!dice")).unwrap().delivered, 0);
}
