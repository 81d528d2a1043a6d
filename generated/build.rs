//! Sets two cfgs from the features; the generated code itself is in
//! `src/generated/` (the endpoints; the models are `twitch-models`'s),
//! written by `cargo run -p twitch-codegen -- sync`.

fn main() {
    let on = |f: &str| std::env::var_os(format!("CARGO_FEATURE_{f}")).is_some();
    // The guide (`twitch::guide`) uses every part of the crate: it is built
    // when all of the features its examples need are on.
    println!("cargo::rustc-check-cfg=cfg(twitch_guide)");
    let guide = ["HELIX", "EVENTSUB", "WEBSOCKET", "OAUTH", "WEBHOOK", "AXUM", "CALLBACK", "SQLITE", "POSTGRES"];
    if guide.iter().all(|f| on(f)) {
        println!("cargo::rustc-cfg=twitch_guide");
    }
    // `twitch_eventsub`: the `Event` enum and what decodes into it, there
    // with any EventSub group, or a transport that delivers events.
    println!("cargo::rustc-check-cfg=cfg(twitch_eventsub)");
    let any_group = std::env::vars_os().any(|(k, _)| k.to_string_lossy().starts_with("CARGO_FEATURE_EVENTSUB_"));
    if any_group || on("WEBSOCKET") || on("WEBHOOK") {
        println!("cargo::rustc-cfg=twitch_eventsub");
    }
}
