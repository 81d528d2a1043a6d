//! Turning response bodies into typed values, with the JSON path of the
//! field that failed.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::base::error::{Error, Result};

fn decode_error(endpoint: &str, body: &[u8], e: serde_path_to_error::Error<serde_json::Error>) -> Error {
    let path = e.path().to_string();
    decode_error_at(endpoint, body, path, e.into_inner())
}

pub(crate) fn decode_error_at(endpoint: &str, body: &[u8], path: String, e: serde_json::Error) -> Error {
    // serde's message can quote the value that failed: not when it is a secret.
    let last = path.rsplit(['.', '[']).next().unwrap_or("");
    let message = if crate::base::error::SECRET_FIELDS.contains(&last) {
        "the value of a secret field did not decode (not shown)".to_owned()
    } else {
        e.to_string()
    };
    Error::Decode { endpoint: endpoint.to_owned(), path, message, body: crate::base::error::ResponseBody::new(body) }
}

/// The whole body as `T`. Observed (see [`crate::observe`]) when the
/// client has an observer.
pub fn json<T: DeserializeOwned>(endpoint: &str, body: &[u8]) -> Result<T> {
    if crate::base::observe::active()
        && let Ok(text) = std::str::from_utf8(body)
    {
        return crate::base::observe::decode_observed(text, "")
            .map_err(|(path, e)| decode_error_at(endpoint, body, path, e));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| decode_error(endpoint, body, e))
}

#[derive(Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
struct DataList<T> {
    #[serde(default, deserialize_with = "crate::base::de::null_as_default")]
    data: Vec<T>,
}

#[derive(Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
struct DataObject<T> {
    data: T,
}

/// `{"data": [T, ...]}` as `Vec<T>`; `null` or a missing `data` is empty.
pub fn data<T: DeserializeOwned>(endpoint: &str, body: &[u8]) -> Result<Vec<T>> {
    json::<DataList<T>>(endpoint, body).map(|d| d.data)
}

/// `{"data": [T]}` holding exactly one item, as `T`; none or more is a
/// decode error saying how many there were.
pub fn data_one<T: DeserializeOwned>(endpoint: &str, body: &[u8]) -> Result<T> {
    let mut items = data::<T>(endpoint, body)?;
    match items.len() {
        1 => Ok(items.remove(0)),
        n => Err(count_error(endpoint, body, n, "exactly one")),
    }
}

/// `{"data": [T]}` holding at most one item, as `Option<T>`.
pub fn data_zero_or_one<T: DeserializeOwned>(endpoint: &str, body: &[u8]) -> Result<Option<T>> {
    let mut items = data::<T>(endpoint, body)?;
    match items.len() {
        0 | 1 => Ok(items.pop()),
        n => Err(count_error(endpoint, body, n, "at most one")),
    }
}

fn count_error(endpoint: &str, body: &[u8], n: usize, want: &str) -> Error {
    Error::Decode {
        endpoint: endpoint.to_owned(),
        path: "data".to_owned(),
        message: format!("expected {want} item, got {n}"),
        body: crate::base::error::ResponseBody::new(body),
    }
}

/// `{"data": T}` as `T`. A one-element `data` array is accepted too.
pub fn data_object<T: DeserializeOwned>(endpoint: &str, body: &[u8]) -> Result<T> {
    match json::<DataObject<T>>(endpoint, body) {
        Ok(d) => Ok(d.data),
        Err(first) => match json::<DataList<T>>(endpoint, body) {
            Ok(d) if d.data.len() == 1 => Ok(d.data.into_iter().next().expect("one element")),
            _ => Err(first),
        },
    }
}

/// A text body.
pub fn text(endpoint: &str, body: &[u8]) -> Result<String> {
    String::from_utf8(body.to_vec()).map_err(|e| Error::Decode {
        endpoint: endpoint.to_owned(),
        path: String::new(),
        message: format!("body is not UTF-8: {e}"),
        body: crate::base::error::ResponseBody::new(body),
    })
}

/// An EventSub event body (the `event` object, or the `events` array of a
/// batched type).
pub fn event<T: DeserializeOwned>(ty: &str, version: &str, raw: &str) -> Result<T> {
    // The plain pass is the hot path; the path-tracking one runs only to
    // explain a failure.
    if let Ok(v) = serde_json::from_str(raw) {
        return Ok(v);
    }
    let de = &mut serde_json::Deserializer::from_str(raw);
    serde_path_to_error::deserialize(de).map_err(|e| decode_error(&format!("{ty} v{version}"), raw.as_bytes(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        id: String,
        n: i64,
    }

    #[test]
    fn names_the_failing_path() {
        let err = data::<Item>("get-things", br#"{"data":[{"id":"1","n":1},{"id":"2","n":"x"}]}"#).unwrap_err();
        match err {
            Error::Decode { endpoint, path, .. } => {
                assert_eq!(endpoint, "get-things");
                assert_eq!(path, "data[1].n");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn null_data_is_empty() {
        assert!(data::<Item>("x", br#"{"data":null}"#).unwrap().is_empty());
        assert!(data::<Item>("x", br#"{}"#).unwrap().is_empty());
    }
}
