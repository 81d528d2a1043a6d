//! A Guest Star call against the mock, through the generated client: a
//! session starts with the host in slot "0", guests are invited, get ready
//! (as they do on Twitch's site: here through the mock's API), take slots,
//! swap them, change settings and leave, and the session ends. Every step
//! shows in the reads and goes out as the matching `channel.guest_star_*`
//! notification; what Twitch refuses, the mock refuses with the same
//! status. Everything runs on 127.0.0.1.

use std::time::Duration;

use serde_json::{Value, json};
use twitch::eventsub::guest_star::{
    ChannelGuestStarGuestUpdateBeta, ChannelGuestStarGuestUpdateBetaEvent, ChannelGuestStarSessionBeginBeta,
    ChannelGuestStarSessionEndBeta, ChannelGuestStarSettingsUpdateBeta, GuestStarEventGroupLayout,
    GuestStarEventGuestState,
};
use twitch::helix::guest_star::{GuestStarGroupLayout, GuestStarInviteStatus, GuestStarSession};
use twitch::{Client, Error, Event, Session, SessionItem};
use twitch_mock::{Mock, MockServer};

/// Hang guard for anything awaited; never an assertion about speed.
const WAIT: Duration = Duration::from_secs(20);

/// The host's channel, one of its moderators, and the guests.
const HOST: &str = "1001";
const MODERATOR: &str = "2001";
const GUEST: &str = "3001";
const SECOND: &str = "3002";
/// A user who is neither the host nor a moderator.
const STRANGER: &str = "4001";

const SCOPES: &[&str] = &["channel:manage:guest_star", "channel:read:guest_star", "channel:manage:moderators"];

fn host(mock: &MockServer) -> Client {
    mock.client_builder().user_token(mock.mint_user_token(HOST, "streamer", SCOPES)).build().expect("client")
}

/// The status of a refused Helix call.
fn refused<T: std::fmt::Debug>(result: Result<T, Error>) -> u16 {
    result.expect_err("refused").status().expect("an HTTP status")
}

/// The status and message of Twitch's (the mock's) refusal.
fn twitch_says(e: &Error) -> (u16, &str) {
    match e {
        Error::Api { status, message, .. } => (*status, message.as_str()),
        other => panic!("not a refusal: {other}"),
    }
}

/// The next notification's event on the session.
async fn next_event(session: &mut Session) -> Event {
    let item = tokio::time::timeout(WAIT, session.next()).await.expect("an item in time").expect("the stream goes on");
    match item {
        SessionItem::Notification(n) => n.event,
        other => panic!("unexpected item {other:?}"),
    }
}

async fn next_guest(session: &mut Session) -> ChannelGuestStarGuestUpdateBetaEvent {
    match next_event(session).await {
        Event::ChannelGuestStarGuestUpdateBeta(e) => *e,
        other => panic!("a guest update, not {other:?}"),
    }
}

/// Who sits in which slot, in slot order.
fn seating(session: &GuestStarSession) -> Vec<(String, String)> {
    session
        .guests
        .iter()
        .map(|g| (g.slot_id.as_ref().expect("slot_id").as_str().to_owned(), g.user_id.as_str().to_owned()))
        .collect()
}

