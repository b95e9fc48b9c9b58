//! JSON and SSE response modes, the protocol-version header, GET and DELETE answered 405, and a
//! 409 on the standalone stream handled without a retry loop.

mod support;

use std::time::Duration;

use mcptool::protocol::ProtocolVersion;
use mcptool::{Client, CloseOutcome, ProtocolEra};
use mcptool_server::{ResponseMode, ServerConfig};
use serde_json::json;
use support::scripted::{Action, Scripted, init_result, response};
use support::server::{start, start_default, wait_stats};
use support::within;

async fn exercise(config: ServerConfig) -> mcptool_server::StatsSnapshot {
    let server = start(config).await;
    let client = Client::builder(server.url())
        .protocol_era(ProtocolEra::Session)
        .connect()
        .await
        .expect("connect");
    let tools = client.list_tools().await.expect("tools");
    assert!(tools.iter().any(|t| t.name == "whoami"), "{tools:?}");
    let sum = client
        .call_tool("add", json!({"a": 2, "b": 40}))
        .await
        .expect("add");
    assert_eq!(sum.structured_content, Some(json!({"sum": 42.0})));
    let prompts = client.list_prompts().await.expect("prompts");
    assert!(prompts.iter().any(|p| p.name == "greeting"));
    let resources = client.list_resources().await.expect("resources");
    let first = client.read_resource(&resources[0].uri).await.expect("read");
    assert!(!first.contents.is_empty());
    client.close().await.expect("close");
    let s = server.stats().snapshot();
    server.shutdown().await;
    s
}

#[tokio::test]
async fn json_and_sse_responses_give_the_same_results() {
    within(Duration::from_secs(30), async {
        for mode in [ResponseMode::Json, ResponseMode::Sse] {
            let s = exercise(ServerConfig::default().response_mode(mode)).await;
            assert!(
                s.methods.get("tools/list").copied().unwrap_or(0) >= 2,
                "tools/list should span several pages: {:?}",
                s.methods
            );
            assert_eq!(s.sessions_deleted, 1);
        }
    })
    .await;
}

#[tokio::test]
async fn every_request_after_initialize_carries_session_and_protocol_version() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .standalone_stream(true)
            .connect()
            .await
            .expect("connect");
        client
            .call_tool("echo", json!({"message": "x"}))
            .await
            .expect("echo");
        wait_stats(&server, "the standalone stream", |s| {
            s.get_streams_opened == 1
        })
        .await;
        client.close().await.expect("close");
        let records = server.stats().requests();
        let after_init: Vec<_> = records
            .iter()
            .filter(|r| r.rpc_method.as_deref() != Some("initialize"))
            .collect();
        assert!(after_init.iter().any(|r| r.http_method == "GET"));
        assert!(after_init.iter().any(|r| r.http_method == "DELETE"));
        for r in after_init {
            assert_eq!(r.protocol_version.as_deref(), Some("2025-11-25"), "{r:?}");
            assert!(r.session_id.is_some(), "{r:?}");
        }
        assert_eq!(
            server.stats().snapshot().requests_missing_protocol_version,
            0
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn an_older_offered_version_is_negotiated_and_sent() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        for version in [ProtocolVersion::V2025_03_26, ProtocolVersion::V2025_06_18] {
            let client = Client::builder(server.url())
                .protocol_era(ProtocolEra::Session)
                .protocol_version(version)
                .connect()
                .await
                .expect("connect");
            assert_eq!(client.protocol_version(), Some(version));
            client.ping().await.expect("ping");
            client.close().await.expect("close");
            let last = server.stats().requests().pop().expect("a request");
            assert_eq!(last.protocol_version.as_deref(), Some(version.as_str()));
        }
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn get_answered_405_means_no_stream_and_no_retry() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default().get_stream(false)).await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        // A subscriber asks for the stream; the server refuses it.
        let _notes = client.notifications();
        wait_stats(&server, "the refused GET", |s| {
            s.status_counts.get(&405) == Some(&1)
        })
        .await;
        // Another subscriber must not ask again.
        let _more = client.notifications();
        tokio::time::sleep(Duration::from_millis(600)).await;
        client.ping().await.expect("ping");
        let s = server.stats().snapshot();
        assert_eq!(s.status_counts.get(&405), Some(&1), "GET retried after 405");
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn delete_answered_405_is_reported_as_not_allowed() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default().allow_delete(false)).await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        assert_eq!(
            client.close().await.expect("close"),
            CloseOutcome::DeleteNotAllowed
        );
        let s = wait_stats(&server, "sockets closed", |s| s.open_connections == 0).await;
        assert_eq!(s.deletes, 1);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_409_on_the_standalone_stream_is_met_once_and_never_retried() {
    within(Duration::from_secs(30), async {
        let server = Scripted::start(|req| match (req.method.as_str(), req.rpc_method()) {
            ("POST", Some(m)) if m == "initialize" => Action::Respond(response(
                200,
                &[
                    ("content-type", "application/json"),
                    ("mcp-session-id", "sess-409"),
                ],
                &init_result(&req.rpc_id().expect("id"), "2025-11-25"),
            )),
            ("POST", Some(m)) if m == "ping" => Action::Respond(response(
                200,
                &[("content-type", "application/json")],
                &support::scripted::result(&req.rpc_id().expect("id"), &json!({})),
            )),
            ("GET", _) => Action::Respond(response(409, &[], "Conflict: only one SSE stream")),
            _ => Action::Respond(response(202, &[], "")),
        })
        .await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .standalone_stream(true)
            .connect()
            .await
            .expect("connect");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        client
            .ping()
            .await
            .expect("the session works without a stream");
        assert_eq!(server.count("GET"), 1, "the client retried after 409");
        client.close().await.expect("close");
    })
    .await;
}

// A current-thread runtime: on a multi-threaded one under load (CI runs tests in parallel), the
// pool's hand-back of a finished connection can lose a race with the next request, which then
// opens another connection (measured: up to two per session); here the count is exact.
#[tokio::test(flavor = "current_thread")]
async fn a_session_with_sequential_calls_keeps_to_about_one_connection() {
    within(Duration::from_secs(60), async {
        for mode in [ResponseMode::Sse, ResponseMode::Json] {
            let server = start(ServerConfig::default().response_mode(mode)).await;
            let sessions = 50;
            for _ in 0..sessions {
                let client = Client::builder(server.url())
                    .protocol_era(ProtocolEra::Session)
                    .connect()
                    .await
                    .expect("connect");
                for _ in 0..3 {
                    client
                        .call_tool("echo", json!({"message": "x"}))
                        .await
                        .expect("echo");
                }
                client.close().await.expect("close");
            }
            let s = wait_stats(&server, "connections closed", |s| s.open_connections == 0).await;
            // Each session's five requests (initialize, initialized, three calls) and its DELETE
            // go over one connection. A client that drops an answer's stream before its end
            // makes hyper close that connection, and one that sends its next request before
            // the pool has taken the last connection back opens another: two or more per
            // session either way.
            assert_eq!(
                s.total_connections, sessions,
                "{mode:?}: {} connections for {sessions} sessions",
                s.total_connections
            );
            server.shutdown().await;
        }
    })
    .await;
}
