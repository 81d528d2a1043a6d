//! Pinned chat messages against the mock, through the generated client:
//! pin, read, update, unpin, the end of a timed pin (on a paused clock),
//! Send Chat Message with `pin`, and the refusals Twitch gives.

use std::time::Duration;

use twitch::{Client, Error};
use twitch_mock::{ChatLine, Mock, MockServer};

const CHANNEL: &str = "1001";
const MODERATOR: &str = "3001";
const VIEWER: &str = "3002";

fn client(mock: &MockServer, user: &str, scopes: &[&str]) -> Client {
    mock.client_builder().user_token(mock.mint_user_token(user, &format!("user{user}"), scopes)).build().unwrap()
}

fn moderator(mock: &MockServer) -> Client {
    let scopes = ["moderator:manage:chat_messages", "user:write:chat"];
    client(mock, MODERATOR, &scopes)
}

fn status(r: twitch::Result<impl std::fmt::Debug>) -> u16 {
    match r {
        Err(e) => e.status().unwrap_or_else(|| panic!("no status: {e:?}")),
        Ok(v) => panic!("expected a refusal, got {v:?}"),
    }
}

async fn mock() -> MockServer {
    let mock = Mock::builder().start().await.unwrap();
    mock.add_moderator(CHANNEL, MODERATOR).unwrap();
    mock
}

#[tokio::test(start_paused = true)]
async fn a_pin_is_read_updated_unpinned_and_ends_on_time() {
    let mock = mock().await;
    let m = moderator(&mock);
    mock.chat(ChatLine::new(CHANNEL, "10005", "mockuser5", "read the rules @mockuser6").message_id("m1")).unwrap();
    assert!(m.get_pinned_chat_message(CHANNEL, MODERATOR).await.unwrap().is_none(), "nothing pinned yet");

    m.pin_chat_message(CHANNEL, MODERATOR, "m1").duration_seconds(Duration::from_secs(60)).await.expect("pin");
    let pin = m.get_pinned_chat_message(CHANNEL, MODERATOR).await.unwrap().expect("pinned");
    assert_eq!((pin.message_id.as_str(), pin.sender_user_login.as_str()), ("m1", "mockuser5"));
    assert_eq!(pin.pinned_by_user_id, MODERATOR);
    assert_eq!(pin.message.text, "read the rules @mockuser6");
    assert_eq!(pin.message.fragments.len(), 2, "text and the mention");
    let first_end = pin.ends_at.expect("a timed pin ends");

    // A new duration counts from now.
    tokio::time::advance(Duration::from_secs(50)).await;
    m.update_pinned_chat_message(CHANNEL, MODERATOR, "m1").duration_seconds(Duration::from_secs(60)).await.unwrap();
    let pin = m.get_pinned_chat_message(CHANNEL, MODERATOR).await.unwrap().expect("still pinned");
    assert!(pin.ends_at.expect("an end") >= first_end);
    tokio::time::advance(Duration::from_secs(59)).await;
    assert!(m.get_pinned_chat_message(CHANNEL, MODERATOR).await.unwrap().is_some());
    tokio::time::advance(Duration::from_secs(2)).await;
    assert!(m.get_pinned_chat_message(CHANNEL, MODERATOR).await.unwrap().is_none(), "ended 60 s after the update");
    assert_eq!(status(m.unpin_chat_message(CHANNEL, MODERATOR, "m1").await), 404);

    // Without a duration, until unpinned; a second pin replaces the first.
    mock.chat(ChatLine::new(CHANNEL, "10006", "mockuser6", "second").message_id("m2")).unwrap();
    m.pin_chat_message(CHANNEL, MODERATOR, "m1").await.unwrap();
    m.pin_chat_message(CHANNEL, MODERATOR, "m2").await.unwrap();
    tokio::time::advance(Duration::from_secs(3600)).await;
    let pin = m.get_pinned_chat_message(CHANNEL, MODERATOR).await.unwrap().expect("pinned");
    assert_eq!((pin.message_id.as_str(), pin.ends_at), ("m2", None));
    assert_eq!(status(m.unpin_chat_message(CHANNEL, MODERATOR, "m1").await), 404, "m1 is no longer pinned");
    m.unpin_chat_message(CHANNEL, MODERATOR, "m2").await.unwrap();
    assert!(m.get_pinned_chat_message(CHANNEL, MODERATOR).await.unwrap().is_none());
}

#[tokio::test]
async fn only_moderators_pin_known_messages_for_the_documented_durations() {
    let mock = mock().await;
    let m = moderator(&mock);
    mock.chat(ChatLine::new(CHANNEL, "10005", "mockuser5", "hi").message_id("m1")).unwrap();
    assert_eq!(status(m.pin_chat_message(CHANNEL, MODERATOR, "unknown").await), 404);
    let viewer = client(&mock, VIEWER, &["moderator:manage:chat_messages"]);
    assert_eq!(status(viewer.pin_chat_message(CHANNEL, VIEWER, "m1").await), 403);
    // Without the scope: refused before sending when the client knows its scopes, by Twitch otherwise.
    let bare = client(&mock, MODERATOR, &[]);
    assert_eq!(status(bare.pin_chat_message(CHANNEL, MODERATOR, "m1").await), 401);
    // 30 s to 30 min, checked before sending.
    for secs in [29, 1801] {
        let e = m.pin_chat_message(CHANNEL, MODERATOR, "m1").duration_seconds(Duration::from_secs(secs)).await;
        assert!(matches!(e, Err(Error::InvalidRequest { .. })), "{secs} s: {e:?}");
    }
}

#[tokio::test]
async fn send_chat_message_with_pin_pins_it_for_twenty_minutes_or_sends_nothing() {
    let mock = mock().await;
    let m = moderator(&mock);
    let sent = m.send_chat_message(CHANNEL, MODERATOR, "stream starts at 8").pin(true).await.unwrap();
    assert!(sent.is_sent);
    let pin = m.get_pinned_chat_message(CHANNEL, MODERATOR).await.unwrap().expect("pinned as sent");
    assert_eq!(pin.message_id, sent.message_id);
    let length = pin.ends_at.unwrap().to_system_time().duration_since(pin.starts_at.to_system_time()).unwrap();
    assert_eq!(length.as_secs(), 20 * 60);

    // Twitch's rules: not with a reply, not by a viewer; a failed pin sends nothing.
    let reply =
        m.send_chat_message(CHANNEL, MODERATOR, "re").reply_parent_message_id(sent.message_id.clone()).pin(true);
    assert!(matches!(reply.await, Err(Error::InvalidRequest { .. })));
    let viewer = client(&mock, VIEWER, &["user:write:chat", "moderator:manage:chat_messages"]);
    let before = mock.chat_log().len();
    assert_eq!(status(viewer.send_chat_message(CHANNEL, VIEWER, "pin me").pin(true).await), 403);
    assert_eq!(mock.chat_log().len(), before, "nothing was sent");
    let no_scope = client(&mock, MODERATOR, &["user:write:chat"]);
    assert_eq!(status(no_scope.send_chat_message(CHANNEL, MODERATOR, "pin me").pin(true).await), 401);
    assert_eq!(mock.chat_log().len(), before, "nothing was sent");
}
