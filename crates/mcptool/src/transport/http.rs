use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HOST, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use reqwest::Url;

use super::backend::{Pool, Response, Target};
use super::headers::HeaderProvider;
use super::session::SessionId;
use super::sse::{SseDecoder, SseEvent};
#[cfg(feature = "reqwest-client")]
use super::tls;
use crate::error::{Deadline, Error, ErrorKind};
use crate::protocol::ProtocolVersion;

const MCP_SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");
const MCP_PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");
const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");
const ACCEPT_BOTH: HeaderValue = HeaderValue::from_static("application/json, text/event-stream");
const ACCEPT_SSE: HeaderValue = HeaderValue::from_static("text/event-stream");
const JSON: HeaderValue = HeaderValue::from_static("application/json");
/// How much of an error body we read to explain a failure.
const ERROR_BODY_LIMIT: usize = 4096;

/// Settings the transport needs; filled from the client builder.
#[derive(Clone, Debug)]
pub(crate) struct HttpConfig {
    pub(crate) headers: HeaderMap,
    pub(crate) connect_timeout: Duration,
    pub(crate) sse_idle_timeout: Option<Duration>,
    pub(crate) max_message_bytes: usize,
    pub(crate) lent_client: Option<reqwest::Client>,
    pub(crate) provider: Option<HeaderProvider>,
}

#[derive(Clone, Debug, Default)]
struct SessionState {
    id: Option<SessionId>,
    /// The id as a header value, made once (a validated id is always a valid value).
    id_header: Option<HeaderValue>,
    version: Option<HeaderValue>,
    /// Every header of a POST when there is no header provider: the configured headers,
    /// `Accept`, `Content-Type` and the session's. Made when the session changes, cloned per
    /// request.
    post_headers: HeaderMap,
}

/// The HTTP side of one client: its URL, its (owned or lent) connection pool and the session
/// headers. Dropping the last clone of an owned pool closes its sockets; that is what
/// [`HttpTransport::release`] does.
#[derive(Debug)]
pub(crate) struct HttpTransport {
    target: Target,
    http: RwLock<Option<Pool>>,
    session: RwLock<SessionState>,
    config: HttpConfig,
    owned: bool,
    /// Set when the server speaks the legacy HTTP+SSE transport (2024-11-05): where to POST.
    legacy_endpoint: std::sync::OnceLock<Target>,
}

/// What a POST produced.
#[derive(Debug)]
pub(crate) enum PostResponse {
    /// 202 Accepted, empty body.
    Accepted,
    /// One JSON body (a message or, in 2025-03-26, a batch).
    Json(Bytes),
    /// An SSE stream of messages.
    Sse(Box<SseStream>),
}

/// What a GET for a stream produced.
#[derive(Debug)]
pub(crate) enum GetOutcome {
    Stream(Box<SseStream>),
    /// 405: the server offers no standalone stream.
    NotAllowed,
    /// 409: another stream is open for this session.
    Conflict,
}

/// What the DELETE at close produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeleteOutcome {
    Deleted,
    NotAllowed,
}

/// The server URL, if it is one we may use: http or https, with no credentials in it.
pub(crate) fn check_url(url: &str) -> Result<Url, Error> {
    let url = Url::parse(url)
        .map_err(|e| Error::config(format!("invalid server URL {url:?}")).with_source(e))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::config(format!(
            "server URL must be http or https, not {}",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(
            "server URL must not carry credentials; use a header or a bearer token",
        ));
    }
    Ok(url)
}

impl HttpTransport {
    pub(crate) fn new(url: &str, config: HttpConfig) -> Result<HttpTransport, Error> {
        let url = check_url(url)?;
        let (client, owned) = match &config.lent_client {
            Some(lent) => (Pool::Lent(lent.clone()), false),
            None => (Pool::owned(config.connect_timeout)?, true),
        };
        let target = Target::new(url)?;
        let mut session = SessionState::default();
        session.post_headers =
            post_headers(&config.headers, &session, owned.then(|| target.host()));
        Ok(HttpTransport {
            target,
            http: RwLock::new(Some(client)),
            session: RwLock::new(session),
            config,
            owned,
            legacy_endpoint: std::sync::OnceLock::new(),
        })
    }

    pub(crate) fn url(&self) -> &Url {
        &self.target.url
    }

    /// Whether the HTTP client is ours to close.
    /// Whether a header provider may change the headers (credentials) between requests.
    pub(crate) fn has_header_provider(&self) -> bool {
        self.config.provider.is_some()
    }

