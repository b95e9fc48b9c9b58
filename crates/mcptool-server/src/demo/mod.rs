//! The demo content: methods, tools, prompts and resources that exercise every client feature.

mod media;
mod prompts;
mod resources;
mod tools;

use serde_json::{Value, json};

use crate::call::CallCtx;
use crate::rpc::{self, RpcError};
use crate::server::App;
use crate::session::{Session, lock};

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

/// The `initialize` result for a negotiated version.
pub(crate) fn initialize_result(version: &str) -> Value {
    json!({
        "protocolVersion": version,
        "capabilities": {
            "tools": {"listChanged": true},
            "prompts": {"listChanged": false},
            "resources": {"subscribe": false, "listChanged": false},
            "logging": {},
            "completions": {},
        },
        "serverInfo": {"name": "mcptool-server", "version": env!("CARGO_PKG_VERSION")},
        "instructions": "A strict reference MCP server with demo tools, prompts and resources.",
    })
}

/// Handles a notification from the client.
pub(crate) fn notification(app: &App, session: &Session, method: &str, params: &Value) {
    match method {
        "notifications/initialized" => lock(&session.state).initialized = true,
        "notifications/cancelled" => {
            let Some(id) = params.get("requestId") else {
                return;
            };
            let token = lock(&session.state).in_flight.remove(&id.to_string());
            if let Some(token) = token {
                token.cancel();
                app.stats.update(|s| s.cancelled_requests += 1);
            }
        }
        _ => {}
    }
}

/// Answers one request.
pub(crate) async fn request(ctx: &CallCtx, method: &str, params: Value) -> Result<Value, RpcError> {
    let page_size = ctx.app.config.page_size;
    match method {
        "ping" => Ok(json!({})),
        "tools/list" => {
            let extra = lock(&ctx.session.state).extra_tool;
            paginate(tools::definitions(extra), "tools", &params, page_size)
        }
        "tools/call" => tools::call(ctx, params).await,
        "prompts/list" => paginate(&prompts::definitions(), "prompts", &params, page_size),
        "prompts/get" => prompts::get(&params),
        "resources/list" => paginate(&resources::definitions(), "resources", &params, page_size),
        "resources/templates/list" => paginate(
            &resources::templates(),
            "resourceTemplates",
            &params,
            page_size,
        ),
        "resources/read" => resources::read(&params),
        "completion/complete" => Ok(prompts::complete(&params)),
        "logging/setLevel" => {
            let level = params.get("level").and_then(Value::as_str).unwrap_or("");
            let index = LOG_LEVELS
                .iter()
                .position(|l| *l == level)
                .ok_or_else(|| RpcError::invalid_params(format!("unknown log level {level:?}")))?;
            lock(&ctx.session.state).log_level = index;
            Ok(json!({}))
        }
        _ => Err(RpcError::new(
            rpc::METHOD_NOT_FOUND,
            format!("Method not found: {method}"),
        )),
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
