//! Twitch's changes of 2026 end to end, against the mock: withdrawn items
//! answered as Twitch answers them, Update Conduit Shards split by 100,
//! types on the transports they take, conduit_id, for_source_only, and the
//! lifecycle dates in `twitch::meta`.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use twitch::eventsub::stream::StreamOnlineV1;
use twitch::eventsub::user::UserAuthorizationGrantV1;
use twitch::helix::conduits::{ConduitShardTransportRequest, ConduitShardUpdate};
use twitch::shared::EventSubTransportMethod;
use twitch::{Client, Error, Method, Transport};
use twitch_mock::{Mock, MockServer};

fn app(mock: &MockServer) -> Client {
    mock.client_builder().app_token(mock.mint_app_token(&mock.client_id())).build().unwrap()
}

/// The mock's latest Helix calls: (method, path without the query, status).
async fn helix_calls(mock: &MockServer) -> Vec<(String, String, u64)> {
    let http = twitch::tls::http_client(Duration::from_secs(10), Duration::from_secs(5)).unwrap();
    let text = http.get(format!("{}/control/dashboard", mock.url())).send().await.unwrap().text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    body["helix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let path = h["path"].as_str().unwrap().split('?').next().unwrap().to_owned();
            (h["method"].as_str().unwrap().to_owned(), path, h["status"].as_u64().unwrap())
        })
        .collect()
}

#[test]
fn meta_says_when_twitch_opened_released_and_withdrew_things() {
    let pin = twitch::meta::endpoint("pin-chat-message").unwrap();
    assert_eq!((pin.lifecycle.beta, pin.lifecycle.ga), (Some("2026-05-15"), Some("2026-05-29")));
    assert!(!pin.beta, "generally available");
    let sub = twitch::meta::subscription("channel.custom_power_up_redemption.add", "1").unwrap();
    assert_eq!(sub.lifecycle.ga, Some("2026-05-19"));
    assert_eq!(twitch::meta::endpoints().len(), 149);
    assert_eq!(twitch::meta::subscriptions().len(), 83);
    let gone = twitch::meta::withdrawn();
    let events = gone.iter().find(|w| w.id == "get-hype-train-events").expect("listed");
    assert_eq!((events.endpoint, events.status), (Some((Method::Get, "/hypetrain/events")), 410));
    assert_eq!(events.replaced_by, Some("get-hype-train-status"));
    assert_eq!(gone.iter().filter(|w| w.version == Some("1") && w.id.starts_with("channel.hype_train.")).count(), 3);
    assert!(twitch::meta::endpoint("get-hype-train-events").is_none(), "not callable");
    let split = twitch::meta::endpoint("update-conduit-shards").unwrap().split.unwrap();
    assert_eq!((split.param, split.max), ("shards", 100));
}

#[tokio::test]
async fn withdrawn_items_are_answered_as_twitch_answers_them() {
    let mock = Mock::builder().start().await.unwrap();
    let app = app(&mock);
    let gone = app.raw(Method::Get, "/hypetrain/events").query("broadcaster_id", "1001").send::<Value>().await;
    match gone.unwrap_err() {
        Error::Api { status: 410, error, .. } => assert_eq!(error, "Gone"),
        other => panic!("{other:?}"),
    }
    let conduit = app.create_conduits(1).await.unwrap();
    let transport = twitch::helix::eventsub::EventSubTransportRequest::new(EventSubTransportMethod::Conduit)
        .conduit_id(conduit.id.clone());
    let v1 = app
        .create_eventsub_subscription(
            "channel.hype_train.begin",
            "1",
            json!({"broadcaster_user_id": "1001"}),
            transport,
        )
        .await
        .unwrap_err();
    assert_eq!(v1.status(), Some(410));
    assert!(v1.to_string().contains("deprecated subscription type and version"), "{v1}");
}

