//! Shard pools that claim conduit shards instead of running fixed ids,
//! against `twitch-mock`: claiming from a range and from any id, two pools
//! (and three OS processes) racing for one free shard, a claimed shard lost
//! to another session (its socket closed, or found by the health check)
//! and let go, a configured owner taking its shard back, and the rolling
//! rescale of the guide's conduit section (grow, then start processes; stop processes, then
//! shrink).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use twitch::websocket::{
    Backoff, BoxFuture, CloseCode, CreatedSubscription, DisconnectReason, EventSubApi, EventSubError, NewSubscription,
    OnTokenInvalid, ReleaseReason, ShardAttach, ShardError, ShardStatus,
};
use twitch::{Client, ConduitId, Error, SessionItem, SubscriptionInfo};
use twitch_mock::{Mock, MockServer, TriggerOptions};

const WAIT: Duration = Duration::from_secs(20);

fn fast() -> Backoff {
    Backoff { initial: Duration::from_millis(10), max: Duration::from_millis(100) }
}

fn app_client(mock: &MockServer) -> Client {
    Client::builder()
        .client_id(mock.client_id())
        .app_token(mock.mint_app_token(&mock.client_id()))
        .helix_url(mock.helix_url())
        .eventsub_ws_url(mock.ws_url())
        .build()
        .expect("client")
}

/// A conduit of `shards` shards, subscribed to `stream.online`.
async fn conduit(client: &Client, shards: u16) -> ConduitId {
    let conduit = client.create_conduits(shards).send().await.expect("conduit");
    let mut transport = twitch::helix::eventsub::EventSubTransportRequest::new("conduit");
    transport.conduit_id = Some(conduit.id.clone());
    client
        .create_eventsub_subscription("stream.online", "1", serde_json::json!({"broadcaster_user_id": "77"}), transport)
        .send()
        .await
        .expect("subscribe the conduit");
    conduit.id
}

/// Shard id -> (status, session id), by Get Conduit Shards.
async fn shards(client: &Client, conduit: &ConduitId) -> BTreeMap<u32, (String, Option<String>)> {
    EventSubApi::conduit_shards(client, conduit.clone())
        .await
        .expect("get conduit shards")
        .into_iter()
        .map(|s| (s.shard_id.parse().expect("a numeric shard id"), (s.status, s.session_id.map(|id| id.to_string()))))
        .collect()
}

/// Each running shard of the pool and its session.
fn sessions(pool: &twitch::ShardPool) -> BTreeMap<u32, String> {
    pool.sessions().into_iter().filter_map(|(id, s)| Some((id, s?.to_string()))).collect()
}

