//! The OpenAPI document usable as is: a client generated from
//! `spec/helix.openapi.json` by openapi-python-client (PyPI), unmodified,
//! runs calls against an in-process `twitch-mock` on 127.0.0.1
//! (tests/python/generated_client_flows.py): users with the app token, a
//! paginated list walked to its end, a write read back with a user token,
//! an error answer parsed as Twitch's error body.
//!
//! Ignored by default (it needs Python and the generator); `.ci/run` puts
//! the pinned `openapi-python-client` into the venv it names in
//! `TWITCH_PY_VENV` and runs this with `--ignored`. Without the variable
//! the test fails saying what is missing.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use twitch_mock::Mock;

/// Hang guard for generating and running; never an assertion about speed.
const GUARD: Duration = Duration::from_secs(600);

#[path = "support/venv.rs"]
mod venv;

fn run(mut cmd: Command) -> std::process::Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.output().expect("run the command")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs openapi-python-client in a venv: .ci/run installs it and runs this with --ignored"]
async fn a_client_generated_from_the_openapi_document_runs_against_the_mock() {
    let generator = venv::venv_bin("openapi-python-client", "openapi-python-client");
    let python = venv::venv_bin("python", "openapi-python-client");
    let dir = std::env::temp_dir().join(format!("twitch-generated-client-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/helix.openapi.json");
    let mut generate = Command::new(&generator);
    generate
        .args(["generate", "--meta", "none", "--path"])
        .arg(&spec)
        .arg("--output-path")
        .arg(dir.join("twitch_helix"));
    let generated = tokio::time::timeout(GUARD, tokio::task::spawn_blocking(move || run(generate)))
        .await
        .expect("hang guard: the generator did not finish")
        .unwrap();
    assert!(
        generated.status.success() && dir.join("twitch_helix/api/users/get_users.py").exists(),
        "openapi-python-client failed:\n{}\n{}",
        String::from_utf8_lossy(&generated.stdout),
        String::from_utf8_lossy(&generated.stderr)
    );

    let streams = 55;
    let mock = Mock::builder().page_items(streams).start().await.unwrap();
    let (user, login) = ("141981764", "twitchdev");
    let app = mock.mint_app_token(&mock.client_id());
    let token = mock.mint_user_token(user, login, &["channel:manage:redemptions", "channel:read:redemptions"]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python").join("generated_client_flows.py");
    let mut cmd = Command::new(python);
    cmd.arg(&script)
        .arg(&dir)
        .args([mock.helix_url(), mock.client_id(), app, token, user.to_owned(), streams.to_string()])
        .env("PYTHONUNBUFFERED", "1");
    let out = tokio::time::timeout(GUARD, tokio::task::spawn_blocking(move || run(cmd)))
        .await
        .expect("hang guard: the script did not finish")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the script failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    let expected = [
        "ok get_users: twitchdev",
        &format!("ok get_streams: {streams} streams in 3 pages"),
        "ok create_custom_rewards then get_custom_reward",
        "ok error answer: 401",
        "all flows passed",
    ];
    assert_eq!(lines.len(), expected.len(), "{stdout}");
    for (line, want) in lines.iter().zip(expected) {
        assert!(line.starts_with(want), "expected `{want}...`, got `{line}`:\n{stdout}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
