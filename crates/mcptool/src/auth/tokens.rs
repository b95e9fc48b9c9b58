//! The token endpoint, through the `oauth2` crate on the instance's pool: the code exchange,
//! refresh and `client_credentials`, each with `resource` (RFC 8707) and the client's
//! authentication (`client_secret_basic`, `client_secret_post`, `none`, `private_key_jwt`).

use std::time::Duration;

use oauth2::basic::{BasicClient, BasicErrorResponse, BasicTokenResponse, BasicTokenType};
use oauth2::{
    AuthType, AuthorizationCode, ClientId, ClientSecret, EndpointNotSet, EndpointSet,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use serde::Serialize;

use super::discovery::Discovered;
use super::http::{PoolHttp, failure};
use super::identity::{Identity, sanitize};
use super::metadata::check_endpoint;
use super::secret::Secret;
use super::store::{StoredTokens, now_secs};
use crate::error::{AuthFailure, Error};
use crate::transport::Pool;

type TokenClient =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// One token request's context: where, as whom, for which resource.
pub(crate) struct TokenRequest<'a> {
    pub(crate) pool: &'a Pool,
    pub(crate) identity: &'a Identity,
    pub(crate) token_endpoint: &'a str,
    pub(crate) issuer: &'a str,
    pub(crate) resource: &'a str,
}

impl TokenRequest<'_> {
    fn client(&self, redirect_uri: Option<&str>) -> Result<TokenClient, Error> {
        let url = check_endpoint(self.token_endpoint, "the token endpoint")
            .map_err(|e| failure(AuthFailure::Metadata, e))?;
        let mut client = BasicClient::new(ClientId::new(self.identity.client_id.clone()))
            .set_token_uri(TokenUrl::from_url(url))
            .set_auth_type(match self.identity.auth_method.as_str() {
                "client_secret_basic" => AuthType::BasicAuth,
                _ => AuthType::RequestBody,
            });
        if let Some(secret) = self
            .identity
            .secret
            .as_ref()
            .filter(|_| self.identity.auth_method.starts_with("client_secret"))
        {
            client = client.set_client_secret(ClientSecret::new(secret.expose().to_owned()));
        }
        if let Some(uri) = redirect_uri {
            let uri = RedirectUrl::new(uri.to_owned())
                .map_err(|e| Error::config("invalid redirect URI").with_source(e))?;
            client = client.set_redirect_uri(uri);
        }
        Ok(client)
    }

    /// The `private_key_jwt` parameters, when the client authenticates with a key.
    fn assertion(&self) -> Result<Vec<(&'static str, String)>, Error> {
        let Some(key) = &self.identity.key else {
            return Ok(Vec::new());
        };
        let now = now_secs();
        let claims = Assertion {
            iss: &self.identity.client_id,
            sub: &self.identity.client_id,
            aud: self.issuer,
            jti: oauth2::CsrfToken::new_random().secret().clone(),
            iat: now,
            exp: now + 120,
        };
        let mut header = jsonwebtoken::Header::new(key.algorithm);
        header.kid.clone_from(&key.kid);
        let jwt = jsonwebtoken::encode(&header, &claims, &key.key).map_err(|e| {
            Error::config("cannot sign the client assertion with the private key").with_source(e)
        })?;
        Ok(vec![
            ("client_assertion_type", ASSERTION_TYPE.to_owned()),
            ("client_assertion", jwt),
        ])
    }

    /// Exchanges an authorization code.
    pub(crate) async fn code(
        &self,
        code: String,
        verifier: PkceCodeVerifier,
        redirect_uri: &str,
        requested: &[String],
    ) -> Result<StoredTokens, Error> {
        let client = self.client(Some(redirect_uri))?;
        let http = PoolHttp(self.pool);
        let mut request = client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(verifier)
            .add_extra_param("resource", self.resource);
        for (name, value) in self.assertion()? {
            request = request.add_extra_param(name, value);
        }
        let answer = request.request_async(&http).await;
        self.stored(answer, requested, None)
    }

    /// Refreshes with `refresh_token`; a rotated refresh token replaces it, else it is kept.
    pub(crate) async fn refresh(
        &self,
        refresh_token: &Secret,
        scopes: &[String],
    ) -> Result<StoredTokens, Error> {
        let client = self.client(None)?;
        let http = PoolHttp(self.pool);
        let token = RefreshToken::new(refresh_token.expose().to_owned());
        let mut request = client
            .exchange_refresh_token(&token)
            .add_extra_param("resource", self.resource);
        for (name, value) in self.assertion()? {
            request = request.add_extra_param(name, value);
        }
        let answer = request.request_async(&http).await;
        self.stored(answer, scopes, Some(refresh_token))
    }

    /// The `client_credentials` grant.
    pub(crate) async fn client_credentials(
        &self,
        scopes: &[String],
    ) -> Result<StoredTokens, Error> {
        let client = self.client(None)?;
        let http = PoolHttp(self.pool);
        let mut request = client
            .exchange_client_credentials()
            .add_scopes(scopes.iter().cloned().map(Scope::new))
            .add_extra_param("resource", self.resource);
        for (name, value) in self.assertion()? {
            request = request.add_extra_param(name, value);
        }
        let answer = request.request_async(&http).await;
        self.stored(answer, scopes, None)
    }

    fn stored(
        &self,
        answer: Result<BasicTokenResponse, RequestTokenError<Error, BasicErrorResponse>>,
        requested: &[String],
        previous_refresh: Option<&Secret>,
    ) -> Result<StoredTokens, Error> {
        let answer = answer.map_err(token_error)?;
        if *answer.token_type() != BasicTokenType::Bearer {
            return Err(failure(
                AuthFailure::Token,
                "the token endpoint issued a token that is not a Bearer token",
            ));
        }
        let expires_at = answer.expires_in().map(|d| {
            now_secs().saturating_add(d.min(Duration::from_secs(u32::MAX.into())).as_secs())
        });
        let scopes = match answer.scopes() {
            Some(granted) => granted.iter().map(|s| s.to_string()).collect(),
            None => requested.to_vec(),
        };
        Ok(StoredTokens {
            issuer: self.issuer.to_owned(),
            resource: self.resource.to_owned(),
            access_token: Secret::new(answer.access_token().secret().clone()),
            expires_at,
            issued_at: Some(now_secs()),
            refresh_token: answer
                .refresh_token()
                .map(|r| Secret::new(r.secret().clone()))
                .or_else(|| previous_refresh.cloned()),
            scopes,
            token_endpoint: self.token_endpoint.to_owned(),
            client_id: self.identity.client_id.clone(),
        })
    }
}

