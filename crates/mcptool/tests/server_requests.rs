//! Requests and notifications from the server: elicitation, sampling, roots, ping answered by
//! the caller's handlers (method-not-found without one); list changes and log messages
//! delivered to subscribers — in SSE mode on the call's stream, in JSON mode on the GET stream.

mod support;

use std::time::Duration;

use mcptool::protocol::RpcError;
use mcptool::{Client, ClientBuilder, Handler, ProtocolEra};
use mcptool_server::{ResponseMode, ServerConfig};
use serde_json::{Value, json};
use support::server::{start, wait_stats};
use support::within;

fn with_handlers(builder: ClientBuilder) -> ClientBuilder {
    builder
        .on_elicitation(Handler::new(|params: Value| async move {
            let question = params["message"].as_str().unwrap_or_default().to_owned();
            Ok(json!({"action": "accept", "content": {"answer": format!("yes to {question}")}}))
        }))
        .on_sampling(Handler::new(|_params: Value| async move {
            Ok(json!({"role": "assistant", "model": "test-model",
                      "content": {"type": "text", "text": "sampled text"}}))
        }))
        .on_roots(Handler::new(|_params: Value| async move {
            Ok(json!({"roots": [{"uri": "file:///work", "name": "work"}]}))
        }))
}

#[tokio::test]
async fn handlers_answer_server_requests_in_both_response_modes() {
    within(Duration::from_secs(30), async {
        for mode in [ResponseMode::Sse, ResponseMode::Json] {
            let server = start(ServerConfig::default().response_mode(mode)).await;
            let client =
                with_handlers(Client::builder(server.url()).protocol_era(ProtocolEra::Session))
                    .connect()
                    .await
                    .expect("connect");
            if mode == ResponseMode::Json {
                wait_stats(&server, "the GET stream", |s| s.live_get_streams == 1).await;
            }
            let asked = client
                .call_tool("ask", json!({"question": "ok?"}))
                .await
                .expect("ask");
            assert_eq!(asked.content[0].as_text(), Some("yes to ok?"), "{mode:?}");
            let sampled = client
                .call_tool("sample", json!({"prompt": "hi"}))
                .await
                .expect("sample");
            assert_eq!(sampled.content[0].as_text(), Some("sampled text"));
            let roots = client.call_tool("roots", json!({})).await.expect("roots");
            assert!(
                roots.content[0]
                    .as_text()
                    .unwrap_or_default()
                    .contains("file:///work")
            );
            assert_eq!(server.stats().snapshot().client_responses, 3);
            client.close().await.expect("close");
            server.shutdown().await;
        }
    })
    .await;
}

