//! Runtime behaviour against a local HTTP server on 127.0.0.1: headers,
//! pagination, errors, decode paths, checks that happen before any I/O.

mod support;

use std::time::Duration;
use support::{Response, TestServer};

use twitch::{Client, Error};

fn client(server: &TestServer) -> Client {
    Client::builder()
        .client_id("test-client")
        .app_token("test-app-token")
        .helix_url(format!("{}/helix", server.url()))
        .build()
        .expect("client")
}

/// The same with a user token.
fn user_client(server: &TestServer) -> Client {
    Client::builder()
        .client_id("test-client")
        .user_token("test-user-token")
        .helix_url(format!("{}/helix", server.url()))
        .build()
        .expect("client")
}

fn stream_json(id: usize) -> String {
    format!(
        r#"{{"id":"{id}","user_id":"1","user_login":"a","user_name":"A","game_id":"509658","game_name":"Just Chatting","type":"live","title":"t","tags":[],"viewer_count":{id},"started_at":"2021-03-10T15:04:21Z","language":"en","thumbnail_url":"x","tag_ids":[],"is_mature":false}}"#
    )
}

/// Pages of 2 items; the cursor is the next page number. `repeat` makes
/// page 2 hand out page 2's cursor again.
fn paged(pages: usize, repeat: bool) -> impl Fn(&support::Request) -> Response + Send + Sync + 'static {
    move |req| {
        let page: usize = req.query_values("after").first().and_then(|c| c.parse().ok()).unwrap_or(1);
        let items: Vec<String> = (0..2).map(|i| stream_json(page * 10 + i)).collect();
        let next = if repeat && page == 2 {
            r#"{"cursor":"2"}"#.to_owned()
        } else if page < pages {
            format!(r#"{{"cursor":"{}"}}"#, page + 1)
        } else {
            "{}".to_owned()
        };
        Response::json(200, &format!(r#"{{"data":[{}],"pagination":{next}}}"#, items.join(",")))
    }
}

#[tokio::test]
async fn sends_client_id_and_bearer_token() {
    let server = TestServer::start(|_| Response::json(200, r#"{"data":[]}"#)).await;
    let users = client(&server).get_users().login("twitchdev").id("1").id("2").send().await.unwrap();
    assert!(users.is_empty());
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.path, "/helix/users");
    assert_eq!(r.header("client-id"), Some("test-client"));
    assert_eq!(r.header("authorization"), Some("Bearer test-app-token"));
    assert_eq!(r.query_values("id"), ["1", "2"]);
    assert_eq!(r.query_values("login"), ["twitchdev"]);
}

#[tokio::test]
async fn paginates_across_pages() {
    let server = TestServer::start(paged(4, false)).await;
    let mut walk = client(&server).get_streams().first(2).paginate();
    let mut ids = Vec::new();
    while let Some(s) = walk.try_next().await.unwrap() {
        ids.push(s.id.clone());
    }
    assert_eq!(ids, ["10", "11", "20", "21", "30", "31", "40", "41"]);
    assert_eq!(walk.pages_fetched(), 4);
    assert_eq!(walk.cursor(), None);
    let cursors: Vec<Vec<String>> =
        server.requests().iter().map(|r| r.query_values("after").iter().map(|s| s.to_string()).collect()).collect();
    assert_eq!(cursors, [vec![], vec!["2".to_owned()], vec!["3".to_owned()], vec!["4".to_owned()]]);
}

#[tokio::test]
async fn page_by_page_and_collect_all() {
    let server = TestServer::start(paged(3, false)).await;
    let c = client(&server);
    let mut walk = c.get_streams().paginate();
    let first = walk.next_page().await.unwrap().unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(walk.cursor(), Some("2"));
    // Resume elsewhere from the saved cursor.
    let rest = c.get_streams().paginate().resume("2").collect_all(100).await.unwrap();
    assert_eq!(rest.len(), 4);
    let limited = c.get_streams().paginate().collect_all(3).await.unwrap();
    assert_eq!(limited.len(), 3);
}

#[tokio::test]
async fn a_repeated_cursor_stops_with_an_error() {
    let server = TestServer::start(paged(5, true)).await;
    let mut walk = client(&server).get_streams().paginate();
    let mut got = 0;
    let err = loop {
        match walk.try_next().await {
            Ok(Some(_)) => got += 1,
            Ok(None) => panic!("walk ended without noticing the repeat"),
            Err(e) => break e,
        }
    };
    // Both pages' items are delivered before the error.
    assert_eq!(got, 4);
    assert!(matches!(err, Error::RepeatedCursor { ref cursor, .. } if cursor == "2"), "{err:?}");
    assert_eq!(server.requests().len(), 2);
    assert!(walk.try_next().await.unwrap().is_none());
}

#[tokio::test]
async fn twitch_error_bodies_are_typed() {
    let server = TestServer::start(|req| match req.query_values("login").first().copied() {
        Some("bad") => Response::json(400, r#"{"error":"Bad Request","status":400,"message":"Invalid login names"}"#),
        Some("expired") => {
            Response::json(401, r#"{"error":"Unauthorized","status":401,"message":"Invalid OAuth token"}"#)
        }
        Some("limited") => Response::json(429, r#"{"error":"Too Many Requests","status":429,"message":"slow down"}"#)
            .header("Ratelimit-Reset", "4102444800"),
        _ => Response::json(503, "upstream gone"),
    })
    .await;
    // No retries here: each error must reach the caller as it came.
    let c = Client::builder()
        .client_id("test-client")
        .app_token("test-app-token")
        .helix_url(format!("{}/helix", server.url()))
        .retry_policy(twitch::RetryPolicy::none())
        .build()
        .unwrap();
    match c.get_users().login("bad").await.unwrap_err() {
        Error::Api { endpoint, status, error, message, .. } => {
            assert_eq!((endpoint.as_str(), status, error.as_str()), ("get-users", 400, "Bad Request"));
            assert_eq!(message, "Invalid login names");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(c.get_users().login("expired").await.unwrap_err(), Error::Unauthorized { .. }));
    match c.get_users().login("limited").await.unwrap_err() {
        Error::RateLimited { reset_at, retry_after, .. } => {
            assert_eq!(reset_at, Some(4_102_444_800));
            assert!(retry_after.is_some());
        }
        other => panic!("{other:?}"),
    }
    // A non-JSON error body keeps its text.
    match c.get_users().login("other").await.unwrap_err() {
        Error::Api { status: 503, message, .. } => assert_eq!(message, "upstream gone"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn no_content_is_unit() {
    let server = TestServer::start(|_| Response::empty(204)).await;
    let c = user_client(&server);
    c.delete_chat_messages("1", "2").message_id("abc").send().await.unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.method, "DELETE");
    assert_eq!(r.path, "/helix/moderation/chat");
    assert_eq!(r.query_values("message_id"), ["abc"]);
}

#[tokio::test]
async fn decode_errors_name_the_json_path() {
    let body = format!(
        r#"{{"data":[{},{}],"pagination":{{}}}}"#,
        stream_json(1),
        stream_json(2).replace(r#""viewer_count":2"#, r#""viewer_count":"many""#)
    );
    let server = TestServer::start(move |_| Response::json(200, &body)).await;
    match client(&server).get_streams().send().await.unwrap_err() {
        Error::Decode { endpoint, path, body, .. } => {
            assert_eq!(endpoint, "get-streams");
            assert_eq!(path, "data[1].viewer_count");
            assert!(body.as_str().contains("many"), "the raw body is kept");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn new_fields_nulls_and_unknown_enum_values_decode() {
    let body = r#"{"data":[{"id":"1","user_id":"1","user_login":"a","user_name":"A","game_id":"","game_name":"","type":"rerun","title":"t","tags":null,"viewer_count":3,"started_at":"2021-03-10T15:04:21.123456789Z","language":"en","thumbnail_url":"x","brand_new_field":{"x":1}}],"pagination":{}}"#;
    let server = TestServer::start(move |_| Response::json(200, body)).await;
    let page = client(&server).get_streams().send().await.unwrap();
    let s = &page.data[0];
    assert_eq!(s.stream_type.as_str(), "rerun");
    assert!(matches!(s.stream_type, twitch::helix::streams::StreamType::Unknown(_)));
    assert_eq!(s.started_at.nanosecond(), 123_456_789);
    assert_eq!(page.cursor, None);
}

#[tokio::test]
async fn limits_and_token_kinds_are_checked_before_any_io() {
    let server = TestServer::start(|_| Response::json(200, r#"{"data":[]}"#)).await;
    let c = client(&server);
    let err = c.get_users().ids((0..101).map(|i| i.to_string())).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidRequest { source, .. } if source.param == "id"), "{err:?}");
    let err =
        c.get_users().ids((0..60).map(|i| i.to_string())).logins((0..41).map(|i| format!("u{i}"))).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidRequest { .. }), "{err:?}");
    let err = c.get_streams().first(101).await.unwrap_err();
    assert!(err.to_string().contains("first"), "{err}");
    // Ranged parameters are unsigned and as narrow as their maximum (first:
    // u8); the documented minimum is still checked.
    let page_size: u8 = 0;
    let err = c.get_streams().first(page_size).await.unwrap_err();
    assert!(err.to_string().contains("0 is outside 1..=100"), "{err}");
    // Durations are `Duration`s, checked in their wire unit: a whole number of
    // it, within the documented range.
    let err = c.update_chat_settings("1", "2").slow_mode_wait_time(Duration::from_secs(2)).await.unwrap_err();
    assert!(err.to_string().contains("2s is outside 3..=120 seconds"), "{err}");
    let err = c.update_chat_settings("1", "2").slow_mode_wait_time(Duration::from_millis(3500)).await.unwrap_err();
    assert!(err.to_string().contains("3.5s is not a whole number of seconds"), "{err}");
    let err = c.update_chat_settings("1", "2").follower_mode_duration(Duration::from_secs(90)).await.unwrap_err();
    assert!(err.to_string().contains("90s is not a whole number of minutes"), "{err}");
    // Update User needs a user token; the client has an app token.
    let err = c.update_user().description("hi").await.unwrap_err();
    assert!(matches!(&err, Error::WrongToken { .. }), "{err:?}");
    // A user token whose scopes are known and lack `user:edit`.
    let scoped = Client::builder()
        .client_id("test-client")
        .user_token_with_scopes("t", ["chat:read"])
        .helix_url(format!("{}/helix", server.url()))
        .build()
        .unwrap();
    match scoped.update_user().description("hi").await.unwrap_err() {
        Error::MissingScope { missing, .. } => assert_eq!(missing, [vec![twitch::Scope::UserEdit]]),
        other => panic!("{other:?}"),
    }
    assert!(server.requests().is_empty(), "nothing may be sent: {:?}", server.requests().len());
}

/// A request is built when `send()` is called, sent only when awaited: one
/// dropped unpolled never reaches Twitch.
#[tokio::test]
async fn a_request_is_sent_when_awaited_and_not_if_dropped() {
    let server = TestServer::start(|_| Response::json(200, r#"{"data":[]}"#)).await;
    let c = client(&server);
    let dropped = c.get_users().id("1").send();
    let later = c.get_users().id("2").send();
    tokio::task::yield_now().await;
    drop(dropped);
    assert_eq!(server.request_count(), 0, "nothing is sent before an await");
    assert!(later.await.unwrap().is_empty());
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1, "only the awaited request is sent");
    assert_eq!(reqs[0].query_values("id"), ["2"]);
}

#[tokio::test]
async fn json_bodies_and_raw_requests() {
    let server = TestServer::start(|req| {
        if req.path == "/helix/chat/messages" {
            Response::json(200, r#"{"data":[{"message_id":"abc-123","is_sent":true}]}"#)
        } else {
            Response::json(200, r#"{"data":[{"anything":"goes"}]}"#)
        }
    })
    .await;
    let c = client(&server);
    let sent = c.send_chat_message("12826", "141981764", "hello").await.unwrap();
    assert!(sent.is_sent);
    let raw: serde_json::Value =
        c.raw(twitch::Method::Get, "/not/in/schema").query("a", "1").query("a", "2").send().await.unwrap();
    assert_eq!(raw["data"][0]["anything"], "goes");
    let reqs = server.requests();
    let body: serde_json::Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(body, serde_json::json!({"broadcaster_id":"12826","sender_id":"141981764","message":"hello"}));
    assert_eq!(reqs[0].header("content-type"), Some("application/json"));
    assert_eq!(reqs[1].query_values("a"), ["1", "2"]);
    assert_eq!(reqs[1].header("authorization"), Some("Bearer test-app-token"));
}

#[test]
fn debug_output_has_no_secrets() {
    let c = Client::builder().client_id("id").app_token("super-secret-token").build().unwrap();
    let s = format!("{c:?}");
    assert!(!s.contains("super-secret-token"), "{s}");
    let b = Client::builder().client_id("id").user_token("another-secret");
    assert!(!format!("{b:?}").contains("another-secret"));
    assert!(!format!("{:?}", twitch::AccessToken::new("third-secret")).contains("third-secret"));
}

#[test]
fn timestamps_keep_nanoseconds() {
    let t: twitch::Timestamp = "2020-07-15T18:16:11.17106713Z".parse().unwrap();
    assert_eq!(t.nanosecond(), 171_067_130);
    assert_eq!(t.to_string(), "2020-07-15T18:16:11.17106713Z");
}

#[test]
fn unknown_event_types_are_kept_raw() {
    let p = r#"{"subscription":{"id":"x","type":"channel.brand_new","version":"7","status":"enabled","cost":0,"condition":{},"transport":{"method":"websocket"},"created_at":"2024-01-01T00:00:00Z"},"event":{"a":1}}"#;
    let n = twitch::decode_notification(p).unwrap();
    assert_eq!(n.event.subscription_type(), "channel.brand_new");
    match n.event {
        twitch::Event::Unknown(u) => assert_eq!(u.raw["a"], 1),
        other => panic!("{other:?}"),
    }
    assert!(matches!(twitch::decode_notification("not json"), Err(Error::Decode { .. })));
}

#[test]
fn known_events_decode_into_their_variant() {
    let meta = twitch::meta::subscription("channel.follow", "2").expect("in schema");
    let n = twitch::decode_notification(meta.example.expect("example")).unwrap();
    match n.event {
        twitch::Event::ChannelFollowV2(e) => assert_eq!(e.user_login, "cool_user"),
        other => panic!("{other:?}"),
    }
}

/// A payload with a key given twice (`subscription` or `event` at the top,
/// `type` or `version` in the subscription) is refused, the same by
/// `decode_notification` and `decode_notification_as`: an event decoded as
/// one subscription must never be reported as another's.
#[test]
fn a_key_given_twice_is_refused_by_every_decoder() {
    let meta = twitch::meta::subscription("channel.follow", "2").expect("in schema");
    let usual: serde_json::Value = serde_json::from_str(meta.example.expect("example")).unwrap();
    let (sub, event) = (usual["subscription"].to_string(), usual["event"].to_string());
    let other = sub.replace(r#""channel.follow""#, r#""channel.update""#);
    let retyped = sub.replacen('{', r#"{"type":"channel.update","#, 1);
    let reversioned = sub.replacen('{', r#"{"version":"1","#, 1);
    let payloads = [
        format!(r#"{{"subscription":{sub},"event":{event},"subscription":{other}}}"#),
        format!(r#"{{"subscription":{other},"subscription":{sub},"event":{event}}}"#),
        format!(r#"{{"event":{event},"subscription":{sub},"subscription":{other}}}"#),
        format!(r#"{{"subscription":{sub},"event":{event},"event":{event}}}"#),
        format!(r#"{{"subscription":{retyped},"event":{event}}}"#),
        format!(r#"{{"subscription":{reversioned},"event":{event}}}"#),
    ];
    for p in &payloads {
        let plain = twitch::decode_notification(p);
        let known = twitch::decode_notification_as("channel.follow", "2", p);
        assert!(matches!(plain, Err(Error::Decode { .. })), "{p}: {plain:?}");
        assert!(matches!(known, Err(Error::Decode { .. })), "{p}: {known:?}");
    }
    // In a WebSocket frame too (there the metadata names the type).
    let frame = |payload: &str| {
        format!(
            r#"{{"metadata":{{"message_id":"m1","message_type":"notification","message_timestamp":"2023-07-19T14:56:51.634234626Z","subscription_type":"channel.follow","subscription_version":"2"}},"payload":{payload}}}"#
        )
    };
    for p in &payloads[..4] {
        let decoded = twitch::websocket::decode_frame::<twitch::Event>(&frame(p));
        assert!(decoded.is_err(), "{p}: {decoded:?}");
    }
    // Given once each, both decode it alike.
    let once = format!(r#"{{"subscription":{sub},"event":{event}}}"#);
    assert!(twitch::websocket::decode_frame::<twitch::Event>(&frame(&once)).is_ok());
    assert_eq!(
        twitch::decode_notification(&once).unwrap(),
        twitch::decode_notification_as("channel.follow", "2", &once).unwrap()
    );
}

/// A webhook body decodes the same in any key order (one pass when the
/// subscription comes first, as Twitch sends it), prefers `event` over
/// `events`, keeps a transport it cannot read field by field, and names the
/// JSON path of an event that does not fit.
#[test]
fn notification_bodies_decode_in_any_order() {
    let meta = twitch::meta::subscription("channel.follow", "2").expect("in schema");
    let usual: serde_json::Value = serde_json::from_str(meta.example.expect("example")).unwrap();
    let (sub, event) = (usual["subscription"].to_string(), usual["event"].to_string());
    let first = twitch::decode_notification(&format!(r#"{{"subscription":{sub},"event":{event}}}"#)).unwrap();
    let reversed =
        twitch::decode_notification(&format!(r#"{{"event":{event},"extra":[1,{{}}],"subscription":{sub}}}"#)).unwrap();
    assert_eq!(first, reversed);
    assert!(matches!(&first.event, twitch::Event::ChannelFollowV2(e) if e.user_login == "cool_user"));
    let both = twitch::decode_notification(&format!(r#"{{"subscription":{sub},"events":[],"event":{event}}}"#));
    assert_eq!(both.unwrap(), first);
    // Type and version are read wherever they are in the subscription
    // (`sub` has its keys sorted: both come last), escaped or not.
    let escaped = sub.replace(r#""channel.follow""#, r#""channel\u002efollow""#);
    assert_ne!(escaped, sub);
    let n = twitch::decode_notification(&format!(r#"{{"subscription":{escaped},"event":{event}}}"#)).unwrap();
    assert_eq!(n.event, first.event);
    // Known from a webhook's headers: the same, in any order.
    for body in
        [format!(r#"{{"subscription":{sub},"event":{event}}}"#), format!(r#"{{"event":{event},"subscription":{sub}}}"#)]
    {
        assert_eq!(twitch::decode_notification_as("channel.follow", "2", &body).unwrap(), first);
    }
    let unversioned = sub.replace(r#""version":"2""#, r#""versions":"2""#);
    assert_ne!(unversioned, sub);
    let err = twitch::decode_notification(&format!(r#"{{"subscription":{unversioned},"event":{event}}}"#));
    assert!(matches!(err, Err(Error::Decode { .. })), "{err:?}");

    let mut odd = usual.clone();
    odd["subscription"]["transport"]["callback"] = serde_json::json!({"not": "a string"});
    let n = twitch::decode_notification(&odd.to_string()).unwrap().subscription.parse().unwrap();
    assert_eq!(n.transport.method, first.subscription.parse().unwrap().transport.method);
    assert!(n.unparsed.contains_key("transport"), "the odd transport is kept");

    let mut bad = usual;
    bad["event"]["followed_at"] = serde_json::json!(7);
    match twitch::decode_notification(&bad.to_string()).unwrap_err() {
        Error::Decode { path, .. } => assert_eq!(path, "followed_at"),
        other => panic!("{other:?}"),
    }
}

/// `items: one` endpoints answer the object itself; a list of any other
/// length is a decode error that says how many came. `zero_or_one` answers
/// an `Option`.
#[tokio::test]
async fn one_object_answers_are_the_object() {
    let settings = r#"{"broadcaster_id":"1","slow_mode":false,"slow_mode_wait_time":null,"follower_mode":false,"follower_mode_duration":null,"subscriber_mode":false,"emote_mode":false,"unique_chat_mode":false}"#;
    let answer = std::sync::Arc::new(std::sync::Mutex::new(format!(r#"{{"data":[{settings}]}}"#)));
    let body = answer.clone();
    let server = TestServer::start(move |_| Response::json(200, &body.lock().unwrap())).await;
    let c = client(&server);
    // Typed as the object: no Vec to unpack.
    let s: twitch::helix::chat::ChatSettings = c.get_chat_settings("1").send().await.unwrap();
    assert_eq!(s.broadcaster_id, "1");

    for (data, n) in [("", 0), (&format!("{settings},{settings}")[..], 2)] {
        *answer.lock().unwrap() = format!(r#"{{"data":[{data}]}}"#);
        match c.get_chat_settings("1").send().await.unwrap_err() {
            Error::Decode { endpoint, path, message, .. } => {
                assert_eq!((endpoint.as_str(), path.as_str()), ("get-chat-settings", "data"));
                assert_eq!(message, format!("expected exactly one item, got {n}"));
            }
            other => panic!("{other:?}"),
        }
    }

    *answer.lock().unwrap() = r#"{"data":[]}"#.to_owned();
    let user = user_client(&server);
    assert!(user.get_charity_campaign("1").send().await.unwrap().is_none());
}

/// Lookups answer `Option<T>`: the item, or `None` for an empty list, with
/// the one parameter sent.
#[tokio::test]
async fn lookups_answer_the_item_or_none() {
    let user = r#"{"id":"141981764","login":"twitchdev","display_name":"TwitchDev","type":"","broadcaster_type":"partner","description":"","profile_image_url":"","offline_image_url":"","created_at":"2016-12-14T20:32:28Z"}"#;
    let server = TestServer::start(move |req| {
        if req.query_values("login") == ["twitchdev"] || req.query_values("id") == ["141981764"] {
            Response::json(200, &format!(r#"{{"data":[{user}]}}"#))
        } else {
            Response::json(200, r#"{"data":[]}"#)
        }
    })
    .await;
    let c = client(&server);
    let found = c.get_user_by_login("twitchdev").await.unwrap().expect("found");
    assert_eq!(found.id, "141981764");
    assert_eq!(c.get_user_by_id("141981764").await.unwrap().map(|u| u.login), Some("twitchdev".into()));
    assert!(c.get_user_by_login("nobody").await.unwrap().is_none());
    let reqs = server.requests();
    let sent: Vec<Vec<&str>> = reqs.iter().map(|r| r.query_values("login")).collect();
    assert_eq!(sent, [vec!["twitchdev"], vec![], vec!["nobody"]]);
    // By a required parameter, too.
    assert!(c.get_channel_by_broadcaster_id("5").await.unwrap().is_none());
    assert_eq!(server.requests().last().unwrap().query_values("broadcaster_id"), ["5"]);
}

/// Ids are typed by kind in requests and answers: a `PollId` goes into
/// End Poll, the poll's choices have `PollChoiceId`s, the broadcaster a
/// `UserId`; each compares with strings and prints as one.
#[tokio::test]
async fn ids_are_typed_by_kind() {
    use twitch::{PollChoiceId, PollId};
    let poll = r#"{"id":"ed961efd","broadcaster_id":"1","broadcaster_name":"a","broadcaster_login":"a","title":"t","choices":[{"id":"4c123012","title":"x","votes":0,"channel_points_votes":0,"bits_votes":0}],"bits_voting_enabled":false,"bits_per_vote":0,"channel_points_voting_enabled":false,"channel_points_per_vote":0,"status":"ACTIVE","duration":60,"started_at":"2021-03-19T06:08:33.871278372Z"}"#;
    let server = TestServer::start(move |_| Response::json(200, &format!(r#"{{"data":[{poll}]}}"#))).await;
    let c = user_client(&server);
    let page = c.get_polls("1").send().await.unwrap();
    let got: &PollId = &page.data[0].id;
    let choice: &PollChoiceId = &page.data[0].choices[0].id;
    assert_eq!((got, choice), (&PollId::from("ed961efd"), &PollChoiceId::from("4c123012")));
    assert!(*got == "ed961efd");
    assert_eq!(format!("{got}"), "ed961efd");
    let ended = c.end_poll("1", got.clone(), twitch::helix::polls::PollEndStatus::Terminated).send().await.unwrap();
    assert_eq!(ended.id, *got);
    let body = server.requests().last().unwrap().body_str().to_owned();
    assert!(body.contains(r#""id":"ed961efd""#), "{body}");
}

/// Lengths of time are `Duration`s both ways: sent in the unit Twitch
/// documents (seconds, minutes, decimal seconds), read back from answers.
#[tokio::test]
async fn durations_travel_in_their_wire_units() {
    use twitch::helix::polls::PollChoiceInput;
    let poll = r#"{"id":"p","broadcaster_id":"1","broadcaster_name":"a","broadcaster_login":"a","title":"t","choices":[],"bits_voting_enabled":false,"bits_per_vote":0,"channel_points_voting_enabled":false,"channel_points_per_vote":0,"status":"ACTIVE","duration":300,"started_at":"2021-03-19T06:08:33.871278372Z"}"#;
    let settings = r#"{"broadcaster_id":"1","slow_mode":true,"slow_mode_wait_time":30,"follower_mode":true,"follower_mode_duration":10,"subscriber_mode":false,"emote_mode":false,"unique_chat_mode":false,"non_moderator_chat_delay":false,"non_moderator_chat_delay_duration":null}"#;
    let server = TestServer::start(move |req| {
        let one = if req.path.ends_with("/polls") { poll } else { settings };
        Response::json(200, &format!(r#"{{"data":[{one}]}}"#))
    })
    .await;
    let c = user_client(&server);

    let created = c.create_poll("1", "t", [PollChoiceInput::new("a")], Duration::from_secs(300)).await.unwrap();
    assert_eq!(created.duration, Duration::from_secs(300));
    assert!(server.requests().last().unwrap().body_str().contains(r#""duration":300"#));

    let s = c
        .update_chat_settings("1", "2")
        .follower_mode(true)
        .follower_mode_duration(Duration::from_secs(600))
        .slow_mode(true)
        .slow_mode_wait_time(Duration::from_secs(30))
        .await
        .unwrap();
    let body = server.requests().last().unwrap().body_str().to_owned();
    assert!(body.contains(r#""follower_mode_duration":10"#) && body.contains(r#""slow_mode_wait_time":30"#), "{body}");
    assert_eq!(s.follower_mode_duration, Some(Duration::from_secs(600)));
    assert_eq!(s.slow_mode_wait_time, Some(Duration::from_secs(30)));
    assert_eq!(s.non_moderator_chat_delay_duration, None);

    // A query parameter, and seconds with a fraction.
    let url = c.create_extension_secret("e").delay(Duration::from_secs(600)).prepare().unwrap().url;
    assert!(url.contains("delay=600"), "{url}");
    let url = c.create_clip_from_vod("1", "2", "v", 40, "t").duration(Duration::from_millis(12_500)).prepare();
    assert!(url.unwrap().url.contains("duration=12.5"));
    let err = c.create_clip_from_vod("1", "2", "v", 40, "t").duration(Duration::from_secs(61)).prepare().unwrap_err();
    assert!(err.to_string().contains("61s is outside 5..=60 seconds"), "{err}");
}