impl<'a> TokenRequest<'a> {
    /// A request to the token endpoint `found` advertises.
    pub(crate) fn at(
        pool: &'a Pool,
        identity: &'a Identity,
        found: &'a Discovered,
    ) -> Result<TokenRequest<'a>, Error> {
        let token_endpoint = found.server.token_endpoint.as_deref().ok_or_else(|| {
            failure(
                AuthFailure::Metadata,
                format!(
                    "the authorization server {} has no token endpoint",
                    found.issuer
                ),
            )
        })?;
        Ok(TokenRequest {
            pool,
            identity,
            token_endpoint,
            issuer: &found.issuer,
            resource: &found.resource,
        })
    }
}

#[derive(Serialize)]
struct Assertion<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    jti: String,
    iat: u64,
    exp: u64,
}

/// What went wrong at the token endpoint, with nothing of the answer's tokens in it.
fn token_error(err: RequestTokenError<Error, BasicErrorResponse>) -> Error {
    match err {
        RequestTokenError::ServerResponse(e) => {
            let mut text = e.error().to_string();
            if let Some(d) = e.error_description() {
                text = format!("{text}: {}", sanitize(d));
            }
            failure(
                AuthFailure::Token,
                format!("the token endpoint refused the request: {text}"),
            )
        }
        RequestTokenError::Request(e) => e,
        RequestTokenError::Parse(e, _) => failure(
            AuthFailure::Token,
            format!(
                "the token endpoint's answer is not a usable token response: {}",
                sanitize(&e.inner().to_string())
            ),
        ),
        RequestTokenError::Other(text) => failure(
            AuthFailure::Token,
            format!(
                "the token endpoint's answer is unusable: {}",
                sanitize(&text)
            ),
        ),
    }
}
