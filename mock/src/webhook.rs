//! Webhook delivery, when the mock was started with `deliver_webhooks`
//! (`--deliver-webhooks`): a new webhook subscription gets the verification
//! challenge at its callback and is enabled only if the callback answers it;
//! notifications and revocations are then posted there, signed with the
//! subscription's secret, with Twitch's headers. Each message is posted
//! once (Twitch would retry a failed one).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};
use twitch::webhook::WebhookVerifier;

use crate::messages;
use crate::state::{Shared, Subscription};
use crate::util;

const TIMEOUT: Duration = Duration::from_secs(10);

fn http() -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            // The library's TLS stack, configured per client: nothing process-wide.
            twitch_runtime::tls::http_client(TIMEOUT, TIMEOUT).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "webhook delivery: no certificate verifier; only http:// callbacks work");
                // ring's provider, as the runtime's (runtime/src/http/tls.rs says why it stays).
                #[allow(deprecated)]
                let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
                let no_roots = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map(|b| b.with_root_certificates(rustls::RootCertStore::empty()).with_no_client_auth());
                let mut b = reqwest::Client::builder().timeout(TIMEOUT);
                if let Ok(config) = no_roots {
                    b = b.tls_backend_preconfigured(config);
                }
                b.build().unwrap_or_default()
            })
        })
        .clone()
}

/// Post one message, given as the WebSocket server would send it
/// (`{metadata, payload}`): the payload is the body, the metadata the
/// headers. The callback's status and body, or `None` if it could not be
/// reached.
async fn send(callback: &str, secret: &str, message: &str) -> Option<(u16, String)> {
    let v: Value = serde_json::from_str(message).ok()?;
    let md = &v["metadata"];
    let s = |k: &str| md[k].as_str().unwrap_or("").to_owned();
    let (id, timestamp) = (s("message_id"), s("message_timestamp"));
    let body = v["payload"].to_string();
    let resp = http()
        .post(callback)
        .header("Content-Type", "application/json")
        .header("Twitch-Eventsub-Message-Id", &id)
        .header("Twitch-Eventsub-Message-Retry", "0")
        .header("Twitch-Eventsub-Message-Type", s("message_type"))
        .header(
            "Twitch-Eventsub-Message-Signature",
            WebhookVerifier::new(secret).sign(&id, &timestamp, body.as_bytes()),
        )
        .header("Twitch-Eventsub-Message-Timestamp", &timestamp)
        .header("Twitch-Eventsub-Subscription-Type", s("subscription_type"))
        .header("Twitch-Eventsub-Subscription-Version", s("subscription_version"))
        .body(body)
        .send()
        .await;
    match resp {
        Ok(r) => {
            let status = r.status().as_u16();
            Some((status, r.text().await.unwrap_or_default()))
        }
        Err(e) => {
            tracing::debug!(callback, error = %e, "mock webhook: the callback could not be reached");
            None
        }
    }
}

/// Post `message` in the background.
pub(crate) fn post(callback: String, secret: String, message: String) {
    tokio::spawn(async move {
        if let Some((status, _)) = send(&callback, &secret, &message).await
            && !(200..300).contains(&status)
        {
            tracing::debug!(callback, status, "mock webhook: the callback refused a message");
        }
    });
}

/// Send the verification challenge; the subscription turns `enabled` if the
/// callback answers 200 with the challenge, `webhook_callback_verification_failed`
/// otherwise.
pub(crate) fn verify(shared: Arc<Shared>, sub: Subscription, callback: String, secret: String) {
    tokio::spawn(async move {
        let challenge = util::token(32);
        let message = messages::message(
            "webhook_callback_verification",
            Some(&sub),
            json!({"challenge": challenge, "subscription": sub.to_json()}),
        );
        let answered = send(&callback, &secret, &message).await;
        let ok = matches!(&answered, Some((200, body)) if *body == challenge);
        let mut g = shared.lock();
        if let Some(s) = g.subs.iter_mut().find(|s| s.id == sub.id && s.status == PENDING) {
            s.status = if ok { "enabled" } else { "webhook_callback_verification_failed" }.into();
        }
    });
}

/// A webhook subscription's status until its callback answers the challenge.
pub(crate) const PENDING: &str = "webhook_callback_verification_pending";
