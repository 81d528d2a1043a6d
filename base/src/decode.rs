//! Decoding with the JSON path of the field that failed: EventSub events
//! here, Helix answers in the runtime on top of the same careful pass.

use serde::de::DeserializeOwned;

use crate::error::{DecodeError, SECRET_FIELDS};

/// The error for `e` at `path` in `body`. serde's message can quote the
/// value that failed: not when it is a secret.
#[doc(hidden)]
pub fn decode_error_at(endpoint: &str, body: &[u8], path: String, e: serde_json::Error) -> DecodeError {
    let last = path.rsplit(['.', '[']).next().unwrap_or("");
    let message = if SECRET_FIELDS.contains(&last) {
        "the value of a secret field did not decode (not shown)".to_owned()
    } else {
        e.to_string()
    };
    DecodeError::new(endpoint, path, message, body)
}

/// Decode `text` again the careful way, for the JSON path of what failed.
#[doc(hidden)]
pub fn explain<T: DeserializeOwned>(endpoint: &str, text: &str) -> Result<T, DecodeError> {
    crate::observe::decode_tracked_seed(text, std::marker::PhantomData::<T>, &mut |_| {})
        .map_err(|(path, e)| decode_error_at(endpoint, text.as_bytes(), path, e))
}

/// An EventSub event body (the `event` object, or the `events` array of a
/// batched type).
pub fn event<T: DeserializeOwned>(ty: &str, version: &str, raw: &str) -> Result<T, DecodeError> {
    // The plain pass is the hot path; the path-tracking one runs only to
    // explain a failure.
    serde_json::from_str(raw).or_else(|_| explain(&format!("{ty} v{version}"), raw))
}
