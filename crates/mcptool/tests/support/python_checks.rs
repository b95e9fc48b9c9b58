//! The interop checks shared by the two Python SDK peers (`peers/python/server_mcp*.py`, which
//! expose the same tools, prompt and resource). Included with `#[path]` by
//! `interop_python_mcp1.rs` and `interop_python_mcp2.rs` only.

use std::sync::{Arc, Mutex};

use mcptool::protocol::{Content, ResourceContents};
use mcptool::{Client, CloseOutcome, Progress, ProtocolEra, RequestOptions};
use serde_json::{Map, Value, json};

use crate::support::peers::{self, PeerProcess};

/// One test per check and per response mode of a Python peer (SSE, JSON, SSE with an event
/// store), each under the file's `LIMIT`, with the peer started by `$start(mode)` and checked
/// to be still alive afterwards. Used by `interop_python_mcp1.rs` and `interop_python_mcp2.rs`.
macro_rules! in_every_python_mode {
    (@mode $module:ident, $mode:expr, $start:path; $($name:ident => |$peer:ident| $body:expr;)*) => {
        mod $module {
            use super::*;
            $(#[tokio::test]
            async fn $name() {
                within(LIMIT, async {
                    let Some(mut $peer) = $start($mode).await else { return };
                    $body;
                    $peer.assert_alive();
                }).await;
            })*
        }
    };
    ($start:path; $($name:ident => |$peer:ident| $body:expr;)*) => {
        in_every_python_mode!(@mode sse, PyMode::Sse, $start; $($name => |$peer| $body;)*);
        in_every_python_mode!(@mode json_response, PyMode::Json, $start; $($name => |$peer| $body;)*);
        in_every_python_mode!(@mode resumable, PyMode::SseResumable, $start; $($name => |$peer| $body;)*);
    };
}

fn texts(content: &[Content]) -> Vec<&str> {
    content.iter().filter_map(Content::as_text).collect()
}

