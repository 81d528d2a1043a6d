//! The documents in `spec/` held to the tools their users use: the OpenAPI
//! document to `openapi-spec-validator` (PyPI), the AsyncAPI document to the
//! AsyncAPI initiative's parser (`@asyncapi/parser`, npm). Nothing of ours
//! checks them.
//!
//! Ignored by default (they need Python and Node with those packages);
//! `.ci/run` installs the pinned versions, sets `TWITCH_PY_VENV` (a venv
//! with `openapi-spec-validator`) and `TWITCH_NODE_DIR` (a directory with
//! `node_modules/@asyncapi/parser`) and runs them with `--ignored`. Without
//! the variables the tests fail saying what is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn spec(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("spec").join(name)
}

#[path = "support/venv.rs"]
mod venv;

fn env_dir(var: &str, how: &str) -> PathBuf {
    let dir = std::env::var_os(var).unwrap_or_else(|| panic!("{var} is not set: {how} (.ci/run does)"));
    PathBuf::from(dir)
}

#[test]
#[ignore = "needs openapi-spec-validator in the venv named by TWITCH_PY_VENV (.ci/run installs it)"]
fn the_openapi_document_validates() {
    let python = venv::venv_bin("python", "openapi-spec-validator");
    let script = "import sys\nfrom openapi_spec_validator import validate\nfrom openapi_spec_validator.readers import read_from_filename\nd, _ = read_from_filename(sys.argv[1])\nvalidate(d)\nprint('valid')";
    let out = Command::new(&python).args(["-c", script]).arg(spec("helix.openapi.json")).output().expect("run python");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && stdout.trim() == "valid", "openapi-spec-validator refused it:\n{stdout}\n{stderr}");
}

#[test]
#[ignore = "needs @asyncapi/parser under TWITCH_NODE_DIR (.ci/run installs it)"]
fn the_asyncapi_document_parses_without_errors_or_warnings() {
    let dir = env_dir("TWITCH_NODE_DIR", "`npm install @asyncapi/parser` in a directory and set it to that directory");
    assert!(
        dir.join("node_modules/@asyncapi/parser").is_dir(),
        "@asyncapi/parser is not installed in {}",
        dir.display()
    );
    // Node resolves the parser from the script's own directory.
    let script = dir.join("asyncapi_check.mjs");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("js/asyncapi_check.mjs"), &script)
        .expect("copy the script");
    let out = Command::new("node").arg(&script).arg(spec("eventsub.asyncapi.json")).output().expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the parser failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.lines().next(), Some("errors 0 warnings 0"), "{stdout}");
}
