//! What the caller configures: how the client gets its tokens.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::handler::AuthorizationHandler;
use super::loopback::LoopbackBrowser;
use super::secret::Secret;
use super::store::TokenStore;
use crate::error::Error;

/// How a client authorizes with an OAuth 2.1-protected MCP server (the MCP authorization spec).
///
/// On a 401 from the server — to any request, `initialize` and `server/discover` included —
/// the client discovers the server's authorization server, gets a client identity, obtains a
/// token and repeats the request once. Tokens are refreshed before they expire and on a 401,
/// and a 403 `insufficient_scope` leads to a re-authorization with the scopes asked for (at
/// most three times per request). Everything it learns stays in the instance's
/// [`TokenStore`] unless one is lent with [`token_store`](OAuth::token_store).
///
/// ```
/// use mcptool::{LoopbackBrowser, OAuth};
/// // A person at a browser:
/// let interactive = OAuth::authorization_code(LoopbackBrowser::new());
/// // A machine client with a pre-registered secret:
/// let machine = OAuth::client_credentials("my-client").client_secret("s3cret");
/// # let _ = (interactive, machine);
/// ```
#[derive(Clone)]
pub struct OAuth {
    pub(crate) grant: Grant,
    pub(crate) handler: Option<Arc<dyn AuthorizationHandler>>,
    pub(crate) store: Option<Arc<dyn TokenStore>>,
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<Secret>,
    pub(crate) client_issuer: Option<String>,
    pub(crate) client_metadata_url: Option<String>,
    pub(crate) client_name: String,
    pub(crate) scopes: Option<Vec<String>>,
    pub(crate) private_key: Option<PrivateKey>,
    pub(crate) refresh_margin: Duration,
}

/// Which grant obtains the tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Grant {
    AuthorizationCode,
    ClientCredentials,
}

impl fmt::Debug for OAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth")
            .field("grant", &self.grant)
            .field("handler", &self.handler)
            .field("store", &self.store)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("client_issuer", &self.client_issuer)
            .field("client_metadata_url", &self.client_metadata_url)
            .field("scopes", &self.scopes)
            .field("private_key", &self.private_key)
            .finish_non_exhaustive()
    }
}

impl OAuth {
    fn new(grant: Grant) -> OAuth {
        OAuth {
            grant,
            handler: None,
            store: None,
            client_id: None,
            client_secret: None,
            client_issuer: None,
            client_metadata_url: None,
            client_name: "mcptool".to_owned(),
            scopes: None,
            private_key: None,
            refresh_margin: Duration::from_secs(60),
        }
    }

    /// The authorization code grant with PKCE, for a person: `handler` takes them to the
    /// authorization server and back ([`LoopbackBrowser`] opens their browser).
    pub fn authorization_code(handler: impl AuthorizationHandler + 'static) -> OAuth {
        OAuth::authorization_code_with(Arc::new(handler))
    }

    /// [`authorization_code`](OAuth::authorization_code) with a shared handler.
    pub fn authorization_code_with(handler: Arc<dyn AuthorizationHandler>) -> OAuth {
        let mut oauth = OAuth::new(Grant::AuthorizationCode);
        oauth.handler = Some(handler);
        oauth
    }

    /// The authorization code grant in the user's browser, with a loopback redirect.
    pub fn browser() -> OAuth {
        OAuth::authorization_code(LoopbackBrowser::new())
    }

    /// The `client_credentials` grant, for a machine client registered with the authorization
    /// server as `client_id`; give it a [`client_secret`](OAuth::client_secret) or a
    /// [`private_key`](OAuth::private_key).
    pub fn client_credentials(client_id: impl Into<String>) -> OAuth {
        let mut oauth = OAuth::new(Grant::ClientCredentials);
        oauth.client_id = Some(client_id.into());
        oauth
    }

    /// A pre-registered client id (used before any other way of getting one).
    pub fn client_id(mut self, client_id: impl Into<String>) -> OAuth {
        self.client_id = Some(client_id.into());
        self
    }

