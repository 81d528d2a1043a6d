//! `from_env` reads the process environment. Changing this process's
//! environment would race with other tests' threads (and needs `unsafe`),
//! so each case runs this binary again as a child process with the
//! variables set, running one ignored test that checks what it sees.

use std::process::Command;

use twitch::{Client, Error, OAuth};

const VARS: [&str; 7] = [
    "TWITCH_CLIENT_ID",
    "TWITCH_CLIENT_SECRET",
    "TWITCH_USER_TOKEN",
    "TWITCH_APP_TOKEN",
    "TWITCH_HELIX_URL",
    "TWITCH_AUTH_URL",
    "TWITCH_EVENTSUB_WS_URL",
];

/// Run the ignored test `name` in a child with exactly these TWITCH_* variables.
fn child(name: &str, vars: &[(&str, &std::ffi::OsStr)]) {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary"));
    cmd.args(["--ignored", "--exact", name, "--test-threads", "1"]);
    for v in VARS {
        cmd.env_remove(v);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{name} failed in the child:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("1 passed"), "{name} did not run in the child:\n{stdout}");
}

#[test]
fn from_env_reads_the_process_environment() {
    child("child_without_a_client_id", &[]);
    let set = [
        ("TWITCH_CLIENT_ID", "from-env".as_ref()),
        ("TWITCH_CLIENT_SECRET", "shh".as_ref()),
        ("TWITCH_HELIX_URL", "http://127.0.0.1:9/helix".as_ref()),
        ("TWITCH_AUTH_URL", "http://127.0.0.1:9/oauth2".as_ref()),
        ("TWITCH_EVENTSUB_WS_URL", "ws://127.0.0.1:9/ws".as_ref()),
    ];
    child("child_with_every_variable", &set);
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        child(
            "child_with_a_client_id_that_is_not_utf8",
            &[("TWITCH_CLIENT_ID", std::ffi::OsStr::from_bytes(b"bad\xff"))],
        );
    }
}

#[test]
#[ignore = "run by from_env_reads_the_process_environment in a child process"]
fn child_without_a_client_id() {
    let e = Client::builder().from_env().unwrap_err();
    assert!(matches!(&e, Error::Env { variable, .. } if variable == "TWITCH_CLIENT_ID"), "{e:?}");
    assert!(matches!(OAuth::from_env(), Err(Error::Env { .. })));
}

#[test]
#[ignore = "run by from_env_reads_the_process_environment in a child process"]
fn child_with_every_variable() {
    let client = Client::builder().from_env().unwrap().app_token("t").build().unwrap();
    assert_eq!(client.client_id(), "from-env");
    assert_eq!(client.helix_url(), "http://127.0.0.1:9/helix");
    assert_eq!(client.auth_url(), "http://127.0.0.1:9/oauth2");
    assert_eq!(client.eventsub_ws_url(), "ws://127.0.0.1:9/ws");
    let oauth = OAuth::from_env().unwrap();
    assert_eq!(oauth.client_id(), "from-env");
    let shown = format!("{oauth:?}");
    assert!(shown.contains("127.0.0.1:9/oauth2"), "{shown}");
    assert!(!shown.contains("shh"), "the secret stays out of Debug: {shown}");
}

#[test]
#[ignore = "run by from_env_reads_the_process_environment in a child process"]
fn child_with_a_client_id_that_is_not_utf8() {
    let e = Client::builder().from_env().unwrap_err();
    assert_eq!(e.to_string(), "environment variable TWITCH_CLIENT_ID is not valid UTF-8");
}
