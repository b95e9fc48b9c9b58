//! `McpStreamableHttpTool`: one MCP server as a set of functions an agent can call, with its
//! own session and connection pool per instance.
//!
//! The data path: [`McpStreamableHttpTool::invoke`] (approval, argument validation) →
//! [`Client`] request → result conversion into a [`ToolOutput`]. A background task refreshes
//! the functions when the server says its lists changed.

mod approval;
mod config;
mod functions;
mod invoke;
mod output;
mod refresh;

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use approval::{ApprovalDecision, ApprovalFuture, ApprovalMode, ApprovalRequest, Approver};
pub use config::McpStreamableHttpToolBuilder;
pub use functions::{Function, FunctionKind, normalize_function_name};
pub use output::{OutputKind, SchemaViolation, ToolOutput};

use crate::client::{Client, CloseOutcome};
use crate::error::Error;
use crate::transport::SessionId;
use config::ToolConfig;
use functions::Catalog;

/// How long `close()` waits for the refresh task to stop.
const TASK_STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// One MCP server over Streamable HTTP, seen as functions an LLM can call.
///
/// Each instance owns its MCP session and, unless one was lent, its HTTP connection pool:
/// [`connect`](Self::connect) opens both, [`close`](Self::close) ends both (session `DELETE`
/// unless `terminate_on_close` is off, the standalone stream, the list-refresh task, the
/// pool). Create, connect, invoke and close one per agent run, sequentially or side by side:
/// no session or socket is ever shared between instances.
///
/// `McpStreamableHttpTool` is a cheap handle: clones share one tool. Dropping the last handle
/// without `close()` stops the background tasks and lets the sockets close, but cannot send
/// the `DELETE` (that needs an `.await`): the server keeps the session until it expires it.
///
/// ```no_run
/// # async fn run() -> Result<(), mcptool::Error> {
/// use mcptool::McpStreamableHttpTool;
/// use serde_json::json;
///
/// let tool = McpStreamableHttpTool::builder("demo", "http://127.0.0.1:8081/mcp")
///     .allowed_tools(["echo", "add"])
///     .build()?;
/// tool.connect().await?;
/// let definitions: Vec<_> = tool.functions().iter().map(|f| f.to_openai()).collect();
/// # let _ = definitions;
/// let output = tool.invoke("add", json!({"a": 1, "b": 2})).await?;
/// println!("{}", output.text());
/// tool.close().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct McpStreamableHttpTool {
    inner: Arc<ToolInner>,
}

pub(crate) struct ToolInner {
    config: Arc<ToolConfig>,
    /// Serialises `connect()` and `close()`.
    lifecycle: tokio::sync::Mutex<()>,
    state: Mutex<State>,
    catalog: Arc<CatalogCell>,
}

enum State {
    Idle,
    Connected(Connection),
    Closed,
}

/// One session of the tool and the task that keeps its functions current.
struct Connection {
    client: Client,
    stop: CancellationToken,
    refresh: Option<JoinHandle<()>>,
}

impl Drop for ToolInner {
    fn drop(&mut self) {
        if let State::Connected(conn) =
            &*self.state.get_mut().unwrap_or_else(PoisonError::into_inner)
        {
            conn.stop.cancel();
        }
    }
}

/// The current functions and their version, shared with the refresh task.
pub(crate) struct CatalogCell {
    current: RwLock<Arc<Catalog>>,
    version: watch::Sender<u64>,
}

impl CatalogCell {
    fn new() -> CatalogCell {
        CatalogCell {
            current: RwLock::new(Arc::new(Catalog::default())),
            version: watch::channel(0).0,
        }
    }

    pub(crate) fn snapshot(&self) -> Arc<Catalog> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Installs `catalog`; bumps the version when the functions differ (or `force`).
    pub(crate) fn replace(&self, catalog: Catalog, force: bool) -> bool {
        let changed = {
            let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
            let changed = force || !current.same_functions(&catalog);
            *current = Arc::new(catalog);
            changed
        };
        if changed {
            self.version.send_modify(|v| *v += 1);
        }
        changed
    }
}

