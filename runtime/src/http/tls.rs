//! The one rustls configuration behind every connection the library makes,
//! HTTP and WebSocket: ring as the crypto provider and the platform's
//! certificate verifier, built here and handed to each connector.
//!
//! Nothing is installed process-wide: an application may install its own
//! default `CryptoProvider` before or after it creates a client, and the
//! library neither needs nor changes it.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::base::error::{Error, Result};

fn build(alpn: &[&[u8]]) -> std::result::Result<rustls::ClientConfig, String> {
    // rustls 0.23.48 deprecates ring's provider: it has no post-quantum key
    // exchange. ring stays the one provider (aws-lc-rs, the other, builds
    // C with cmake); moving is a decision for the whole TLS stack, and a
    // fresh resolve of rustls must not turn it into a warning meanwhile.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).map_err(|e| e.to_string())?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

fn tls_error(e: &str) -> Error {
    Error::Tls { message: e.to_owned() }
}

/// For HTTP clients: HTTP/2 (with the `http2` feature) and HTTP/1.1
/// offered by ALPN.
fn http_config() -> Result<rustls::ClientConfig> {
    static CONFIG: OnceLock<std::result::Result<rustls::ClientConfig, String>> = OnceLock::new();
    let alpn: &[&[u8]] = if cfg!(feature = "http2") { &[b"h2", b"http/1.1"] } else { &[b"http/1.1"] };
    CONFIG.get_or_init(|| build(alpn)).clone().map_err(|e| tls_error(&e))
}

/// For WebSocket connections, which are HTTP/1.1 upgrades.
#[cfg(feature = "websocket")]
pub(crate) fn websocket_config() -> Result<Arc<rustls::ClientConfig>> {
    static CONFIG: OnceLock<std::result::Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG.get_or_init(|| build(&[b"http/1.1"]).map(Arc::new)).clone().map_err(|e| tls_error(&e))
}

/// For PostgreSQL connections (the `postgres` token store): no ALPN, as
/// PostgreSQL negotiates TLS inside its own protocol.
#[cfg(feature = "postgres")]
pub(crate) fn postgres_config() -> Result<Arc<rustls::ClientConfig>> {
    static CONFIG: OnceLock<std::result::Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG.get_or_init(|| build(&[]).map(Arc::new)).clone().map_err(|e| tls_error(&e))
}

/// A `reqwest` client builder on the library's TLS stack (rustls with ring,
/// the platform's verifier, HTTP/2 and HTTP/1.1), with nothing installed
/// process-wide: for programs that build their own client next to the
/// library's (the mock does, and so do the tests).
pub fn client_builder() -> Result<reqwest::ClientBuilder> {
    Ok(reqwest::Client::builder().tls_backend_preconfigured(http_config()?))
}

/// The HTTP client the library builds when given none: [`client_builder`]
/// with these time limits and the library's user agent.
pub fn http_client(timeout: Duration, connect_timeout: Duration) -> Result<reqwest::Client> {
    client_builder()?
        .timeout(timeout)
        .connect_timeout(connect_timeout)
        .user_agent(concat!("twitch-runtime/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Tls { message: format!("cannot build the HTTP client: {e}") })
}