    pub(crate) fn owns_client(&self) -> bool {
        self.owned
    }

    /// Drops our handle on the HTTP client. An owned pool's connections are closed at once,
    /// in use or not; a lent client is left as it is.
    pub(crate) fn release(&self) {
        let pool = self
            .http
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(pool) = pool {
            pool.shutdown();
        }
    }

    fn client(&self) -> Result<Pool, Error> {
        self.http
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(Error::closed)
    }

    pub(crate) fn session_id(&self) -> Option<SessionId> {
        self.session
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .id
            .clone()
    }

    /// Records the negotiated session (initialize) or forgets it (expiry).
    pub(crate) fn set_session(&self, id: Option<SessionId>, version: Option<ProtocolVersion>) {
        let mut state = self.session.write().unwrap_or_else(PoisonError::into_inner);
        state.id_header = id.as_ref().and_then(|id| {
            let mut value = HeaderValue::from_str(id.as_str()).ok()?;
            value.set_sensitive(true);
            Some(value)
        });
        state.id = id;
        state.version = version.map(|v| HeaderValue::from_static(v.as_str()));
        state.post_headers = post_headers(
            &self.config.headers,
            &state,
            self.owned.then(|| self.target.host()),
        );
    }

    fn session_headers(&self, headers: &mut HeaderMap) -> bool {
        let state = self.session.read().unwrap_or_else(PoisonError::into_inner);
        add_session_headers(headers, &state)
    }

    async fn base_headers(&self, accept: HeaderValue) -> Result<(HeaderMap, bool), Error> {
        let mut headers = self.config.headers.clone();
        if let Some(provider) = &self.config.provider {
            provider.add_to(&mut headers).await?;
        }
        headers.insert(ACCEPT, accept);
        let had_session = self.session_headers(&mut headers);
        Ok((headers, had_session))
    }

