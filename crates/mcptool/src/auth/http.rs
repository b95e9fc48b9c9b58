//! The authorization layer's own HTTP traffic (metadata, registration, tokens), on the
//! instance's pool: it ends with `close()`, follows no redirect, and never carries the MCP
//! server's access token.

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, Method, StatusCode};
use reqwest::Url;
use serde::de::DeserializeOwned;

use crate::error::{AuthFailure, Error};
use crate::transport::{Pool, Target, read_limited};

/// The largest authorization response read (metadata, registration, token): more is refused.
pub(crate) const AUTH_BODY_LIMIT: usize = 64 * 1024;

const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// What a metadata GET found.
#[derive(Debug)]
pub(crate) enum Fetched<T> {
    Found(T),
    /// 4xx: nothing here; the caller tries the next place.
    Absent(StatusCode),
}

/// GETs a JSON document: 200 with a body that parses as `T`, or a 4xx (absent). A 3xx is an
/// error (no redirect is followed), and so is a 5xx or a body that does not parse.
pub(crate) async fn get_json<T: DeserializeOwned>(
    pool: &Pool,
    url: &Url,
    what: &str,
) -> Result<Fetched<T>, Error> {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, JSON);
    let (status, _, body) = send(
        pool,
        Method::GET,
        url,
        headers,
        Bytes::new(),
        (what, AuthFailure::Metadata),
    )
    .await?;
    if status.is_client_error() {
        return Ok(Fetched::Absent(status));
    }
    if status != StatusCode::OK {
        return Err(failure(
            AuthFailure::Metadata,
            format!("{what} at {url} answered HTTP {status}"),
        ));
    }
    serde_json::from_slice(&body)
        .map(Fetched::Found)
        .map_err(|e| {
            failure(
                AuthFailure::Metadata,
                format!("{what} at {url} is malformed: {e}"),
            )
        })
}

/// Sends one request and reads its whole answer within [`AUTH_BODY_LIMIT`]. `what` names the
/// endpoint and the failure category of its answers; a connection that fails keeps its kind
/// (connect, network, timeout) and gets the category too, so that the request is not retried
/// as if the MCP server had failed.
pub(crate) async fn send(
    pool: &Pool,
    method: Method,
    url: &Url,
    headers: HeaderMap,
    body: Bytes,
    (what, category): (&str, AuthFailure),
) -> Result<(StatusCode, HeaderMap, Bytes), Error> {
    let target = Target::new(url.clone())?;
    let mut response = pool
        .send(method, &target, headers, body, what)
        .await
        .map_err(|e| e.in_authorization(category))?;
    let status = response.status();
    let headers = response.headers().clone();
    response.release_headers();
    if status.is_redirection() {
        return Err(failure(
            AuthFailure::Metadata,
            format!(
                "{what} at {url} answered with a redirect (HTTP {status}), which is not followed"
            ),
        ));
    }
    let body = read_limited(response, AUTH_BODY_LIMIT)
        .await
        .map_err(|e| failure(category, format!("{what} at {url}: {e}")))?;
    Ok((status, headers, body))
}

/// The `oauth2` crate's HTTP client: the instance's pool.
pub(crate) struct PoolHttp<'a>(pub(crate) &'a Pool);

impl<'c> oauth2::AsyncHttpClient<'c> for PoolHttp<'_> {
    type Error = Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse, Error>> + Send + 'c>,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(oauth2_send(self.0, request))
    }
}

/// The `oauth2` crate's requests (token, refresh), sent on the pool.
async fn oauth2_send(
    pool: &Pool,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, Error> {
    let (parts, body) = request.into_parts();
    let url = Url::parse(&parts.uri.to_string())
        .map_err(|e| Error::config("invalid token endpoint URL").with_source(e))?;
    let (status, headers, body) = send(
        pool,
        parts.method,
        &url,
        parts.headers,
        Bytes::from(body),
        ("the token endpoint", AuthFailure::Token),
    )
    .await?;
    let mut response = http::Response::new(body.to_vec());
    *response.status_mut() = status;
    if let Some(ct) = headers.get(CONTENT_TYPE) {
        response.headers_mut().insert(CONTENT_TYPE, ct.clone());
    }
    Ok(response)
}

/// An authorization error of category `what`.
pub(crate) fn failure(what: AuthFailure, message: impl Into<String>) -> Error {
    Error::authorization(what, message)
}
