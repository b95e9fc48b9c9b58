//! Interop with rmcp 3.11's 2026-07-28 serving, in-process on 127.0.0.1 behind axum.
//!
//! rmcp 3.11 has no `stateful_mode`; its `StreamableHttpServerConfig` has
//! `legacy_session_mode` (default `true`: an `initialize` opens a session) and routes every
//! request that carries the 2026-07-28 `_meta` statelessly whatever that flag says, with
//! `server/discover` answered by the handler. Three configurations are checked:
//!
//! - [`Setup::Default`]: sessions for the session era, 2026-07-28 beside them;
//! - [`Setup::NoSessions`]: `legacy_session_mode: false`, every request stateless, the session
//!   era without a session id;
//! - [`Setup::ModernOnly`]: `legacy_session_mode: false`,
//!   `stateless_protocol_metadata_required: true`, and a handler that supports 2026-07-28 only.
//!
//! A recording layer keeps what the server saw (method, headers, status); sockets are counted on
//! both ends, since client and server share this process.

mod support;

use std::borrow::Cow;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use mcptool::protocol::ProtocolVersion as McpVersion;
use mcptool::{Client, CloseOutcome, McpStreamableHttpTool, ProtocolEra};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ListToolsResult, PaginatedRequestParams,
    ProtocolVersion, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use support::{client_sockets_to, eventually, server_sockets_at, within};
use tokio_util::sync::CancellationToken;

const LIMIT: Duration = Duration::from_secs(60);
const SETTLE: Duration = Duration::from_secs(5);
const MODERN: &str = "2026-07-28";
/// Largest request body the recorder buffers (the tests send small ones).
const MAX_RECORDED_BODY: usize = 1 << 20;

/// rmcp's model types are `#[non_exhaustive]`: built here from their wire form.
fn wire<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("a valid rmcp model value")
}

/// Which rmcp configuration serves the endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Setup {
    Default,
    NoSessions,
    ModernOnly,
}

/// The handler: echo {message}, and era {} (the request's `MCP-Protocol-Version` and
/// `Mcp-Session-Id` headers as the handler saw them).
#[derive(Clone, Debug)]
struct Demo {
    modern_only: bool,
}

impl ServerHandler for Demo {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(wire(json!({"tools": {}})))
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        if self.modern_only {
            Cow::Owned(vec![ProtocolVersion::V_2026_07_28])
        } else {
            Cow::Borrowed(ProtocolVersion::KNOWN_VERSIONS)
        }
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(wire(json!({"tools": [
            {"name": "echo", "description": "Echoes the message", "inputSchema": {
                "type": "object",
                "properties": {"message": {"type": "string"}},
                "required": ["message"],
            }},
            {"name": "era", "description": "The request's era headers", "inputSchema": {
                "type": "object",
            }},
        ]})))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = request.arguments.unwrap_or_default();
        let text = match &*request.name {
            "echo" => args
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            "era" => {
                let parts = context.extensions.get::<http::request::Parts>();
                let header = |name: &str| {
                    parts
                        .and_then(|p| p.headers.get(name))
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                json!({
                    "protocolVersionHeader": header("mcp-protocol-version"),
                    "sessionId": header("mcp-session-id"),
                })
                .to_string()
            }
            other => {
                return Err(ErrorData::invalid_params(
                    format!("no tool named {other}"),
                    None,
                ));
            }
        };
        Ok(CallToolResponse::Complete(wire(
            json!({"content": [{"type": "text", "text": text}]}),
        )))
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    http_method: String,
    rpc_method: Option<String>,
    protocol_version: Option<String>,
    mcp_method: Option<String>,
    session_id: Option<String>,
    status: u16,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// Records each request before rmcp sees it (the body is buffered and handed on unchanged).
async fn record(State(log): State<Log>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_RECORDED_BODY)
        .await
        .expect("a small request body");
    let rpc_method = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("method").and_then(Value::as_str).map(str::to_owned));
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut seen = Seen {
        http_method: parts.method.to_string(),
        rpc_method,
        protocol_version: header("mcp-protocol-version"),
        mcp_method: header("mcp-method"),
        session_id: header("mcp-session-id"),
        status: 0,
    };
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    seen.status = response.status().as_u16();
    log.lock().expect("log").push(seen);
    response
}

