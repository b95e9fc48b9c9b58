//! Interop with rmcp 3.x (the Rust SDK): its `StreamableHttpService` serves a small handler
//! in-process, on 127.0.0.1, behind axum.

mod support;

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcptool::protocol::{Content, ResourceContents};
use mcptool::{Client, CloseOutcome, Progress, ProtocolEra, RequestOptions};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, GetPromptRequestParams, GetPromptResponse,
    ListPromptsResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ProgressNotificationParam, ReadResourceRequestParams, ReadResourceResponse, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use support::{peers, within};
use tokio_util::sync::CancellationToken;

const LIMIT: Duration = Duration::from_secs(60);
/// Base64 of a PNG signature and an IHDR chunk start: enough for clients to sniff the type.
const PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB";

/// rmcp's model types are `#[non_exhaustive]`: built here from their wire form.
fn wire<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("a valid rmcp model value")
}

/// The handler: tools echo / add / count / pixel, prompt greet, resource demo://greeting.
#[derive(Clone, Debug)]
struct Demo;

impl ServerHandler for Demo {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(wire(json!({"tools": {}, "prompts": {}, "resources": {}})))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let numbers = json!({
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        });
        Ok(wire(json!({"tools": [
            {"name": "echo", "description": "Echoes the message", "inputSchema": {
                "type": "object",
                "properties": {"message": {"type": "string"}},
                "required": ["message"],
            }},
            {"name": "add", "description": "Adds two integers", "inputSchema": numbers,
             "outputSchema": {
                "type": "object",
                "properties": {"sum": {"type": "integer"}},
                "required": ["sum"],
            }},
            {"name": "count", "description": "Counts with progress", "inputSchema": {
                "type": "object",
                "properties": {"steps": {"type": "integer"}},
            }},
            {"name": "pixel", "description": "A PNG", "inputSchema": {"type": "object"}},
        ]})))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = request.arguments.unwrap_or_default();
        let int = |key: &str| args.get(key).and_then(Value::as_i64);
        let result = match &*request.name {
            "echo" => {
                let message = args.get("message").and_then(Value::as_str).unwrap_or("");
                json!({"content": [{"type": "text", "text": message}]})
            }
            "add" => match (int("a"), int("b")) {
                (Some(a), Some(b)) => json!({
                    "content": [{"type": "text", "text": format!("{{\"sum\":{}}}", a + b)}],
                    "structuredContent": {"sum": a + b},
                }),
                _ => json!({
                    "content": [{"type": "text", "text": "a and b must be integers"}],
                    "isError": true,
                }),
            },
            "count" => {
                let steps = int("steps").unwrap_or(3);
                if let Some(token) = context.meta.get_progress_token() {
                    for step in 1..=steps {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        // Small counts: exact in f64.
                        let param = ProgressNotificationParam::new(token.clone(), step as f64)
                            .with_total(steps as f64)
                            .with_message(format!("step {step}"));
                        context
                            .peer
                            .notify_progress(param)
                            .await
                            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
                    }
                }
                json!({"content": [{"type": "text", "text": format!("counted to {steps}")}]})
            }
            "pixel" => json!({"content": [
                {"type": "image", "data": PNG_BASE64, "mimeType": "image/png"},
            ]}),
            other => {
                return Err(ErrorData::invalid_params(
                    format!("no tool named {other}"),
                    None,
                ));
            }
        };
        Ok(CallToolResponse::Complete(wire(result)))
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(wire(json!({"prompts": [{
            "name": "greet",
            "description": "Greets someone",
            "arguments": [{"name": "name", "required": true}],
        }]})))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let name = request
            .arguments
            .as_ref()
            .and_then(|a| a.get("name"))
            .and_then(Value::as_str)
            .ok_or_else(|| ErrorData::invalid_params("name is required", None))?;
        Ok(GetPromptResponse::Complete(wire(json!({"messages": [{
            "role": "user",
            "content": {"type": "text", "text": format!("Please greet {name} warmly.")},
        }]}))))
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(wire(json!({"resources": [
            {"uri": "demo://greeting", "name": "greeting", "mimeType": "text/plain"},
        ]})))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        if request.uri != "demo://greeting" {
            return Err(ErrorData::resource_not_found(
                format!("no resource {}", request.uri),
                None,
            ));
        }
        Ok(ReadResourceResponse::Complete(wire(json!({"contents": [
            {"uri": "demo://greeting", "mimeType": "text/plain", "text": "hello from rmcp"},
        ]}))))
    }
}

/// The rmcp service on 127.0.0.1; stops (and ends every session) when dropped.
struct RmcpPeer {
    url: String,
    stop: CancellationToken,
}

impl Drop for RmcpPeer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn start_rmcp() -> RmcpPeer {
    let stop = CancellationToken::new();
    let config = StreamableHttpServerConfig::default()
        .with_sse_keep_alive(None)
        .with_cancellation_token(stop.child_token());
    let service: StreamableHttpService<Demo, LocalSessionManager> =
        StreamableHttpService::new(|| Ok(Demo), Arc::default(), config);
    let router = axum::Router::new().nest_service("/mcp", service);
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
    RmcpPeer {
        url: format!("http://{addr}/mcp"),
        stop,
    }
}

