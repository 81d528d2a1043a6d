//! One subscription type's events from a session or shard pool, typed.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::eventsub::decode::FromEvent;
use crate::eventsub::websocket::types::{Delivered, SessionItem};

/// A stream of the items of a [`Session`](super::Session) or
/// [`ShardPool`](super::ShardPool) with notifications of subscription type
/// `T` only, their events typed (`T::Event`). Every other item
/// (revocations, losses, recoveries, token and frame errors, unknown
/// messages) passes through as it is, so nothing that concerns the
/// connection is missed; notifications of other types are skipped (read
/// the session itself to see every event). An event of type `T` that
/// arrived raw because its JSON did not fit comes out as
/// [`SessionItem::Error`] with the decode error, not skipped.
///
/// Made by `Session::events` and `ShardPool::events`; it borrows the
/// session, which goes on after the stream is dropped.
#[must_use = "streams do nothing unless polled"]
pub struct Events<S, E, T> {
    inner: S,
    _types: PhantomData<fn(E) -> T>,
}

impl<S, E, T> std::fmt::Debug for Events<S, E, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").field("subscription_type", &std::any::type_name::<T>()).finish()
    }
}

impl<S, E, T> Events<S, E, T>
where
    S: Stream<Item = SessionItem<E>> + Unpin,
    T: FromEvent<E>,
{
    pub(crate) fn new(inner: S) -> Self {
        Self { inner, _types: PhantomData }
    }

    /// The next item; `None` once the session is closed.
    pub async fn next(&mut self) -> Option<SessionItem<T::Event>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl<S, E, T> Stream for Events<S, E, T>
where
    S: Stream<Item = SessionItem<E>> + Unpin,
    T: FromEvent<E>,
{
    type Item = SessionItem<T::Event>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match Pin::new(&mut self.inner).poll_next(cx) {
                Poll::Ready(Some(item)) => {
                    if let Some(item) = typed::<E, T>(item) {
                        return Poll::Ready(Some(item));
                    }
                }
                other => return other.map(|_| None),
            }
        }
    }
}

/// The item for the typed stream, or `None` to skip it.
fn typed<E, T: FromEvent<E>>(item: SessionItem<E>) -> Option<SessionItem<T::Event>> {
    Some(match item {
        SessionItem::Notification(d) => {
            let Delivered { message_id, timestamp, subscription, event, decode_error, shard } = d;
            match T::from_event(event) {
                Ok(event) => SessionItem::Notification(Delivered {
                    message_id,
                    timestamp,
                    subscription,
                    event,
                    decode_error,
                    shard,
                }),
                Err(_) => {
                    // Ours, but its JSON did not fit: say so rather than skip it.
                    let ours =
                        subscription.parse().is_ok_and(|s| s.subscription_type == T::TYPE && s.version == T::VERSION);
                    match decode_error {
                        Some(e) if ours => SessionItem::Error(*e),
                        _ => return None,
                    }
                }
            }
        }
        SessionItem::Revoked(r) => SessionItem::Revoked(r),
        SessionItem::EventsMayBeLost(l) => SessionItem::EventsMayBeLost(l),
        SessionItem::Recovered(r) => SessionItem::Recovered(r),
        SessionItem::TokenInvalid(t) => SessionItem::TokenInvalid(t),
        SessionItem::ShardReleased(r) => SessionItem::ShardReleased(r),
        SessionItem::ShardClaimed(c) => SessionItem::ShardClaimed(c),
        SessionItem::Unknown(u) => SessionItem::Unknown(u),
        SessionItem::Error(e) => SessionItem::Error(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::error::Error;
    use crate::base::meta::SubscriptionMeta;
    use crate::eventsub::decode::{RawJson, RawSubscription, SubscriptionType};
    use crate::eventsub::websocket::types::{DisconnectReason, Lost};

    /// Two event types, as the generated `Event` has many.
    #[derive(Debug, PartialEq)]
    enum Ev {
        Chat(String),
        Follow(u32),
        Raw,
    }

    #[derive(serde::Serialize)]
    struct Chat;

    static META: SubscriptionMeta = SubscriptionMeta {
        subscription_type: "chat",
        version: "1",
        feature: "eventsub-test",
        name: "Chat",
        summary: "",
        scopes: &[],
        transports: &[],
        condition: &[],
        beta: false,
        lifecycle: crate::base::meta::Lifecycle::NONE,
        batched: false,
        example: None,
    };

    impl SubscriptionType for Chat {
        const TYPE: &'static str = "chat";
        const VERSION: &'static str = "1";
        type Event = String;
        fn meta(&self) -> &'static SubscriptionMeta {
            &META
        }
    }

    impl FromEvent<Ev> for Chat {
        fn from_event(event: Ev) -> std::result::Result<String, Ev> {
            match event {
                Ev::Chat(s) => Ok(s),
                other => Err(other),
            }
        }
        fn from_event_ref(event: &Ev) -> Option<&String> {
            match event {
                Ev::Chat(s) => Some(s),
                _ => None,
            }
        }
    }

    fn delivered(ty: &str, event: Ev, decode_error: Option<Error>) -> SessionItem<Ev> {
        let sub = serde_json::json!({"id": "s1", "type": ty, "version": "1", "status": "enabled", "cost": 0,
            "condition": {}, "transport": {"method": "websocket"}, "created_at": "2026-01-01T00:00:00Z"});
        SessionItem::Notification(Delivered {
            message_id: format!("m-{ty}"),
            timestamp: "2026-01-01T00:00:00Z".into(),
            subscription: RawSubscription::new(RawJson::from_value(&sub)),
            event,
            decode_error: decode_error.map(Box::new),
            shard: Some(3),
        })
    }

    fn stream(items: Vec<SessionItem<Ev>>) -> impl Stream<Item = SessionItem<Ev>> + Unpin {
        futures_util::stream::iter(items)
    }

    #[tokio::test]
    async fn only_the_types_notifications_typed_and_every_other_item() {
        let bad = Error::Config("event did not fit".into());
        let items = vec![
            delivered("chat", Ev::Chat("one".into()), None),
            delivered("follow", Ev::Follow(7), None),
            SessionItem::EventsMayBeLost(Lost {
                reason: DisconnectReason::KeepaliveTimeout,
                session_id: "s".into(),
                shard: None,
            }),
            delivered("follow", Ev::Raw, Some(Error::Config("a follow that did not fit".into()))),
            delivered("chat", Ev::Raw, Some(bad)),
            delivered("chat", Ev::Chat("two".into()), None),
        ];
        let mut typed: Events<_, Ev, Chat> = Events::new(stream(items));
        match typed.next().await {
            Some(SessionItem::Notification(d)) => {
                assert_eq!(d.event, "one");
                assert_eq!((d.message_id.as_str(), d.shard), ("m-chat", Some(3)));
            }
            other => panic!("{other:?}"),
        }
        // The follow is skipped; the loss passes through.
        assert!(matches!(typed.next().await, Some(SessionItem::EventsMayBeLost(_))));
        // A chat event that arrived raw is an error, not skipped; another type's raw event is skipped.
        assert!(matches!(typed.next().await, Some(SessionItem::Error(Error::Config(m))) if m == "event did not fit"));
        assert!(matches!(typed.next().await, Some(SessionItem::Notification(d)) if d.event == "two"));
        assert!(typed.next().await.is_none());
    }
}
