//! The metadata discovery reads: a protected resource's (RFC 9728) and its authorization
//! server's (RFC 8414, OpenID Connect Discovery 1.0) — where each document lives, and the checks
//! a document passes before the client trusts it. Pure functions; fetching is the caller's.

use std::net::{Ipv4Addr, Ipv6Addr};

use reqwest::Url;
use serde::Deserialize;

/// RFC 9728 §3's well-known suffix.
const PROTECTED_RESOURCE: &str = "/.well-known/oauth-protected-resource";
/// RFC 8414 §3's well-known suffix (MCP defines no application-specific one).
const AUTHORIZATION_SERVER: &str = "/.well-known/oauth-authorization-server";
/// OpenID Connect Discovery 1.0 §4's well-known suffix.
const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
/// How many characters of a server-supplied value an error message quotes.
const SHOWN_CHARS: usize = 100;

/// Protected resource metadata (RFC 9728), the fields the client uses.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub(crate) struct ResourceMetadata {
    /// The resource identifier the document is about (RFC 9728 §2).
    pub(crate) resource: String,
    /// The issuers of the authorization servers that grant tokens for the resource.
    #[serde(default)]
    pub(crate) authorization_servers: Vec<String>,
    /// The scopes the resource understands.
    #[serde(default)]
    pub(crate) scopes_supported: Option<Vec<String>>,
}

/// Authorization server metadata (RFC 8414 / OIDC discovery), the fields the client uses.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub(crate) struct ServerMetadata {
    /// The issuer identifier; it must equal the one the document was looked up for.
    pub(crate) issuer: String,
    /// Where the user authorizes the client (authorization code grant).
    pub(crate) authorization_endpoint: Option<String>,
    /// Where codes, refresh tokens and client credentials become tokens.
    pub(crate) token_endpoint: Option<String>,
    /// Dynamic client registration (RFC 7591).
    pub(crate) registration_endpoint: Option<String>,
    /// The scopes the server offers.
    #[serde(default)]
    pub(crate) scopes_supported: Option<Vec<String>>,
    /// The PKCE methods the server accepts (RFC 7636); the client needs `S256`.
    #[serde(default)]
    pub(crate) code_challenge_methods_supported: Option<Vec<String>>,
    /// How clients may authenticate at the token endpoint; absent means `client_secret_basic`.
    #[serde(default)]
    pub(crate) token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// The grant types the server supports.
    #[serde(default)]
    pub(crate) grant_types_supported: Option<Vec<String>>,
    /// Whether authorization responses carry `iss` (RFC 9207).
    #[serde(default)]
    pub(crate) authorization_response_iss_parameter_supported: bool,
    /// Whether a client may use the URL of its metadata document as its `client_id`.
    #[serde(default)]
    pub(crate) client_id_metadata_document_supported: bool,
    /// Not from the document: set when the metadata is the 2025-03-26 default (no document found).
    #[serde(skip)]
    pub(crate) defaults: bool,
}

impl ServerMetadata {
    /// Whether the server lists `scope` in `scopes_supported`.
    pub(crate) fn lists_scope(&self, scope: &str) -> bool {
        self.scopes_supported
            .as_ref()
            .is_some_and(|scopes| scopes.iter().any(|s| s == scope))
    }

    /// The token endpoint authentication method of a client that registered with `registered`
    /// (if known) and has a secret or not: the registered one if any; else, with a secret,
    /// `client_secret_basic` if advertised (or nothing advertised — RFC 8414's default), else
    /// `client_secret_post` if advertised, else `client_secret_basic` still (the method RFC 6749
    /// §2.3.1 makes every server support); without a secret, `none`.
    pub(crate) fn token_auth_method<'a>(
        &self,
        registered: Option<&'a str>,
        has_secret: bool,
    ) -> &'a str {
        if let Some(method) = registered.filter(|method| !method.is_empty()) {
            return method;
        }
        if !has_secret {
            return "none";
        }
        let advertises = |method: &str| {
            self.token_endpoint_auth_methods_supported
                .as_ref()
                .is_some_and(|methods| methods.iter().any(|m| m == method))
        };
        if !advertises("client_secret_basic") && advertises("client_secret_post") {
            "client_secret_post"
        } else {
            "client_secret_basic"
        }
    }
}