/// Wait until every shard of the conduit is enabled on the session that one
/// of `pools` runs it on, each shard run by one pool only.
async fn settled(client: &Client, conduit: &ConduitId, pools: &[&twitch::ShardPool]) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let listed = shards(client, conduit).await;
        let mut running = BTreeMap::new();
        let mut twice = false;
        for pool in pools {
            for (id, session) in sessions(pool) {
                twice |= running.insert(id, session).is_some();
            }
        }
        let ok = !twice
            && listed.len() == running.len()
            && listed.iter().all(|(id, (status, session))| {
                status == "enabled" && session.is_some() && running.get(id) == session.as_ref()
            });
        if ok {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "not settled: conduit {listed:?}, pools {running:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Read the pool until `want` matches an item; the items before it.
async fn until(pool: &mut twitch::ShardPool, mut want: impl FnMut(&SessionItem) -> bool) -> Vec<SessionItem> {
    let mut seen = Vec::new();
    loop {
        let item = tokio::time::timeout(WAIT, pool.next()).await.expect("an item in time").expect("the pool goes on");
        if want(&item) {
            seen.push(item);
            return seen;
        }
        seen.push(item);
    }
}

fn no_free_shard(e: &Error) -> Option<&str> {
    match e {
        Error::EventSub(EventSubError::NoFreeShard { range, .. }) => Some(range),
        _ => None,
    }
}

/// The generated client's Helix calls, with what a test needs on top: the
/// first update call held until every racer made one (`barrier` in one
/// process, `file_gate` across processes); the first update naming a
/// shard finding a rival already there and answered with an error entry,
/// as when another process's claim reached Twitch first (`beaten`); a
/// shard that Get Conduit Shards lists on another session, as when another
/// process took it and Twitch left this pool's socket open (`hide`); token
/// events the test sends (`tokens`).
struct Twisted {
    client: Client,
    barrier: Option<Arc<tokio::sync::Barrier>>,
    /// The shared directory and this racer's file in it.
    file_gate: Option<(std::path::PathBuf, String)>,
    beaten: Option<(u32, twitch::SessionId)>,
    hide: std::sync::Mutex<Option<u32>>,
    tokens: Option<tokio::sync::broadcast::Sender<twitch::TokenEvent>>,
    updated: AtomicBool,
    beaten_once: AtomicBool,
}

impl Twisted {
    fn new(client: Client) -> Self {
        Self {
            client,
            barrier: None,
            file_gate: None,
            beaten: None,
            hide: std::sync::Mutex::new(None),
            tokens: None,
            updated: AtomicBool::new(false),
            beaten_once: AtomicBool::new(false),
        }
    }

    fn pool(
        self: &Arc<Self>,
        conduit: &ConduitId,
        ws_url: String,
    ) -> twitch::websocket::ShardPoolBuilder<twitch::Event> {
        let api: Arc<dyn EventSubApi> = self.clone();
        twitch::websocket::ShardPoolBuilder::new(api, conduit.clone(), ws_url).backoff(fast())
    }

    async fn hold_first_update(&self) {
        if self.updated.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Some(barrier) = &self.barrier {
            barrier.wait().await;
        }
        if let Some((dir, me)) = &self.file_gate {
            std::fs::write(dir.join(me), b"").expect("write the gate file");
            let deadline = tokio::time::Instant::now() + WAIT;
            while std::fs::read_dir(dir).expect("the gate directory").count() < PROCESSES {
                assert!(tokio::time::Instant::now() < deadline, "the other children never came");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
}

impl EventSubApi for Twisted {
    fn create_subscription(&self, new: NewSubscription) -> BoxFuture<'_, twitch::Result<CreatedSubscription>> {
        self.client.create_subscription(new)
    }

    fn delete_subscription(
        &self,
        id: twitch::SubscriptionId,
        as_user: Option<twitch::UserId>,
    ) -> BoxFuture<'_, twitch::Result<()>> {
        self.client.delete_subscription(id, as_user)
    }

    fn update_conduit_shards(
        &self,
        conduit_id: ConduitId,
        shards: Vec<ShardAttach>,
    ) -> BoxFuture<'_, twitch::Result<Vec<ShardError>>> {
        Box::pin(async move {
            self.hold_first_update().await;
            let beaten = self.beaten.as_ref().filter(|(shard, _)| {
                shards.iter().any(|s| s.shard_id == *shard) && !self.beaten_once.swap(true, Ordering::SeqCst)
            });
            let Some((shard, rival)) = beaten else {
                return EventSubApi::update_conduit_shards(&self.client, conduit_id, shards).await;
            };
            let first = ShardAttach { shard_id: *shard, session_id: rival.clone() };
            let refused = EventSubApi::update_conduit_shards(&self.client, conduit_id.clone(), vec![first]).await?;
            assert!(refused.is_empty(), "the rival's update: {refused:?}");
            let rest: Vec<ShardAttach> = shards.into_iter().filter(|s| s.shard_id != *shard).collect();
            let mut errors = if rest.is_empty() {
                Vec::new()
            } else {
                EventSubApi::update_conduit_shards(&self.client, conduit_id, rest).await?
            };
            errors.push(ShardError::new(shard.to_string(), "The shard is assigned to another session", "conflict"));
            Ok(errors)
        })
    }

    fn update_conduit(&self, conduit_id: ConduitId, shard_count: u32) -> BoxFuture<'_, twitch::Result<()>> {
        EventSubApi::update_conduit(&self.client, conduit_id, shard_count)
    }

    fn subscriptions(
        &self,
        subscription_type: String,
        as_user: Option<twitch::UserId>,
    ) -> BoxFuture<'_, twitch::Result<Vec<SubscriptionInfo>>> {
        self.client.subscriptions(subscription_type, as_user)
    }

    fn conduit_shards(&self, conduit_id: ConduitId) -> BoxFuture<'_, twitch::Result<Vec<ShardStatus>>> {
        Box::pin(async move {
            let mut listed = EventSubApi::conduit_shards(&self.client, conduit_id).await?;
            if let Some(hidden) = *self.hide.lock().unwrap() {
                for s in listed.iter_mut().filter(|s| s.shard_id == hidden.to_string()) {
                    *s = ShardStatus::new(s.shard_id.clone(), "enabled", Some("elsewhere".into()));
                }
            }
            Ok(listed)
        })
    }

    fn token_events(&self) -> Option<twitch::tokens::TokenEvents> {
        self.tokens.as_ref().map(|t| t.subscribe())
    }
}

