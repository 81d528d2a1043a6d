//! A local Twitch.