/// The canonical resource identifier of an MCP endpoint URL (RFC 8707 §2, MCP's "canonical
/// server URI"): scheme and host lowercase, the port only when it is not the scheme's default,
/// the path without trailing slashes (a bare `/` becomes no path), the query kept, no fragment
/// and no credentials. E.g. `HTTPS://Example.COM:443/mcp/` → `https://example.com/mcp`.
pub(crate) fn canonical_resource(url: &Url) -> String {
    let mut resource = origin(url);
    resource.push_str(url.path().trim_end_matches('/'));
    if let Some(query) = url.query() {
        resource.push('?');
        resource.push_str(query);
    }
    resource
}

/// Where to look for the protected resource metadata of `mcp` when the challenge named no URL
/// (RFC 9728 §3.1, in the MCP spec's order): `/.well-known/oauth-protected-resource<path>` (only
/// when the path is not empty or `/`), then `/.well-known/oauth-protected-resource` at the root.
/// The query is dropped.
pub(crate) fn resource_metadata_urls(mcp: &Url) -> Vec<Url> {
    let path = mcp.path();
    let mut urls = Vec::with_capacity(2);
    if !path.is_empty() && path != "/" {
        urls.push(at_origin(mcp, &format!("{PROTECTED_RESOURCE}{path}")));
    }
    urls.push(at_origin(mcp, PROTECTED_RESOURCE));
    urls
}

/// Where to look for an issuer's metadata, in the MCP spec's order. With a path `/t`:
/// `/.well-known/oauth-authorization-server/t`, `/.well-known/openid-configuration/t`,
/// `/t/.well-known/openid-configuration`; without a path (or just `/`):
/// `/.well-known/oauth-authorization-server`, `/.well-known/openid-configuration`.
///
/// A trailing slash of the issuer's path is not doubled when appending (OIDC Discovery §4.1
/// removes it); the path insertions keep the path as it is, since RFC 8414 §3.1 removes only
/// the slash that follows the host. The query is dropped.
pub(crate) fn server_metadata_urls(issuer: &Url) -> Vec<Url> {
    let path = issuer.path();
    if path.is_empty() || path == "/" {
        return vec![
            at_origin(issuer, AUTHORIZATION_SERVER),
            at_origin(issuer, OPENID_CONFIGURATION),
        ];
    }
    vec![
        at_origin(issuer, &format!("{AUTHORIZATION_SERVER}{path}")),
        at_origin(issuer, &format!("{OPENID_CONFIGURATION}{path}")),
        at_origin(
            issuer,
            &format!("{}{OPENID_CONFIGURATION}", path.trim_end_matches('/')),
        ),
    ]
}

/// RFC 9728 §3.3 / MCP: the metadata's `resource` must identify `mcp` — equal to its canonical
/// resource, or (servers often name their origin or a parent path) a same-origin resource
/// without a query whose path is a prefix of `mcp`'s path at a segment boundary (`/mcp` covers
/// `/mcp/x`, not `/mcpx`). Returns the value to send in `resource` parameters: the metadata's
/// own, canonicalised. Anything else is an error naming both values.
pub(crate) fn check_resource(meta: &ResourceMetadata, mcp: &Url) -> Result<String, String> {
    let expected = canonical_resource(mcp);
    let mismatch = || {
        format!(
            "the protected resource metadata is for `{}`, not for `{}`",
            shown(&meta.resource),
            shown(&expected)
        )
    };
    let declared = Url::parse(&meta.resource).map_err(|_| mismatch())?;
    if declared.fragment().is_some() || !declared.has_host() {
        return Err(mismatch());
    }
    let resource = canonical_resource(&declared);
    if resource == expected || covers(&declared, mcp) {
        Ok(resource)
    } else {
        Err(mismatch())
    }
}

