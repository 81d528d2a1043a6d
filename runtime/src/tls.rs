//! The one rustls configuration behind every connection the library makes,
//! HTTP and WebSocket: ring as the crypto provider and the platform's
//! certificate verifier, built here and handed to each connector.
//!
//! Nothing is installed process-wide: an application may install its own
//! default `CryptoProvider` before or after it creates a client, and the
//! library neither needs nor changes it.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::error::{Error, Result};

fn build(alpn: &[&[u8]]) -> std::result::Result<rustls::ClientConfig, String> {
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
    Error::Config(format!("TLS setup: {e}"))
}

/// For HTTP clients: HTTP/2 and HTTP/1.1 offered by ALPN.
fn http_config() -> Result<rustls::ClientConfig> {
    static CONFIG: OnceLock<std::result::Result<rustls::ClientConfig, String>> = OnceLock::new();
    CONFIG.get_or_init(|| build(&[b"h2", b"http/1.1"])).clone().map_err(|e| tls_error(&e))
}

/// For WebSocket connections, which are HTTP/1.1 upgrades.
pub(crate) fn websocket_config() -> Result<Arc<rustls::ClientConfig>> {
    static CONFIG: OnceLock<std::result::Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG.get_or_init(|| build(&[b"http/1.1"]).map(Arc::new)).clone().map_err(|e| tls_error(&e))
}

/// The HTTP client the library builds when given none: rustls with ring
/// and the platform's verifier, these time limits, and nothing installed
/// process-wide. For programs that build their own `reqwest::Client` on
/// the same stack (the mock does).
pub fn http_client(timeout: Duration, connect_timeout: Duration) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(http_config()?)
        .timeout(timeout)
        .connect_timeout(connect_timeout)
        .user_agent(concat!("twitch-rs/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))
}
