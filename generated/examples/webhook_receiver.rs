//! Receive EventSub over webhooks: an axum server checks every request
//! Twitch posts (signature, replay window, duplicates), answers it at once,
//! and hands the events to this loop.
//!
//! ```sh
//! TWITCH_WEBHOOK_SECRET=... PORT=8080 cargo run -p twitch --features axum --example webhook_receiver
//! ```
//! Twitch only calls `https` callbacks on port 443: put a proxy that
//! terminates TLS in front, and create the subscriptions (transport
//! `webhook`) with the callback `https://<your host>/eventsub` and the same
//! secret (10 to 100 characters).

use twitch::Event;
use twitch::webhook::axum::WebhookReceiver;
use twitch::webhook::{WebhookMessage, WebhookVerifier};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = std::env::var("TWITCH_WEBHOOK_SECRET").map_err(|_| "set TWITCH_WEBHOOK_SECRET")?;
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse().map_err(|_| "PORT is not a port number")?,
        Err(_) => 8080,
    };

    // Requests are answered by the router; a full channel is answered 503,
    // so Twitch delivers the message again later instead of losing it.
    let (router, mut messages) =
        WebhookReceiver::new(WebhookVerifier::new(secret)).path("/eventsub").channel_capacity(1024).build::<Event>();
    tokio::spawn(async move {
        while let Some(message) = messages.recv().await {
            match message {
                WebhookMessage::Notification { message_id, notification } => match notification.event {
                    Event::ChannelFollowV2(follow) => {
                        println!("{} followed {}", follow.user_name, follow.broadcaster_user_name);
                    }
                    other => println!("{message_id}: {other:?}"),
                },
                WebhookMessage::Verification { subscription } => {
                    println!("subscribed: {} v{}", subscription.subscription_type, subscription.version);
                }
                WebhookMessage::Revocation { subscription } => {
                    println!("revoked ({}): {}", subscription.status, subscription.subscription_type);
                }
                other => println!("{other:?}"),
            }
        }
    });

    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await?;
    println!("Listening on http://{}/eventsub", listener.local_addr()?);
    axum::serve(listener, router).await?;
    Ok(())
}
