//! Decoding EventSub WebSocket notification frames into the typed `Event`,
//! side by side with `serde_json::from_str::<IgnoredAny>` over the same
//! bytes (the cost of merely reading the JSON).
//!
//! `cargo bench -p twitch-tests --bench eventsub_decode`
//!
//! The last column is the two-pass way for comparison: read the envelope
//! keeping the payload raw, then decode the notification (every field of
//! its `subscription` included), as `twitch::decode_notification` does for
//! a webhook body.
//!
//! Frames are Twitch's example notifications from the schema, wrapped in a
//! WebSocket message's `metadata`. Each figure is the best of 7 rounds of
//! `ITERS` decodes (the least disturbed by the rest of the machine).

use std::hint::black_box;
use std::time::Instant;

use serde::de::IgnoredAny;
use twitch::Event;
use twitch::websocket::{Message, decode_frame};

const ITERS: u32 = 100_000;
const ROUNDS: usize = 7;

const TYPES: [(&str, &str); 5] = [
    ("channel.follow", "2"),
    ("channel.chat.message", "1"),
    ("channel.subscribe", "1"),
    ("stream.online", "1"),
    ("channel.channel_points_custom_reward_redemption.add", "1"),
];

fn frame(ty: &str, version: &str) -> String {
    let meta = twitch::meta::subscription(ty, version).expect("type in schema");
    let payload: serde_json::Value = serde_json::from_str(meta.example.expect("example")).expect("example JSON");
    let message = serde_json::json!({
        "metadata": {
            "message_id": "befa7b53-d79d-478f-86b9-120f112b044e",
            "message_type": "notification",
            "message_timestamp": "2022-11-16T10:11:12.464757833Z",
            "subscription_type": ty,
            "subscription_version": version,
        },
        "payload": payload,
    });
    // Compact, as Twitch sends it.
    message.to_string()
}

fn best_ns(mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..ITERS {
            f();
        }
        best = best.min(start.elapsed().as_nanos() as f64 / f64::from(ITERS));
    }
    best
}

fn main() {
    println!("{:<55} {:>6} {:>12} {:>12} {:>7} {:>14}", "type", "bytes", "IgnoredAny", "typed", "ratio", "two-pass");
    let mut worst: f64 = 0.0;
    for (ty, version) in TYPES {
        let text = frame(ty, version);
        // Check once that the typed path really produces the typed event.
        match decode_frame::<Event>(&text).expect("decodes").message {
            Message::Notification { event, decode_error: None, .. } => {
                assert!(!matches!(event, Event::Unknown(_)), "{ty} decoded as Unknown")
            }
            other => panic!("{ty}: unexpected {other:?}"),
        }
        let ignored = best_ns(|| {
            black_box(serde_json::from_str::<IgnoredAny>(black_box(&text)).unwrap());
        });
        let typed = best_ns(|| {
            black_box(decode_frame::<Event>(black_box(&text)).unwrap());
        });
        // The two-pass way: envelope first (payload kept raw), then the
        // notification with every `subscription` field decoded.
        let two_pass = best_ns(|| {
            #[derive(serde::Deserialize)]
            struct Envelope<'a> {
                #[serde(borrow)]
                payload: &'a serde_json::value::RawValue,
            }
            let env: Envelope<'_> = serde_json::from_str(black_box(&text)).unwrap();
            black_box(twitch::decode_notification(env.payload.get()).unwrap());
        });
        let ratio = typed / ignored;
        worst = worst.max(ratio);
        println!(
            "{:<55} {:>6} {:>9.0} ns {:>9.0} ns {:>6.2}x {:>8.0} ns {:.2}x",
            format!("{ty} v{version}"),
            text.len(),
            ignored,
            typed,
            ratio,
            two_pass,
            two_pass / ignored
        );
    }
    println!("worst ratio: {worst:.2}x (goal: at most 2x)");
}
