//! Where authorization state lives: tokens per protected resource, client registrations per
//! authorization server. Per instance unless the caller lends a store.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::secret::Secret;

/// The future a [`TokenStore`] method returns; an error is a message saying what failed.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send + 'a>>;

/// The tokens one authorization server issued for one protected resource (an MCP endpoint).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoredTokens {
    /// The issuer of the authorization server that issued them.
    pub issuer: String,
    /// The canonical URL of the MCP endpoint they are for (RFC 8707 `resource`).
    pub resource: String,
    /// The access token, sent as `Authorization: Bearer` to `resource` only.
    pub access_token: Secret,
    /// When the access token expires, in seconds since the Unix epoch, if the server said.
    #[serde(default)]
    pub expires_at: Option<u64>,
    /// The refresh token, if one was issued (the newest, when the server rotates them).
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    /// The scopes granted (or, when the server did not say, requested).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// When the access token was issued, in seconds since the Unix epoch.
    #[serde(default)]
    pub issued_at: Option<u64>,
    /// The token endpoint, to refresh without discovering again.
    pub token_endpoint: String,
    /// The client the tokens were issued to.
    pub client_id: String,
}

impl StoredTokens {
    /// The refresh margin for this token: `margin`, but at most half its lifetime, so that a
    /// short-lived token is not refreshed at every request.
    pub(crate) fn margin(&self, margin: Duration) -> Duration {
        match (self.issued_at, self.expires_at) {
            (Some(issued), Some(expires)) => {
                margin.min(Duration::from_secs(expires.saturating_sub(issued) / 2))
            }
            _ => margin,
        }
    }

    /// Whether the access token expires within `margin` from now (or already has).
    pub fn expires_within(&self, margin: Duration) -> bool {
        self.expires_at
            .is_some_and(|at| at <= now_secs().saturating_add(margin.as_secs()))
    }
}

/// A client identity obtained from an authorization server by dynamic registration (RFC 7591),
/// kept for that server only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientRegistration {
    /// The issuer of the authorization server the client is registered with.
    pub issuer: String,
    /// The client id it assigned.
    pub client_id: String,
    /// The client secret, for a confidential registration.
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// The token endpoint authentication method registered (`none`, `client_secret_basic`...).
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    /// The redirect URIs registered.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// When the client secret expires (seconds since the Unix epoch; 0 or absent: never).
    #[serde(default)]
    pub client_secret_expires_at: Option<u64>,
}

impl ClientRegistration {
    /// Whether the registration can still be used with `redirect_uri`.
    pub(crate) fn usable_with(&self, redirect_uri: Option<&str>) -> bool {
        let secret_live = self
            .client_secret_expires_at
            .is_none_or(|at| at == 0 || at > now_secs());
        let redirect_ok = redirect_uri.is_none_or(|r| self.redirect_uris.iter().any(|u| u == r));
        secret_live && redirect_ok
    }
}

/// Keeps tokens and client registrations.
///
/// Each client (and tool) has its own in-memory store unless one is lent through
/// [`OAuth::token_store`](crate::OAuth::token_store): then every instance given the same store
/// shares what it holds — a service that should not make each request log in lends one; the CLI
/// lends a file store. Tokens are kept per resource (one entry per resource, which records its
/// issuer), registrations per issuer.
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The tokens kept for `resource`, if any.
    fn tokens<'a>(&'a self, resource: &'a str) -> StoreFuture<'a, Option<StoredTokens>>;
    /// Keeps `tokens`, replacing what was kept for their resource.
    fn save_tokens(&self, tokens: StoredTokens) -> StoreFuture<'_, ()>;
    /// Forgets the tokens of `resource`.
    fn remove_tokens<'a>(&'a self, resource: &'a str) -> StoreFuture<'a, ()>;
    /// The client registration kept for the authorization server `issuer`, if any.
    fn client<'a>(&'a self, issuer: &'a str) -> StoreFuture<'a, Option<ClientRegistration>>;
    /// Keeps `client`, replacing what was kept for its issuer.
    fn save_client(&self, client: ClientRegistration) -> StoreFuture<'_, ()>;
}

/// A [`TokenStore`] in memory: the default, one per client instance.
#[derive(Default)]
pub struct MemoryTokenStore {
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    tokens: HashMap<String, StoredTokens>,
    clients: HashMap<String, ClientRegistration>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> MemoryTokenStore {
        MemoryTokenStore::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Entries) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (tokens, clients) = self.with(|e| (e.tokens.len(), e.clients.len()));
        f.debug_struct("MemoryTokenStore")
            .field("tokens", &tokens)
            .field("clients", &clients)
            .finish()
    }
}

impl TokenStore for MemoryTokenStore {
    fn tokens<'a>(&'a self, resource: &'a str) -> StoreFuture<'a, Option<StoredTokens>> {
        let found = self.with(|e| e.tokens.get(resource).cloned());
        Box::pin(async move { Ok(found) })
    }

    fn save_tokens(&self, tokens: StoredTokens) -> StoreFuture<'_, ()> {
        self.with(|e| e.tokens.insert(tokens.resource.clone(), tokens));
        Box::pin(async { Ok(()) })
    }

    fn remove_tokens<'a>(&'a self, resource: &'a str) -> StoreFuture<'a, ()> {
        self.with(|e| e.tokens.remove(resource));
        Box::pin(async { Ok(()) })
    }

    fn client<'a>(&'a self, issuer: &'a str) -> StoreFuture<'a, Option<ClientRegistration>> {
        let found = self.with(|e| e.clients.get(issuer).cloned());
        Box::pin(async move { Ok(found) })
    }

    fn save_client(&self, client: ClientRegistration) -> StoreFuture<'_, ()> {
        self.with(|e| e.clients.insert(client.issuer.clone(), client));
        Box::pin(async { Ok(()) })
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
