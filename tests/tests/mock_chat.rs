//! A chat bot tested offline against `twitch-mock` as on real Twitch:
//! chat lines from any chatter reach its EventSub session with mentions and
//! badges, moderators and VIPs are state of the channel, and Send Chat
//! Message keeps Twitch's chat rules (limits, duplicates, bans), reporting
//! drops as Twitch does. Everything runs on 127.0.0.1.

use std::time::Duration;

use twitch::eventsub::channel::{ChannelChatMessageV1, ChannelChatMessageV1Event};
use twitch::helix::chat::SentChatMessage;
use twitch::helix::moderation::BanUserRequest;
use twitch::shared::ChatMessageFragmentType;
use twitch::{Client, Error, Event, Session, SessionItem};
use twitch_mock::{ChatDrop, ChatLine, Mock, MockServer};

/// Hang guard for anything awaited; never an assertion about speed.
const WAIT: Duration = Duration::from_secs(20);

/// The channel, its broadcaster and the bot reading and writing its chat.
const CHANNEL: &str = "1001";
const BOT: &str = "2001";

fn client(mock: &MockServer, token: String) -> Client {
    mock.client_builder().user_token(token).build().expect("client")
}

/// The bot's client: it reads and writes chat.
fn bot(mock: &MockServer) -> Client {
    client(mock, mock.mint_user_token(BOT, "chatbot", &["user:read:chat", "user:write:chat"]))
}

/// The broadcaster's client: chat, and managing moderators, VIPs and bans.
fn broadcaster(mock: &MockServer) -> Client {
    let scopes = [
        "user:write:chat",
        "moderation:read",
        "channel:manage:moderators",
        "channel:read:vips",
        "channel:manage:vips",
        "moderator:manage:banned_users",
    ];
    client(mock, mock.mint_user_token(CHANNEL, "streamer", &scopes))
}

/// A viewer who may write chat.
fn viewer(mock: &MockServer, id: &str, login: &str) -> Client {
    client(mock, mock.mint_user_token(id, login, &["user:write:chat"]))
}

/// The bot's EventSub session, subscribed to the channel's chat.
async fn session(client: &Client) -> Session {
    client.eventsub_websocket().subscribe(ChannelChatMessageV1::new(CHANNEL, BOT)).connect().await.expect("connect")
}

/// The next chat message on the session.
async fn next_chat(session: &mut Session) -> ChannelChatMessageV1Event {
    let item = tokio::time::timeout(WAIT, session.next()).await.expect("an item in time").expect("the stream goes on");
    match item {
        SessionItem::Notification(n) => match n.event {
            Event::ChannelChatMessageV1(m) => *m,
            other => panic!("unexpected event {other:?}"),
        },
        other => panic!("unexpected item {other:?}"),
    }
}

/// The texts delivered to the session, up to a marker line sent last: what
/// the chat really showed, nothing more.
async fn texts_until_marker(mock: &MockServer, session: &mut Session) -> Vec<String> {
    let marker = mock.chat(ChatLine::new(CHANNEL, "10050", "mockuser50", "-- marker --")).expect("marker");
    assert_eq!(marker.delivered, 1);
    let mut texts = Vec::new();
    loop {
        let m = next_chat(session).await;
        if m.message.text == "-- marker --" {
            return texts;
        }
        texts.push(m.message.text);
    }
}

async fn say(client: &Client, sender: &str, text: &str) -> SentChatMessage {
    client.send_chat_message(CHANNEL, sender, text).send().await.expect("send")
}

/// The badges of an event as `set/id/info`.
fn badges(m: &ChannelChatMessageV1Event) -> Vec<String> {
    m.badges.iter().map(|b| format!("{}/{}/{}", b.set_id.as_str(), b.id, b.info)).collect()
}

/// The drop code of an answer (`None` when sent), checking the shape of each case.
fn drop_code(sent: &SentChatMessage) -> Option<String> {
    match &sent.drop_reason {
        None => {
            assert!(sent.is_sent && !sent.message_id.as_str().is_empty(), "{sent:?}");
            None
        }
        Some(reason) => {
            assert!(!sent.is_sent && sent.message_id.as_str().is_empty(), "{sent:?}");
            assert!(!reason.message.is_empty(), "{sent:?}");
            Some(reason.code.clone())
        }
    }
}

