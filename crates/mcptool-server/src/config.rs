//! Server configuration: [`ServerConfig`] and the fault knobs in [`Faults`].

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::auth::AuthConfig;

/// How the server answers a POSTed JSON-RPC request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ResponseMode {
    /// A `text/event-stream` per request: priming event, related messages, then the response.
    #[default]
    Sse,
    /// One `application/json` body; server-initiated messages go to the standalone GET stream.
    Json,
}

/// Which protocol eras the server speaks on its one endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Era {
    /// Both, as real dual-era servers do: `initialize`, a session id or a session-era
    /// `MCP-Protocol-Version` selects the session era; a request whose `_meta` names 2026-07-28
    /// (or whose header does, without a session) is served statelessly.
    #[default]
    Both,
    /// Only the session era (2025-03-26 .. 2025-11-25), as a server from before 2026-07-28.
    Sessions,
    /// Only 2026-07-28: no sessions, GET and DELETE answer 405, `initialize` is refused with the
    /// versions the server supports.
    Stateless,
}

/// How the server answers a request that names an unknown, terminated or expired session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DeadSessionStatus {
    /// `404 Not Found`, as the specification asks (and as Python SDK servers do).
    #[default]
    NotFound,
    /// `400 Bad Request` with the JSON-RPC error
    /// `{"code":-32000,"message":"Bad Request: No valid session ID provided"}`, as TypeScript SDK
    /// servers do.
    BadRequest,
}

/// Fault knobs, for testing how a client copes with a misbehaving server.
///
/// The fields other than `enabled` apply to every request. When `enabled` is true the server also
/// honours the per-request header `mcptool-fault` on POSTs, a comma-separated list of
/// `cut-after=N`, `close`, `status=500`, `delay-ms=N` and `expire`.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Honour the `mcptool-fault` request header.
    pub enabled: bool,
    /// End every SSE response after this many events (the priming event included); the rest of
    /// the stream stays in the event store for resumption.
    pub cut_sse_after_events: Option<usize>,
    /// Wait this long before handling every request.
    pub delay: Option<Duration>,
    /// Answer every request with `500 Internal Server Error`.
    pub status_500: bool,
    /// Drop the connection in the middle of every response body.
    pub close_mid_response: bool,
    /// The status used for dead sessions.
    pub dead_session_status: DeadSessionStatus,
    /// Answer DELETE with this status and keep the session alive.
    pub delete_status: Option<u16>,
    /// Misbehave: a DELETEd session id keeps working.
    pub accept_terminated_sessions: bool,
}

/// Everything [`Server::start`](crate::Server::start) needs; a builder with infallible setters.
///
/// ```
/// use mcptool_server::{ResponseMode, ServerConfig};
/// let config = ServerConfig::default().response_mode(ResponseMode::Json).page_size(10);
/// assert_eq!(config.path, "/mcp");
/// ```
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The address to bind; default `127.0.0.1:0`.
    pub bind: SocketAddr,
    /// Allow binding a non-loopback address; default false.
    pub allow_non_loopback: bool,
    /// The MCP endpoint path; default `/mcp`.
    pub path: String,
    /// How requests are answered; default [`ResponseMode::Sse`].
    pub response_mode: ResponseMode,
    /// Offer the standalone GET stream; default true (false answers GET with 405).
    pub get_stream: bool,
    /// Allow DELETE to terminate a session; default true (false answers 405).
    pub allow_delete: bool,
    /// Expire sessions idle for this long; default 10 minutes.
    pub session_idle_timeout: Option<Duration>,
    /// Allowed `Origin` values. An entry matches an origin equal to it or equal to it followed by
    /// `:port`; `"*"` allows every origin. Requests without `Origin` are always allowed.
    pub allowed_origins: Vec<String>,
    /// The largest accepted POST body; default 4 MiB.
    pub max_body_bytes: usize,
    /// Serve `GET /stats` with a JSON [`StatsSnapshot`](crate::StatsSnapshot); default false.
    pub stats_endpoint: bool,
    /// Page size of tools/prompts/resources lists; default 5.
    pub page_size: usize,
    /// The SSE `retry:` value in milliseconds; default 1000.
    pub retry_ms: u64,
    /// The most live sessions; beyond it `initialize` gets 503. Default 100 000.
    pub max_sessions: usize,
    /// Fault knobs; default none.
    pub faults: Faults,
    /// The protocol eras served; default [`Era::Both`].
    pub era: Era,
    /// The `ttlMs` caching hint on 2026-07-28 list, read and discover results; default 60 000.
    pub cache_ttl_ms: u64,
    /// The most `subscriptions/listen` streams open at once; beyond it a listen gets 503.
    /// Default 1 024.
    pub max_listen_streams: usize,
    /// How often an idle listen stream carries an SSE comment as keep-alive; default 15 s.
    pub listen_keepalive: Duration,
    /// How long a `requestState` of a multi-round-trip request stays valid; default 10 minutes.
    pub request_state_ttl: Duration,
    /// Protect the endpoint with OAuth 2.1 bearer tokens; default none (no authorization).
    pub auth: Option<AuthConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let origins = [
            "http://localhost",
            "https://localhost",
            "http://127.0.0.1",
            "https://127.0.0.1",
            "http://[::1]",
            "https://[::1]",
        ];
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            allow_non_loopback: false,
            path: "/mcp".to_owned(),
            response_mode: ResponseMode::Sse,
            get_stream: true,
            allow_delete: true,
            session_idle_timeout: Some(Duration::from_secs(600)),
            allowed_origins: origins.iter().map(|s| (*s).to_owned()).collect(),
            max_body_bytes: 4 * 1024 * 1024,
            stats_endpoint: false,
            page_size: 5,
            retry_ms: 1000,
            max_sessions: 100_000,
            faults: Faults::default(),
            era: Era::Both,
            cache_ttl_ms: 60_000,
            max_listen_streams: 1024,
            listen_keepalive: Duration::from_secs(15),
            request_state_ttl: Duration::from_secs(600),
            auth: None,
        }
    }
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        #[must_use]
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = value;
            self
        }
    };
}

