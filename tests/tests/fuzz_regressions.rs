//! The fuzz targets on stable: every input in `fuzz/regressions/<target>/`
//! (each one crashed a target once; FUZZING.md says how they get there) and
//! every seed goes through the same function its cargo-fuzz target calls.

#[path = "../../fuzz/src/seeds.rs"]
mod seeds;
#[path = "../../fuzz/src/targets.rs"]
mod targets;

use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn target(name: &str) -> fn(&[u8]) {
    targets::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("fuzz/regressions/{name}: no such target"))
}

#[test]
fn every_regression_input_passes_its_target() {
    let dir = root().join("fuzz/regressions");
    let mut replayed = 0;
    let mut targets_seen = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fuzz/regressions exists") {
        let entry = entry.unwrap();
        if !entry.file_type().unwrap().is_dir() {
            continue;
        }
        let name = entry.file_name().into_string().unwrap();
        let run = target(&name);
        for input in std::fs::read_dir(entry.path()).unwrap() {
            let path = input.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let caught = std::panic::catch_unwind(|| run(&data));
            assert!(caught.is_ok(), "{} fails its target again", path.display());
            replayed += 1;
        }
        targets_seen.push(name);
    }
    // The defects fuzzing found before the harness was committed are here.
    for name in ["ratelimit", "timestamp", "schema"] {
        assert!(targets_seen.iter().any(|t| t == name), "no regressions for {name}");
    }
    assert!(replayed >= 5, "{replayed}");
}

#[test]
fn every_seed_passes_its_target() {
    let seeds = seeds::all(&root().join("schema"));
    for (name, _) in targets::TARGETS {
        assert!(seeds.iter().any(|(t, _)| t == name), "no seed for {name}");
    }
    for (name, input) in &seeds {
        target(name)(input);
    }
    assert!(seeds.iter().filter(|(t, _)| *t == "frame").count() > 80, "a frame per subscription type");
}

/// The ID token seed really is accepted: the fuzzer starts from a token
/// that reaches every check, not one refused at the signature.
#[test]
fn the_id_token_seed_verifies() {
    let o = twitch::OAuth::new(targets::ID_TOKEN_CLIENT, None).auth_url(targets::ID_TOKEN_ISSUER);
    let at = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(targets::ID_TOKEN_NOW);
    let id = o.verify_id_token_with_keys(&seeds::id_token(), seeds::id_token_keys(), Some("fuzz-nonce"), at).unwrap();
    assert_eq!(id.claims.sub, "1234");
}