#[tokio::test]
async fn a_chat_line_reaches_the_session_with_chatter_mentions_and_badges() {
    let mock = Mock::builder().start().await.expect("mock");
    let bot = bot(&mock);
    let mut session = session(&bot).await;
    mock.add_vip(CHANNEL, "10005").expect("VIP");

    let line = ChatLine::new(CHANNEL, "10005", "mockuser5", "hey @TwitchDev, !dice")
        .badge("subscriber", "12", "16")
        .message_id("line-1");
    let triggered = mock.chat(line).expect("chat line");
    assert_eq!(triggered.delivered, 1);
    assert_eq!(triggered.event["message_id"], "line-1");

    let m = next_chat(&mut session).await;
    assert_eq!(m.message_id.as_str(), "line-1");
    assert_eq!(
        (m.chatter_user_id.as_str(), m.chatter_user_login.as_str(), m.chatter_user_name.as_str()),
        ("10005", "mockuser5", "Mockuser5")
    );
    assert_eq!(m.broadcaster_user_id.as_str(), CHANNEL);
    assert_eq!(m.message.text, "hey @TwitchDev, !dice");
    let parts: Vec<(&str, &str)> =
        m.message.fragments.iter().map(|f| (f.fragment_type.as_str(), f.text.as_str())).collect();
    assert_eq!(parts, [("text", "hey "), ("mention", "@TwitchDev"), ("text", ", !dice")]);
    let mention = m.message.fragments[1].mention.as_ref().expect("a mention");
    assert_eq!(
        (mention.user_id.as_str(), mention.user_login.as_str(), mention.user_name.as_str()),
        ("141981764", "twitchdev", "TwitchDev")
    );
    assert!(
        m.message
            .fragments
            .iter()
            .filter(|f| f.fragment_type != ChatMessageFragmentType::Mention)
            .all(|f| f.mention.is_none())
    );
    // The VIP badge from the channel's state, then the line's own.
    assert_eq!(badges(&m), ["vip/1/", "subscriber/12/16"]);
    assert_eq!(m.message_type.as_str(), "text");
    assert!(m.reply.is_none());

    // The bot answers in the thread: the reply names the line and its author.
    let sent = bot.send_chat_message(CHANNEL, BOT, "you rolled 4").reply_parent_message_id("line-1").send().await;
    assert!(sent.expect("send").is_sent);
    let answer = next_chat(&mut session).await;
    let reply = answer.reply.expect("a reply");
    assert_eq!(reply.parent_message_id.as_str(), "line-1");
    assert_eq!(reply.parent_message_body, "hey @TwitchDev, !dice");
    assert_eq!(reply.parent_user_login.as_str(), "mockuser5");
    assert_eq!((reply.thread_message_id.as_str(), reply.thread_user_id.as_str()), ("line-1", "10005"));
    // A reply to the reply stays in the thread of the first line.
    mock.chat(ChatLine::new(CHANNEL, "10006", "mockuser6", "nice").reply_to(answer.message_id.as_str())).expect("line");
    let reply = next_chat(&mut session).await.reply.expect("a reply");
    assert_eq!((reply.parent_user_id.as_str(), reply.parent_message_body.as_str()), (BOT, "you rolled 4"));
    assert_eq!((reply.thread_message_id.as_str(), reply.thread_user_login.as_str()), ("line-1", "mockuser5"));

    // Another channel's chat is not the session's.
    assert_eq!(mock.chat(ChatLine::new("9999", "10005", "mockuser5", "elsewhere")).expect("line").delivered, 0);
    assert!(mock.chat(ChatLine::new(CHANNEL, "10005", "mockuser5", " ")).is_err(), "no empty lines");
    session.close().await;
}

