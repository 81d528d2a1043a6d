//! Secrets that never show in `Debug` output, compare in constant time, and
//! are zeroed on drop (`zeroize`, which the optimiser does not remove).

use std::fmt;

macro_rules! secret {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Default)]
        pub struct $name(String);

        /// In constant time: how long a comparison takes says nothing
        /// about where two secrets differ (their lengths aside).
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                use subtle::ConstantTimeEq;
                self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
            }
        }

        impl Eq for $name {}

        impl $name {
            /// The secret itself, for a header or a form body. Never log it.
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                zeroize::Zeroize::zeroize(&mut self.0);
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map(Self::new)
            }
        }
    };
}

secret! {
    /// An OAuth access token. `Debug` prints `AccessToken([redacted])`.
    AccessToken
}

secret! {
    /// An OAuth refresh token. `Debug` prints `RefreshToken([redacted])`.
    RefreshToken
}

secret! {
    /// An application's client secret. `Debug` prints `ClientSecret([redacted])`.
    ClientSecret
}

secret! {
    /// Any other secret a request or response carries (a webhook transport's
    /// secret, a stream key, an extension secret); the schema marks such
    /// fields `type: secret`. `Debug` prints `Secret([redacted])`.
    Secret
}

impl Secret {
    /// Wrap a secret string.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }
}

impl AsRef<str> for Secret {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl AccessToken {
    /// Wrap a token string; the `oauth:` prefix chat tools print is dropped.
    pub fn new(token: impl Into<String>) -> Self {
        let mut t: String = token.into();
        // In place, so no copy of the token is left behind unzeroed.
        if t.starts_with("oauth:") {
            t.replace_range(.."oauth:".len(), "");
        }
        Self(t)
    }
}

impl RefreshToken {
    /// Wrap a refresh token string.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }
}

impl ClientSecret {
    /// Wrap a client secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        assert_eq!(format!("{:?}", AccessToken::new("oauth:abc")), "AccessToken([redacted])");
        assert_eq!(AccessToken::new("oauth:abc").secret(), "abc");
        assert_eq!(format!("{:?}", RefreshToken::new("r")), "RefreshToken([redacted])");
        assert_eq!(format!("{:?}", ClientSecret::new("s")), "ClientSecret([redacted])");
        assert_eq!(format!("{:?}", Secret::from("s")), "Secret([redacted])");
    }
}
