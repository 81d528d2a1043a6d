//! The guide: how to use this crate, topic by topic.
//!
//! Every code block here is compiled by `cargo test`, and those that can
//! run do, against [`twitch-mock`](https://docs.rs/twitch-mock) started
//! inside the test (the lines that start it are hidden; the code shown is
//! what a program against Twitch writes). A block that only compiles says
//! why next to it: it waits for a person in a browser, or needs a
//! database or a public address.
//!
//! 1. [`getting_started`]: the first call, tokens from the environment, a
//!    local Twitch.
//! 2. [`authentication`]: each OAuth flow and when to use it, the token
//!    manager, stores, several processes, secrets.
//! 3. [`helix`]: request builders, checks before sending, pagination,
//!    errors and retries, rate limits, `raw`.
//! 4. [`eventsub`]: WebSocket sessions, typed subscriptions on every
//!    transport, webhooks, conduits from one process to many.
//! 5. [`chat_bots`]: `twitch-bot`.
//! 6. [`testing`]: testing an application with `twitch-mock`.
//! 7. [`keeping_up`]: observe mode, `learn`, and how a Twitch change
//!    reaches a release.
//! 8. [`features`]: cargo features and build time.
//! 9. [`from_twitch_api`]: the same tasks in `twitch_api` and here.

#[doc = include_str!("../guide/getting_started.md")]
pub mod getting_started {}

#[doc = include_str!("../guide/authentication.md")]
#[doc = include_str!("../guide/tokens.svg")]
#[doc = include_str!("../guide/authentication_processes.md")]
pub mod authentication {}

#[doc = include_str!("../guide/helix.md")]
pub mod helix {}

#[doc = include_str!("../guide/eventsub.md")]
#[doc = include_str!("../guide/conduits.svg")]
#[doc = include_str!("../guide/eventsub_conduits.md")]
pub mod eventsub {}

#[doc = include_str!("../guide/chat_bots.md")]
pub mod chat_bots {}

#[doc = include_str!("../guide/testing.md")]
pub mod testing {}

#[doc = include_str!("../guide/keeping_up.md")]
pub mod keeping_up {}

#[doc = include_str!("../guide/features.md")]
pub mod features {}

#[doc = include_str!("../guide/from_twitch_api.md")]
pub mod from_twitch_api {}