#[tokio::test]
async fn moderators_and_vips_round_trip_through_helix() {
    let mock = Mock::builder().start().await.expect("mock");
    let streamer = broadcaster(&mock);
    let ids = |page: &[twitch::helix::moderation::ChannelModerator]| {
        page.iter().map(|m| m.user_id.as_str().to_owned()).collect::<Vec<_>>()
    };
    let api_status = |e: Error| match e {
        Error::Api { status, .. } => status,
        other => panic!("not a Twitch error: {other:?}"),
    };

    streamer.add_channel_moderator(CHANNEL, "10001").send().await.expect("add");
    streamer.add_channel_moderator(CHANNEL, "10002").send().await.expect("add");
    mock.add_moderator(CHANNEL, "10003").expect("add through the Rust API");
    let mods = streamer.get_moderators(CHANNEL).send().await.expect("list");
    assert_eq!(ids(&mods.data), ["10001", "10002", "10003"]);
    assert_eq!(mods.data[0].user_login.as_str(), "mockuser1");
    assert_eq!(mods.data[0].user_name, "Mockuser1");
    // Pages walk the same list; the user_id filter keeps the order asked.
    let mut walked = Vec::new();
    let mut pages = streamer.get_moderators(CHANNEL).first(2).paginate();
    while let Some(m) = pages.try_next().await.expect("page") {
        walked.push(m.user_id.as_str().to_owned());
    }
    assert_eq!(walked, ["10001", "10002", "10003"]);
    let some = streamer.get_moderators(CHANNEL).user_id("10003").user_id("10099").user_id("10001").send().await;
    assert_eq!(ids(&some.expect("list").data), ["10003", "10001"]);
    // Roles are per channel; the broadcaster holds none in their own.
    assert!(streamer.get_moderators("5005").send().await.expect("list").data.is_empty());
    assert!(mock.add_moderator(CHANNEL, CHANNEL).is_err());

    // Twitch's refusals: already a moderator, a moderator as VIP, and back.
    let again = streamer.add_channel_moderator(CHANNEL, "10001").send().await.unwrap_err();
    assert_eq!(api_status(again), 400);
    assert_eq!(api_status(streamer.add_channel_vip(CHANNEL, "10001").send().await.unwrap_err()), 422);
    assert!(mock.add_vip(CHANNEL, "10002").is_err());

    streamer.add_channel_vip(CHANNEL, "10004").send().await.expect("add VIP");
    mock.add_vip(CHANNEL, "10005").expect("add VIP through the Rust API");
    let vips = streamer.get_vips(CHANNEL).send().await.expect("list");
    let vip_ids: Vec<&str> = vips.data.iter().map(|v| v.user_id.as_str()).collect();
    assert_eq!(vip_ids, ["10004", "10005"]);
    assert_eq!(api_status(streamer.add_channel_moderator(CHANNEL, "10004").send().await.unwrap_err()), 422);
    assert_eq!(api_status(streamer.add_channel_vip(CHANNEL, "10004").send().await.unwrap_err()), 422);

    streamer.remove_channel_moderator(CHANNEL, "10001").send().await.expect("remove");
    assert_eq!(ids(&streamer.get_moderators(CHANNEL).send().await.expect("list").data), ["10002", "10003"]);
    assert_eq!(api_status(streamer.remove_channel_moderator(CHANNEL, "10001").send().await.unwrap_err()), 400);
    streamer.remove_channel_vip(CHANNEL, "10004").send().await.expect("remove VIP");
    streamer.remove_channel_vip(CHANNEL, "10005").send().await.expect("remove VIP");
    assert!(streamer.get_vips(CHANNEL).send().await.expect("list").data.is_empty());
    assert_eq!(api_status(streamer.remove_channel_vip(CHANNEL, "10004").send().await.unwrap_err()), 422);
    // No longer a moderator, 10001 may be a VIP now.
    streamer.add_channel_vip(CHANNEL, "10001").send().await.expect("add VIP");
}

