//! Dispatch without a network: chat messages fed from a stream, handlers
//! that record what they saw, cooldowns on a paused clock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream;
use serde_json::json;
use tokio::sync::mpsc;
use twitch::eventsub::channel::ChannelChatMessageV1;
use twitch::{Client, Event, UserLogin};
use twitch_bot::{Bot, BotError, Check, Command, Context, Cooldown, Failure, Group, Rest, RunningBot};

type Log = Arc<Mutex<Vec<String>>>;

/// A client that is never used to send: these tests reply to nobody.
fn client() -> Client {
    Client::builder().client_id("test").app_token("t").helix_url("http://127.0.0.1:9/helix").build().unwrap()
}

fn chat(chatter: &str, text: &str, badges: &[&str]) -> Event {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let v = json!({
        "broadcaster_user_id": "1", "broadcaster_user_login": "chan", "broadcaster_user_name": "Chan",
        "chatter_user_id": chatter, "chatter_user_login": format!("user{chatter}"), "chatter_user_name": format!("User{chatter}"),
        "message_id": format!("m-{n}"),
        "message": {"text": text, "fragments": [{"type": "text", "text": text, "cheermote": null, "emote": null, "mention": null}]},
        "message_type": "text", "color": "",
        "badges": badges.iter().map(|b| json!({"set_id": b, "id": "1", "info": if *b == "subscriber" { "14" } else { "" }})).collect::<Vec<_>>(),
    });
    Event::ChannelChatMessageV1(Box::new(serde_json::from_value(v).unwrap()))
}

struct Harness {
    feed: mpsc::UnboundedSender<Event>,
    log: Log,
    errors: Arc<Mutex<Vec<String>>>,
    running: RunningBot,
}

impl Harness {
    async fn start(build: impl FnOnce(Bot, Log) -> Bot) -> Self {
        let (feed, rx) = mpsc::unbounded_channel();
        let events = stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) });
        let log: Log = Arc::default();
        let errors: Arc<Mutex<Vec<String>>> = Arc::default();
        let e = errors.clone();
        let bot = Bot::builder(client(), "99").events_from(events).reply_on_bad_arguments(false).on_error(
            move |err: BotError| {
                let e = e.clone();
                async move { e.lock().unwrap().push(describe(&err)) }
            },
        );
        let running = build(bot, log.clone()).start().await.unwrap();
        Self { feed, log, errors, running }
    }

    /// Feed a message and let the bot handle it.
    async fn say(&self, chatter: &str, text: &str, badges: &[&str]) {
        self.feed.send(chat(chatter, text, badges)).unwrap();
        settle().await;
    }

    fn log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    fn errors(&self) -> Vec<String> {
        std::mem::take(&mut *self.errors.lock().unwrap())
    }
}

fn describe(e: &BotError) -> String {
    let cmd = e.command.clone().unwrap_or_default();
    match &e.failure {
        Failure::BadArguments { error, .. } => format!("{cmd}: bad arguments: {error}"),
        Failure::CheckFailed { check } => format!("{cmd}: check {check}"),
        Failure::CoolingDown { remaining } => format!("{cmd}: cooling {}s", remaining.as_secs()),
        Failure::Handler { error, .. } => format!("{cmd}: error: {error}"),
        Failure::Panicked { panic, .. } => format!("{cmd}: panic: {panic}"),
        other => format!("{cmd}: {other:?}"),
    }
}

/// Let spawned handlers run (the clock may be paused: no real waiting).
async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

fn record(log: &Log, line: String) {
    log.lock().unwrap().push(line);
}

