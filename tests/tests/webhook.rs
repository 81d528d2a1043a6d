//! EventSub webhooks: signature known-answer vectors, tampering, the replay
//! window, duplicates, the verification challenge, revocations, batches.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use twitch::Event;
use twitch::webhook::{WebhookError, WebhookMessage, WebhookReply, WebhookVerifier, headers};

const SECRET: &str = "s3cRe7s3cRe7";
const ID: &str = "e76c6bd4-55c9-4987-8304-da1588d8988b";
const TS: &str = "2019-11-16T10:11:12.634234626Z";
const FOLLOW: &str = r#"{"subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","type":"channel.follow","version":"2","status":"enabled","cost":0,"condition":{"broadcaster_user_id":"1337","moderator_user_id":"1337"},"transport":{"method":"webhook","callback":"https://example.com/webhooks/callback"},"created_at":"2019-11-16T10:11:12.634234626Z"},"event":{"user_id":"1234","user_login":"cool_user","user_name":"Cool_User","broadcaster_user_id":"1337","broadcaster_user_login":"cooler_user","broadcaster_user_name":"Cooler_User","followed_at":"2020-07-15T18:16:11.17106713Z"}}"#;
/// HMAC-SHA256(SECRET, ID + TS + FOLLOW), computed independently.
const FOLLOW_SIG: &str = "sha256=0af399c45db6c2dbb4db7a20ac99d4fd9f099fd2fd530b3ede11cba00daec4ba";

fn at(ts: &str) -> SystemTime {
    twitch::Timestamp::parse(ts).unwrap().to_system_time()
}

