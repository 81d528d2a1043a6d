//! Features trim what users build: checked on the dependency tree cargo
//! resolves for each feature set (`cargo tree`, offline, from the lockfile).

use std::process::Command;

/// The normal dependencies of `twitch` with these features, one per line.
fn tree(features: &str) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "--offline", "-p", "twitch", "-e", "normal", "--prefix", "none", "--no-default-features"])
        .args(["--features", features])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn has(tree: &str, krate: &str) -> bool {
    tree.lines().any(|l| l.split_whitespace().next() == Some(krate))
}

/// What only the WebSocket client brings (TLS itself, tokio-rustls, is
/// reqwest's too: one stack).
const WEBSOCKET: &[&str] = &["tokio-tungstenite", "tungstenite", "sha1", "rand"];

#[test]
fn a_helix_only_build_has_no_websocket_crate() {
    let helix = tree("helix");
    for krate in WEBSOCKET {
        assert!(!has(&helix, krate), "a Helix-only build pulls in {krate}");
    }
    assert!(!has(&helix, "h2"), "HTTP/2 is a feature of its own");
    assert!(has(&helix, "reqwest") && has(&helix, "rustls"));
    // With the WebSocket feature they are there.
    let ws = tree("websocket");
    for krate in ["tokio-tungstenite", "tungstenite"] {
        assert!(has(&ws, krate), "websocket lacks {krate}");
    }
    assert!(has(&tree("http2"), "h2"));
    assert!(has(&tree("axum"), "axum"));
    assert!(!has(&tree("webhook"), "axum"));
}
