//! Fields that live Twitch sends and the February 2026 docs leave out
//! (each recorded as a `decisions:` line in the schema): they decode into
//! their typed fields when present, and their absence still decodes, so a
//! notification from before Twitch added a field (or from the docs) loses
//! nothing. The mock sends them too, because it sends the schema's examples.

use std::time::Duration;

use serde_json::{Value, json};
use twitch::eventsub::channel::ChatMessageType;
use twitch::eventsub::chat::ChatNotificationType;
use twitch::shared::{ChatMessageFragmentKind, ChatMessageFragmentType};
use twitch::{Event, Notification, SessionItem};
use twitch_mock::{Mock, TriggerOptions};

/// The schema's example notification of a type, as JSON to edit.
fn example(ty: &str, version: &str) -> Value {
    let meta = twitch::meta::subscription(ty, version).expect("type in schema");
    serde_json::from_str(meta.example.expect("example")).expect("example JSON")
}

/// A webhook body decoded the way a receiver decodes it.
fn decode(body: &Value) -> Notification<Event> {
    twitch::decode_notification(&body.to_string()).expect("the notification decodes")
}

fn chat_message(event: Event) -> twitch::eventsub::channel::ChannelChatMessageV1Event {
    match event {
        Event::ChannelChatMessageV1(e) => *e,
        other => panic!("not a chat message: {other:?}"),
    }
}

fn chat_notification(event: Event) -> twitch::eventsub::chat::ChannelChatNotificationV1Event {
    match event {
        Event::ChannelChatNotificationV1(e) => *e,
        other => panic!("not a chat notification: {other:?}"),
    }
}

#[test]
fn a_message_effects_message_carries_its_animation_id() {
    let mut body = example("channel.chat.message", "1");
    body["event"]["message_type"] = json!("power_ups_message_effect");
    body["event"]["channel_points_animation_id"] = json!("simmer");
    let event = chat_message(decode(&body).event);
    assert_eq!(event.message_type, ChatMessageType::PowerUpsMessageEffect);
    assert_eq!(event.channel_points_animation_id.as_deref(), Some("simmer"));
}

#[test]
fn a_chat_message_without_an_animation_id_still_decodes() {
    // As live Twitch sends a plain message: the key is there, null.
    let body = example("channel.chat.message", "1");
    assert_eq!(body["event"]["channel_points_animation_id"], Value::Null, "the example carries the key");
    assert!(body["event"].as_object().unwrap().contains_key("channel_points_animation_id"));
    let event = chat_message(decode(&body).event);
    assert_eq!(event.channel_points_animation_id, None);
    assert_eq!(event.message.text, "Hi chat");

    // As Twitch's own example has it: no key at all.
    let mut body = example("channel.chat.message", "1");
    body["event"].as_object_mut().unwrap().remove("channel_points_animation_id");
    let event = chat_message(decode(&body).event);
    assert_eq!(event.channel_points_animation_id, None);
    assert_eq!(event.chatter_user_login, "viewer32");
}

#[test]
fn gif_fragments_decode_under_either_id_key() {
    let mut body = example("channel.chat.message", "1");
    let url = "https://media4.giphy.com/media/joSNxeswxuc74Juo8X/giphy.gif";
    body["event"]["message"] = json!({
        "text": "look [Happy Dance GIF]",
        "fragments": [
            {"type": "text", "text": "look ", "cheermote": null, "emote": null, "mention": null},
            {"type": "gif", "text": "[Happy Dance GIF]", "gif": {"id": "joSNxeswxuc74Juo8X", "url": url}},
            {"type": "gif", "text": "[Happy Dance GIF]", "gif": {"gif_id": "joSNxeswxuc74Juo8X", "url": url}},
        ],
    });
    let event = chat_message(decode(&body).event);
    let fragments = &event.message.fragments;
    assert_eq!(fragments.len(), 3);
    assert_eq!(fragments[0].kind(), ChatMessageFragmentKind::Text);
    assert_eq!(fragments[1].fragment_type, ChatMessageFragmentType::Gif);
    match fragments[1].kind() {
        ChatMessageFragmentKind::Gif(gif) => {
            assert_eq!(gif.id.as_deref(), Some("joSNxeswxuc74Juo8X"));
            assert_eq!(gif.gif_id, None);
            assert_eq!(gif.url, url);
        }
        other => panic!("not a gif: {other:?}"),
    }
    match fragments[2].kind() {
        ChatMessageFragmentKind::Gif(gif) => {
            assert_eq!(gif.gif_id.as_deref(), Some("joSNxeswxuc74Juo8X"));
            assert_eq!(gif.id, None);
        }
        other => panic!("not a gif: {other:?}"),
    }

    // A gif fragment without its object is a kind without details, not an error.
    body["event"]["message"]["fragments"] = json!([{"type": "gif", "text": "[GIF]", "gif": null}]);
    let event = chat_message(decode(&body).event);
    assert_eq!(event.message.fragments[0].kind(), ChatMessageFragmentKind::Other);
}

