//! What a misbehaving server sends gets a typed error for the affected request — never a
//! panic or a hang — and the client stays usable where the protocol allows.

mod support;

use std::time::Duration;

use mcptool::{Client, ErrorKind, ProtocolEra};
use mcptool_server::{ResponseMode, ServerConfig};
use serde_json::{Value, json};
use support::scripted::{Action, Scripted, Seen, init_result, response, result, sse_head};
use support::server::start;
use support::within;

/// A scripted server that handles the handshake and pings properly and answers
/// `tools/call` with `call(id)`.
async fn server_answering_calls_with(
    call: impl Fn(&Value) -> Action + Send + Sync + 'static,
) -> Scripted {
    Scripted::start(move |req: &Seen| {
        let json = [("content-type", "application/json")];
        match req.rpc_method().as_deref() {
            Some("initialize") => Action::Respond(response(
                200,
                &[
                    ("content-type", "application/json"),
                    ("mcp-session-id", "scripted-1"),
                ],
                &init_result(&req.rpc_id().expect("id"), "2025-11-25"),
            )),
            Some("ping") => Action::Respond(response(
                200,
                &json,
                &result(&req.rpc_id().expect("id"), &json!({})),
            )),
            Some("tools/call") => call(&req.rpc_id().expect("id")),
            _ if req.method == "GET" => Action::Respond(response(405, &[], "")),
            _ => Action::Respond(response(202, &[], "")),
        }
    })
    .await
}

async fn connect(server: &Scripted) -> Client {
    Client::builder(server.url())
        .protocol_era(ProtocolEra::Session)
        .request_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("connect")
}

#[tokio::test]
async fn invalid_json_on_an_sse_stream_fails_that_call_only() {
    within(Duration::from_secs(20), async {
        let server = server_answering_calls_with(|_| {
            let mut bytes = sse_head(&[]);
            bytes.extend_from_slice(b"data: {\"jsonrpc\": \"2.0\", \"id\": \n\n");
            Action::RespondAndClose(bytes)
        })
        .await;
        let client = connect(&server).await;
        let err = client
            .call_tool("x", json!({}))
            .await
            .expect_err("malformed");
        assert_eq!(err.kind(), ErrorKind::Protocol, "{err:?}");
        assert!(err.to_string().contains("invalid JSON-RPC"), "{err}");
        client.ping().await.expect("the client stays usable");
        client.close().await.expect("close");
    })
    .await;
}

#[tokio::test]
async fn invalid_json_bodies_and_unexpected_content_types_are_protocol_errors() {
    within(Duration::from_secs(20), async {
        for (content_type, body, expect) in [
            ("application/json", "{\"jsonrpc\":", "invalid JSON-RPC"),
            ("text/html", "<html>hello</html>", "Content-Type"),
            (
                "application/json",
                "{\"jsonrpc\":\"2.0\",\"id\":12345,\"result\":{}}",
                "did not answer",
            ),
        ] {
            let server = server_answering_calls_with(move |_| {
                Action::Respond(response(200, &[("content-type", content_type)], body))
            })
            .await;
            let client = connect(&server).await;
            let err = client.call_tool("x", json!({})).await.expect_err(body);
            assert!(err.is_protocol(), "{body}: {err:?}");
            assert!(err.to_string().contains(expect), "{body}: {err}");
            client.ping().await.expect("still usable");
            client.close().await.expect("close");
        }
    })
    .await;
}

#[tokio::test]
async fn an_error_with_a_null_id_answers_the_request_that_was_posted() {
    within(Duration::from_secs(20), async {
        let server = server_answering_calls_with(|_| {
            Action::Respond(response(
                200,
                &[("content-type", "application/json")],
                r#"{"jsonrpc":"2.0","id":"server-error","error":{"code":-32603,"message":"boom"}}"#,
            ))
        })
        .await;
        let client = connect(&server).await;
        let err = client
            .call_tool("x", json!({}))
            .await
            .expect_err("rpc error");
        assert!(err.is_rpc(), "{err:?}");
        assert_eq!(err.rpc_error().map(|e| e.code), Some(-32603));
        client.close().await.expect("close");
    })
    .await;
}

