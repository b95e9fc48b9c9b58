//! The server as an OAuth 2.1 protected resource ([`AuthConfig`]).
//!
//! A request to the MCP endpoint passes, in order:
//! 1. [`guard`]: no `access_token` in the query (400), one bearer token (401 without), valid
//!    for this resource ([`token`], keys from [`jwks`], fetched by [`discovery`]; 401
//!    `invalid_token` otherwise), with the scopes every request needs (403);
//! 2. for a POST, once the body is parsed and before an era runs it, the scopes of the tools
//!    it calls ([`scope`]; 403 `insufficient_scope`).
//!
//! The [`metadata`] document and `/stats` are not protected. Every refusal is a [`challenge`]
//! and is counted in the stats.

mod challenge;
mod config;
pub(crate) mod discovery;
mod guard;
mod jwks;
mod metadata;
mod scope;
mod token;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::response::Response;
use serde_json::Value;

pub use crate::auth::config::AuthConfig;
pub(crate) use crate::auth::discovery::SetupError;
pub(crate) use crate::auth::guard::guard;
pub(crate) use crate::auth::token::Grant;

use crate::auth::challenge::Challenge;
use crate::auth::jwks::{KeySet, Keys};
use crate::auth::token::Verifier;
use crate::stats::ServerStats;

/// The protected resource of one running server.
#[derive(Debug)]
pub(crate) struct Auth {
    verifier: Verifier,
    /// The absolute URL of the metadata, for the challenges.
    metadata_url: String,
    metadata: Value,
    metadata_paths: Vec<String>,
    required: Vec<String>,
    tool_scopes: BTreeMap<String, Vec<String>>,
    stats: ServerStats,
}

impl Auth {
    /// Sets up the resource of a server bound to `addr` with its endpoint at `path`: fetches
    /// the issuer's metadata and JWKS unless the configuration gives the JWKS.
    pub(crate) async fn start(
        config: &AuthConfig,
        addr: SocketAddr,
        path: &str,
        stats: &ServerStats,
    ) -> Result<Self, SetupError> {
        let resource = config
            .resource
            .clone()
            .unwrap_or_else(|| metadata::default_resource(addr, path));
        let metadata_url = metadata::url_for(&resource).map_err(SetupError::new)?;
        let (set, source) = match &config.jwks {
            Some(json) => {
                let set = KeySet::parse(json.as_bytes()).map_err(|e| {
                    SetupError::new(format!("the configured JWKS is not valid: {e}"))
                })?;
                (set, None)
            }
            None => {
                let source = discovery::discover(&config.issuer).await?;
                let set = source.fetch().await?;
                stats.update(|s| s.auth_jwks_fetches += 1);
                (set, Some(source))
            }
        };
        if set.len() == 0 {
            return Err(SetupError::new(
                "the JWKS has no usable signing key (RSA or P-256 EC, with a kid)",
            ));
        }
        let keys = Keys::new(set, source, config.refetch_interval, stats.clone());
        Ok(Self {
            metadata: metadata::document(&resource, &config.issuer, &config.scopes_supported),
            metadata_paths: metadata::paths(path, &resource),
            verifier: Verifier {
                issuer: config.issuer.clone(),
                resource,
                leeway_secs: config.leeway.as_secs(),
                keys,
            },
            metadata_url,
            required: config.required_scopes.clone(),
            tool_scopes: config.tool_scopes.clone(),
            stats: stats.clone(),
        })
    }

    /// The paths the metadata document is served at, and the document.
    pub(crate) fn metadata(&self) -> (&[String], &Value) {
        (&self.metadata_paths, &self.metadata)
    }

    /// Counts a refusal and answers it.
    fn refuse(&self, challenge: &Challenge) -> Response {
        self.stats.update(|s| match challenge {
            Challenge::Missing => s.auth_missing += 1,
            Challenge::InvalidToken(_) => s.auth_invalid += 1,
            Challenge::InsufficientScope(_) => s.auth_insufficient_scope += 1,
            Challenge::QueryToken => s.auth_query_token += 1,
        });
        challenge.respond(&self.metadata_url, &self.required)
    }
}
