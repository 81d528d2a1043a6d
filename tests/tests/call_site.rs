//! Compile-time checks of the call-site shapes: futures of `send()` and
//! `IntoFuture` are `Send + 'static`, paginators are `Send + Unpin` streams,
//! clients and requests can move across tasks. A regression here is a
//! compile error.

use twitch::Client;

fn assert_send<T: Send + 'static>(_: &T) {}
fn assert_send_sync<T: Send + Sync + 'static>(_: &T) {}
fn assert_stream<S: futures_core::Stream<Item = twitch::Result<T>> + Send + Unpin + 'static, T>(_: &S) {}

fn client() -> Client {
    Client::builder().client_id("id").app_token("token").helix_url("http://127.0.0.1:9/helix").build().unwrap()
}

#[test]
fn futures_and_streams_are_send() {
    let client = client();
    assert_send_sync(&client);

    let req = client.get_users().login("twitchdev");
    assert_send_sync(&req);
    let fut = req.send();
    assert_send(&fut);
    drop(fut);

    let fut = std::future::IntoFuture::into_future(client.get_streams().first(10));
    assert_send(&fut);
    drop(fut);

    let pages = client.get_streams().game_id("509658").first(100).paginate();
    assert_stream(&pages);

    let fut = client.raw(twitch::Method::Get, "/users").query("login", "twitchdev").send::<serde_json::Value>();
    assert_send(&fut);
}

#[test]
fn required_parameters_are_arguments() {
    let client = client();
    // These compile only with their required arguments.
    let _ = client.send_chat_message("123", "456", "hello").reply_parent_message_id("abc");
    let _ = client.start_commercial("123", std::time::Duration::from_secs(60));
    let _ = client.get_channel_information("123");
}
