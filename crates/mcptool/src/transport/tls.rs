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
