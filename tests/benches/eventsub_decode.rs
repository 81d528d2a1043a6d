//! Decoding EventSub WebSocket notification frames into the typed `Event`,
//! side by side with `serde_json::from_str::<IgnoredAny>` over the same
//! bytes (the cost of merely reading the JSON).
//!
//! `cargo bench -p twitch-tests --bench eventsub_decode`
//!
//! The last column is the two-pass way for comparison: read the envelope
//! keeping the payload raw, then the payload with its event raw (every
//! field of its `subscription` decoded), then the event: how
//! `twitch::decode_notification` decoded a webhook body before it went
//! one-pass.
//!
//! The last table covers every subscription type's example: the WebSocket
//! frame through `decode_frame`, the webhook body through
//! `twitch::decode_notification` (the body alone) and through
//! `twitch::decode_notification_as` (type and version from the headers, as
//! `WebhookVerifier` decodes), each beside `IgnoredAny` over its own bytes.
//!
//! A second table splits the typed time in two: the frame with its event
//! skipped (metadata, the raw `subscription`, dispatch), and the event
//! decoded on its own next to `IgnoredAny` over the event's bytes. For
//! `channel.chat.message` it also decodes the frame into borrowed `&str`
//! fields (no allocation at all): what plain serde_json costs at best for
//! the same fields, when nothing has to outlive the frame.
//!
//! Frames are Twitch's example notifications from the schema, wrapped in a
//! WebSocket message's `metadata`. Each figure is the best of `ROUNDS` rounds
//! of `ITERS` decodes (the least disturbed by the rest of the machine); the
//! columns of a row take turns round by round, so they see the same machine.
//!
//! `EVENTSUB_DECODE_PROFILE=<type>` runs only the typed decode of that type,
//! for a profiler such as `perf record`, instead of the tables;
//! `<type>:skipped` runs the frame with the event skipped.

use std::hint::black_box;
use std::time::Instant;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use twitch::Event;
use twitch::websocket::{Message, decode_frame};
use twitch_runtime::EventPayload;

#[path = "../tests/support/frames.rs"]
mod frames;

const ITERS: u32 = 100_000;
const ROUNDS: usize = 9;

const TYPES: [(&str, &str); 5] = [
    ("channel.follow", "2"),
    ("channel.chat.message", "1"),
    ("channel.subscribe", "1"),
    ("stream.online", "1"),
    ("channel.channel_points_custom_reward_redemption.add", "1"),
];

/// The event as raw JSON (compact), for decoding it on its own.
fn event_json(ty: &str, version: &str) -> String {
    let meta = twitch::meta::subscription(ty, version).expect("type in schema");
    let payload: serde_json::Value = serde_json::from_str(meta.example.expect("example")).expect("example JSON");
    payload["event"].to_string()
}

/// A payload type that skips the event: what the frame costs without it.
struct Skipped;

impl EventPayload for Skipped {
    fn decode(_: &str, _: &str, _: &str) -> Result<Self, twitch::DecodeError> {
        Ok(Skipped)
    }

    fn deserialize_event<'de, D: serde::Deserializer<'de>>(_: &str, _: &str, de: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(de).map(|_| Skipped)
    }

    fn unknown(_: twitch::UnknownEvent) -> Self {
        Skipped
    }

    fn kind(&self) -> (&str, &str) {
        ("", "")
    }
}

/// `channel.chat.message` v1 with every string borrowed from the frame: the
/// same fields as the typed decode, without a single allocation.
#[allow(dead_code)] // Decoded, never read: only the decoding is measured.
mod borrowed {
    use serde::Deserialize;
    use serde::de::IgnoredAny;
    use serde_json::value::RawValue;

    #[derive(Deserialize)]
    pub struct Frame<'a> {
        #[serde(borrow)]
        pub metadata: Metadata<'a>,
        #[serde(borrow)]
        pub payload: Payload<'a>,
    }

    #[derive(Deserialize)]
    pub struct Metadata<'a> {
        pub message_id: &'a str,
        pub message_type: &'a str,
        pub message_timestamp: &'a str,
        pub subscription_type: &'a str,
        pub subscription_version: &'a str,
    }

    #[derive(Deserialize)]
    pub struct Payload<'a> {
        #[serde(borrow)]
        pub subscription: &'a RawValue,
        #[serde(borrow)]
        pub event: Chat<'a>,
    }

    #[derive(Deserialize)]
    pub struct Chat<'a> {
        pub broadcaster_user_id: &'a str,
        pub broadcaster_user_login: &'a str,
        pub broadcaster_user_name: &'a str,
        pub chatter_user_id: &'a str,
        pub chatter_user_login: &'a str,
        pub chatter_user_name: &'a str,
        pub message_id: &'a str,
        #[serde(borrow)]
        pub message: Content<'a>,
        pub color: &'a str,
        #[serde(borrow)]
        pub badges: Vec<Badge<'a>>,
        pub message_type: &'a str,
        pub cheer: Option<IgnoredAny>,
        pub reply: Option<IgnoredAny>,
        pub channel_points_custom_reward_id: Option<&'a str>,
        pub source_broadcaster_user_id: Option<&'a str>,
        pub source_broadcaster_user_login: Option<&'a str>,
        pub source_broadcaster_user_name: Option<&'a str>,
        pub source_message_id: Option<&'a str>,
        #[serde(borrow)]
        pub source_badges: Option<Vec<Badge<'a>>>,
        pub is_source_only: Option<bool>,
    }

    #[derive(Deserialize)]
    pub struct Content<'a> {
        pub text: &'a str,
        #[serde(borrow)]
        pub fragments: Vec<Fragment<'a>>,
    }

    #[derive(Deserialize)]
    pub struct Fragment<'a> {
        #[serde(rename = "type")]
        pub kind: &'a str,
        pub text: &'a str,
        pub cheermote: Option<IgnoredAny>,
        pub emote: Option<IgnoredAny>,
        pub mention: Option<IgnoredAny>,
    }

    #[derive(Deserialize)]
    pub struct Badge<'a> {
        pub set_id: &'a str,
        pub id: &'a str,
        pub info: &'a str,
    }
}

