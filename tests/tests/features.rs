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

/// The versions of `krate` in the tree.
fn versions_of<'a>(tree: &'a str, krate: &str) -> std::collections::BTreeSet<&'a str> {
    tree.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some(krate)).then(|| w.next()).flatten()
        })
        .collect()
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

#[test]
fn the_store_features_are_off_by_default_and_use_the_one_tls_stack() {
    let default = tree("default");
    for krate in ["rusqlite", "libsqlite3-sys", "tokio-postgres", "postgres-protocol"] {
        assert!(versions_of(&default, krate).is_empty(), "the default build pulls in {krate}");
    }
    assert_eq!(versions_of(&tree("sqlite"), "libsqlite3-sys").len(), 1);
    let pg = tree("postgres");
    assert_eq!(versions_of(&pg, "tokio-postgres").len(), 1);
    assert_eq!(versions_of(&pg, "rustls").len(), 1, "one rustls");
    for other in ["aws-lc-rs", "aws-lc-sys", "openssl", "native-tls", "tokio-postgres-rustls"] {
        assert!(versions_of(&pg, other).is_empty(), "the postgres feature pulls in {other}");
    }
}

/// How `libsqlite3-sys` is built for `twitch` with these features.
fn sqlite_features(features: &str) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "--offline", "-p", "twitch", "-e", "normal,features", "--no-default-features"])
        .args(["--features", features, "-i", "libsqlite3-sys"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `sqlite` links the system's library, so an application with sqlx or
/// diesel on SQLite decides once whether SQLite is compiled in;
/// `sqlite-bundled` compiles it in.
#[test]
fn sqlite_is_bundled_only_when_asked() {
    let system = sqlite_features("sqlite");
    assert!(system.contains("libsqlite3-sys"), "{system}");
    assert!(!system.contains(r#"feature "bundled""#), "{system}");
    let bundled = sqlite_features("sqlite-bundled");
    assert!(bundled.contains(r#"libsqlite3-sys feature "bundled""#), "{bundled}");
}