#[tokio::test]
async fn without_a_handler_the_server_gets_method_not_found() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default()).await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        let asked = client
            .call_tool("ask", json!({"question": "?"}))
            .await
            .expect("ask");
        assert!(asked.is_error, "{asked:?}");
        let text = asked.content[0].as_text().unwrap_or_default();
        assert!(text.contains("-32601"), "{text}");
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_handler_error_reaches_the_server_as_that_error() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default()).await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .on_sampling(Handler::new(|_| async {
                Err(RpcError {
                    code: -1,
                    message: "user declined".into(),
                    data: None,
                })
            }))
            .connect()
            .await
            .expect("connect");
        let sampled = client
            .call_tool("sample", json!({"prompt": "x"}))
            .await
            .expect("call");
        assert!(sampled.is_error);
        assert!(
            sampled.content[0]
                .as_text()
                .unwrap_or_default()
                .contains("user declined")
        );
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn list_changed_and_log_messages_reach_subscribers() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default()).await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        let mut notes = client.notifications();
        wait_stats(&server, "the GET stream", |s| s.live_get_streams == 1).await;
        let before = client.list_tools().await.expect("tools").len();
        client
            .call_tool("toggle_tools", json!({}))
            .await
            .expect("toggle");
        let note = tokio::time::timeout(Duration::from_secs(5), notes.recv())
            .await
            .expect("a notification in time")
            .expect("open channel");
        assert_eq!(note.method, "notifications/tools/list_changed");
        assert_eq!(client.list_tools().await.expect("tools").len(), before + 1);
        client
            .call_tool(
                "log",
                json!({"level": "warning", "message": "disk almost full"}),
            )
            .await
            .expect("log");
        let note = tokio::time::timeout(Duration::from_secs(5), notes.recv())
            .await
            .expect("a log message in time")
            .expect("open channel");
        assert_eq!(note.method, "notifications/message");
        assert_eq!(
            note.params.as_ref().map(|p| p["data"].clone()),
            Some(json!("disk almost full"))
        );
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn the_rest_of_the_api_works_against_the_strict_server() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default()).await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        let info = client.server_info().expect("initialized");
        assert_eq!(info.server_info.name, "mcptool-server");
        let templates = client.list_resource_templates().await.expect("templates");
        assert!(!templates.is_empty());
        let mut args = serde_json::Map::new();
        args.insert("name".into(), json!("Ada"));
        let prompt = client.get_prompt("greeting", &args).await.expect("prompt");
        assert!(
            prompt.messages[0]
                .content
                .as_text()
                .unwrap_or_default()
                .contains("Ada")
        );
        let completion = client
            .complete(
                json!({"type": "ref/prompt", "name": "greeting"}),
                "style",
                "",
            )
            .await
            .expect("complete");
        assert!(!completion.completion.values.is_empty());
        client.set_logging_level("error").await.expect("setLevel");
        let err = client
            .request::<Value>("no/such/method", None, &Default::default())
            .await
            .expect_err("unknown method");
        assert_eq!(err.rpc_error().map(|e| e.code), Some(-32601));
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_server_ping_on_a_call_stream_is_answered_with_an_empty_result() {
    use support::scripted::{Action, Scripted, init_result, response, result, sse_head};
    within(Duration::from_secs(30), async {
        let server = Scripted::start(|req| match req.rpc_method().as_deref() {
            Some("initialize") => Action::Respond(response(
                200,
                &[
                    ("content-type", "application/json"),
                    ("mcp-session-id", "s-ping"),
                ],
                &init_result(&req.rpc_id().expect("id"), "2025-11-25"),
            )),
            Some("tools/call") => {
                let mut bytes = sse_head(&[]);
                bytes.extend_from_slice(
                    b"data: {\"jsonrpc\":\"2.0\",\"id\":\"srv-1\",\"method\":\"ping\"}\n\n",
                );
                let done = result(
                    &req.rpc_id().expect("id"),
                    &json!({"content": [{"type": "text", "text": "pong seen"}]}),
                );
                bytes.extend_from_slice(format!("data: {done}\n\n").as_bytes());
                Action::RespondAndClose(bytes)
            }
            _ if req.method == "GET" => Action::Respond(response(405, &[], "")),
            _ => Action::Respond(response(202, &[], "")),
        })
        .await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        let answer = client.call_tool("x", json!({})).await.expect("call");
        assert_eq!(answer.content[0].as_text(), Some("pong seen"));
        let answered = support::eventually(Duration::from_secs(5), || {
            server.seen().iter().any(|s| {
                let body: Value = serde_json::from_str(&s.body).unwrap_or(Value::Null);
                body["id"] == "srv-1" && body["result"] == json!({})
            })
        })
        .await;
        assert!(answered, "no ping answer among {:?}", server.seen());
        client.close().await.expect("close");
    })
    .await;
}

#[tokio::test]
async fn time_our_handler_spends_answering_does_not_count_against_the_request() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default()).await;
        for era in [ProtocolEra::Session, ProtocolEra::Stateless] {
            // A person taking their time over a form: longer than the whole request timeout.
            let client = Client::builder(server.url())
                .protocol_era(era)
                .request_timeout(Duration::from_millis(400))
                .on_elicitation(Handler::new(|_params: Value| async move {
                    tokio::time::sleep(Duration::from_millis(1200)).await;
                    Ok(json!({"action": "accept", "content": {"answer": "slowly"}}))
                }))
                .connect()
                .await
                .expect("connect");
            let answered = client
                .call_tool("ask", json!({"question": "take your time?"}))
                .await
                .unwrap_or_else(|e| panic!("{era:?}: {e}"));
            assert_eq!(answered.content[0].as_text(), Some("slowly"), "{era:?}");
            // The server's own slowness still counts.
            let slow = client
                .call_tool("sleep", json!({"ms": 1500}))
                .await
                .expect_err("a slow server misses the deadline");
            assert!(slow.is_timeout(), "{era:?}: {slow}");
            client.close().await.expect("close");
        }
        server.shutdown().await;
    })
    .await;
}
