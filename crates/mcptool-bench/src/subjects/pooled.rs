//! References between the floor and mcptool: the floor's plain requests sent through a pooled
//! HTTP client library, one pool shared by every caller, `TCP_NODELAY` on, redirects off —
//! `reqwest` (what mcptool sends with) and hyper-util's legacy client (what reqwest wraps).
//! The gap floor → library is what pooling and the library cost; library → mcptool is what
//! the MCP layer costs.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::config::BenchConfig;
use crate::error::{Context, Error};
use crate::floor::{
    ACCEPT_BOTH, INITIALIZE, INITIALIZED, JSON, PROTOCOL_VERSION, SESSION_ID, call_body, contains,
    protocol_version,
};
use crate::measure::{self, Figures};
use crate::subjects::rmcp::install_crypto_provider;

/// What an answer is reduced to.
type Answer = (StatusCode, HeaderMap, Bytes);

/// A pooled HTTP client library, as the benchmark uses it.
pub(crate) trait Pool: Send + Sync + Sized + 'static {
    /// The name in the report.
    const NAME: &'static str;
    /// The library's own parsed URL, made once per session.
    type Url: Send + Sync + std::fmt::Debug;
    /// A new client with a pool of its own.
    fn new() -> Result<Self, Error>;
    /// Parses the server's URL.
    fn parse(url: &str) -> Result<Self::Url, Error>;
    /// Sends one request to `url` and reads the whole answer.
    fn send(
        &self,
        method: Method,
        url: &Self::Url,
        headers: &HeaderMap,
        body: Bytes,
    ) -> impl Future<Output = Result<Answer, Error>> + Send;
}

/// reqwest, built as mcptool builds its own clients (less the shared TLS configuration).
#[derive(Debug)]
pub(crate) struct Reqwest(reqwest::Client);

impl Pool for Reqwest {
    const NAME: &'static str = "reqwest_raw";
    type Url = reqwest::Url;

    fn new() -> Result<Reqwest, Error> {
        install_crypto_provider();
        reqwest::Client::builder()
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map(Reqwest)
            .context("reqwest: building the client")
    }

    fn parse(url: &str) -> Result<reqwest::Url, Error> {
        reqwest::Url::parse(url).context("reqwest: the URL")
    }

    async fn send(
        &self,
        method: Method,
        url: &reqwest::Url,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Answer, Error> {
        let response = self
            .0
            .request(method, url.clone())
            .headers(headers.clone())
            .body(body)
            .send()
            .await
            .context("reqwest: request")?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.context("reqwest: body")?;
        Ok((status, headers, body))
    }
}

/// hyper-util's pooled legacy client over plain HTTP.
#[derive(Debug)]
pub(crate) struct HyperUtil(HyperClient<HttpConnector, Full<Bytes>>);

impl Pool for HyperUtil {
    const NAME: &'static str = "hyper_pooled";
    type Url = Uri;

    fn new() -> Result<HyperUtil, Error> {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Ok(HyperUtil(
            HyperClient::builder(TokioExecutor::new()).build(connector),
        ))
    }

    fn parse(url: &str) -> Result<Uri, Error> {
        url.parse().context("hyper: the URL")
    }

    async fn send(
        &self,
        method: Method,
        url: &Uri,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Answer, Error> {
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = method;
        *request.uri_mut() = url.clone();
        *request.headers_mut() = headers.clone();
        let response = self.0.request(request).await.context("hyper: request")?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.context("hyper: body")?.to_bytes();
        Ok((parts.status, parts.headers, body))
    }
}

/// One pool and the session its requests carry.
#[derive(Debug)]
struct Session<P: Pool> {
    http: P,
    url: P::Url,
    headers: HeaderMap,
}

impl<P: Pool> Session<P> {
    async fn open(url: &str) -> Result<Session<P>, Error> {
        let name = P::NAME;
        let http = P::new()?;
        let url = P::parse(url)?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, ACCEPT_BOTH);
        headers.insert(CONTENT_TYPE, JSON);
        let initialize = Bytes::from_static(INITIALIZE.as_bytes());
        let (status, answer_headers, body) =
            http.send(Method::POST, &url, &headers, initialize).await?;
        if !status.is_success() {
            return Err(Error::msg(format!("{name}: initialize status {status}")));
        }
        let id = answer_headers
            .get(SESSION_ID)
            .cloned()
            .ok_or_else(|| Error::msg(format!("{name}: initialize gave no session id")))?;
        let version = protocol_version(&body)
            .ok_or_else(|| Error::msg(format!("{name}: initialize gave no protocolVersion")))?;
        headers.insert(SESSION_ID, id);
        headers.insert(
            PROTOCOL_VERSION,
            HeaderValue::from_str(version).context("protocolVersion")?,
        );
        let initialized = Bytes::from_static(INITIALIZED.as_bytes());
        let (status, _, _) = http.send(Method::POST, &url, &headers, initialized).await?;
        if !status.is_success() {
            return Err(Error::msg(format!("{name}: initialized status {status}")));
        }
        Ok(Session { http, url, headers })
    }

    async fn delete(&self) -> Result<(), Error> {
        let (status, _, _) = self
            .http
            .send(Method::DELETE, &self.url, &self.headers, Bytes::new())
            .await?;
        if status.is_success() || status == StatusCode::METHOD_NOT_ALLOWED {
            Ok(())
        } else {
            Err(Error::msg(format!("{}: DELETE status {status}", P::NAME)))
        }
    }
}

async fn call<P: Pool>(
    (session, id): (Arc<Session<P>>, u64),
) -> Result<(Arc<Session<P>>, u64), Error> {
    let (status, _, body) = session
        .http
        .send(
            Method::POST,
            &session.url,
            &session.headers,
            call_body(id).into(),
        )
        .await?;
    if status != StatusCode::OK || !contains(&body, b"\"result\"") {
        return Err(Error::msg(format!(
            "{}: tools/call answered {status} without a result",
            P::NAME
        )));
    }
    Ok((session, id + 1))
}

async fn lifecycle<P: Pool>(url: &str) -> Result<(), Error> {
    Session::<P>::open(url).await?.delete().await
}

/// One run of library `P` against `url`: one pool shared by every caller.
pub(crate) async fn run<P: Pool>(url: &str, config: &BenchConfig) -> Result<Figures, Error> {
    let session = Arc::new(Session::<P>::open(url).await?);
    let worker = (Arc::clone(&session), 1);
    let (seq, _) = measure::sequential(worker, config.calls, config.phase_limit, call).await?;
    let workers = (0..config.concurrency)
        .map(|i| (Arc::clone(&session), 1_000_000 * (i as u64 + 1)))
        .collect();
    let concurrent =
        measure::concurrent(workers, config.concurrent_calls, config.phase_limit, call).await?;
    session.delete().await?;

    let connect_close_ms = measure::lifecycles(config.lifecycles, config.phase_limit, || {
        lifecycle::<P>(url)
    })
    .await?;
    Ok(Figures::of_phases(&seq, concurrent, connect_close_ms))
}
