//! OAuth 2.1 authorization, as the MCP authorization spec describes it (2025-11-25 and
//! 2026-07-28; 2025-03-26 servers too): a layer between the request engine and the
//! transport. It adds the bearer token to every request to the MCP endpoint; on a 401 or a
//! 403 `insufficient_scope` it discovers the authorization server, gets a client identity,
//! runs the configured grant (or a refresh) and lets the transport repeat the request once.
//!
//! Each concern has its file: `challenge` (`WWW-Authenticate`), `metadata` (the documents and
//! their checks), `discovery`, `identity` (registration), `flow` (the authorization code
//! grant), `tokens` (the token endpoint), `layer` (the state of one client), `store`,
//! `handler` and `loopback` (the user's part), `secret` (redaction), `http` (its own traffic
//! on the instance's pool).

mod challenge;
mod config;
mod discovery;
mod flow;
mod handler;
mod http;
mod identity;
mod layer;
mod loopback;
mod metadata;
mod refresh;
mod scopes;
mod secret;
mod store;
mod tokens;

pub use config::{OAuth, PrivateKey};
pub use handler::{AuthorizationHandler, AuthorizeFuture, authorization_handler};
pub(crate) use layer::{Attempts, Authorizer};
pub use loopback::LoopbackBrowser;
pub use secret::Secret;
pub use store::{ClientRegistration, MemoryTokenStore, StoreFuture, StoredTokens, TokenStore};

use ::http::HeaderValue;

use crate::error::{AuthFailure, Error};

/// The `WWW-Authenticate` values of a response.
pub(crate) fn challenges(headers: &::http::HeaderMap) -> Vec<HeaderValue> {
    headers
        .get_all(::http::header::WWW_AUTHENTICATE)
        .iter()
        .cloned()
        .collect()
}

/// Whether a 403's `WWW-Authenticate` asks for more scope.
pub(crate) fn is_insufficient_scope(www_authenticate: &[HeaderValue]) -> bool {
    matches!(
        challenge::bearer_challenge(www_authenticate),
        Ok(Some(c)) if c.is_insufficient_scope()
    )
}

/// The error of a 401 (or a 403 asking for scope) when the client has no OAuth configured:
/// what the server asked for, and what to configure.
pub(crate) fn required_error(status: u16, www_authenticate: &[HeaderValue]) -> Error {
    let challenge = challenge::bearer_challenge(www_authenticate).ok().flatten();
    let mut message = format!(
        "the server requires OAuth authorization (HTTP {status}): configure it \
         (ClientBuilder::oauth, or `mcptool login`) or pass a bearer token"
    );
    if let Some(c) = &challenge {
        if let Some(scope) = &c.scope {
            message.push_str(&format!(
                "; it asks for the scope {:?}",
                identity::sanitize(scope)
            ));
        }
        if let Some(url) = &c.resource_metadata {
            message.push_str(&format!("; its metadata: {}", identity::sanitize(url)));
        }
    }
    Error::authorization(AuthFailure::Required, message).with_status(status)
}

/// The canonical resource identifier of an MCP endpoint URL (RFC 8707, as the MCP spec gives
/// it: scheme and host lower case, no default port, no trailing slash, no fragment) — the key
/// its tokens are kept under in a [`TokenStore`]. `None` for a URL that does not parse.
pub fn canonical_resource(url: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .ok()
        .map(|u| metadata::canonical_resource(&u))
}
