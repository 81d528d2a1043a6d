//! Snapshots of the generated code: one per endpoint, per subscription type
//! and per schema file's models, produced by the same emitters as the
//! generated crates' code, which `twitch-codegen sync` writes.

use std::path::Path;

fn schema_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema"))
}

fn snapshot_name(item: &twitch_codegen::Item) -> String {
    let file = item.schema_file.trim_end_matches(".yaml").replace('/', "__");
    let id = item.id.replace([' ', '.', '/'], "_").replace(".yaml", "");
    match item.kind {
        "models" => format!("{file}__models"),
        "scopes" => "scopes".to_owned(),
        "events" => "event_enum".to_owned(),
        _ => format!("{file}__{id}"),
    }
}

#[test]
fn generated_code_snapshots() {
    let items = twitch_codegen::items(schema_dir()).unwrap_or_else(|d| panic!("{d}"));
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    // Every mismatch is reported, not only the first: with `CI=true` a
    // reviewer sees each diff of a schema change in one run.
    let mut differ = Vec::new();
    settings.bind(|| {
        for item in &items {
            let name = snapshot_name(item);
            let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                insta::assert_snapshot!(name.clone(), &item.code);
            }));
            if checked.is_err() {
                differ.push(name);
            }
        }
    });
    assert!(differ.is_empty(), "{} snapshots differ (each diff is printed above): {}", differ.len(), differ.join(", "));
}

#[test]
fn generation_is_deterministic() {
    let a = twitch_codegen::generate(schema_dir()).unwrap_or_else(|d| panic!("{d}"));
    let b = twitch_codegen::generate(schema_dir()).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(a, b);
    let a = twitch_codegen::items(schema_dir()).unwrap_or_else(|d| panic!("{d}"));
    let b = twitch_codegen::items(schema_dir()).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(a, b);
}

#[test]
fn one_module_per_schema_file() {
    let generated = twitch_codegen::generate(schema_dir()).unwrap_or_else(|d| panic!("{d}"));
    let paths: Vec<&str> = generated.files.iter().map(|f| f.path.as_str()).collect();
    // The models' crate has every module's types, the `twitch` crate the
    // endpoints over them.
    let expected = [
        "twitch-models/helix/users.rs",
        "twitch-models/eventsub/channel.rs",
        "twitch-models/lib.rs",
        "twitch-models/event.rs",
        "twitch-models/ids.rs",
        "twitch/helix/users.rs",
        "twitch/helix/streams.rs",
        "twitch/lib.rs",
        "twitch/meta.rs",
        "twitch/features.rs",
    ];
    for f in expected {
        assert!(paths.contains(&f), "{f} missing from {paths:?}");
    }
    for f in &generated.files {
        assert!(f.contents.starts_with("// @generated"), "{} lacks the @generated header", f.path);
    }
}

/// The generated files kept in the repository (both generated crates'
/// code, the base crate's `Scope`, the OpenAPI and AsyncAPI documents in
/// `spec/`) are what the schema makes of them today, and the generated
/// crates' folders hold nothing else.
#[test]
fn repository_files_are_current() {
    let mut files = twitch_codegen::repository_files(schema_dir()).unwrap_or_else(|d| panic!("{d}"));
    files.extend(twitch_codegen::spec_files(schema_dir()).unwrap_or_else(|d| panic!("{d}")));
    let root = schema_dir().join("..");
    assert!(!files.is_empty());
    for f in &files {
        let on_disk = std::fs::read_to_string(root.join(&f.path)).unwrap_or_default();
        assert!(
            on_disk == f.contents,
            "{} is stale against schema/: run `cargo run -p twitch-codegen -- sync` and commit the result",
            f.path
        );
    }
    let stale = twitch_codegen::stale_generated_files(&root, &files).expect("the generated folders are readable");
    assert!(
        stale.is_empty(),
        "{stale:?} are no longer generated from schema/: run `cargo run -p twitch-codegen -- sync` and commit the result"
    );
    for dir in [twitch_codegen::MODELS_DIR, twitch_codegen::BINDINGS_DIR] {
        assert!(files.iter().any(|f| f.path == format!("{dir}/lib.rs")), "{dir}/lib.rs is not generated");
    }
}

