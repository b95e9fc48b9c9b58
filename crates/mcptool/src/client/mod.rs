//! The MCP client: one session over one transport, with correlation, timeouts,
//! cancellation, progress and server→client requests.

mod builder;
mod cache;
mod decode;
mod discover;
mod era;
mod exchange;
mod handlers;
mod lifecycle;
mod listen;
mod mrtr;
mod options;
mod phase;
mod reply_stream;
mod request;
mod retry;
mod router;
mod shared;
mod stateless;
mod stream;

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use tokio::sync::broadcast;

pub use builder::{ClientBuilder, DEFAULT_MAX_MESSAGE_BYTES};
pub use era::{EraCache, ProtocolEra};
pub(crate) use handlers::Answering;
pub use handlers::{Handler, HandlerFuture};
pub use lifecycle::CloseOutcome;
pub use options::{Progress, RequestOptions};
pub use router::ServerNotification;
pub use shared::{LegacyFallback, ReconnectPolicy, StandaloneStream};

use crate::error::Error;
use crate::protocol::{
    CallToolResult, CompleteResult, GetPromptResult, InitializeResult, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, Prompt, ProtocolVersion,
    ReadResourceResult, Resource, ResourceTemplate, Tool,
};
use crate::transport::SessionId;
use shared::Shared;

/// Most pages we follow in one `list_*` call, against a server whose cursors never end.
const MAX_PAGES: usize = 1000;

/// A connection to one MCP server: its own session and, unless one was lent, its own HTTP
/// connection pool.
///
/// `Client` is a cheap handle: clones share one session. [`Client::close`] ends everything:
/// the standalone stream, background tasks, the session (`DELETE`) and the pool. Dropping the
/// last handle without `close()` cancels the tasks and lets the sockets close, but cannot send
/// the `DELETE` (that needs an `.await`): the server keeps the session until it expires it.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<ClientInner>,
}

#[derive(Debug)]
struct ClientInner {
    shared: Arc<Shared>,
}

impl Drop for ClientInner {
    fn drop(&mut self) {
        self.shared.shutdown_now();
    }
}

impl Client {
    /// Starts configuring a client for the MCP endpoint at `url`.
    pub fn builder(url: impl AsRef<str>) -> ClientBuilder {
        ClientBuilder::new(url.as_ref())
    }