    /// The pre-registered client's secret.
    pub fn client_secret(mut self, secret: impl Into<String>) -> OAuth {
        self.client_secret = Some(Secret::new(secret.into()));
        self
    }

    /// The issuer the pre-registered client belongs to: its credentials are never sent to
    /// another authorization server. Without it, they are bound to the first issuer met.
    pub fn client_issuer(mut self, issuer: impl Into<String>) -> OAuth {
        self.client_issuer = Some(issuer.into());
        self
    }

    /// An `https` URL of a client ID metadata document to use as the client id with
    /// authorization servers that support them (before dynamic registration).
    pub fn client_metadata_url(mut self, url: impl Into<String>) -> OAuth {
        self.client_metadata_url = Some(url.into());
        self
    }

    /// The `client_name` sent in dynamic registration (default `mcptool`).
    pub fn client_name(mut self, name: impl Into<String>) -> OAuth {
        self.client_name = name.into();
        self
    }

    /// The scopes to ask for, instead of the server's challenge or its `scopes_supported`.
    pub fn scopes<I, S>(mut self, scopes: I) -> OAuth
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Authenticates to the token endpoint with a signed JWT (`private_key_jwt`, RFC 7523)
    /// instead of a secret.
    pub fn private_key(mut self, key: PrivateKey) -> OAuth {
        self.private_key = Some(key);
        self
    }

    /// Where tokens and registrations are kept (default: a store of this instance's own).
    /// Instances given the same store share its tokens.
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> OAuth {
        self.store = Some(store);
        self
    }

    /// How long before its expiry an access token is refreshed (default 60 s).
    pub fn refresh_margin(mut self, margin: Duration) -> OAuth {
        self.refresh_margin = margin;
        self
    }
}

/// A private key for `private_key_jwt` client authentication: ES256 (P-256) or RS256.
#[derive(Clone)]
pub struct PrivateKey {
    pub(crate) algorithm: jsonwebtoken::Algorithm,
    pub(crate) key: Arc<jsonwebtoken::EncodingKey>,
    pub(crate) kid: Option<String>,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// A key from PEM: a P-256 key signs ES256, an RSA key RS256 (PKCS#8, SEC1 or PKCS#1).
    pub fn from_pem(pem: &[u8]) -> Result<PrivateKey, Error> {
        let text = String::from_utf8_lossy(pem);
        let (algorithm, key) = if text.contains("EC PRIVATE KEY") {
            (
                jsonwebtoken::Algorithm::ES256,
                jsonwebtoken::EncodingKey::from_ec_pem(pem),
            )
        } else if text.contains("RSA PRIVATE KEY") {
            (
                jsonwebtoken::Algorithm::RS256,
                jsonwebtoken::EncodingKey::from_rsa_pem(pem),
            )
        } else {
            match jsonwebtoken::EncodingKey::from_ec_pem(pem) {
                Ok(key) => (jsonwebtoken::Algorithm::ES256, Ok(key)),
                Err(_) => (
                    jsonwebtoken::Algorithm::RS256,
                    jsonwebtoken::EncodingKey::from_rsa_pem(pem),
                ),
            }
        };
        let key = key.map_err(|e| {
            Error::config("the private key is not a P-256 or RSA key in PEM").with_source(e)
        })?;
        Ok(PrivateKey {
            algorithm,
            key: Arc::new(key),
            kid: None,
        })
    }

    /// The key id (`kid`) to name in the assertion's header.
    pub fn kid(mut self, kid: impl Into<String>) -> PrivateKey {
        self.kid = Some(kid.into());
        self
    }

    /// The JWS algorithm the key signs with (`ES256` or `RS256`).
    pub fn algorithm(&self) -> &'static str {
        match self.algorithm {
            jsonwebtoken::Algorithm::ES256 => "ES256",
            _ => "RS256",
        }
    }
}
