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

/// With Twitch's subscription headers the event is typed from them; the
/// result is the one the body alone gives.
#[test]
fn subscription_headers_type_the_event_as_the_body_does() {
    let v = WebhookVerifier::new(SECRET);
    let now = at(TS) + Duration::from_secs(5);
    let decoded = |id: &str, extra: &[(&str, &str)]| {
        let mut h = hdrs(id, TS, &sign(FOLLOW, id, TS), "notification");
        h.extend(extra.iter().map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned())));
        match handle(&v, &h, FOLLOW, now).unwrap().1 {
            WebhookMessage::Notification { notification, .. } => notification,
            other => panic!("{other:?}"),
        }
    };
    let with = decoded("h-1", &[(headers::SUBSCRIPTION_TYPE, "channel.follow"), (headers::SUBSCRIPTION_VERSION, "2")]);
    let without = decoded("h-2", &[]);
    assert_eq!(with, without);
    assert!(matches!(with.event, Event::ChannelFollowV2(_)));
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

/// The bodies Twitch documents for a conduit's webhook shards ("Getting
/// Events Using Conduits"): the shard verification has `conduit_shard` and
/// no `subscription`; notifications and revocations name the conduit.
#[test]
fn conduit_webhook_shards_are_verified_and_delivered() {
    let v = WebhookVerifier::new(SECRET);
    let body = r#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","conduit_shard":{"conduit_id":"3f1c2a87-161a-49f9-a165-0f21d7a4e1c4","shard":"42"}}"#;
    let h = hdrs("c1", TS, &sign(body, "c1", TS), "webhook_callback_verification");
    let (reply, msg) = handle(&v, &h, body, at(TS)).unwrap();
    assert_eq!(
        (reply.status, reply.content_type, reply.body.as_str()),
        (200, Some("text/plain"), "pogchamp-kappa-360noscope-vohiyo")
    );
    match msg {
        WebhookMessage::ShardVerification { conduit_id, shard_id } => {
            assert_eq!((conduit_id.as_str(), shard_id.as_str()), ("3f1c2a87-161a-49f9-a165-0f21d7a4e1c4", "42"));
        }
        other => panic!("{other:?}"),
    }
    // Twitch repeats a verification it did not see answered: the challenge again.
    let (reply, msg) = handle(&v, &h, body, at(TS)).unwrap();
    assert_eq!(reply.body, "pogchamp-kappa-360noscope-vohiyo");
    assert!(matches!(msg, WebhookMessage::Duplicate { .. }));

    let body = r#"{"subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"enabled","type":"channel.follow","version":"1","cost":1,"condition":{"broadcaster_user_id":"12826"},"transport":{"method":"conduit","conduit_id":"3f1c2a87-161a-49f9-a165-0f21d7a4e1c4"},"created_at":"2019-11-16T10:11:12.634234626Z"},"event":{"user_id":"1337","user_login":"awesome_user","user_name":"Awesome_User","broadcaster_user_id":"12826","broadcaster_user_login":"twitch","broadcaster_user_name":"Twitch","followed_at":"2020-07-15T18:16:11.17106713Z"}}"#;
    let h = hdrs("c2", TS, &sign(body, "c2", TS), "notification");
    match handle(&v, &h, body, at(TS)).unwrap().1 {
        WebhookMessage::Notification { notification, .. } => {
            let subscription = notification.subscription.parse().unwrap();
            assert_eq!(subscription.transport.method, "conduit");
            assert_eq!(subscription.transport.conduit_id.as_deref(), Some("3f1c2a87-161a-49f9-a165-0f21d7a4e1c4"));
            // Version 1 of channel.follow is gone from the schema: delivered raw.
            match notification.event {
                Event::Unknown(u) => assert_eq!(u.raw["user_login"], "awesome_user"),
                other => panic!("{other:?}"),
            }
        }
        other => panic!("{other:?}"),
    }

    // The guide prints this revocation without its opening brace; Twitch sends an object.
    let body = r#"{"subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"authorization_revoked","type":"channel.follow","cost":1,"version":"1","condition":{"broadcaster_user_id":"12826"},"transport":{"method":"conduit","conduit_id":"3f1c2a87-161a-49f9-a165-0f21d7a4e1c4"},"created_at":"2019-11-16T10:11:12.634234626Z"}}"#;
    let h = hdrs("c3", TS, &sign(body, "c3", TS), "revocation");
    match handle(&v, &h, body, at(TS)).unwrap().1 {
        WebhookMessage::Revocation { subscription } => {
            assert_eq!(subscription.status, "authorization_revoked");
            assert_eq!(subscription.transport.conduit_id.as_deref(), Some("3f1c2a87-161a-49f9-a165-0f21d7a4e1c4"));
        }
        other => panic!("{other:?}"),
    }
    // A verification that names neither is refused, not answered with an empty challenge.
    let body = r#"{"challenge":"x"}"#;
    let h = hdrs("c4", TS, &sign(body, "c4", TS), "webhook_callback_verification");
    assert!(matches!(handle(&v, &h, body, at(TS)), Err(WebhookError::Decode(_))));
}

