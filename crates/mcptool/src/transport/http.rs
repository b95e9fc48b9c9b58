//! The Streamable HTTP transport of one client: its URL, its connection pool and the session
//! headers every request carries. Each exchange has a file of its own: `post` (a message and
//! its answer), `get` (the standalone stream and resumption), `legacy` (the 2024-11-05
//! HTTP+SSE fallback), `delete` (the session's end) and `response` (what a response is: media
//! types, status errors, bounded bodies).

mod authorized;
mod delete;
mod get;
mod legacy;
mod post;
mod response;

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use http::header::{ACCEPT, CONTENT_TYPE, HOST, HeaderMap, HeaderName, HeaderValue};
use reqwest::Url;

use super::backend::{Pool, Response, Target};
use super::headers::HeaderProvider;
use super::session::SessionId;
use super::sse::{SseDecoder, SseStream};
#[cfg(feature = "reqwest-client")]
use super::tls;
use crate::auth::{Authorizer, OAuth};
use crate::client::Answering;
use crate::error::Error;
use crate::protocol::ProtocolVersion;

pub(crate) use delete::DeleteOutcome;
pub(crate) use get::GetOutcome;
pub(crate) use post::PostResponse;
pub(crate) use response::read_limited;

const MCP_SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");
const MCP_PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");
const ACCEPT_BOTH: HeaderValue = HeaderValue::from_static("application/json, text/event-stream");
const ACCEPT_SSE: HeaderValue = HeaderValue::from_static("text/event-stream");
const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Settings the transport needs; filled from the client builder.
#[derive(Clone, Debug)]
pub(crate) struct HttpConfig {
    pub(crate) headers: HeaderMap,
    pub(crate) connect_timeout: Duration,
    pub(crate) sse_idle_timeout: Option<Duration>,
    pub(crate) max_message_bytes: usize,
    pub(crate) lent_client: Option<reqwest::Client>,
    pub(crate) provider: Option<HeaderProvider>,
    /// OAuth, with the client's clock of time spent waiting on the user.
    pub(crate) oauth: Option<(OAuth, Arc<Answering>)>,
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
    /// The authorization layer, when OAuth is configured.
    auth: Option<Authorizer>,
    /// Set when the server speaks the legacy HTTP+SSE transport (2024-11-05): where to POST.
    legacy_endpoint: std::sync::OnceLock<Target>,
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
        let auth = config
            .oauth
            .clone()
            .map(|(oauth, answering)| Authorizer::new(oauth, &url, answering));
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
            auth,
            legacy_endpoint: std::sync::OnceLock::new(),
        })
    }

    pub(crate) fn url(&self) -> &Url {
        &self.target.url
    }

    /// Whether the credentials may change between requests (a header provider, OAuth).
    pub(crate) fn credentials_may_change(&self) -> bool {
        self.config.provider.is_some() || self.auth.is_some()
    }

    /// Whether the HTTP client is ours to close.
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

    async fn send_get(&self, headers: HeaderMap) -> Result<Response, Error> {
        let client = self.client()?;
        self.send_authorized(
            &client,
            Method::GET,
            &self.target,
            headers,
            Bytes::new(),
            "GET",
        )
        .await
    }

    fn sse_stream(&self, response: Response, last_id: Option<String>) -> SseStream {
        let decoder = SseDecoder::new(self.config.max_message_bytes).with_last_id(last_id);
        SseStream::new(response, decoder, self.config.sse_idle_timeout)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn refuses_urls_that_would_leak_or_cannot_work() {
        let config = HttpConfig {
            headers: HeaderMap::new(),
            connect_timeout: Duration::from_secs(1),
            sse_idle_timeout: None,
            max_message_bytes: 1024,
            lent_client: None,
            provider: None,
            oauth: None,
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
