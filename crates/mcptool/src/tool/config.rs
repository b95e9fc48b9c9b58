//! `McpStreamableHttpToolBuilder`: every setting of a tool, checked once at `build()`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::approval::{ApprovalMode, Approver};
use super::{McpStreamableHttpTool, ToolInner};
use crate::client::{Client, ClientBuilder, ProtocolEra, ReconnectPolicy};
use crate::error::Error;
use crate::transport::HeaderProvider;

/// Default time allowed for each request of a tool.
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The settings of one tool; immutable once built, shared with its background task.
#[derive(Clone)]
pub(crate) struct ToolConfig {
    pub(crate) name: String,
    pub(crate) url: String,
    pub(crate) description: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) header_provider: Option<HeaderProvider>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) request_timeout: Duration,
    pub(crate) sse_idle_timeout: Option<Duration>,
    pub(crate) execution_timeout: Option<Duration>,
    pub(crate) terminate_on_close: bool,
    pub(crate) load_tools: bool,
    pub(crate) load_prompts: bool,
    pub(crate) allowed_tools: Option<Vec<String>>,
    pub(crate) prefix: Option<String>,
    pub(crate) approval: ApprovalMode,
    pub(crate) approver: Option<Approver>,
    pub(crate) lent_client: Option<reqwest::Client>,
    pub(crate) reconnect: ReconnectPolicy,
    pub(crate) era: ProtocolEra,
}

impl fmt::Debug for ToolConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may be credentials: only their names are printed.
        let header_names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ToolConfig")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("headers", &header_names)
            .field("header_provider", &self.header_provider.is_some())
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("sse_idle_timeout", &self.sse_idle_timeout)
            .field("execution_timeout", &self.execution_timeout)
            .field("terminate_on_close", &self.terminate_on_close)
            .field("load_tools", &self.load_tools)
            .field("load_prompts", &self.load_prompts)
            .field("allowed_tools", &self.allowed_tools)
            .field("prefix", &self.prefix)
            .field("approval", &self.approval)
            .field("approver", &self.approver.is_some())
            .field("lent_client", &self.lent_client.is_some())
            .field("reconnect", &self.reconnect)
            .field("era", &self.era)
            .finish()
    }
}

impl ToolConfig {
    /// A client builder for one session of this tool (a fresh pool unless one was lent).
    pub(crate) fn client_builder(&self) -> ClientBuilder {
        let mut builder = Client::builder(&self.url)
            .request_timeout(self.request_timeout)
            .terminate_on_close(self.terminate_on_close)
            .reconnect_policy(self.reconnect)
            .protocol_era(self.era);
        for (name, value) in &self.headers {
            builder = builder.header(name.clone(), value.clone());
        }
        if let Some(provider) = &self.header_provider {
            builder = builder.header_provider(provider.clone());
        }
        if let Some(timeout) = self.connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        if let Some(timeout) = self.sse_idle_timeout {
            builder = builder.sse_idle_timeout(timeout);
        }
        if let Some(client) = &self.lent_client {
            builder = builder.http_client(client.clone());
        }
        builder
    }
}

/// Configures an [`McpStreamableHttpTool`]. Setters never fail; [`build`](Self::build)
/// reports the first problem.
#[must_use]
#[derive(Debug)]
pub struct McpStreamableHttpToolBuilder {
    config: ToolConfig,
}

impl McpStreamableHttpToolBuilder {
    pub(crate) fn new(name: String, url: String) -> McpStreamableHttpToolBuilder {
        McpStreamableHttpToolBuilder {
            config: ToolConfig {
                name,
                url,
                description: None,
                headers: Vec::new(),
                header_provider: None,
                connect_timeout: None,
                request_timeout: DEFAULT_REQUEST_TIMEOUT,
                sse_idle_timeout: None,
                execution_timeout: None,
                terminate_on_close: true,
                load_tools: true,
                load_prompts: true,
                allowed_tools: None,
                prefix: None,
                approval: ApprovalMode::default(),
                approver: None,
                lent_client: None,
                reconnect: ReconnectPolicy::Fail,
                era: ProtocolEra::Session,
            },
        }
    }