#[tokio::test]
async fn prefixes_aliases_and_typed_arguments() {
    let h = Harness::start(|bot, log| {
        let (l1, l2, l3) = (log.clone(), log.clone(), log);
        bot.prefix("!")
            .prefix("?")
            .command(
                Command::new("dice", move |_: Context, sides: Option<u32>| {
                    let l = l1.clone();
                    async move { record(&l, format!("dice {sides:?}")) }
                })
                .alias("roll"),
            )
            .command(Command::new("so", move |ctx: Context, user: UserLogin| {
                let l = l2.clone();
                async move { record(&l, format!("so {user} by {}", ctx.chatter())) }
            }))
            .command(Command::new("echo", move |_: Context, n: u8, text: Rest| {
                let l = l3.clone();
                async move { record(&l, format!("echo {n} {text}")) }
            }))
    })
    .await;
    h.say("5", "!dice", &[]).await;
    h.say("5", "?ROLL 20", &[]).await;
    h.say("5", "!so @SomeBody", &[]).await;
    h.say("5", "!echo 3 hello   world", &[]).await;
    h.say("5", "dice without a prefix", &[]).await;
    h.say("5", "!unknown", &[]).await;
    assert_eq!(h.log(), ["dice None", "dice Some(20)", "so somebody by user5", "echo 3 hello   world"]);
    assert!(h.errors().is_empty());

    // Arguments that do not parse go to the error hook, the handler does not run.
    h.say("5", "!dice twenty", &[]).await;
    h.say("5", "!echo 300 x", &[]).await;
    h.say("5", "!so", &[]).await;
    assert!(h.log().is_empty());
    assert_eq!(
        h.errors(),
        [
            "dice: bad arguments: expected a whole number, not below 0, got `twenty`",
            "echo: bad arguments: expected a number from 0 to 255, got `300`",
            "so: bad arguments: missing a user (@login)",
        ]
    );
    // The bot's own messages never run commands.
    h.say("99", "!dice", &[]).await;
    assert!(h.log().is_empty());
}

#[tokio::test]
async fn checks_from_badges_and_custom_predicates() {
    let h = Harness::start(|bot, log| {
        let (l1, l2) = (log.clone(), log);
        bot.command(
            Command::new("ban", move |ctx: Context| {
                let l = l1.clone();
                async move { record(&l, format!("ban by {}", ctx.chatter())) }
            })
            .check(Check::moderator()),
        )
        .command(
            Command::new("perk", move |ctx: Context| {
                let l = l2.clone();
                async move { record(&l, format!("perk for {}", ctx.chatter())) }
            })
            .check(Check::subscriber())
            .check(Check::custom("veteran", |m| {
                use twitch_bot::MessageExt;
                m.subscriber_months().unwrap_or(0) >= 12 || m.is_broadcaster()
            })),
        )
    })
    .await;
    h.say("5", "!ban", &[]).await;
    h.say("6", "!ban", &["moderator"]).await;
    h.say("1", "!ban", &[]).await; // the broadcaster
    h.say("7", "!perk", &["vip"]).await;
    h.say("8", "!perk", &["subscriber"]).await; // 14 months
    assert_eq!(h.log(), ["ban by user6", "ban by user1", "perk for user8"]);
    assert_eq!(h.errors(), ["ban: check moderator", "perk: check subscriber"]);
}

#[tokio::test(start_paused = true)]
async fn cooldowns_per_user_per_channel_and_global() {
    let h = Harness::start(|bot, log| {
        let (l1, l2) = (log.clone(), log);
        bot.command(
            Command::new("hug", move |ctx: Context| {
                let l = l1.clone();
                async move { record(&l, format!("hug {}", ctx.chatter())) }
            })
            .cooldown(Cooldown::per_user(Duration::from_secs(10))),
        )
        .command(
            Command::new("raffle", move |ctx: Context| {
                let l = l2.clone();
                async move { record(&l, format!("raffle {}", ctx.chatter())) }
            })
            .cooldown(Cooldown::global(Duration::from_secs(60))),
        )
    })
    .await;
    h.say("5", "!hug", &[]).await;
    h.say("5", "!hug", &[]).await; // cooling for user 5
    h.say("6", "!hug", &[]).await; // user 6 is not
    h.say("5", "!raffle", &[]).await;
    h.say("6", "!raffle", &[]).await; // global: cooling for everyone
    assert_eq!(h.log(), ["hug user5", "hug user6", "raffle user5"]);
    assert_eq!(h.errors(), ["hug: cooling 10s", "raffle: cooling 60s"]);

    tokio::time::advance(Duration::from_secs(11)).await;
    h.say("5", "!hug", &[]).await;
    h.say("6", "!raffle", &[]).await;
    assert_eq!(h.log(), ["hug user5"]);
    assert_eq!(h.errors(), ["raffle: cooling 49s"]);
    tokio::time::advance(Duration::from_secs(50)).await;
    h.say("6", "!raffle", &[]).await;
    assert_eq!(h.log(), ["raffle user6"]);
}

