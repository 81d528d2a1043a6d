//! A chat bot with a handful of commands: `!dice [sides]`, `!uptime` (Get
//! Streams), `!so @user` (moderators only), `!hug` (a cooldown per chatter),
//! `!guess` (a game that waits for the chatter's next message), `!help`.
//!
//! ```text
//! cargo run -p twitch-bot --example chat_bot
//! ```
//!
//! By default it runs offline: it starts the in-process mock, plays a
//! scripted conversation in a channel, prints it and exits. With
//! `TWITCH_USER_TOKEN` set (the bot account's token with `user:read:chat`
//! and `user:write:chat`) it joins `TWITCH_CHANNEL` (a login; the bot's own
//! channel if unset) on Twitch, or on whatever `TWITCH_HELIX_URL`,
//! `TWITCH_AUTH_URL` and `TWITCH_EVENTSUB_WS_URL` point at, until Ctrl-C.

use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, SystemTime};

use twitch::eventsub::channel::ChannelChatMessageV1;
use twitch::{AccessToken, Client, OAuth, UserId, UserLogin};
use twitch_bot::{Bot, BotError, Check, Command, Context, Cooldown, EventContext, Failure, RunningBot};
use twitch_mock::{ChatLine, Mock};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A number in `1..=n`, good enough for dice.
fn roll(n: u32) -> u32 {
    (RandomState::new().hash_one(SystemTime::now()) % u64::from(n.max(1))) as u32 + 1
}

async fn dice(ctx: Context, sides: Option<u32>) -> Result<()> {
    let sides = sides.unwrap_or(6).clamp(2, 1000);
    ctx.reply(format!("🎲 {} (d{sides})", roll(sides))).await?;
    Ok(())
}

async fn uptime(ctx: Context) -> Result<()> {
    let streams = ctx.client().get_streams().user_id(ctx.channel().clone()).send().await?;
    let text = match streams.data.first() {
        Some(s) => {
            let since = SystemTime::now().duration_since(s.started_at.to_system_time()).unwrap_or_default();
            let minutes = since.as_secs() / 60;
            format!("Live for {}h {:02}m, playing {}.", minutes / 60, minutes % 60, s.game_name)
        }
        None => "The stream is offline.".to_owned(),
    };
    ctx.reply(text).await?;
    Ok(())
}

async fn shoutout(ctx: Context, user: UserLogin) -> Result<()> {
    let users = ctx.client().get_users().login(user.clone()).send().await?;
    let text = match users.first() {
        Some(u) => format!("Go follow {} at https://twitch.tv/{}!", u.display_name, u.login),
        None => format!("There is no user {user}."),
    };
    ctx.say(text).await?;
    Ok(())
}

async fn hug(ctx: Context) -> Result<()> {
    ctx.say(format!("{} hugs the chat.", ctx.message().chatter_user_name)).await?;
    Ok(())
}

async fn guess(ctx: Context) -> Result<()> {
    let secret = roll(10);
    // Wait from before the question: a quick answer must not slip past.
    let answer = ctx.next_message_from_chatter(Duration::from_secs(30));
    ctx.reply("I picked a number from 1 to 10. You have 30 seconds.").await?;
    let text = match answer.await {
        None => format!("Time is up: it was {secret}."),
        Some(m) => match m.message.text.trim().parse::<u32>() {
            Ok(n) if n == secret => format!("{n} it is, well done!"),
            Ok(n) => format!("Not {n}: it was {secret}."),
            Err(_) => format!("That is not a number; it was {secret}."),
        },
    };
    ctx.reply(text).await?;
    Ok(())
}

