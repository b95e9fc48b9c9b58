//! The authorization code flow: the authorization URL (PKCE S256, `state`, `resource`,
//! scopes), the user's trip through the handler, the redirect checked (RFC 9207 `iss` first,
//! then `state`, then `error`), and the code exchanged.

use oauth2::{CsrfToken, PkceCodeChallenge};
use reqwest::Url;

use super::discovery::Discovered;
use super::handler::AuthorizationHandler;
use super::http::failure;
use super::identity::{Identity, sanitize};
use super::metadata::check_endpoint;
use super::store::StoredTokens;
use super::tokens::TokenRequest;
use crate::client::Answering;
use crate::error::{AuthFailure, Error};
use crate::transport::Pool;

/// Everything one authorization needs.
pub(crate) struct CodeFlow<'a> {
    pub(crate) pool: &'a Pool,
    pub(crate) handler: &'a dyn AuthorizationHandler,
    pub(crate) found: &'a Discovered,
    pub(crate) identity: &'a Identity,
    pub(crate) redirect_uri: &'a str,
    pub(crate) scopes: &'a [String],
    pub(crate) answering: &'a Answering,
}

impl CodeFlow<'_> {
    /// Runs the flow to its tokens.
    pub(crate) async fn run(&self) -> Result<StoredTokens, Error> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = CsrfToken::new_random();
        let url = self.authorization_url(&challenge, state.secret())?;
        let redirect = {
            // The user's time is not the server's: requests waiting on it are not timed out.
            let _user = self.answering.enter();
            self.handler.authorize(url.as_str()).await.map_err(|e| {
                failure(
                    AuthFailure::Denied,
                    format!("the authorization handler failed: {}", sanitize(&e)),
                )
            })?
        };
        let code = self.code_of(&redirect, state.secret())?;
        TokenRequest::at(self.pool, self.identity, self.found)?
            .code(code, verifier, self.redirect_uri, self.scopes)
            .await
    }

    fn authorization_url(&self, challenge: &PkceCodeChallenge, state: &str) -> Result<Url, Error> {
        let endpoint = self
            .found
            .server
            .authorization_endpoint
            .as_deref()
            .ok_or_else(|| {
                failure(
                    AuthFailure::Metadata,
                    format!(
                        "the authorization server {} has no authorization endpoint",
                        self.found.issuer
                    ),
                )
            })?;
        let mut url = check_endpoint(endpoint, "the authorization endpoint")
            .map_err(|e| failure(AuthFailure::Metadata, e))?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.identity.client_id)
                .append_pair("redirect_uri", self.redirect_uri)
                .append_pair("state", state)
                .append_pair("code_challenge", challenge.as_str())
                .append_pair("code_challenge_method", challenge.method().as_str())
                .append_pair("resource", &self.found.resource);
            if !self.scopes.is_empty() {
                query.append_pair("scope", &self.scopes.join(" "));
            }
        }
        Ok(url)
    }

    /// The code of the redirect, once it is shown to answer our request.
    fn code_of(&self, redirect: &str, state: &str) -> Result<String, Error> {
        let redirect = Url::parse(redirect).map_err(|_| {
            failure(
                AuthFailure::Redirect,
                "the redirect URL the handler returned is not a URL",
            )
        })?;
        let param = |name: &str| {
            redirect
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        // RFC 9207: the issuer first — a mismatch means the answer may be an attacker's, so
        // even its error fields are not believed.
        match param("iss") {
            Some(iss) if iss != self.found.issuer => {
                return Err(failure(
                    AuthFailure::Redirect,
                    format!(
                        "the redirect names the issuer {:?}, not {}: refused (RFC 9207)",
                        sanitize(&iss),
                        self.found.issuer
                    ),
                ));
            }
            None if self
                .found
                .server
                .authorization_response_iss_parameter_supported =>
            {
                return Err(failure(
                    AuthFailure::Redirect,
                    "the redirect lacks the iss parameter its authorization server promises: \
                     refused (RFC 9207)",
                ));
            }
            _ => {}
        }
        if param("state").as_deref() != Some(state) {
            return Err(failure(
                AuthFailure::Redirect,
                "the redirect's state does not match the request's: refused",
            ));
        }
        if let Some(error) = param("error") {
            let description = param("error_description")
                .map(|d| format!(": {}", sanitize(&d)))
                .unwrap_or_default();
            return Err(failure(
                AuthFailure::Denied,
                format!(
                    "the authorization server refused: {}{description}",
                    sanitize(&error)
                ),
            ));
        }
        param("code").filter(|c| !c.is_empty()).ok_or_else(|| {
            failure(
                AuthFailure::Redirect,
                "the redirect carries no authorization code",
            )
        })
    }
}