#[test]
fn watch_streak_notices_decode_into_their_object() {
    let mut body = example("channel.chat.notification", "1");
    let event = &mut body["event"];
    event["notice_type"] = json!("watch_streak");
    event["resub"] = Value::Null;
    event["system_message"] = json!("viewer23 watched 5 consecutive streams and sparked a watch streak!");
    event["watch_streak"] = json!({"streak_count": 5, "channel_points_awarded": 450});
    let event = chat_notification(decode(&body).event);
    assert_eq!(event.notice_type, ChatNotificationType::WatchStreak);
    let streak = event.watch_streak.expect("the watch streak");
    assert_eq!((streak.streak_count, streak.channel_points_awarded), (5, 450));
    assert!(event.resub.is_none() && event.modiversary.is_none());
}

#[test]
fn modiversary_notices_decode_in_both_forms() {
    let mut body = example("channel.chat.notification", "1");
    body["event"]["notice_type"] = json!("modiversary");
    body["event"]["resub"] = Value::Null;
    body["event"]["modiversary"] = json!({"months": 24});
    let event = chat_notification(decode(&body).event);
    assert_eq!(event.notice_type, ChatNotificationType::Modiversary);
    assert_eq!(event.modiversary.expect("the modiversary").months, 24);

    // The shared chat form, from another channel of the session.
    body["event"]["notice_type"] = json!("shared_chat_modiversary");
    body["event"]["modiversary"] = Value::Null;
    body["event"]["shared_chat_modiversary"] = json!({"months": 3});
    body["event"]["source_broadcaster_user_id"] = json!("112233");
    body["event"]["is_source_only"] = json!(false);
    let event = chat_notification(decode(&body).event);
    assert_eq!(event.notice_type, ChatNotificationType::SharedChatModiversary);
    assert_eq!(event.shared_chat_modiversary.expect("the shared modiversary").months, 3);
    assert!(event.modiversary.is_none());
    assert_eq!(event.is_source_only, Some(false));
}

#[test]
fn chat_notifications_without_the_new_keys_still_decode() {
    let body = example("channel.chat.notification", "1");
    for key in ["watch_streak", "modiversary", "shared_chat_modiversary", "is_source_only"] {
        assert_eq!(body["event"][key], Value::Null, "the example carries {key}");
    }
    let event = chat_notification(decode(&body).event);
    assert!(event.watch_streak.is_none() && event.modiversary.is_none() && event.shared_chat_modiversary.is_none());
    assert_eq!(event.is_source_only, None);

    let mut body = example("channel.chat.notification", "1");
    for key in ["watch_streak", "modiversary", "shared_chat_modiversary", "is_source_only"] {
        body["event"].as_object_mut().unwrap().remove(key);
    }
    let event = chat_notification(decode(&body).event);
    assert_eq!(event.notice_type, ChatNotificationType::Resub);
    assert_eq!(event.resub.expect("the resub").cumulative_months, 10);
    assert_eq!(event.is_source_only, None);
}

#[test]
fn stream_offline_carries_the_stream_id_when_sent() {
    let body = example("stream.offline", "1");
    match decode(&body).event {
        Event::StreamOfflineV1(e) => assert_eq!(e.id.as_deref(), Some("9001")),
        other => panic!("{other:?}"),
    }
    let mut body = body;
    body["event"].as_object_mut().unwrap().remove("id");
    match decode(&body).event {
        Event::StreamOfflineV1(e) => {
            assert_eq!(e.id, None);
            assert_eq!(e.broadcaster_user_login, "cool_user");
        }
        other => panic!("{other:?}"),
    }
}

/// The mock sends the schema's examples, so its events carry the fields
/// too, and a session decodes them into the typed event.
#[tokio::test]
async fn the_mock_sends_the_live_fields() {
    let mock = Mock::builder().start().await.expect("mock");

    let sent = mock.trigger("channel.chat.message", Some("1"), TriggerOptions::default()).expect("trigger");
    assert!(sent.event.as_object().expect("an event object").contains_key("channel_points_animation_id"));
    let sent = mock.trigger("channel.chat.notification", Some("1"), TriggerOptions::default()).expect("trigger");
    for key in ["watch_streak", "modiversary", "shared_chat_modiversary", "is_source_only"] {
        assert!(sent.event.as_object().expect("an event object").contains_key(key), "{key}");
    }
    let sent = mock.trigger("stream.offline", Some("1"), TriggerOptions::default()).expect("trigger");
    assert!(sent.event.get("id").is_some_and(Value::is_string), "{}", sent.event);

    // Through a WebSocket session: the chat line the mock delivers decodes.
    let token = mock.mint_user_token("1001", "reader", &["user:read:chat", "user:write:chat"]);
    let client = twitch::Client::builder()
        .client_id(mock.client_id())
        .user_token(token)
        .helix_url(mock.helix_url())
        .auth_url(mock.auth_url())
        .eventsub_ws_url(mock.ws_url())
        .build()
        .expect("client");
    let mut session = client
        .eventsub_websocket()
        .subscribe(twitch::eventsub::channel::ChannelChatMessageV1::new("1001", "1001"))
        .connect()
        .await
        .expect("connect");
    client.send_chat_message("1001", "1001", "hello").send().await.expect("send");
    let item = tokio::time::timeout(Duration::from_secs(20), session.next())
        .await
        .expect("an item in time")
        .expect("the session goes on");
    match item {
        SessionItem::Notification(n) => {
            let event = chat_message(n.event);
            assert_eq!(event.message.text, "hello");
            assert_eq!(event.channel_points_animation_id, None);
        }
        other => panic!("unexpected {other:?}"),
    }
    session.close().await;
}
