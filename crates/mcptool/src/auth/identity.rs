//! Who the client is to an authorization server, in the spec's order: pre-registered
//! credentials, a client ID metadata document, a registration kept from before, dynamic
//! registration (RFC 7591); else an error saying what to configure.

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, Method};
use serde::Deserialize;
use serde_json::json;

use super::config::{OAuth, PrivateKey};
use super::discovery::Discovered;
use super::http::{failure, send};
use super::metadata::check_endpoint;
use super::secret::Secret;
use super::store::{ClientRegistration, TokenStore};
use crate::error::{AuthFailure, Error};
use crate::transport::Pool;

/// The client's identity at one authorization server, and how it authenticates there.
#[derive(Clone, Debug)]
pub(crate) struct Identity {
    pub(crate) client_id: String,
    pub(crate) secret: Option<Secret>,
    pub(crate) key: Option<PrivateKey>,
    /// `none`, `client_secret_basic`, `client_secret_post` or `private_key_jwt`.
    pub(crate) auth_method: String,
}

/// The identity to use with the authorization server `found`, registering if need be. A
/// pre-registered client is bound to its configured issuer, else to `first_issuer`, the
/// first this instance met.
pub(crate) async fn identity(
    pool: &Pool,
    config: &OAuth,
    store: &dyn TokenStore,
    found: &Discovered,
    redirect_uri: Option<&str>,
    first_issuer: Option<&str>,
) -> Result<Identity, Error> {
    if let Some(identity) = pre_registered(config, found, first_issuer)? {
        return Ok(identity);
    }
    if let Some(url) = &config.client_metadata_url
        && found.server.client_id_metadata_document_supported
    {
        check_metadata_url(url)?;
        return Ok(Identity {
            client_id: url.clone(),
            secret: None,
            key: None,
            auth_method: "none".to_owned(),
        });
    }
    let kept = store
        .client(&found.issuer)
        .await
        .map_err(|e| failure(AuthFailure::Store, format!("the token store failed: {e}")))?;
    let registration =
        match kept.filter(|c| c.issuer == found.issuer && c.usable_with(redirect_uri)) {
            Some(kept) => kept,
            None => {
                let registered = register(pool, config, found, redirect_uri).await?;
                store.save_client(registered.clone()).await.map_err(|e| {
                    failure(AuthFailure::Store, format!("the token store failed: {e}"))
                })?;
                registered
            }
        };
    let has_secret = registration.client_secret.is_some();
    let auth_method = found
        .server
        .token_auth_method(
            registration.token_endpoint_auth_method.as_deref(),
            has_secret,
        )
        .to_owned();
    Ok(Identity {
        client_id: registration.client_id,
        secret: registration.client_secret,
        key: None,
        auth_method,
    })
}

/// A client ID metadata document URL must be https with a path (client-registration.mdx).
fn check_metadata_url(url: &str) -> Result<(), Error> {
    let ok = reqwest::Url::parse(url)
        .is_ok_and(|u| u.scheme() == "https" && u.path() != "/" && !u.path().is_empty());
    if ok {
        return Ok(());
    }
    Err(failure(
        AuthFailure::Registration,
        "the client metadata URL must be an https URL with a path (e.g.          https://app.example/client.json); it is not sent",
    ))
}

/// The configured client, if any, checked against the issuer it is bound to.
fn pre_registered(
    config: &OAuth,
    found: &Discovered,
    first_issuer: Option<&str>,
) -> Result<Option<Identity>, Error> {
    let Some(client_id) = &config.client_id else {
        return Ok(None);
    };
    if let Some(bound) = config.client_issuer.as_deref().or(first_issuer)
        && bound != found.issuer
    {
        return Err(failure(
            AuthFailure::Registration,
            format!(
                "the pre-registered client {client_id:?} belongs to {bound}, but the server now \
                 uses the authorization server {}; its credentials are not sent there — \
                 configure a client for the new one",
                found.issuer
            ),
        ));
    }
    let auth_method = if config.private_key.is_some() {
        "private_key_jwt".to_owned()
    } else {
        found
            .server
            .token_auth_method(None, config.client_secret.is_some())
            .to_owned()
    };
    Ok(Some(Identity {
        client_id: client_id.clone(),
        secret: config.client_secret.clone(),
        key: config.private_key.clone(),
        auth_method,
    }))
}

/// What a registration endpoint answers (RFC 7591 §3.2.1).
#[derive(Deserialize)]
struct Registered {
    client_id: String,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    client_secret_expires_at: Option<u64>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    redirect_uris: Option<Vec<String>>,
}

/// Dynamic client registration as a public native client (or web, for a redirect that is
/// not on loopback).
async fn register(
    pool: &Pool,
    config: &OAuth,
    found: &Discovered,
    redirect_uri: Option<&str>,
) -> Result<ClientRegistration, Error> {
    let Some(endpoint) = &found.server.registration_endpoint else {
        return Err(failure(
            AuthFailure::Registration,
            format!(
                "the authorization server {} has no registration endpoint and takes no client ID \
                 metadata document: configure a pre-registered client (OAuth::client_id, \
                 mcptool --client-id) or a client metadata URL",
                found.issuer
            ),
        ));
    };
    let url = check_endpoint(endpoint, "the registration endpoint")
        .map_err(|e| failure(AuthFailure::Metadata, e))?;
    let redirect_uris: Vec<&str> = redirect_uri.into_iter().collect();
    let native = redirect_uri.is_none_or(is_loopback_redirect);
    let body = json!({
        "client_name": config.client_name,
        "redirect_uris": redirect_uris,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "application_type": if native { "native" } else { "web" },
    });
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    let body = Bytes::from(body.to_string());
    let (status, _, answer) = send(
        pool,
        Method::POST,
        &url,
        headers,
        body,
        ("the registration endpoint", AuthFailure::Registration),
    )
    .await?;
    if !status.is_success() {
        return Err(failure(
            AuthFailure::Registration,
            format!(
                "the authorization server {} refused the registration (HTTP {status}): {}",
                found.issuer,
                oauth_error_text(&answer)
            ),
        ));
    }
    let registered: Registered = serde_json::from_slice(&answer).map_err(|e| {
        failure(
            AuthFailure::Registration,
            format!(
                "the registration answer of {} is malformed: {e}",
                found.issuer
            ),
        )
    })?;
    Ok(ClientRegistration {
        issuer: found.issuer.clone(),
        client_id: registered.client_id,
        client_secret: registered.client_secret.map(Secret::new),
        token_endpoint_auth_method: registered.token_endpoint_auth_method,
        redirect_uris: registered
            .redirect_uris
            .unwrap_or_else(|| redirect_uris.iter().map(|s| (*s).to_owned()).collect()),
        client_secret_expires_at: registered.client_secret_expires_at,
    })
}

fn is_loopback_redirect(uri: &str) -> bool {
    reqwest::Url::parse(uri).is_ok_and(|u| {
        u.scheme() == "http" && matches!(u.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"))
    })
}

/// An OAuth error answer (`error`, `error_description`) as short, printable text.
pub(crate) fn oauth_error_text(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct OAuthError {
        error: String,
        #[serde(default)]
        error_description: Option<String>,
    }
    let text = match serde_json::from_slice::<OAuthError>(body) {
        Ok(e) => match e.error_description {
            Some(d) => format!("{}: {d}", e.error),
            None => e.error,
        },
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    sanitize(&text)
}

/// At most 200 printable characters of `text`.
pub(crate) fn sanitize(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>()
        .trim()
        .to_owned()
}
