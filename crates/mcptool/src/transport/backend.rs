//! The HTTP library under the transport, behind one small interface: send a request, get a
//! status, headers and a body read chunk by chunk.
//!
//! An owned pool is hyper-util's pooled client over hyper-rustls, built per client: the
//! same pool reqwest wraps, without reqwest's per-request layers (URL re-parsing, the redirect
//! policy, header map copies), which cost a client a sixth of its sequential throughput and a
//! fifth of its concurrent throughput on the benchmark (`mcptool bench --clients
//! reqwest_raw,hyper_pooled`). A lent pool is the caller's `reqwest::Client`, used as given.

use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::{HeaderMap, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as PooledClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use reqwest::Url;

use super::tls;
use crate::error::{BoxError, Error, tls_failure};

/// How long an idle pooled connection is kept.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

type Owned = PooledClient<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A connection pool: ours, or the caller's.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Owned(Owned),
    Lent(reqwest::Client),
}

/// Where requests go: the URL as both libraries want it, parsed once.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) url: Url,
    uri: Uri,
}

impl Target {
    pub(crate) fn new(url: Url) -> Result<Target, Error> {
        let uri = url.as_str().parse().map_err(|e| {
            Error::config(format!("invalid server URL {:?}", url.as_str())).with_source(e)
        })?;
        Ok(Target { url, uri })
    }
}

/// A response whose body has not been read yet.
#[derive(Debug)]
pub(crate) struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Body,
}

#[derive(Debug)]
enum Body {
    Owned(hyper::body::Incoming),
    Lent(reqwest::Body),
}

impl Pool {
    /// A pool of our own: `TCP_NODELAY`, the connect timeout, HTTP/1.1, the process-wide TLS
    /// configuration, no proxy, no redirects.
    pub(crate) fn owned(connect_timeout: Duration) -> Result<Pool, Error> {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.set_connect_timeout(Some(connect_timeout));
        http.enforce_http(false);
        // hyper-rustls sets ALPN itself (and refuses a configuration that already has it).
        let mut tls = tls::client_config()?;
        tls.alpn_protocols.clear();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = PooledClient::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_timer(TokioTimer::new())
            .build(connector);
        Ok(Pool::Owned(client))
    }

    /// Sends one request; `what` names it in errors ("POST", "GET", "DELETE").
    pub(crate) async fn send(
        &self,
        method: Method,
        target: &Target,
        headers: HeaderMap,
        body: Bytes,
        what: &str,
    ) -> Result<Response, Error> {
        match self {
            Pool::Owned(client) => {
                let mut request = Request::new(Full::new(body));
                *request.method_mut() = method;
                *request.uri_mut() = target.uri.clone();
                *request.headers_mut() = headers;
                let response = client
                    .request(request)
                    .await
                    .map_err(|e| from_hyper(what, e))?;
                let (parts, body) = response.into_parts();
                Ok(Response {
                    status: parts.status,
                    headers: parts.headers,
                    body: Body::Owned(body),
                })
            }
            Pool::Lent(client) => {
                let response = client
                    .request(method, target.url.clone())
                    .headers(headers)
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| Error::from_reqwest(what, e))?;
                let (parts, body) = http::Response::<reqwest::Body>::from(response).into_parts();
                Ok(Response {
                    status: parts.status,
                    headers: parts.headers,
                    body: Body::Lent(body),
                })
            }
        }
    }
}

impl Response {
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    pub(crate) fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The declared body length, if the server gave one.
    pub(crate) fn content_length(&self) -> Option<u64> {
        self.headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
    }

    /// The next chunk of the body; `None` at its end. Trailers are skipped.
    pub(crate) async fn chunk(&mut self) -> Result<Option<Bytes>, BoxError> {
        loop {
            let frame = match &mut self.body {
                Body::Owned(body) => body.frame().await.map(|f| f.map_err(BoxError::from)),
                Body::Lent(body) => body.frame().await.map(|f| f.map_err(BoxError::from)),
            };
            match frame {
                None => return Ok(None),
                Some(Err(e)) => return Err(e),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data()
                        && !data.is_empty()
                    {
                        return Ok(Some(data));
                    }
                }
            }
        }
    }
}

/// Classifies a failure of the owned pool: connect (or the connect deadline) or network.
fn from_hyper(context: &str, err: hyper_util::client::legacy::Error) -> Error {
    if let Some(tls) = tls_failure(&err) {
        return Error::tls(context, &tls).with_source(err);
    }
    if err.is_connect() {
        return Error::connect_failed(context, err, false);
    }
    Error::network(format!("{context}: network failure")).with_source(err)
}
