//! From a 401 to an authorization server: the protected resource metadata (RFC 9728), then
//! the authorization server's metadata (RFC 8414, OIDC discovery), each checked; 2025-03-26
//! servers without either get the metadata at their origin or the default endpoints.

use reqwest::Url;

use super::challenge::BearerChallenge;
use super::http::{Fetched, failure, get_json};
use super::metadata::{
    ResourceMetadata, ServerMetadata, canonical_resource, check_endpoint, check_issuer, check_pkce,
    check_resource, default_server_metadata, legacy_server_metadata_url, resource_metadata_urls,
    server_metadata_urls,
};
use crate::error::{AuthFailure, Error};
use crate::transport::Pool;

/// What discovery found for one MCP endpoint.
#[derive(Clone, Debug)]
pub(crate) struct Discovered {
    /// The value of every `resource` parameter (RFC 8707).
    pub(crate) resource: String,
    /// The resource's `scopes_supported`, when it has metadata.
    pub(crate) resource_scopes: Option<Vec<String>>,
    /// The authorization server's issuer.
    pub(crate) issuer: String,
    pub(crate) server: ServerMetadata,
}

/// Runs discovery for the MCP endpoint `mcp`, starting from the server's challenge.
pub(crate) async fn discover(
    pool: &Pool,
    mcp: &Url,
    challenge: Option<&BearerChallenge>,
) -> Result<Discovered, Error> {
    let Some(resource_meta) = resource_metadata(pool, mcp, challenge).await? else {
        return legacy(pool, mcp).await;
    };
    let resource = check_resource(&resource_meta, mcp).map_err(metadata_error)?;
    let issuer = resource_meta.authorization_servers.first().ok_or_else(|| {
        metadata_error(format!(
            "the protected resource metadata of {resource} names no authorization server"
        ))
    })?;
    let server = server_metadata(pool, issuer).await?;
    Ok(Discovered {
        resource,
        resource_scopes: resource_meta.scopes_supported,
        issuer: issuer.clone(),
        server,
    })
}

/// The protected resource metadata: at the challenge's URL if it names one, else at the
/// path-aware well-known URL, else at the root one. `None` when there is none.
async fn resource_metadata(
    pool: &Pool,
    mcp: &Url,
    challenge: Option<&BearerChallenge>,
) -> Result<Option<ResourceMetadata>, Error> {
    let urls = match challenge.and_then(|c| c.resource_metadata.as_deref()) {
        Some(named) => {
            vec![check_endpoint(named, "the resource_metadata URL").map_err(metadata_error)?]
        }
        None => resource_metadata_urls(mcp),
    };
    for url in &urls {
        match get_json::<ResourceMetadata>(pool, url, "protected resource metadata").await? {
            Fetched::Found(meta) => return Ok(Some(meta)),
            Fetched::Absent(status) => {
                tracing::debug!(%url, %status, "no protected resource metadata here");
            }
        }
    }
    Ok(None)
}

/// The metadata of `issuer`, from the first of its well-known URLs that has it; its `issuer`
/// must be `issuer` exactly, and it must offer PKCE with S256.
async fn server_metadata(pool: &Pool, issuer: &str) -> Result<ServerMetadata, Error> {
    let issuer_url = check_endpoint(issuer, "the authorization server").map_err(metadata_error)?;
    for url in server_metadata_urls(&issuer_url) {
        match get_json::<ServerMetadata>(pool, &url, "authorization server metadata").await? {
            Fetched::Found(meta) => {
                check_issuer(&meta, issuer).map_err(metadata_error)?;
                check_pkce(&meta).map_err(metadata_error)?;
                return Ok(meta);
            }
            Fetched::Absent(status) => {
                tracing::debug!(%url, %status, "no authorization server metadata here");
            }
        }
    }
    Err(metadata_error(format!(
        "the authorization server {issuer} publishes no metadata (RFC 8414 or OpenID discovery)"
    )))
}

/// A server without protected resource metadata (2025-03-26): its origin is the
/// authorization server, with metadata at the origin or the default endpoints.
async fn legacy(pool: &Pool, mcp: &Url) -> Result<Discovered, Error> {
    let defaults = default_server_metadata(mcp);
    let url = legacy_server_metadata_url(mcp);
    let server =
        match get_json::<ServerMetadata>(pool, &url, "authorization server metadata").await? {
            Fetched::Found(meta) => {
                check_pkce(&meta).map_err(metadata_error)?;
                meta
            }
            Fetched::Absent(_) => defaults.clone(),
        };
    tracing::debug!(issuer = %server.issuer, defaults = server.defaults, "2025-03-26 authorization");
    Ok(Discovered {
        resource: canonical_resource(mcp),
        resource_scopes: None,
        issuer: defaults.issuer,
        server,
    })
}

fn metadata_error(message: impl Into<String>) -> Error {
    failure(AuthFailure::Metadata, message)
}
