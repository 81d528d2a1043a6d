//! The mock's stateful writes: every write answers with what it created
//! or changed, and later reads show it (create → get shows it; update →
//! get shows the change; delete → gone), per family of endpoints. On
//! 127.0.0.1, through raw Helix requests and through the generated client.

use std::time::Duration;

use serde_json::{Value, json};
use twitch_mock::{Mock, MockServer};

/// Hang guard for anything awaited; never an assertion about speed.
const GUARD: Duration = Duration::from_secs(60);

const ME: &str = "141981764";

fn http() -> reqwest::Client {
    twitch::__rt::tls::client_builder().expect("TLS setup").pool_max_idle_per_host(0).build().expect("reqwest client")
}

/// A Helix request as the user `ME` with every scope these tests need:
/// status and JSON body (`Null` when empty).
async fn helix(mock: &MockServer, method: &str, path_and_query: &str, body: Option<Value>) -> (u16, Value) {
    let token = mock.mint_user_token(
        ME,
        "twitchdev",
        &[
            "channel:manage:redemptions",
            "channel:manage:polls",
            "channel:manage:predictions",
            "channel:manage:broadcast",
            "channel:manage:schedule",
            "clips:edit",
            "moderator:manage:blocked_terms",
            "moderator:manage:chat_settings",
            "moderator:manage:shield_mode",
            "channel:manage:raids",
            "user:edit",
            "user:manage:chat_color",
            "moderator:manage:automod_settings",
            "moderator:read:automod_settings",
            "user:manage:blocked_users",
            "user:read:blocked_users",
            "channel:manage:guest_star",
            "channel:read:guest_star",
            "channel:edit:commercial",
            "moderator:manage:warnings",
            "moderator:manage:suspicious_users",
            "channel:manage:videos",
            "channel:manage:ads",
            "channel:read:ads",
            "moderator:manage:banned_users",
            "moderator:manage:unban_requests",
            "moderation:read",
        ],
    );
    helix_with(mock, &token, method, path_and_query, body).await
}

