//! `ClientBuilder`: every setting of a client, checked once at `build()`.

use std::sync::Arc;
use std::time::Duration;

use http::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

use super::era::{EraCache, ProtocolEra};
use super::handlers::{Answering, Handler, Handlers};
use super::shared::{LegacyFallback, ReconnectPolicy, Settings, Shared, StandaloneStream};
use super::{Client, ClientInner};
use crate::auth::OAuth;
use crate::error::Error;
use crate::protocol::ProtocolVersion;
use crate::transport::{HeaderProvider, HttpConfig, HttpTransport};

/// Default per-request timeout.
pub(crate) const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Default cap on one message (JSON body or SSE event).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// Configures and connects a [`Client`]. Setters never fail; [`ClientBuilder::build`] and
/// [`ClientBuilder::connect`] report the first problem.
///
/// A builder can be cloned: each clone builds clients of its own (a tool keeps one to open a
/// fresh client, with a fresh pool, at every `connect()`).
#[must_use]
#[derive(Clone)]
pub struct ClientBuilder {
    url: String,
    headers: Vec<(String, String)>,
    lent_client: Option<reqwest::Client>,
    provider: Option<HeaderProvider>,
    settings: Settings,
    connect_timeout: Duration,
    sse_idle_timeout: Option<Duration>,
    max_message_bytes: usize,
    version: ProtocolVersion,
    client_info: Value,
    handlers: Handlers,
    notification_capacity: usize,
    oauth: Option<OAuth>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ClientBuilder")
            .field("url", &self.url)
            .field("headers", &header_names)
            .field("lent_client", &self.lent_client.is_some())
            .field("oauth", &self.oauth)
            .field("settings", &self.settings)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    pub(crate) fn new(url: &str) -> ClientBuilder {
        ClientBuilder {
            url: url.to_owned(),
            headers: Vec::new(),
            lent_client: None,
            provider: None,
            settings: Settings {
                request_timeout: DEFAULT_REQUEST_TIMEOUT,
                initialize_timeout: Duration::from_secs(30),
                close_timeout: Duration::from_secs(5),
                standalone_stream: StandaloneStream::WhenNeeded,
                terminate_on_close: true,
                reconnect: ReconnectPolicy::Fail,
                resume_attempts: 5,
                legacy_fallback: LegacyFallback::Auto,
                era: ProtocolEra::Auto,
                era_cache: None,
                default_retry: Duration::from_millis(500),
            },
            connect_timeout: Duration::from_secs(10),
            sse_idle_timeout: None,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            version: ProtocolVersion::LATEST,
            client_info: json!({"name": "mcptool", "version": env!("CARGO_PKG_VERSION")}),
            handlers: Handlers::default(),
            notification_capacity: 256,
            oauth: None,
        }
    }

    /// Adds a header sent with every request. Values are never printed by `Debug`.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> ClientBuilder {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Calls `provider` before every request for headers to add (a fresh token, say); they
    /// override static headers of the same name.
    pub fn header_provider(mut self, provider: HeaderProvider) -> ClientBuilder {
        self.provider = Some(provider);
        self
    }

    /// Sends `Authorization: Bearer <token>` with every request.
    pub fn bearer_token(self, token: impl AsRef<str>) -> ClientBuilder {
        let value = format!("Bearer {}", token.as_ref());
        self.header(AUTHORIZATION.as_str(), value)
    }

    /// Authorizes with OAuth 2.1 when the server asks (a 401): see [`OAuth`]. Its traffic
    /// (metadata, registration, tokens) runs on this client's pool and ends with `close()`;
    /// its tokens go to this server's URL only.
    pub fn oauth(mut self, oauth: OAuth) -> ClientBuilder {
        self.oauth = Some(oauth);
        self
    }