#[tokio::test]
async fn errors_and_panics_stay_in_their_handler() {
    let h = Harness::start(|bot, log| {
        bot.command(Command::new("fail", |_: Context| async { Err::<(), _>("it broke") }))
            .command(Command::new("boom", |_: Context| async {
                if true {
                    panic!("handler exploded");
                }
            }))
            .command(Command::new("ok", move |_: Context| {
                let l = log.clone();
                async move { record(&l, "ok".into()) }
            }))
    })
    .await;
    h.say("5", "!fail", &[]).await;
    h.say("5", "!boom", &[]).await;
    h.say("5", "!ok", &[]).await;
    assert_eq!(h.log(), ["ok"]);
    let mut errors = h.errors();
    errors.sort();
    assert_eq!(errors, ["boom: panic: handler exploded", "fail: error: it broke"]);
}

#[tokio::test]
async fn a_slow_handler_does_not_hold_up_the_others() {
    let (release, wait) = tokio::sync::oneshot::channel::<()>();
    let wait = Arc::new(tokio::sync::Mutex::new(Some(wait)));
    let h = Harness::start(|bot, log| {
        let l = log.clone();
        bot.concurrency(4)
            .command(Command::new("slow", move |_: Context| {
                let (w, l) = (wait.clone(), log.clone());
                async move {
                    if let Some(w) = w.lock().await.take() {
                        let _ = w.await;
                    }
                    record(&l, "slow done".into());
                }
            }))
            .command(Command::new("fast", move |_: Context| {
                let l = l.clone();
                async move { record(&l, "fast".into()) }
            }))
    })
    .await;
    h.say("5", "!slow", &[]).await;
    h.say("5", "!fast", &[]).await;
    assert_eq!(h.log(), ["fast"]);
    release.send(()).unwrap();
    settle().await;
    assert_eq!(h.log(), ["slow done"]);
}

#[tokio::test]
async fn groups_share_their_state_and_checks() {
    #[derive(Clone, Default)]
    struct Scores(Arc<Mutex<u32>>);
    let scores = Scores::default();
    let seen = scores.clone();
    let h = Harness::start(move |bot, _| {
        bot.group(
            Group::new("game", scores)
                .check(Check::custom("not user 7", |m| *m.chatter_user_id != *"7"))
                .command(Command::new("point", |ctx: Context<Scores>| async move {
                    *ctx.state().0.lock().unwrap() += 1;
                }))
                .command(Command::new("double", |ctx: Context<Scores>| async move {
                    *ctx.state().0.lock().unwrap() *= 2;
                })),
        )
    })
    .await;
    h.say("5", "!point", &[]).await;
    h.say("6", "!point", &[]).await;
    h.say("5", "!double", &[]).await;
    h.say("7", "!point", &[]).await;
    assert_eq!(*seen.0.lock().unwrap(), 4);
    assert_eq!(h.errors(), ["point: check not user 7"]);
}

#[tokio::test]
async fn listeners_and_wait_for_see_the_events() {
    let h = Harness::start(|bot, log| {
        bot.on::<ChannelChatMessageV1, _, _, _>(move |_, m| {
            let l = log.clone();
            async move { record(&l, format!("heard {}", m.message.text)) }
        })
    })
    .await;
    let bot = h.running.handle().clone();
    let waiting = bot.wait_for::<ChannelChatMessageV1, _>(|m| *m.chatter_user_id == *"6", Duration::from_secs(5));
    h.say("5", "first", &[]).await;
    h.say("6", "second", &[]).await;
    let got = waiting.await.expect("the message of user 6");
    assert_eq!(got.message.text, "second");
    assert_eq!(h.log(), ["heard first", "heard second"]);
}

/// A handler that asks and then waits sees an answer that came while it was
/// still asking: the wait counts from the call, not from the first poll.
#[tokio::test(start_paused = true)]
async fn a_wait_counts_from_its_call() {
    let h = Harness::start(|bot, log| {
        bot.command(Command::new("ask", move |ctx: Context| {
            let l = log.clone();
            async move {
                let answer = ctx.next_message_from_chatter(Duration::from_secs(5));
                // Sending the question takes a while; the answer comes meanwhile.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let got = answer.await.map(|m| m.message.text);
                record(&l, format!("answer {got:?}"));
            }
        }))
    })
    .await;
    h.say("5", "!ask", &[]).await;
    h.say("5", "42", &[]).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(h.log(), ["answer Some(\"42\")"]);
}