    /// What this server is for, shown to whoever picks tools (not sent to the server).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.config.description = Some(description.into());
        self
    }

    /// Adds a header sent with every request. Values are never printed by `Debug`.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.headers.push((name.into(), value.into()));
        self
    }

    /// Sends `Authorization: Bearer <token>` with every request.
    pub fn bearer_token(self, token: impl AsRef<str>) -> Self {
        let value = format!("Bearer {}", token.as_ref());
        self.header("authorization", value)
    }

    /// Calls `provider` before every request, `initialize` included, for headers to add (a
    /// fresh token, say). They go only to the server's own URL: every request goes to that one
    /// endpoint and redirects are never followed.
    pub fn header_provider(mut self, provider: HeaderProvider) -> Self {
        self.config.header_provider = Some(provider);
        self
    }

    /// Time allowed to open a TCP (and TLS) connection. Default 10 s. Ignored with a lent
    /// HTTP client, whose own setting applies.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = Some(timeout);
        self
    }

    /// Time allowed for each request (a `tools/call`, a list, a prompt). Default 60 s.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// Fails a stream on which no byte arrived for this long. Default: none.
    pub fn sse_idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.sse_idle_timeout = Some(timeout);
        self
    }

    /// Time allowed for one [`invoke`](McpStreamableHttpTool::invoke) from the moment it
    /// is approved, a re-initialisation and retry included. Expiry is a timeout error whose
    /// deadline is [`Deadline::Execution`](crate::Deadline::Execution). Default: none.
    pub fn execution_timeout(mut self, timeout: Duration) -> Self {
        self.config.execution_timeout = Some(timeout);
        self
    }

    /// Whether `close()` ends the session with `DELETE`. Default on. Off, `close()` still
    /// closes every stream and connection of the tool.
    pub fn terminate_on_close(mut self, enabled: bool) -> Self {
        self.config.terminate_on_close = enabled;
        self
    }

    /// Whether the server's tools become functions. Default on.
    pub fn load_tools(mut self, enabled: bool) -> Self {
        self.config.load_tools = enabled;
        self
    }

    /// Whether the server's prompts become functions. Default on.
    pub fn load_prompts(mut self, enabled: bool) -> Self {
        self.config.load_prompts = enabled;
        self
    }

    /// Only these MCP tools (by their name on the server) become functions. Not calling this
    /// allows all; an empty list allows none. Prompts are not filtered.
    pub fn allowed_tools<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.allowed_tools = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Put in front of every function name (before normalisation), to keep the functions of
    /// several servers apart.
    pub fn tool_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.prefix = Some(prefix.into());
        self
    }

    /// Which calls need approval. Default: none.
    pub fn approval_mode(mut self, mode: ApprovalMode) -> Self {
        self.config.approval = mode;
        self
    }

    /// Who approves the calls that need it. Without an approver, such calls are denied.
    pub fn approver(mut self, approver: Approver) -> Self {
        self.config.approver = Some(approver);
        self
    }

    /// Uses the caller's HTTP client instead of one of the tool's own. A lent client is never
    /// closed by the tool: `close()` ends the session and the tool's streams, and the pool
    /// stays the caller's (the tool keeps a handle on it, to connect again, until dropped).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.config.lent_client = Some(client);
        self
    }

    /// What to do when the server has dropped the session: re-initialise once (shared by all
    /// concurrent callers) and retry, or fail. Default: fail.
    pub fn reconnect_policy(mut self, policy: ReconnectPolicy) -> Self {
        self.config.reconnect = policy;
        self
    }

    /// The protocol era each session of the tool speaks. Default: the session era;
    /// [`ProtocolEra::Stateless`] speaks 2026-07-28 (no session to lose or to `DELETE`).
    pub fn protocol_era(mut self, era: ProtocolEra) -> Self {
        self.config.era = era;
        self
    }

    /// Checks the settings and builds an unconnected tool.
    pub fn build(self) -> Result<McpStreamableHttpTool, Error> {
        let config = self.config;
        if config.name.trim().is_empty() {
            return Err(Error::config("a tool needs a name"));
        }
        check_url(&config.url)?;
        for (name, value) in &config.headers {
            http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| {
                Error::config(format!("invalid header name {name:?}")).with_source(e)
            })?;
            http::HeaderValue::from_str(value).map_err(|e| {
                Error::config(format!("invalid value for header {name}")).with_source(e)
            })?;
        }
        Ok(McpStreamableHttpTool {
            inner: Arc::new(ToolInner::new(config)),
        })
    }
}

/// The checks `connect()` would make on the URL, made early so `build()` reports them.
fn check_url(url: &str) -> Result<(), Error> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| Error::config(format!("invalid server URL {url:?}")).with_source(e))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::config(format!(
            "server URL must be http or https, not {}",
            parsed.scheme()
        )));
    }
    Ok(())
}
