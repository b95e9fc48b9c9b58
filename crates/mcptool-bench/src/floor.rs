//! The floor: the same JSON-RPC requests over a hyper 1.x HTTP/1.1 keep-alive connection with
//! `TCP_NODELAY`, and no MCP logic beyond what makes the requests valid (a session id and the
//! negotiated protocol version). What any client pays at least.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HOST};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::error::{Context, Error};

pub(crate) const ACCEPT_BOTH: HeaderValue =
    HeaderValue::from_static("application/json, text/event-stream");
pub(crate) const JSON: HeaderValue = HeaderValue::from_static("application/json");
pub(crate) const SESSION_ID: &str = "mcp-session-id";
pub(crate) const PROTOCOL_VERSION: &str = "mcp-protocol-version";
/// Longest wait for one response: a stuck server fails the run instead of hanging it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) const INITIALIZE: &str = concat!(
    r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","#,
    r#""capabilities":{},"clientInfo":{"name":"mcptool-bench-floor","version":"0"}}}"#
);
pub(crate) const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// Where the server listens: parsed once.
#[derive(Debug)]
pub(crate) struct Endpoint {
    addr: String,
    host: HeaderValue,
    path: Uri,
}

impl Endpoint {
    /// Accepts `http://host:port/path` only: the floor speaks plain HTTP.
    pub(crate) fn parse(url: &str) -> Result<Arc<Endpoint>, Error> {
        let uri: Uri = url.parse().context("parsing the server URL")?;
        if uri.scheme_str() != Some("http") {
            return Err(Error::msg(format!(
                "the floor speaks plain http only, not {url}"
            )));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| Error::msg(format!("no host in {url}")))?;
        let port = authority.port_u16().unwrap_or(80);
        let path = Uri::try_from(uri.path_and_query().map_or("/", |p| p.as_str()))
            .context("parsing the URL's path")?;
        Ok(Arc::new(Endpoint {
            addr: format!("{}:{port}", authority.host()),
            host: HeaderValue::from_str(authority.as_str()).context("the URL's host")?,
            path,
        }))
    }
}

/// One keep-alive connection. Dropping it closes the socket.
#[derive(Debug)]
pub(crate) struct RawConn {
    endpoint: Arc<Endpoint>,
    send: SendRequest<Full<Bytes>>,
    driver: JoinHandle<()>,
}

impl Drop for RawConn {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// The session the floor initialised: the two headers every later request carries. In
/// 2026-07-28 there is none: every call carries the version and its routing headers instead.
#[derive(Clone, Debug)]
pub(crate) struct RawSession {
    id: Option<HeaderValue>,
    version: HeaderValue,
}

impl RawSession {
    /// The floor of 2026-07-28: no session, the version on every request.
    pub(crate) fn stateless() -> RawSession {
        RawSession {
            id: None,
            version: HeaderValue::from_static(STATELESS_VERSION),
        }
    }

