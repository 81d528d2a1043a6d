//! Writes the example-based test cases (see `twitch_codegen::example_tests`).

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let schema = manifest.join("../schema");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo::rerun-if-changed={}", schema.display());
    match twitch_codegen::example_tests(&schema) {
        Ok(tests) => {
            for (name, code) in [("examples_decode.rs", tests.decodes), ("example_requests.rs", tests.requests)] {
                let path = out.join(name);
                if std::fs::read_to_string(&path).ok().as_deref() != Some(code.as_str()) {
                    std::fs::write(&path, code).expect("write the example tests");
                }
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
