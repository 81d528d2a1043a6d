//! Reading configuration from environment variables (or any lookup of the
//! same shape), with errors that name the variable.

use crate::base::error::{Error, Result};

/// URL schemes accepted for HTTP base URLs.
pub const HTTP: &[&str] = &["https://", "http://"];

/// The process environment as a lookup: unset is `None`, a value that is
/// not UTF-8 an error naming the variable.
pub fn process_env(name: &str) -> Result<Option<String>> {
    match std::env::var(name) {
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(env_error(name, "is not valid UTF-8")),
    }
}

/// Variables read through a lookup; empty values count as unset.
pub struct Vars<F>(pub F);

impl<F: Fn(&str) -> Result<Option<String>>> Vars<F> {
    /// The value, if set and not empty.
    pub fn get(&self, name: &str) -> Result<Option<String>> {
        Ok((self.0)(name)?.filter(|v| !v.is_empty()))
    }

    /// The value, or an error saying it is not set.
    pub fn required(&self, name: &str) -> Result<String> {
        self.get(name)?.ok_or_else(|| env_error(name, "is not set"))
    }

    /// A URL with one of these schemes, if set.
    pub fn url(&self, name: &str, schemes: &[&str]) -> Result<Option<String>> {
        match self.get(name)? {
            Some(v) if !schemes.iter().any(|s| v.starts_with(s)) => {
                let want = schemes.iter().map(|s| s.trim_end_matches("://")).collect::<Vec<_>>().join(" or ");
                Err(env_error(name, &format!("is not a {want} URL: {v}")))
            }
            other => Ok(other),
        }
    }
}

/// [`Error::Env`] for this variable.
pub fn env_error(variable: &str, problem: &str) -> Error {
    Error::Env { variable: variable.to_owned(), problem: problem.to_owned() }
}
