//! Interop with a Python SDK 2.x (`mcp` 2.3.0, `MCPServer`) peer, `peers/python/server_mcp2.py`,
//! in SSE response mode, JSON response mode, and SSE mode with an event store.
//!
//! Quirks handled here: error bodies carry `"id": null`; a 400 carries a fresh
//! `mcp-session-id` header.

#[macro_use]
#[path = "support/python_checks.rs"]
mod python_checks;
mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::peers::{self, Peer, PeerProcess, PyMode};
use support::within;

const LIMIT: Duration = Duration::from_secs(60);

async fn mcp2(mode: PyMode) -> Option<PeerProcess> {
    peers::start(Peer::PythonMcp2(mode)).await
}

in_every_python_mode! {
    mcp2;
    lists_tools_with_normalised_schemas => |peer| python_checks::lists_tools(&peer).await;
    calls_tools_with_text_image_and_structured_results => |peer| python_checks::calls_tools(&peer).await;
    gets_prompts_and_reads_resources => |peer| {
        python_checks::prompts_and_resources(&peer, "hello from mcp 2").await
    };
    close_deletes_the_session_and_the_peer_answers_404_after => |peer| {
        python_checks::close_deletes_the_session(&peer, &Value::Null).await
    };
    a_session_ended_by_the_server_expires_or_reinitialises => |peer| {
        peers::session_ended_by_the_server(&peer.url(), 404, "").await
    };
    a_400_carries_a_fresh_session_header_that_names_no_session => |peer| {
        python_checks::fresh_session_header_on_400(&peer, &Value::Null).await
    };
    two_sequential_and_twenty_concurrent_lifecycles_get_distinct_sessions => |peer| {
        peers::sequential_and_concurrent_lifecycles(
            &peer.url(), "add", json!({"a": 1, "b": 2}), 404,
        ).await
    };
}

#[tokio::test]
async fn progress_arrives_in_order_on_the_sse_response() {
    within(LIMIT, async {
        let Some(peer) = mcp2(PyMode::Sse).await else {
            return;
        };
        let seen = python_checks::progress_in_order(&peer).await;
        assert_eq!(seen, python_checks::expected_progress());
    })
    .await;
}

#[tokio::test]
async fn progress_arrives_in_order_with_an_event_store() {
    within(LIMIT, async {
        let Some(peer) = mcp2(PyMode::SseResumable).await else {
            return;
        };
        let seen = python_checks::progress_in_order(&peer).await;
        assert_eq!(seen, python_checks::expected_progress());
    })
    .await;
}

/// In JSON response mode the peer has nowhere to put a request's notifications: it drops them
/// (they do not come on the GET stream either, checked by hand with curl). The call itself
/// must still succeed.
#[tokio::test]
async fn json_mode_drops_progress_but_the_call_succeeds() {
    within(LIMIT, async {
        let Some(peer) = mcp2(PyMode::Json).await else {
            return;
        };
        let seen = python_checks::progress_in_order(&peer).await;
        assert_eq!(
            seen,
            [],
            "the peer now sends progress in JSON mode: update docs/interop.md"
        );
    })
    .await;
}

/// The peer's `interrupted` tool ends its own SSE stream half-way (with an event store, as
/// 2025-11-25 allows); the client resumes with GET + `Last-Event-ID` and gets every progress
/// notification and the result exactly once.
#[tokio::test]
async fn a_stream_closed_by_the_server_mid_call_is_resumed() {
    within(LIMIT, async {
        let Some(peer) = mcp2(PyMode::SseResumable).await else {
            return;
        };
        let client = mcptool::Client::builder(peer.url())
            .protocol_era(mcptool::ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = std::sync::Arc::clone(&seen);
        let options = mcptool::RequestOptions::new()
            .on_progress(move |p| sink.lock().expect("lock").push(p.progress));
        let result = client
            .call_tool_with("interrupted", json!({"steps": 6}), &options)
            .await
            .expect("result after resumption");
        assert_eq!(result.content[0].as_text(), Some("finished 6 steps"));
        assert_eq!(
            *seen.lock().expect("lock"),
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        );
        client.close().await.expect("close");
    })
    .await;
}

#[tokio::test]
async fn a_stateless_client_speaks_2026_07_28_with_the_python_server() {
    within(LIMIT, async {
        for mode in [PyMode::Sse, PyMode::Json] {
            let Some(peer) = mcp2(mode).await else {
                return;
            };
            let client = mcptool::Client::builder(peer.url())
                .protocol_era(mcptool::ProtocolEra::Stateless)
                .connect()
                .await
                .unwrap_or_else(|e| panic!("{mode:?}: discover: {e}"));
            assert_eq!(
                client.protocol_version(),
                Some(mcptool::protocol::ProtocolVersion::V2026_07_28)
            );
            assert!(client.session_id().is_none());
            let tools = client.list_tools().await.expect("tools");
            assert!(tools.iter().any(|t| t.name == "echo"), "{tools:?}");
            let echoed = client
                .call_tool("echo", json!({"message": "modern"}))
                .await
                .expect("echo");
            assert_eq!(echoed.content[0].as_text(), Some("modern"));
            assert_eq!(
                client.close().await.expect("close"),
                mcptool::CloseOutcome::Stateless
            );
        }
    })
    .await;
}
