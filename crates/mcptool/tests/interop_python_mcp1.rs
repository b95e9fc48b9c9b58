//! Interop with a Python SDK 1.x (`mcp` 1.30.0, `FastMCP`) peer, `peers/python/server_mcp1.py`,
//! in SSE response mode, JSON response mode, and SSE mode with an event store.
//!
//! Quirks handled here: error bodies carry `"id": "server-error"`; a 400 carries a fresh
//! `mcp-session-id` header.

#[macro_use]
#[path = "support/python_checks.rs"]
mod python_checks;
mod support;

use std::time::Duration;

use serde_json::json;
use support::peers::{self, Peer, PeerProcess, PyMode};
use support::within;

const LIMIT: Duration = Duration::from_secs(60);

async fn mcp1(mode: PyMode) -> Option<PeerProcess> {
    peers::start(Peer::PythonMcp1(mode)).await
}

in_every_python_mode! {
    mcp1;
    lists_tools_with_normalised_schemas => |peer| python_checks::lists_tools(&peer).await;
    calls_tools_with_text_image_and_structured_results => |peer| python_checks::calls_tools(&peer).await;
    gets_prompts_and_reads_resources => |peer| {
        python_checks::prompts_and_resources(&peer, "hello from mcp 1").await
    };
    close_deletes_the_session_and_the_peer_answers_404_after => |peer| {
        python_checks::close_deletes_the_session(&peer, &json!("server-error")).await
    };
    a_session_ended_by_the_server_expires_or_reinitialises => |peer| {
        peers::session_ended_by_the_server(&peer.url(), 404, "").await
    };
    a_400_carries_a_fresh_session_header_that_names_no_session => |peer| {
        python_checks::fresh_session_header_on_400(&peer, &json!("server-error")).await
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
        let Some(peer) = mcp1(PyMode::Sse).await else {
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
        let Some(peer) = mcp1(PyMode::SseResumable).await else {
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
        let Some(peer) = mcp1(PyMode::Json).await else {
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