/// What a schema change leaves behind in the generated folders (a category
/// removed or renamed) is found, so `sync` removes it and the test above
/// names it; files outside those folders are not the generator's to judge.
#[test]
fn files_the_schema_no_longer_makes_are_found() {
    let root = std::env::temp_dir().join(format!("twitch-stale-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let models = root.join(twitch_codegen::MODELS_DIR);
    std::fs::create_dir_all(models.join("helix")).unwrap();
    std::fs::create_dir_all(root.join("models/src")).unwrap();
    for f in ["lib.rs", "helix/users.rs", "helix/gone.rs"] {
        std::fs::write(models.join(f), "// @generated").unwrap();
    }
    std::fs::write(root.join("models/src/lib.rs"), "// hand-written").unwrap();
    let kept = ["lib.rs", "helix/users.rs"].map(|f| twitch_codegen::GeneratedFile {
        path: format!("{}/{f}", twitch_codegen::MODELS_DIR),
        contents: String::new(),
    });
    let stale = twitch_codegen::stale_generated_files(&root, &kept).unwrap();
    assert_eq!(stale, [format!("{}/helix/gone.rs", twitch_codegen::MODELS_DIR)]);
    // The bindings' folder, absent here, holds nothing stale.
    std::fs::remove_dir_all(&root).unwrap();
}

/// The documents for other languages cover the whole schema: every Helix
/// endpoint is an operation, every subscription type and version a
/// message, and every reference resolves.
#[test]
fn the_spec_documents_cover_every_endpoint_and_subscription_type() {
    let files = twitch_codegen::spec_files(schema_dir()).unwrap_or_else(|d| panic!("{d}"));
    let doc = |name: &str| -> serde_json::Value {
        let f = files.iter().find(|f| f.path.ends_with(name)).expect(name);
        serde_json::from_str(&f.contents).expect("JSON")
    };
    let (openapi, asyncapi) = (doc("helix.openapi.json"), doc("eventsub.asyncapi.json"));
    let operations: Vec<&str> = openapi["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|p| p.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().unwrap())
        .collect();
    assert_eq!(operations.len(), twitch::meta::endpoints().len());
    for e in twitch::meta::endpoints() {
        assert!(operations.contains(&e.id), "{} is no operation", e.id);
    }
    let messages = asyncapi["components"]["messages"].as_object().unwrap();
    assert_eq!(messages.len(), twitch::meta::subscriptions().len());
    let get_users = &openapi["paths"]["/users"]["get"];
    assert_eq!(get_users["parameters"][0]["schema"]["maxItems"], 100, "the documented limit of ids");
    assert!(get_users["security"].as_array().unwrap().iter().any(|s| s.get("appAccessToken").is_some()));
    // Every `$ref` resolves within its document.
    fn refs<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match v {
            serde_json::Value::Object(o) => {
                if let Some(r) = o.get("$ref").and_then(|r| r.as_str()) {
                    out.push(r);
                }
                o.values().for_each(|v| refs(v, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    for d in [&openapi, &asyncapi] {
        let mut found = Vec::new();
        refs(d, &mut found);
        assert!(!found.is_empty());
        for r in found {
            assert!(d.pointer(r.trim_start_matches('#')).is_some(), "{r} does not resolve");
        }
    }
}

#[test]
fn write_touches_only_changed_files() {
    let generated = twitch_codegen::generate(schema_dir()).unwrap_or_else(|d| panic!("{d}"));
    let dir = std::env::temp_dir().join(format!("twitch-codegen-write-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(twitch_codegen::write::write(&generated, &dir).unwrap(), generated.files.len());
    assert_eq!(twitch_codegen::write::write(&generated, &dir).unwrap(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
