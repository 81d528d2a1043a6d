//! The README's main command, run by the test suite: the quickstart against
//! the in-process mock, from the app token to the chat message heard back.

#[allow(dead_code)] // its `main` reads the environment; the test picks the mock itself
#[path = "../../generated/examples/quickstart.rs"]
mod quickstart;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quickstart_runs_offline() {
    tokio::time::timeout(std::time::Duration::from_secs(120), quickstart::run(quickstart::Target::Mock))
        .await
        .expect("the quickstart finished")
        .expect("the quickstart succeeded");
}