impl ServerConfig {
    setter!(
        /// Sets the address to bind.
        bind: SocketAddr
    );
    setter!(
        /// Allows a non-loopback bind address.
        allow_non_loopback: bool
    );
    setter!(
        /// Sets the response mode.
        response_mode: ResponseMode
    );
    setter!(
        /// Offers (or refuses with 405) the standalone GET stream.
        get_stream: bool
    );
    setter!(
        /// Allows (or refuses with 405) DELETE.
        allow_delete: bool
    );
    setter!(
        /// Sets the idle expiry of sessions; `None` never expires them.
        session_idle_timeout: Option<Duration>
    );
    setter!(
        /// Sets the allowed `Origin` values.
        allowed_origins: Vec<String>
    );
    setter!(
        /// Sets the largest accepted POST body.
        max_body_bytes: usize
    );
    setter!(
        /// Serves `GET /stats`.
        stats_endpoint: bool
    );
    setter!(
        /// Sets the SSE `retry:` value in milliseconds.
        retry_ms: u64
    );
    setter!(
        /// Sets the most live sessions.
        max_sessions: usize
    );
    setter!(
        /// Sets the fault knobs.
        faults: Faults
    );
    setter!(
        /// Sets the protocol eras served.
        era: Era
    );
    setter!(
        /// Sets the `ttlMs` caching hint of 2026-07-28 results.
        cache_ttl_ms: u64
    );
    setter!(
        /// Sets the most listen streams open at once.
        max_listen_streams: usize
    );
    setter!(
        /// Sets the keep-alive period of idle listen streams.
        listen_keepalive: Duration
    );
    setter!(
        /// Sets how long a multi-round-trip `requestState` stays valid.
        request_state_ttl: Duration
    );

    /// Makes the server an OAuth 2.1 protected resource: the endpoint needs bearer tokens of
    /// the configured issuer, and the protected resource metadata is served (see [`AuthConfig`]).
    #[must_use]
    pub fn auth(mut self, auth: AuthConfig) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Sets the endpoint path (a leading `/` is added when missing).
    #[must_use]
    pub fn path(mut self, path: impl Into<String>) -> Self {
        let path = path.into();
        self.path = if path.starts_with('/') {
            path
        } else {
            format!("/{path}")
        };
        self
    }

    /// Sets the page size of list results (at least 1).
    #[must_use]
    pub fn page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// Whether `origin` is allowed by [`ServerConfig::allowed_origins`].
    pub(crate) fn origin_allowed(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|allowed| {
            allowed == "*"
                || origin == allowed
                || origin
                    .strip_prefix(allowed.as_str())
                    .and_then(|rest| rest.strip_prefix(':'))
                    .is_some_and(|port| {
                        !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
                    })
        })
    }
}