/// Nanoseconds per call of `f`, over `ITERS` calls.
fn time(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..ITERS {
        f();
    }
    start.elapsed().as_nanos() as f64 / f64::from(ITERS)
}

/// Runs every measurement `ROUNDS` times, taking turns, and keeps the best
/// of each: the columns of a row see the same machine.
fn side_by_side<const N: usize>(mut runs: [&mut dyn FnMut() -> f64; N]) -> [f64; N] {
    let mut best = [f64::MAX; N];
    for _ in 0..ROUNDS {
        for (b, run) in best.iter_mut().zip(runs.iter_mut()) {
            *b = b.min(run());
        }
    }
    best
}

fn main() {
    // `EVENTSUB_DECODE_EVERY_TYPE=1` runs only the table of every type.
    if std::env::var_os("EVENTSUB_DECODE_EVERY_TYPE").is_some() {
        return every_type();
    }
    // `EVENTSUB_DECODE_PROFILE=<type>` runs only the typed decode of that
    // type, for a profiler (`perf record`), instead of the table.
    if let Ok(what) = std::env::var("EVENTSUB_DECODE_PROFILE") {
        let (ty, skip) = match what.strip_suffix(":skipped") {
            Some(ty) => (ty, true),
            None => (what.as_str(), false),
        };
        let (ty, version) = TYPES.into_iter().find(|(t, _)| *t == ty).expect("one of the benchmarked types");
        let text = frames::example(ty, version);
        for _ in 0..ROUNDS * 3 {
            for _ in 0..ITERS {
                if skip {
                    black_box(decode_frame::<Skipped>(black_box(&text)).unwrap());
                } else {
                    black_box(decode_frame::<Event>(black_box(&text)).unwrap());
                }
            }
        }
        return;
    }
    println!("{:<55} {:>6} {:>12} {:>12} {:>7} {:>14}", "type", "bytes", "IgnoredAny", "typed", "ratio", "two-pass");
    let mut worst: f64 = 0.0;
    for (ty, version) in TYPES {
        let text = frames::example(ty, version);
        // Check once that the typed path really produces the typed event.
        match decode_frame::<Event>(&text).expect("decodes").message {
            Message::Notification { event, decode_error: None, .. } => {
                assert!(!matches!(event, Event::Unknown(_)), "{ty} decoded as Unknown")
            }
            other => panic!("{ty}: unexpected {other:?}"),
        }
        // The two-pass way: envelope first (payload kept raw), then the
        // notification with every `subscription` field decoded and the event
        // raw, then the event.
        #[derive(serde::Deserialize)]
        struct Envelope<'a> {
            #[serde(borrow)]
            payload: &'a RawValue,
        }
        #[derive(serde::Deserialize)]
        struct Payload<'a> {
            subscription: twitch::SubscriptionInfo,
            #[serde(borrow)]
            event: &'a RawValue,
        }
        let [ignored, typed, two_pass] = side_by_side([
            &mut || {
                time(|| {
                    black_box(serde_json::from_str::<IgnoredAny>(black_box(&text)).unwrap());
                })
            },
            &mut || {
                time(|| {
                    black_box(decode_frame::<Event>(black_box(&text)).unwrap());
                })
            },
            &mut || {
                time(|| {
                    let env: Envelope<'_> = serde_json::from_str(black_box(&text)).unwrap();
                    let p: Payload<'_> = serde_json::from_str(env.payload.get()).unwrap();
                    let e = Event::decode(&p.subscription.subscription_type, &p.subscription.version, p.event.get());
                    black_box((p.subscription, e.unwrap()));
                })
            },
        ]);
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

    println!();
    println!("where the typed time goes");
    println!(
        "{:<55} {:>14} {:>7} {:>14} {:>12} {:>7}",
        "type", "event skipped", "ratio", "event: Ignored", "event: typed", "ratio"
    );
    for (ty, version) in TYPES {
        let text = frames::example(ty, version);
        let event = event_json(ty, version);
        let [ignored, skipped, event_ignored, event_typed] = side_by_side([
            &mut || {
                time(|| {
                    black_box(serde_json::from_str::<IgnoredAny>(black_box(&text)).unwrap());
                })
            },
            &mut || {
                time(|| {
                    black_box(decode_frame::<Skipped>(black_box(&text)).unwrap());
                })
            },
            &mut || {
                time(|| {
                    black_box(serde_json::from_str::<IgnoredAny>(black_box(&event)).unwrap());
                })
            },
            &mut || {
                time(|| {
                    let de = &mut serde_json::Deserializer::from_str(black_box(&event));
                    black_box(Event::deserialize_event(ty, version, de).unwrap());
                })
            },
        ]);
        println!(
            "{:<55} {:>11.0} ns {:>6.2}x {:>11.0} ns {:>9.0} ns {:>6.2}x",
            format!("{ty} v{version}"),
            skipped,
            skipped / ignored,
            event_ignored,
            event_typed,
            event_typed / event_ignored
        );
    }

    let text = frames::example("channel.chat.message", "1");
    let [ignored, floor, typed] = side_by_side([
        &mut || {
            time(|| {
                black_box(serde_json::from_str::<IgnoredAny>(black_box(&text)).unwrap());
            })
        },
        &mut || {
            time(|| {
                black_box(serde_json::from_str::<borrowed::Frame<'_>>(black_box(&text)).unwrap());
            })
        },
        &mut || {
            time(|| {
                black_box(decode_frame::<Event>(black_box(&text)).unwrap());
            })
        },
    ]);
    println!();
    println!(
        "channel.chat.message v1 into borrowed &str fields (no allocation): {floor:.0} ns, {:.2}x IgnoredAny \
         (typed: {typed:.0} ns, {:.2}x)",
        floor / ignored,
        typed / ignored
    );

    every_type();
}