#[tokio::test]
async fn shards_beyond_one_hundred_go_in_parts_and_every_refusal_is_reported() {
    let mock = Mock::builder().start().await.unwrap();
    let app = app(&mock);
    let conduit = app.create_conduits(250).await.unwrap();
    let session = |i: u32| {
        let mut t = ConduitShardTransportRequest::new(EventSubTransportMethod::Websocket);
        t.session_id = Some(format!("no-such-session-{i}").into());
        ConduitShardUpdate::new(i.to_string(), t)
    };
    let answer = app.update_conduit_shards(conduit.id.clone(), (0..250).map(session)).await.expect("in parts");
    // No such sessions: Twitch refuses each shard, and every refusal is kept.
    assert_eq!(answer.errors.len(), 250);
    let ids: Vec<String> = answer.errors.iter().map(|e| e.id.to_string()).collect();
    assert_eq!(ids, (0..250).map(|i| i.to_string()).collect::<Vec<_>>(), "in order, none lost");
    let parts = helix_calls(&mock).await.into_iter().filter(|(m, p, _)| m == "PATCH" && p.ends_with("/shards")).count();
    assert_eq!(parts, 3, "100, 100 and 50");

    // More than 100 in one request is Twitch's 400 (the mock holds to it).
    let body = json!({"conduit_id": conduit.id, "shards": (0..101).map(|i| json!({"id": i.to_string(),
        "transport": {"method": "websocket", "session_id": "x"}})).collect::<Vec<_>>()});
    let raw = app.raw(Method::Patch, "/eventsub/conduits/shards").json(&body).unwrap().send::<Value>().await;
    assert_eq!(raw.unwrap_err().status(), Some(400));
}

#[tokio::test]
async fn a_type_is_subscribed_only_on_the_transports_it_takes() {
    let mock = Mock::builder().start().await.unwrap();
    let app = app(&mock);
    let conduit = app.create_conduits(1).await.unwrap();
    // Webhook or conduit since 2026-06-18: a conduit is taken.
    let grant = UserAuthorizationGrantV1::new(mock.client_id());
    app.subscribe(grant.clone(), Transport::conduit(conduit.id.clone())).await.expect("conduit");
    // A WebSocket is refused before sending.
    let user = mock.client_builder().user_token(mock.mint_user_token("1001", "u", &[])).build().unwrap();
    let refused = user.subscribe(grant, Transport::websocket("some-session")).await.unwrap_err();
    assert!(matches!(refused, Error::InvalidRequest { .. }), "{refused:?}");
    assert!(refused.to_string().contains("webhook and conduit"), "{refused}");
    assert!(!helix_calls(&mock).await.iter().any(|(_, _, s)| *s == 400), "nothing went out");
}

#[tokio::test]
async fn subscriptions_are_listed_by_conduit() {
    let mock = Mock::builder().start().await.unwrap();
    let app = app(&mock);
    let (a, b) = (app.create_conduits(1).await.unwrap(), app.create_conduits(1).await.unwrap());
    app.subscribe(StreamOnlineV1::new("1001"), Transport::conduit(a.id.clone())).await.unwrap();
    app.subscribe(StreamOnlineV1::new("1002"), Transport::conduit(b.id.clone())).await.unwrap();
    let on_a = app.get_eventsub_subscriptions().conduit_id(a.id.clone()).await.unwrap();
    assert_eq!(on_a.data.len(), 1);
    assert_eq!(on_a.data[0].transport.conduit_id.as_ref(), Some(&a.id));
    // One filter at a time, as Twitch documents.
    let both = app.get_eventsub_subscriptions().conduit_id(a.id.clone()).subscription_type("stream.online").await;
    assert!(matches!(both, Err(Error::InvalidRequest { .. })));
}

#[tokio::test(start_paused = true)]
async fn an_announcement_keeps_to_its_channel_only_with_an_app_token() {
    let mock = Mock::builder().start().await.unwrap();
    let scopes = ["moderator:manage:announcements", "user:bot"];
    let user = mock.client_builder().user_token(mock.mint_user_token("1001", "streamer", &scopes)).build().unwrap();
    let with_user = user.send_chat_announcement("1001", "1001", "hello").for_source_only(true).await.unwrap_err();
    assert_eq!(with_user.status(), Some(400));
    user.send_chat_announcement("1001", "1001", "hello").await.expect("without the flag");
    // The broadcaster's user token above is the grant an app token acts
    // within; one announcement per 2 s, on the mock's (tokio's) clock.
    tokio::time::advance(Duration::from_secs(2)).await;
    app(&mock).send_chat_announcement("1001", "1001", "from the app").for_source_only(true).await.expect("app token");
}

