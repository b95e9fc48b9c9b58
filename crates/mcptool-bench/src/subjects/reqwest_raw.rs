//! A second reference below mcptool: the floor's plain requests sent with `reqwest` (pooled,
//! `TCP_NODELAY`, no redirects), as mcptool sends them. The gap between it and the floor is
//! what the HTTP library costs; the gap between it and mcptool is what the MCP layer costs.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::config::BenchConfig;
use crate::error::{Context, Error};
use crate::floor::{
    ACCEPT_BOTH, INITIALIZE, INITIALIZED, JSON, PROTOCOL_VERSION, SESSION_ID, call_body, contains,
    protocol_version,
};
use crate::measure::{self, Figures};
use crate::subjects::rmcp::install_crypto_provider;

/// One pool and the session its requests carry.
#[derive(Debug)]
struct Session {
    http: reqwest::Client,
    url: reqwest::Url,
    headers: HeaderMap,
}

fn client() -> Result<reqwest::Client, Error> {
    install_crypto_provider();
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("reqwest: building the client")
}

async fn post(
    http: &reqwest::Client,
    url: &reqwest::Url,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, HeaderMap, Bytes), Error> {
    let response = http
        .post(url.clone())
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

async fn open(url: &str) -> Result<Session, Error> {
    let http = client()?;
    let url = reqwest::Url::parse(url).context("reqwest: the URL")?;
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, ACCEPT_BOTH);
    headers.insert(CONTENT_TYPE, JSON);
    let (status, answer_headers, body) = post(
        &http,
        &url,
        &headers,
        Bytes::from_static(INITIALIZE.as_bytes()),
    )
    .await?;
    if !status.is_success() {
        return Err(Error::msg(format!("reqwest: initialize status {status}")));
    }
    let id = answer_headers
        .get(SESSION_ID)
        .cloned()
        .ok_or_else(|| Error::msg("reqwest: initialize answered without a session id"))?;
    let version = protocol_version(&body)
        .ok_or_else(|| Error::msg("reqwest: initialize answered without protocolVersion"))?;
    headers.insert(SESSION_ID, id);
    headers.insert(
        PROTOCOL_VERSION,
        HeaderValue::from_str(version).context("reqwest: protocolVersion")?,
    );
    let (status, _, _) = post(
        &http,
        &url,
        &headers,
        Bytes::from_static(INITIALIZED.as_bytes()),
    )
    .await?;
    if !status.is_success() {
        return Err(Error::msg(format!("reqwest: initialized status {status}")));
    }
    Ok(Session { http, url, headers })
}

async fn delete(session: &Session) -> Result<(), Error> {
    let response = session
        .http
        .delete(session.url.clone())
        .headers(session.headers.clone())
        .send()
        .await
        .context("reqwest: DELETE")?;
    let status = response.status();
    let _ = response.bytes().await;
    if status.is_success() || status == StatusCode::METHOD_NOT_ALLOWED {
        Ok(())
    } else {
        Err(Error::msg(format!("reqwest: DELETE status {status}")))
    }
}

async fn call((session, id): (Arc<Session>, u64)) -> Result<(Arc<Session>, u64), Error> {
    let (status, _, body) = post(
        &session.http,
        &session.url,
        &session.headers,
        call_body(id).into(),
    )
    .await?;
    if status != StatusCode::OK || !contains(&body, b"\"result\"") {
        return Err(Error::msg(format!(
            "reqwest: tools/call answered {status} without a result"
        )));
    }
    Ok((session, id + 1))
}

async fn lifecycle(url: &str) -> Result<(), Error> {
    let session = open(url).await?;
    delete(&session).await
}

/// One run of raw reqwest against `url`: one pool shared by every caller.
pub(crate) async fn run(url: &str, config: &BenchConfig) -> Result<Figures, Error> {
    let session = Arc::new(open(url).await?);
    let worker = (Arc::clone(&session), 1);
    let (seq, _) = measure::sequential(worker, config.calls, config.phase_limit, call).await?;
    let workers = (0..config.concurrency)
        .map(|i| (Arc::clone(&session), 1_000_000 * (i as u64 + 1)))
        .collect();
    let concurrent =
        measure::concurrent(workers, config.concurrent_calls, config.phase_limit, call).await?;
    delete(&session).await?;

    let connect_close_ms =
        measure::lifecycles(config.lifecycles, config.phase_limit, || lifecycle(url)).await?;
    Ok(Figures {
        sequential_calls_per_s: seq.calls_per_s,
        concurrent_calls_per_s: concurrent,
        p50_us: seq.p50_us,
        p99_us: seq.p99_us,
        connect_close_ms,
    })
}
