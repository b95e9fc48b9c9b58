//! A small agent web service, the seed's setting: every HTTP request is one agent turn, and
//! every turn gets its own MCP tool — its own session and connection pool — which it closes
//! before answering. No session or socket outlives the turn that opened it.
//!
//! `POST /turn` with `{"function": "echo", "arguments": {"message": "hi"}}` (both optional;
//! the default function is `whoami`) answers with the session used (redacted), how many
//! functions the model was offered, the output in MCP shape and as text, and how `close()`
//! went. A real agent would hand the functions to its model and invoke what the model picks;
//! here the request says what to invoke.
//!
//! ```text
//! cargo run -p mcptool --example agent_service -- --listen 127.0.0.1:8080
//! curl -s -XPOST 127.0.0.1:8080/turn -d '{"function":"echo","arguments":{"message":"hi"}}'
//! ```
//!
//! Without `--mcp-url` it starts the in-repo strict server in-process.
//!
//! The tools find the server's protocol era by themselves; the service lends them one
//! [`EraCache`](mcptool::EraCache), so that only the first turn pays the probe. That is all
//! they share.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use clap::Parser;
use mcptool::{EraCache, McpStreamableHttpTool};
use serde_json::{Value, json};

#[derive(Parser, Debug)]
#[command(about = "An agent service that opens one MCP tool per turn")]
struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The MCP endpoint; default: start the strict server in-process.
    #[arg(long)]
    mcp_url: Option<String>,
}

/// What every turn needs: where the MCP server is, and which era it speaks once known.
#[derive(Debug)]
struct Service {
    mcp_url: String,
    eras: EraCache,
}

/// The service's routes, for `mcp_url`.
pub(crate) fn app(mcp_url: String) -> Router {
    Router::new()
        .route("/turn", post(turn))
        .with_state(Arc::new(Service {
            mcp_url,
            eras: EraCache::new(),
        }))
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// One agent turn: a tool of its own, connected, invoked, closed.
async fn turn(State(service): State<Arc<Service>>, body: Bytes) -> Response {
    let request: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return json_response(
                    StatusCode::BAD_REQUEST,
                    &json!({"error": format!("body is not JSON: {e}")}),
                );
            }
        }
    };
    let function = request["function"].as_str().unwrap_or("whoami").to_owned();
    let arguments = request.get("arguments").cloned().unwrap_or(json!({}));
    let tool = McpStreamableHttpTool::builder("agent", service.mcp_url.as_str())
        .era_cache(&service.eras)
        .build();
    let tool = match tool {
        Ok(tool) => tool,
        Err(e) => {
            return json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({"error": e.to_string()}),
            );
        }
    };
    if let Err(e) = tool.connect().await {
        return json_response(
            StatusCode::BAD_GATEWAY,
            &json!({"error": format!("connect: {e}")}),
        );
    }
    let session = tool.session_id().map(|s| s.to_string());
    let era = tool
        .client()
        .and_then(|c| c.protocol_version())
        .map(|v| v.as_str());
    let offered = tool.openai_tools().len();
    let invoked = tool.invoke(&function, arguments).await;
    // Close before answering, whatever happened: the turn owns the session.
    let closed = tool.close().await;
    match invoked {
        Ok(output) => json_response(
            StatusCode::OK,
            &json!({
                "session": session,
                "era": era,
                "functions": offered,
                "output": output.to_value(),
                "text": output.text(),
                "close": match &closed {
                    Ok(outcome) => format!("{outcome:?}"),
                    Err(e) => format!("error: {e}"),
                },
            }),
        ),
        Err(e) => json_response(
            StatusCode::BAD_GATEWAY,
            &json!({"error": format!("invoke: {e}"), "session": session}),
        ),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let server = match &args.mcp_url {
        Some(_) => None,
        None => Some(mcptool_server::Server::start(mcptool_server::ServerConfig::default()).await?),
    };
    let mcp_url = args
        .mcp_url
        .clone()
        .or_else(|| server.as_ref().map(|s| s.url()))
        .unwrap_or_default();
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    println!(
        "agent service on http://{} (MCP server {mcp_url})",
        listener.local_addr()?
    );
    axum::serve(listener, app(mcp_url))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    if let Some(server) = server {
        server.shutdown().await;
    }
    Ok(())
}