    /// POSTs one message. With `capture_session`, the response's `Mcp-Session-Id` is returned.
    pub(crate) async fn post(
        &self,
        body: Vec<u8>,
        extra: Option<&HeaderMap>,
        capture_session: bool,
    ) -> Result<(PostResponse, Option<SessionId>), Error> {
        let client = self.client()?;
        let (mut headers, had_session) = match &self.config.provider {
            None => {
                let state = self.session.read().unwrap_or_else(PoisonError::into_inner);
                (state.post_headers.clone(), state.id_header.is_some())
            }
            Some(_) => {
                let (mut headers, had_session) = self.base_headers(ACCEPT_BOTH).await?;
                headers.insert(CONTENT_TYPE, JSON);
                (headers, had_session)
            }
        };
        if let Some(extra) = extra {
            for (k, v) in extra {
                headers.insert(k, v.clone());
            }
        }
        let target = self.legacy_endpoint.get().unwrap_or(&self.target);
        let response = client
            .send(Method::POST, target, headers, Bytes::from(body), "POST")
            .await?;
        let status = response.status();
        if self.is_legacy() {
            // HTTP+SSE: every answer comes on the event stream; the POST is only accepted.
            if !status.is_success() {
                return Err(self.status_error(response, false).await);
            }
            let _ = read_limited(response, ERROR_BODY_LIMIT).await;
            return Ok((PostResponse::Accepted, None));
        }
        if !status.is_success() {
            return Err(self.status_error(response, had_session).await);
        }
        let session = if capture_session {
            match response.headers().get(MCP_SESSION_ID) {
                Some(v) => Some(SessionId::parse(v.as_bytes())?),
                None => None,
            }
        } else {
            None
        };
        if status == StatusCode::ACCEPTED {
            // The body should be empty (it may be chunked); read it so the connection is reused.
            let _ = read_limited(response, ERROR_BODY_LIMIT).await;
            return Ok((PostResponse::Accepted, session));
        }
        let body = match media_type(&response) {
            Media::Json => {
                let bytes = read_limited(response, self.config.max_message_bytes).await?;
                if bytes.is_empty() {
                    return Err(Error::protocol(
                        "server answered 200 with an empty JSON body",
                    ));
                }
                PostResponse::Json(bytes)
            }
            Media::Sse => PostResponse::Sse(Box::new(self.sse_stream(response, None))),
            Media::Absent if status == StatusCode::OK => {
                // Some servers answer a notification with 200 and nothing else.
                let bytes = read_limited(response, ERROR_BODY_LIMIT).await?;
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    PostResponse::Accepted
                } else {
                    return Err(Error::protocol("server answered without a Content-Type"));
                }
            }
            Media::Absent => {
                return Err(Error::protocol("server answered without a Content-Type"));
            }
            Media::Other(other) => {
                return Err(Error::protocol(format!(
                    "server answered with unexpected Content-Type {other:?}"
                )));
            }
        };
        Ok((body, session))
    }

    /// Whether we fell back to the legacy HTTP+SSE transport.
    pub(crate) fn is_legacy(&self) -> bool {
        self.legacy_endpoint.get().is_some()
    }

    /// Falls back to the legacy HTTP+SSE transport: opens the event stream with GET, waits for
    /// its `endpoint` event, and from then on POSTs there. Returns the open stream, which
    /// carries every answer. The endpoint must be on the server's own origin.
    pub(crate) async fn open_legacy(&self, wait: Duration) -> Result<SseStream, Error> {
        let (mut headers, _) = self.base_headers(ACCEPT_SSE).await?;
        headers.remove(MCP_SESSION_ID);
        headers.remove(MCP_PROTOCOL_VERSION);
        let response = self.send_get(headers).await?;
        if !response.status().is_success() || media_type(&response) != Media::Sse {
            return Err(Error::protocol(format!(
                "server is neither Streamable HTTP nor HTTP+SSE (legacy GET answered {})",
                response.status()
            ))
            .with_status(response.status().as_u16()));
        }
        let mut stream = self.sse_stream(response, None);
        let endpoint = tokio::time::timeout(wait, async {
            loop {
                match stream.next_event().await? {
                    Some(event) if event.event.as_deref() == Some("endpoint") => {
                        return Ok::<String, Error>(event.data);
                    }
                    Some(_) => continue,
                    None => {
                        return Err(Error::protocol(
                            "legacy SSE stream ended before its endpoint event",
                        ));
                    }
                }
            }
        })
        .await
        .map_err(|_| Error::timeout(Deadline::Initialize))??;
        let url = self.target.url.join(endpoint.trim()).map_err(|e| {
            Error::protocol("server sent an unusable legacy endpoint").with_source(e)
        })?;
        if url.origin() != self.target.url.origin() {
            return Err(Error::protocol(
                "server's legacy endpoint is on another origin; refusing to send our headers there",
            ));
        }
        let _ = self.legacy_endpoint.set(Target::new(url)?);
        Ok(stream)
    }

    async fn send_get(&self, headers: HeaderMap) -> Result<Response, Error> {
        self.client()?
            .send(Method::GET, &self.target, headers, Bytes::new(), "GET")
            .await
    }

    /// Opens an SSE stream with GET: the standalone stream, or a resumption after `last_id`.
    pub(crate) async fn get(&self, last_id: Option<&str>) -> Result<GetOutcome, Error> {
        let (mut headers, had_session) = self.base_headers(ACCEPT_SSE).await?;
        if let Some(id) = last_id {
            let value = HeaderValue::from_str(id)
                .map_err(|e| Error::protocol("server sent an unusable event id").with_source(e))?;
            headers.insert(LAST_EVENT_ID, value);
        }
        let response = self.send_get(headers).await?;
        match response.status() {
            StatusCode::METHOD_NOT_ALLOWED => return Ok(GetOutcome::NotAllowed),
            StatusCode::CONFLICT => return Ok(GetOutcome::Conflict),
            s if !s.is_success() => return Err(self.status_error(response, had_session).await),
            _ => {}
        }
        if media_type(&response) != Media::Sse {
            return Err(Error::protocol(
                "server answered GET without a text/event-stream body",
            ));
        }
        Ok(GetOutcome::Stream(Box::new(
            self.sse_stream(response, last_id.map(str::to_owned)),
        )))
    }

    /// Ends the session with DELETE.
    pub(crate) async fn delete(&self) -> Result<DeleteOutcome, Error> {
        let client = self.client()?;
        let (headers, had_session) = self.base_headers(ACCEPT_BOTH).await?;
        let response = client
            .send(
                Method::DELETE,
                &self.target,
                headers,
                Bytes::new(),
                "DELETE",
            )
            .await?;
        match response.status() {
            StatusCode::METHOD_NOT_ALLOWED => Ok(DeleteOutcome::NotAllowed),
            s if s.is_success() => {
                let _ = read_limited(response, ERROR_BODY_LIMIT).await;
                Ok(DeleteOutcome::Deleted)
            }
            _ => Err(self.status_error(response, had_session).await),
        }
    }

    fn sse_stream(&self, mut response: Response, last_id: Option<String>) -> SseStream {
        response.release_headers();
        SseStream {
            response,
            decoder: SseDecoder::new(self.config.max_message_bytes).with_last_id(last_id),
            idle: self.config.sse_idle_timeout,
            done: false,
        }
    }

    /// Turns a non-success status into an error, recognising an expired session: 404 on a
    /// request that carried a session id, or the 400 "no valid session" variant some servers use.
    async fn status_error(&self, response: Response, had_session: bool) -> Error {
        let status = response.status();
        let body = read_limited(response, ERROR_BODY_LIMIT)
            .await
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        if had_session
            && (status == StatusCode::NOT_FOUND
                || (status == StatusCode::BAD_REQUEST
                    && text.to_ascii_lowercase().contains("session")))
        {
            return Error::session_expired(status.as_u16());
        }
        let snippet: String = text.chars().take(200).collect();
        let message = if snippet.trim().is_empty() {
            "server refused the request".to_owned()
        } else {
            format!("server refused the request: {}", snippet.trim())
        };
        let error = Error::new(ErrorKind::HttpStatus, message).with_status(status.as_u16());
        // A 2026-07-28 server says why in a JSON-RPC error (-32020, -32022...): keep it.
        match serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                serde_json::from_value::<crate::protocol::RpcError>(v.get("error")?.clone()).ok()
            }) {
            Some(rpc) => error.with_rpc(rpc),
            None => error,
        }
    }
}