#[tokio::test]
async fn sends_over_the_chat_limit_are_dropped_and_elevated_senders_get_more() {
    // 3 messages per window, 5 for the broadcaster and moderators; a window
    // no test outlives, so only the limits decide.
    let mock = Mock::builder().chat_limits(3, 5, Duration::from_secs(3600)).start().await.expect("mock");
    let bot = bot(&mock);
    let mut session = session(&bot).await;

    let codes = async |client: &Client, sender: &str, n: usize| {
        let mut codes = Vec::new();
        for i in 0..n {
            codes.push(drop_code(&say(client, sender, &format!("{sender} says {i}")).await));
        }
        codes
    };
    let limited = |sent: usize, dropped: usize| {
        let mut want = vec![None; sent];
        want.extend(std::iter::repeat_n(Some("msg_ratelimit".to_owned()), dropped));
        want
    };

    // A regular sender: exactly the excess is dropped, and not delivered.
    assert_eq!(codes(&bot, BOT, 5).await, limited(3, 2));
    assert_eq!(texts_until_marker(&mock, &mut session).await, ["2001 says 0", "2001 says 1", "2001 says 2"]);

    // A moderator and the broadcaster get the higher limit.
    let moderator = viewer(&mock, "3001", "moddy");
    mock.add_moderator(CHANNEL, "3001").expect("moderator");
    assert_eq!(codes(&moderator, "3001", 7).await, limited(5, 2));
    let streamer = broadcaster(&mock);
    assert_eq!(codes(&streamer, CHANNEL, 6).await, limited(5, 1));
    assert_eq!(texts_until_marker(&mock, &mut session).await.len(), 10);
    // A VIP is not elevated: the regular limit.
    let vip = viewer(&mock, "3002", "vippy");
    mock.add_vip(CHANNEL, "3002").expect("VIP");
    assert_eq!(codes(&vip, "3002", 4).await, limited(3, 1));

    // The sender's messages in every channel count; the channel sets the
    // limit: 5 sent as a moderator are over the regular limit elsewhere.
    let elsewhere = moderator.send_chat_message("4004", "3001", "hello elsewhere").send().await.expect("send");
    assert_eq!(drop_code(&elsewhere).as_deref(), Some("msg_ratelimit"));

    // The log has every request in order, with the outcome.
    let log = mock.chat_log();
    assert_eq!(log.len(), 5 + 7 + 6 + 4 + 1);
    let bot_log: Vec<(String, Option<ChatDrop>)> =
        log.iter().filter(|e| e.sender_id == BOT).map(|e| (e.text.clone(), e.dropped)).collect();
    assert_eq!(
        bot_log,
        (0..5).map(|i| (format!("2001 says {i}"), (i >= 3).then_some(ChatDrop::Ratelimit))).collect::<Vec<_>>()
    );
    assert!(log.iter().all(|e| e.is_sent() != e.message_id.is_empty()));
    assert_eq!(ChatDrop::Ratelimit.code(), "msg_ratelimit");
    session.close().await;
}

/// On a paused clock: the window moves only when the test says so.
#[tokio::test(start_paused = true)]
async fn a_duplicate_within_the_window_is_dropped_and_sent_after_it() {
    let mock = Mock::builder().chat_limits(20, 100, Duration::from_secs(30)).start().await.expect("mock");
    let bot = bot(&mock);

    assert_eq!(drop_code(&say(&bot, BOT, "hello").await), None);
    assert_eq!(drop_code(&say(&bot, BOT, "hello").await).as_deref(), Some("msg_duplicate"));
    // Only the previous message counts, and only in its channel.
    assert_eq!(drop_code(&say(&bot, BOT, "other").await), None);
    assert_eq!(drop_code(&say(&bot, BOT, "hello").await), None);
    let elsewhere = bot.send_chat_message("4004", BOT, "hello").send().await.expect("send");
    assert_eq!(drop_code(&elsewhere), None);

    tokio::time::advance(Duration::from_secs(29)).await;
    assert_eq!(drop_code(&say(&bot, BOT, "hello").await).as_deref(), Some("msg_duplicate"));
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(drop_code(&say(&bot, BOT, "hello").await), None, "30 s after the first hello");

    let dropped: Vec<Option<ChatDrop>> = mock.chat_log().iter().map(|e| e.dropped).collect();
    assert_eq!(dropped, [None, Some(ChatDrop::Duplicate), None, None, None, Some(ChatDrop::Duplicate), None]);
}

