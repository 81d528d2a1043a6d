//! Turning response bodies into typed values, with the JSON path of the
//! field that failed.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::base::error::{Error, Result};
use twitch_base::decode::decode_error_at;

/// The whole body as `T`. Observed (see [`crate::observe`]) when the
/// client has an observer.
pub fn json<T: DeserializeOwned>(endpoint: &str, body: &[u8]) -> Result<T> {
    let text = std::str::from_utf8(body).map_err(|e| Error::Decode {
        endpoint: endpoint.to_owned(),
        path: String::new(),
        message: format!("body is not UTF-8: {e}"),
        body: crate::base::error::ResponseBody::new(body),
    })?;
    if crate::base::observe::active() {
        return crate::base::observe::decode_observed(text, "")
            .map_err(|(path, e)| decode_error_at(endpoint, body, path, e).into());
    }
    // The plain pass is the hot path; the careful one runs only to explain
    // a failure.
    serde_json::from_str(text).or_else(|_| explain(endpoint, text))
}

fn explain<T: DeserializeOwned>(endpoint: &str, text: &str) -> Result<T> {
    twitch_base::decode::explain(endpoint, text).map_err(Error::from)
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

pub use twitch_base::decode::event;

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
    fn an_event_that_fails_names_its_type_and_path() {
        let err = Error::from(event::<Item>("channel.thing", "2", r#"{"id":"1","n":true}"#).unwrap_err());
        match err {
            Error::Decode { endpoint, path, message, .. } => {
                assert_eq!(endpoint, "channel.thing v2");
                assert_eq!(path, "n");
                assert!(message.starts_with("invalid type: boolean"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
        // A missing field is named at the object that lacks it.
        let err = Error::from(event::<Item>("channel.thing", "2", r#"{"id":"1"}"#).unwrap_err());
        assert!(
            matches!(err, Error::Decode { ref message, .. } if message.starts_with("missing field `n`")),
            "{err:?}"
        );
    }

    #[test]
    fn a_body_that_is_not_utf8_or_has_more_after_it_is_a_decode_error() {
        let err = json::<Item>("get-thing", b"{\"id\":\"\xff\",\"n\":1}").unwrap_err();
        assert!(
            matches!(err, Error::Decode { ref message, .. } if message.starts_with("body is not UTF-8")),
            "{err:?}"
        );
        let err = json::<Item>("get-thing", br#"{"id":"1","n":1} {"#).unwrap_err();
        assert!(
            matches!(err, Error::Decode { ref message, .. } if message.starts_with("trailing characters")),
            "{err:?}"
        );
        // Whitespace after the value is not more.
        assert_eq!(json::<Item>("get-thing", b"{\"id\":\"1\",\"n\":1}\r\n").unwrap().n, 1);
    }

    #[test]
    fn null_data_is_empty() {
        assert!(data::<Item>("x", br#"{"data":null}"#).unwrap().is_empty());
        assert!(data::<Item>("x", br#"{}"#).unwrap().is_empty());
    }
}