#[tokio::test]
async fn a_stray_response_on_the_stream_is_ignored_and_the_real_one_delivered() {
    within(Duration::from_secs(20), async {
        let server = server_answering_calls_with(|id| {
            let mut bytes = sse_head(&[]);
            bytes.extend_from_slice(b": a comment\r\nid: e1\r\ndata:\r\n\r\n");
            bytes.extend_from_slice(b"data: {\"jsonrpc\":\"2.0\",\"id\":999999,\"result\":{}}\n\n");
            let real = result(id, &json!({"content": [{"type": "text", "text": "real"}]}));
            bytes.extend_from_slice(format!("id: e2\ndata: {real}\n\n").as_bytes());
            Action::RespondAndClose(bytes)
        })
        .await;
        let client = connect(&server).await;
        let answer = client.call_tool("x", json!({})).await.expect("answer");
        assert_eq!(answer.content[0].as_text(), Some("real"));
        client.close().await.expect("close");
    })
    .await;
}

#[tokio::test]
async fn a_stream_that_ends_without_the_response_fails_fast_instead_of_hanging() {
    within(Duration::from_secs(20), async {
        let server = server_answering_calls_with(|_| {
            let mut bytes = sse_head(&[]);
            bytes.extend_from_slice(b"data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\n\n");
            Action::RespondAndClose(bytes)
        })
        .await;
        let client = connect(&server).await;
        let started = std::time::Instant::now();
        let err = client.call_tool("x", json!({})).await.expect_err("no response");
        assert_eq!(err.kind(), ErrorKind::Network, "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
        client.close().await.expect("close");
    })
    .await;
}

#[tokio::test]
async fn a_session_id_outside_visible_ascii_is_refused_at_connect() {
    within(Duration::from_secs(20), async {
        let server = Scripted::start(|req| {
            Action::Respond(response(
                200,
                &[
                    ("content-type", "application/json"),
                    ("mcp-session-id", "bad id"),
                ],
                &init_result(&req.rpc_id().unwrap_or(Value::Null), "2025-11-25"),
            ))
        })
        .await;
        let err = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect_err("bad session id");
        assert!(err.is_protocol(), "{err:?}");
        assert!(err.to_string().contains("session id"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn a_server_choosing_an_unknown_protocol_version_is_refused() {
    within(Duration::from_secs(20), async {
        let server = Scripted::start(|req| {
            Action::Respond(response(
                200,
                &[("content-type", "application/json")],
                &init_result(&req.rpc_id().unwrap_or(Value::Null), "1999-01-01"),
            ))
        })
        .await;
        let err = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect_err("unknown version");
        assert!(err.is_protocol(), "{err:?}");
        assert!(err.to_string().contains("1999-01-01"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn a_plain_web_page_is_not_an_mcp_server() {
    within(Duration::from_secs(20), async {
        let server = Scripted::start(|_| {
            Action::Respond(response(
                200,
                &[("content-type", "text/html")],
                "<h1>Welcome</h1>",
            ))
        })
        .await;
        let err = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect_err("not MCP");
        assert!(err.is_protocol(), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn a_dead_port_is_a_connect_error() {
    within(Duration::from_secs(20), async {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let err = Client::builder(format!("http://127.0.0.1:{port}/mcp"))
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect_err("nobody listens");
        assert!(err.is_connect(), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn an_oversize_message_fails_its_call_in_both_modes_and_loses_nothing_else() {
    within(Duration::from_secs(30), async {
        for mode in [ResponseMode::Sse, ResponseMode::Json] {
            let server = start(ServerConfig::default().response_mode(mode)).await;
            let client = Client::builder(server.url())
                .protocol_era(ProtocolEra::Session)
                .max_message_bytes(4096)
                .connect()
                .await
                .expect("connect");
            let small = client
                .call_tool("big", json!({"bytes": 1000}))
                .await
                .expect("fits");
            assert_eq!(small.content[0].as_text().map(str::len), Some(1000));
            let err = client
                .call_tool("big", json!({"bytes": 100_000}))
                .await
                .expect_err("too big");
            assert!(err.is_protocol(), "{mode:?}: {err:?}");
            assert!(err.to_string().contains("limit of 4096 bytes"), "{err}");
            client.ping().await.expect("still usable");
            client.close().await.expect("close");
            server.shutdown().await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_server_that_never_answers_hits_the_request_deadline() {
    within(Duration::from_secs(20), async {
        let server = server_answering_calls_with(|_| Action::Hang).await;
        let client = connect(&server).await;
        let err = client
            .call_tool_with(
                "x",
                json!({}),
                &mcptool::RequestOptions::new().timeout(Duration::from_millis(200)),
            )
            .await
            .expect_err("deadline");
        assert!(err.is_timeout());
        client.close().await.expect("close");
        // The client told the server to stop.
        assert!(
            support::eventually(Duration::from_secs(5), || {
                server
                    .seen()
                    .iter()
                    .any(|s| s.rpc_method().as_deref() == Some("notifications/cancelled"))
            })
            .await
        );
    })
    .await;
}
