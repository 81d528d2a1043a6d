//! Receive EventSub over webhooks: an axum server checks every request
//! Twitch posts (signature, replay window, duplicates), answers it at once,
//! and hands the events to this loop. With `TWITCH_CALLBACK_URL` and
//! `TWITCH_BROADCASTER_ID` set it also creates its subscriptions (follows,
//! stream online and offline of that broadcaster) once it listens.
//!
//! ```sh
//! TWITCH_WEBHOOK_SECRET=... PORT=8080 \
//! TWITCH_CLIENT_ID=... TWITCH_CLIENT_SECRET=... \
//! TWITCH_CALLBACK_URL=https://example.com/eventsub TWITCH_BROADCASTER_ID=... \
//!     cargo run -p twitch --features axum --example webhook_receiver
//! ```
//! Twitch only calls `https` callbacks on port 443: put a proxy that
//! terminates TLS in front and forwards `/eventsub` here. The secret is 10
//! to 100 characters. Webhook subscriptions take an app token, fetched with
//! the client id and secret (`OAuth::from_env`).

use twitch::eventsub::channel::ChannelFollowV2;
use twitch::eventsub::stream::{StreamOfflineV1, StreamOnlineV1};
use twitch::webhook::axum::WebhookReceiver;
use twitch::webhook::{WebhookMessage, WebhookVerifier};
use twitch::{AnySubscription, Client, Event, OAuth, Transport};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = std::env::var("TWITCH_WEBHOOK_SECRET").map_err(|_| "set TWITCH_WEBHOOK_SECRET")?;
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse().map_err(|_| "PORT is not a port number")?,
        Err(_) => 8080,
    };

    // Requests are answered by the router; a full channel is answered 503,
    // so Twitch delivers the message again later instead of losing it.
    let (router, mut messages) = WebhookReceiver::new(WebhookVerifier::new(secret.clone()))
        .path("/eventsub")
        .channel_capacity(1024)
        .build::<Event>();
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
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    // Listening: Twitch can now verify the callback of each new subscription.
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let (Some(callback), Some(broadcaster)) = (var("TWITCH_CALLBACK_URL"), var("TWITCH_BROADCASTER_ID")) {
        let app = OAuth::from_env()?.client_credentials().await?;
        let client = Client::builder().from_env()?.app_token(app.access_token.secret()).build()?;
        let b = broadcaster.as_str();
        let subs = [
            AnySubscription::from(ChannelFollowV2::new(b, b)),
            StreamOnlineV1::new(b).into(),
            StreamOfflineV1::new(b).into(),
        ];
        let done = client.subscribe_all(Transport::webhook(callback, secret), subs).await;
        for (sub, created) in &done.created {
            println!(
                "created {} ({}), waiting for Twitch's verification",
                sub.subscription_type, created.subscription.status
            );
        }
        for (sub, id) in &done.existing {
            match id {
                Some(id) => println!("{} exists already ({id})", sub.subscription_type),
                None => println!("{} exists already", sub.subscription_type),
            }
        }
        for (sub, e) in &done.failed {
            eprintln!("could not subscribe to {}: {e}", sub.subscription_type);
        }
    }
    server.await??;
    Ok(())
}
