//! Generates the models from `schema/` into `OUT_DIR` (the `twitch`
//! crate's build script generates its endpoints from the same schema). In
//! the repository `schema` is a link to the top-level `schema/`.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    // TWITCH_SCHEMA_DIR points at another copy of the schema (benchmarks use it).
    println!("cargo::rerun-if-env-changed=TWITCH_SCHEMA_DIR");
    let schema = match std::env::var_os("TWITCH_SCHEMA_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => manifest.join("schema"),
    };
    // `twitch_eventsub`: the `Event` enum, there with any EventSub group or
    // when asked for (`event`).
    println!("cargo::rustc-check-cfg=cfg(twitch_eventsub)");
    let any_group = std::env::vars_os().any(|(k, _)| k.to_string_lossy().starts_with("CARGO_FEATURE_EVENTSUB_"));
    if any_group || std::env::var_os("CARGO_FEATURE_EVENT").is_some() {
        println!("cargo::rustc-cfg=twitch_eventsub");
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo::rerun-if-changed={}", schema.display());
    match twitch_codegen::generate_part(&schema, twitch_codegen::Part::Models) {
        Ok(generated) => {
            if let Err(e) = twitch_codegen::write::write(&generated, &out) {
                panic!("cannot write generated code to {}: {e}", out.display());
            }
        }
        Err(diags) => {
            for d in &diags.0 {
                println!("cargo::error={d}");
            }
            std::process::exit(1);
        }
    }
}
