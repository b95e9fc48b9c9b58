//! Fetching from the issuer: its authorization server metadata (RFC 8414, then OpenID Connect
//! discovery, path-aware) and the JWKS its `jwks_uri` names.
//!
//! One reqwest client, made here: rustls with ring's provider and the platform's roots for
//! `https`, plain `http` only to loopback hosts, no proxy, no redirects, short deadlines, and a
//! cap on what it reads.

use std::error::Error as StdError;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use rustls_platform_verifier::BuilderVerifierExt as _;
use serde_json::Value;

use super::jwks::KeySet;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest metadata or JWKS document read.
const MAX_DOCUMENT: usize = 1024 * 1024;

/// Why the authorization layer could not be set up.
#[derive(Debug)]
pub(crate) struct SetupError {
    what: String,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl SetupError {
    pub(super) fn new(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            source: None,
        }
    }

    fn because(mut self, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        self.source = Some(source.into());
        self
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl StdError for SetupError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

/// An error and its causes on one line, for logs and for listing what was tried.
pub(crate) fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(err) = cause {
        text.push_str(": ");
        text.push_str(&err.to_string());
        cause = err.source();
    }
    text
}

/// Where the issuer's JWKS lives, with the client that fetches it.
#[derive(Debug)]
pub(super) struct JwksSource {
    client: reqwest::Client,
    uri: Url,
}

impl JwksSource {
    /// Fetches and parses the JWKS.
    pub(super) async fn fetch(&self) -> Result<KeySet, SetupError> {
        let failed = || SetupError::new(format!("cannot fetch the JWKS at {}", self.uri));
        let body = get(&self.client, self.uri.as_str())
            .await
            .map_err(|e| failed().because(e))?;
        KeySet::parse(&body).map_err(|e| failed().because(e))
    }
}

/// Finds the issuer's `jwks_uri` in its metadata, checking that the metadata is the issuer's.
pub(super) async fn discover(issuer: &str) -> Result<JwksSource, SetupError> {
    let failed = || {
        SetupError::new(format!(
            "cannot read the authorization server metadata of {issuer}"
        ))
    };
    let issuer_url = parse_url(issuer).map_err(|e| failed().because(e))?;
    let client = client().map_err(|e| failed().because(e))?;
    let mut tried = Vec::new();
    for url in metadata_urls(&issuer_url) {
        let outcome = match get(&client, &url).await {
            Ok(body) => jwks_uri(issuer, &body),
            Err(err) => Err(err),
        };
        match outcome {
            Ok(uri) => return Ok(JwksSource { client, uri }),
            Err(err) => tried.push(format!("{url}: {err}")),
        }
    }
    Err(failed().because(tried.join("; ")))
}

/// RFC 8414 with path insertion, then OpenID Connect discovery (inserted, then appended).
fn metadata_urls(issuer: &Url) -> Vec<String> {
    let port = issuer.port().map(|p| format!(":{p}")).unwrap_or_default();
    let origin = format!(
        "{}://{}{port}",
        issuer.scheme(),
        issuer.host_str().unwrap_or("")
    );
    let path = issuer.path().trim_end_matches('/');
    let mut urls = vec![
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
        format!("{origin}/.well-known/openid-configuration{path}"),
    ];
    if !path.is_empty() {
        urls.push(format!("{origin}{path}/.well-known/openid-configuration"));
    }
    urls
}

/// The `jwks_uri` of a metadata document whose `issuer` is exactly `issuer`.
fn jwks_uri(issuer: &str, body: &[u8]) -> Result<Url, String> {
    let document: Value =
        serde_json::from_slice(body).map_err(|e| format!("not a JSON document ({e})"))?;
    match document.get("issuer").and_then(Value::as_str) {
        Some(found) if found == issuer => {}
        Some(found) => return Err(format!("it names another issuer, {found:?}")),
        None => return Err("it has no issuer".to_owned()),
    }
    let uri = document
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or("it has no jwks_uri")?;
    parse_url(uri).map_err(|e| format!("its jwks_uri {uri:?}: {e}"))
}

/// An `https` URL, or an `http` one to a loopback host; no fragment.
fn parse_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
    let host = url.host_str().ok_or("no host")?;
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err("plain http is only accepted to a loopback host".to_owned()),
        other => return Err(format!("unsupported scheme {other}")),
    }
    if url.fragment().is_some() {
        return Err("a fragment is not allowed".to_owned());
    }
    Ok(url)
}

fn client() -> Result<reqwest::Client, Box<dyn StdError + Send + Sync>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth();
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()?)
}

/// GETs a JSON document: 200 and at most [`MAX_DOCUMENT`] bytes.
async fn get(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let mut response = client
        .get(url)
        .header(http::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| request_failure(&e))?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(format!("status {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| request_failure(&e))? {
        if body.len() + chunk.len() > MAX_DOCUMENT {
            return Err(format!("larger than {MAX_DOCUMENT} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// What went wrong with a request, without reqwest's outer line (it repeats the URL).
fn request_failure(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "timed out".to_owned();
    }
    match err.source() {
        Some(cause) => chain(cause),
        None => err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_urls_insert_the_issuer_path() {
        let root = Url::parse("https://auth.example.com").expect("url");
        assert_eq!(
            metadata_urls(&root),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server",
                "https://auth.example.com/.well-known/openid-configuration",
            ]
        );
        let tenant = Url::parse("http://127.0.0.1:9000/t1").expect("url");
        assert_eq!(
            metadata_urls(&tenant),
            [
                "http://127.0.0.1:9000/.well-known/oauth-authorization-server/t1",
                "http://127.0.0.1:9000/.well-known/openid-configuration/t1",
                "http://127.0.0.1:9000/t1/.well-known/openid-configuration",
            ]
        );
    }

    #[test]
    fn plain_http_is_for_loopback_only() {
        assert!(parse_url("http://127.0.0.1:1/x").is_ok());
        assert!(parse_url("http://localhost/x").is_ok());
        assert!(parse_url("http://[::1]/x").is_ok());
        assert!(parse_url("https://auth.example.com/x").is_ok());
        assert!(parse_url("http://auth.example.com/x").is_err());
        assert!(parse_url("ftp://127.0.0.1/x").is_err());
    }

    #[test]
    fn metadata_of_another_issuer_is_refused() {
        let doc = br#"{"issuer": "https://a.example", "jwks_uri": "https://a.example/jwks"}"#;
        assert!(jwks_uri("https://a.example", doc).is_ok());
        assert!(jwks_uri("https://a.example/", doc).is_err());
        assert!(jwks_uri("https://b.example", doc).is_err());
    }
}
