//! Refreshing an access token (RFC 6749 §6, with `resource`), authenticated as the client the
//! tokens were issued to; a rotated refresh token replaces the old one.

use super::discovery::Discovered;
use super::identity::Identity;
use super::layer::{Authorizer, install, refused, store_error};
use super::store::StoredTokens;
use super::tokens::TokenRequest;
use crate::error::Error;
use crate::transport::Pool;

impl Authorizer {
    /// Refreshes the current tokens; on refusal they are forgotten.
    pub(super) async fn refresh(&self, pool: &Pool) -> Result<(), Error> {
        let (tokens, found) = {
            let current = self.current();
            (current.tokens.clone(), current.found.clone())
        };
        let Some(tokens) = tokens else {
            return Err(refused("no tokens to refresh".to_owned()));
        };
        let Some(refresh_token) = tokens.refresh_token.clone() else {
            return Err(refused("no refresh token was issued".to_owned()));
        };
        let identity = self.refresh_identity(&tokens, found.as_ref()).await?;
        let request = TokenRequest {
            pool,
            identity: &identity,
            token_endpoint: &tokens.token_endpoint,
            issuer: &tokens.issuer,
            resource: &tokens.resource,
        };
        match request.refresh(&refresh_token, &tokens.scopes).await {
            Ok(fresh) => self.keep(fresh).await,
            Err(e) => {
                tracing::debug!(error = %e, "refresh refused; the tokens are forgotten");
                {
                    let mut current = self.current();
                    current.tokens = None;
                    current.header = None;
                }
                self.store
                    .remove_tokens(&tokens.resource)
                    .await
                    .map_err(|e| store_error(&e))?;
                Err(e)
            }
        }
    }

    /// Who the tokens were issued to, to authenticate the refresh as them.
    async fn refresh_identity(
        &self,
        tokens: &StoredTokens,
        found: Option<&Discovered>,
    ) -> Result<Identity, Error> {
        let advertised = |registered: Option<&str>, has_secret: bool| match found {
            Some(f) => f
                .server
                .token_auth_method(registered, has_secret)
                .to_owned(),
            None => registered.map(str::to_owned).unwrap_or_else(|| {
                if has_secret {
                    "client_secret_basic"
                } else {
                    "none"
                }
                .to_owned()
            }),
        };
        if self.config.client_id.as_deref() == Some(tokens.client_id.as_str()) {
            let method = match &self.config.private_key {
                Some(_) => "private_key_jwt".to_owned(),
                None => advertised(None, self.config.client_secret.is_some()),
            };
            return Ok(Identity {
                client_id: tokens.client_id.clone(),
                secret: self.config.client_secret.clone(),
                key: self.config.private_key.clone(),
                auth_method: method,
            });
        }
        let registered = self
            .store
            .client(&tokens.issuer)
            .await
            .map_err(|e| store_error(&e))?;
        let registered = registered.filter(|c| c.client_id == tokens.client_id);
        let (secret, method) = match &registered {
            Some(c) => (
                c.client_secret.clone(),
                advertised(
                    c.token_endpoint_auth_method.as_deref(),
                    c.client_secret.is_some(),
                ),
            ),
            None => (None, "none".to_owned()),
        };
        Ok(Identity {
            client_id: tokens.client_id.clone(),
            secret,
            key: None,
            auth_method: method,
        })
    }

    /// Puts new tokens in use and in the store.
    pub(super) async fn keep(&self, tokens: StoredTokens) -> Result<(), Error> {
        install(&mut self.current(), tokens.clone())?;
        self.store
            .save_tokens(tokens)
            .await
            .map_err(|e| store_error(&e))
    }
}
