//! Observe mode and `twitch-codegen learn`, end to end: synthetic payloads
//! that add fields, enum values and nulls are decoded by the generated
//! crate with an observer; its report becomes proposed YAML; after the
//! proposal is applied to a copy of the schema and regenerated, the same
//! payloads check clean against the new schema.
//!
//! Re-decoding goes through the generator's schema-driven checker
//! (`examples_check`), not through a recompiled crate (that would take
//! minutes per run); the test first holds the checker to the compiled
//! decoder: on the schema as it is, both find the same things.

mod support;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use support::{Response, TestServer};
use twitch::observe::{Finding, Source};
use twitch::{Client, Observer};

const DATE: &str = "2026-12-02";

fn schema_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn example_response(schema: &twitch_codegen::model::Schema, id: &str) -> Value {
    let ep = schema.modules.iter().flat_map(|m| &m.endpoints).find(|e| e.id == id).expect("endpoint");
    serde_json::from_str(ep.example_response.as_deref().expect("example")).unwrap()
}

/// Get Users with a new string field and a new object, a new
/// `broadcaster_type`; a second body with `display_name` null. The probes'
/// names are made up so that no schema change can add them (checked below).
fn users_bodies(schema: &twitch_codegen::model::Schema) -> (Value, Value) {
    let mut added = example_response(schema, "get-users");
    added["data"][0]["learn_probe_pronouns"] = json!("they/them");
    added["data"][0]["learn_probe_affiliation"] =
        json!({"kind": "studio", "since": "2026-01-01T00:00:00Z", "seats": 3});
    added["data"][0]["broadcaster_type"] = json!("learn_probe_ambassador");
    let mut null = example_response(schema, "get-users");
    null["data"][0]["display_name"] = Value::Null;
    (added, null)
}

/// `channel.chat.message` with a field on the event, one inside every
/// fragment (a shared model), a new `message_type`; a second with
/// `chatter_user_name` null.
fn chat_payloads() -> (Value, Value) {
    let meta = twitch::meta::subscription("channel.chat.message", "1").expect("in schema");
    let usual: Value = serde_json::from_str(meta.example.expect("example")).unwrap();
    let mut added = usual.clone();
    added["event"]["learn_probe_effect"] = json!("sparkle");
    for f in added["event"]["message"]["fragments"].as_array_mut().unwrap() {
        f["learn_probe_weight"] = json!(2);
    }
    added["event"]["message_type"] = json!("power_ups_learn_probe");
    let mut null = usual;
    null["event"]["chatter_user_name"] = Value::Null;
    (added, null)
}

