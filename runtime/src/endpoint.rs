//! The traits generated requests implement.

use crate::client::Client;
use crate::error::{InvalidParam, Result};
use crate::meta::EndpointMeta;
use crate::query::Query;

/// A Helix request. Implemented by generated code, one type per endpoint.
pub trait Endpoint: Send + Sync + Sized + 'static {
    /// What a successful response decodes to.
    type Output: Send + 'static;

    /// The endpoint's static description.
    fn meta(&self) -> &'static EndpointMeta;

    /// The client to send with.
    fn client(&self) -> &Client;

    /// Per-request settings: the user to send as, retries.
    fn options(&self) -> &RequestOptions;

    /// Check documented limits; runs before any I/O.
    fn validate(&self) -> Result<(), InvalidParam> {
        Ok(())
    }

    /// Append the query parameters.
    fn query(&self, q: &mut Query) {
        let _ = q;
    }

    /// The JSON body, if the endpoint takes one.
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        Ok(None)
    }

    /// Decode a successful response body.
    fn decode(body: &[u8]) -> Result<Self::Output>;
}

/// Settings of one request, carried by every generated builder (its
/// `as_user` and `retry_non_idempotent` setters fill them in).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestOptions {
    /// Send with this user's token (held by the client's token manager)
    /// instead of the default user's.
    pub as_user: Option<crate::UserId>,
    /// Retry after a 5xx or a transport error although the endpoint is not
    /// idempotent (see [`RetryPolicy::retry_non_idempotent`](crate::RetryPolicy::retry_non_idempotent)).
    pub retry_non_idempotent: bool,
}

/// A request whose responses carry a cursor.
pub trait Paginated: Endpoint + Clone + Unpin {
    /// One item of a page.
    type Item: Send + 'static;

    /// Ask for the page after `cursor` (`None`: the first page).
    fn set_cursor(&mut self, cursor: Option<String>);

    /// Split a response into its items and the next cursor.
    fn into_parts(output: Self::Output) -> (Vec<Self::Item>, Option<String>);
}
