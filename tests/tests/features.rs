//! Features trim what users build: checked on the dependency tree cargo
//! resolves for each feature set (`cargo tree`, offline, from the lockfile).

use std::process::Command;

/// `cargo tree --offline` in the workspace with these arguments.
fn cargo_tree(args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "--offline"])
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The normal dependencies of `twitch` with these features, one per line.
fn tree(features: &str) -> String {
    cargo_tree(&["-p", "twitch", "-e", "normal", "--prefix", "none", "--no-default-features", "--features", features])
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

/// The generated models need none of what the runtime compiles (HTTP,
/// TLS, WebSocket, the async runtime), so cargo builds them beside it: the
/// `twitch` crate is the first to wait for both.
#[test]
fn the_models_do_not_wait_for_the_runtime() {
    for package in ["twitch-models", "twitch-base"] {
        let tree = cargo_tree(&["-p", package, "-e", "normal", "--prefix", "none", "--all-features"]);
        assert!(has(&tree, "serde_json"), "{tree}");
        for krate in ["twitch-runtime", "reqwest", "hyper", "rustls", "ring", "tokio", "tokio-tungstenite"] {
            assert!(!has(&tree, krate), "{package} depends on {krate}:\n{tree}");
        }
    }
    let twitch = tree("helix-chat");
    assert!(has(&twitch, "twitch-models") && has(&twitch, "twitch-runtime"), "{twitch}");
}

/// The generated code is in the packages (`src/generated/`, written by
/// `twitch-codegen sync` and checked current by the snapshot tests), so a
/// user's build compiles no generator, YAML parser or pretty-printer and
/// runs no generation: with every feature, build dependencies included.
#[test]
fn a_users_build_compiles_no_generator() {
    for package in ["twitch", "twitch-models"] {
        let tree = cargo_tree(&["-p", package, "-e", "normal,build", "--prefix", "none", "--all-features"]);
        assert!(has(&tree, "twitch-base") && has(&tree, "serde"), "{tree}");
        for krate in ["twitch-codegen", "serde-saphyr", "saphyr-parser", "prettyplease", "heck"] {
            assert!(!has(&tree, krate), "a build of {package} compiles {krate}:\n{tree}");
        }
    }
}

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
    cargo_tree(&[
        "-p",
        "twitch",
        "-e",
        "normal,features",
        "--no-default-features",
        "--features",
        features,
        "-i",
        "libsqlite3-sys",
    ])
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

/// Every endpoint and subscription type belongs to exactly one area
/// feature, `twitch::meta` names it, and the crate's Cargo.toml declares it
/// (under `helix` or `eventsub`, which turn on all of an area).
#[test]
fn every_endpoint_and_subscription_type_has_one_feature_the_manifest_declares() {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../generated/Cargo.toml")).unwrap();
    let models = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../models/Cargo.toml")).unwrap();
    let features = twitch::meta::features();
    assert!(features.len() > 40, "{} features", features.len());
    for f in features {
        // `twitch`'s feature turns on the models' of the same name.
        let forwarded = format!("\n{} = [\"twitch-models/{}\"]\n", f.name, f.name);
        assert!(manifest.contains(&forwarded), "Cargo.toml lacks the feature {}", f.name);
        assert!(models.contains(&format!("\n{} = []\n", f.name)), "models/Cargo.toml lacks the feature {}", f.name);
        let area = if f.name.starts_with("helix-") { "helix" } else { "eventsub" };
        let umbrella = manifest.split(&format!("\n{area} = [")).nth(1).and_then(|s| s.split(']').next()).unwrap();
        assert!(umbrella.contains(&format!("\"{}\"", f.name)), "`{area}` does not turn on {}", f.name);
        assert!(f.enabled || f.also == Some("beta"), "the tests build every feature, yet {} is off", f.name);
        assert!(!f.endpoints.is_empty() || !f.subscriptions.is_empty(), "{} turns on nothing", f.name);
    }
    let endpoints = twitch::meta::endpoints();
    assert_eq!(endpoints.len(), features.iter().map(|f| f.endpoints.len()).sum::<usize>());
    for e in &endpoints {
        let f = twitch::meta::feature_of_endpoint(e.id).unwrap_or_else(|| panic!("{} has no feature", e.id));
        assert_eq!(f.name, e.feature, "{}", e.id);
        assert_eq!(features.iter().filter(|f| f.endpoints.contains(&e.id)).count(), 1, "{}", e.id);
    }
    let subscriptions = twitch::meta::subscriptions();
    assert_eq!(subscriptions.len(), features.iter().map(|f| f.subscriptions.len()).sum::<usize>());
    for s in &subscriptions {
        let f = twitch::meta::feature_of_subscription(s.subscription_type, s.version).unwrap();
        assert_eq!(f.name, s.feature, "{} v{}", s.subscription_type, s.version);
    }
    let chat = twitch::meta::feature_of_endpoint("send-chat-message").unwrap();
    assert_eq!(chat.name, "helix-chat");
    assert_eq!(twitch::meta::feature_of_subscription("channel.chat.message", "1").unwrap().name, "eventsub-channel");
}

/// A program that calls an endpoint, or names a subscription type, whose
/// feature is off does not compile, and the compiler's message names the
/// feature to turn on. Checked by building such a program (offline, with
/// the workspace's lockfile, in a target directory of its own).
#[test]
fn a_missing_feature_is_a_compile_error_that_names_it() {
    let repo = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let dir = repo.join("target/feature-errors");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"feature-errors\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\ntwitch = {{ path = {:?}, default-features = false, features = [\"helix-users\"] }}\n\n\
             [workspace]\n",
            repo.join("generated").canonicalize().unwrap()
        ),
    )
    .unwrap();
    std::fs::copy(repo.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        r#"fn main() {
    let client = twitch::Client::builder().client_id("id").app_token("token").build().unwrap();
    // On: `helix-users`.
    let _users = client.get_users().login("twitchdev");
    // Off: `helix-chat`.
    let _send = client.send_chat_message("1", "2", "hello");
    // Off: `eventsub-channel`.
    let _message: Option<twitch::eventsub::channel::ChannelChatMessageV1> = None;
}
"#,
    )
    .unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["check", "--offline", "--quiet"])
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .current_dir(&dir)
        .output()
        .expect("cargo check runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "it compiled: {stderr}");
    assert!(stderr.contains("this needs the `helix-chat` feature of the `twitch` crate"), "{stderr}");
    assert!(stderr.contains("the item is gated behind the `eventsub-channel` feature"), "{stderr}");
    let errors = stderr.lines().filter(|l| l.starts_with("error[")).count();
    assert_eq!(errors, 2, "only the two uses of features that are off fail: {stderr}");
}