/// A body that fails to decode is refused without marking its message id:
/// Twitch's redelivery is decoded afresh, not acknowledged as a duplicate.
#[test]
fn a_body_that_failed_is_not_a_duplicate_when_redelivered() {
    let v = WebhookVerifier::new(SECRET);
    let revocation = r#"{"subscription":{"id":"s","status":"user_removed","type":"channel.follow","version":"2","cost":0,"condition":{},"transport":{"method":"webhook"},"created_at":"2019-11-16T10:11:12.634234626Z"}}"#;
    let shard = r#"{"challenge":"c","conduit_shard":{"conduit_id":"x","shard":"0"}}"#;
    for (kind, good) in [("notification", FOLLOW), ("revocation", revocation), ("webhook_callback_verification", shard)]
    {
        let id = format!("redelivered-{kind}");
        let broken = r#"{"subscription": 12}"#;
        let h = hdrs(&id, TS, &sign(broken, &id, TS), kind);
        let e = handle(&v, &h, broken, at(TS)).unwrap_err();
        assert!(matches!(e, WebhookError::Decode(_)), "{kind}: {e:?}");
        assert_eq!(WebhookReply::for_error(&e).status, 400);
        // The same id again (a fixed sender, or Twitch retrying): handled, not dropped.
        let h = hdrs(&id, TS, &sign(good, &id, TS), kind);
        let (_, msg) = handle(&v, &h, good, at(TS)).unwrap();
        assert!(!matches!(msg, WebhookMessage::Duplicate { .. }), "{kind}: {msg:?}");
        // Now it was handed over: a third delivery is the duplicate.
        let (_, msg) = handle(&v, &h, good, at(TS)).unwrap();
        assert!(matches!(msg, WebhookMessage::Duplicate { .. }), "{kind}: {msg:?}");
    }
}

/// A verifier with an observer notes what the event carries beyond the
/// schema; the event is delivered as without one.
#[test]
fn an_observing_verifier_notes_unknown_fields() {
    let observer = twitch::Observer::new();
    let v = WebhookVerifier::new(SECRET).observe(observer.clone());
    let body = FOLLOW.replace(r#""user_login":"cool_user""#, r#""user_login":"cool_user","brand_new":[1]"#);
    assert_ne!(body, FOLLOW);
    let now = at(TS) + Duration::from_secs(5);
    let h = hdrs("o-1", TS, &sign(&body, "o-1", TS), "notification");
    assert!(matches!(handle(&v, &h, &body, now).unwrap().1, WebhookMessage::Notification { .. }));
    match &observer.report().findings[..] {
        [twitch::observe::Finding::UnknownField { path, json_type, .. }] => {
            assert_eq!((path.as_str(), json_type.as_str()), ("brand_new", "array"));
        }
        other => panic!("{other:?}"),
    }
}

/// Observing a payload reads its subscription's type and version as the
/// decoders do: one whose `type` is given twice is passed over, not
/// observed as either type.
#[test]
fn observing_reads_the_kind_as_the_decoders_do() {
    let with_new_field = FOLLOW.replace(r#""user_login":"cool_user""#, r#""user_login":"cool_user","brand_new":1"#);
    let observer = twitch::Observer::new();
    observer.observe_notification::<twitch::eventsub::Event>(&with_new_field);
    assert_eq!(observer.report().findings.len(), 1, "{:?}", observer.report());

    let twice =
        with_new_field.replacen(r#""type":"channel.follow""#, r#""type":"channel.follow","type":"channel.ban""#, 1);
    assert_ne!(twice, with_new_field);
    assert!(twitch::decode_notification(&twice).is_err(), "the decoders refuse it");
    let observer = twitch::Observer::new();
    observer.observe_notification::<twitch::eventsub::Event>(&twice);
    assert!(observer.report().findings.is_empty(), "{:?}", observer.report());
}
