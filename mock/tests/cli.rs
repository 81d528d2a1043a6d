//! The `twitch-mock` binary: help, serving, and a control subcommand
//! against the running server (all on 127.0.0.1).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_twitch-mock");

/// Kills the server when the test ends, whatever happens.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn help_lists_the_subcommands() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["trigger", "chat", "reconnect", "revoke", "close", "fault", "--port", "--bucket", "--deliver-webhooks"]
    {
        assert!(text.contains(word), "{word} missing from:\n{text}");
    }
    let out = Command::new(BIN).arg("no-such-command").output().unwrap();
    assert!(!out.status.success());
}

#[test]
fn serves_and_answers_control_subcommands() {
    let mut child =
        Command::new(BIN).args(["--port", "0", "--deliver-webhooks"]).stdout(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    // The first line names the URL; the token lines follow.
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");
    // Read through the last line it prints (the user token): a closed pipe
    // would fail its printing.
    let mut printed: Vec<String> = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let last = line.contains("user token");
        printed.push(line);
        if last {
            break;
        }
    }
    assert!(printed.iter().any(|l| l.contains("app token")), "{printed:?}");
    assert!(printed.iter().any(|l| l.contains("/dashboard")), "{printed:?}");

    let out = Command::new(BIN).args(["trigger", "stream.online", "--url", &url]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["delivered"], 0);
    assert_eq!(answer["type"], "stream.online");

    // A chat line: the text is the positionals, badges come as SET/ID[/INFO].
    let args = ["chat", "--broadcaster", "1001", "--chatter", "10005", "--login", "mockuser5", "--url", &url];
    let out = Command::new(BIN).args(args).args(["--badge", "subscriber/12/16", "hi", "@twitchdev"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["delivered"], 0);
    let event = &answer["event"];
    assert_eq!(
        (event["chatter_user_login"].as_str(), event["message"]["text"].as_str()),
        (Some("mockuser5"), Some("hi @twitchdev"))
    );
    assert_eq!(event["message"]["fragments"][1]["mention"]["user_id"], "141981764");
    assert_eq!(event["badges"], serde_json::json!([{"set_id": "subscriber", "id": "12", "info": "16"}]));
    assert_eq!(answer["message_id"], event["message_id"]);
    let out = Command::new(BIN).args(args).args(["--badge", "subscriber", "hi"]).output().unwrap();
    assert!(!out.status.success(), "a badge needs SET/ID");
    let out = Command::new(BIN).args(["chat", "--chatter", "1", "hi", "--url", &url]).output().unwrap();
    assert!(!out.status.success(), "a chat line needs a broadcaster");

    let out = Command::new(BIN).args(["fault", "--status", "503", "--count", "2", "--url", &url]).output().unwrap();
    assert!(out.status.success());
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((answer["status"].as_u64(), answer["count"].as_u64()), (Some(503), Some(2)));

    // The subcommands reach the control API under /control.
    let out = Command::new(BIN).args(["sessions", "--url", &url]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["sessions"], serde_json::json!([]));

    let out = Command::new(BIN).args(["revoke", "nope", "--url", &url]).output().unwrap();
    assert!(!out.status.success(), "an unknown subscription is an error");

    // A custom Power-up made and redeemed, as broadcasters and viewers do on Twitch's site.
    let add = ["power-up", "add", "--broadcaster", "1001", "--title", "hydrate", "--bits", "300", "--url", &url];
    let out = Command::new(BIN).args(add).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = made["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!((made["data"][0]["title"].as_str(), made["data"][0]["bits"].as_u64()), (Some("hydrate"), Some(300)));
    let redeem = ["power-up", "redeem", "--broadcaster", "1001", "--id", &id, "--user-id", "10005", "--url", &url];
    let out = Command::new(BIN).args(redeem).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["event"]["custom_power_up"]["id"], id.as_str());
    assert_eq!(answer["event"]["user_id"], "10005");
    let out = Command::new(BIN)
        .args(["power-up", "redeem", "--broadcaster", "1001", "--id", "nope", "--user-id", "1"])
        .args(["--url", &url])
        .output()
        .unwrap();
    assert!(!out.status.success(), "an unknown Power-up is an error");

    // A user authorizes the app.
    let out = Command::new(BIN)
        .args(["grant", "--user-id", "3001", "--scopes", "moderator:read:chatters,user:bot", "--url", &url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["scopes"], serde_json::json!(["moderator:read:chatters", "user:bot"]));
    drop(server);
}
