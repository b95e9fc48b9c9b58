//! The authorization layer of one client: the bearer token on every request to the MCP
//! endpoint, and on a 401 or a 403 `insufficient_scope` the refresh, discovery or flow that
//! gets a better one. One flow at a time per instance; concurrent requests wait for it and
//! then use its token.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http::StatusCode;
use http::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::Url;

use super::challenge::{BearerChallenge, bearer_challenge};
use super::config::{Grant, OAuth};
use super::discovery::{Discovered, discover};
use super::flow::CodeFlow;
use super::http::failure;
use super::identity::{Identity, identity};
use super::metadata::canonical_resource;
use super::store::{MemoryTokenStore, StoredTokens, TokenStore};
use super::tokens::TokenRequest;
use crate::client::Answering;
use crate::error::{AuthFailure, Error};
use crate::transport::Pool;

/// How many times one request may re-authorize for more scope.
const MAX_STEP_UPS: u8 = 3;
/// How many 401s one request may recover from (a refresh, then a new authorization).
const MAX_UNAUTHORIZED: u8 = 2;

/// What one request has spent of its recoveries.
#[derive(Debug, Default)]
pub(crate) struct Attempts {
    unauthorized: u8,
    step_ups: u8,
}

/// The tokens in use, and what was last discovered.
#[derive(Default)]
pub(super) struct Current {
    loaded: bool,
    pub(super) tokens: Option<StoredTokens>,
    pub(super) header: Option<HeaderValue>,
    pub(super) found: Option<Discovered>,
    pub(super) requested: Vec<String>,
    /// The first authorization server met: a pre-registered client's credentials go there only.
    first_issuer: Option<String>,
}

/// The authorization state of one client.
pub(crate) struct Authorizer {
    pub(super) config: OAuth,
    pub(super) store: Arc<dyn TokenStore>,
    mcp: Url,
    current: Mutex<Current>,
    flow: tokio::sync::Mutex<()>,
    answering: Arc<Answering>,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer")
            .field("config", &self.config)
            .field("mcp", &self.mcp.as_str())
            .finish_non_exhaustive()
    }
}

impl Authorizer {
    pub(crate) fn new(config: OAuth, mcp: &Url, answering: Arc<Answering>) -> Authorizer {
        let store = config
            .store
            .clone()
            .unwrap_or_else(|| Arc::new(MemoryTokenStore::new()));
        Authorizer {
            config,
            store,
            mcp: mcp.clone(),
            current: Mutex::new(Current::default()),
            flow: tokio::sync::Mutex::new(()),
            answering,
        }
    }

