//! `McpStreamableHttpToolBuilder`: every setting of a tool, checked once at `build()`.

use std::sync::Arc;
use std::time::Duration;

use super::approval::{ApprovalMode, Approver};
use super::{McpStreamableHttpTool, ToolInner};
use crate::client::{Client, ClientBuilder, EraCache, ProtocolEra, ReconnectPolicy};
use crate::error::Error;
use crate::transport::HeaderProvider;

/// The settings of one tool; immutable once built, shared with its background task.
#[derive(Clone, Debug)]
pub(crate) struct ToolConfig {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    /// The settings of the client each `connect()` opens, checked at `build()`.
    pub(crate) client: ClientBuilder,
    pub(crate) execution_timeout: Option<Duration>,
    pub(crate) load_tools: bool,
    pub(crate) load_prompts: bool,
    pub(crate) allowed_tools: Option<Vec<String>>,
    pub(crate) prefix: Option<String>,
    pub(crate) approval: ApprovalMode,
    pub(crate) approver: Option<Approver>,
}

/// Configures an [`McpStreamableHttpTool`]. Setters never fail; [`build`](Self::build)
/// reports the first problem.
///
/// The tool holds a [`ClientBuilder`] for the sessions it opens: the setters below that
/// concern the connection pass through to it, and [`client`](Self::client) reaches every
/// other client setting (handlers, streams, sizes, timeouts).
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
                description: None,
                client: Client::builder(url),
                execution_timeout: None,
                load_tools: true,
                load_prompts: true,
                allowed_tools: None,
                prefix: None,
                approval: ApprovalMode::default(),
                approver: None,
            },
        }
    }

    /// Configures the client of every session the tool opens: any [`ClientBuilder`] setting.
    ///
    /// ```
    /// # fn demo() -> Result<(), mcptool::Error> {
    /// use std::time::Duration;
    /// let tool = mcptool::McpStreamableHttpTool::builder("demo", "http://127.0.0.1:8081/mcp")
    ///     .client(|c| c.initialize_timeout(Duration::from_secs(5)).max_message_bytes(1 << 20))
    ///     .build()?;
    /// # let _ = tool; Ok(()) }
    /// ```
    pub fn client(mut self, configure: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Self {
        self.config.client = configure(self.config.client);
        self
    }

    fn with_client(self, configure: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Self {
        self.client(configure)
    }

    /// What this server is for, shown to whoever picks tools (not sent to the server).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.config.description = Some(description.into());
        self
    }

    /// Adds a header sent with every request. Values are never printed by `Debug`.
    pub fn header(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.with_client(|c| c.header(name, value))
    }

    /// Sends `Authorization: Bearer <token>` with every request.
    pub fn bearer_token(self, token: impl AsRef<str>) -> Self {
        self.with_client(|c| c.bearer_token(token))
    }

    /// Authorizes with OAuth 2.1 when the server asks: see [`OAuth`](crate::OAuth). Unless a
    /// store is lent, the tokens belong to this tool: kept across its reconnects, shared with
    /// no other tool.
    pub fn oauth(self, oauth: crate::OAuth) -> Self {
        self.with_client(|c| c.oauth(oauth))
    }

    /// Calls `provider` before every request, `initialize` included, for headers to add (a
    /// fresh token, say). They go only to the server's own URL: every request goes to that one
    /// endpoint and redirects are never followed.
    pub fn header_provider(self, provider: HeaderProvider) -> Self {
        self.with_client(|c| c.header_provider(provider))
    }

    /// Time allowed to open a TCP (and TLS) connection. Default 10 s. Ignored with a lent
    /// HTTP client, whose own setting applies.
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        self.with_client(|c| c.connect_timeout(timeout))
    }

    /// Time allowed for each request (a `tools/call`, a list, a prompt). Default 60 s.
    pub fn request_timeout(self, timeout: Duration) -> Self {
        self.with_client(|c| c.request_timeout(timeout))
    }

    /// Fails a stream on which no byte arrived for this long. Default: none.
    pub fn sse_idle_timeout(self, timeout: Duration) -> Self {
        self.with_client(|c| c.sse_idle_timeout(timeout))
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
    pub fn terminate_on_close(self, enabled: bool) -> Self {
        self.with_client(|c| c.terminate_on_close(enabled))
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
    #[cfg(feature = "reqwest-client")]
    pub fn http_client(self, client: reqwest::Client) -> Self {
        self.with_client(|c| c.http_client(client))
    }

    /// What to do when the server has dropped the session: re-initialise once (shared by all
    /// concurrent callers) and retry, or fail. Default: fail.
    pub fn reconnect_policy(self, policy: ReconnectPolicy) -> Self {
        self.with_client(|c| c.reconnect_policy(policy))
    }

    /// The protocol era each session of the tool speaks. Default: [`ProtocolEra::Auto`],
    /// which finds the server's era at each `connect()` (see [`era_cache`](Self::era_cache) to
    /// pay that once per server); [`ProtocolEra::Stateless`] speaks 2026-07-28 (no session to
    /// lose or to `DELETE`), [`ProtocolEra::Session`] the session era.
    pub fn protocol_era(self, era: ProtocolEra) -> Self {
        self.with_client(|c| c.protocol_era(era))
    }

    /// Shares what automatic era detection finds with the other tools and clients this cache
    /// is lent to: a service that creates a tool per run pays the probe once per server, not
    /// once per run. Nothing else is shared: each tool keeps its own session and pool.
    pub fn era_cache(self, cache: &EraCache) -> Self {
        self.with_client(|c| c.era_cache(cache))
    }

    /// Checks the settings (the client's included) and builds an unconnected tool.
    pub fn build(self) -> Result<McpStreamableHttpTool, Error> {
        let config = self.config;
        if config.name.trim().is_empty() {
            return Err(Error::config("a tool needs a name"));
        }
        config.client.check()?;
        let mut config = config;
        config.client = config.client.own_token_store();
        Ok(McpStreamableHttpTool {
            inner: Arc::new(ToolInner::new(config)),
        })
    }
}