#[tokio::test]
async fn a_report_becomes_yaml_that_describes_what_was_seen() {
    let schema = twitch_codegen::check(&schema_dir()).expect("the schema");
    // The probes are names no real schema change adds.
    let mut texts = String::new();
    for dir in ["helix", "eventsub"] {
        for e in std::fs::read_dir(schema_dir().join(dir)).unwrap() {
            texts.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap());
        }
    }
    assert!(!texts.contains("learn_probe"), "the schema names a probe of this test");
    let (users, users_null) = users_bodies(&schema);
    let (chat, chat_null) = chat_payloads();

    // Decode with an observer: Helix through a local server, events as a
    // session or the verifier hands them over.
    let answers = std::sync::Arc::new(std::sync::Mutex::new(vec![users_null.to_string(), users.to_string()]));
    let server = {
        let answers = answers.clone();
        TestServer::start(move |_| Response::json(200, &answers.lock().unwrap().pop().expect("an answer"))).await
    };
    let observer = Observer::new();
    let client = Client::builder()
        .client_id("test-client")
        .app_token("test-app-token")
        .helix_url(format!("{}/helix", server.url()))
        .observe(observer.clone())
        .build()
        .unwrap();
    let got = client.get_users().id("141981764").send().await.expect("new fields and values decode");
    assert_eq!(got[0].broadcaster_type.as_str(), "learn_probe_ambassador");
    let err = client.get_users().id("141981764").send().await.expect_err("a required field is null");
    assert!(matches!(err, twitch::Error::Decode { ref path, .. } if path == "data[0].display_name"), "{err:?}");
    for payload in [&chat, &chat_null] {
        observer.observe_notification::<twitch::Event>(&payload.to_string());
    }
    let unknown = json!({"subscription": {"id": "x", "type": "channel.learn_probe", "version": "1", "status": "enabled",
        "cost": 0, "condition": {}, "transport": {"method": "websocket"}, "created_at": "2026-12-02T00:00:00Z"},
        "event": {"a": 1}});
    observer.observe_notification::<twitch::Event>(&unknown.to_string());

    let report = observer.report();
    let users_src = Source::Endpoint("get-users".into());
    let chat_src = Source::Event { subscription_type: "channel.chat.message".into(), version: "1".into() };
    let fields: Vec<(&Source, &str, &str)> = report
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::UnknownField { source, path, json_type, .. } => Some((source, path.as_str(), json_type.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        fields,
        [
            (&users_src, "data[].learn_probe_affiliation", "object"),
            (&users_src, "data[].learn_probe_pronouns", "string"),
            (&chat_src, "learn_probe_effect", "string"),
            (&chat_src, "message.fragments[].learn_probe_weight", "integer"),
        ]
    );
    let enums: Vec<_> = report
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::UnknownEnumValue { source, enum_name, value } => {
                Some((source, enum_name.as_str(), value.as_str()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        enums,
        [
            (&users_src, "BroadcasterType", "learn_probe_ambassador"),
            (&chat_src, "ChatMessageType", "power_ups_learn_probe")
        ]
    );
    let nulls: Vec<_> = report
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::NullForRequired { source, path } => Some((source, path.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(nulls, [(&users_src, "data[].display_name"), (&chat_src, "chatter_user_name")]);
    assert!(report.findings.iter().any(|f| matches!(f, Finding::UnknownEvent { source: Source::Event { subscription_type, .. }, .. } if subscription_type == "channel.learn_probe")));

    // The schema-driven checker finds the same on the schema as it is.
    let check = |schema: &twitch_codegen::model::Schema| {
        let mut found = twitch_codegen::examples_check::check_response_body(schema, "get-users", &users).unwrap();
        found.extend(twitch_codegen::examples_check::check_response_body(schema, "get-users", &users_null).unwrap());
        for p in [&chat, &chat_null] {
            found.extend(
                twitch_codegen::examples_check::check_event(schema, "channel.chat.message", "1", &p["event"]).unwrap(),
            );
        }
        found
    };
    let before = check(&schema);
    for expected in [
        "data[0].learn_probe_pronouns",
        "data[0].learn_probe_affiliation",
        "learn_probe_ambassador",
        "data[0].display_name",
        "learn_probe_effect",
        "learn_probe_weight",
        "power_ups_learn_probe",
        "chatter_user_name",
    ] {
        assert!(before.iter().any(|e| e.contains(expected)), "the checker misses {expected}: {before:#?}");
    }
    assert_eq!(before.len(), 8, "one finding each: {before:#?}");

    // Learn, apply to a copy, regenerate, re-check.
    let dir = std::env::temp_dir().join(format!("twitch-learn-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let copy = dir.join("schema");
    copy_dir(&schema_dir(), &copy);
    let proposal = twitch_codegen::learn::learn(&copy, &report.to_json(), DATE).expect("a proposal");
    let diff = proposal.diff();
    for line in [
        "+      - name: learn_probe_pronouns",
        "+        type: string",
        "+      - name: learn_probe_affiliation",
        "+        type: object",
        "+          - name: since",
        "+            type: timestamp",
        "+      - value: \"learn_probe_ambassador\"",
        "+        nullable: true",
        "+      - name: learn_probe_effect",
        "+          - name: learn_probe_weight",
        "+            type: integer",
        "+      - value: \"power_ups_learn_probe\"",
    ] {
        assert!(diff.lines().any(|l| l == line), "the diff lacks {line:?}:\n{diff}");
    }
    assert!(diff.contains(&format!("seen from live Twitch on {DATE}")), "{diff}");
    assert!(proposal.notes.iter().any(|n| n.contains("channel.learn_probe v1")), "{:?}", proposal.notes);
    // The decision goes to every endpoint whose answer holds the User
    // model, not only to Get Users; the example the mock sends gets the field.
    let users_yaml = proposal.changes.iter().find(|c| c.rel_path == "helix/users.yaml").expect("users.yaml changes");
    let decided = users_yaml.new.matches("not in Twitch's docs: `data[].learn_probe_pronouns`").count();
    assert!(decided >= 2, "only {decided} endpoint(s) got the decision:\n{diff}");
    assert!(diff.contains("+              \"learn_probe_pronouns\": \"they/them\","), "{diff}");
    proposal.apply(&copy).unwrap();

    // Placeholder descriptions cannot reach the docs: the schema is refused
    // until a maintainer describes each new field and value.
    let refused = twitch_codegen::generate(&copy).expect_err("learn's placeholders are refused").to_string();
    assert!(refused.contains("learn's placeholder"), "{refused}");
    assert!(refused.contains("learn_probe_pronouns"), "{refused}");
    for change in &proposal.changes {
        let path = copy.join(&change.rel_path);
        let text = std::fs::read_to_string(&path).unwrap();
        let described = text
            .lines()
            .map(|l| match l.split_once("TODO(learn):") {
                Some((head, _)) => format!("{head}A field a test made up, described by the test.\""),
                None => l.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&path, described + "\n").unwrap();
    }

    let regenerated = twitch_codegen::generate(&copy).expect("the described proposal is a valid schema");
    let code: String = regenerated.files.iter().map(|f| f.contents.as_str()).collect();
    for name in [
        "pub learn_probe_pronouns:",
        "pub learn_probe_affiliation:",
        "pub learn_probe_effect:",
        "pub learn_probe_weight:",
        "LearnProbeAmbassador",
        "PowerUpsLearnProbe",
    ] {
        assert!(code.contains(name), "the regenerated crate lacks {name}");
    }
    let after = twitch_codegen::check(&copy).expect("the new schema");
    let left = check(&after);
    assert!(left.is_empty(), "after learning, the payloads still differ from the schema: {left:#?}");
    assert!(twitch_codegen::examples_check::check_examples(&after).is_empty(), "Twitch's examples still decode");

    // Learning the same report again proposes nothing new.
    let again = twitch_codegen::learn::learn(&copy, &report.to_json(), DATE).unwrap();
    assert!(again.changes.is_empty(), "{}", again.diff());
    let _ = std::fs::remove_dir_all(&dir);
    assert!(again.notes.iter().any(|n| n.contains("already")), "{:?}", again.notes);
}
