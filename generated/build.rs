//! Generates the bindings from `schema/` into `OUT_DIR`. In the repository
//! `schema` is a link to the top-level `schema/`, the one copy maintainers
//! edit; the packaged crate carries the files themselves.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    // TWITCH_SCHEMA_DIR points at another copy of the schema (benchmarks use it).
    println!("cargo::rerun-if-env-changed=TWITCH_SCHEMA_DIR");
    let schema = match std::env::var_os("TWITCH_SCHEMA_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => manifest.join("schema"),
    };
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
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo::rerun-if-changed={}", schema.display());
    match twitch_codegen::generate_part(&schema, twitch_codegen::Part::Bindings) {
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