async fn current(client: &Client) -> GuestStarSession {
    let mut found = client.get_guest_star_session(HOST, HOST).send().await.expect("get session");
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

#[tokio::test]
async fn a_call_from_start_to_end() {
    let mock = Mock::builder().start().await.expect("mock");
    let client = host(&mock);
    let mut events = client
        .eventsub_websocket()
        .subscribe(ChannelGuestStarSessionBeginBeta::new(HOST, HOST))
        .subscribe(ChannelGuestStarSessionEndBeta::new(HOST, HOST))
        .subscribe(ChannelGuestStarGuestUpdateBeta::new(HOST, HOST))
        .connect()
        .await
        .expect("connect");

    // A channel that never had a session: Twitch's example.
    let example = current(&client).await;
    assert_eq!(example.id.as_str(), "2KFRQbFtpmfyD3IevNRnCzOPRJI");

    // The session starts with the host alone in slot "0", live.
    let created = client.create_guest_star_session(HOST).send().await.expect("create").remove(0);
    let id = created.id.clone();
    assert_ne!(id.as_str(), example.id.as_str());
    let hosting = &created.guests[0];
    assert_eq!(hosting.slot_id_alt.as_ref().map(|s| s.as_str()), Some("0"), "Twitch's Create example names it `id`");
    assert_eq!((hosting.user_id.as_str(), hosting.user_login.as_str(), hosting.is_live), (HOST, "streamer", true));
    let Event::ChannelGuestStarSessionBeginBeta(begin) = next_event(&mut events).await else { panic!("a begin") };
    assert_eq!(begin.session_id, id);
    assert_eq!(begin.moderator_user_id.as_ref().map(|m| m.as_str()), Some(HOST));
    let second = client.create_guest_star_session(HOST).send().await.expect_err("one session at a time");
    assert_eq!(twitch_says(&second), (400, "Session limit reached (1 active call)"));
    assert_eq!(seating(&current(&client).await), [("0".to_owned(), HOST.to_owned())]);

    // A moderator invites a guest: pending, INVITED.
    client.add_channel_moderator(HOST, MODERATOR).send().await.expect("add moderator");
    client.send_guest_star_invite(HOST, MODERATOR, id.clone(), GUEST).send().await.expect("invite");
    let invited = next_guest(&mut events).await;
    assert_eq!(invited.state, Some(GuestStarEventGuestState::Invited));
    assert_eq!(invited.guest_user_id.as_ref().map(|g| g.as_str()), Some(GUEST));
    assert_eq!(invited.moderator_user_id.as_ref().map(|m| m.as_str()), Some(MODERATOR), "who invited");
    assert_eq!(invited.slot_id, None);
    let invites = client.get_guest_star_invites(HOST, HOST, id.clone()).send().await.expect("invites");
    assert_eq!(invites.len(), 1);
    assert_eq!((invites[0].user_id.as_str(), &invites[0].status), (GUEST, &GuestStarInviteStatus::Invited));
    assert_eq!(refused(client.send_guest_star_invite(HOST, HOST, id.clone(), GUEST).send().await), 403, "twice");
    assert_eq!(refused(client.send_guest_star_invite(HOST, STRANGER, id.clone(), SECOND).send().await), 403);
    assert_eq!(refused(client.send_guest_star_invite(HOST, HOST, "not-the-session", SECOND).send().await), 400);
    assert_eq!(refused(client.get_guest_star_invites(HOST, STRANGER, id.clone()).send().await), 403);

    // Not ready yet: no slot. Ready (the guest's doing: no moderator).
    assert_eq!(refused(client.assign_guest_star_slot(HOST, HOST, id.clone(), GUEST, "1").send().await), 403);
    let ready = mock.guest_star_invite_status(HOST, GUEST, "READY").expect("ready");
    assert_eq!(ready["status"], "READY");
    let update = next_guest(&mut events).await;
    assert_eq!((update.state, update.moderator_user_id), (Some(GuestStarEventGuestState::Ready), None));
    assert_eq!(refused(client.assign_guest_star_slot(HOST, HOST, id.clone(), GUEST, "0").send().await), 403);
    assert_eq!(refused(client.assign_guest_star_slot(HOST, HOST, id.clone(), GUEST, "5").send().await), 400);
    assert_eq!(refused(client.assign_guest_star_slot(HOST, STRANGER, id.clone(), GUEST, "1").send().await), 401);

    // Assigned: backstage in slot 1, no longer an invite.
    client.assign_guest_star_slot(HOST, HOST, id.clone(), GUEST, "1").send().await.expect("assign");
    let seated = next_guest(&mut events).await;
    assert_eq!(seated.state, Some(GuestStarEventGuestState::Backstage));
    assert_eq!(seated.slot_id.as_ref().map(|s| s.as_str()), Some("1"));
    assert_eq!(
        (seated.host_audio_enabled, seated.host_video_enabled, seated.host_volume),
        (Some(true), Some(true), Some(100))
    );
    assert!(client.get_guest_star_invites(HOST, HOST, id.clone()).send().await.expect("invites").is_empty());
    let now = current(&client).await;
    assert_eq!(seating(&now), [("0".to_owned(), HOST.to_owned()), ("1".to_owned(), GUEST.to_owned())]);
    assert!(!now.guests[1].is_live);
    assert_eq!(refused(client.assign_guest_star_slot(HOST, HOST, id.clone(), GUEST, "2").send().await), 403, "seated");

    // The host puts them live, quieter, and mutes them.
    client
        .update_guest_star_slot_settings(HOST, HOST, id.clone(), "1")
        .is_live(true)
        .volume(40)
        .is_audio_enabled(false)
        .send()
        .await
        .expect("slot settings");
    let live = next_guest(&mut events).await;
    assert_eq!(live.state, Some(GuestStarEventGuestState::Live));
    assert_eq!((live.host_audio_enabled, live.host_volume), (Some(false), Some(40)));
    let guest = current(&client).await.guests.remove(1);
    assert!(guest.is_live && !guest.audio_settings.is_host_enabled && guest.video_settings.is_host_enabled);
    assert_eq!(guest.volume, 40);
    assert_eq!(
        refused(client.update_guest_star_slot_settings(HOST, HOST, id.clone(), "0").is_live(false).send().await),
        403
    );
    assert_eq!(
        refused(client.update_guest_star_slot_settings(HOST, HOST, id.clone(), "3").is_live(true).send().await),
        400
    );

    // A second guest in slot 2; then the two swap.
    client.send_guest_star_invite(HOST, HOST, id.clone(), SECOND).send().await.expect("invite");
    mock.guest_star_invite_status(HOST, SECOND, "accepted").expect("accepted");
    mock.guest_star_invite_status(HOST, SECOND, "READY").expect("ready");
    client.assign_guest_star_slot(HOST, HOST, id.clone(), SECOND, "2").send().await.expect("assign");
    for state in [
        GuestStarEventGuestState::Invited,
        GuestStarEventGuestState::Accepted,
        GuestStarEventGuestState::Ready,
        GuestStarEventGuestState::Backstage,
    ] {
        assert_eq!(next_guest(&mut events).await.state, Some(state));
    }
    client.update_guest_star_slot(HOST, HOST, id.clone(), "1").destination_slot_id("2").send().await.expect("swap");
    let (a, b) = (next_guest(&mut events).await, next_guest(&mut events).await);
    let moved = |e: &ChannelGuestStarGuestUpdateBetaEvent| {
        (e.guest_user_id.as_ref().unwrap().as_str().to_owned(), e.slot_id.as_ref().unwrap().as_str().to_owned())
    };
    assert_eq!([moved(&a), moved(&b)], [(GUEST.to_owned(), "2".to_owned()), (SECOND.to_owned(), "1".to_owned())]);
    let swapped = current(&client).await;
    assert_eq!(seating(&swapped)[1..], [("1".to_owned(), SECOND.to_owned()), ("2".to_owned(), GUEST.to_owned())]);
    assert!(swapped.guests[2].is_live, "a guest keeps their settings when moving");
    assert_eq!(
        refused(client.update_guest_star_slot(HOST, HOST, id.clone(), "3").destination_slot_id("1").send().await),
        400
    );

    // The first guest leaves, back to the invites; the second is dropped.
    client
        .delete_guest_star_slot(HOST, HOST, id.clone(), GUEST, "2")
        .should_reinvite_guest(true)
        .send()
        .await
        .expect("leave");
    assert_eq!(next_guest(&mut events).await.state, Some(GuestStarEventGuestState::Invited));
    assert_eq!(refused(client.delete_guest_star_slot(HOST, HOST, id.clone(), GUEST, "2").send().await), 404);
    assert_eq!(refused(client.delete_guest_star_slot(HOST, HOST, id.clone(), HOST, "0").send().await), 403);
    client.delete_guest_star_slot(HOST, HOST, id.clone(), SECOND, "1").send().await.expect("drop");
    let removed = next_guest(&mut events).await;
    assert_eq!((removed.state, removed.slot_id), (Some(GuestStarEventGuestState::Removed), None));
    let invites = client.get_guest_star_invites(HOST, HOST, id.clone()).send().await.expect("invites");
    assert_eq!(invites.iter().map(|i| i.user_id.as_str()).collect::<Vec<_>>(), [GUEST]);
    client.delete_guest_star_invite(HOST, HOST, id.clone(), GUEST).send().await.expect("uninvite");
    assert_eq!(next_guest(&mut events).await.state, Some(GuestStarEventGuestState::Removed));
    assert_eq!(refused(client.delete_guest_star_invite(HOST, HOST, id.clone(), GUEST).send().await), 404);

    // The end: the session as it was, then nothing to read; ending twice is refused.
    assert_eq!(refused(client.end_guest_star_session(HOST, "not-the-session").send().await), 400);
    let ended = client.end_guest_star_session(HOST, id.clone()).send().await.expect("end").remove(0);
    assert_eq!((ended.id.clone(), seating(&ended)), (id.clone(), vec![("0".to_owned(), HOST.to_owned())]));
    let Event::ChannelGuestStarSessionEndBeta(end) = next_event(&mut events).await else { panic!("an end") };
    assert_eq!(end.session_id, id);
    assert!(end.ended_at >= end.started_at);
    assert_eq!(end.host_user_id.as_ref().map(|h| h.as_str()), Some(HOST));
    let err = client.end_guest_star_session(HOST, id.clone()).send().await.expect_err("ended");
    assert_eq!(twitch_says(&err), (400, "Session has already been ended"));
    assert!(client.get_guest_star_session(HOST, HOST).send().await.expect("get").is_empty());
    assert_eq!(refused(client.send_guest_star_invite(HOST, HOST, id, GUEST).send().await), 400);
}

#[tokio::test]
async fn channel_settings_set_the_slots_and_go_out_as_events() {
    let mock = Mock::builder().start().await.expect("mock");
    let client = host(&mock);
    let mut events = client
        .eventsub_websocket()
        .subscribe(ChannelGuestStarSettingsUpdateBeta::new(HOST, HOST))
        .connect()
        .await
        .expect("connect");
    let before = client.get_channel_guest_star_settings(HOST, HOST).send().await.expect("settings").remove(0);

    client
        .update_channel_guest_star_settings(HOST)
        .slot_count(2)
        .group_layout(GuestStarGroupLayout::VerticalLayout)
        .regenerate_browser_sources(true)
        .send()
        .await
        .expect("update");
    let Event::ChannelGuestStarSettingsUpdateBeta(e) = next_event(&mut events).await else {
        panic!("a settings update")
    };
    assert_eq!((e.slot_count, e.group_layout), (2, GuestStarEventGroupLayout::VerticalLeft));
    let after = client.get_channel_guest_star_settings(HOST, HOST).send().await.expect("settings").remove(0);
    assert_eq!(after.slot_count, 2);
    assert_eq!(after.layout, Some(GuestStarGroupLayout::VerticalLayout));
    assert_ne!(after.browser_source_token, before.browser_source_token, "a new browser source token");

    // Two guest slots now: "3" is no slot of this channel.
    let id = client.create_guest_star_session(HOST).send().await.expect("create").remove(0).id;
    for guest in [GUEST, SECOND] {
        client.send_guest_star_invite(HOST, HOST, id.clone(), guest).send().await.expect("invite");
        mock.guest_star_invite_status(HOST, guest, "READY").expect("ready");
    }
    assert_eq!(refused(client.assign_guest_star_slot(HOST, HOST, id.clone(), GUEST, "3").send().await), 400);
    client.assign_guest_star_slot(HOST, HOST, id.clone(), GUEST, "2").send().await.expect("assign");
    assert_eq!(refused(client.assign_guest_star_slot(HOST, HOST, id.clone(), SECOND, "2").send().await), 400, "taken");
}

#[tokio::test]
async fn invitees_get_ready_through_the_control_api_and_may_read_the_session() {
    let mock = Mock::builder().start().await.expect("mock");
    let client = host(&mock);
    let id = client.create_guest_star_session(HOST).send().await.expect("create").remove(0).id;
    let control = |body: Value| {
        let url = format!("{}/control/guest_star_invites", mock.url());
        async move {
            let http = twitch::__rt::tls::client_builder().expect("TLS").build().expect("client");
            let resp = http.post(url).body(body.to_string()).send().await.expect("control request");
            (resp.status().as_u16(), resp.text().await.unwrap())
        }
    };
    let (status, text) = control(json!({"broadcaster_id": HOST, "guest_id": GUEST, "status": "READY"})).await;
    assert_eq!(status, 400, "no invite yet: {text}");
    client.send_guest_star_invite(HOST, HOST, id.clone(), GUEST).send().await.expect("invite");
    let (status, text) = control(json!({"broadcaster_id": HOST, "guest_id": GUEST, "status": "ready"})).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["data"][0]["status"], "READY");
    let (status, _) = control(json!({"broadcaster_id": HOST, "guest_id": GUEST, "status": "LIVE"})).await;
    assert_eq!(status, 400, "not a status an invitee sets");
    let invites = client.get_guest_star_invites(HOST, HOST, id.clone()).send().await.expect("invites");
    assert_eq!(invites[0].status, GuestStarInviteStatus::Ready);

    // The invitee may read the session; a stranger may not.
    let guest = mock
        .client_builder()
        .user_token(mock.mint_user_token(GUEST, "guest", &["channel:read:guest_star"]))
        .build()
        .expect("client");
    let seen = guest.get_guest_star_session(HOST, GUEST).send().await.expect("an invitee reads");
    assert_eq!(seen[0].id, id);
    assert_eq!(refused(guest.get_guest_star_session(HOST, STRANGER).send().await), 401);
}