/// Every subscription type's example: the WebSocket frame and the webhook
/// body, each beside `IgnoredAny` over its own bytes (fewer iterations: 82
/// types).
fn every_type() {
    const N: u32 = 10_000;
    let time_n = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..N {
            f();
        }
        start.elapsed().as_nanos() as f64 / f64::from(N)
    };
    println!();
    println!(
        "every subscription type: WebSocket frame (decode_frame), webhook body alone (decode_notification) \
         and with its headers (decode_notification_as)"
    );
    println!("{:<58} {:>10} {:>10} {:>10}", "type", "frame", "body", "headers");
    let (mut frame_ratios, mut body_ratios, mut header_ratios) = (Vec::new(), Vec::new(), Vec::new());
    for meta in twitch::meta::subscriptions() {
        let Some(example) = meta.example else { continue };
        let body = compact(example);
        let frame = frames::notification(meta.subscription_type, meta.version, example);
        twitch::decode_notification(&body).expect("the body decodes");
        decode_frame::<Event>(&frame).expect("the frame decodes");
        let (ty, version) = (meta.subscription_type, meta.version);
        twitch::decode_notification_as(ty, version, &body).expect("the body decodes");
        let [fi, ft, bi, bt, ht] = side_by_side([
            &mut || {
                time_n(&mut || {
                    black_box(serde_json::from_str::<IgnoredAny>(black_box(&frame)).unwrap());
                })
            },
            &mut || time_n(&mut || drop(black_box(decode_frame::<Event>(black_box(&frame)).unwrap()))),
            &mut || {
                time_n(&mut || {
                    black_box(serde_json::from_str::<IgnoredAny>(black_box(&body)).unwrap());
                })
            },
            &mut || time_n(&mut || drop(black_box(twitch::decode_notification(black_box(&body)).unwrap()))),
            &mut || {
                time_n(&mut || {
                    drop(black_box(twitch::decode_notification_as(ty, version, black_box(&body)).unwrap()));
                })
            },
        ]);
        println!("{:<58} {:>9.2}x {:>9.2}x {:>9.2}x", format!("{ty} v{version}"), ft / fi, bt / bi, ht / bi);
        frame_ratios.push(ft / fi);
        body_ratios.push(bt / bi);
        header_ratios.push(ht / bi);
    }
    let stats = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[v.len() - 1])
    };
    let (fm, fw) = stats(&mut frame_ratios);
    let (bm, bw) = stats(&mut body_ratios);
    let (hm, hw) = stats(&mut header_ratios);
    println!(
        "{} types: frame median {fm:.2}x, worst {fw:.2}x; webhook body median {bm:.2}x, worst {bw:.2}x; \
         with headers median {hm:.2}x, worst {hw:.2}x (goal: at most 2.5x)",
        frame_ratios.len()
    );
}

/// The example without whitespace between tokens, keys in Twitch's order
/// (`subscription`, then `event`), as a webhook body arrives.
fn compact(json: &str) -> String {
    let (mut out, mut in_string, mut escaped) = (String::with_capacity(json.len()), false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if !c.is_whitespace() {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}