    fn is_stateless(&self) -> bool {
        self.id.is_none()
    }
}

/// The stateless protocol version.
const STATELESS_VERSION: &str = "2026-07-28";

impl RawConn {
    /// TCP connect with `TCP_NODELAY`, then the HTTP/1.1 handshake.
    pub(crate) async fn open(endpoint: &Arc<Endpoint>) -> Result<RawConn, Error> {
        let stream = TcpStream::connect(&endpoint.addr)
            .await
            .context("floor: connecting")?;
        stream.set_nodelay(true).context("floor: TCP_NODELAY")?;
        let (send, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .context("floor: HTTP handshake")?;
        let driver = tokio::spawn(async move {
            // The connection ends when `send` is dropped; its error is the request's to report.
            let _ = conn.await;
        });
        Ok(RawConn {
            endpoint: Arc::clone(endpoint),
            send,
            driver,
        })
    }

    /// `initialize` and `notifications/initialized`, as plain requests.
    pub(crate) async fn initialize(&mut self) -> Result<RawSession, Error> {
        let (status, headers, body) = self
            .send(
                Method::POST,
                None,
                Bytes::from_static(INITIALIZE.as_bytes()),
            )
            .await?;
        expect(status.is_success(), "floor: initialize status", status)?;
        let id = headers
            .get(SESSION_ID)
            .cloned()
            .ok_or_else(|| Error::msg("floor: initialize answered without a session id"))?;
        let version = protocol_version(&body)
            .ok_or_else(|| Error::msg("floor: initialize answered without protocolVersion"))?;
        let session = RawSession {
            id: Some(id),
            version: HeaderValue::from_str(version).context("floor: protocolVersion")?,
        };
        let (status, _, _) = self
            .send(
                Method::POST,
                Some(&session),
                Bytes::from_static(INITIALIZED.as_bytes()),
            )
            .await?;
        expect(status.is_success(), "floor: initialized status", status)?;
        Ok(session)
    }

    /// One `tools/call` of `echo`; checks that a result came back.
    pub(crate) async fn call(&mut self, session: &RawSession, id: u64) -> Result<(), Error> {
        let request = if session.is_stateless() {
            stateless_call_body(id)
        } else {
            call_body(id)
        };
        let (status, _, body) = self
            .send(Method::POST, Some(session), request.into())
            .await?;
        expect(status == StatusCode::OK, "floor: tools/call status", status)?;
        if !contains(&body, b"\"result\"") {
            return Err(Error::msg("floor: tools/call answered without a result"));
        }
        Ok(())
    }

    /// `DELETE` of the session.
    pub(crate) async fn delete(&mut self, session: &RawSession) -> Result<(), Error> {
        let (status, _, _) = self
            .send(Method::DELETE, Some(session), Bytes::new())
            .await?;
        let ok = status.is_success() || status == StatusCode::METHOD_NOT_ALLOWED;
        expect(ok, "floor: DELETE status", status)
    }

    async fn send(
        &mut self,
        method: Method,
        session: Option<&RawSession>,
        body: Bytes,
    ) -> Result<(StatusCode, HeaderMap, Bytes), Error> {
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = method;
        *request.uri_mut() = self.endpoint.path.clone();
        let headers = request.headers_mut();
        headers.insert(HOST, self.endpoint.host.clone());
        headers.insert(ACCEPT, ACCEPT_BOTH);
        headers.insert(CONTENT_TYPE, JSON);
        if let Some(session) = session {
            match &session.id {
                Some(id) => {
                    headers.insert(SESSION_ID, id.clone());
                }
                None => {
                    headers.insert("mcp-method", HeaderValue::from_static("tools/call"));
                    headers.insert("mcp-name", HeaderValue::from_static("echo"));
                }
            }
            headers.insert(PROTOCOL_VERSION, session.version.clone());
        }
        let exchange = async {
            self.send.ready().await.context("floor: connection")?;
            let response = self
                .send
                .send_request(request)
                .await
                .context("floor: request")?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.context("floor: body")?.to_bytes();
            Ok::<_, Error>((parts.status, parts.headers, body))
        };
        tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .map_err(|_| Error::msg("floor: no response in 30 s"))?
    }
}

/// The body of the `tools/call` request with id `id`.
pub(crate) fn call_body(id: u64) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"hi"}}}}}}"#
    )
}

/// The body of the 2026-07-28 `tools/call` request with id `id`: the same call, with `_meta`.
pub(crate) fn stateless_call_body(id: u64) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"hi"}},"_meta":{{"io.modelcontextprotocol/protocolVersion":"{STATELESS_VERSION}","io.modelcontextprotocol/clientCapabilities":{{}}}}}}}}"#
    )
}

/// The floor's connect + first answer + close in 2026-07-28: a fresh connection, one
/// `tools/call`, drop (no discover is needed, no session to end).
pub(crate) async fn stateless_lifecycle(endpoint: &Arc<Endpoint>) -> Result<(), Error> {
    let mut conn = RawConn::open(endpoint).await?;
    conn.call(&RawSession::stateless(), 1).await
}

/// The floor's connect + initialize + close: a fresh connection, the three requests, drop.
pub(crate) async fn lifecycle(endpoint: &Arc<Endpoint>) -> Result<(), Error> {
    let mut conn = RawConn::open(endpoint).await?;
    let session = conn.initialize().await?;
    conn.delete(&session).await
}

fn expect(ok: bool, step: &str, status: StatusCode) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(Error::msg(format!("{step} {status}")))
    }
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The `protocolVersion` string of an initialize answer (JSON or SSE), found without parsing.
pub(crate) fn protocol_version(body: &[u8]) -> Option<&str> {
    const KEY: &[u8] = b"\"protocolVersion\":\"";
    let start = body.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let len = body[start..].iter().position(|&b| b == b'"')?;
    std::str::from_utf8(&body[start..start + len]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_protocol_version_in_an_sse_body() {
        let body = b"id: 1\ndata: {\"result\":{\"protocolVersion\":\"2025-06-18\"}}\n\n";
        assert_eq!(protocol_version(body), Some("2025-06-18"));
        assert_eq!(protocol_version(b"{}"), None);
    }

    #[test]
    fn endpoint_refuses_https() {
        assert!(Endpoint::parse("https://127.0.0.1:1/mcp").is_err());
        let ep = Endpoint::parse("http://127.0.0.1:8081/mcp").unwrap();
        assert_eq!(ep.addr, "127.0.0.1:8081");
        assert_eq!(ep.path.path(), "/mcp");
    }
}
