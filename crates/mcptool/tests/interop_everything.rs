//! Interop with npm `@modelcontextprotocol/server-everything` (TypeScript SDK) in
//! `streamableHttp` mode, forced onto 127.0.0.1 by `peers/node/loopback.cjs`.
//!
//! Quirk handled here: a dead or unknown session id gets **400**, not 404.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcptool::protocol::{Content, ResourceContents};
use mcptool::{Client, CloseOutcome, Progress, ProtocolEra, RequestOptions};
use serde_json::{Map, Value, json};
use support::peers::{self, Peer, PeerProcess};
use support::within;

const LIMIT: Duration = Duration::from_secs(60);

async fn everything() -> Option<PeerProcess> {
    peers::start(Peer::EverythingStreamable).await
}

fn texts(content: &[Content]) -> Vec<&str> {
    content.iter().filter_map(Content::as_text).collect()
}

#[tokio::test]
async fn lists_tools_with_their_schemas() {
    within(LIMIT, async {
        let Some(peer) = everything().await else {
            return;
        };
        let client = Client::builder(peer.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        let info = client.server_info().expect("server info");
        assert_eq!(info.server_info.name, "mcp-servers/everything");
        let tools = client.list_tools().await.expect("list tools");
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        for wanted in [
            "echo",
            "get-sum",
            "get-tiny-image",
            "get-structured-content",
            "trigger-long-running-operation",
        ] {
            assert!(names.contains(&wanted), "{wanted} missing from {names:?}");
        }
        let echo = tools.iter().find(|t| t.name == "echo").expect("echo");
        assert_eq!(echo.input_schema["type"], "object");
        assert_eq!(echo.input_schema["properties"]["message"]["type"], "string");
        assert_eq!(echo.input_schema["required"], json!(["message"]));
        let structured = tools
            .iter()
            .find(|t| t.name == "get-structured-content")
            .expect("get-structured-content");
        let output = structured.output_schema.as_ref().expect("an output schema");
        assert_eq!(output["properties"]["temperature"]["type"], "number");
        assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
    })
    .await;
}

#[tokio::test]
async fn calls_tools_with_text_image_and_structured_results() {
    within(LIMIT, async {
        let Some(peer) = everything().await else {
            return;
        };
        let client = Client::builder(peer.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");

        let echo = client
            .call_tool("echo", json!({"message": "héllo 🌍"}))
            .await
            .expect("echo");
        assert!(!echo.is_error);
        assert_eq!(texts(&echo.content), ["Echo: héllo 🌍"]);

        let sum = client
            .call_tool("get-sum", json!({"a": 2, "b": 3.5}))
            .await
            .expect("get-sum");
        assert_eq!(texts(&sum.content), ["The sum of 2 and 3.5 is 5.5."]);

        let image = client
            .call_tool("get-tiny-image", json!({}))
            .await
            .expect("get-tiny-image");
        let (data, mime) = image
            .content
            .iter()
            .find_map(|c| match c {
                Content::Image {
                    data, mime_type, ..
                } => Some((data, mime_type)),
                _ => None,
            })
            .expect("an image block");
        assert_eq!(mime, "image/png");
        // Base64 of the PNG signature \x89PNG\r\n\x1a\n.
        assert!(
            data.starts_with("iVBORw0KGgo"),
            "not a PNG: {}",
            &data[..16]
        );

        let weather = client
            .call_tool("get-structured-content", json!({"location": "Chicago"}))
            .await
            .expect("get-structured-content");
        let structured = weather.structured_content.expect("structured content");
        assert_eq!(
            structured,
            json!({"temperature": 36, "conditions": "Light rain / drizzle", "humidity": 82})
        );
        // The text block carries the same data, for clients that ignore structuredContent.
        let text: Value = serde_json::from_str(texts(&weather.content)[0]).expect("json text");
        assert_eq!(text, structured);

        // A tool's own failure is data (isError), not an Error.
        let bad = client
            .call_tool("get-structured-content", json!({"location": "Atlantis"}))
            .await;
        match bad {
            Ok(result) => assert!(result.is_error, "invalid input accepted: {result:?}"),
            Err(e) => assert!(e.is_rpc(), "unexpected error kind: {e:?}"),
        }
        assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
    })
    .await;
}

#[tokio::test]
async fn gets_prompts_and_reads_resources() {
    within(LIMIT, async {
        let Some(peer) = everything().await else {
            return;
        };
        let client = Client::builder(peer.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        let prompts = client.list_prompts().await.expect("list prompts");
        let args_prompt = prompts
            .iter()
            .find(|p| p.name == "args-prompt")
            .expect("args-prompt");
        let city = args_prompt
            .arguments
            .iter()
            .find(|a| a.name == "city")
            .expect("city argument");
        assert!(city.required);
        let mut arguments = Map::new();
        arguments.insert("city".into(), json!("Lyon"));
        let rendered = client
            .get_prompt("args-prompt", &arguments)
            .await
            .expect("get prompt");
        assert_eq!(rendered.messages.len(), 1);
        assert_eq!(rendered.messages[0].role, "user");
        assert_eq!(
            rendered.messages[0].content.as_text(),
            Some("What's weather in Lyon?")
        );

        let resources = client.list_resources().await.expect("list resources");
        let first = resources.first().expect("at least one resource");
        let read = client.read_resource(&first.uri).await.expect("read");
        match &read.contents[..] {
            [ResourceContents::Text { uri, text, .. }] => {
                assert_eq!(uri, &first.uri);
                assert!(!text.is_empty(), "empty resource {uri}");
            }
            other => panic!("unexpected contents for {}: {other:?}", first.uri),
        }
        let templates = client
            .list_resource_templates()
            .await
            .expect("list templates");
        assert!(
            templates
                .iter()
                .any(|t| t.uri_template.starts_with("demo://resource/dynamic/text/")),
            "{templates:?}"
        );
        let dynamic = client
            .read_resource("demo://resource/dynamic/text/7")
            .await
            .expect("read a templated resource");
        assert!(matches!(
            &dynamic.contents[..],
            [ResourceContents::Text { uri, .. }] if uri == "demo://resource/dynamic/text/7"
        ));
        assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
    })
    .await;
}

#[tokio::test]
async fn progress_notifications_arrive_in_order_before_the_result() {
    within(LIMIT, async {
        let Some(peer) = everything().await else {
            return;
        };
        let client = Client::builder(peer.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
        let sink = Arc::clone(&seen);
        let options =
            RequestOptions::new().on_progress(move |p| sink.lock().expect("lock").push(p));
        let result = client
            .call_tool_with(
                "trigger-long-running-operation",
                json!({"duration": 0.5, "steps": 5}),
                &options,
            )
            .await
            .expect("long running operation");
        assert_eq!(
            texts(&result.content),
            ["Long running operation completed. Duration: 0.5 seconds, Steps: 5."]
        );
        let seen = seen.lock().expect("lock").clone();
        let steps: Vec<(f64, Option<f64>)> = seen.iter().map(|p| (p.progress, p.total)).collect();
        assert_eq!(
            steps,
            (1..=5)
                .map(|i| (f64::from(i), Some(5.0)))
                .collect::<Vec<_>>()
        );
        assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
    })
    .await;
}

#[tokio::test]
async fn close_deletes_the_session_and_the_peer_answers_400_for_it_afterwards() {
    within(LIMIT, async {
        let Some(peer) = everything().await else {
            return;
        };
        let client = Client::builder(peer.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        let session = client.session_id().expect("session id").as_str().to_owned();
        // Before close the raw request is served on the live session.
        let live = peers::post_with_session(&peer.url(), &session).await;
        assert_eq!(live.status().as_u16(), 200);
        assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
        let dead = peers::post_with_session(&peer.url(), &session).await;
        // Quirk: 400 (not 404) for a session the server no longer knows.
        assert_eq!(dead.status().as_u16(), 400);
        let body: Value =
            serde_json::from_slice(&dead.bytes().await.expect("body")).expect("json error body");
        assert_eq!(body["error"]["code"], -32000);
        assert_eq!(
            client.close().await.expect("close"),
            CloseOutcome::AlreadyClosed
        );
        let err = client.list_tools().await.expect_err("closed client");
        assert!(err.is_closed(), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn two_sequential_and_twenty_concurrent_lifecycles_get_distinct_sessions() {
    within(LIMIT, async {
        let Some(mut peer) = everything().await else {
            return;
        };
        peers::sequential_and_concurrent_lifecycles(
            &peer.url(),
            "echo",
            json!({"message": "lifecycle"}),
            400,
        )
        .await;
        peer.assert_alive();
    })
    .await;
}

#[tokio::test]
async fn a_session_ended_by_the_server_expires_on_its_400_or_reinitialises() {
    within(LIMIT, async {
        let Some(peer) = everything().await else {
            return;
        };
        // The 400 for a dead session is still recognised as an expired session.
        peers::session_ended_by_the_server(&peer.url(), 400, "Echo: ").await;
    })
    .await;
}
