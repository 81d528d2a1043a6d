//! Writes the example-based test cases (see `twitch_codegen::example_tests`).

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let schema = manifest.join("../schema");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo::rerun-if-changed={}", schema.display());
    match twitch_codegen::example_tests(&schema) {
        Ok(code) => {
            let path = out.join("examples.rs");
            if std::fs::read_to_string(&path).ok().as_deref() != Some(code.as_str()) {
                std::fs::write(&path, code).expect("write examples.rs");
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