/// Adds the session's id and protocol version; says whether there was a session.
fn add_session_headers(headers: &mut HeaderMap, state: &SessionState) -> bool {
    if let Some(v) = &state.version {
        headers.insert(MCP_PROTOCOL_VERSION, v.clone());
    }
    match &state.id_header {
        Some(value) => {
            headers.insert(MCP_SESSION_ID, value.clone());
            true
        }
        None => false,
    }
}

/// The headers of a POST made without a header provider, in the order of precedence
/// `base_headers` gives them: the configured headers, then ours. With `host` (an owned pool,
/// which would add it), `Host` too unless configured: a clone of the template then has all
/// its entries, and no request grows it.
fn post_headers(
    configured: &HeaderMap,
    state: &SessionState,
    host: Option<&HeaderValue>,
) -> HeaderMap {
    let mut headers = configured.clone();
    headers.insert(ACCEPT, ACCEPT_BOTH);
    add_session_headers(&mut headers, state);
    headers.insert(CONTENT_TYPE, JSON);
    if let Some(host) = host
        && !headers.contains_key(HOST)
    {
        headers.insert(HOST, host.clone());
    }
    headers
}

/// A `reqwest::ClientBuilder` set up like mcptool's own pools: the process-wide TLS
/// configuration (ring provider, platform verifier), `TCP_NODELAY`, no redirects, HTTP/1.1.
/// Use it to build a client to lend with [`ClientBuilder::http_client`](crate::ClientBuilder::http_client).
#[cfg(feature = "reqwest-client")]
pub fn http_client_builder() -> Result<reqwest::ClientBuilder, Error> {
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(tls::client_config()?)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .http1_only())
}

/// The media type of a response's `Content-Type`, its parameters left out.
#[derive(Debug, PartialEq, Eq)]
enum Media<'a> {
    Json,
    Sse,
    Absent,
    Other(&'a str),
}

fn media_type(response: &Response) -> Media<'_> {
    media_type_of(response.headers())
}

fn media_type_of(headers: &HeaderMap) -> Media<'_> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Media::Absent;
    };
    // What servers almost always send, compared before any splitting.
    match value.as_bytes() {
        b"text/event-stream" => return Media::Sse,
        b"application/json" => return Media::Json,
        _ => {}
    }
    let Ok(value) = value.to_str() else {
        return Media::Other("(not text)");
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Media::Json
    } else if essence.eq_ignore_ascii_case("text/event-stream") {
        Media::Sse
    } else if essence.is_empty() {
        Media::Absent
    } else {
        Media::Other(essence)
    }
}

/// Reads a whole body, refusing one larger than `limit`.
async fn read_limited(mut response: Response, limit: usize) -> Result<Bytes, Error> {
    if let Some(len) = response.content_length().filter(|len| *len > limit as u64) {
        return Err(Error::protocol(format!(
            "message of {len} bytes exceeds the limit of {limit} bytes"
        )));
    }
    let mut first: Option<Bytes> = None;
    let mut rest: Vec<u8> = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Error::network("reading the response body failed").with_source(e))?
    {
        let total = first.as_ref().map_or(0, Bytes::len) + rest.len() + chunk.len();
        if total > limit {
            return Err(Error::protocol(format!(
                "message exceeds the limit of {limit} bytes"
            )));
        }
        match &first {
            None => first = Some(chunk),
            Some(f) => {
                if rest.is_empty() {
                    rest.extend_from_slice(f);
                }
                rest.extend_from_slice(&chunk);
            }
        }
    }
    Ok(if rest.is_empty() {
        first.unwrap_or_default()
    } else {
        Bytes::from(rest)
    })
}