#[tokio::test]
async fn a_pool_claims_the_free_shards_of_its_range() {
    let mock = Mock::builder().start().await.expect("mock");
    let client = app_client(&mock);
    let id = conduit(&client, 6).await;

    // Shards 0 and 1 are another process's, by fixed assignment.
    let fixed = client.shard_pool(id.clone()).shards([0, 1]).backoff(fast()).start().await.expect("fixed pool");
    assert!(fixed.claimed_shard_ids().is_empty());
    // Every free shard of 1..5: 1 is enabled elsewhere, so 2, 3 and 4.
    let ranged = client
        .shard_pool(id.clone())
        .claim_range(1..5)
        .backoff(fast())
        .health_check(None)
        .start()
        .await
        .expect("claim 1..5");
    assert_eq!(ranged.shard_ids(), [2, 3, 4]);
    assert_eq!(ranged.claimed_shard_ids(), [2, 3, 4]);
    // Two of 4..: only 5 is free; the pool runs it and says it is one short.
    let mut short = client
        .shard_pool(id.clone())
        .claim(2)
        .claim_range(4..)
        .backoff(fast())
        .health_check(Some(Duration::from_millis(50)))
        .start()
        .await
        .expect("claim 4..");
    assert_eq!(short.shard_ids(), [5]);
    match tokio::time::timeout(WAIT, short.next()).await.expect("an item").expect("the pool goes on") {
        SessionItem::Error(e) => assert_eq!(no_free_shard(&e), Some("4.."), "{e}"),
        other => panic!("unexpected {other:?}"),
    }
    settled(&client, &id, &[&fixed, &ranged, &short]).await;

    // Nothing free in 0..2: the pool would run no shard, so it does not start.
    let e = client.shard_pool(id.clone()).claim_range(0..=1).backoff(fast()).start().await.expect_err("no free shard");
    assert_eq!(no_free_shard(&e), Some("0..2"), "{e}");
    assert!(e.to_string().contains("no free shard (0..2)"), "{e}");
    // The failed pool took nothing: the conduit is as it was.
    settled(&client, &id, &[&fixed, &ranged, &short]).await;

    // Shard 4 comes free: the pool one short claims it at its next health check.
    ranged.remove_shards([4]).await;
    let seen = until(&mut short, |i| matches!(i, SessionItem::ShardClaimed(_))).await;
    match &seen[..] {
        [SessionItem::ShardClaimed(c)] => assert_eq!(c.shard, 4),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!((ranged.shard_ids(), short.shard_ids()), (vec![2, 3], vec![4, 5]));
    settled(&client, &id, &[&fixed, &ranged, &short]).await;
}

#[tokio::test]
async fn pools_claim_any_free_shard_and_a_restarted_one_needs_no_assignment() {
    let mock = Mock::builder().start().await.expect("mock");
    let client = app_client(&mock);
    let id = conduit(&client, 3).await;

    let a = client.shard_pool(id.clone()).claim(1).backoff(fast()).start().await.expect("a");
    let b = client.shard_pool(id.clone()).claim(1).backoff(fast()).start().await.expect("b");
    let c = client.shard_pool(id.clone()).claim(1).backoff(fast()).start().await.expect("c");
    assert_eq!((a.shard_ids(), b.shard_ids(), c.shard_ids()), (vec![0], vec![1], vec![2]));
    settled(&client, &id, &[&a, &b, &c]).await;
    let e = client.shard_pool(id.clone()).claim(1).backoff(fast()).start().await.expect_err("nothing free");
    assert_eq!(no_free_shard(&e), Some("any"), "{e}");

    // The process of shard 1 stops; its replacement finds shard 1 free.
    b.close().await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while shards(&client, &id).await[&1].0 == "enabled" {
        assert!(tokio::time::Instant::now() < deadline, "shard 1 stays enabled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let restarted = client.shard_pool(id.clone()).claim(1).backoff(fast()).start().await.expect("restarted");
    assert_eq!(restarted.shard_ids(), [1]);
    settled(&client, &id, &[&a, &restarted, &c]).await;
}

#[tokio::test]
async fn two_pools_racing_for_one_free_shard_end_with_one_each() {
    let mock = Mock::builder().start().await.expect("mock");
    let client = app_client(&mock);
    let id = conduit(&client, 2).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let pool = |client: Client| {
        let api = Arc::new(Twisted { barrier: Some(barrier.clone()), ..Twisted::new(client) });
        // Only the lost socket tells the loser (Twitch closes it with 4003).
        api.pool(&id, mock.ws_url()).claim(1).health_check(None).start()
    };
    let (a, b) = tokio::join!(pool(app_client(&mock)), pool(app_client(&mock)));
    let (mut a, mut b) = (a.expect("a"), b.expect("b"));
    // Both read shard 0 free and claimed it (the gate held their updates
    // until both had read the conduit); the mock applied one update, then
    // the other, which took the shard: its holder is the winner.
    let holder = shards(&client, &id).await[&0].1.clone().expect("shard 0 has a session");
    let deadline = tokio::time::Instant::now() + WAIT;
    let a_won = loop {
        if sessions(&a).get(&0) == Some(&holder) {
            break true;
        }
        if sessions(&b).get(&0) == Some(&holder) {
            break false;
        }
        assert!(tokio::time::Instant::now() < deadline, "neither pool runs shard 0 on {holder}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let (loser, winner) = if a_won { (&mut b, &mut a) } else { (&mut a, &mut b) };
    let winner_session = sessions(winner)[&0].clone();
    let seen = until(loser, |i| matches!(i, SessionItem::ShardClaimed(_))).await;
    let lost = seen.iter().any(|i| {
        matches!(i, SessionItem::EventsMayBeLost(l)
            if l.shard == Some(0) && matches!(l.reason, DisconnectReason::Closed { code: CloseCode::ConnectionUnused, .. }))
    });
    assert!(lost, "the loser's socket was closed with 4003: {seen:?}");
    let released = seen.iter().any(|i| {
        matches!(i, SessionItem::ShardReleased(r)
            if r.shard == 0 && r.reason == ReleaseReason::Taken { session_id: Some(winner_session.as_str().into()) })
    });
    assert!(released, "the loser let shard 0 go: {seen:?}");
    match seen.last() {
        Some(SessionItem::ShardClaimed(c)) => {
            assert_eq!(c.shard, 1);
            assert_eq!(Some(c.session_id.to_string()), sessions(loser).get(&1).cloned());
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(loser.shard_ids(), [1]);
    assert_eq!(winner.shard_ids(), [0]);
    settled(&client, &id, &[loser, winner]).await;
}

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// A bare EventSub WebSocket connection to the mock: its socket (kept open)
/// and its session id.
async fn bare_session(mock: &MockServer) -> (Ws, String) {
    let url = mock.ws_url();
    let authority = url.trim_start_matches("ws://").split('/').next().expect("an authority").to_owned();
    let tcp = tokio::net::TcpStream::connect(authority).await.expect("tcp connect");
    let (mut ws, _) = tokio_tungstenite::client_async(url, tcp).await.expect("websocket handshake");
    let welcome = match ws.next().await {
        Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) => t,
        other => panic!("no welcome: {other:?}"),
    };
    let v: serde_json::Value = serde_json::from_str(&welcome).expect("JSON");
    let id = v["payload"]["session"]["id"].as_str().expect("a session id").to_owned();
    (ws, id)
}

#[tokio::test]
async fn a_claim_twitch_refuses_because_the_shard_was_taken_goes_to_the_next_free_shard() {
    let mock = Mock::builder().start().await.expect("mock");
    let client = app_client(&mock);
    let id = conduit(&client, 2).await;
    let (_rival_ws, rival) = bare_session(&mock).await;
    let beaten = || Arc::new(Twisted { beaten: Some((0, rival.as_str().into())), ..Twisted::new(client.clone()) });
    let pool = beaten().pool(&id, mock.ws_url()).claim(1).start().await.expect("pool");
    // Refused on shard 0, which the rival now holds: the pool took shard 1.
    assert_eq!(pool.shard_ids(), [1]);
    let listed = shards(&client, &id).await;
    assert_eq!(listed[&0], ("enabled".to_owned(), Some(rival.clone())));
    assert_eq!(listed[&1], ("enabled".to_owned(), sessions(&pool).get(&1).cloned()));

    // With one shard, the loser has nowhere to go: start says no shard is free.
    let id = conduit(&client, 1).await;
    let e = beaten().pool(&id, mock.ws_url()).claim(1).start().await.expect_err("no free shard");
    assert_eq!(no_free_shard(&e), Some("any"), "{e}");
    assert_eq!(shards(&client, &id).await[&0], ("enabled".to_owned(), Some(rival)));
}

#[tokio::test]
async fn a_claimed_shard_taken_by_an_owner_is_let_go_and_replaced() {
    let mock = Mock::builder().start().await.expect("mock");
    let client = app_client(&mock);
    let id = conduit(&client, 2).await;
    let mut claimer =
        client.shard_pool(id.clone()).claim(1).backoff(fast()).health_check(None).start().await.expect("claimer");
    assert_eq!(claimer.shard_ids(), [0]);
    let before = sessions(&claimer)[&0].clone();

    // A process configured to own shard 0 starts: it takes the shard, and
    // Twitch closes the claimer's now unused socket with 4003.
    let mut owner = client.shard_pool(id.clone()).shards([0]).backoff(fast()).start().await.expect("owner");
    let owner_session = sessions(&owner)[&0].clone();
    let seen = until(&mut claimer, |i| matches!(i, SessionItem::ShardClaimed(_))).await;
    match &seen[..] {
        [
            SessionItem::EventsMayBeLost(lost),
            SessionItem::ShardReleased(released),
            SessionItem::ShardClaimed(claimed),
        ] => {
            assert_eq!((lost.shard, lost.session_id.as_str()), (Some(0), before.as_str()));
            assert!(matches!(lost.reason, DisconnectReason::Closed { code: CloseCode::ConnectionUnused, .. }));
            assert_eq!(released.shard, 0);
            assert_eq!(released.reason, ReleaseReason::Taken { session_id: Some(owner_session.as_str().into()) });
            assert_eq!(claimed.shard, 1);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(claimer.shard_ids(), [1]);
    assert!(claimer.claimed_shard_ids() == [1]);
    settled(&client, &id, &[&claimer, &owner]).await;

    // Settled for good: no one takes anything back. Events reach both.
    let mut got = BTreeSet::new();
    for _ in 0..4 {
        let t = mock.trigger("stream.online", Some("1"), TriggerOptions::default()).expect("trigger");
        assert_eq!(t.delivered, 1);
    }
    for pool in [&mut claimer, &mut owner] {
        for _ in 0..2 {
            match tokio::time::timeout(WAIT, pool.next()).await.expect("an item").expect("the pool goes on") {
                SessionItem::Notification(n) => {
                    got.insert(n.shard.expect("a shard"));
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(got, BTreeSet::from([0, 1]));
    assert_eq!(sessions(&owner)[&0], owner_session, "the owner kept its session");
}

#[tokio::test]
async fn the_health_check_lets_go_of_a_claimed_shard_found_on_another_session() {
    let mock = Mock::builder().start().await.expect("mock");
    let client = app_client(&mock);
    let id = conduit(&client, 2).await;
    let api = Arc::new(Twisted::new(client.clone()));
    let mut pool = api
        .pool(&id, mock.ws_url())
        .claim(1)
        .health_check(Some(Duration::from_millis(50)))
        .start()
        .await
        .expect("pool");
    assert_eq!(pool.shard_ids(), [0]);
    *api.hide.lock().unwrap() = Some(0);
    let seen = until(&mut pool, |i| matches!(i, SessionItem::ShardClaimed(_))).await;
    match &seen[..] {
        [SessionItem::ShardReleased(r), SessionItem::ShardClaimed(c)] => {
            assert_eq!(r.shard, 0);
            assert_eq!(r.reason, ReleaseReason::Taken { session_id: Some("elsewhere".into()) });
            assert_eq!(c.shard, 1);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(pool.shard_ids(), [1]);
    // Its socket for shard 0 is closed; shard 1 runs on the new one.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let listed = shards(&client, &id).await;
        if listed[&0].0 != "enabled" && listed[&1] == ("enabled".to_owned(), sessions(&pool).get(&1).cloned()) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{listed:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn after_a_new_app_token_a_pool_claims_afresh_and_takes_nothing_back() {
    let mock = Mock::builder().start().await.expect("mock");
    let client = app_client(&mock);
    let id = conduit(&client, 2).await;
    let (tokens, _) = tokio::sync::broadcast::channel(16);
    let api = Arc::new(Twisted { tokens: Some(tokens.clone()), ..Twisted::new(client.clone()) });
    let mut pool = api
        .pool(&id, mock.ws_url())
        .claim(1)
        .health_check(None)
        .on_token_invalid(OnTokenInvalid::WaitForNewToken)
        .start()
        .await
        .expect("pool");
    assert_eq!(pool.shard_ids(), [0]);

    // The app token is refused for good: the pool closes its shard ...
    tokens.send(twitch::TokenEvent::AppTokenInvalid).expect("the pool listens");
    match tokio::time::timeout(WAIT, pool.next()).await.expect("an item").expect("the pool waits") {
        SessionItem::TokenInvalid(t) => assert_eq!(t.policy, OnTokenInvalid::WaitForNewToken),
        other => panic!("unexpected {other:?}"),
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while shards(&client, &id).await[&0].0 == "enabled" {
        assert!(tokio::time::Instant::now() < deadline, "shard 0 stays enabled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // ... which another process claims meanwhile.
    let other = client.shard_pool(id.clone()).claim(1).backoff(fast()).start().await.expect("other");
    assert_eq!(other.shard_ids(), [0]);

    // With a new token, the pool claims a free shard: 1, not its old 0.
    tokens.send(twitch::TokenEvent::AppTokenRenewed).expect("the pool listens");
    match tokio::time::timeout(WAIT, pool.next()).await.expect("an item").expect("the pool goes on") {
        SessionItem::ShardClaimed(c) => assert_eq!(c.shard, 1),
        other => panic!("unexpected {other:?}"),
    }
    settled(&client, &id, &[&pool, &other]).await;
}

#[tokio::test]
async fn an_owner_takes_its_shard_back_at_once() {
    let mock = Mock::builder().start().await.expect("mock");
    let client = app_client(&mock);
    let id = conduit(&client, 1).await;
    let mut owner = client.shard_pool(id.clone()).shards([0]).backoff(fast()).start().await.expect("owner");
    let first = sessions(&owner)[&0].clone();

    // Something else points shard 0 at its own session.
    let (mut rival_ws, rival) = bare_session(&mock).await;
    let take = ShardAttach { shard_id: 0, session_id: rival.as_str().into() };
    assert!(EventSubApi::update_conduit_shards(&client, id.clone(), vec![take]).await.expect("take").is_empty());

    // The owner's socket is closed (4003); it reconnects and attaches shard 0 again.
    let seen = until(&mut owner, |i| matches!(i, SessionItem::Recovered(_))).await;
    match &seen[..] {
        [SessionItem::EventsMayBeLost(lost), SessionItem::Recovered(r)] => {
            assert!(matches!(lost.reason, DisconnectReason::Closed { code: CloseCode::ConnectionUnused, .. }));
            assert_eq!(r.shard, Some(0));
            assert_ne!(r.session_id, first);
        }
        other => panic!("unexpected {other:?}"),
    }
    settled(&client, &id, &[&owner]).await;
    // And the rival's session, unused now, is closed with 4003 in turn.
    let closed = tokio::time::timeout(WAIT, async {
        while let Some(m) = rival_ws.next().await {
            if let Ok(tokio_tungstenite::tungstenite::Message::Close(Some(f))) = m {
                return u16::from(f.code);
            }
        }
        0
    })
    .await
    .expect("the rival is closed");
    assert_eq!(closed, 4003);
    let _ = rival_ws.close(None).await;
}

#[tokio::test]
async fn rolling_rescale_grow_the_conduit_then_start_processes() {
    let mock = Mock::builder().start().await.expect("mock");
    let client = app_client(&mock);
    let id = conduit(&client, 2).await;
    let mut pools = Vec::new();
    for _ in 0..2 {
        pools.push(client.shard_pool(id.clone()).claim(1).backoff(fast()).start().await.expect("pool"));
    }
    // Grow to 4 first, then start two more processes: they find 2 and 3 free.
    EventSubApi::update_conduit(&client, id.clone(), 4).await.expect("grow");
    for _ in 0..2 {
        pools.push(client.shard_pool(id.clone()).claim(1).backoff(fast()).start().await.expect("pool"));
    }
    // A fifth process grows the conduit itself as it starts.
    pools.push(client.shard_pool(id.clone()).claim(1).grow_conduit_to(5).backoff(fast()).start().await.expect("pool"));
    let ids: Vec<Vec<u32>> = pools.iter().map(|p| p.shard_ids()).collect();
    assert_eq!(ids, [[0], [1], [2], [3], [4]]);
    settled(&client, &id, &pools.iter().collect::<Vec<_>>()).await;

    // Notifications go round the five shards: every process gets one.
    for _ in 0..5 {
        assert_eq!(mock.trigger("stream.online", Some("1"), TriggerOptions::default()).expect("trigger").delivered, 1);
    }
    for (k, pool) in pools.iter_mut().enumerate() {
        match tokio::time::timeout(WAIT, pool.next()).await.expect("an item").expect("the pool goes on") {
            SessionItem::Notification(n) => assert_eq!(n.shard, Some(k as u32)),
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn rolling_rescale_stop_processes_then_shrink_the_conduit() {
    let mock = Mock::builder().start().await.expect("mock");
    let client = app_client(&mock);
    let id = conduit(&client, 3).await;
    let start = || {
        client.shard_pool(id.clone()).claim(1).backoff(fast()).health_check(Some(Duration::from_millis(100))).start()
    };
    let mut a = start().await.expect("a");
    let b = start().await.expect("b");
    let mut c = start().await.expect("c");
    assert_eq!((a.shard_ids(), b.shard_ids(), c.shard_ids()), (vec![0], vec![1], vec![2]));

    // Stop the process of shard 1, then shrink to 2: shard 2 is gone, and
    // its process moves to the shard 1 left free.
    b.close().await;
    drop(b);
    EventSubApi::update_conduit(&client, id.clone(), 2).await.expect("shrink");
    let seen = until(&mut c, |i| matches!(i, SessionItem::ShardClaimed(_))).await;
    match &seen[..] {
        [SessionItem::ShardReleased(r), SessionItem::ShardClaimed(claimed)] => {
            assert_eq!((r.shard, &r.reason), (2, &ReleaseReason::Removed));
            assert_eq!(claimed.shard, 1);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(c.shard_ids(), [1]);
    settled(&client, &id, &[&a, &c]).await;
    for _ in 0..2 {
        assert_eq!(mock.trigger("stream.online", Some("1"), TriggerOptions::default()).expect("trigger").delivered, 1);
    }
    let mut got = BTreeSet::new();
    for pool in [&mut a, &mut c] {
        match tokio::time::timeout(WAIT, pool.next()).await.expect("an item").expect("the pool goes on") {
            SessionItem::Notification(n) => {
                got.insert(n.shard.expect("a shard"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got, BTreeSet::from([0, 1]));
}

// ---------------------------------------------------------------------------
// OS processes racing for one shard.

/// How many race.
const PROCESSES: usize = 3;

/// Where a child reports, one line each: `SHARDS <id>=<session> ...`.
const REPORT: &str = "SHARDS";

#[test]
fn three_processes_racing_for_one_free_shard_end_with_one_each() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let mock = Mock::builder().start().await.expect("mock");
        let client = app_client(&mock);
        let id = conduit(&client, PROCESSES as u16).await;
        let gate = std::env::temp_dir().join(format!("conduit-claim-{}-{}", std::process::id(), id));
        std::fs::create_dir_all(&gate).expect("gate directory");
        let children: Vec<Child> = (0..PROCESSES).map(|k| Child::spawn(&mock, &id, &gate, k)).collect();

        // Each child ends up with one shard, no two the same, and the
        // conduit has every shard enabled on the session of its child.
        let deadline = tokio::time::Instant::now() + WAIT;
        let settled = loop {
            let reports: Vec<BTreeMap<u32, String>> = children.iter().map(Child::last_report).collect();
            let listed = shards(&client, &id).await;
            let one_each = reports.iter().all(|r| r.len() == 1);
            let mut held: BTreeMap<u32, String> = BTreeMap::new();
            let distinct = reports.iter().flatten().all(|(s, session)| held.insert(*s, session.clone()).is_none());
            let matches = listed.iter().all(|(s, (status, session))| {
                status == "enabled" && session.is_some() && held.get(s) == session.as_ref()
            });
            if one_each && distinct && matches && held.len() == PROCESSES {
                break held;
            }
            if tokio::time::Instant::now() > deadline {
                let out: Vec<String> = children.iter().map(|c| c.lines.lock().unwrap().join("\n")).collect();
                panic!("not settled: {reports:?} vs {listed:?}; the children said:\n{}", out.join("\n---\n"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(settled.keys().copied().collect::<Vec<_>>(), (0..PROCESSES as u32).collect::<Vec<_>>());
        let mut out = String::new();
        for child in children {
            out.push_str(&child.finish());
        }
        // All claimed shard 0 at once (the gate held their updates until
        // every one had read the conduit); all but one let it go.
        assert_eq!(out.matches("RELEASED 0").count(), PROCESSES - 1, "{out}");
        let _ = std::fs::remove_dir_all(&gate);
    });
}

/// A child process running one claiming pool.
struct Child {
    process: std::process::Child,
    lines: Arc<std::sync::Mutex<Vec<String>>>,
    reader: std::thread::JoinHandle<()>,
}

impl Child {
    fn spawn(mock: &MockServer, conduit: &ConduitId, gate: &std::path::Path, k: usize) -> Child {
        use std::io::BufRead;
        let mut process = std::process::Command::new(std::env::current_exe().expect("the test binary"))
            .args(["--ignored", "--exact", "claiming_child_process", "--nocapture", "--test-threads", "1"])
            .env("CLAIM_CHILD_HELIX", mock.helix_url())
            .env("CLAIM_CHILD_WS", mock.ws_url())
            .env("CLAIM_CHILD_CLIENT_ID", mock.client_id())
            .env("CLAIM_CHILD_TOKEN", mock.mint_app_token(&mock.client_id()))
            .env("CLAIM_CHILD_CONDUIT", conduit.as_str())
            .env("CLAIM_CHILD_GATE", gate)
            .env("CLAIM_CHILD_INDEX", k.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("spawn the child");
        let stdout = process.stdout.take().expect("stdout");
        let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Child { process, lines, reader }
    }

    /// The shards (and sessions) the child last said it runs.
    fn last_report(&self) -> BTreeMap<u32, String> {
        let lines = self.lines.lock().unwrap();
        // libtest's "test name ... " may start the child's first line.
        let Some(last) = lines.iter().rev().find_map(|l| l.split_once(REPORT)) else { return BTreeMap::new() };
        last.1
            .split_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .map(|(s, session)| (s.parse().expect("a shard id"), session.to_owned()))
            .collect()
    }

    /// Close its stdin (it stops its pool and exits); everything it printed.
    fn finish(mut self) -> String {
        drop(self.process.stdin.take());
        let status = self.process.wait().expect("the child exits");
        self.reader.join().expect("the reader");
        let out = self.lines.lock().unwrap().join("\n");
        assert!(status.success(), "the child failed:\n{out}");
        assert!(out.contains("1 passed"), "the child did not run:\n{out}");
        out
    }
}

#[test]
#[ignore = "run by three_processes_racing_for_one_free_shard_end_with_one_each in a child process"]
fn claiming_child_process() {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by the parent test"));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let client = Client::builder()
            .client_id(var("CLAIM_CHILD_CLIENT_ID"))
            .app_token(var("CLAIM_CHILD_TOKEN"))
            .helix_url(var("CLAIM_CHILD_HELIX"))
            .eventsub_ws_url(var("CLAIM_CHILD_WS"))
            .build()
            .expect("client");
        let gate = Some((var("CLAIM_CHILD_GATE").into(), var("CLAIM_CHILD_INDEX")));
        let api = Arc::new(Twisted { file_gate: gate, ..Twisted::new(client) });
        let conduit = ConduitId::from(var("CLAIM_CHILD_CONDUIT"));
        let mut pool = api
            .pool(&conduit, var("CLAIM_CHILD_WS"))
            .claim(1)
            .health_check(None)
            .start()
            .await
            .expect("the child's pool");
        let report = |pool: &twitch::ShardPool| {
            let pairs: Vec<String> = sessions(pool).iter().map(|(s, session)| format!("{s}={session}")).collect();
            println!("{REPORT} {}", pairs.join(" "));
        };
        report(&pool);
        // The parent closes stdin when it has seen enough.
        let (eof_tx, mut eof) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
            let _ = eof_tx.send(());
        });
        loop {
            tokio::select! {
                _ = &mut eof => break,
                item = pool.next() => match item {
                    Some(SessionItem::ShardReleased(r)) => println!("RELEASED {}", r.shard),
                    Some(SessionItem::ShardClaimed(c)) => {
                        println!("CLAIMED {}", c.shard);
                        report(&pool);
                    }
                    Some(SessionItem::Recovered(_)) => report(&pool),
                    Some(other) => println!("ITEM {other:?}"),
                    None => panic!("the pool ended"),
                },
            }
        }
        pool.close().await;
    });
}
