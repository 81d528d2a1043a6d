//! Generates the models from `schema/` into `OUT_DIR` (the `twitch`
//! crate's build script generates its endpoints from the same schema). In
//! the repository `schema` is a link to the top-level `schema/`; the
//! packaged crate carries the files themselves.

fn main() {
    // `twitch_eventsub`: the `Event` enum, there with any EventSub group or
    // when asked for (`event`).
    println!("cargo::rustc-check-cfg=cfg(twitch_eventsub)");
    let any_group = std::env::vars_os().any(|(k, _)| k.to_string_lossy().starts_with("CARGO_FEATURE_EVENTSUB_"));
    if any_group || std::env::var_os("CARGO_FEATURE_EVENT").is_some() {
        println!("cargo::rustc-cfg=twitch_eventsub");
    }
    twitch_codegen::build_script(twitch_codegen::Part::Models);
}