#[tokio::test]
async fn banned_and_timed_out_senders_are_dropped() {
    let mock = Mock::builder().start().await.expect("mock");
    let streamer = broadcaster(&mock);
    let banned = viewer(&mock, "3001", "spammer");
    let timed_out = viewer(&mock, "3002", "loud");

    streamer.ban_user(CHANNEL, CHANNEL, BanUserRequest::new("3001").reason("spam")).send().await.expect("ban");
    let timeout = BanUserRequest::new("3002").duration(Duration::from_secs(600));
    streamer.ban_user(CHANNEL, CHANNEL, timeout).send().await.expect("timeout");

    assert!(mock.add_moderator(CHANNEL, "3001").is_err(), "a banned user cannot be a moderator");
    let sent = say(&banned, "3001", "let me in").await;
    assert_eq!(drop_code(&sent).as_deref(), Some("msg_banned"));
    let sent = say(&timed_out, "3002", "hey").await;
    assert_eq!(drop_code(&sent).as_deref(), Some("msg_timedout"));
    // A ban is per channel.
    let other = banned.send_chat_message("4004", "3001", "hi").send().await.expect("send");
    assert_eq!(drop_code(&other), None);

    streamer.unban_user(CHANNEL, CHANNEL, "3001").send().await.expect("unban");
    assert_eq!(drop_code(&say(&banned, "3001", "sorry").await), None);
    let dropped: Vec<Option<ChatDrop>> = mock.chat_log().iter().map(|e| e.dropped).collect();
    assert_eq!(dropped, [Some(ChatDrop::Banned), Some(ChatDrop::TimedOut), None, None]);
}

#[tokio::test]
async fn the_senders_badges_come_from_the_channels_state() {
    let mock = Mock::builder().start().await.expect("mock");
    let bot = bot(&mock);
    let streamer = broadcaster(&mock);
    let mut session = session(&bot).await;

    say(&bot, BOT, "no badge yet").await;
    assert!(next_chat(&mut session).await.badges.is_empty());

    streamer.add_channel_moderator(CHANNEL, BOT).send().await.expect("mod the bot");
    say(&bot, BOT, "now a moderator").await;
    let m = next_chat(&mut session).await;
    assert_eq!((m.chatter_user_id.as_str(), m.chatter_user_login.as_str()), (BOT, "chatbot"));
    assert_eq!(badges(&m), ["moderator/1/"]);

    say(&streamer, CHANNEL, "welcome").await;
    assert_eq!(badges(&next_chat(&mut session).await), ["broadcaster/1/"]);

    streamer.remove_channel_moderator(CHANNEL, BOT).send().await.expect("unmod");
    streamer.add_channel_vip(CHANNEL, BOT).send().await.expect("VIP");
    say(&bot, BOT, "a VIP now").await;
    assert_eq!(badges(&next_chat(&mut session).await), ["vip/1/"]);
    session.close().await;
}

/// The next notification's event on the session.
async fn next_event(session: &mut Session) -> Event {
    let item = tokio::time::timeout(WAIT, session.next()).await.expect("an item in time").expect("the stream goes on");
    match item {
        SessionItem::Notification(n) => n.event,
        other => panic!("unexpected item {other:?}"),
    }
}

/// The status of a refused Helix call.
fn refused<T: std::fmt::Debug>(result: Result<T, Error>) -> u16 {
    result.expect_err("refused").status().expect("an HTTP status")
}