#[tokio::test]
async fn a_session_finds_what_a_409_names_by_its_id_not_by_listing() {
    use twitch::eventsub::channel::ChannelChatMessageV1;
    let mock = Mock::builder().start().await.unwrap();
    let user =
        mock.client_builder().user_token(mock.mint_user_token("1001", "u", &["user:read:chat"])).build().unwrap();
    let session = user.eventsub_websocket().connect().await.unwrap();
    let first = session.subscribe(ChannelChatMessageV1::new("1001", "1001")).await.unwrap();
    // The same again on the same session: Twitch's 409 names the first.
    let again = session.subscribe(ChannelChatMessageV1::new("1001", "1001")).await.expect("present already");
    assert_eq!(again.subscription.id, first.subscription.id);
    let lookups: Vec<(String, String, u64)> =
        helix_calls(&mock).await.into_iter().filter(|(m, _, _)| m == "GET").collect();
    assert_eq!(lookups.len(), 1, "{lookups:?}");
    let http = twitch::tls::http_client(Duration::from_secs(10), Duration::from_secs(5)).unwrap();
    let text = http.get(format!("{}/control/dashboard", mock.url())).send().await.unwrap().text().await.unwrap();
    let calls: Value = serde_json::from_str(&text).unwrap();
    let get = calls["helix"].as_array().unwrap().iter().find(|h| h["method"] == "GET").unwrap();
    let path = get["path"].as_str().unwrap();
    assert!(path.contains(&format!("subscription_id={}", first.subscription.id)) && !path.contains("type="), "{path}");
    session.close().await;
}

/// Twitch's 409 has named the subscription in the body's `id` (the
/// changelog) and, as one library reads it, in the message after `id=`;
/// an answer naming neither is looked up with Get EventSub Subscriptions.
#[tokio::test]
async fn subscribe_all_reads_a_409s_id_from_its_message_or_looks_it_up() {
    use support::{Response, TestServer};
    use twitch::AnySubscription;
    use twitch::eventsub::stream::StreamOfflineV1;
    let server = TestServer::start(|req| match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/helix/eventsub/subscriptions") => match req.body_json()["type"].as_str() {
            Some("stream.online") => {
                Response::twitch_error(409, "subscription already exists with id=11111111-2222-3333-4444-555555555555")
            }
            _ => Response::twitch_error(409, "subscription already exists"),
        },
        ("GET", "/helix/eventsub/subscriptions") => Response::json(
            200,
            r#"{"data": [{"id": "listed-1", "status": "enabled", "type": "stream.offline", "version": "1",
                "condition": {"broadcaster_user_id": "1001"}, "created_at": "2026-05-01T00:00:00Z",
                "transport": {"method": "conduit", "conduit_id": "c1"}, "cost": 0},
               {"id": "elsewhere", "status": "enabled", "type": "stream.offline", "version": "1",
                "condition": {"broadcaster_user_id": "1001"}, "created_at": "2026-05-01T00:00:00Z",
                "transport": {"method": "conduit", "conduit_id": "c2"}, "cost": 0}],
               "total": 2, "total_cost": 0, "max_total_cost": 10000, "pagination": {}}"#,
        ),
        _ => Response::twitch_error(404, "Not Found"),
    })
    .await;
    let client = Client::builder()
        .client_id("cid")
        .app_token("app-token")
        .helix_url(format!("{}/helix", server.url()))
        .build()
        .unwrap();
    let subs = [AnySubscription::from(StreamOnlineV1::new("1001")), StreamOfflineV1::new("1001").into()];
    let done = client.subscribe_all(Transport::conduit("c1"), subs).concurrency(1).await;
    assert!(done.all_present(), "{:?}", done.failed);
    let ids: Vec<Option<String>> = done.existing.iter().map(|(_, id)| id.as_ref().map(|i| i.to_string())).collect();
    assert_eq!(ids, [Some("11111111-2222-3333-4444-555555555555".to_owned()), Some("listed-1".to_owned())]);
    let lookups = server.requests().iter().filter(|r| r.method == "GET").count();
    assert_eq!(lookups, 1, "only the answer that named nothing was looked up");
}