/// How many times [`SseStream::finish`] lets other tasks run before it sets a timer.
const FINISH_YIELDS: usize = 2;

/// An open SSE response being decoded.
#[derive(Debug)]
pub(crate) struct SseStream {
    response: Response,
    decoder: SseDecoder,
    idle: Option<Duration>,
    done: bool,
}

impl SseStream {
    /// The next event with data; `Ok(None)` when the server ended the stream.
    pub(crate) async fn next_event(&mut self) -> Result<Option<SseEvent>, Error> {
        loop {
            if let Some(event) = self.decoder.next_event() {
                return Ok(Some(event));
            }
            if self.done {
                return Ok(None);
            }
            let chunk = match self.idle {
                Some(idle) => tokio::time::timeout(idle, self.response.chunk())
                    .await
                    .map_err(|_| Error::timeout(Deadline::SseIdle))?,
                None => self.response.chunk().await,
            };
            match chunk {
                Ok(Some(bytes)) => self.decoder.feed(&bytes).map_err(|o| {
                    Error::protocol(format!(
                        "SSE message exceeds the limit of {} bytes",
                        o.limit
                    ))
                })?,
                Ok(None) => self.done = true,
                Err(e) => {
                    return Err(Error::network("SSE stream broke").with_source(e));
                }
            }
        }
    }

    /// After the answer has arrived: waits up to `grace` for the server to end the stream, as
    /// the spec says it should, so that the connection goes back to the pool instead of being
    /// closed with the unfinished body. Anything else still on the stream is dropped.
    pub(crate) async fn finish(&mut self, grace: Duration) {
        // The end usually came in the same read as the answer, but the connection's task hands
        // it over only once asked for more: ask, and let that task run, before any timer.
        let mut ended = self.done;
        for turn in 0..=FINISH_YIELDS {
            while !ended {
                match futures_util::FutureExt::now_or_never(self.response.chunk()) {
                    Some(Ok(Some(_))) => {}
                    Some(_) => ended = true,
                    None => break,
                }
            }
            if ended || turn == FINISH_YIELDS {
                break;
            }
            tokio::task::yield_now().await;
        }
        if !ended {
            let rest = async { while let Ok(Some(_)) = self.response.chunk().await {} };
            ended = tokio::time::timeout(grace, rest).await.is_ok();
        }
        if !ended {
            tracing::debug!("response stream still open after its answer; closing it");
        }
    }

    /// The id of the last event received (priming events included), for resumption.
    pub(crate) fn last_event_id(&self) -> Option<&str> {
        self.decoder.last_event_id()
    }

    /// The server's last `retry` value.
    pub(crate) fn retry(&self) -> Option<Duration> {
        self.decoder.retry_ms().map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_media_type_without_its_parameters() {
        let of = |value: &[u8]| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_bytes(value).expect("value"));
            format!("{:?}", media_type_of(&headers))
        };
        assert_eq!(of(b"text/event-stream"), "Sse");
        assert_eq!(of(b"Text/Event-Stream; charset=utf-8"), "Sse");
        assert_eq!(of(b"application/json"), "Json");
        assert_eq!(of(b" application/JSON ;charset=UTF-8"), "Json");
        assert_eq!(of(b"text/html"), r#"Other("text/html")"#);
        assert_eq!(of(b"; charset=utf-8"), "Absent");
        assert_eq!(of(b"text/\xFF"), r#"Other("(not text)")"#);
        assert_eq!(format!("{:?}", media_type_of(&HeaderMap::new())), "Absent");
    }

    #[test]
    fn refuses_urls_that_would_leak_or_cannot_work() {
        let config = HttpConfig {
            headers: HeaderMap::new(),
            connect_timeout: Duration::from_secs(1),
            sse_idle_timeout: None,
            max_message_bytes: 1024,
            lent_client: None,
            provider: None,
        };
        for bad in [
            "not a url",
            "ftp://127.0.0.1/mcp",
            "http://user:pw@127.0.0.1/mcp",
        ] {
            let err = HttpTransport::new(bad, config.clone()).expect_err(bad);
            assert_eq!(err.kind(), ErrorKind::Config, "{bad}");
        }
    }
}
