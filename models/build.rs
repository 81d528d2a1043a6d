//! Sets one cfg from the features; the generated code itself is in
//! `src/generated/`, written by `cargo run -p twitch-codegen -- sync`.

fn main() {
    // `twitch_eventsub`: the `Event` enum, there with any EventSub group or
    // when asked for (`event`).
    println!("cargo::rustc-check-cfg=cfg(twitch_eventsub)");
    let any_group = std::env::vars_os().any(|(k, _)| k.to_string_lossy().starts_with("CARGO_FEATURE_EVENTSUB_"));
    if any_group || std::env::var_os("CARGO_FEATURE_EVENT").is_some() {
        println!("cargo::rustc-cfg=twitch_eventsub");
    }
}
