//! A widely used client library from another language against the mock:
//! pyTwitchAPI (PyPI's `twitchAPI`), unmodified, pointed at an in-process
//! `twitch-mock` on 127.0.0.1 through its own URL settings. Its core flows
//! (tests/python/pytwitchapi_flows.py): an app token, Helix reads and
//! writes read back, pagination to the last page, an EventSub WebSocket
//! subscription, a triggered event received, a `session_reconnect` followed
//! by an event on the new connection.
//!
//! Ignored by default (it needs Python and the library, which a developer
//! machine may lack); `.ci/run` makes a virtual environment with the pinned
//! version, sets `TWITCH_PY_VENV` to it and runs this with `--ignored`.
//! Without the variable or the venv the test fails saying what is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use twitch_mock::Mock;

/// Hang guard for the script as a whole; never an assertion about speed.
const GUARD: Duration = Duration::from_secs(180);

/// The flows the script reports, in order, as the start of its `ok` lines.
const FLOWS: &[&str] = &[
    "ok app token",
    "ok read with app token: get_users",
    "ok pagination: get_streams walked",
    "ok user token validated",
    "ok write then read: custom reward",
    "ok write then read: channel information",
    "ok eventsub subscribe on session",
    "ok triggered event received",
    "ok reconnect: a new connection to session",
    "ok send_chat_message delivered as an event after the reconnect",
    "all flows passed",
];

#[path = "support/venv.rs"]
mod venv;

fn python() -> PathBuf {
    let python = venv::venv_bin("python", "twitchAPI");
    let probe = Command::new(&python).args(["-c", "import twitchAPI"]).output().expect("run the venv's python");
    assert!(
        probe.status.success(),
        "pyTwitchAPI is not installed beside {}: {}",
        python.display(),
        String::from_utf8_lossy(&probe.stderr)
    );
    python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs pyTwitchAPI in a venv: .ci/run installs it and runs this with --ignored"]
async fn pytwitchapi_runs_its_core_flows_against_the_mock() {
    let python = python();
    // A page count of its own, so the script's walk to the last page is
    // checked against what this mock holds, not against the default.
    let page_items = 75;
    let mock = Mock::builder().page_items(page_items).start().await.unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python").join("pytwitchapi_flows.py");
    let mut cmd = Command::new(&python);
    cmd.arg(&script)
        .args([mock.url(), mock.client_id(), page_items.to_string()])
        .env("PYTHONUNBUFFERED", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = tokio::time::timeout(GUARD, tokio::task::spawn_blocking(move || cmd.output()))
        .await
        .expect("hang guard: the pyTwitchAPI script did not finish")
        .unwrap()
        .expect("run the pyTwitchAPI script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the script failed ({}):\n{stdout}\n{stderr}", out.status);

    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), FLOWS.len(), "unexpected output:\n{stdout}");
    for (line, flow) in lines.iter().zip(FLOWS) {
        assert!(line.starts_with(flow), "expected `{flow}...`, got `{line}`:\n{stdout}");
    }
    assert!(lines[2].ends_with(&format!("walked {page_items} streams in pages of 20")), "pagination: {}", lines[2]);

    // What the library did is what the mock holds.
    let log = mock.chat_log();
    assert!(
        log.iter().any(|e| e.text == "sent after the reconnect" && e.sender_id == "141981764" && e.is_sent()),
        "the chat message sent after the reconnect is not in the mock's log: {log:?}"
    );
    let state = mock.state();
    let subs = state["subscriptions"].as_array().expect("the mock's subscriptions");
    assert!(
        subs.iter()
            .any(|s| s["type"] == "channel.chat.message" && s["condition"]["broadcaster_user_id"] == "141981764"),
        "pyTwitchAPI's subscription is not in the mock's state: {state}"
    );
}