#[tokio::test]
async fn the_events_are_a_stream_too() {
    use futures_util::StreamExt;
    let h = Harness::start(|bot, _| bot).await;
    let events = h.running.handle().events();
    h.say("5", "one", &[]).await;
    h.say("6", "two", &[]).await;
    let texts: Vec<String> =
        events.take(2).map(|e| e.downcast_ref::<ChannelChatMessageV1>().unwrap().message.text.clone()).collect().await;
    assert_eq!(texts, ["one", "two"]);
}

#[tokio::test(start_paused = true)]
async fn wait_for_gives_up_after_its_timeout() {
    let h = Harness::start(|bot, _| bot).await;
    let bot = h.running.handle().clone();
    let waiting = bot.wait_for::<ChannelChatMessageV1, _>(|m| *m.chatter_user_id == *"6", Duration::from_secs(30));
    let task = tokio::spawn(waiting);
    h.say("5", "not this one", &[]).await;
    tokio::time::advance(Duration::from_secs(31)).await;
    assert_eq!(task.await.unwrap(), None);
}

#[tokio::test]
async fn shutdown_waits_for_running_handlers_within_the_grace() {
    let h = Harness::start(|bot, log| {
        bot.command(Command::new("work", move |_: Context| {
            let l = log.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                record(&l, "work done".into());
            }
        }))
    })
    .await;
    h.say("5", "!work", &[]).await;
    let Harness { running, log, .. } = h;
    assert!(running.shutdown(Duration::from_secs(5)).await, "the handler finished within the grace");
    assert_eq!(*log.lock().unwrap(), ["work done"]);
}

/// Chat clients append an invisible suffix to a repeated message (a space
/// and U+E0000, or U+034F; zero-width characters too): the command runs as
/// if it were not there, and no argument carries it.
#[tokio::test]
async fn the_invisible_suffix_of_a_repeated_message_is_not_part_of_it() {
    let h = Harness::start(|bot, log| {
        let (l1, l2) = (log.clone(), log);
        bot.command(Command::new("dice", move |_: Context, sides: Option<u32>| {
            let l = l1.clone();
            async move { record(&l, format!("dice {sides:?}")) }
        }))
        .command(Command::new("say", move |_: Context, word: String, rest: Rest| {
            let l = l2.clone();
            async move { record(&l, format!("say [{word}] [{rest}]")) }
        }))
    })
    .await;
    h.say("5", "!dice", &[]).await;
    h.say("5", "!dice \u{E0000}", &[]).await;
    h.say("5", "!dice\u{034F}", &[]).await;
    h.say("5", "!dice 20 \u{E0000}", &[]).await;
    h.say("5", "\u{200B}!dice\u{200D}", &[]).await;
    h.say("5", "!say hi\u{E0000} there \u{E0000}", &[]).await;
    assert_eq!(h.log(), ["dice None", "dice None", "dice None", "dice Some(20)", "dice None", "say [hi] [there]"]);
    assert!(h.errors().is_empty(), "{:?}", h.errors());
}

/// `NaN` and `inf` parse as Rust floats, but are no number a chatter means.
#[tokio::test]
async fn a_number_argument_is_finite() {
    let h = Harness::start(|bot, log| {
        bot.command(Command::new("tip", move |_: Context, amount: f64| {
            let l = log.clone();
            async move { record(&l, format!("tip {amount}")) }
        }))
    })
    .await;
    for text in ["!tip NaN", "!tip inf", "!tip -infinity", "!tip 1e999"] {
        h.say("5", text, &[]).await;
    }
    h.say("5", "!tip 2.5", &[]).await;
    assert_eq!(h.log(), ["tip 2.5"]);
    assert_eq!(h.errors().len(), 4);
}

/// A channel the bot left: chat from it that was already on its way runs
/// no command and reaches no listener; joined again, it does.
#[tokio::test]
async fn chat_from_a_channel_the_bot_left_is_ignored() {
    let h = Harness::start(|bot, log| {
        bot.channel("1").command(Command::new("dice", move |_: Context| {
            let l = log.clone();
            async move { record(&l, "dice".into()) }
        }))
    })
    .await;
    h.say("5", "!dice", &[]).await;
    assert_eq!(h.log(), ["dice"]);
    h.running.handle().leave("1").await.unwrap();
    h.say("5", "!dice", &[]).await;
    assert!(h.log().is_empty(), "not answered after leaving");
    h.running.handle().join("1").await.unwrap();
    h.say("5", "!dice", &[]).await;
    assert_eq!(h.log(), ["dice"]);
}
