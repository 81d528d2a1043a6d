//! The identity service's signing keys (JWKS) and the base64url JWTs use:
//! what the OAuth client caches and OpenID Connect verifies with.

use std::sync::{Arc, Mutex};

use serde::Deserialize;

/// The identity service's signing keys (`oauth2/keys`), shared by clones.
#[derive(Clone, Default)]
pub(crate) struct KeyCache(pub(crate) Arc<Mutex<Vec<Jwk>>>);

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Jwk {
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub kty: String,
    #[serde(default)]
    pub n: String,
    #[serde(default)]
    pub e: String,
}

#[derive(Deserialize)]
pub(crate) struct Jwks {
    pub keys: Vec<Jwk>,
}

/// Unpadded base64url (padding tolerated), as JWTs use.
pub(crate) fn base64url(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const JWT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    JWT.decode(s).ok()
}

/// The key named `kid`; without a key id, the only key.
pub(crate) fn pick_key(keys: &[Jwk], kid: Option<&str>) -> Option<Jwk> {
    match kid {
        Some(k) => keys.iter().find(|j| j.kid.as_deref() == Some(k)).cloned(),
        None if keys.len() == 1 => keys.first().cloned(),
        None => None,
    }
}
