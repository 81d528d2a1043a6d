//! The generator behind the `twitch` crate.
//!
//! Stages, one module each, typed values between them:
//! [`load`] (YAML → serde structs with lines) → [`validate`] (every problem,
//! with file and line) → [`model`] (names resolved) → [`emit`] (token
//! streams) → [`render`] (prettyplease) → [`write`](mod@write) (only what changed).
//!
//! The generated code is kept in the repository, so a user's build compiles
//! neither this crate nor YAML parsing nor pretty-printing:
//! `twitch-codegen sync` writes [`repository_files`], among them both
//! crates' files ([`Part`]) below [`MODELS_DIR`] and
//! [`BINDINGS_DIR`], and a test fails when any is stale.
//! `twitch-codegen --out` calls [`generate`], which writes both, each below
//! its crate's name. The snapshot tests call [`items`], which renders each
//! endpoint, subscription type and model group on its own from the same
//! emitters.
//!
//! What only the command line and the tests use (the audit against
//! Twitch's pages, the examples check, the example tests, `learn`) is
//! behind the `maintainer` feature.

#[cfg(feature = "maintainer")]
pub mod audit;
pub mod diag;
pub mod emit;
#[cfg(feature = "maintainer")]
pub mod examples_check;
#[cfg(feature = "maintainer")]
pub mod export;
#[cfg(feature = "maintainer")]
pub mod learn;
pub mod load;
pub mod model;
pub mod render;
pub mod validate;
pub mod write;

use std::path::Path;

pub use diag::{Diagnostic, Diagnostics};

/// The two crates generated from the schema.
///
/// The models (every type, subscription type and the `Event` enum) need
/// only `twitch-base`, so they compile beside the runtime; the bindings
/// (the `twitch` crate: every endpoint, on the runtime's client) build on
/// both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// `twitch-models`
    Models,
    /// `twitch`
    Bindings,
}

impl Part {
    /// The crate's name: `twitch-models` or `twitch`.
    pub fn crate_name(self) -> &'static str {
        match self {
            Part::Models => "twitch-models",
            Part::Bindings => "twitch",
        }
    }
}

/// Everything generated from a schema directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// Files to write below the output directory (`lib.rs`, `helix/users.rs`, ...).
    pub files: Vec<GeneratedFile>,
}

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the output directory, `/`-separated.
    pub path: String,
    pub contents: String,
}

/// The rendered code of one schema item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// `endpoint`, `subscription`, `models` or `scopes`.
    pub kind: &'static str,
    /// Endpoint id, `type vN`, or the schema file for `models`.
    pub id: String,
    /// `helix/users.yaml`
    pub schema_file: String,
    pub code: String,
}

/// Load, validate and generate both crates, each below its crate's name
/// (`twitch-models/lib.rs`, `twitch/lib.rs`). On any schema problem,
/// returns all of them.
pub fn generate(schema_dir: &Path) -> Result<Generated, Diagnostics> {
    let files = load::load_dir(schema_dir)?;
    generate_from(&files)
}

/// Generate from files already loaded (used by tests with in-memory fixtures).
pub fn generate_from(files: &[load::SchemaFile]) -> Result<Generated, Diagnostics> {
    validate::validate(files)?;
    let schema = model::build(files);
    render::render(&schema)
}

#[cfg(feature = "maintainer")]
/// Everything `--check` reports: parse errors, validation errors and
/// examples that do not match their models, all at once, sorted.
pub fn check_all(schema_dir: &Path) -> Diagnostics {
    let (files, mut diags) = load::load_dir_lenient(schema_dir);
    if let Err(d) = validate::validate(&files) {
        diags.0.extend(d.0);
    }
    let schema = model::build(&files);
    diags.0.extend(examples_check::check_examples(&schema).0);
    diags.sorted()
}

/// The code of each endpoint, subscription type and model group on its own,
/// for snapshot tests ([`render::items`]).
pub fn items(schema_dir: &Path) -> Result<Vec<Item>, Diagnostics> {
    render::items(&check(schema_dir)?)
}

/// Files kept in the repository, relative to the repository's root (both
/// generated crates' code, the base crate's `Scope`): `twitch-codegen sync`
/// writes them and a test fails when they are stale.
///
/// Two of them are hand-written files with a generated section each, which
/// this reads from the repository (the schema directory's parent) and
/// returns whole: the `[features]` of `generated/Cargo.toml` and the table
/// of features in `generated/README.md`.
pub fn repository_files(schema_dir: &Path) -> Result<Vec<GeneratedFile>, Diagnostics> {
    let schema = check(schema_dir)?;
    let mut files = render::repository_files(&schema)?;
    for (part, dir) in [(Part::Models, MODELS_DIR), (Part::Bindings, BINDINGS_DIR)] {
        for f in render::render_part(&schema, part)?.files {
            files.push(GeneratedFile { path: format!("{dir}/{}", f.path), contents: f.contents });
        }
    }
    let features = render::features(&schema);
    let root = schema_dir.parent().unwrap_or(Path::new("."));
    let sections = [
        (
            CARGO_TOML,
            "# generated features: start",
            "# generated features: end",
            emit::features::cargo_features(&features, Some("twitch-models")),
        ),
        (
            MODELS_CARGO_TOML,
            "# generated features: start",
            "# generated features: end",
            emit::features::cargo_features(&features, None),
        ),
        (
            CRATE_README,
            "<!-- generated features: start -->",
            "<!-- generated features: end -->",
            emit::features::readme_table(&features, &schema),
        ),
    ];
    for (path, start, end, section) in sections {
        let old = std::fs::read_to_string(root.join(path))
            .map_err(|e| Diagnostics::one(Diagnostic::new(path, 0, "", format!("cannot read it: {e}"))))?;
        let contents = splice(&old, start, end, &section).ok_or_else(|| {
            Diagnostics::one(Diagnostic::new(path, 0, "", format!("lacks the lines `{start}` and `{end}`")))
        })?;
        files.push(GeneratedFile { path: path.to_owned(), contents });
    }
    Ok(files)
}