/// A Helix request with this token: status and JSON body (`Null` when empty).
async fn helix_with(
    mock: &MockServer,
    token: &str,
    method: &str,
    path_and_query: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = http()
        .request(method, format!("{}{path_and_query}", mock.helix_url()))
        .header("Client-Id", mock.client_id())
        .header("Authorization", format!("Bearer {token}"));
    if let Some(b) = body {
        req = req.header("Content-Type", "application/json").body(b.to_string());
    }
    let resp = tokio::time::timeout(GUARD, req.send()).await.expect("hang guard").expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn mock() -> MockServer {
    Mock::builder().start().await.expect("start the mock")
}

fn ids(body: &Value) -> Vec<String> {
    body["data"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn custom_rewards_and_their_redemptions() {
    let mock = mock().await;
    let (status, created) = helix(
        &mock,
        "POST",
        &format!("/channel_points/custom_rewards?broadcaster_id={ME}"),
        Some(json!({"title": "mock reward", "cost": 100, "is_max_per_stream_enabled": true, "max_per_stream": 3})),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let reward = &created["data"][0];
    assert_eq!((reward["title"].as_str(), reward["cost"].as_u64()), (Some("mock reward"), Some(100)), "{created}");
    assert_eq!(reward["max_per_stream_setting"], json!({"is_enabled": true, "max_per_stream": 3}));
    assert_eq!(
        (reward["broadcaster_id"].as_str(), reward["broadcaster_login"].as_str()),
        (Some(ME), Some("twitchdev"))
    );
    let id = reward["id"].as_str().unwrap().to_owned();
    assert_ne!(id, "92af127c-7326-4483-a52b-b0da0be61c01", "a fresh id, not the example's");
    let (_, second) = helix(
        &mock,
        "POST",
        &format!("/channel_points/custom_rewards?broadcaster_id={ME}"),
        Some(json!({"title": "two", "cost": 5})),
    )
    .await;
    let second_id = second["data"][0]["id"].as_str().unwrap().to_owned();
    // Get shows both, in order; by id, the one.
    let (_, list) = helix(&mock, "GET", &format!("/channel_points/custom_rewards?broadcaster_id={ME}"), None).await;
    assert_eq!(ids(&list), [id.clone(), second_id.clone()]);
    let (_, one) =
        helix(&mock, "GET", &format!("/channel_points/custom_rewards?broadcaster_id={ME}&id={id}"), None).await;
    assert_eq!(one["data"][0]["title"], "mock reward");
    // Update answers the change; Get shows it.
    let (status, updated) = helix(
        &mock,
        "PATCH",
        &format!("/channel_points/custom_rewards?broadcaster_id={ME}&id={id}"),
        Some(json!({"cost": 250, "is_paused": true})),
    )
    .await;
    assert_eq!((status, updated["data"][0]["cost"].as_u64()), (200, Some(250)), "{updated}");
    let (_, one) =
        helix(&mock, "GET", &format!("/channel_points/custom_rewards?broadcaster_id={ME}&id={id}"), None).await;
    assert_eq!((one["data"][0]["cost"].as_u64(), one["data"][0]["is_paused"].as_bool()), (Some(250), Some(true)));

    // A viewer redeems it (control API); the redemption lists and changes.
    // Before that, the reward has no redemptions (not the example's).
    let path =
        format!("/channel_points/custom_rewards/redemptions?broadcaster_id={ME}&reward_id={id}&status=UNFULFILLED");
    let (_, none) = helix(&mock, "GET", &path, None).await;
    assert_eq!(none["data"], json!([]), "{none}");
    let redemption = mock.redeem(ME, &id, "10005", "hi").expect("redeem");
    let rid = redemption["id"].as_str().unwrap().to_owned();
    assert!(mock.redeem(ME, "no-such-reward", "10005", "").is_err());
    let (status, list) = helix(&mock, "GET", &path, None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(ids(&list), [rid.as_str()]);
    let r = &list["data"][0];
    assert_eq!((r["user_login"].as_str(), r["user_input"].as_str()), (Some("mockuser5"), Some("hi")));
    assert_eq!((r["reward"]["id"].as_str(), r["reward"]["cost"].as_u64()), (Some(id.as_str()), Some(250)));
    let (status, changed) = helix(
        &mock,
        "PATCH",
        &format!("/channel_points/custom_rewards/redemptions?broadcaster_id={ME}&reward_id={id}&id={rid}"),
        Some(json!({"status": "FULFILLED"})),
    )
    .await;
    assert_eq!((status, changed["data"][0]["status"].as_str()), (200, Some("FULFILLED")), "{changed}");
    let (_, unfulfilled) = helix(&mock, "GET", &path, None).await;
    assert_eq!(ids(&unfulfilled), Vec::<String>::new());
    let (_, fulfilled) = helix(&mock, "GET", &path.replace("UNFULFILLED", "FULFILLED"), None).await;
    assert_eq!(ids(&fulfilled), [rid]);

    // Delete: gone, and deleting again is Twitch's 404.
    let del = format!("/channel_points/custom_rewards?broadcaster_id={ME}&id={id}");
    assert_eq!(helix(&mock, "DELETE", &del, None).await.0, 204);
    let (_, list) = helix(&mock, "GET", &format!("/channel_points/custom_rewards?broadcaster_id={ME}"), None).await;
    assert_eq!(ids(&list), [second_id]);
    assert_eq!(helix(&mock, "DELETE", &del, None).await.0, 404);
    // A channel nothing was written to answers from Twitch's example.
    let (_, other) = helix(&mock, "GET", "/channel_points/custom_rewards?broadcaster_id=274637212", None).await;
    assert_eq!(other["data"][0]["title"], "game analysis");
}

#[tokio::test]
async fn polls_and_predictions_through_the_generated_client() {
    let mock = mock().await;
    let (status, created) = helix(
        &mock,
        "POST",
        "/polls",
        Some(json!({"broadcaster_id": ME, "title": "Rust or Rust?", "choices": [{"title": "Rust"}, {"title": "Also Rust"}], "duration": 60})),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let poll = &created["data"][0];
    assert_eq!(
        (poll["title"].as_str(), poll["duration"].as_u64(), poll["status"].as_str()),
        (Some("Rust or Rust?"), Some(60), Some("ACTIVE"))
    );
    let choices: Vec<&str> = poll["choices"].as_array().unwrap().iter().map(|c| c["title"].as_str().unwrap()).collect();
    assert_eq!(choices, ["Rust", "Also Rust"]);
    assert_ne!(poll["choices"][0]["id"], poll["choices"][1]["id"]);
    let id = poll["id"].as_str().unwrap().to_owned();
    // End it; Get Polls shows it ended.
    let (status, ended) =
        helix(&mock, "PATCH", "/polls", Some(json!({"broadcaster_id": ME, "id": id, "status": "TERMINATED"}))).await;
    assert_eq!((status, ended["data"][0]["status"].as_str()), (200, Some("TERMINATED")), "{ended}");
    assert!(ended["data"][0]["ended_at"].is_string(), "{ended}");
    // The generated client reads it back, typed.
    let token = mock.mint_user_token(ME, "twitchdev", &["channel:read:polls"]);
    let client = mock.client_builder().user_token(token).build().unwrap();
    let polls = client.get_polls(ME).send().await.expect("Get Polls").data;
    assert_eq!(polls.len(), 1);
    assert_eq!(polls[0].title, "Rust or Rust?");
    assert_eq!(&*polls[0].id, id.as_str());

    let (status, created) = helix(
        &mock,
        "POST",
        "/predictions",
        Some(json!({"broadcaster_id": ME, "title": "Will it build?", "outcomes": [{"title": "yes"}, {"title": "no"}], "prediction_window": 120})),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let p = &created["data"][0];
    assert_eq!((p["status"].as_str(), p["winning_outcome_id"].as_str()), (Some("ACTIVE"), None));
    let id = p["id"].as_str().unwrap().to_owned();
    let yes = p["outcomes"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(p["outcomes"][0]["title"], "yes");
    let (_, resolved) = helix(
        &mock,
        "PATCH",
        "/predictions",
        Some(json!({"broadcaster_id": ME, "id": id, "status": "RESOLVED", "winning_outcome_id": yes})),
    )
    .await;
    assert_eq!(resolved["data"][0]["winning_outcome_id"], yes.as_str(), "{resolved}");
    let (_, list) = helix(&mock, "GET", &format!("/predictions?broadcaster_id={ME}&id={id}"), None).await;
    assert_eq!(
        (list["data"][0]["status"].as_str(), list["data"][0]["winning_outcome_id"].as_str()),
        (Some("RESOLVED"), Some(yes.as_str()))
    );
    // An unknown poll in a channel with polls: 404.
    let (status, _) =
        helix(&mock, "PATCH", "/polls", Some(json!({"broadcaster_id": ME, "id": "nope", "status": "ARCHIVED"}))).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn stream_markers_schedule_segments_clips_and_blocked_terms() {
    let mock = mock().await;
    // Markers: created, then listed under the user's latest video.
    let (status, created) =
        helix(&mock, "POST", "/streams/markers", Some(json!({"user_id": ME, "description": "good bit"}))).await;
    assert_eq!((status, created["data"][0]["description"].as_str()), (200, Some("good bit")), "{created}");
    let marker = created["data"][0]["id"].as_str().unwrap().to_owned();
    let (_, list) = helix(&mock, "GET", &format!("/streams/markers?user_id={ME}"), None).await;
    assert_eq!(list["data"][0]["user_id"], ME);
    assert_eq!(list["data"][0]["videos"][0]["markers"][0]["id"], marker.as_str(), "{list}");

    // Schedule segments: create, update, delete.
    let seg = json!({"start_time": "2030-01-01T18:00:00Z", "timezone": "Europe/Berlin", "duration": "90", "title": "Building a mock", "category_id": "1469308723"});
    let (status, created) = helix(&mock, "POST", &format!("/schedule/segment?broadcaster_id={ME}"), Some(seg)).await;
    assert_eq!(status, 200, "{created}");
    let s = &created["data"]["segments"][0];
    assert_eq!((s["title"].as_str(), s["category"]["id"].as_str()), (Some("Building a mock"), Some("1469308723")));
    let sid = s["id"].as_str().unwrap().to_owned();
    let (status, updated) = helix(
        &mock,
        "PATCH",
        &format!("/schedule/segment?broadcaster_id={ME}&id={sid}"),
        Some(json!({"title": "Still building", "is_canceled": true})),
    )
    .await;
    assert_eq!((status, updated["data"]["segments"][0]["title"].as_str()), (200, Some("Still building")), "{updated}");
    let (_, schedule) = helix(&mock, "GET", &format!("/schedule?broadcaster_id={ME}"), None).await;
    let titles: Vec<&str> =
        schedule["data"]["segments"].as_array().unwrap().iter().map(|s| s["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Still building"]);
    assert_eq!(helix(&mock, "DELETE", &format!("/schedule/segment?broadcaster_id={ME}&id={sid}"), None).await.0, 204);
    let (_, schedule) = helix(&mock, "GET", &format!("/schedule?broadcaster_id={ME}"), None).await;
    assert_eq!(schedule["data"]["segments"], json!([]));

    // Clips: Create Clip answers the id and edit URL; Get Clips finds it.
    let (status, created) = helix(&mock, "POST", &format!("/clips?broadcaster_id={ME}&title=nice%20one"), None).await;
    assert_eq!(status, 202, "{created}");
    let clip = created["data"][0]["id"].as_str().unwrap().to_owned();
    assert!(created["data"][0]["edit_url"].as_str().unwrap().contains(&clip), "{created}");
    assert_eq!(created["data"][0].as_object().unwrap().len(), 2, "Create Clip's own shape: {created}");
    let (_, found) = helix(&mock, "GET", &format!("/clips?id={clip}"), None).await;
    assert_eq!(
        (found["data"][0]["id"].as_str(), found["data"][0]["title"].as_str()),
        (Some(clip.as_str()), Some("nice one"))
    );
    let (_, theirs) = helix(&mock, "GET", &format!("/clips?broadcaster_id={ME}"), None).await;
    assert_eq!(ids(&theirs), [clip]);

    // Blocked terms.
    let q = format!("broadcaster_id={ME}&moderator_id={ME}");
    let (status, added) =
        helix(&mock, "POST", &format!("/moderation/blocked_terms?{q}"), Some(json!({"text": "bad word"}))).await;
    assert_eq!((status, added["data"][0]["text"].as_str()), (200, Some("bad word")), "{added}");
    let term = added["data"][0]["id"].as_str().unwrap().to_owned();
    let (_, list) = helix(&mock, "GET", &format!("/moderation/blocked_terms?{q}"), None).await;
    assert_eq!(ids(&list), [term.as_str()]);
    // Check AutoMod Status holds what has a blocked term, and answers the ids asked for.
    let check = json!({"data": [{"msg_id": "a", "msg_text": "a BAD WORD here"}, {"msg_id": "b", "msg_text": "fine"}]});
    let (status, verdict) =
        helix(&mock, "POST", &format!("/moderation/enforcements/status?broadcaster_id={ME}"), Some(check.clone()))
            .await;
    assert_eq!(status, 200, "{verdict}");
    assert_eq!(
        verdict,
        json!({"data": [{"msg_id": "a", "is_permitted": false}, {"msg_id": "b", "is_permitted": true}]})
    );
    assert_eq!(helix(&mock, "DELETE", &format!("/moderation/blocked_terms?{q}&id={term}"), None).await.0, 204);
    let (_, list) = helix(&mock, "GET", &format!("/moderation/blocked_terms?{q}"), None).await;
    assert_eq!(list["data"], json!([]));
    let (_, verdict) =
        helix(&mock, "POST", &format!("/moderation/enforcements/status?broadcaster_id={ME}"), Some(check)).await;
    assert_eq!(verdict["data"][0]["is_permitted"], true, "the term is gone");
}

#[tokio::test]
async fn channel_settings_shield_mode_user_description_and_raids() {
    let mock = mock().await;
    // Chat settings.
    let q = format!("broadcaster_id={ME}&moderator_id={ME}");
    let (status, changed) = helix(
        &mock,
        "PATCH",
        &format!("/chat/settings?{q}"),
        Some(json!({"slow_mode": true, "slow_mode_wait_time": 30})),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (changed["data"][0]["slow_mode"].as_bool(), changed["data"][0]["slow_mode_wait_time"].as_u64()),
        (Some(true), Some(30))
    );
    assert_eq!(changed["data"][0]["broadcaster_id"], ME);
    let (_, got) = helix(&mock, "GET", &format!("/chat/settings?{q}"), None).await;
    assert_eq!(got["data"][0]["slow_mode_wait_time"], 30, "{got}");

    // Channel information: Modify (204), then Get shows it, for this channel only.
    let (status, _) = helix(
        &mock,
        "PATCH",
        &format!("/channels?broadcaster_id={ME}"),
        Some(json!({"title": "A new title", "game_id": "1469308723", "tags": ["Rust"]})),
    )
    .await;
    assert_eq!(status, 204);
    let (_, info) = helix(&mock, "GET", &format!("/channels?broadcaster_id={ME}&broadcaster_id=10001"), None).await;
    assert_eq!(
        (info["data"][0]["title"].as_str(), info["data"][0]["game_id"].as_str()),
        (Some("A new title"), Some("1469308723"))
    );
    assert_eq!(info["data"][0]["tags"], json!(["Rust"]));
    assert_eq!(
        (info["data"][1]["broadcaster_id"].as_str(), info["data"][1]["broadcaster_login"].as_str()),
        (Some("10001"), Some("mockuser1"))
    );
    assert_ne!(info["data"][1]["title"], "A new title");
    // And the generated client reads it typed.
    let token = mock.mint_user_token(ME, "twitchdev", &[]);
    let client = mock.client_builder().user_token(token).build().unwrap();
    let channels = client.get_channel_information(ME).send().await.expect("Get Channel Information");
    assert_eq!(channels[0].title, "A new title");

    // Shield mode.
    let (status, shield) =
        helix(&mock, "PUT", &format!("/moderation/shield_mode?{q}"), Some(json!({"is_active": true}))).await;
    assert_eq!(status, 200, "{shield}");
    let s = &shield["data"][0];
    assert_eq!(
        (s["is_active"].as_bool(), s["moderator_id"].as_str(), s["moderator_login"].as_str()),
        (Some(true), Some(ME), Some("twitchdev"))
    );
    let (_, got) = helix(&mock, "GET", &format!("/moderation/shield_mode?{q}"), None).await;
    assert_eq!(got["data"][0], *s);
    let (_, off) =
        helix(&mock, "PUT", &format!("/moderation/shield_mode?{q}"), Some(json!({"is_active": false}))).await;
    assert_eq!(off["data"][0]["is_active"], false);

    // Update User's description shows in Get Users.
    let (status, updated) = helix(&mock, "PUT", "/users?description=I%20build%20mocks", None).await;
    assert_eq!((status, updated["data"][0]["description"].as_str()), (200, Some("I build mocks")), "{updated}");
    let (_, me) = helix(&mock, "GET", &format!("/users?id={ME}"), None).await;
    assert_eq!(
        (me["data"][0]["description"].as_str(), me["data"][0]["login"].as_str()),
        (Some("I build mocks"), Some("twitchdev"))
    );

    // Chat color and AutoMod settings.
    assert_eq!(helix(&mock, "PUT", &format!("/chat/color?user_id={ME}&color=blue_violet"), None).await.0, 204);
    let (_, color) = helix(&mock, "GET", &format!("/chat/color?user_id={ME}"), None).await;
    assert_eq!(
        color["data"],
        json!([{"user_id": ME, "user_name": "TwitchDev", "user_login": "twitchdev", "color": "blue_violet"}])
    );
    let (status, automod) = helix(
        &mock,
        "PUT",
        &format!("/moderation/automod/settings?{q}"),
        Some(json!({"aggression": 4, "bullying": 1})),
    )
    .await;
    assert_eq!((status, automod["data"][0]["aggression"].as_u64()), (200, Some(4)), "{automod}");
    let (_, got) = helix(&mock, "GET", &format!("/moderation/automod/settings?{q}"), None).await;
    assert_eq!((got["data"][0]["aggression"].as_u64(), got["data"][0]["bullying"].as_u64()), (Some(4), Some(1)));
    assert_eq!(got["data"][0]["broadcaster_id"], ME);

    // The block list: block twice (one entry), unblock, gone.
    for _ in 0..2 {
        assert_eq!(helix(&mock, "PUT", "/users/blocks?target_user_id=10007", None).await.0, 204);
    }
    let (_, blocks) = helix(&mock, "GET", &format!("/users/blocks?broadcaster_id={ME}"), None).await;
    assert_eq!(blocks["data"], json!([{"user_id": "10007", "user_login": "mockuser7", "display_name": "Mockuser7"}]));
    assert_eq!(helix(&mock, "DELETE", "/users/blocks?target_user_id=10007", None).await.0, 204);
    let (_, blocks) = helix(&mock, "GET", &format!("/users/blocks?broadcaster_id={ME}"), None).await;
    assert_eq!(blocks["data"], json!([]));
    // Unblocking a user who is not blocked is done already (Twitch lists no 404).
    assert_eq!(helix(&mock, "DELETE", "/users/blocks?target_user_id=10007", None).await.0, 204);

    // Guest Star settings (beta).
    let path = format!("/guest_star/channel_settings?broadcaster_id={ME}");
    let (status, _) =
        helix(&mock, "PUT", &path, Some(json!({"slot_count": 3, "group_layout": "SCREENSHARE_LAYOUT"}))).await;
    assert_eq!(status, 204);
    let (_, got) = helix(&mock, "GET", &format!("{path}&moderator_id={ME}"), None).await;
    assert_eq!(
        (got["data"][0]["slot_count"].as_u64(), got["data"][0]["layout"].as_str()),
        (Some(3), Some("SCREENSHARE_LAYOUT")),
        "{got}"
    );

    // A raid is pending until cancelled; a second cancel finds none.
    let (status, raid) =
        helix(&mock, "POST", &format!("/raids?from_broadcaster_id={ME}&to_broadcaster_id=10001"), None).await;
    assert_eq!(status, 200, "{raid}");
    assert!(raid["data"][0]["created_at"].as_str().is_some_and(|t| !t.starts_with("2022")), "{raid}");
    assert_eq!(helix(&mock, "DELETE", &format!("/raids?broadcaster_id={ME}"), None).await.0, 204);
    assert_eq!(helix(&mock, "DELETE", &format!("/raids?broadcaster_id={ME}"), None).await.0, 404);
}

#[tokio::test]
async fn actions_answer_with_what_the_request_said() {
    let mock = mock().await;
    let q = format!("broadcaster_id={ME}&moderator_id={ME}");
    let (status, w) = helix(
        &mock,
        "POST",
        &format!("/moderation/warnings?{q}"),
        Some(json!({"data": {"user_id": "10005", "reason": "calm down"}})),
    )
    .await;
    assert_eq!(status, 200, "{w}");
    assert_eq!(
        w["data"][0],
        json!({"broadcaster_id": ME, "user_id": "10005", "moderator_id": ME, "reason": "calm down"})
    );
    let (status, s) = helix(
        &mock,
        "POST",
        &format!("/moderation/suspicious_users?{q}"),
        Some(json!({"user_id": "10005", "status": "ACTIVE_MONITORING"})),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(
        (s["data"][0]["user_id"].as_str(), s["data"][0]["status"].as_str()),
        (Some("10005"), Some("ACTIVE_MONITORING"))
    );
    assert_ne!(s["data"][0]["updated_at"], "2025-12-01T23:08:18+00:00");
}

/// Every item of a paginated read, following its cursors.
async fn walk(mock: &MockServer, token: &str, path_and_query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut after = String::new();
    loop {
        let (status, page) = helix_with(mock, token, "GET", &format!("{path_and_query}&first=100{after}"), None).await;
        assert_eq!(status, 200, "{page}");
        items.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["pagination"]["cursor"].as_str() {
            Some(c) => after = format!("&after={c}"),
            None => return items,
        }
    }
}

#[tokio::test]
async fn deleted_videos_are_gone_from_get_videos() {
    let mock = mock().await;
    let me = mock.mint_user_token(ME, "twitchdev", &["channel:manage:videos"]);
    let before = walk(&mock, &me, &format!("/videos?user_id={ME}")).await;
    let (first, second) = (before[0]["id"].as_str().unwrap(), before[1]["id"].as_str().unwrap());
    // By id: the videos asked for, unknown ids ignored.
    let (status, got) = helix_with(&mock, &me, "GET", &format!("/videos?id={first}&id={second}&id=000"), None).await;
    assert_eq!((status, ids(&got)), (200, vec![first.to_owned(), second.to_owned()]), "{got}");

    // Another user may not delete them: nothing is deleted.
    let other = mock.mint_user_token("10001", "mockuser1", &["channel:manage:videos"]);
    let (status, refused) = helix_with(&mock, &other, "DELETE", &format!("/videos?id={first}"), None).await;
    assert_eq!(status, 401, "{refused}");
    assert_eq!(refused["message"], "The caller is not authorized to delete the specified video.");

    // The owner deletes two; an unknown id is ignored; the answer names what was deleted.
    let (status, deleted) = helix(&mock, "DELETE", &format!("/videos?id={first}&id={second}&id=000"), None).await;
    assert_eq!((status, &deleted), (200, &json!({"data": [first, second]})));
    let (status, gone) = helix_with(&mock, &me, "GET", &format!("/videos?id={first}&id={second}"), None).await;
    assert_eq!((status, gone["message"].as_str()), (404, Some("The ID in the id query parameter was not found.")));
    let (status, one) =
        helix_with(&mock, &me, "GET", &format!("/videos?id={first}&id={}", before[2]["id"].as_str().unwrap()), None)
            .await;
    assert_eq!((status, one["data"].as_array().unwrap().len()), (200, 1), "{one}");
    let after = walk(&mock, &me, &format!("/videos?user_id={ME}")).await;
    assert_eq!(after.len(), before.len() - 2);
    assert!(after.iter().all(|v| v["id"] != first && v["id"] != second));
    // Deleting them again deletes nothing.
    let (status, again) = helix(&mock, "DELETE", &format!("/videos?id={first}"), None).await;
    assert_eq!((status, again), (200, json!({"data": []})));
}

#[tokio::test]
async fn a_vacation_shows_in_the_schedule_until_cancelled() {
    let mock = mock().await;
    let settings = |q: &str| format!("/schedule/settings?broadcaster_id={ME}{q}");
    let (_, schedule) = helix(&mock, "GET", &format!("/schedule?broadcaster_id={ME}"), None).await;
    assert_eq!(schedule["data"]["vacation"], Value::Null);
    let segments = schedule["data"]["segments"].clone();

    let vacation = "&is_vacation_enabled=true&vacation_start_time=2030-05-16T00:00:00Z\
                    &vacation_end_time=2030-05-23T00:00:00%2B02:00&timezone=America/New_York";
    let (status, body) = helix(&mock, "PATCH", &settings(vacation), None).await;
    assert_eq!((status, body), (204, Value::Null));
    let (_, schedule) = helix(&mock, "GET", &format!("/schedule?broadcaster_id={ME}"), None).await;
    assert_eq!(
        schedule["data"]["vacation"],
        json!({"start_time": "2030-05-16T00:00:00Z", "end_time": "2030-05-22T22:00:00Z"}),
        "{schedule}"
    );
    assert_eq!(schedule["data"]["segments"], segments, "a vacation leaves the segments");

    // A segment written later keeps the vacation beside it.
    let seg = json!({"start_time": "2030-06-01T18:00:00Z", "timezone": "America/New_York", "duration": "60",
        "is_recurring": false, "title": "after the break"});
    let (status, created) = helix(&mock, "POST", &format!("/schedule/segment?broadcaster_id={ME}"), Some(seg)).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["data"]["vacation"]["start_time"], "2030-05-16T00:00:00Z");

    // Refusals change nothing.
    for (q, message) in [
        (
            "&is_vacation_enabled=true&vacation_start_time=2030-05-16T00:00:00Z&timezone=UTC",
            "Missing required parameter \"vacation_end_time\"",
        ),
        (
            "&is_vacation_enabled=true&vacation_start_time=soon&vacation_end_time=2030-05-23T00:00:00Z&timezone=UTC",
            "The format of the string in vacation_start_time is not valid.",
        ),
        (
            "&is_vacation_enabled=true&vacation_start_time=2030-05-23T00:00:00Z&vacation_end_time=2030-05-16T00:00:00Z&timezone=UTC",
            "The date in vacation_end_time must be later than the date in vacation_start_time.",
        ),
        (
            "&is_vacation_enabled=true&vacation_start_time=2030-05-16T00:00:00Z&vacation_end_time=2030-05-23T00:00:00Z",
            "Missing required parameter \"timezone\"",
        ),
        ("&is_vacation_enabled=maybe", "The value in the is_vacation_enabled query parameter is not valid."),
    ] {
        let (status, body) = helix(&mock, "PATCH", &settings(q), None).await;
        assert_eq!((status, body["message"].as_str()), (400, Some(message)), "{q}");
    }
    let (_, schedule) = helix(&mock, "GET", &format!("/schedule?broadcaster_id={ME}"), None).await;
    assert_eq!(schedule["data"]["vacation"]["end_time"], "2030-05-22T22:00:00Z");

    // Cancelled.
    assert_eq!(helix(&mock, "PATCH", &settings("&is_vacation_enabled=false"), None).await.0, 204);
    let (_, schedule) = helix(&mock, "GET", &format!("/schedule?broadcaster_id={ME}"), None).await;
    assert_eq!(schedule["data"]["vacation"], Value::Null);
    let titles: Vec<&str> =
        schedule["data"]["segments"].as_array().unwrap().iter().map(|s| s["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["after the break"]);
}

#[tokio::test]
async fn drops_entitlements_take_the_status_written() {
    let mock = mock().await;
    let app = mock.mint_app_token(&mock.client_id());
    let all = walk(&mock, &app, "/entitlements/drops?game_id=33214").await;
    assert!(all.len() > 3, "a data set to update");
    let owner = all[0]["user_id"].as_str().unwrap().to_owned();
    let claimed: Vec<String> = all
        .iter()
        .filter(|e| e["fulfillment_status"] == "CLAIMED")
        .take(2)
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(claimed.len(), 2);

    let body = json!({"fulfillment_status": "FULFILLED",
        "entitlement_ids": [claimed[0], claimed[1], "not an id!", "fb78259e-0000-0000-0000-000000000000", claimed[0]]});
    let (status, answer) = helix_with(&mock, &app, "PATCH", "/entitlements/drops", Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"data": [
            {"status": "SUCCESS", "ids": [claimed[0], claimed[1]]},
            {"status": "INVALID_ID", "ids": ["not an id!"]},
            {"status": "NOT_FOUND", "ids": ["fb78259e-0000-0000-0000-000000000000"]},
        ]})
    );
    let (_, got) =
        helix_with(&mock, &app, "GET", &format!("/entitlements/drops?id={}&id={}", claimed[0], claimed[1]), None).await;
    assert_eq!(ids(&got), claimed);
    for e in got["data"].as_array().unwrap() {
        assert_eq!(e["fulfillment_status"], "FULFILLED");
        assert_ne!(e["last_updated"], all.iter().find(|a| a["id"] == e["id"]).unwrap()["last_updated"]);
    }
    let fulfilled = walk(&mock, &app, "/entitlements/drops?fulfillment_status=FULFILLED").await;
    let before = all.iter().filter(|e| e["fulfillment_status"] == "FULFILLED").count();
    assert_eq!(fulfilled.len(), before + 2);

    // A user token updates and sees only its own user's entitlements.
    let user = mock.mint_user_token(&owner, "entitled", &[]);
    let stranger = mock.mint_user_token("10002", "mockuser2", &[]);
    let body = json!({"fulfillment_status": "CLAIMED", "entitlement_ids": [claimed[0]]});
    let (_, answer) = helix_with(&mock, &stranger, "PATCH", "/entitlements/drops", Some(body.clone())).await;
    assert_eq!(answer, json!({"data": [{"status": "UNAUTHORIZED", "ids": [claimed[0]]}]}));
    assert_eq!(walk(&mock, &stranger, "/entitlements/drops?game_id=33214").await, Vec::<Value>::new());
    let (status, _) = helix_with(&mock, &stranger, "GET", &format!("/entitlements/drops?user_id={owner}"), None).await;
    assert_eq!(status, 400);
    let (_, answer) = helix_with(&mock, &user, "PATCH", "/entitlements/drops", Some(body)).await;
    assert_eq!(answer, json!({"data": [{"status": "SUCCESS", "ids": [claimed[0]]}]}));
    let (_, got) = helix_with(&mock, &user, "GET", &format!("/entitlements/drops?id={}", claimed[0]), None).await;
    assert_eq!(got["data"][0]["fulfillment_status"], "CLAIMED");

    // A status Twitch does not know is refused.
    let body = json!({"fulfillment_status": "LOST", "entitlement_ids": [claimed[1]]});
    let (status, answer) = helix_with(&mock, &app, "PATCH", "/entitlements/drops", Some(body)).await;
    assert_eq!(
        (status, answer["message"].as_str()),
        (400, Some("The value in the fulfillment_status field is not valid."))
    );
}

#[tokio::test]
async fn commercials_and_snoozes_show_in_the_ad_schedule() {
    let mock = mock().await;
    let (ads, snoozes) =
        (format!("/channels/ads?broadcaster_id={ME}"), format!("/channels/ads/schedule/snooze?broadcaster_id={ME}"));
    let get = || helix(&mock, "GET", &ads, None);
    let snooze = || helix(&mock, "POST", &snoozes, None);
    let now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let int = |v: &Value, k: &str| v["data"][0][k].as_i64().unwrap_or_else(|| panic!("{k} in {v}"));

    // Snoozes: each one spent pushes the next ad 5 minutes back.
    let t0 = now();
    let (status, first) = snooze().await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(int(&first, "snooze_count"), 2);
    let next = int(&first, "next_ad_at");
    assert!((t0 + 3600 + 300..=now() + 3600 + 300).contains(&next), "{first}");
    assert!(int(&first, "snooze_refresh_at") >= t0 + 3600);
    let (_, second) = snooze().await;
    assert_eq!((int(&second, "snooze_count"), int(&second, "next_ad_at")), (1, next + 300));
    let (_, schedule) = get().await;
    assert_eq!(int(&schedule, "snooze_count"), 1);
    assert_eq!(int(&schedule, "next_ad_at"), next + 300);
    assert_eq!(int(&schedule, "last_ad_at"), 0, "no ad ran yet");
    assert_eq!(snooze().await.0, 200);
    let (status, none_left) = snooze().await;
    assert_eq!((status, none_left["message"].as_str()), (429, Some("Channel has no snoozes left.")));

    // A commercial: the length asked for (at most 180 s), then the cooldown.
    let (status, ad) =
        helix(&mock, "POST", "/channels/commercial", Some(json!({"broadcaster_id": ME, "length": 90}))).await;
    assert_eq!(status, 200, "{ad}");
    assert_eq!(ad["data"][0], json!({"length": 90, "message": "", "retry_after": 480}));
    let (_, schedule) = get().await;
    assert!(int(&schedule, "last_ad_at") >= t0, "{schedule}");
    assert_eq!(int(&schedule, "snooze_count"), 0);
    let (status, again) =
        helix(&mock, "POST", "/channels/commercial", Some(json!({"broadcaster_id": ME, "length": 30}))).await;
    assert_eq!(status, 429, "{again}");

    // Another channel's schedule is its own.
    let other = mock.mint_user_token("10003", "mockuser3", &["channel:edit:commercial", "channel:read:ads"]);
    let (status, long) = helix_with(
        &mock,
        &other,
        "POST",
        "/channels/commercial",
        Some(json!({"broadcaster_id": "10003", "length": 180})),
    )
    .await;
    assert_eq!((status, long["data"][0]["length"].as_i64()), (200, Some(180)), "{long}");
    let (_, theirs) = helix_with(&mock, &other, "GET", "/channels/ads?broadcaster_id=10003", None).await;
    assert_eq!(int(&theirs, "snooze_count"), 3, "{theirs}");
}

#[tokio::test]
async fn unban_requests_from_banned_viewers_are_resolved() {
    let mock = mock().await;
    let q = format!("broadcaster_id={ME}&moderator_id={ME}");
    let requests = |status: &str| format!("/moderation/unban_requests?{q}&status={status}");
    for user in ["10005", "10006"] {
        let ban = json!({"data": {"user_id": user, "reason": "spam"}});
        assert_eq!(helix(&mock, "POST", &format!("/moderation/bans?{q}"), Some(ban)).await.0, 200);
    }
    // Only a banned viewer can ask; through the API or the control endpoint.
    assert!(mock.unban_request(ME, "10007", "not banned").is_err());
    let first = mock.unban_request(ME, "10005", "sorry, it was my cat").expect("an unban request");
    assert_eq!((first["status"].as_str(), first["user_login"].as_str()), (Some("pending"), Some("mockuser5")));
    let raw = http()
        .post(format!("{}/control/unban_requests", mock.url()))
        .body(json!({"broadcaster_id": ME, "user_id": "10006", "text": "please"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 200);
    let second: Value = serde_json::from_str(&raw.text().await.unwrap()).unwrap();
    let (first_id, second_id) = (first["id"].as_str().unwrap(), second["data"][0]["id"].as_str().unwrap());

    let (status, pending) = helix(&mock, "GET", &requests("pending"), None).await;
    assert_eq!(status, 200, "{pending}");
    assert_eq!(ids(&pending), [first_id, second_id]);
    assert_eq!(pending["data"][1]["text"], "please");
    let (_, from_one) = helix(&mock, "GET", &format!("{}&user_id=10006", requests("pending")), None).await;
    assert_eq!(ids(&from_one), [second_id]);

    // Approved: the answer says who resolved it and why, and the ban is lifted.
    let resolve = |id: &str, status: &str| {
        format!("/moderation/unban_requests?{q}&unban_request_id={id}&status={status}&resolution_text=ok%20then")
    };
    let (status, approved) = helix(&mock, "PATCH", &resolve(first_id, "approved"), None).await;
    assert_eq!(status, 200, "{approved}");
    let a = &approved["data"][0];
    assert_eq!(
        (a["id"].as_str(), a["status"].as_str(), a["resolution_text"].as_str(), a["moderator_login"].as_str()),
        (Some(first_id), Some("approved"), Some("ok then"), Some("twitchdev"))
    );
    assert!(a["resolved_at"].is_string(), "{a}");
    let (_, bans) = helix(&mock, "GET", &format!("/moderation/banned?broadcaster_id={ME}"), None).await;
    let banned: Vec<&str> = bans["data"].as_array().unwrap().iter().map(|b| b["user_id"].as_str().unwrap()).collect();
    assert_eq!(banned, ["10006"]);

    // Denied: the ban stays. Lists follow the status.
    let (_, denied) = helix(&mock, "PATCH", &resolve(second_id, "denied"), None).await;
    assert_eq!(denied["data"][0]["status"], "denied");
    assert_eq!(ids(&helix(&mock, "GET", &requests("approved"), None).await.1), [first_id]);
    assert_eq!(ids(&helix(&mock, "GET", &requests("denied"), None).await.1), [second_id]);
    assert_eq!(helix(&mock, "GET", &requests("pending"), None).await.1["data"], json!([]));
    let (_, bans) = helix(&mock, "GET", &format!("/moderation/banned?broadcaster_id={ME}"), None).await;
    assert_eq!(bans["data"][0]["user_id"], "10006");

    // Resolved already, or unknown.
    let (status, again) = helix(&mock, "PATCH", &resolve(first_id, "denied"), None).await;
    assert_eq!((status, again["message"].as_str()), (400, Some("Invalid requested update")));
    let (status, unknown) = helix(&mock, "PATCH", &resolve("no-such-request", "approved"), None).await;
    assert_eq!((status, unknown["message"].as_str()), (404, Some("The unban request ID was not found.")));
}

/// What Schemathesis found the mock taking: a value outside a parameter's
/// enumeration, a malformed timestamp, more occurrences of a repeatable
/// parameter than its limit (empty ones count). Each is refused now, in
/// Twitch's words, from the schema's `ParamMeta` (`values`, `kind`).
#[tokio::test]
async fn enumerations_timestamps_and_repeat_limits_come_from_the_schema() {
    let mock = mock().await;
    let refused = [
        ("GET", "/streams?type=sometimes".to_owned(), None, "The value in the type query parameter is not valid."),
        (
            "PUT",
            "/users/blocks?target_user_id=10007&source_context=null".to_owned(),
            None,
            "The value in the source_context query parameter is not valid.",
        ),
        (
            "GET",
            format!("/clips?broadcaster_id={ME}&started_at=yesterday"),
            None,
            "The format of the string in started_at is not valid.",
        ),
        (
            "POST",
            format!("/schedule/segment?broadcaster_id={ME}"),
            Some(json!({"start_time": "2024-01-01T12:99:00Z", "timezone": "UTC", "duration": "60"})),
            "The format of the string in start_time is not valid.",
        ),
        (
            "GET",
            format!("/users?{}", vec!["id="; 101].join("&")),
            None,
            "The parameter \"id\" may be given at most 100 times",
        ),
    ];
    for (method, path, body, message) in refused {
        let (status, got) = helix(&mock, method, &path, body).await;
        assert_eq!((status, got["message"].as_str()), (400, Some(message)), "{method} {path}");
    }
    // The values the enumeration has are taken.
    let (status, _) = helix(&mock, "GET", "/streams?type=live", None).await;
    assert_eq!(status, 200);
    let (status, got) =
        helix(&mock, "GET", &format!("/clips?broadcaster_id={ME}&started_at=2026-01-01T00:00:00Z"), None).await;
    assert_eq!(status, 200, "{got}");
}