/// The rmcp service on 127.0.0.1; stops (and ends every session) when dropped.
struct RmcpPeer {
    addr: SocketAddr,
    log: Log,
    stop: CancellationToken,
}

impl RmcpPeer {
    fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.log.lock().expect("log").clone()
    }

    fn rpc_methods(&self) -> Vec<String> {
        self.seen()
            .into_iter()
            .filter(|s| s.http_method == "POST")
            .filter_map(|s| s.rpc_method)
            .collect()
    }

    fn count(&self, http_method: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.http_method == http_method)
            .count()
    }
}

impl Drop for RmcpPeer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn start_rmcp(setup: Setup) -> RmcpPeer {
    let stop = CancellationToken::new();
    let mut config = StreamableHttpServerConfig::default()
        .with_sse_keep_alive(None)
        .with_cancellation_token(stop.child_token());
    if setup != Setup::Default {
        config = config.with_legacy_session_mode(false);
    }
    if setup == Setup::ModernOnly {
        config = config.with_stateless_protocol_metadata_required(true);
    }
    let modern_only = setup == Setup::ModernOnly;
    let service: StreamableHttpService<Demo, LocalSessionManager> =
        StreamableHttpService::new(move || Ok(Demo { modern_only }), Arc::default(), config);
    let log = Log::default();
    let router = axum::Router::new()
        .nest_service("/mcp", service)
        .layer(middleware::from_fn_with_state(Arc::clone(&log), record));
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    let shutdown = stop.clone();
    tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
            .expect("serve rmcp");
    });
    RmcpPeer { addr, log, stop }
}

/// After `close()`: no socket left on either end.
async fn no_connection_left(peer: &RmcpPeer) {
    let addr = peer.addr;
    assert!(
        eventually(SETTLE, || client_sockets_to(addr) == 0).await,
        "{} client sockets remain",
        client_sockets_to(addr)
    );
    assert!(
        eventually(SETTLE, || server_sockets_at(addr) == 0).await,
        "the server still holds {} connections",
        server_sockets_at(addr)
    );
}

async fn era_headers(client: &Client) -> Value {
    let result = client.call_tool("era", json!({})).await.expect("era");
    serde_json::from_str(result.content[0].as_text().expect("text")).expect("JSON")
}

async fn lists_and_echoes(client: &Client) {
    let tools = client.list_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["echo", "era"]);
    let echoed = client
        .call_tool("echo", json!({"message": "hi rmcp"}))
        .await
        .expect("echo");
    assert_eq!(echoed.content[0].as_text(), Some("hi rmcp"));
}

/// Every POST carried 2026-07-28 and its `Mcp-Method`, none a session id; no GET or DELETE;
/// the first was the discover probe and no initialize came.
fn assert_all_modern(peer: &RmcpPeer) {
    let seen = peer.seen();
    assert_eq!(
        peer.rpc_methods().first().map(String::as_str),
        Some("server/discover"),
        "{seen:#?}"
    );
    assert!(!peer.rpc_methods().iter().any(|m| m == "initialize"));
    for s in &seen {
        assert_eq!(s.http_method, "POST", "{s:?}");
        assert_eq!(s.protocol_version.as_deref(), Some(MODERN), "{s:?}");
        assert_eq!(s.mcp_method, s.rpc_method, "{s:?}");
        assert_eq!(s.session_id, None, "{s:?}");
        assert_eq!(s.status, 200, "{s:?}");
    }
}

