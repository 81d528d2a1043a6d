//! EventSub sessions and shard pools through the generated client against
//! `twitch-mock`: real Helix calls create the subscriptions and attach the
//! shards; the mock plays Twitch's WebSocket server.

use std::collections::BTreeSet;
use std::time::Duration;

use twitch::SessionItem;
use twitch::eventsub::channel::ChannelChatMessageV1;
use twitch::websocket::{Backoff, CloseCode, DisconnectReason};
use twitch::{Client, Event};
use twitch::{Error, EventSubError};
use twitch_mock::{Fault, Mock, MockServer, TriggerOptions};

const WAIT: Duration = Duration::from_secs(20);

async fn next(stream: &mut twitch::Session) -> SessionItem {
    tokio::time::timeout(WAIT, stream.next()).await.expect("an item in time").expect("the stream goes on")
}

async fn next_in_pool(pool: &mut twitch::ShardPool) -> SessionItem {
    tokio::time::timeout(WAIT, pool.next()).await.expect("an item in time").expect("the pool goes on")
}

fn client(mock: &MockServer, token: String) -> Client {
    Client::builder()
        .client_id(mock.client_id())
        .user_token(token)
        .helix_url(mock.helix_url())
        .auth_url(mock.auth_url())
        .eventsub_ws_url(mock.ws_url())
        .build()
        .expect("client")
}

fn chat_text(item: SessionItem) -> String {
    match item {
        SessionItem::Notification(n) => match n.event {
            Event::ChannelChatMessageV1(m) => m.message.text,
            other => panic!("unexpected event {other:?}"),
        },
        other => panic!("unexpected item {other:?}"),
    }
}

