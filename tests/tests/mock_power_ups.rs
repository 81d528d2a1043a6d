//! Custom Power-ups against the mock: made through its API (broadcasters
//! make them on Twitch's site), listed by Get Custom Power-up, redeemed
//! by viewers as `channel.custom_power_up_redemption.add` and
//! `channel.bits.use` notifications, within their caps and cooldowns.

use std::time::Duration;

use twitch::eventsub::channel::{BitsUseType, ChannelBitsUseV1, ChannelCustomPowerUpRedemptionAddV1};
use twitch::{Client, Event, Session, SessionItem};
use twitch_mock::{Mock, MockServer, NewPowerUp};

const CHANNEL: &str = "1001";

fn broadcaster(mock: &MockServer) -> Client {
    mock.client_builder().user_token(mock.mint_user_token(CHANNEL, "streamer", &["bits:read"])).build().unwrap()
}

async fn next_event(session: &mut Session) -> Event {
    match tokio::time::timeout(Duration::from_secs(20), session.next()).await.expect("in time").expect("an item") {
        SessionItem::Notification(n) => n.event,
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn power_ups_are_listed_by_id_and_refused_when_none_is_found() {
    let mock = Mock::builder().start().await.unwrap();
    let c = broadcaster(&mock);
    assert!(c.get_custom_power_up(CHANNEL).await.unwrap().is_empty());
    let a = mock.add_power_up(CHANNEL, NewPowerUp::new("hydrate", 100)).unwrap();
    let b = mock.add_power_up(CHANNEL, NewPowerUp::new("song request", 500).prompt("which song?")).unwrap();
    let all = c.get_custom_power_up(CHANNEL).await.unwrap();
    assert_eq!(
        all.iter().map(|p| (p.title.as_str(), p.bits)).collect::<Vec<_>>(),
        [("hydrate", 100), ("song request", 500)]
    );
    assert!(all[1].is_user_input_required && all[1].prompt == "which song?");
    assert!(all[0].image.is_none() && all[0].is_in_stock);
    let one = c.get_custom_power_up(CHANNEL).id(b["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(*one[0].id, *b["id"].as_str().unwrap());
    // Unknown ids are left out; only unknown ones is Twitch's 404.
    let mixed = c.get_custom_power_up(CHANNEL).id(a["id"].as_str().unwrap()).id("nope").await.unwrap();
    assert_eq!(mixed.len(), 1);
    let none = c.get_custom_power_up(CHANNEL).id("nope").await.unwrap_err();
    assert_eq!(none.status(), Some(404));
    assert!(mock.add_power_up(CHANNEL, NewPowerUp::new("free", 0)).is_err());
}

#[tokio::test(start_paused = true)]
async fn a_redemption_goes_out_as_both_events_within_caps_and_cooldown() {
    let mock = Mock::builder().start().await.unwrap();
    let c = broadcaster(&mock);
    let pu = NewPowerUp::new("hydrate", 100).max_per_user_per_stream(1).cooldown(Duration::from_secs(60));
    let hydrate = mock.add_power_up(CHANNEL, pu).unwrap();
    let id = hydrate["id"].as_str().unwrap().to_owned();
    let other = mock.add_power_up(CHANNEL, NewPowerUp::new("other", 10)).unwrap();
    let mut session = c
        .eventsub_websocket()
        .subscribe(ChannelCustomPowerUpRedemptionAddV1::new(CHANNEL).reward_id(id.as_str()))
        .subscribe(ChannelBitsUseV1::new(CHANNEL))
        .connect()
        .await
        .unwrap();

    let sent = mock.redeem_power_up(CHANNEL, &id, "10005", "").unwrap();
    assert_eq!(sent.delivered, 2, "the redemption and the bits use");
    let (mut redeemed, mut used) = (None, None);
    for _ in 0..2 {
        match next_event(&mut session).await {
            Event::ChannelCustomPowerUpRedemptionAddV1(e) => redeemed = Some(e),
            Event::ChannelBitsUseV1(e) => used = Some(e),
            other => panic!("unexpected {other:?}"),
        }
    }
    let redeemed = redeemed.expect("the redemption");
    assert_eq!((redeemed.user_login.as_str(), redeemed.custom_power_up.title.as_str()), ("mockuser5", "hydrate"));
    assert_eq!((redeemed.custom_power_up.bits, *redeemed.custom_power_up.id == *id), (100, true));
    let used = used.expect("the bits use");
    assert_eq!((used.use_type, used.bits), (BitsUseType::CustomPowerUp, 100));
    let custom = used.custom_power_up.expect("the custom Power-up");
    assert_eq!((custom.title.as_str(), custom.reward_id.as_deref()), ("hydrate", Some(id.as_str())));

    // Cooling down, then the viewer's own cap.
    let listed = c.get_custom_power_up(CHANNEL).id(id.as_str()).await.unwrap();
    assert!(!listed[0].is_in_stock && listed[0].cooldown_expires_at.is_some());
    assert!(mock.redeem_power_up(CHANNEL, &id, "10006", "").unwrap_err().contains("cooling down"));
    tokio::time::advance(Duration::from_secs(61)).await;
    assert!(mock.redeem_power_up(CHANNEL, &id, "10005", "").unwrap_err().contains("limit"));
    mock.redeem_power_up(CHANNEL, &id, "10006", "").expect("another viewer, after the cooldown");
    // The subscription names one Power-up: another's redemption reaches only channel.bits.use.
    let other = mock.redeem_power_up(CHANNEL, other["id"].as_str().unwrap(), "10007", "").unwrap();
    assert_eq!(other.delivered, 1);
    assert!(mock.redeem_power_up(CHANNEL, "nope", "10005", "").is_err());
    session.close().await;
}