/// Where `twitch-models`'s generated files are kept, relative to the
/// repository's root (its `lib.rs` includes `generated/lib.rs`). Everything
/// below it is the generator's: `sync` removes what it no longer writes.
pub const MODELS_DIR: &str = "models/src/generated";
/// Where the `twitch` crate's generated files are kept, as [`MODELS_DIR`].
pub const BINDINGS_DIR: &str = "generated/src/generated";

/// Files below [`MODELS_DIR`] or [`BINDINGS_DIR`] in the repository at
/// `root` that `files` (what [`repository_files`] returns) does not hold:
/// what a schema change left behind (a category removed or renamed).
/// `sync` removes them; relative to `root`, sorted.
pub fn stale_generated_files(root: &Path, files: &[GeneratedFile]) -> std::io::Result<Vec<String>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                walk(root, &path, out)?;
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
        Ok(())
    }
    let mut on_disk = Vec::new();
    for dir in [MODELS_DIR, BINDINGS_DIR] {
        walk(root, &root.join(dir), &mut on_disk)?;
    }
    let kept: std::collections::BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    on_disk.retain(|p| !kept.contains(p.as_str()));
    on_disk.sort();
    Ok(on_disk)
}

/// The generated crates' manifests and the `twitch` README, relative to the repository's root.
const CARGO_TOML: &str = "generated/Cargo.toml";
const MODELS_CARGO_TOML: &str = "models/Cargo.toml";
const CRATE_README: &str = "generated/README.md";

/// `old` with the lines between the marker lines `start` and `end` replaced
/// by `section`; `None` when a marker is missing.
fn splice(old: &str, start: &str, end: &str, section: &str) -> Option<String> {
    let a = old.find(start)? + start.len();
    let a = a + old[a..].find('\n')? + 1;
    let b = a + old[a..].find(end)?;
    Some(format!("{}{section}{}", &old[..a], &old[b..]))
}

#[cfg(feature = "maintainer")]
/// The schema for other languages, kept in the repository (`spec/`): an
/// OpenAPI 3.1 document of Helix and an AsyncAPI 3.0 document of EventSub
/// (see [`export`]). `twitch-codegen sync` writes them and a test fails
/// when they are stale.
pub fn spec_files(schema_dir: &Path) -> Result<Vec<GeneratedFile>, Diagnostics> {
    let schema = check(schema_dir)?;
    Ok(vec![
        GeneratedFile { path: export::OPENAPI_FILE.into(), contents: export::to_text(&export::openapi(&schema)) },
        GeneratedFile { path: export::ASYNCAPI_FILE.into(), contents: export::to_text(&export::asyncapi(&schema)) },
    ])
}

/// Load and validate only.
pub fn check(schema_dir: &Path) -> Result<model::Schema, Diagnostics> {
    let files = load::load_dir(schema_dir)?;
    validate::validate(&files)?;
    Ok(model::build(&files))
}

#[cfg(feature = "maintainer")]
/// Rust source for the test crate built from the schema's examples: strict
/// decoding of every example response and notification, and every example
/// request rebuilt through the generated builder. See [`emit::examples`].
pub fn example_tests(schema_dir: &Path) -> Result<ExampleTests, Diagnostics> {
    let schema = check(schema_dir)?;
    let (decodes, requests) = emit::examples::example_tests(&schema);
    let file = |tokens: &proc_macro2::TokenStream| {
        render::pretty(tokens)
            .map(|code| format!("// @generated by twitch-codegen from the schema's examples. Do not edit.\n\n{code}"))
            .map_err(|e| {
                Diagnostics::one(Diagnostic::new("", 0, "examples", format!("generated code does not parse: {e}")))
            })
    };
    Ok(ExampleTests { decodes: file(&decodes)?, requests: file(&requests)? })
}

#[cfg(feature = "maintainer")]
/// The two files [`example_tests`] writes.
#[derive(Debug, Clone)]
pub struct ExampleTests {
    /// `fn decode_examples(..)`: needs `strict`, `strict_data`,
    /// `strict_data_object` and `strict_event` in scope.
    pub decodes: String,
    /// `pub fn example_requests() -> Vec<ExampleCase>`: needs `ExampleCase`
    /// and a `client()` in scope.
    pub requests: String,
}
