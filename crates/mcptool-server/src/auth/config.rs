//! [`AuthConfig`]: what the server needs to act as an OAuth 2.1 protected resource.

use std::collections::BTreeMap;
use std::time::Duration;

/// The scopes advertised in the protected resource metadata unless told otherwise.
const DEFAULT_SCOPES: [&str; 2] = ["mcp:tools", "mcp:admin"];
/// How far `exp` and `nbf` may be off before a token is refused.
const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// The shortest time between two JWKS fetches caused by tokens with an unknown `kid`.
const DEFAULT_REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// Makes the server an OAuth 2.1 protected resource: every request to the MCP endpoint needs
/// `Authorization: Bearer <JWT>` issued by [`AuthConfig::new`]'s issuer for this resource.
///
/// A builder with infallible setters; [`Server::start`](crate::Server::start) reports what is
/// wrong with it (an issuer whose metadata or JWKS cannot be fetched, a JWKS that does not parse).
///
/// What a token must satisfy:
/// - signed with RS256, ES256 or PS256 by the JWKS key its header's `kid` names (`none` and HMAC
///   are refused);
/// - `iss` equal to the issuer, `aud` (a string or an array) containing the resource;
/// - `exp` not past and `nbf` (when present) not ahead, both by more than the leeway (30 s
///   unless [`AuthConfig::leeway`] says otherwise);
/// - every [`required_scope`](AuthConfig::required_scope), and for a `tools/call` every scope
///   of that tool ([`tool_scope`](AuthConfig::tool_scope)), in its `scope` claim
///   (space-separated) or `scp` claim (an array).
///
/// ```
/// use mcptool_server::{AuthConfig, ServerConfig};
/// let auth = AuthConfig::new("https://auth.example.com")
///     .required_scope("mcp:tools")
///     .tool_scope("add", "mcp:admin");
/// let config = ServerConfig::default().auth(auth);
/// assert!(config.auth.is_some());
/// ```
#[derive(Clone, Debug)]
pub struct AuthConfig {
    pub(crate) issuer: String,
    pub(crate) resource: Option<String>,
    pub(crate) scopes_supported: Vec<String>,
    pub(crate) required_scopes: Vec<String>,
    pub(crate) tool_scopes: BTreeMap<String, Vec<String>>,
    pub(crate) jwks: Option<String>,
    pub(crate) leeway: Duration,
    pub(crate) refetch_interval: Duration,
}

impl AuthConfig {
    /// Trusts tokens of `issuer` (compared exactly: no normalisation, a trailing `/` matters).
    ///
    /// Unless [`AuthConfig::jwks`] gives the keys, `Server::start` fetches the issuer's metadata
    /// (RFC 8414 `/.well-known/oauth-authorization-server`, then OpenID Connect
    /// `/.well-known/openid-configuration`, path-aware), checks that its `issuer` is this one,
    /// and fetches its `jwks_uri`. Plain `http` is only accepted for loopback hosts.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            resource: None,
            scopes_supported: DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            required_scopes: Vec::new(),
            tool_scopes: BTreeMap::new(),
            jwks: None,
            leeway: DEFAULT_LEEWAY,
            refetch_interval: DEFAULT_REFETCH_INTERVAL,
        }
    }

    /// The issuer whose tokens are trusted.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Sets the resource identifier tokens must name in `aud`, used as given.
    ///
    /// Default: the endpoint's canonical URL once bound, `http://127.0.0.1:PORT/mcp` (lower-case
    /// scheme and host, no trailing slash). The `resource_metadata` URL of the challenges is
    /// built from it (RFC 9728: the well-known path inserted before the resource's path).
    #[must_use]
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// Sets the `scopes_supported` of the protected resource metadata; default
    /// `["mcp:tools", "mcp:admin"]`.
    #[must_use]
    pub fn scopes_supported<S: Into<String>>(
        mut self,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a scope every request needs (default: none beyond a valid token).
    #[must_use]
    pub fn required_scope(mut self, scope: impl Into<String>) -> Self {
        push_new(&mut self.required_scopes, scope.into());
        self
    }

    /// Adds a scope that calling the tool `name` needs (on top of the required scopes).
    #[must_use]
    pub fn tool_scope(mut self, name: impl Into<String>, scope: impl Into<String>) -> Self {
        push_new(
            self.tool_scopes.entry(name.into()).or_default(),
            scope.into(),
        );
        self
    }

    /// Uses this JWKS (a JSON Web Key Set document) instead of fetching the issuer's; it is then
    /// never re-fetched. Keys other than RSA and P-256 EC signing keys with a `kid` are ignored.
    #[must_use]
    pub fn jwks(mut self, json: impl Into<String>) -> Self {
        self.jwks = Some(json.into());
        self
    }

    /// Sets how far `exp` and `nbf` may be off (clock skew); default 30 s, whole seconds.
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Sets the shortest time between two JWKS re-fetches caused by tokens with an unknown `kid`
    /// (the fetch at start does not count); default 10 s.
    #[must_use]
    pub fn jwks_refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_interval = interval;
        self
    }
}

fn push_new(scopes: &mut Vec<String>, scope: String) {
    if !scopes.contains(&scope) {
        scopes.push(scope);
    }
}