/// Whether the resource `declared` is a parent of `mcp`: same origin, no query, and a path that
/// is `mcp`'s or an ancestor of it.
fn covers(declared: &Url, mcp: &Url) -> bool {
    if origin(declared) != origin(mcp) || declared.query().is_some() {
        return false;
    }
    let parent = declared.path().trim_end_matches('/');
    mcp.path()
        .trim_end_matches('/')
        .strip_prefix(parent)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// RFC 8414 §3.3: the document's `issuer` must equal the issuer the URL was built from,
/// exactly (no normalisation: a trailing slash or a case difference is a mismatch).
pub(crate) fn check_issuer(meta: &ServerMetadata, issuer: &str) -> Result<(), String> {
    if meta.issuer == issuer {
        return Ok(());
    }
    Err(format!(
        "the authorization server metadata of `{}` names issuer `{}`",
        shown(issuer),
        shown(&meta.issuer)
    ))
}

/// PKCE with S256 is mandatory: an error unless `code_challenge_methods_supported` contains
/// `S256` (an absent list too: the server does not advertise PKCE) — except for `defaults`
/// metadata, which has no document to advertise anything.
pub(crate) fn check_pkce(meta: &ServerMetadata) -> Result<(), String> {
    if meta.defaults {
        return Ok(());
    }
    match &meta.code_challenge_methods_supported {
        None => Err(format!(
            "the authorization server `{}` does not advertise PKCE \
             (no code_challenge_methods_supported); S256 is required",
            shown(&meta.issuer)
        )),
        Some(methods) if methods.iter().any(|m| m == "S256") => Ok(()),
        Some(methods) => Err(format!(
            "the authorization server `{}` does not offer PKCE with S256 (it lists `{}`)",
            shown(&meta.issuer),
            shown(&methods.join(" "))
        )),
    }
}

/// An endpoint or issuer URL the client may talk to: https, or http only on a loopback host
/// (127.0.0.0/8, `::1`, `localhost`); no credentials in it; no fragment. `what` names the URL
/// in the error ("the token endpoint"); the error never quotes the URL itself, which may hold
/// credentials.
pub(crate) fn check_endpoint(url: &str, what: &str) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| format!("{what} is not a valid URL ({e})"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!("{what} URL must not contain credentials"));
    }
    if parsed.fragment().is_some() {
        return Err(format!("{what} URL must not have a fragment"));
    }
    let host = parsed.host_str().unwrap_or_default();
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback(host) => Ok(parsed),
        "http" => Err(format!(
            "{what} uses http on `{host}`, which is not a loopback host; https is required"
        )),
        scheme => Err(format!(
            "{what} uses the scheme `{}`; https is required (http only on loopback)",
            shown(scheme)
        )),
    }
}

/// Whether a URL's host is loopback: 127.0.0.0/8, `[::1]` or `localhost` itself.
fn is_loopback(host: &str) -> bool {
    if host == "localhost" {
        return true;
    }
    match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback()),
        None => host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback()),
    }
}

/// 2025-03-26 servers without metadata: the default endpoints at the MCP server's origin —
/// issuer = the origin (no trailing slash), `/authorize`, `/token`, `/register`;
/// `defaults: true`.
pub(crate) fn default_server_metadata(mcp: &Url) -> ServerMetadata {
    let issuer = origin(mcp);
    ServerMetadata {
        authorization_endpoint: Some(format!("{issuer}/authorize")),
        token_endpoint: Some(format!("{issuer}/token")),
        registration_endpoint: Some(format!("{issuer}/register")),
        issuer,
        scopes_supported: None,
        code_challenge_methods_supported: None,
        token_endpoint_auth_methods_supported: None,
        grant_types_supported: None,
        authorization_response_iss_parameter_supported: false,
        client_id_metadata_document_supported: false,
        defaults: true,
    }
}

/// The 2025-03-26 place of an authorization server's metadata for an MCP server without
/// protected resource metadata: `/.well-known/oauth-authorization-server` at the MCP server's
/// origin (path, query and fragment dropped).
pub(crate) fn legacy_server_metadata_url(mcp: &Url) -> Url {
    at_origin(mcp, AUTHORIZATION_SERVER)
}

/// `scheme://host[:port]` of `url`, the port only when it is not the scheme's default.
fn origin(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// `path` at the origin of `url`: no query, fragment or credentials.
fn at_origin(url: &Url, path: &str) -> Url {
    let mut at = url.clone();
    at.set_path(path);
    at.set_query(None);
    at.set_fragment(None);
    // Both fail only for URLs without a host, which then have no credentials to clear.
    let _ = at.set_username("");
    let _ = at.set_password(None);
    at
}

/// A server-supplied value for an error message: its first characters, printable ASCII only
/// (anything else becomes `?`).
fn shown(value: &str) -> String {
    let mut text: String = value
        .chars()
        .take(SHOWN_CHARS)
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect();
    if value.chars().nth(SHOWN_CHARS).is_some() {
        text.push_str("...");
    }
    text
}

#[cfg(test)]
mod tests;