fn texts(content: &[Content]) -> Vec<&str> {
    content.iter().filter_map(Content::as_text).collect()
}

#[tokio::test]
async fn lists_and_calls_tools_with_text_image_and_structured_results() {
    within(LIMIT, async {
        let peer = start_rmcp().await;
        let client = Client::builder(&peer.url).protocol_era(ProtocolEra::Session).connect().await.expect("connect");
        let tools = client.list_tools().await.expect("list tools");
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["echo", "add", "count", "pixel"]);
        assert_eq!(tools[1].input_schema["required"], json!(["a", "b"]));
        assert!(tools[1].output_schema.is_some());

        let echo = client
            .call_tool("echo", json!({"message": "from mcptool"}))
            .await
            .expect("echo");
        assert_eq!(texts(&echo.content), ["from mcptool"]);
        let add = client
            .call_tool("add", json!({"a": 20, "b": 22}))
            .await
            .expect("add");
        assert_eq!(add.structured_content, Some(json!({"sum": 42})));
        let bad = client
            .call_tool("add", json!({"a": "x"}))
            .await
            .expect("a tool error is data");
        assert!(bad.is_error);
        let pixel = client.call_tool("pixel", json!({})).await.expect("pixel");
        assert!(matches!(
            &pixel.content[..],
            [Content::Image { data, mime_type, .. }] if data == PNG_BASE64 && mime_type == "image/png"
        ));
        let err = client
            .call_tool("missing", json!({}))
            .await
            .expect_err("unknown tool");
        assert!(err.is_rpc(), "{err:?}");
        assert_eq!(err.rpc_error().map(|e| e.code), Some(-32602));
        assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
    })
    .await;
}

#[tokio::test]
async fn gets_prompts_and_reads_resources() {
    within(LIMIT, async {
        let peer = start_rmcp().await;
        let client = Client::builder(&peer.url)
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        let prompts = client.list_prompts().await.expect("list prompts");
        assert_eq!(prompts.len(), 1);
        assert!(prompts[0].arguments[0].required);
        let mut arguments = Map::new();
        arguments.insert("name".into(), json!("Grace"));
        let rendered = client
            .get_prompt("greet", &arguments)
            .await
            .expect("get prompt");
        assert_eq!(
            rendered.messages[0].content.as_text(),
            Some("Please greet Grace warmly.")
        );
        let resources = client.list_resources().await.expect("list resources");
        assert_eq!(resources[0].uri, "demo://greeting");
        let read = client.read_resource("demo://greeting").await.expect("read");
        assert!(matches!(
            &read.contents[..],
            [ResourceContents::Text { text, .. }] if text == "hello from rmcp"
        ));
        let err = client
            .read_resource("demo://nope")
            .await
            .expect_err("unknown resource");
        assert!(err.is_rpc(), "{err:?}");
        assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
    })
    .await;
}

#[tokio::test]
async fn progress_notifications_arrive_in_order() {
    within(LIMIT, async {
        let peer = start_rmcp().await;
        let client = Client::builder(&peer.url)
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
        let sink = Arc::clone(&seen);
        let options =
            RequestOptions::new().on_progress(move |p| sink.lock().expect("lock").push(p));
        let result = client
            .call_tool_with("count", json!({"steps": 5}), &options)
            .await
            .expect("count");
        assert_eq!(texts(&result.content), ["counted to 5"]);
        let seen = seen.lock().expect("lock").clone();
        let expected: Vec<Progress> = (1..=5)
            .map(|i| Progress {
                progress: f64::from(i),
                total: Some(5.0),
                message: Some(format!("step {i}")),
            })
            .collect();
        assert_eq!(seen, expected);
        assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
    })
    .await;
}

#[tokio::test]
async fn close_deletes_the_session_and_the_peer_answers_404_after() {
    within(LIMIT, async {
        let peer = start_rmcp().await;
        let client = Client::builder(&peer.url)
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        let session = client.session_id().expect("session id").as_str().to_owned();
        let live = peers::post_with_session(&peer.url, &session).await;
        assert_eq!(live.status().as_u16(), 200);
        assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
        let dead = peers::post_with_session(&peer.url, &session).await;
        assert_eq!(dead.status().as_u16(), 404);
    })
    .await;
}

#[tokio::test]
async fn two_sequential_and_twenty_concurrent_lifecycles_get_distinct_sessions() {
    within(LIMIT, async {
        let peer = start_rmcp().await;
        peers::sequential_and_concurrent_lifecycles(&peer.url, "add", json!({"a": 1, "b": 2}), 404)
            .await;
    })
    .await;
}

#[tokio::test]
async fn a_session_ended_by_the_server_expires_or_reinitialises() {
    within(LIMIT, async {
        let peer = start_rmcp().await;
        peers::session_ended_by_the_server(&peer.url, 404, "").await;
    })
    .await;
}