#[tokio::test]
async fn the_automatic_client_speaks_2026_07_28_with_every_rmcp_configuration() {
    within(LIMIT, async {
        for setup in [Setup::Default, Setup::NoSessions, Setup::ModernOnly] {
            let peer = start_rmcp(setup).await;
            let client = Client::builder(peer.url())
                .protocol_era(ProtocolEra::Auto)
                .connect()
                .await
                .unwrap_or_else(|e| panic!("{setup:?}: {e}"));
            assert_eq!(
                client.protocol_version(),
                Some(McpVersion::V2026_07_28),
                "{setup:?}"
            );
            assert!(client.session_id().is_none(), "{setup:?}");
            lists_and_echoes(&client).await;
            assert_eq!(
                era_headers(&client).await,
                json!({"protocolVersionHeader": MODERN, "sessionId": null}),
                "{setup:?}"
            );
            assert_eq!(
                client.close().await.expect("close"),
                CloseOutcome::Stateless
            );
            no_connection_left(&peer).await;
            assert_all_modern(&peer);
            assert_eq!(
                peer.rpc_methods(),
                ["server/discover", "tools/list", "tools/call", "tools/call"],
                "{setup:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn the_automatic_tool_speaks_2026_07_28_with_rmcp_without_sessions() {
    within(LIMIT, async {
        let peer = start_rmcp(Setup::NoSessions).await;
        let tool = McpStreamableHttpTool::builder("rmcp", peer.url())
            .protocol_era(ProtocolEra::Auto)
            .build()
            .expect("build");
        tool.connect().await.expect("connect");
        let version = tool.client().and_then(|c| c.protocol_version());
        assert_eq!(version, Some(McpVersion::V2026_07_28));
        assert_eq!(
            tool.invoke("echo", json!({"message": "tool"}))
                .await
                .expect("invoke")
                .text(),
            "tool"
        );
        assert_eq!(tool.close().await.expect("close"), CloseOutcome::Stateless);
        no_connection_left(&peer).await;
        assert_all_modern(&peer);
    })
    .await;
}

/// Pinned to the session era: with `legacy_session_mode` on, a session that close() deletes;
/// with it off, the same handshake and calls without a session id, and nothing to delete.
#[tokio::test]
async fn pinned_to_the_session_era_sessions_follow_legacy_session_mode() {
    within(LIMIT, async {
        for setup in [Setup::Default, Setup::NoSessions] {
            let peer = start_rmcp(setup).await;
            let client = Client::builder(peer.url())
                .protocol_era(ProtocolEra::Session)
                .connect()
                .await
                .unwrap_or_else(|e| panic!("{setup:?}: {e}"));
            assert_eq!(client.protocol_version(), Some(McpVersion::V2025_11_25));
            let session = client.session_id().map(|s| s.as_str().to_owned());
            assert_eq!(session.is_some(), setup == Setup::Default, "{setup:?}");
            lists_and_echoes(&client).await;
            assert_eq!(
                era_headers(&client).await,
                json!({"protocolVersionHeader": "2025-11-25", "sessionId": session}),
                "{setup:?}"
            );
            let closed = client.close().await.expect("close");
            no_connection_left(&peer).await;
            let methods = peer.rpc_methods();
            assert_eq!(
                methods[..2],
                ["initialize", "notifications/initialized"],
                "{setup:?}"
            );
            assert!(!methods.iter().any(|m| m == "server/discover"));
            for s in peer.seen().iter().filter(|s| s.http_method == "POST") {
                assert_eq!(s.mcp_method, None, "{s:?}");
            }
            match setup {
                Setup::Default => {
                    assert_eq!(closed, CloseOutcome::Deleted);
                    let deletes: Vec<Seen> = peer
                        .seen()
                        .into_iter()
                        .filter(|s| s.http_method == "DELETE")
                        .collect();
                    assert_eq!(deletes.len(), 1, "{deletes:?}");
                    assert_eq!(deletes[0].session_id, session);
                    assert!((200..300).contains(&deletes[0].status), "{deletes:?}");
                }
                _ => {
                    assert_eq!(closed, CloseOutcome::NoSession);
                    assert_eq!(peer.count("DELETE"), 0);
                    assert!(peer.seen().iter().all(|s| s.session_id.is_none()));
                }
            }
        }
    })
    .await;
}
