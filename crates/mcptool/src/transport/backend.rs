//! The HTTP library under the transport, behind one small interface: send a request, get a
//! status, headers and a body read chunk by chunk.
//!
//! An owned pool is mcptool's own ([`super::pool`]): hyper's HTTP/1.1 connections over
//! hyper-util's connector and hyper-rustls, built per client. reqwest's per-request layers
//! (URL re-parsing, the redirect policy, header map copies) cost a client a sixth of its
//! sequential throughput and a fifth of its concurrent throughput on the benchmark
//! (`mcptool bench --clients reqwest_raw,hyper_pooled`). A lent pool is the caller's
//! `reqwest::Client`, used as given.

use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HOST};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use reqwest::Url;

use super::pool::{ConnPool, Lease, SendError};
use super::tls::tls_failure;
use crate::error::{BoxError, Error};

/// How long an idle pooled connection is kept.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// A connection pool: ours, or the caller's.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Owned(ConnPool),
    Lent(reqwest::Client),
}

/// Where requests go, parsed once: the URL, where to connect (scheme and authority), the
/// request target (path and query) and the `Host` header.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) url: Url,
    origin: Uri,
    path: Uri,
    host: HeaderValue,
}

impl Target {
    /// The `Host` header of requests to this target.
    pub(crate) fn host(&self) -> &HeaderValue {
        &self.host
    }

    pub(crate) fn new(url: Url) -> Result<Target, Error> {
        let invalid = |e: BoxError| {
            Error::config(format!("invalid server URL {:?}", url.as_str())).with_source(e)
        };
        let host = url
            .host_str()
            .ok_or_else(|| invalid("the URL has no host".into()))?;
        // `port()` is `None` for the scheme's default port, which `Host` leaves out.
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let origin_port = url.port_or_known_default().unwrap_or(80);
        let origin = format!("{}://{host}:{origin_port}", url.scheme())
            .parse::<Uri>()
            .map_err(|e| invalid(e.into()))?;
        let path_and_query = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let path = path_and_query
            .parse::<Uri>()
            .map_err(|e| invalid(e.into()))?;
        let host = HeaderValue::from_str(&authority).map_err(|e| invalid(e.into()))?;
        Ok(Target {
            url,
            origin,
            path,
            host,
        })
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
    /// Its connection goes back to the pool when the body ends.
    Owned(hyper::body::Incoming, Lease),
    Lent(reqwest::Body),
}

impl Pool {
    /// A pool of our own: `TCP_NODELAY`, the connect timeout, HTTP/1.1, the process-wide TLS
    /// configuration, no proxy, no redirects.
    pub(crate) fn owned(connect_timeout: Duration) -> Result<Pool, Error> {
        ConnPool::new(connect_timeout, POOL_IDLE_TIMEOUT).map(Pool::Owned)
    }

    /// Closes an owned pool's connections, idle and in use. A lent pool is the caller's and
    /// stays as it is.
    pub(crate) fn shutdown(&self) {
        if let Pool::Owned(pool) = self {
            pool.shutdown();
        }
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
            Pool::Owned(pool) => {
                let mut request = Request::new(Full::new(body));
                *request.method_mut() = method;
                *request.uri_mut() = target.path.clone();
                *request.headers_mut() = headers;
                if !request.headers().contains_key(HOST) {
                    request.headers_mut().insert(HOST, target.host.clone());
                }
                let (response, lease) = pool
                    .send(&target.origin, request)
                    .await
                    .map_err(|e| send_failed(what, e))?;
                let (parts, body) = response.into_parts();
                Ok(Response {
                    status: parts.status,
                    headers: parts.headers,
                    body: Body::Owned(body, lease),
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

    /// Drops the headers once they have been read. Their values share the connection's read
    /// buffer: while they live, hyper must allocate a new buffer for the rest of the body.
    pub(crate) fn release_headers(&mut self) {
        self.headers = HeaderMap::new();
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
                Body::Owned(body, lease) => {
                    let frame = body.frame().await;
                    if frame.is_none() {
                        lease.give_back();
                    }
                    frame.map(|f| f.map_err(BoxError::from))
                }
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

/// Classifies a failure of the owned pool: TLS, connect (or the connect deadline), closed,
/// or network.
fn send_failed(context: &str, err: SendError) -> Error {
    match err {
        SendError::Connect(err) => match tls_failure(&*err) {
            Some(tls) => Error::tls(context, &tls).with_source(err),
            None => Error::connect_failed(context, err, false),
        },
        SendError::Request(err) => {
            Error::network(format!("{context}: network failure")).with_source(err)
        }
        SendError::Closed => Error::closed(),
    }
}