#[tokio::test]
async fn deletions_announcements_shoutouts_and_whispers_reach_their_subscribers() {
    use twitch::eventsub::channel::{ChannelShoutoutCreateV1, ChannelShoutoutReceiveV1};
    use twitch::eventsub::chat::{
        ChannelChatClearV1, ChannelChatMessageDeleteV1, ChannelChatNotificationV1, ChatNotificationType,
    };
    use twitch::eventsub::user::UserWhisperMessageV1;
    use twitch::helix::chat::ChatAnnouncementColor;

    let mock = Mock::builder().start().await.expect("mock");
    let scopes = ["user:read:chat", "moderator:read:shoutouts", "user:read:whispers"];
    let bot = client(&mock, mock.mint_user_token(BOT, "chatbot", &scopes));
    let mut session = bot
        .eventsub_websocket()
        .subscribe(ChannelChatMessageDeleteV1::new(CHANNEL, BOT))
        .subscribe(ChannelChatClearV1::new(CHANNEL, BOT))
        .subscribe(ChannelChatNotificationV1::new(CHANNEL, BOT))
        .subscribe(ChannelShoutoutCreateV1::new(CHANNEL, BOT))
        .subscribe(ChannelShoutoutReceiveV1::new("1002", BOT))
        .subscribe(UserWhisperMessageV1::new(BOT))
        .connect()
        .await
        .expect("connect");
    let scopes = [
        "moderator:manage:chat_messages",
        "moderator:manage:announcements",
        "moderator:manage:shoutouts",
        "user:manage:whispers",
    ];
    let streamer = client(&mock, mock.mint_user_token(CHANNEL, "streamer", &scopes));

    // One message deleted: its author and id go out; it is gone after.
    mock.chat(ChatLine::new(CHANNEL, "10005", "mockuser5", "spam spam").message_id("m1")).expect("chat");
    streamer.delete_chat_messages(CHANNEL, CHANNEL).message_id("m1").send().await.expect("delete");
    let Event::ChannelChatMessageDeleteV1(deleted) = next_event(&mut session).await else { panic!("a deletion") };
    assert_eq!((deleted.message_id.as_str(), deleted.target_user_login.as_str()), ("m1", "mockuser5"));
    assert_eq!(refused(streamer.delete_chat_messages(CHANNEL, CHANNEL).message_id("m1").send().await), 404);
    mock.chat(ChatLine::new(CHANNEL, CHANNEL, "streamer", "my own").message_id("m2")).expect("chat");
    assert_eq!(refused(streamer.delete_chat_messages(CHANNEL, CHANNEL).message_id("m2").send().await), 400);
    // Everything: a clear.
    streamer.delete_chat_messages(CHANNEL, CHANNEL).send().await.expect("clear");
    let Event::ChannelChatClearV1(clear) = next_event(&mut session).await else { panic!("a clear") };
    assert_eq!(clear.broadcaster_user_login.as_str(), "streamer");

    // An announcement, then the 2-second limit.
    streamer
        .send_chat_announcement(CHANNEL, CHANNEL, "stream starts @chatbot")
        .color(ChatAnnouncementColor::Blue)
        .send()
        .await
        .expect("announce");
    let Event::ChannelChatNotificationV1(n) = next_event(&mut session).await else { panic!("a notification") };
    assert_eq!(n.notice_type, ChatNotificationType::Announcement);
    assert_eq!(n.announcement.as_ref().map(|a| a.color.as_str()), Some("BLUE"));
    assert_eq!(n.message.text, "stream starts @chatbot");
    assert_eq!(n.message.fragments[1].fragment_type, ChatMessageFragmentType::Mention);
    assert_eq!(n.chatter_user_login.as_ref().map(|l| l.as_str()), Some("streamer"));
    assert!(n.resub.is_none() && n.sub.is_none(), "{n:?}");
    assert_eq!(refused(streamer.send_chat_announcement(CHANNEL, CHANNEL, "again").send().await), 429);

    // A Shoutout: the sender's and the receiver's side, then the cooldown.
    streamer.send_a_shoutout(CHANNEL, "1002", CHANNEL).send().await.expect("shoutout");
    let Event::ChannelShoutoutCreateV1(out) = next_event(&mut session).await else { panic!("a shoutout") };
    assert_eq!(out.to_broadcaster_user_id.as_str(), "1002");
    assert!(out.cooldown_ends_at > out.started_at && out.target_cooldown_ends_at > out.cooldown_ends_at);
    let Event::ChannelShoutoutReceiveV1(got) = next_event(&mut session).await else { panic!("a received shoutout") };
    assert_eq!(got.from_broadcaster_user_login.as_str(), "streamer");
    assert_eq!(refused(streamer.send_a_shoutout(CHANNEL, "1003", CHANNEL).send().await), 429);
    assert_eq!(refused(streamer.send_a_shoutout(CHANNEL, CHANNEL, CHANNEL).send().await), 400);

    // Whispers: a first one is cut to 500 characters, later ones are not.
    let long = "w".repeat(600);
    streamer.send_whisper(CHANNEL, BOT, long.clone()).send().await.expect("whisper");
    let Event::UserWhisperMessageV1(w) = next_event(&mut session).await else { panic!("a whisper") };
    assert_eq!((w.from_user_login.as_str(), w.whisper.text.len()), ("streamer", 500));
    streamer.send_whisper(CHANNEL, BOT, long.clone()).send().await.expect("whisper");
    let Event::UserWhisperMessageV1(w) = next_event(&mut session).await else { panic!("a whisper") };
    assert_eq!(w.whisper.text, long);
    assert_eq!(refused(streamer.send_whisper(CHANNEL, CHANNEL, "me").send().await), 400);
}