#[tokio::test]
async fn a_session_hears_chat_through_reconnects_and_losses() {
    let mock = Mock::builder().start().await.expect("mock");
    let token = mock.mint_user_token("1001", "reader", &["user:read:chat", "user:write:chat"]);
    let client = client(&mock, token);
    let mut session = client
        .eventsub_websocket()
        .backoff(Backoff { initial: Duration::from_millis(10), max: Duration::from_millis(100) })
        .subscribe(ChannelChatMessageV1::new("1001", "1001"))
        .connect()
        .await
        .expect("connect");
    let first_session = session.session_id().expect("a session id");
    assert_eq!(session.subscriptions().len(), 1);

    client.send_chat_message("1001", "1001", "one").send().await.expect("send");
    assert_eq!(chat_text(next(&mut session).await), "one");

    // Twitch asks for a reconnect: the session moves, nothing is resubscribed.
    assert_eq!(mock.reconnect(Some(&first_session)), std::slice::from_ref(&first_session));
    client.send_chat_message("1001", "1001", "two").send().await.expect("send");
    assert_eq!(chat_text(next(&mut session).await), "two");
    let listed = client.get_eventsub_subscriptions().send().await.expect("list");
    assert_eq!(listed.data.len(), 1, "no second subscription after a reconnect");

    // An abrupt close: the session reconnects and subscribes again.
    mock.close(Some(&session.session_id().unwrap()), 4000);
    match next(&mut session).await {
        SessionItem::EventsMayBeLost(lost) => {
            assert!(matches!(lost.reason, DisconnectReason::Closed { code: CloseCode::InternalServerError, .. }))
        }
        other => panic!("unexpected {other:?}"),
    }
    match next(&mut session).await {
        SessionItem::Recovered(r) => {
            assert_eq!(r.resubscribed, 1);
            assert!(r.failed.is_empty(), "{:?}", r.failed);
            assert_ne!(r.session_id, first_session);
        }
        other => panic!("unexpected {other:?}"),
    }
    client.send_chat_message("1001", "1001", "three").send().await.expect("send");
    assert_eq!(chat_text(next(&mut session).await), "three");

    // Twitch revokes it: a typed revocation, and the session forgets it.
    let id = session.subscriptions()[0].id.clone();
    assert!(mock.revoke(&id, "authorization_revoked"));
    match next(&mut session).await {
        SessionItem::Revoked(r) => {
            assert_eq!(r.status, twitch::websocket::SubscriptionStatus::AuthorizationRevoked);
            assert_eq!(r.subscription.id, id);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(session.subscriptions().is_empty());
    session.close().await;
    assert!(tokio::time::timeout(WAIT, session.next()).await.expect("closes in time").is_none());
}

#[tokio::test]
async fn a_conduit_pool_attaches_recovers_and_scales() {
    let mock = Mock::builder().start().await.expect("mock");
    let app = mock.mint_app_token(&mock.client_id());
    let client = Client::builder()
        .client_id(mock.client_id())
        .app_token(app)
        .helix_url(mock.helix_url())
        .eventsub_ws_url(mock.ws_url())
        .build()
        .expect("client");
    let conduit = client.create_conduits(4).send().await.expect("conduit");
    let mut transport = twitch::helix::eventsub::EventSubTransportRequest::new("conduit");
    transport.conduit_id = Some(conduit.id.clone());
    client
        .create_eventsub_subscription("stream.online", "1", serde_json::json!({"broadcaster_user_id": "77"}), transport)
        .send()
        .await
        .expect("subscribe the conduit");

    let mut pool = client
        .shard_pool(conduit.id.clone())
        .shard_count(4)
        .backoff(Backoff { initial: Duration::from_millis(10), max: Duration::from_millis(100) })
        .start()
        .await
        .expect("pool");
    let shards = client.get_conduit_shards(conduit.id.clone()).send().await.expect("shards");
    assert_eq!(shards.data.len(), 4);
    assert!(shards.data.iter().all(|s| s.status.as_str() == "enabled"), "{:?}", shards.data);

    // Events are spread over the shards and merged into one stream.
    let mut got_shards = BTreeSet::new();
    for _ in 0..8 {
        let t = mock.trigger("stream.online", Some("1"), TriggerOptions::default()).expect("trigger");
        assert_eq!(t.delivered, 1);
        match next_in_pool(&mut pool).await {
            SessionItem::Notification(n) => {
                assert!(matches!(n.event, Event::StreamOnlineV1(_)));
                got_shards.insert(n.shard.expect("a shard"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(got_shards.len() > 1, "delivered through several shards: {got_shards:?}");

    // One shard's connection dies: it comes back on a new session and is attached again.
    let sessions = pool.sessions();
    let victim = sessions[&2].clone().expect("shard 2 has a session");
    mock.close(Some(&victim), 4006);
    let mut recovered = false;
    while !recovered {
        match next_in_pool(&mut pool).await {
            SessionItem::EventsMayBeLost(l) => assert_eq!(l.shard, Some(2)),
            SessionItem::Recovered(r) => {
                assert_eq!(r.shard, Some(2));
                assert_ne!(r.session_id, victim);
                recovered = true;
            }
            // The mock reports the disabled shard through conduit.shard.disabled when subscribed; not here.
            other => panic!("unexpected {other:?}"),
        }
    }
    let shards = client.get_conduit_shards(conduit.id.clone()).send().await.expect("shards");
    assert!(shards.data.iter().all(|s| s.status.as_str() == "enabled"), "{:?}", shards.data);

    // Scale up, then down.
    pool.scale(6).await.expect("scale up");
    assert_eq!(pool.shard_ids(), (0..6).collect::<Vec<_>>());
    let shards = client.get_conduit_shards(conduit.id.clone()).send().await.expect("shards");
    assert_eq!(shards.data.len(), 6);
    assert!(shards.data.iter().all(|s| s.status.as_str() == "enabled"), "{:?}", shards.data);
    pool.scale(2).await.expect("scale down");
    assert_eq!(pool.shard_ids(), [0, 1]);
    let conduits = client.get_conduits().send().await.expect("conduits");
    assert_eq!(conduits[0].shard_count, 2);
    for _ in 0..4 {
        mock.trigger("stream.online", Some("1"), TriggerOptions::default()).expect("trigger");
        match next_in_pool(&mut pool).await {
            SessionItem::Notification(n) => assert!(n.shard.unwrap() < 2),
            other => panic!("unexpected {other:?}"),
        }
    }
    pool.close().await;
}

/// A conduit pool of two shards on the mock, subscribed to `stream.online`.
/// The client does not retry by itself, so each fault is one failed call.
async fn conduit_pool(mock: &MockServer) -> (Client, String, twitch::ShardPool) {
    let client = Client::builder()
        .client_id(mock.client_id())
        .retry_policy(twitch::RetryPolicy::none())
        .app_token(mock.mint_app_token(&mock.client_id()))
        .helix_url(mock.helix_url())
        .eventsub_ws_url(mock.ws_url())
        .build()
        .expect("client");
    let conduit = client.create_conduits(2).send().await.expect("conduit");
    let mut transport = twitch::helix::eventsub::EventSubTransportRequest::new("conduit");
    transport.conduit_id = Some(conduit.id.clone());
    client
        .create_eventsub_subscription("stream.online", "1", serde_json::json!({"broadcaster_user_id": "77"}), transport)
        .send()
        .await
        .expect("subscribe the conduit");
    let pool = client
        .shard_pool(conduit.id.clone())
        .shard_count(2)
        .backoff(Backoff { initial: Duration::from_millis(10), max: Duration::from_millis(100) })
        .start()
        .await
        .expect("pool");
    (client, conduit.id.to_string(), pool)
}

/// Close `shard`'s session and follow the pool until the shard is attached
/// again: how many attach failures it reported on the way.
async fn reconnect_through(mock: &MockServer, pool: &mut twitch::ShardPool, shard: u32) -> u32 {
    let victim = pool.sessions()[&shard].clone().expect("a session");
    mock.close(Some(&victim), 4006);
    let mut failures = 0;
    loop {
        match next_in_pool(pool).await {
            SessionItem::EventsMayBeLost(l) => assert_eq!(l.shard, Some(shard)),
            SessionItem::Error(Error::EventSub(EventSubError::ShardAttachFailed { shard_id, attempt, .. })) => {
                assert_eq!(shard_id, shard.to_string());
                failures += 1;
                assert_eq!(attempt, failures);
            }
            SessionItem::Recovered(r) => {
                assert_eq!(r.shard, Some(shard));
                return failures;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Helix answers Update Conduit Shards with 503s, then drops the
/// connections, while a shard reconnects: far more failures than the
/// pool's five attempts at a refusal, and the shard is attached again once
/// Helix is back, receiving events as before.
#[tokio::test]
async fn a_helix_outage_while_a_shard_reconnects_costs_no_shard() {
    let mock = Mock::builder().start().await.expect("mock");
    let (_client, _conduit, mut pool) = conduit_pool(&mock).await;
    mock.fault(Fault::Status { status: 503, count: 12 });
    assert_eq!(reconnect_through(&mock, &mut pool, 1).await, 12);
    mock.fault(Fault::Drop { count: 8 });
    assert_eq!(reconnect_through(&mock, &mut pool, 0).await, 8);
    assert_eq!(pool.shard_ids(), [0, 1]);
    let mut shards = BTreeSet::new();
    for _ in 0..6 {
        assert_eq!(mock.trigger("stream.online", Some("1"), TriggerOptions::default()).expect("trigger").delivered, 1);
        match next_in_pool(&mut pool).await {
            SessionItem::Notification(n) => shards.insert(n.shard.expect("a shard")),
            other => panic!("unexpected {other:?}"),
        };
    }
    assert!(!shards.is_empty());
    pool.close().await;
}

/// The conduit was deleted: the next attach gets Twitch's 404, and the pool
/// ends with ConduitGone at once, without retrying.
#[tokio::test]
async fn a_pool_whose_conduit_is_gone_ends_with_its_own_error() {
    let mock = Mock::builder().start().await.expect("mock");
    let (client, conduit, mut pool) = conduit_pool(&mock).await;
    client.delete_conduit(conduit.clone()).send().await.expect("delete");
    let victim = pool.sessions()[&0].clone().expect("a session");
    mock.close(Some(&victim), 4006);
    loop {
        match next_in_pool(&mut pool).await {
            SessionItem::EventsMayBeLost(_) => {}
            SessionItem::Error(Error::EventSub(EventSubError::ConduitGone { conduit_id, .. })) => {
                assert_eq!(conduit_id, conduit);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let end = tokio::time::timeout(WAIT, async {
        while let Some(item) = pool.next().await {
            assert!(!matches!(item, SessionItem::Error(Error::EventSub(EventSubError::ShardAttachFailed { .. }))));
        }
    });
    end.await.expect("the pool ends");
    assert!(pool.shard_ids().is_empty(), "every shard closed");
}

/// Serve a webhook receiver on 127.0.0.1; its callback URL and what it hands on.
async fn webhook_receiver(
    secret: &str,
) -> (String, tokio::sync::mpsc::Receiver<twitch::webhook::WebhookMessage<Event>>) {
    use twitch::webhook::axum::{DEFAULT_PATH, WebhookReceiver};
    let (app, rx) = WebhookReceiver::new(twitch::webhook::WebhookVerifier::new(secret)).build::<Event>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}{DEFAULT_PATH}"), rx)
}

fn app_client(mock: &MockServer) -> Client {
    Client::builder()
        .client_id(mock.client_id())
        .app_token(mock.mint_app_token(&mock.client_id()))
        .helix_url(mock.helix_url())
        .auth_url(mock.auth_url())
        .build()
        .expect("client")
}

async fn status_of(client: &Client, id: &str) -> String {
    let listed = client.get_eventsub_subscriptions().subscription_id(id).send().await.expect("list");
    listed.data[0].status.to_string()
}

#[tokio::test]
async fn webhook_subscriptions_are_verified_then_receive_events_and_revocations() {
    use twitch::helix::eventsub::EventSubTransportRequest;
    use twitch::shared::EventSubTransportMethod;
    use twitch::webhook::WebhookMessage;

    let mock = Mock::builder().deliver_webhooks(true).start().await.expect("mock");
    let client = app_client(&mock);
    let (callback, mut rx) = webhook_receiver("s3cRe7s3cRe7").await;
    let mut transport = EventSubTransportRequest::new(EventSubTransportMethod::Webhook);
    transport.callback = Some(callback.clone());
    transport.secret = Some("s3cRe7s3cRe7".into());
    let created = client
        .create_eventsub_subscription(
            "stream.online",
            "1",
            serde_json::json!({"broadcaster_user_id": "1337"}),
            transport.clone(),
        )
        .send()
        .await
        .expect("create");
    let sub = &created.data[0];
    assert_eq!(sub.status.to_string(), "webhook_callback_verification_pending");

    // The receiver answers the challenge; the subscription turns enabled.
    let deadline = tokio::time::Instant::now() + WAIT;
    while status_of(&client, &sub.id).await != "enabled" {
        assert!(tokio::time::Instant::now() < deadline, "still {}", status_of(&client, &sub.id).await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The receiver answered the challenge and reports the verification.
    match tokio::time::timeout(WAIT, rx.recv()).await.expect("in time").expect("a message") {
        WebhookMessage::Verification { subscription } => assert_eq!(subscription.id, sub.id),
        other => panic!("unexpected {other:?}"),
    }

    // A triggered event arrives signed at the callback, decoded.
    let fired = mock.trigger("stream.online", None, TriggerOptions::default()).expect("trigger");
    assert_eq!(fired.delivered, 1);
    match tokio::time::timeout(WAIT, rx.recv()).await.expect("in time").expect("a message") {
        WebhookMessage::Notification { notification: n, .. } => {
            assert_eq!(n.subscription.parse().unwrap().id, sub.id);
            match n.event {
                Event::StreamOnlineV1(e) => assert_eq!(e.broadcaster_user_id, "1337"),
                other => panic!("unexpected event {other:?}"),
            }
        }
        other => panic!("unexpected {other:?}"),
    }

    // A revocation arrives as one.
    assert!(mock.revoke(&sub.id, "authorization_revoked"));
    match tokio::time::timeout(WAIT, rx.recv()).await.expect("in time").expect("a message") {
        WebhookMessage::Revocation { subscription } => {
            assert_eq!(subscription.id, sub.id);
            assert_eq!(subscription.status, "authorization_revoked");
        }
        other => panic!("unexpected {other:?}"),
    }

    // A callback signed with another secret refuses the challenge: verification fails.
    let (wrong, _rx) = webhook_receiver("another-secret-1").await;
    transport.callback = Some(wrong);
    let created = client
        .create_eventsub_subscription(
            "stream.offline",
            "1",
            serde_json::json!({"broadcaster_user_id": "1337"}),
            transport,
        )
        .send()
        .await
        .expect("create");
    let id = created.data[0].id.clone();
    let deadline = tokio::time::Instant::now() + WAIT;
    while status_of(&client, &id).await == "webhook_callback_verification_pending" {
        assert!(tokio::time::Instant::now() < deadline, "never verified");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status_of(&client, &id).await, "webhook_callback_verification_failed");
}

/// The whole path of a token that dies: the user's token is revoked at the
/// identity service, the manager's validation finds it (401, nothing to
/// refresh with), and the session that used it closes with a typed item.
#[tokio::test]
async fn a_session_ends_when_the_managers_validation_finds_its_token_dead() {
    let mock = Mock::builder().start().await.expect("mock");
    let token = mock.mint_user_token("1001", "reader", &["user:read:chat", "user:write:chat"]);
    let oauth = twitch::OAuth::new(mock.client_id(), None).auth_url(mock.auth_url());
    let manager = twitch::TokenManager::new(oauth.clone());
    let user =
        twitch::UserToken::new(token.clone(), "1001", "reader").with_scopes(["user:read:chat", "user:write:chat"]);
    manager.add_user(user).await.unwrap();
    let client = Client::builder()
        .client_id(mock.client_id())
        .token_manager(manager.clone())
        .helix_url(mock.helix_url())
        .auth_url(mock.auth_url())
        .eventsub_ws_url(mock.ws_url())
        .build()
        .unwrap();
    let mut session =
        client.eventsub_websocket().subscribe(ChannelChatMessageV1::new("1001", "1001")).connect().await.unwrap();
    client.send_chat_message("1001", "1001", "hi").send().await.unwrap();
    assert_eq!(chat_text(next(&mut session).await), "hi");

    // The user disconnects the app: the token is revoked.
    oauth.revoke(&twitch::AccessToken::new(token)).await.unwrap();
    manager.validate_all().await;
    assert_eq!(manager.invalid_users(), ["1001"]);
    match next(&mut session).await {
        SessionItem::TokenInvalid(t) => assert_eq!(t.user.as_deref(), Some("1001")),
        other => panic!("unexpected {other:?}"),
    }
    assert!(tokio::time::timeout(WAIT, session.next()).await.unwrap().is_none(), "the session ended");
    // Requests for that user now fail at once.
    assert!(matches!(client.get_users().send().await, Err(twitch::Error::TokenInvalid { .. })));
}

/// `session.events::<T>()` yields only `T`'s notifications, typed, and
/// passes losses and recoveries through; `Event::downcast` picks one type
/// out of the full stream.
#[tokio::test]
async fn typed_events_from_a_session() {
    use twitch::eventsub::stream::StreamOnlineV1;
    // Generic over the event: the typed stream yields `Item<ChannelChatMessageV1Event>`.
    use twitch::websocket::SessionItem as Item;

    let mock = Mock::builder().start().await.expect("mock");
    let token = mock.mint_user_token("1001", "reader", &["user:read:chat", "user:write:chat"]);
    let client = client(&mock, token);
    let mut session = client
        .eventsub_websocket()
        .backoff(Backoff { initial: Duration::from_millis(10), max: Duration::from_millis(100) })
        .subscribe(ChannelChatMessageV1::new("1001", "1001"))
        .subscribe(StreamOnlineV1::new("1001"))
        .connect()
        .await
        .expect("connect");

    client.send_chat_message("1001", "1001", "one").send().await.expect("send");
    mock.trigger("stream.online", Some("1"), TriggerOptions::default()).expect("trigger");
    client.send_chat_message("1001", "1001", "two").send().await.expect("send");
    let session_id = session.session_id().expect("a session id");
    {
        let mut chat = session.events::<ChannelChatMessageV1>();
        let mut next_typed = async || tokio::time::timeout(WAIT, chat.next()).await.expect("in time").expect("goes on");
        for want in ["one", "two"] {
            match next_typed().await {
                // Typed: a ChannelChatMessageV1Event, no match on `Event`.
                Item::Notification(n) => assert_eq!(n.event.message.text, want),
                other => panic!("unexpected {other:?}"),
            }
        }
        // A loss and the recovery pass through the typed stream.
        mock.close(Some(&session_id), 4000);
        assert!(matches!(next_typed().await, Item::EventsMayBeLost(_)));
        match next_typed().await {
            Item::Recovered(r) => assert_eq!(r.resubscribed, 2),
            other => panic!("unexpected {other:?}"),
        }
    }

    // The typed stream borrowed the session, which goes on with every event.
    mock.trigger("stream.online", Some("1"), TriggerOptions::default()).expect("trigger");
    match next(&mut session).await {
        SessionItem::Notification(n) => {
            assert!(n.event.downcast_ref::<ChannelChatMessageV1>().is_none());
            assert_eq!(n.event.downcast_ref::<StreamOnlineV1>().map(|e| e.broadcaster_user_id.as_str()), Some("1001"));
            let not_chat = n.event.downcast::<ChannelChatMessageV1>().expect_err("not a chat message");
            let online = not_chat.downcast::<StreamOnlineV1>().expect("a stream.online event");
            assert_eq!(online.broadcaster_user_id, "1001");
        }
        other => panic!("unexpected {other:?}"),
    }
    session.close().await;
}

/// The typed call on every transport: a webhook (verified by the receiver,
/// then delivering), a conduit and a WebSocket session; the typed condition
/// and Twitch's totals come back.
#[tokio::test]
async fn typed_subscriptions_on_every_transport() {
    use twitch::Transport;
    use twitch::eventsub::stream::StreamOnlineV1;
    use twitch::webhook::WebhookMessage;

    let mock = Mock::builder().deliver_webhooks(true).start().await.expect("mock");
    let app = app_client(&mock);

    // Webhook: pending until the receiver answers Twitch's challenge.
    let (callback, mut rx) = webhook_receiver("s3cRe7s3cRe7").await;
    let transport = Transport::webhook(callback, "s3cRe7s3cRe7");
    assert!(!format!("{transport:?}").contains("s3cRe7"), "the secret stays out of Debug");
    let made = app.subscribe(StreamOnlineV1::new("1337"), transport).await.expect("webhook subscription");
    assert_eq!(made.subscription.status.to_string(), "webhook_callback_verification_pending");
    assert_eq!(made.condition.broadcaster_user_id, "1337");
    assert_eq!((made.total, made.subscription.subscription_type.as_str()), (1, "stream.online"));
    match tokio::time::timeout(WAIT, rx.recv()).await.expect("in time").expect("a message") {
        WebhookMessage::Verification { subscription } => assert_eq!(subscription.id, made.subscription.id),
        other => panic!("unexpected {other:?}"),
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while status_of(&app, &made.subscription.id).await != "enabled" {
        assert!(tokio::time::Instant::now() < deadline, "never enabled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Conduit.
    let conduit = app.create_conduits(1).send().await.expect("conduit");
    let made = app.subscribe(StreamOnlineV1::new("1338"), Transport::conduit(&conduit.id)).await.expect("conduit");
    assert_eq!(made.subscription.status.to_string(), "enabled");
    assert_eq!(made.subscription.transport.conduit_id.as_deref(), Some(conduit.id.as_str()));
    assert_eq!(made.total, 2);

    // WebSocket: a session's id, a user token.
    let token = mock.mint_user_token("1001", "reader", &["user:read:chat"]);
    let user_client = client(&mock, token);
    let session = user_client.eventsub_websocket().connect().await.expect("connect");
    let id = session.session_id().expect("a session id");
    let made = user_client
        .subscribe(ChannelChatMessageV1::new("1001", "1001"), Transport::websocket(&id))
        .await
        .expect("websocket subscription");
    assert_eq!(made.subscription.transport.session_id.as_deref(), Some(id.as_str()));
    assert_eq!(made.condition.user_id, "1001");
    session.close().await;
}

/// Many at once: each outcome on its own, in the order given. A 403, a
/// 409 and a 503 sit beside the created ones without hiding them.
#[tokio::test]
async fn subscribe_all_reports_each_outcome() {
    use twitch::eventsub::channel::ChannelFollowV2;
    use twitch::eventsub::stream::{StreamOfflineV1, StreamOnlineV1};
    use twitch::{AnySubscription, Transport};

    let mock = Mock::builder().start().await.expect("mock");
    let app = app_client(&mock);
    let conduit = app.create_conduits(1).send().await.expect("conduit");

    // Sixty at default concurrency: all created, reported in order.
    let subs: Vec<AnySubscription> = (0..30)
        .flat_map(|i| {
            let id = (2000 + i).to_string();
            [AnySubscription::from(StreamOnlineV1::new(id.as_str())), StreamOfflineV1::new(id.as_str()).into()]
        })
        .collect();
    let done = app.subscribe_all(Transport::conduit(&conduit.id), subs.clone()).await;
    assert!(done.all_present() && done.existing.is_empty(), "{:?}", done.failed);
    assert_eq!(done.created.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>(), subs);
    assert!(done.created.iter().all(|(_, c)| c.subscription.status.to_string() == "enabled"));
    // Again: every one exists already (409), nothing failed, and each is
    // named by the id Twitch's 409 carries.
    let again = app.subscribe_all(Transport::conduit(&conduit.id), subs.clone()).await;
    assert_eq!((again.created.len(), again.existing.len()), (0, 60));
    assert!(again.all_present());
    let made: Vec<Option<String>> = done.created.iter().map(|(_, c)| Some(c.subscription.id.to_string())).collect();
    let named: Vec<Option<String>> = again.existing.iter().map(|(_, id)| id.as_ref().map(|i| i.to_string())).collect();
    assert_eq!(named, made);

    // A WebSocket session and a user token without moderator:read:followers.
    let token = mock.mint_user_token("1001", "reader", &["user:read:chat"]);
    let user_client = client(&mock, token);
    let session = user_client.eventsub_websocket().connect().await.expect("connect");
    let id = session.session_id().expect("a session id");
    // One at a time, so the injected 503 hits the first.
    mock.fault(Fault::Status { status: 503, count: 1 });
    let subs = [
        AnySubscription::from(StreamOnlineV1::new("1001")),
        ChannelChatMessageV1::new("1001", "1001").into(),
        ChannelFollowV2::new("1001", "1001").into(),
        ChannelChatMessageV1::new("1001", "1001").into(),
    ];
    let done = user_client.subscribe_all(Transport::websocket(&id), subs.clone()).concurrency(1).await;
    assert!(!done.all_present());
    let failed: Vec<(&str, Option<u16>)> = done.failed.iter().map(|(s, e)| (s.subscription_type, e.status())).collect();
    // Creating is not idempotent: the 503 is not retried, it is reported.
    assert_eq!(failed, [("stream.online", Some(503)), ("channel.follow", Some(403))]);
    assert_eq!(done.created.len(), 1);
    assert_eq!(done.created[0].0, subs[1]);
    let first = Some(done.created[0].1.subscription.id.clone());
    assert_eq!(done.existing, [(subs[3].clone(), first)]);
    session.close().await;
}