/// tools/list: names, normalised input schemas, the declared output schema of `add`.
pub(crate) async fn lists_tools(peer: &PeerProcess) {
    let client = Client::builder(peer.url())
        .protocol_era(ProtocolEra::Session)
        .connect()
        .await
        .expect("connect");
    let mut tools = client.list_tools().await.expect("list tools");
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    // The 2.x peer also has `interrupted` (it closes its own stream: resumption).
    let names: Vec<&str> = tools
        .iter()
        .map(|t| t.name.as_str())
        .filter(|n| *n != "interrupted")
        .collect();
    assert_eq!(names, ["add", "count", "echo", "pixel"]);
    let add = &tools[0];
    assert_eq!(
        add.description.as_deref(),
        Some("Adds two integers; the result is structured")
    );
    assert_eq!(add.input_schema["type"], "object");
    assert_eq!(add.input_schema["properties"]["a"]["type"], "integer");
    assert_eq!(add.input_schema["properties"]["b"]["type"], "integer");
    let mut required: Vec<&str> = add.input_schema["required"]
        .as_array()
        .expect("required list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    required.sort_unstable();
    assert_eq!(required, ["a", "b"]);
    let output = add
        .output_schema
        .as_ref()
        .expect("add declares an output schema");
    assert_eq!(output["properties"]["sum"]["type"], "integer");
    // `count` takes a Context, which must not leak into the schema.
    let count = &tools[1];
    let properties = count.input_schema["properties"]
        .as_object()
        .expect("properties");
    assert_eq!(properties.keys().collect::<Vec<_>>(), ["steps"]);
    assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
}

/// tools/call with text, structured and image results, and a tool error as data.
pub(crate) async fn calls_tools(peer: &PeerProcess) {
    let client = Client::builder(peer.url())
        .protocol_era(ProtocolEra::Session)
        .connect()
        .await
        .expect("connect");
    let echo = client
        .call_tool("echo", json!({"message": "ünïcode ✓"}))
        .await
        .expect("echo");
    assert!(!echo.is_error);
    assert_eq!(texts(&echo.content), ["ünïcode ✓"]);

    let add = client
        .call_tool("add", json!({"a": 40, "b": 2}))
        .await
        .expect("add");
    assert_eq!(add.structured_content, Some(json!({"sum": 42})));
    let text: Value = serde_json::from_str(texts(&add.content)[0]).expect("json text block");
    assert_eq!(text, json!({"sum": 42}));

    let pixel = client.call_tool("pixel", json!({})).await.expect("pixel");
    match &pixel.content[..] {
        [
            Content::Image {
                data, mime_type, ..
            },
        ] => {
            assert_eq!(mime_type, "image/png");
            assert!(data.starts_with("iVBORw0KGgo"), "not a PNG: {data}");
        }
        other => panic!("expected one image block, got {other:?}"),
    }

    // Wrong argument type: the SDK reports a tool error (isError), which is data.
    let bad = client
        .call_tool("add", json!({"a": "forty", "b": 2}))
        .await
        .expect("a tool error is not an Error");
    assert!(bad.is_error, "{bad:?}");
    let unknown = client.call_tool("no-such-tool", json!({})).await;
    match unknown {
        Ok(result) => assert!(result.is_error, "{result:?}"),
        Err(e) => assert!(e.is_rpc(), "{e:?}"),
    }
    assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
}

/// prompts/list + prompts/get with an argument; resources/list + resources/read.
pub(crate) async fn prompts_and_resources(peer: &PeerProcess, greeting: &str) {
    let client = Client::builder(peer.url())
        .protocol_era(ProtocolEra::Session)
        .connect()
        .await
        .expect("connect");
    let prompts = client.list_prompts().await.expect("list prompts");
    assert_eq!(prompts.len(), 1, "{prompts:?}");
    assert_eq!(prompts[0].name, "greet");
    assert_eq!(prompts[0].arguments.len(), 1);
    assert_eq!(prompts[0].arguments[0].name, "name");
    assert!(prompts[0].arguments[0].required);
    let mut arguments = Map::new();
    arguments.insert("name".into(), json!("Ada"));
    let rendered = client
        .get_prompt("greet", &arguments)
        .await
        .expect("get prompt");
    assert_eq!(rendered.messages.len(), 1);
    assert_eq!(rendered.messages[0].role, "user");
    assert_eq!(
        rendered.messages[0].content.as_text(),
        Some("Please greet Ada warmly.")
    );

    let resources = client.list_resources().await.expect("list resources");
    assert_eq!(resources.len(), 1, "{resources:?}");
    assert_eq!(resources[0].uri, "demo://greeting");
    assert_eq!(resources[0].mime_type.as_deref(), Some("text/plain"));
    let read = client.read_resource("demo://greeting").await.expect("read");
    match &read.contents[..] {
        [ResourceContents::Text { uri, text, .. }] => {
            assert_eq!(uri, "demo://greeting");
            assert_eq!(text, greeting);
        }
        other => panic!("unexpected contents: {other:?}"),
    }
    let missing = client.read_resource("demo://missing").await;
    let err = missing.expect_err("reading an unknown resource fails");
    assert!(err.is_rpc(), "{err:?}");
    assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
}

/// Progress notifications of a tool call reach the request's callback, in order.
pub(crate) async fn progress_in_order(peer: &PeerProcess) -> Vec<Progress> {
    let client = Client::builder(peer.url())
        .protocol_era(ProtocolEra::Session)
        .connect()
        .await
        .expect("connect");
    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let options = RequestOptions::new().on_progress(move |p| sink.lock().expect("lock").push(p));
    let result = client
        .call_tool_with("count", json!({"steps": 4}), &options)
        .await
        .expect("count");
    assert_eq!(texts(&result.content), ["counted to 4"]);
    assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
    seen.lock().expect("lock").clone()
}

/// The progress the `count` tool sends for 4 steps.
pub(crate) fn expected_progress() -> Vec<Progress> {
    (1..=4)
        .map(|i| Progress {
            progress: f64::from(i),
            total: Some(4.0),
            message: Some(format!("step {i}")),
        })
        .collect()
}

/// close() sends DELETE; afterwards the peer answers 404 for the old session, with the SDK's
/// error id (`"server-error"` on 1.x, `null` on 2.x).
pub(crate) async fn close_deletes_the_session(peer: &PeerProcess, error_id: &Value) {
    let client = Client::builder(peer.url())
        .protocol_era(ProtocolEra::Session)
        .connect()
        .await
        .expect("connect");
    let session = client.session_id().expect("session id").as_str().to_owned();
    assert_eq!(
        peers::post_with_session(&peer.url(), &session)
            .await
            .status()
            .as_u16(),
        200
    );
    assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
    let dead = peers::post_with_session(&peer.url(), &session).await;
    assert_eq!(dead.status().as_u16(), 404);
    let body: Value = serde_json::from_slice(&dead.bytes().await.expect("body")).expect("json");
    assert_eq!(&body["id"], error_id, "{body}");
    assert_eq!(body["error"]["message"], "Session not found");
}

/// The quirk of both SDKs: a 400 for a request without a session still carries a fresh
/// `mcp-session-id` header, which names no usable session.
pub(crate) async fn fresh_session_header_on_400(peer: &PeerProcess, error_id: &Value) {
    let reply = peers::raw_http()
        .post(peer.url())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":5,"method":"tools/list"}"#)
        .send()
        .await
        .expect("raw POST");
    assert_eq!(reply.status().as_u16(), 400);
    let stray = reply
        .headers()
        .get("mcp-session-id")
        .expect("the quirk: a session id on a 400")
        .to_str()
        .expect("ascii")
        .to_owned();
    let body: Value = serde_json::from_slice(&reply.bytes().await.expect("body")).expect("json");
    assert_eq!(&body["id"], error_id, "{body}");
    let status = peers::post_with_session(&peer.url(), &stray)
        .await
        .status()
        .as_u16();
    assert_eq!(status, 404, "the stray session id {stray} is usable");
}