    /// Connects with default settings.
    pub async fn connect(url: impl AsRef<str>) -> Result<Client, Error> {
        Client::builder(url).connect().await
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    /// Connects a client made by [`ClientBuilder::build`] — what [`ClientBuilder::connect`]
    /// does in one step: in its era, `initialize` or `server/discover` (automatic detection
    /// first, by default). Building first lets a caller subscribe to
    /// [`notifications`](Self::notifications) before anything arrives. A client opens once:
    /// on a connected or closed client this is an error, never a second session; after a
    /// failed `open()` it may be called again.
    pub async fn open(&self) -> Result<Arc<InitializeResult>, Error> {
        let s = self.shared();
        if s.phase.is_closed() {
            return Err(Error::closed());
        }
        if !s.phase.claim_open() {
            return Err(Error::config(
                "the client is already connected, or connecting; build another client for another session",
            ));
        }
        let opened = s.open().await;
        if opened.is_err() && !s.phase.is_closed() {
            // Nothing was opened: a later `open()` may try again.
            s.phase.release_open();
        }
        opened
    }

    /// What the server said at `initialize`, once connected.
    pub fn server_info(&self) -> Option<Arc<InitializeResult>> {
        self.shared()
            .server
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The negotiated protocol version, once connected.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.server_info()
            .and_then(|s| s.protocol_version.parse().ok())
    }

    /// The session id the server assigned, if it uses sessions.
    pub fn session_id(&self) -> Option<SessionId> {
        self.shared().transport.session_id()
    }

    /// Whether the client fell back to the legacy HTTP+SSE transport (2024-11-05).
    pub fn is_legacy_transport(&self) -> bool {
        self.shared().transport.is_legacy()
    }

    /// Whether the client is initialised, not closed, and its session not known to be gone.
    pub fn is_connected(&self) -> bool {
        self.shared().phase.is_live()
    }

    /// Whether `close()` has run (or the client was shut down).
    pub fn is_closed(&self) -> bool {
        self.shared().phase.is_closed()
    }

    /// Whether this client built its own HTTP pool (rather than borrowing the caller's).
    pub fn owns_http_client(&self) -> bool {
        self.shared().transport.owns_client()
    }

    /// How many requests are waiting for an answer.
    pub fn requests_in_flight(&self) -> usize {
        self.shared().router.pending_count()
    }

    /// Subscribes to the server's notifications (list changes, log messages...). Progress
    /// notifications go to the request that asked for them instead. With the default
    /// [`StandaloneStream::WhenNeeded`], the first subscription opens the standalone stream
    /// that carries them (at once if the session is up, else right after `initialize`).
    pub fn notifications(&self) -> broadcast::Receiver<ServerNotification> {
        let receiver = self.shared().router.subscribe();
        self.shared().standalone_stream_needed();
        receiver
    }

    /// Sends any request and decodes its result.
    pub async fn request<R: DeserializeOwned>(
        &self,
        method: &str,
        params: Option<&Value>,
        options: &RequestOptions,
    ) -> Result<R, Error> {
        self.shared().request(method, params, options).await
    }

    /// Sends a notification.
    pub async fn notify(&self, method: &str, params: Option<&Value>) -> Result<(), Error> {
        if self.is_closed() {
            return Err(Error::closed());
        }
        self.shared().notify(method, params).await
    }

    /// `ping`.
    pub async fn ping(&self) -> Result<(), Error> {
        let _: Value = self
            .request("ping", None, &RequestOptions::default())
            .await?;
        Ok(())
    }

    /// Every tool, following `nextCursor` through all pages.
    pub async fn list_tools(&self) -> Result<Vec<Tool>, Error> {
        self.paginate("tools/list", |page: ListToolsResult| {
            (page.tools, page.next_cursor)
        })
        .await
    }

    /// Every prompt, all pages.
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, Error> {
        self.paginate("prompts/list", |page: ListPromptsResult| {
            (page.prompts, page.next_cursor)
        })
        .await
    }

    /// Every resource, all pages.
    pub async fn list_resources(&self) -> Result<Vec<Resource>, Error> {
        self.paginate("resources/list", |page: ListResourcesResult| {
            (page.resources, page.next_cursor)
        })
        .await
    }

    /// Every resource template, all pages.
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplate>, Error> {
        self.paginate(
            "resources/templates/list",
            |page: ListResourceTemplatesResult| (page.resource_templates, page.next_cursor),
        )
        .await
    }

    async fn paginate<P: DeserializeOwned, T>(
        &self,
        method: &str,
        split: impl Fn(P) -> (Vec<T>, Option<String>),
    ) -> Result<Vec<T>, Error> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let params = cursor.as_ref().map(|c| json!({ "cursor": c }));
            let page: P = self
                .request(method, params.as_ref(), &RequestOptions::default())
                .await?;
            let (items, next) = split(page);
            all.extend(items);
            match next {
                Some(next) if Some(&next) != cursor.as_ref() => cursor = Some(next),
                Some(_) => {
                    return Err(Error::protocol(format!(
                        "server repeated the same {method} cursor"
                    )));
                }
                None => return Ok(all),
            }
        }
        Err(Error::protocol(format!(
            "server returned more than {MAX_PAGES} pages for {method}"
        )))
    }

    /// `tools/call` with default options. An `isError: true` result is `Ok`: it is the tool's
    /// answer, for the model to read.
    pub async fn call_tool(&self, name: &str, arguments: Value) -> Result<CallToolResult, Error> {
        self.call_tool_with(name, arguments, &RequestOptions::default())
            .await
    }

    /// `tools/call` with a timeout, progress callback or cancellation token.
    pub async fn call_tool_with(
        &self,
        name: &str,
        arguments: Value,
        options: &RequestOptions,
    ) -> Result<CallToolResult, Error> {
        let params = NamedCall {
            name,
            arguments: &arguments,
        };
        self.shared()
            .request("tools/call", Some(&params), options)
            .await
    }

    /// `prompts/get` with string arguments.
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: &Map<String, Value>,
    ) -> Result<GetPromptResult, Error> {
        let params = NamedCall { name, arguments };
        self.shared()
            .request("prompts/get", Some(&params), &RequestOptions::default())
            .await
    }

    /// `resources/read`.
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, Error> {
        #[derive(serde::Serialize)]
        struct Params<'a> {
            uri: &'a str,
        }
        self.shared()
            .request(
                "resources/read",
                Some(&Params { uri }),
                &RequestOptions::default(),
            )
            .await
    }

    /// `completion/complete` for one argument of a prompt or resource template; `reference`
    /// is `{"type": "ref/prompt", "name": ...}` or `{"type": "ref/resource", "uri": ...}`.
    pub async fn complete(
        &self,
        reference: Value,
        argument: &str,
        value: &str,
    ) -> Result<CompleteResult, Error> {
        let params = json!({
            "ref": reference,
            "argument": { "name": argument, "value": value },
        });
        self.request(
            "completion/complete",
            Some(&params),
            &RequestOptions::default(),
        )
        .await
    }

    /// `logging/setLevel`.
    pub async fn set_logging_level(&self, level: &str) -> Result<(), Error> {
        let params = json!({ "level": level });
        let _: Value = self
            .request(
                "logging/setLevel",
                Some(&params),
                &RequestOptions::default(),
            )
            .await?;
        Ok(())
    }

    /// Ends the session and releases everything this client holds: stops the standalone
    /// stream and background tasks, sends `DELETE` (unless `terminate_on_close` is off),
    /// fails requests still in flight with a closed error, and closes every connection of
    /// its pool, in use or idle (a lent pool stays the caller's): each socket closes as soon
    /// as its connection task runs next, without `close()` waiting for it. Idempotent: later
    /// calls return
    /// [`CloseOutcome::AlreadyClosed`]. An error names the step that failed; the client is
    /// closed all the same.
    pub async fn close(&self) -> Result<CloseOutcome, Error> {
        self.shared().close().await
    }
}

/// The params of `tools/call` and `prompts/get`, written straight into the request.
#[derive(serde::Serialize)]
struct NamedCall<'a, A: serde::Serialize + ?Sized> {
    name: &'a str,
    arguments: &'a A,
}
