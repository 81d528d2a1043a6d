//! The example bot's offline run: the scripted conversation against the
//! in-process mock, start to exit.

#[allow(dead_code)] // its `main` picks the target from the environment
#[path = "../examples/chat_bot.rs"]
mod chat_bot;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_bot_plays_its_script_offline() {
    let said = tokio::time::timeout(std::time::Duration::from_secs(60), chat_bot::run(chat_bot::Target::Mock))
        .await
        .expect("the script finished")
        .expect("the script ran");
    // One answer per line but the viewer's refused shoutout.
    assert_eq!(said.len(), 8, "{said:#?}");
    assert_eq!(said[0], "Commands: !dice !uptime !hug !guess", "the viewer's help leaves out !so");
    assert!(said[1].starts_with("🎲 ") && said[1].ends_with("(d20)"), "{}", said[1]);
    assert!(said[2].starts_with("Live for "), "{}", said[2]);
    assert_eq!(said[3], "Go follow TwitchDev at https://twitch.tv/twitchdev!");
    assert_eq!(said[4], "Viewer hugs the chat.");
    assert_eq!(said[5], "You can hug again in 30 s.");
    assert_eq!(said[6], "I picked a number from 1 to 10. You have 30 seconds.");
    assert!(said[7].starts_with("7 it is") || said[7].starts_with("Not 7: it was "), "{}", said[7]);
}
