//! Secrets that never show in `Debug` output.

use std::fmt;

/// An OAuth access token. `Debug` prints `AccessToken([redacted])`; the
/// value is reachable only through [`AccessToken::secret`].
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// Wrap a token string.
    pub fn new(token: impl Into<String>) -> Self {
        let t: String = token.into();
        // Accept the `oauth:` prefix chat tools print.
        Self(t.strip_prefix("oauth:").map(str::to_owned).unwrap_or(t))
    }

    /// The token itself, for building an `Authorization` header.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([redacted])")
    }
}

impl Drop for AccessToken {
    fn drop(&mut self) {
        // Overwrite the bytes before the allocation is freed.
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        bytes.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&bytes);
    }
}
