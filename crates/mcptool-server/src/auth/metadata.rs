//! The protected resource metadata (RFC 9728): the document, where it is served, and the
//! absolute URL the challenges point to.

use std::net::SocketAddr;

use reqwest::Url;
use serde_json::{Value, json};

/// The well-known path of protected resource metadata.
pub(super) const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// The endpoint's canonical URL: lower-case scheme and host (an IP address here), no trailing
/// slash.
pub(super) fn default_resource(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{}", path.trim_end_matches('/'))
}

/// The document (RFC 9728 section 2).
pub(super) fn document(resource: &str, issuer: &str, scopes: &[String]) -> Value {
    json!({
        "resource": resource,
        "authorization_servers": [issuer],
        "scopes_supported": scopes,
        "bearer_methods_supported": ["header"],
    })
}

/// Where a resource's metadata lives (RFC 9728 section 3.1): the well-known path inserted
/// between the resource's host and its path; a trailing `/` of the path dropped.
pub(super) fn url_for(resource: &str) -> Result<String, String> {
    let url = Url::parse(resource).map_err(|e| format!("the resource is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.fragment().is_some() {
        return Err("the resource must be an http(s) URL without a fragment".to_owned());
    }
    let host = url.host_str().ok_or("the resource has no host")?;
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
    Ok(format!(
        "{}://{host}{port}{WELL_KNOWN}{}{query}",
        url.scheme(),
        path_of(&url)
    ))
}

/// The paths this server serves the document at: after the endpoint's path, after the
/// resource's path when that differs, and at the root.
pub(super) fn paths(endpoint: &str, resource: &str) -> Vec<String> {
    let mut paths = vec![format!("{WELL_KNOWN}{}", endpoint.trim_end_matches('/'))];
    if let Ok(url) = Url::parse(resource) {
        paths.push(format!("{WELL_KNOWN}{}", path_of(&url)));
    }
    paths.push(WELL_KNOWN.to_owned());
    paths.sort();
    paths.dedup();
    paths
}

fn path_of(url: &Url) -> &str {
    url.path().trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metadata_url_inserts_the_well_known_path() {
        assert_eq!(
            url_for("http://127.0.0.1:8081/mcp").as_deref(),
            Ok("http://127.0.0.1:8081/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(
            url_for("https://MCP.example.com/").as_deref(),
            Ok("https://mcp.example.com/.well-known/oauth-protected-resource")
        );
        assert!(url_for("urn:example:mcp").is_err());
    }

    #[test]
    fn the_default_resource_is_canonical() {
        let addr: SocketAddr = "127.0.0.1:8081".parse().expect("addr");
        assert_eq!(default_resource(addr, "/mcp/"), "http://127.0.0.1:8081/mcp");
        assert_eq!(
            paths("/mcp", "https://example.com/public/mcp"),
            [
                WELL_KNOWN.to_owned(),
                format!("{WELL_KNOWN}/mcp"),
                format!("{WELL_KNOWN}/public/mcp"),
            ]
        );
    }
}
