//! The seed's reproduction at the tool level: every `McpStreamableHttpTool` owns its session
//! and its connections, and `close()` ends them — shown by what the strict server saw.

mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcptool::{CloseOutcome, HeaderProvider, McpStreamableHttpTool, ProtocolEra};
use serde_json::json;
use support::server::{start_default, wait_stats};
use support::within;

fn tool(url: &str) -> McpStreamableHttpTool {
    McpStreamableHttpTool::builder("demo", url)
        .protocol_era(ProtocolEra::Session)
        .build()
        .expect("build")
}

/// The session id the server says the call ran in.
async fn whoami(tool: &McpStreamableHttpTool) -> String {
    let out = tool.invoke("whoami", json!({})).await.expect("whoami");
    out.structured_content.expect("structured")["session_id"]
        .as_str()
        .expect("session id")
        .to_owned()
}

#[tokio::test]
async fn second_tool_gets_its_own_session_and_pool_after_the_first_closes() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let tool1 = tool(&server.url());
        tool1.connect().await.expect("connect 1");
        assert!(tool1.owns_http_client());
        let session1 = whoami(&tool1).await;
        assert_eq!(tool1.close().await.expect("close 1"), CloseOutcome::Deleted);
        let after_close = wait_stats(&server, "tool 1's connections closed", |s| {
            s.open_connections == 0 && s.live_get_streams == 0
        })
        .await;
        assert_eq!(after_close.sessions_deleted, 1);

        let tool2 = tool(&server.url());
        tool2.connect().await.expect("connect 2");
        assert!(tool2.owns_http_client());
        let session2 = whoami(&tool2).await;
        assert_ne!(session1, session2, "tool 2 reused tool 1's session");
        // Every connection tool 2 uses was opened after tool 1's were all closed.
        let during = server.stats().snapshot();
        assert!(during.total_connections > after_close.total_connections);

        let records = server.stats().requests();
        assert!(
            records
                .iter()
                .any(|r| r.http_method == "DELETE" && r.session_id.as_deref() == Some(&session1)),
            "no DELETE for session 1"
        );
        assert!(
            records
                .iter()
                .filter(|r| r.session_id.as_deref() == Some(&session2))
                .all(|r| r.http_method != "DELETE"),
            "session 2 was deleted before its close"
        );
        assert_eq!(tool2.close().await.expect("close 2"), CloseOutcome::Deleted);
        let s = wait_stats(&server, "all closed", |s| s.open_connections == 0).await;
        assert_eq!(s.sessions_opened, 2);
        assert_eq!(s.status_counts.get(&409), None, "no 409 expected: {s:#?}");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn without_terminate_on_close_no_delete_is_sent_yet_nothing_stays_open() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let build = || {
            McpStreamableHttpTool::builder("demo", server.url())
                .protocol_era(ProtocolEra::Session)
                .terminate_on_close(false)
                .build()
                .expect("build")
        };
        let tool1 = build();
        tool1.connect().await.expect("connect 1");
        let session1 = whoami(&tool1).await;
        wait_stats(&server, "tool 1's GET stream", |s| s.live_get_streams == 1).await;
        assert_eq!(
            tool1.close().await.expect("close 1"),
            CloseOutcome::NotTerminated
        );
        let s = wait_stats(&server, "tool 1's stream and connections gone", |s| {
            s.open_connections == 0 && s.live_get_streams == 0
        })
        .await;
        assert_eq!(s.deletes, 0);
        assert_eq!(
            s.sessions_live, 1,
            "session 1 is left to expire on the server"
        );

        let tool2 = build();
        tool2.connect().await.expect("connect 2");
        let session2 = whoami(&tool2).await;
        assert_ne!(session1, session2);
        wait_stats(&server, "tool 2's GET stream", |s| s.live_get_streams == 1).await;
        tool2.close().await.expect("close 2");
        let s = wait_stats(&server, "all closed", |s| {
            s.open_connections == 0 && s.live_get_streams == 0
        })
        .await;
        assert_eq!(s.deletes, 0);
        assert_eq!(s.sessions_opened, 2);
        assert_eq!(s.status_counts.get(&409), None, "no 409 expected: {s:#?}");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn is_connected_turns_false_when_the_server_drops_the_session() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let tool = tool(&server.url());
        assert!(!tool.is_connected());
        tool.connect().await.expect("connect");
        assert!(tool.is_connected());
        let session = whoami(&tool).await;
        wait_stats(&server, "the GET stream", |s| s.live_get_streams == 1).await;
        assert!(server.expire_session(&session));
        let noticed = support::eventually(Duration::from_secs(10), || !tool.is_connected()).await;
        assert!(
            noticed,
            "a session the server dropped is reported as connected"
        );
        // Strict by default: no new session behind the caller's back.
        let err = tool
            .invoke("echo", json!({"message": "x"}))
            .await
            .expect_err("expired");
        assert!(err.is_session_expired(), "{err:?}");
        assert_eq!(tool.close().await.expect("close"), CloseOutcome::NoSession);
        assert_eq!(server.stats().snapshot().sessions_opened, 1);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn close_is_idempotent_and_a_closed_tool_refuses_calls() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let tool = tool(&server.url());
        assert_eq!(
            tool.close().await.expect("close idle"),
            CloseOutcome::NoSession
        );
        let tool = self::tool(&server.url());
        tool.connect().await.expect("connect");
        assert!(!tool.functions().is_empty());
        assert_eq!(tool.close().await.expect("close"), CloseOutcome::Deleted);
        assert_eq!(
            tool.close().await.expect("close again"),
            CloseOutcome::AlreadyClosed
        );
        assert!(tool.functions().is_empty());
        let err = tool
            .invoke("echo", json!({"message": "x"}))
            .await
            .expect_err("closed");
        assert!(err.is_closed(), "{err:?}");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn header_provider_runs_for_every_request_and_static_headers_go_too() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let provider = HeaderProvider::new(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move { Ok(vec![("x-token".to_owned(), format!("t{n}"))]) }
        });
        let tool = McpStreamableHttpTool::builder("demo", server.url())
            .protocol_era(ProtocolEra::Session)
            .header("x-static", "s")
            .header_provider(provider)
            .build()
            .expect("build");
        tool.connect().await.expect("connect");
        tool.invoke("echo", json!({"message": "hi"}))
            .await
            .expect("echo");
        tool.close().await.expect("close");
        wait_stats(&server, "all closed", |s| s.open_connections == 0).await;
        let records = server.stats().requests();
        let methods: HashSet<&str> = records.iter().map(|r| r.http_method.as_str()).collect();
        assert!(
            methods.contains("GET") && methods.contains("DELETE"),
            "{methods:?}"
        );
        for r in &records {
            let has = |name: &str| r.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
            assert!(
                has("x-token") && has("x-static"),
                "{} {:?} lacked a header",
                r.http_method,
                r.rpc_method
            );
        }
        assert!(
            records
                .iter()
                .any(|r| r.rpc_method.as_deref() == Some("initialize")
                    && r.headers.iter().any(|(k, v)| k == "x-token" && v == "t0")),
            "initialize did not carry the first provided header"
        );
        assert!(calls.load(Ordering::SeqCst) >= records.len());
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "10 000 lifecycles: run in release mode by the CI script"]
async fn ten_thousand_tool_lifecycles_leave_no_session_socket_or_descriptor_behind() {
    within(Duration::from_secs(600), async {
        let server = start_default().await;
        let warm = tool(&server.url());
        warm.connect().await.expect("connect");
        warm.close().await.expect("close");
        wait_stats(&server, "warm-up closed", |s| s.open_connections == 0).await;
        let fds_before = support::open_fds();
        let runs: u64 = 10_000;
        for _ in 0..runs {
            let tool = tool(&server.url());
            tool.connect().await.expect("connect");
            let out = tool
                .invoke("echo", json!({"message": "x"}))
                .await
                .expect("echo");
            assert!(!out.is_error());
            assert_eq!(tool.close().await.expect("close"), CloseOutcome::Deleted);
        }
        let s = wait_stats(&server, "every connection closed", |s| {
            s.open_connections == 0 && s.live_get_streams == 0
        })
        .await;
        assert_eq!(s.sessions_opened, runs + 1);
        assert_eq!(s.deletes, runs + 1);
        assert_eq!(s.sessions_live, 0);
        assert_eq!(s.status_counts.get(&409), None);
        let settled =
            support::eventually(Duration::from_secs(5), || support::open_fds() <= fds_before).await;
        assert!(
            settled,
            "fds: {} before, {} after",
            fds_before,
            support::open_fds()
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_lent_http_client_is_used_and_left_to_its_owner() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let lent = mcptool::http_client_builder()
            .expect("builder")
            .build()
            .expect("client");
        let tool = McpStreamableHttpTool::builder("demo", server.url())
            .protocol_era(ProtocolEra::Session)
            .http_client(lent.clone())
            .build()
            .expect("build");
        assert!(!tool.owns_http_client());
        tool.connect().await.expect("connect");
        let session = whoami(&tool).await;
        assert_eq!(tool.close().await.expect("close"), CloseOutcome::Deleted);
        let s = wait_stats(
            &server,
            "the session deleted and the GET stream gone",
            |s| s.sessions_deleted == 1 && s.live_get_streams == 0,
        )
        .await;
        assert_eq!(s.session_ids, [session]);
        // The caller's pool still works after the tool is closed.
        let status = lent
            .get(server.url())
            .send()
            .await
            .expect("the lent client still works")
            .status();
        assert!(status.is_client_error(), "{status}");
        // The tool keeps a handle on the lent client (to connect again) until it is dropped.
        drop(tool);
        drop(lent);
        wait_stats(&server, "the caller's pool closed once dropped", |s| {
            s.open_connections == 0
        })
        .await;
        server.shutdown().await;
    })
    .await;
}