    pub(super) fn current(&self) -> MutexGuard<'_, Current> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds the bearer token to a request's headers (refreshing it first when it is about to
    /// expire); returns the header sent, for [`Authorizer::recover`].
    pub(crate) async fn apply(
        &self,
        pool: &Pool,
        headers: &mut HeaderMap,
    ) -> Result<Option<HeaderValue>, Error> {
        if !self.current().loaded || self.expiring() {
            // Boxed: loading and refreshing are rare, and their futures large.
            Box::pin(self.prepare(pool)).await?;
        }
        let header = self.current().header.clone();
        match &header {
            Some(value) => headers.insert(AUTHORIZATION, value.clone()),
            None => headers.remove(AUTHORIZATION),
        };
        Ok(header)
    }

    /// Loads the kept tokens (once), and refreshes them when they are about to expire.
    async fn prepare(&self, pool: &Pool) -> Result<(), Error> {
        if !self.current().loaded {
            self.load().await?;
        }
        if self.expiring() {
            let _flow = self.flow.lock().await;
            if self.expiring()
                && let Err(e) = self.refresh(pool).await
            {
                tracing::debug!(error = %e, "refresh before expiry failed");
            }
        }
        Ok(())
    }

    /// Loads kept tokens for the endpoint, once.
    async fn load(&self) -> Result<(), Error> {
        let _flow = self.flow.lock().await;
        if self.current().loaded {
            return Ok(());
        }
        // A store that cannot be read fails only the requests that need it (a 401 and what
        // follows): a server that asks for nothing is reached anyway.
        let kept = match self.store.tokens(&canonical_resource(&self.mcp)).await {
            Ok(kept) => kept,
            Err(e) => {
                tracing::debug!(error = %e, "the token store could not be read");
                None
            }
        };
        let mut current = self.current();
        current.loaded = true;
        if let Some(tokens) = kept {
            install(&mut current, tokens)?;
        }
        Ok(())
    }

    fn expiring(&self) -> bool {
        let current = self.current();
        current.tokens.as_ref().is_some_and(|t| {
            t.refresh_token.is_some() && t.expires_within(t.margin(self.config.refresh_margin))
        })
    }

    /// After a 401 or a 403 `insufficient_scope` to a request that carried `sent`: gets a
    /// token worth trying the request again with, or says why there is none.
    pub(crate) async fn recover(
        &self,
        pool: &Pool,
        status: StatusCode,
        www_authenticate: &[HeaderValue],
        sent: Option<&HeaderValue>,
        attempts: &mut Attempts,
    ) -> Result<(), Error> {
        let challenge = bearer_challenge(www_authenticate).unwrap_or_else(|reason| {
            tracing::debug!(%reason, "unusable WWW-Authenticate; discovering without it");
            None
        });
        let _flow = self.flow.lock().await;
        let now = self.current().header.clone();
        if now.is_some() && now.as_ref() != sent {
            // Another request got a new token while this one waited: try it.
            return Ok(());
        }
        if status == StatusCode::FORBIDDEN {
            attempts.step_ups += 1;
            if attempts.step_ups > MAX_STEP_UPS {
                return Err(refused(format!(
                    "the server still wants more scope ({}) after {MAX_STEP_UPS} \
                     re-authorizations",
                    challenge
                        .as_ref()
                        .and_then(|c| c.scope.clone())
                        .unwrap_or_default()
                )));
            }
            let scopes = self.step_up_scopes(challenge.as_ref());
            return self
                .obtain(pool, challenge.as_ref(), Some(scopes), sent)
                .await;
        }
        attempts.unauthorized += 1;
        if attempts.unauthorized > MAX_UNAUTHORIZED {
            return Err(refused(
                "the server refused the token it was just given (401 again)".to_owned(),
            ));
        }
        if attempts.unauthorized == 1 && sent.is_some() && self.refresh(pool).await.is_ok() {
            return Ok(());
        }
        self.obtain(pool, challenge.as_ref(), None, sent).await
    }

    /// Discovers, then uses kept tokens if they are good (unless `scopes` asks for a new
    /// authorization), else runs the configured grant.
    async fn obtain(
        &self,
        pool: &Pool,
        challenge: Option<&BearerChallenge>,
        scopes: Option<Vec<String>>,
        sent: Option<&HeaderValue>,
    ) -> Result<(), Error> {
        let found = discover(pool, &self.mcp, challenge).await?;
        self.forget_other_issuer(&found).await?;
        self.current().found = Some(found.clone());
        if scopes.is_none() && self.reuse_kept(pool, &found, sent).await? {
            return Ok(());
        }
        let scopes = scopes.unwrap_or_else(|| self.select_scopes(challenge, &found));
        let tokens = match self.config.grant {
            Grant::ClientCredentials => {
                let first = self.bind_issuer(&found);
                let identity = identity(
                    pool,
                    &self.config,
                    &*self.store,
                    &found,
                    None,
                    first.as_deref(),
                )
                .await?;
                machine_identity(&identity)?;
                TokenRequest::at(pool, &identity, &found)?
                    .client_credentials(&scopes)
                    .await?
            }
            Grant::AuthorizationCode => self.authorize(pool, &found, &scopes).await?,
        };
        self.current().requested = scopes;
        self.keep(tokens).await
    }

    async fn authorize(
        &self,
        pool: &Pool,
        found: &Discovered,
        scopes: &[String],
    ) -> Result<StoredTokens, Error> {
        let handler = self.config.handler.as_deref().ok_or_else(|| {
            failure(
                AuthFailure::Required,
                "no authorization handler is configured",
            )
        })?;
        let redirect_uri = handler.redirect_uri().await.map_err(|e| {
            failure(
                AuthFailure::Denied,
                format!("the authorization handler failed: {e}"),
            )
        })?;
        let first = self.bind_issuer(found);
        let identity = identity(
            pool,
            &self.config,
            &*self.store,
            found,
            Some(&redirect_uri),
            first.as_deref(),
        )
        .await?;
        CodeFlow {
            pool,
            handler,
            found,
            identity: &identity,
            redirect_uri: &redirect_uri,
            scopes,
            answering: &self.answering,
        }
        .run()
        .await
    }

    /// The issuer a pre-registered client is bound to: the first one this instance met.
    fn bind_issuer(&self, found: &Discovered) -> Option<String> {
        let mut current = self.current();
        Some(
            current
                .first_issuer
                .get_or_insert_with(|| found.issuer.clone())
                .clone(),
        )
    }

    /// Kept tokens of `found`'s resource, other than the one the server just refused: used
    /// as they are, or refreshed. Whether that worked.
    async fn reuse_kept(
        &self,
        pool: &Pool,
        found: &Discovered,
        sent: Option<&HeaderValue>,
    ) -> Result<bool, Error> {
        let kept = self
            .store
            .tokens(&found.resource)
            .await
            .map_err(|e| store_error(&e))?;
        let Some(kept) = kept.filter(|t| t.issuer == found.issuer) else {
            return Ok(false);
        };
        let refused = sent.is_some_and(|s| bearer(&kept).is_ok_and(|h| h == s));
        if !refused && !kept.expires_within(kept.margin(self.config.refresh_margin)) {
            install(&mut self.current(), kept)?;
            return Ok(true);
        }
        install(&mut self.current(), kept)?;
        Ok(self.refresh(pool).await.is_ok())
    }

    /// Tokens issued by another authorization server than `found`'s are forgotten.
    async fn forget_other_issuer(&self, found: &Discovered) -> Result<(), Error> {
        let stale = {
            let mut current = self.current();
            match &current.tokens {
                Some(t) if t.issuer != found.issuer => {
                    let resource = t.resource.clone();
                    current.tokens = None;
                    current.header = None;
                    Some(resource)
                }
                _ => None,
            }
        };
        if let Some(resource) = stale {
            tracing::debug!(issuer = %found.issuer, "the authorization server changed");
            self.store
                .remove_tokens(&resource)
                .await
                .map_err(|e| store_error(&e))?;
        }
        Ok(())
    }
}

/// Makes `tokens` the ones sent.
pub(super) fn install(current: &mut Current, tokens: StoredTokens) -> Result<(), Error> {
    current.header = Some(bearer(&tokens)?);
    current.tokens = Some(tokens);
    Ok(())
}

/// The `Authorization` header of `tokens`, marked sensitive (never logged).
fn bearer(tokens: &StoredTokens) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", tokens.access_token.expose()))
        .map_err(|_| {
            failure(
                AuthFailure::Token,
                "the access token has characters a header cannot carry; refused",
            )
        })?;
    value.set_sensitive(true);
    Ok(value)
}

fn machine_identity(identity: &Identity) -> Result<(), Error> {
    if identity.secret.is_none() && identity.key.is_none() {
        return Err(failure(
            AuthFailure::Registration,
            format!(
                "the machine client {:?} has neither a client secret nor a private key",
                identity.client_id
            ),
        ));
    }
    Ok(())
}

pub(super) fn refused(message: String) -> Error {
    failure(AuthFailure::Refused, message)
}

pub(super) fn store_error(e: &str) -> Error {
    failure(AuthFailure::Store, format!("the token store failed: {e}"))
}