    /// Gives the OAuth configuration a store of its own now, so that every client built from
    /// this builder (a tool's reconnects) shares it; a lent store stays.
    pub(crate) fn own_token_store(mut self) -> ClientBuilder {
        if let Some(oauth) = self.oauth.take() {
            let store = oauth
                .store
                .clone()
                .unwrap_or_else(|| Arc::new(crate::auth::MemoryTokenStore::new()));
            self.oauth = Some(oauth.token_store(store));
        }
        self
    }

    /// Uses the caller's HTTP client instead of building one. A lent client is never closed
    /// by us: `close()` ends the session and our streams, and the pool stays the caller's.
    #[cfg(feature = "reqwest-client")]
    pub fn http_client(mut self, client: reqwest::Client) -> ClientBuilder {
        self.lent_client = Some(client);
        self
    }

    /// Time allowed to open a TCP (and TLS) connection. Default 10 s. A lent client
    /// (`http_client`, with the `reqwest-client` feature) keeps its own connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.connect_timeout = timeout;
        self
    }

    /// Default time allowed for each request. Default 60 s. Time our own handlers spend
    /// answering the server's requests meanwhile (a person filling in an elicitation form)
    /// does not count: it pushes the deadline out, as progress can.
    pub fn request_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.settings.request_timeout = timeout;
        self
    }

    /// Time allowed for the `initialize` handshake. Default 30 s.
    pub fn initialize_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.settings.initialize_timeout = timeout;
        self
    }

    /// Time allowed for each step of `close()` (the `DELETE`, stopping tasks). Default 5 s.
    pub fn close_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.settings.close_timeout = timeout;
        self
    }

    /// Fails a stream on which no byte arrived for this long. Default: none.
    pub fn sse_idle_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.sse_idle_timeout = Some(timeout);
        self
    }

    /// The largest message (JSON body or SSE event) accepted. Default 16 MiB.
    pub fn max_message_bytes(mut self, bytes: usize) -> ClientBuilder {
        self.max_message_bytes = bytes;
        self
    }

    /// The protocol version offered at `initialize`. Default: the latest.
    ///
    /// 2026-07-28 is never offered at `initialize`: pinning it speaks that era instead, as
    /// [`protocol_era(ProtocolEra::Stateless)`](Self::protocol_era) does; pinning a session-era
    /// version selects the session era.
    pub fn protocol_version(mut self, version: ProtocolVersion) -> ClientBuilder {
        if version == ProtocolVersion::V2026_07_28 {
            self.settings.era = ProtocolEra::Stateless;
        } else {
            self.settings.era = ProtocolEra::Session;
            self.version = version;
        }
        self
    }

    /// The `clientInfo` sent at `initialize`.
    pub fn client_info(
        mut self,
        name: impl Into<String>,
        version: impl Into<String>,
    ) -> ClientBuilder {
        self.client_info = json!({"name": name.into(), "version": version.into()});
        self
    }

    /// When to open the standalone GET stream for server-initiated messages. Default
    /// [`StandaloneStream::WhenNeeded`]; `true` means [`StandaloneStream::Always`] and `false`
    /// [`StandaloneStream::Never`].
    pub fn standalone_stream(mut self, mode: impl Into<StandaloneStream>) -> ClientBuilder {
        self.settings.standalone_stream = mode.into();
        self
    }

    /// Whether `close()` ends the session with `DELETE`. Default on. Off, `close()` still
    /// closes every stream and connection of ours.
    pub fn terminate_on_close(mut self, enabled: bool) -> ClientBuilder {
        self.settings.terminate_on_close = enabled;
        self
    }

    /// What to do when the server has dropped our session. Default: fail.
    pub fn reconnect_policy(mut self, policy: ReconnectPolicy) -> ClientBuilder {
        self.settings.reconnect = policy;
        self
    }

    /// How many times a cut response stream is resumed before the request fails. Default 5.
    pub fn resume_attempts(mut self, attempts: u32) -> ClientBuilder {
        self.settings.resume_attempts = attempts;
        self
    }

    /// The protocol era to speak. Default: [`ProtocolEra::Auto`], which finds the server's
    /// era at `connect()`. With [`ProtocolEra::Stateless`], `connect()` calls
    /// `server/discover` instead of `initialize` and fails unless the server serves
    /// 2026-07-28; with [`ProtocolEra::Session`] it calls `initialize` at once.
    pub fn protocol_era(mut self, era: ProtocolEra) -> ClientBuilder {
        self.settings.era = era;
        self
    }

    /// Shares what automatic detection finds with the other clients this cache is lent to,
    /// so that only the first client of a server pays the probe (see [`EraCache`]). Only
    /// [`ProtocolEra::Auto`] clients use it.
    pub fn era_cache(mut self, cache: &EraCache) -> ClientBuilder {
        self.settings.era_cache = Some(cache.clone());
        self
    }

    /// Whether to fall back to the legacy HTTP+SSE transport when the server refuses the
    /// `initialize` POST with 400, 404 or 405. Default: auto.
    pub fn legacy_fallback(mut self, fallback: LegacyFallback) -> ClientBuilder {
        self.settings.legacy_fallback = fallback;
        self
    }

    /// Answers the server's `roots/list` requests (and declares the `roots` capability).
    pub fn on_roots(mut self, handler: Handler) -> ClientBuilder {
        self.handlers.roots = Some(handler);
        self
    }

    /// Answers the server's `sampling/createMessage` requests.
    pub fn on_sampling(mut self, handler: Handler) -> ClientBuilder {
        self.handlers.sampling = Some(handler);
        self
    }

    /// Answers the server's `elicitation/create` requests.
    pub fn on_elicitation(mut self, handler: Handler) -> ClientBuilder {
        self.handlers.elicitation = Some(handler);
        self
    }

    /// How many server notifications a slow subscriber may lag behind. Default 256.
    pub fn notification_capacity(mut self, capacity: usize) -> ClientBuilder {
        self.notification_capacity = capacity;
        self
    }

    /// The server URL.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Whether the caller lent an HTTP client.
    pub(crate) fn lends_pool(&self) -> bool {
        self.lent_client.is_some()
    }

    /// Checks the URL and headers: what [`build`](Self::build) would refuse, without building.
    pub(crate) fn check(&self) -> Result<(), Error> {
        crate::transport::check_url(&self.url)?;
        self.header_map().map(|_| ())
    }

    fn header_map(&self) -> Result<HeaderMap, Error> {
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| {
                Error::config(format!("invalid header name {name:?}")).with_source(e)
            })?;
            let mut value = HeaderValue::from_str(value).map_err(|e| {
                Error::config(format!("invalid value for header {name}")).with_source(e)
            })?;
            value.set_sensitive(true);
            headers.append(name, value);
        }
        Ok(headers)
    }

    /// Checks the settings and builds an unconnected client (with its own HTTP pool unless
    /// one was lent).
    pub fn build(self) -> Result<Client, Error> {
        let headers = self.header_map()?;
        let answering = Arc::new(Answering::default());
        let transport = HttpTransport::new(
            &self.url,
            HttpConfig {
                headers,
                connect_timeout: self.connect_timeout,
                sse_idle_timeout: self.sse_idle_timeout,
                max_message_bytes: self.max_message_bytes,
                lent_client: self.lent_client,
                provider: self.provider,
                oauth: self.oauth.map(|oauth| (oauth, Arc::clone(&answering))),
            },
        )?;
        let shared = Shared::new(
            transport,
            self.settings,
            self.handlers,
            self.client_info,
            self.version,
            self.notification_capacity,
            answering,
        );
        Ok(Client {
            inner: Arc::new(ClientInner {
                shared: Arc::new(shared),
            }),
        })
    }

    /// Builds the client and runs the `initialize` handshake.
    pub async fn connect(self) -> Result<Client, Error> {
        let client = self.build()?;
        client.open().await?;
        Ok(client)
    }
}