/// A shared chat session: its participants' subscribers hear it begin and
/// end, a message typed in one channel reaches the others as a copy that
/// names where it was typed, and Get Shared Chat Session answers it.
#[tokio::test]
async fn shared_chat_delivers_copies_that_name_their_source() {
    use twitch::eventsub::chat::{ChannelSharedChatBeginV1, ChannelSharedChatEndV1};
    let mock = Mock::builder().start().await.unwrap();
    let other = "1002";
    let bot = bot(&mock);
    let mut s = bot
        .eventsub_websocket()
        .subscribe(ChannelSharedChatBeginV1::new(other))
        .subscribe(ChannelSharedChatEndV1::new(other))
        .subscribe(ChannelChatMessageV1::new(other, BOT))
        .connect()
        .await
        .expect("connect");
    let next =
        async |s: &mut Session| match tokio::time::timeout(WAIT, s.next()).await.expect("in time").expect("goes on") {
            SessionItem::Notification(n) => n.event,
            other => panic!("unexpected {other:?}"),
        };
    let session = mock.start_shared_chat(CHANNEL, &[other]).unwrap();
    assert!(mock.start_shared_chat(other, &["1003"]).is_err(), "one session per channel");
    match next(&mut s).await {
        Event::ChannelSharedChatBeginV1(b) => {
            assert_eq!((b.session_id.as_str(), b.broadcaster_user_id.as_str()), (session.as_str(), other));
            assert_eq!(b.host_broadcaster_user_id.as_str(), CHANNEL);
            assert_eq!(b.participants.len(), 2);
        }
        e => panic!("unexpected {e:?}"),
    }

    let typed = mock.chat(ChatLine::new(CHANNEL, "3001", "viewer", "hello both").message_id("m-1")).unwrap();
    assert_eq!(typed.delivered, 1, "the copy; nobody reads 1001 here");
    match next(&mut s).await {
        Event::ChannelChatMessageV1(m) => {
            assert_eq!((m.broadcaster_user_id.as_str(), m.message.text.as_str()), (other, "hello both"));
            assert_eq!(m.source_broadcaster_user_id.as_ref().map(|u| u.as_str()), Some(CHANNEL));
            assert_eq!(m.source_message_id.as_ref().map(|u| u.as_str()), Some("m-1"));
            assert_ne!(m.message_id.as_str(), "m-1", "a copy has its own id");
        }
        e => panic!("unexpected {e:?}"),
    }
    let listed = bot.get_shared_chat_session(other).await.unwrap();
    let listed = listed.first().expect("in a session");
    assert_eq!((listed.session_id.as_str(), listed.host_broadcaster_id.as_str()), (session.as_str(), CHANNEL));

    mock.end_shared_chat(&session).unwrap();
    assert!(matches!(next(&mut s).await, Event::ChannelSharedChatEndV1(e) if e.session_id.as_str() == session));
    assert_eq!(mock.chat(ChatLine::new(CHANNEL, "3001", "viewer", "alone again")).unwrap().delivered, 0);
    assert!(bot.get_shared_chat_session(other).await.unwrap().is_empty());
}