impl ToolInner {
    pub(crate) fn new(config: ToolConfig) -> ToolInner {
        ToolInner {
            config: Arc::new(config),
            lifecycle: tokio::sync::Mutex::new(()),
            state: Mutex::new(State::Idle),
            catalog: Arc::new(CatalogCell::new()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for McpStreamableHttpTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpStreamableHttpTool")
            .field("name", &self.inner.config.name)
            .field("url", &self.inner.config.client.url())
            .field("session", &self.session_id())
            .field("connected", &self.is_connected())
            .field("functions_version", &self.functions_version())
            .finish_non_exhaustive()
    }
}

impl McpStreamableHttpTool {
    /// Starts configuring a tool named `name` for the MCP endpoint at `url`.
    pub fn builder(
        name: impl Into<String>,
        url: impl Into<String>,
    ) -> McpStreamableHttpToolBuilder {
        McpStreamableHttpToolBuilder::new(name.into(), url.into())
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.inner.config.name
    }

    /// The tool's description, if one was set.
    pub fn description(&self) -> Option<&str> {
        self.inner.config.description.as_deref()
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        self.inner.config.client.url()
    }

    /// Opens a session: a fresh HTTP pool (unless one was lent), `initialize`, the tool and
    /// prompt lists, and the task that follows their changes. Does nothing when already
    /// connected; after `close()` it opens a new session with a new pool.
    pub async fn connect(&self) -> Result<(), Error> {
        let _lifecycle = self.inner.lifecycle.lock().await;
        if matches!(*self.inner.state(), State::Connected(_)) {
            return Ok(());
        }
        let config = &self.inner.config;
        let client = config.client.clone().build()?;
        let loaded = async {
            let server = client.open().await?;
            // Subscribing opens the standalone stream: only for lists the server says change,
            // and before they are loaded, so that no change after the load goes unseen.
            let notifications = refresh::follows_changes(&server.capabilities, config)
                .then(|| client.notifications());
            refresh::load(&client, config)
                .await
                .map(|catalog| (catalog, notifications))
        }
        .await;
        let (catalog, notifications) = match loaded {
            Ok(loaded) => loaded,
            Err(e) => {
                if let Err(close) = client.close().await {
                    tracing::debug!(error = %close, "closing after a failed connect failed too");
                }
                return Err(e);
            }
        };
        self.inner.catalog.replace(catalog, true);
        let stop = CancellationToken::new();
        let refresh = notifications.map(|notifications| {
            tokio::spawn(refresh::run(
                client.clone(),
                Arc::clone(config),
                Arc::clone(&self.inner.catalog),
                notifications,
                stop.clone(),
            ))
        });
        tracing::debug!(tool = %config.name, session = ?client.session_id(), "tool connected");
        *self.inner.state() = State::Connected(Connection {
            client,
            stop,
            refresh,
        });
        Ok(())
    }

    /// Ends the session and releases everything the tool holds: the refresh task, the
    /// standalone stream, the session (`DELETE`, unless `terminate_on_close` is off) and the
    /// connection pool (a lent pool stays the caller's). The functions are cleared.
    /// Idempotent: a second call returns [`CloseOutcome::AlreadyClosed`]; closing a tool that
    /// never connected returns [`CloseOutcome::NoSession`]. An error names the step that
    /// failed; the tool is closed all the same.
    pub async fn close(&self) -> Result<CloseOutcome, Error> {
        let _lifecycle = self.inner.lifecycle.lock().await;
        let previous = std::mem::replace(&mut *self.inner.state(), State::Closed);
        match previous {
            State::Idle => Ok(CloseOutcome::NoSession),
            State::Closed => Ok(CloseOutcome::AlreadyClosed),
            State::Connected(conn) => {
                conn.stop.cancel();
                if let Some(task) = conn.refresh
                    && tokio::time::timeout(TASK_STOP_TIMEOUT, task).await.is_err()
                {
                    tracing::warn!("the list refresh task did not stop within 5 s");
                }
                self.inner.catalog.replace(Catalog::default(), false);
                conn.client.close().await
            }
        }
    }

    /// Whether the tool has a live session: connected, not closed, and the server has not
    /// said the session is gone.
    pub fn is_connected(&self) -> bool {
        match &*self.inner.state() {
            State::Connected(conn) => conn.client.is_connected(),
            _ => false,
        }
    }

    /// The session's client while connected (for what the tool does not wrap: resources,
    /// notifications...). Closing it closes the tool's session.
    pub fn client(&self) -> Option<Client> {
        match &*self.inner.state() {
            State::Connected(conn) => Some(conn.client.clone()),
            _ => None,
        }
    }

    /// The current session id, while connected.
    pub fn session_id(&self) -> Option<SessionId> {
        self.client().and_then(|c| c.session_id())
    }

    /// Whether the tool builds its own HTTP pool (rather than borrowing the caller's).
    pub fn owns_http_client(&self) -> bool {
        !self.inner.config.client.lends_pool()
    }

    /// The functions the model may call now.
    pub fn functions(&self) -> Vec<Function> {
        self.inner.catalog.snapshot().functions()
    }

    /// One function by its (normalised) name.
    pub fn function(&self, name: &str) -> Option<Function> {
        self.inner
            .catalog
            .snapshot()
            .get(name)
            .map(|e| e.function.clone())
    }

    /// The functions as OpenAI Chat Completions tool definitions.
    pub fn openai_tools(&self) -> Vec<Value> {
        self.functions().iter().map(Function::to_openai).collect()
    }

    /// The functions as Anthropic Messages API tool definitions.
    pub fn anthropic_tools(&self) -> Vec<Value> {
        self.functions()
            .iter()
            .map(Function::to_anthropic)
            .collect()
    }

    /// The version of the function set: bumped at every connect, close, and refresh that
    /// changed a function.
    pub fn functions_version(&self) -> u64 {
        *self.inner.catalog.version.borrow()
    }

    /// Watches the version of the function set; wakes on every change.
    pub fn watch_functions(&self) -> watch::Receiver<u64> {
        self.inner.catalog.version.subscribe()
    }

    fn connected_client(&self) -> Result<Client, Error> {
        match &*self.inner.state() {
            State::Connected(conn) => Ok(conn.client.clone()),
            State::Idle => Err(Error::config(
                "the tool is not connected; call connect() first",
            )),
            State::Closed => Err(Error::closed()),
        }
    }
}