/// The bot, whatever Twitch it talks to.
async fn start_bot(
    client: Client,
    bot_id: UserId,
    channel: UserId,
) -> std::result::Result<RunningBot, twitch_bot::Error> {
    Bot::builder(client, bot_id)
        .channel(channel)
        .help_command("help")
        .command(Command::new("dice", dice).alias("roll").description("Roll a die, 6 sides unless told"))
        .command(Command::new("uptime", uptime).description("How long the stream has been live"))
        .command(Command::new("so", shoutout).check(Check::moderator()).description("Shout out a channel"))
        .command(
            Command::new("hug", hug)
                .cooldown(Cooldown::per_user(Duration::from_secs(30)))
                .cooldown_reply("You can hug again in {remaining} s."),
        )
        .command(Command::new("guess", guess).description("Guess my number"))
        .on::<ChannelChatMessageV1, _, _, _>(|_: EventContext, m| async move {
            println!("  {:>12}: {}", m.chatter_user_login.as_str(), m.message.text);
        })
        .on_error(|e: BotError| async move {
            let who = e.message.as_ref().map(|m| m.chatter_user_login.to_string()).unwrap_or_default();
            match &e.failure {
                Failure::CheckFailed { check } => println!("  {:>12}  (not for {who}: {check}s only)", ""),
                Failure::CoolingDown { remaining } => {
                    println!("  {:>12}  (cooling down for {who}, {} s left)", "", remaining.as_secs_f64().ceil())
                }
                _ => eprintln!("bot error: {e}"),
            }
        })
        .start()
        .await
}

/// Where the example runs.
pub enum Target {
    /// The in-process mock, with a scripted conversation.
    Mock,
    /// Twitch (or what the environment points at), until Ctrl-C.
    Twitch,
}

/// Run; offline, it returns what the bot said.
pub async fn run(target: Target) -> Result<Vec<String>> {
    match target {
        Target::Mock => offline().await,
        Target::Twitch => online().await.map(|()| Vec::new()),
    }
}

async fn offline() -> Result<Vec<String>> {
    let mock = Mock::builder().start().await?;
    let (bot_id, channel) = (UserId::from("100"), UserId::from("141981764"));
    let token = mock.mint_user_token(&bot_id, "mockbot", &["user:read:chat", "user:write:chat", "user:bot"]);
    let client = mock.client_builder().user_token(token).build()?;
    mock.add_moderator(&channel, "201")?;
    let bot = start_bot(client, bot_id.clone(), channel.clone()).await?;
    println!("Offline, in channel {channel} of the mock:");

    let script: [(&str, &str, &str); 9] = [
        ("200", "viewer", "!help"),
        ("200", "viewer", "!dice 20"),
        ("200", "viewer", "!uptime"),
        ("200", "viewer", "!so @twitchdev"),
        ("201", "modder", "!so @twitchdev"),
        ("200", "viewer", "!hug"),
        ("200", "viewer", "!hug"),
        ("200", "viewer", "!guess"),
        ("200", "viewer", "7"),
    ];
    let mut said = Vec::new();
    for (id, login, text) in script {
        // Each line gets its answer (or, for the refused and idle ones, a moment).
        let answered = bot.handle().wait_for::<ChannelChatMessageV1, _>(
            {
                let bot_id = bot_id.clone();
                move |m| m.chatter_user_id == bot_id
            },
            Duration::from_millis(if text == "!so @twitchdev" && id == "200" { 300 } else { 5000 }),
        );
        mock.chat(ChatLine::new(channel.as_str(), id, login, text))?;
        if let Some(m) = answered.await {
            said.push(m.message.text);
        }
    }
    bot.shutdown(Duration::from_secs(5)).await;
    Ok(said)
}

async fn online() -> Result<()> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let token = var("TWITCH_USER_TOKEN").ok_or("set TWITCH_USER_TOKEN")?;
    let me = OAuth::from_env()?.validate(&AccessToken::new(token.clone())).await?;
    let bot_id = me.user_id.clone().ok_or("TWITCH_USER_TOKEN is not a user token")?;
    let client = Client::builder().from_env()?.user_token_with_scopes(token, me.scopes).build()?;
    let channel = match var("TWITCH_CHANNEL") {
        Some(login) => {
            client.get_users().login(login.as_str()).send().await?.first().ok_or("no such channel")?.id.clone()
        }
        None => bot_id.clone(),
    };
    let bot = start_bot(client, bot_id, channel).await?;
    println!("Running; Ctrl-C stops.");
    tokio::signal::ctrl_c().await?;
    bot.shutdown(Duration::from_secs(10)).await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let target = if std::env::var_os("TWITCH_USER_TOKEN").is_some() { Target::Twitch } else { Target::Mock };
    run(target).await.map(|_| ())
}