fn hdrs(id: &str, ts: &str, sig: &str, kind: &str) -> HashMap<String, String> {
    [
        (headers::MESSAGE_ID, id),
        (headers::MESSAGE_TIMESTAMP, ts),
        (headers::MESSAGE_SIGNATURE, sig),
        (headers::MESSAGE_TYPE, kind),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
    .collect()
}

fn handle(
    v: &WebhookVerifier,
    h: &HashMap<String, String>,
    body: &str,
    now: SystemTime,
) -> Result<(WebhookReply, WebhookMessage<Event>), WebhookError> {
    v.handle(|name| h.get(&name.to_ascii_lowercase()).map(String::as_str), body.as_bytes(), now)
}

fn sign(body: &str, id: &str, ts: &str) -> String {
    // Sign as Twitch does, with ring directly (not through the verifier).
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
    let tag = ring::hmac::sign(&key, format!("{id}{ts}{body}").as_bytes());
    format!("sha256={}", tag.as_ref().iter().map(|b| format!("{b:02x}")).collect::<String>())
}

#[test]
fn a_signed_notification_is_delivered_once() {
    let v = WebhookVerifier::new(SECRET);
    // Signing with the same secret gives the independently computed signature.
    assert_eq!(v.sign(ID, TS, FOLLOW.as_bytes()), FOLLOW_SIG);
    let h = hdrs(ID, TS, FOLLOW_SIG, "notification");
    let now = at(TS) + Duration::from_secs(5);
    let (reply, msg) = handle(&v, &h, FOLLOW, now).unwrap();
    assert_eq!(reply.status, 204);
    match msg {
        WebhookMessage::Notification { message_id, notification } => {
            assert_eq!(message_id, ID);
            match notification.event {
                Event::ChannelFollowV2(e) => assert_eq!(e.user_login, "cool_user"),
                other => panic!("{other:?}"),
            }
        }
        other => panic!("{other:?}"),
    }
    // Twitch redelivers the same message id: acknowledged, not delivered.
    let (reply, msg) = handle(&v, &h, FOLLOW, now).unwrap();
    assert_eq!(reply.status, 204);
    assert!(matches!(msg, WebhookMessage::Duplicate { .. }));
}

#[test]
fn tampering_is_refused() {
    let v = WebhookVerifier::new(SECRET);
    let now = at(TS);
    let tampered_body = FOLLOW.replace("cool_user", "evil_user");
    let e = handle(&v, &hdrs(ID, TS, FOLLOW_SIG, "notification"), &tampered_body, now).unwrap_err();
    assert!(matches!(e, WebhookError::BadSignature));
    assert_eq!(WebhookReply::for_error(&e).status, 403);
    let later = "2019-11-16T10:11:13.634234626Z";
    assert!(matches!(
        handle(&v, &hdrs(ID, later, FOLLOW_SIG, "notification"), FOLLOW, now),
        Err(WebhookError::BadSignature)
    ));
    let bad_sig = FOLLOW_SIG.replace("0af3", "0af4");
    assert!(matches!(
        handle(&v, &hdrs(ID, TS, &bad_sig, "notification"), FOLLOW, now),
        Err(WebhookError::BadSignature)
    ));
    let other_secret = WebhookVerifier::new("another-secret");
    assert!(matches!(
        handle(&other_secret, &hdrs(ID, TS, FOLLOW_SIG, "notification"), FOLLOW, now),
        Err(WebhookError::BadSignature)
    ));
    let mut missing = hdrs(ID, TS, FOLLOW_SIG, "notification");
    missing.remove(&headers::MESSAGE_SIGNATURE.to_ascii_lowercase());
    assert!(matches!(handle(&v, &missing, FOLLOW, now), Err(WebhookError::MissingHeader(_))));
}

#[test]
fn old_messages_are_refused() {
    let v = WebhookVerifier::new(SECRET);
    let h = hdrs(ID, TS, FOLLOW_SIG, "notification");
    let e = handle(&v, &h, FOLLOW, at(TS) + Duration::from_secs(11 * 60)).unwrap_err();
    assert!(matches!(e, WebhookError::Stale));
    assert!(handle(&v, &h, FOLLOW, at(TS) + Duration::from_secs(9 * 60)).is_ok());
}

#[test]
fn verification_challenge_and_revocation() {
    let v = WebhookVerifier::new(SECRET);
    let body = r#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"webhook_callback_verification_pending","type":"channel.follow","version":"2","cost":1,"condition":{"broadcaster_user_id":"12826"},"transport":{"method":"webhook","callback":"https://example.com/webhooks/callback"},"created_at":"2019-11-16T10:11:12.634234626Z"}}"#;
    let h = hdrs("m1", TS, &sign(body, "m1", TS), "webhook_callback_verification");
    let (reply, msg) = handle(&v, &h, body, at(TS)).unwrap();
    assert_eq!(
        (reply.status, reply.content_type, reply.body.as_str()),
        (200, Some("text/plain"), "pogchamp-kappa-360noscope-vohiyo")
    );
    assert!(matches!(msg, WebhookMessage::Verification { .. }));

    let body = r#"{"subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"authorization_revoked","type":"channel.follow","cost":1,"version":"2","condition":{"broadcaster_user_id":"12826"},"transport":{"method":"webhook","callback":"https://example.com/webhooks/callback"},"created_at":"2019-11-16T10:11:12.634234626Z"}}"#;
    let h = hdrs("m2", TS, &sign(body, "m2", TS), "revocation");
    let (reply, msg) = handle(&v, &h, body, at(TS)).unwrap();
    assert_eq!(reply.status, 204);
    match msg {
        WebhookMessage::Revocation { subscription } => assert_eq!(subscription.status, "authorization_revoked"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn batched_events_and_unknown_types() {
    let v = WebhookVerifier::new(SECRET);
    let meta = twitch::meta::subscription("drop.entitlement.grant", "1").unwrap();
    let body: String =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(meta.example.unwrap()).unwrap()).unwrap();
    let h = hdrs("m3", TS, &sign(&body, "m3", TS), "notification");
    match handle(&v, &h, &body, at(TS)).unwrap().1 {
        WebhookMessage::Notification { notification, .. } => match notification.event {
            Event::DropEntitlementGrantV1(events) => assert!(!events.is_empty()),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    let body = FOLLOW.replace("channel.follow", "channel.brand_new_thing");
    let h = hdrs("m4", TS, &sign(&body, "m4", TS), "notification");
    match handle(&v, &h, &body, at(TS)).unwrap().1 {
        WebhookMessage::Notification { notification, .. } => assert!(matches!(notification.event, Event::Unknown(_))),
        other => panic!("{other:?}"),
    }
    let h = hdrs("m5", TS, &sign("not json", "m5", TS), "notification");
    assert!(matches!(handle(&v, &h, "not json", at(TS)), Err(WebhookError::Decode(_))));
}

#[test]
fn the_secret_is_not_in_debug_output() {
    assert!(!format!("{:?}", WebhookVerifier::new(SECRET)).contains(SECRET));
}
