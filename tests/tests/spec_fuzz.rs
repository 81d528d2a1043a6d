//! The mock against the OpenAPI document: Schemathesis (PyPI), a
//! property-based tester that reads OpenAPI, sends every one of the 149
//! operations generated requests (valid ones and broken ones) against an
//! in-process `twitch-mock` on 127.0.0.1 and checks each answer:
//!
//! - `not_a_server_error`: no 5xx;
//! - `status_code_conformance`: every status is one the document lists
//!   for that operation (where the mock answers a status Twitch's table
//!   leaves out, the schema records it with `documented: false` and a
//!   decision saying why);
//! - `response_schema_conformance`: every body matches the documented
//!   schema, error bodies Twitch's `{error, status, message}`;
//! - `negative_data_rejection`: a request that breaks the document (a
//!   wrong kind, a value out of range or outside an enumeration, a
//!   malformed timestamp, a missing required parameter) is refused with a
//!   4xx.
//!
//! The run is seeded, with one worker, so that the mock's state evolves
//! the same way each time. Ignored by default (it needs Python and
//! Schemathesis); `.ci/run` installs the pinned version into the venv it
//! names in `TWITCH_PY_VENV` and runs this with `--ignored`. Without the
//! variable the test fails saying what is missing.
//!
//! What Schemathesis warns about and why it is expected (its warnings do
//! not fail a run; each kind that may appear is listed in `EXPLAINED`, and
//! any other kind fails this test):
//!
//! - "Missing test data": an operation that needs an id nothing in the
//!   document creates for it (Delete Conduit, Delete EventSub
//!   Subscription, an update of a schedule segment) answers 404 to made-up
//!   ids, as Twitch does.
//! - "Schema validation mismatch": most generated requests of an
//!   operation are refused for reasons OpenAPI cannot state: the Guest
//!   Star calls need the id of a session that is running; a VIP or a
//!   moderator cannot be the broadcaster, a ban needs a user who is not
//!   banned yet; the filters of Get EventSub Subscriptions exclude each
//!   other and Get Stream Markers takes exactly one of two (the rules are
//!   in `x-twitch-rules`, which generators do not read); `for_source_only`
//!   goes with app tokens only; Twitch limits the announcements and the
//!   conduits one client may make, and answers 429 past them.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use twitch_mock::Mock;

/// Hang guard for the run; never an assertion about speed.
const GUARD: Duration = Duration::from_secs(1200);

/// Warning kinds whose reasons are given above.
const EXPLAINED: &[&str] = &["Missing test data", "Schema validation mismatch"];

/// The user the tokens act as, the broadcaster of the mock's examples.
const USER: (&str, &str) = ("141981764", "twitchdev");

/// A JWT-shaped token: the mock checks the shape of extension JWTs.
const EXTENSION_JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiMSIsInJvbGUiOiJleHRlcm5hbCJ9.c2lnbmF0dXJl";

#[path = "support/venv.rs"]
mod venv;

fn every_scope() -> Vec<&'static str> {
    let mut scopes: Vec<&'static str> =
        twitch::meta::endpoints().iter().flat_map(|e| e.scopes.iter().flat_map(|g| g.iter().copied())).collect();
    scopes.sort_unstable();
    scopes.dedup();
    scopes
}

/// Schemathesis's configuration: the user token by default, the app token
/// for operations that take only app tokens, a JWT for the extension
/// operations; the user's id for most `broadcaster_id`, `moderator_id`
/// and `user_id` values, so that requests reach past the ownership checks.
fn config(client_id: &str, user_token: &str, app_token: &str) -> String {
    let headers = |token: &str| format!(r#"{{ Authorization = "Bearer {token}", "Client-Id" = "{client_id}" }}"#);
    let user = USER.0;
    format!(
        r#"headers = {user_headers}

[dictionaries.users]
values = ["{user}"]

[parameters]
"query.broadcaster_id" = {{ dictionary = "users", probability = 0.8 }}
"query.moderator_id" = {{ dictionary = "users", probability = 0.8 }}
"query.user_id" = {{ dictionary = "users", probability = 0.5 }}
"body.broadcaster_id" = {{ dictionary = "users", probability = 0.8 }}
"body.moderator_id" = {{ dictionary = "users", probability = 0.8 }}

[[operations]]
include-by = '/x-twitch-tokens == ["app"]'
headers = {app_headers}

[[operations]]
include-by = '/x-twitch-tokens == ["extension_jwt"]'
headers = {jwt_headers}
"#,
        user_headers = headers(user_token),
        app_headers = headers(app_token),
        jwt_headers = headers(EXTENSION_JWT),
    )
}

/// The kinds of warning in Schemathesis's summary ("⚠️ Missing test data: 3
/// operations ..." gives "Missing test data").
fn warning_kinds(out: &str) -> Vec<String> {
    let Some(start) = out.find("\nWarnings:") else { return Vec::new() };
    out[start + 1..]
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_once("️ ").or_else(|| l.split_once("⚠ ")))
        .filter_map(|(_, rest)| rest.split_once(':').map(|(kind, _)| kind.trim().to_owned()))
        .collect()
}

#[test]
fn warning_kinds_are_read_from_the_summary() {
    let out = "Failures:\n  x\n\nWarnings:\n  ⚠️ Missing test data: 3 operations repeatedly returned 404 responses\n  ⚠️ Schema validation mismatch: 17 operations mostly rejected generated data\n\nTest cases:\n";
    assert_eq!(warning_kinds(out), ["Missing test data", "Schema validation mismatch"]);
    assert!(warning_kinds("no warnings here").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Schemathesis in a venv: .ci/run installs it and runs this with --ignored"]
async fn schemathesis_finds_nothing_in_the_mock() {
    let st = venv::venv_bin("schemathesis", "schemathesis");
    // The run sends about 3,000 requests in a minute, past Twitch's bucket
    // of 800 points; rate limits have tests of their own (ratelimit.rs).
    let mock = Mock::builder().bucket(1_000_000, Duration::from_secs(60)).start().await.unwrap();
    let client_id = mock.client_id();
    let app = mock.mint_app_token(&client_id);
    let token = mock.mint_user_token(USER.0, USER.1, &every_scope());

    // Schemathesis keeps a cache beside its configuration: a directory of
    // this run's own.
    let dir = std::env::temp_dir().join(format!("twitch-schemathesis-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("schemathesis.toml"), config(&client_id, &token, &app)).unwrap();
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/helix.openapi.json");

    let mut cmd = Command::new(&st);
    cmd.current_dir(&dir)
        .arg("run")
        .arg(&spec)
        .args(["--url", &mock.helix_url()])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,response_schema_conformance,negative_data_rejection",
        ])
        .args(["--max-examples", "20", "--workers", "1", "--seed", "1", "--phases", "examples,fuzzing"])
        .env("NO_COLOR", "1")
        .env("PYTHONUNBUFFERED", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = tokio::time::timeout(GUARD, tokio::task::spawn_blocking(move || cmd.output().expect("run schemathesis")))
        .await
        .expect("hang guard: schemathesis did not finish")
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "Schemathesis found failures in the mock:\n{report}");
    assert!(stdout.contains("Tested: 149"), "not every operation was tested:\n{report}");
    let unexplained: Vec<String> =
        warning_kinds(&stdout).into_iter().filter(|k| !EXPLAINED.contains(&k.as_str())).collect();
    assert!(unexplained.is_empty(), "warnings nobody explained: {unexplained:?}\n{report}");
}
