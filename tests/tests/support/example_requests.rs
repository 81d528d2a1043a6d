//! Twitch's example requests from the schema, each with what the generated
//! builder made of it (tests/build.rs writes the cases). Shared by
//! tests/examples.rs, which compares them with the originals, and
//! tests/mock.rs, which replays them against the mock.

/// One example request.
pub struct ExampleCase {
    pub id: &'static str,
    pub index: usize,
    pub raw: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub query: Vec<(&'static str, &'static str)>,
    pub body: Option<&'static str>,
    pub built: Result<twitch::Result<twitch::PreparedRequest>, String>,
}

/// The client the builders run on (its URLs are Twitch's; nothing is sent).
fn client() -> twitch::Client {
    twitch::Client::builder()
        .client_id("example-client")
        .app_token("example-token")
        .helix_url("https://api.twitch.tv/helix")
        .build()
        .expect("client")
}

include!(concat!(env!("OUT_DIR"), "/example_requests.rs"));
