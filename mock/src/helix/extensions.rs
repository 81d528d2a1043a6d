//! Extension state: configuration segments, secrets, Bits products and the user's extensions.

use serde_json::Value;
use twitch::EndpointMeta;

use crate::state::Shared;
use crate::wire::{Caller, Req, Resp};

/// This family's state, kept in the mock's `Inner`.
#[derive(Debug, Default)]
pub(crate) struct State {}

/// Answer a request of this family; `None` for every other endpoint.
pub(crate) fn handle(
    _shared: &Shared,
    _meta: &'static EndpointMeta,
    _caller: &Caller,
    _req: &Req,
    _body: &Value,
) -> Option<Resp> {
    None
}
