//! The process-wide TLS configuration shared by every owned HTTP client.
//!
//! Loading the platform's roots costs milliseconds and ~100 KiB; isolation is about
//! connections and sessions, so every client gets its own pool but the same verifier.

use std::sync::OnceLock;

use rustls::ClientConfig;
use rustls_platform_verifier::BuilderVerifierExt;

use crate::error::Error;

static SHARED: OnceLock<Result<ClientConfig, String>> = OnceLock::new();

/// A copy of the shared configuration (its verifier and provider are reference-counted).
pub(crate) fn client_config() -> Result<ClientConfig, Error> {
    SHARED
        .get_or_init(|| build().map_err(|e| e.to_string()))
        .clone()
        .map_err(|e| Error::config(format!("cannot set up TLS: {e}")))
}

fn build() -> Result<ClientConfig, rustls::Error> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The rustls error behind a failure, if a TLS handshake is what failed. rustls's errors reach
/// us wrapped in `io::Error`s (sometimes twice), whose `source()` skips the wrapped error
/// itself, so each link of the chain is also looked into.
pub(crate) fn tls_failure(err: &(dyn std::error::Error + 'static)) -> Option<rustls::Error> {
    fn unwrap<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            return unwrap(inner);
        }
        None
    }
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(tls) = unwrap(e) {
            return Some(tls.clone());
        }
        next = e.source();
    }
    None
}
