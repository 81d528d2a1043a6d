//! Twitch's own examples, from the schema, against the generated types:
//! every example response and notification decodes strictly (a field the
//! model lacks fails), and every example request is rebuilt through the
//! generated builder and compared with the original.

mod support;

use serde::de::DeserializeOwned;
use support::parse_pairs;

/// Decode `json` as `T`, failing on any field `T` does not know.
fn strict<T: DeserializeOwned>(json: &str) -> Result<(), String> {
    let mut unknown = Vec::new();
    let de = &mut serde_json::Deserializer::from_str(json);
    let res: Result<T, _> = serde_ignored::deserialize(de, |path| unknown.push(path.to_string()));
    match res {
        Err(e) => Err(format!("does not decode: {e}")),
        Ok(_) if !unknown.is_empty() => Err(format!("fields the model lacks: {}", unknown.join(", "))),
        Ok(_) => Ok(()),
    }
}

#[derive(serde::Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
#[allow(dead_code)]
struct Data<T> {
    data: Vec<T>,
}

#[derive(serde::Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
#[allow(dead_code)]
struct DataObject<T> {
    data: T,
}

fn strict_data<T: DeserializeOwned>(json: &str) -> Result<(), String> {
    strict::<Data<T>>(json)
}

#[allow(dead_code)] // used once the schema has a `data_object` endpoint with an example
fn strict_data_object<T: DeserializeOwned>(json: &str) -> Result<(), String> {
    strict::<DataObject<T>>(json)
}

/// The `event` (or `events`) of a notification payload, strictly; the
/// `subscription` envelope is checked by the runtime's decoder.
fn strict_event<T: DeserializeOwned>(payload: &str, key: &str) -> Result<(), String> {
    let v: serde_json::Value = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    let event = v.get(key).ok_or_else(|| format!("no `{key}`"))?;
    strict::<T>(&event.to_string())?;
    let n = twitch::decode_notification(payload).map_err(|e| e.to_string())?;
    if matches!(n.event, twitch::Event::Unknown(_)) {
        return Err("decoded as Event::Unknown".into());
    }
    Ok(())
}

#[path = "support/example_requests.rs"]
mod example_requests;

use example_requests::example_requests;

include!(concat!(env!("OUT_DIR"), "/examples_decode.rs"));

#[test]
fn every_example_decodes_strictly() {
    let mut failures = Vec::new();
    let mut count = 0;
    decode_examples(&mut |id, res| {
        count += 1;
        if let Err(e) = res {
            failures.push(format!("{id}: {e}"));
        }
    });
    assert!(count > 0, "the schema has no examples");
    assert!(failures.is_empty(), "{} of {count} examples fail:\n{}", failures.len(), failures.join("\n"));
}

fn decode_query(url: &str) -> (String, Vec<(String, String)>) {
    let (path, q) = url.split_once('?').unwrap_or((url, ""));
    (path.to_owned(), parse_pairs(q))
}

#[test]
fn every_example_request_is_rebuilt_by_the_builder() {
    let mut failures = Vec::new();
    let mut snapshot = String::new();
    let cases = example_requests();
    assert!(!cases.is_empty(), "the schema has no example requests");
    for case in &cases {
        let name = format!("{} #{} ({})", case.id, case.index + 1, case.raw);
        let prepared = match &case.built {
            Err(why) => {
                failures.push(format!("{name}: cannot build: {why}"));
                continue;
            }
            Ok(Err(e)) => {
                failures.push(format!("{name}: the builder refused it: {e}"));
                continue;
            }
            Ok(Ok(p)) => p,
        };
        snapshot.push_str(&format!("{} #{}\n{prepared}\n\n", case.id, case.index + 1));
        if prepared.method.as_str() != case.method {
            failures.push(format!("{name}: method {} != {}", prepared.method, case.method));
        }
        let (path, mut query) = decode_query(&prepared.url);
        let want_path = format!("https://api.twitch.tv/helix{}", case.path);
        if path != want_path {
            failures.push(format!("{name}: path {path} != {want_path}"));
        }
        let mut want: Vec<(String, String)> = case.query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        query.sort();
        want.sort();
        if query != want {
            failures.push(format!("{name}: query {query:?} != {want:?}"));
        }
        let got_body: Option<serde_json::Value> =
            prepared.body.as_deref().map(|b| serde_json::from_str(b).expect("JSON body"));
        let want_body: Option<serde_json::Value> = case.body.map(|b| serde_json::from_str(b).expect("example body"));
        if got_body != want_body {
            failures.push(format!("{name}: body {got_body:?} != {want_body:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} example requests differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    insta::assert_snapshot!("example_requests", snapshot);
}
