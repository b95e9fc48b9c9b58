//! The demo content: tools, prompts and resources that exercise every client feature.
//!
//! Demo code knows nothing of sessions, streams or HTTP. Both protocol eras answer the content
//! methods through [`request`], handing it a [`Ctx`] that says how the era talks back to the
//! client: where progress and log messages go, how a tool gets input from the user or the model
//! (a request on a stream in the session era, a multi-round-trip result in 2026-07-28), and which
//! [`Scope`] of demo state the request sees.

mod media;
mod prompts;
mod resources;
mod run;
mod scope;
mod tools;

use std::future::Future;

use serde_json::{Value, json};

use crate::rpc::{self, RpcError};

pub(crate) use crate::demo::scope::{Change, Scope};
pub(crate) use crate::demo::tools::{definition as tool_definition, required_capability};

/// Log levels, least severe first (RFC 5424 names as MCP uses them).
pub(crate) const LOG_LEVELS: [&str; 8] = [
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

/// The server's name and version, as `serverInfo` reports them.
pub(crate) fn server_info() -> Value {
    json!({"name": "mcptool-server", "version": env!("CARGO_PKG_VERSION")})
}

/// What the server tells a model about itself.
pub(crate) const INSTRUCTIONS: &str =
    "A strict reference MCP server with demo tools, prompts and resources.";

/// How a request talks back to the client; each protocol era implements it.
pub(crate) trait Ctx: Send + Sync {
    /// The session this request runs in (session era only).
    fn session_id(&self) -> Option<&str>;
    /// The page size of list results.
    fn page_size(&self) -> usize;
    /// The demo state this request sees: per session, or server-wide in 2026-07-28.
    fn scope(&self) -> &Scope;
    /// The JSON-RPC code for an unknown resource in this era.
    fn resource_not_found_code(&self) -> i64;
    /// Tells whoever listens that a list or a resource changed.
    fn changed(&self, change: Change);
    /// Sends a `notifications/progress` related to this request.
    fn progress(&self, params: Value);
    /// Sends a log message at `level` (an index into [`LOG_LEVELS`]) where the era sends them,
    /// and only when the client asked for that level.
    fn log(&self, level: usize, params: Value);
    /// Gets input from the client: the result of an `elicitation/create`,
    /// `sampling/createMessage` or `roots/list` request, identified by `key` within the request.
    fn input(
        &self,
        key: &str,
        method: &str,
        params: Value,
    ) -> impl Future<Output = Result<Value, Halt>> + Send;
    /// Resolves when the request is cancelled.
    fn cancelled(&self) -> impl Future<Output = ()> + Send;
}

/// Why a request stopped before its result.
#[derive(Debug)]
pub(crate) enum Halt {
    /// A tool failed: its answer is this `isError` result.
    Tool(Value),
    /// The client must supply input first; the context knows which (2026-07-28).
    Input,
    /// A JSON-RPC error.
    Rpc(RpcError),
}

impl From<RpcError> for Halt {
    fn from(err: RpcError) -> Self {
        Self::Rpc(err)
    }
}

/// The methods the demo content answers, in both eras.
pub(crate) const METHODS: [&str; 8] = [
    "tools/list",
    "tools/call",
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "completion/complete",
];

/// The server capabilities of the demo content. The session era announces only tool list
/// changes (its clients open the GET stream for what is announced); 2026-07-28 listen streams
/// carry every list change and resource updates.
pub(crate) fn capabilities(everything_changes: bool) -> Value {
    json!({
        "tools": {"listChanged": true},
        "prompts": {"listChanged": everything_changes},
        "resources": {"subscribe": everything_changes, "listChanged": everything_changes},
        "logging": {},
        "completions": {},
    })
}

/// Whether `uri` names a resource that can be subscribed to.
pub(crate) fn resource_exists(uri: &str) -> bool {
    resources::contents(uri).is_some()
}

/// Answers one content method.
pub(crate) async fn request(ctx: &impl Ctx, method: &str, params: &Value) -> Result<Value, Halt> {
    let page_size = ctx.page_size();
    let scope = ctx.scope();
    match method {
        "tools/list" => Ok(paginate(
            tools::definitions(scope.extra_tool()),
            "tools",
            params,
            page_size,
        )?),
        "tools/call" => run::call(ctx, params).await,
        "prompts/list" => Ok(paginate(
            &prompts::definitions(scope.extra_prompt()),
            "prompts",
            params,
            page_size,
        )?),
        "prompts/get" => prompts::get(ctx, params).await,
        "resources/list" => Ok(paginate(
            &resources::definitions(scope.extra_resource()),
            "resources",
            params,
            page_size,
        )?),
        "resources/templates/list" => Ok(paginate(
            &resources::templates(),
            "resourceTemplates",
            params,
            page_size,
        )?),
        "resources/read" => resources::read(ctx, params),
        "completion/complete" => Ok(prompts::complete(params)),
        _ => Err(Halt::Rpc(RpcError::new(
            rpc::METHOD_NOT_FOUND,
            format!("Method not found: {method}"),
        ))),
    }
}

/// One page of `items` under `key`, with `nextCursor` (a decimal offset) when more follow.
fn paginate(
    items: &[Value],
    key: &str,
    params: &Value,
    page_size: usize,
) -> Result<Value, RpcError> {
    let start = match params.get("cursor") {
        None | Some(Value::Null) => 0,
        Some(Value::String(cursor)) => cursor
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= items.len())
            .ok_or_else(|| RpcError::invalid_params("invalid cursor"))?,
        Some(_) => return Err(RpcError::invalid_params("invalid cursor")),
    };
    let end = (start + page_size).min(items.len());
    let mut page = serde_json::Map::new();
    page.insert(key.to_owned(), Value::Array(items[start..end].to_vec()));
    if end < items.len() {
        page.insert("nextCursor".to_owned(), Value::String(end.to_string()));
    }
    Ok(Value::Object(page))
}
