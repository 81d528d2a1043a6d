//! Cursor pagination: a `Stream` of items, plus page-by-page access.

use std::collections::{HashSet, VecDeque};
use std::pin::Pin;
use std::task::{Context, Poll};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::base::error::{Error, Result};
use crate::http::client::ResponseFuture;
use crate::http::endpoint::Paginated;
use crate::http::endpoint::send;

/// One page of a paginated endpoint: its items and the cursor of the next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned", serialize = "T: Serialize"))]
#[non_exhaustive]
pub struct Page<T> {
    /// The items.
    #[serde(default, deserialize_with = "crate::base::de::null_as_default")]
    pub data: Vec<T>,
    /// Cursor of the next page; `None` on the last page.
    #[serde(
        default,
        rename = "pagination",
        deserialize_with = "crate::base::de::cursor",
        serialize_with = "crate::base::de::serialize_cursor"
    )]
    pub cursor: Option<String>,
}

/// Walks a paginated endpoint.
///
/// As a [`futures_core::Stream`] (or through [`Paginator::try_next`]) it
/// yields one item at a time and fetches the next page when the current one
/// is used up. [`Paginator::next_page`] gives whole pages instead, and
/// [`Paginator::cursor`] the cursor to resume from later.
///
/// The walk ends when Twitch returns no cursor. A cursor that was already
/// followed ends it with [`Error::RepeatedCursor`] rather than looping.
#[must_use = "a paginator does nothing until polled"]
pub struct Paginator<E: Paginated> {
    request: E,
    /// Cursor for the next fetch; `None` after the first page means done.
    next: Option<String>,
    started: bool,
    finished: bool,
    seen: HashSet<String>,
    buffer: VecDeque<E::Item>,
    pending_error: Option<Error>,
    in_flight: Option<ResponseFuture<E::Output>>,
    pages: usize,
}

impl<E: Paginated> Paginator<E> {
    /// Start at the request's own cursor (usually the first page).
    pub fn new(request: E) -> Self {
        Self {
            request,
            next: None,
            started: false,
            finished: false,
            seen: HashSet::new(),
            buffer: VecDeque::new(),
            pending_error: None,
            in_flight: None,
            pages: 0,
        }
    }

    /// Resume after a cursor saved from an earlier walk.
    pub fn resume(mut self, cursor: impl Into<String>) -> Self {
        let c = cursor.into();
        self.seen.insert(c.clone());
        self.next = Some(c);
        self.started = true;
        self
    }

    /// The cursor of the next page to fetch (`None` before the first page
    /// and after the last).
    pub fn cursor(&self) -> Option<&str> {
        self.next.as_deref()
    }

    /// How many pages have been fetched.
    pub fn pages_fetched(&self) -> usize {
        self.pages
    }

    /// The next item, or `None` at the end.
    pub async fn try_next(&mut self) -> Result<Option<E::Item>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_item(cx)).await.transpose()
    }

    /// The next whole page (items buffered by item-wise reads come first).
    pub async fn next_page(&mut self) -> Result<Option<Vec<E::Item>>> {
        if !self.buffer.is_empty() {
            return Ok(Some(self.buffer.drain(..).collect()));
        }
        if let Some(e) = self.pending_error.take() {
            self.finished = true;
            return Err(e);
        }
        if !self.has_more() {
            return Ok(None);
        }
        let out = self.fetch().await?;
        Ok(Some(out))
    }

    /// Every remaining item, stopping after `limit` items.
    pub async fn collect_all(mut self, limit: usize) -> Result<Vec<E::Item>> {
        let mut all = Vec::new();
        while all.len() < limit {
            match self.try_next().await? {
                Some(item) => all.push(item),
                None => break,
            }
        }
        Ok(all)
    }

    fn has_more(&self) -> bool {
        !self.finished && (!self.started || self.next.is_some())
    }

    fn start_fetch(&mut self) {
        let mut req = self.request.clone();
        req.set_cursor(self.next.clone());
        self.started = true;
        self.in_flight = Some(send(req));
    }

    /// Take a fetched page: remember the cursor, detect repeats.
    fn accept(&mut self, output: E::Output) -> Vec<E::Item> {
        self.pages += 1;
        let (items, cursor) = E::into_parts(output);
        match cursor.filter(|c| !c.is_empty()) {
            Some(c) if !self.seen.insert(c.clone()) => {
                self.next = None;
                self.pending_error =
                    Some(Error::RepeatedCursor { endpoint: self.request.meta().id.to_owned(), cursor: c });
            }
            other => self.next = other,
        }
        if self.next.is_none() && self.pending_error.is_none() {
            self.finished = true;
        }
        items
    }

    async fn fetch(&mut self) -> Result<Vec<E::Item>> {
        let fut = match self.in_flight.take() {
            Some(f) => f,
            None => {
                self.start_fetch();
                self.in_flight.take().expect("just started")
            }
        };
        match fut.await {
            Ok(out) => Ok(self.accept(out)),
            Err(e) => {
                self.finished = true;
                Err(e)
            }
        }
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<E::Item>>> {
        loop {
            if let Some(item) = self.buffer.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            if let Some(fut) = self.in_flight.as_mut() {
                match fut.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(out)) => {
                        self.in_flight = None;
                        let items = self.accept(out);
                        self.buffer.extend(items);
                        continue;
                    }
                    Poll::Ready(Err(e)) => {
                        self.in_flight = None;
                        self.finished = true;
                        return Poll::Ready(Some(Err(e)));
                    }
                }
            }
            if let Some(e) = self.pending_error.take() {
                self.finished = true;
                return Poll::Ready(Some(Err(e)));
            }
            if !self.has_more() {
                return Poll::Ready(None);
            }
            self.start_fetch();
        }
    }
}

// Nothing in a paginator is structurally pinned.
impl<E: Paginated> Unpin for Paginator<E> {}

impl<E: Paginated> futures_core::Stream for Paginator<E> {
    type Item = Result<E::Item>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_item(cx)
    }
}

impl<E: Paginated> std::fmt::Debug for Paginator<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paginator")
            .field("endpoint", &self.request.meta().id)
            .field("pages", &self.pages)
            .field("buffered", &self.buffer.len())
            .field("finished", &self.finished)
            .finish()
    }
}
