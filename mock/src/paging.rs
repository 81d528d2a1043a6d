//! Cursor pagination as Helix answers it: opaque cursors (an offset and an
//! HMAC of it and the list's name, so a cursor from another list, or a
//! made-up one, is refused with Twitch's 400), pages from `first`,
//! `after` and `before`. Shared by Helix's handlers and the store.

use serde_json::{Value, json};
use twitch::EndpointMeta;

use crate::state::Shared;
use crate::util;
use crate::wire::{Req, Resp};

/// A cursor for `offset` in the list named `list`.
pub(crate) fn cursor(shared: &Shared, list: &str, offset: usize) -> String {
    let offset = offset as u32;
    let tag = ring::hmac::sign(&shared.cursor_key, format!("{list}\0{offset}").as_bytes());
    let mut bytes = offset.to_be_bytes().to_vec();
    bytes.extend_from_slice(&tag.as_ref()[..8]);
    util::hex(&bytes)
}

/// The offset a cursor stands for, if it is one of ours for this list.
pub(crate) fn decode_cursor(shared: &Shared, list: &str, cursor: &str) -> Option<usize> {
    let bytes = util::unhex(cursor)?;
    if bytes.len() != 12 {
        return None;
    }
    let offset = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    (self::cursor(shared, list, offset as usize) == cursor).then_some(offset as usize)
}

/// One page of `items`, from the request's `first`, `after` and `before`:
/// the page and the `pagination` object (`{}` on the last page).
pub(crate) fn page(
    shared: &Shared,
    meta: &EndpointMeta,
    list: &str,
    req: &Req,
    items: &[Value],
) -> Result<(Vec<Value>, Value), Resp> {
    let max = meta.query.iter().find(|p| p.name == "first").and_then(|p| p.max).unwrap_or(100).max(1) as usize;
    let first = req.query_one("first").and_then(|f| f.parse::<usize>().ok()).unwrap_or(20).clamp(1, max);
    let bad = || Resp::error(400, "The cursor specified in the after query parameter is not valid.");
    let (start, end) = if let Some(after) = req.query_one("after").filter(|a| !a.is_empty()) {
        let start = decode_cursor(shared, list, after).ok_or_else(bad)?;
        (start, start.saturating_add(first))
    } else if let Some(before) = req.query_one("before").filter(|b| !b.is_empty()) {
        let end = decode_cursor(shared, list, before)
            .ok_or_else(|| Resp::error(400, "The cursor specified in the before query parameter is not valid."))?;
        (end.saturating_sub(first), end)
    } else {
        (0, first)
    };
    let start = start.min(items.len());
    let end = end.min(items.len());
    let page = items[start..end].to_vec();
    let pagination = if end < items.len() { json!({"cursor": cursor(shared, list, end)}) } else { json!({}) };
    Ok((page, pagination))
}
