//! The Python virtual environment `.ci/run` names in `TWITCH_PY_VENV`, for
//! the tests that drive Python tools (the ignored ones it runs).

use std::path::PathBuf;

/// The program `name` in the venv's `bin` (`python`, or a command that
/// `package` installs). Fails the test saying how to provide it when the
/// variable is unset or the program missing.
pub fn venv_bin(name: &str, package: &str) -> PathBuf {
    let venv = std::env::var_os("TWITCH_PY_VENV").unwrap_or_else(|| {
        panic!("TWITCH_PY_VENV is not set: make a venv with `pip install {package}` and set it to its directory (.ci/run does)")
    });
    let bin = PathBuf::from(venv).join("bin").join(name);
    assert!(bin.exists(), "{} is missing: install {package} in the venv named by TWITCH_PY_VENV", bin.display());
    bin
}
