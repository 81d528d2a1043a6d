//! The Helix client: the TLS setup every connection shares, rate limits
//! and retries, sending requests, pagination, and the [`credentials`]
//! trait it takes tokens from (the token manager above implements it).

pub mod client;
pub mod credentials;
pub mod endpoint;
pub mod pagination;
pub mod ratelimit;
pub mod tls;
