//! A client and a tool pinned to 2026-07-28 ([`ProtocolEra::Stateless`]) against the strict
//! server in its dual-era and stateless-only modes: discover instead of initialize, no session,
//! `_meta` and routing headers the server accepts, tools with invalid annotations left out,
//! `input_required` answered through the handlers, cancellation by closing the stream, and a
//! close that sends no DELETE and leaves no connection open.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcptool::protocol::ProtocolVersion;
use mcptool::{Client, CloseOutcome, Handler, McpStreamableHttpTool, ProtocolEra, RequestOptions};
use mcptool_server::{Era, RunningServer, ServerConfig};
use serde_json::{Value, json};
use support::server::{start, wait_stats};
use support::within;

const MODERN_ERAS: [Era; 2] = [Era::Both, Era::Stateless];

fn text(result: &mcptool::protocol::CallToolResult) -> String {
    result.content[0].as_text().unwrap_or_default().to_owned()
}

/// A stateless client with a handler for each kind of input; the elicitation one counts its calls.
fn builder(server: &RunningServer, calls: &Arc<AtomicUsize>) -> mcptool::ClientBuilder {
    let counter = Arc::clone(calls);
    Client::builder(server.url())
        .protocol_era(ProtocolEra::Stateless)
        .on_elicitation(Handler::new(move |params: Value| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                let field = params["requestedSchema"]["required"][0].as_str().unwrap_or("answer").to_owned();
                let value = if field == "colour" { "teal" } else { "Ada" };
                Ok(json!({"action": "accept", "content": {field: value}}))
            }
        }))
        .on_sampling(Handler::new(|_| async {
            Ok(json!({"role": "assistant", "content": {"type": "text", "text": "4"}, "model": "test"}))
        }))
        .on_roots(Handler::new(|_| async { Ok(json!({"roots": [{"uri": "file:///work"}]})) }))
}

#[tokio::test]
async fn a_stateless_client_discovers_calls_and_closes_without_a_session() {
    within(Duration::from_secs(30), async {
        for era in MODERN_ERAS {
            let server = start(ServerConfig::default().era(era)).await;
            let calls = Arc::new(AtomicUsize::new(0));
            let client = builder(&server, &calls).connect().await.expect("connect");
            assert_eq!(client.protocol_version(), Some(ProtocolVersion::V2026_07_28));
            assert_eq!(client.server_info().expect("discovered").server_info.name, "mcptool-server");
            assert!(client.session_id().is_none());
            let tools = client.list_tools().await.expect("tools");
            let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
            assert!(!names.contains(&"bad_header"), "an invalid annotation leaves its tool out");
            assert!(names.contains(&"route") && names.len() == 20, "{names:?}");
            assert_eq!(text(&client.call_tool("echo", json!({"message": "hi"})).await.expect("echo")), "hi");
            let routed = client
                .call_tool("route", json!({"region": "Hello, 世界", "priority": 3, "urgent": true, "target": {"zone": " z "}}))
                .await
                .expect("route: its Mcp-Param-* headers match");
            assert_eq!(routed.structured_content.as_ref().expect("structured")["region"], "Hello, 世界");
            assert_eq!(text(&client.call_tool("ask", json!({"question": "Name?"})).await.expect("ask")), "Ada");
            assert_eq!(text(&client.call_tool("survey", json!({})).await.expect("survey")), "Ada likes teal");
            assert_eq!(calls.load(Ordering::SeqCst), 3, "one elicitation for ask, two for survey");
            assert_eq!(text(&client.call_tool("sample", json!({"prompt": "2+2?"})).await.expect("sample")), "4");
            assert!(text(&client.call_tool("roots", json!({})).await.expect("roots")).contains("file:///work"));
            let prompt = client.get_prompt("introduce", &serde_json::Map::new()).await.expect("prompt");
            assert!(format!("{:?}", prompt.messages).contains("Please introduce"));
            assert_eq!(client.close().await.expect("close"), CloseOutcome::Stateless);
            let snap = wait_stats(&server, "no connection left", |s| s.open_connections == 0).await;
            assert_eq!((snap.sessions_opened, snap.deletes, snap.get_streams_opened), (0, 0, 0));
            assert!(snap.header_mismatches.is_empty(), "{:?}", snap.header_mismatches);
            assert_eq!(snap.mrtr_rounds, 6, "ask 1, survey 2, sample 1, roots 1, prompt 1");
            assert_eq!(snap.discover_calls, 1);
            assert_eq!(snap.session_era_requests, 0);
            server.shutdown().await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_call_that_needs_a_missing_handler_fails_naming_the_capability() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default()).await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Stateless)
            .connect()
            .await
            .expect("connect");
        let err = client
            .call_tool("ask", json!({"question": "q"}))
            .await
            .expect_err("no handler");
        assert_eq!(err.status(), Some(400), "{err}");
        assert_eq!(err.rpc_error().map(|e| e.code), Some(-32021), "{err}");
        assert_eq!(
            text(
                &client
                    .call_tool("echo", json!({"message": "still"}))
                    .await
                    .expect("echo")
            ),
            "still"
        );
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_timeout_closes_the_stream_and_the_server_stops_the_work() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default()).await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Stateless)
            .connect()
            .await
            .expect("connect");
        let progress = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&progress);
        let options = RequestOptions::new()
            .timeout(Duration::from_millis(400))
            .on_progress(move |_| {
                seen.fetch_add(1, Ordering::SeqCst);
            });
        let err = client
            .call_tool_with("sleep", json!({"ms": 60_000, "steps": 600}), &options)
            .await
            .expect_err("times out");
        assert!(err.is_timeout(), "{err}");
        assert!(
            progress.load(Ordering::SeqCst) >= 1,
            "progress flows on the call's stream"
        );
        let snap = wait_stats(&server, "the work cancelled", |s| {
            s.works_cancelled_by_close == 1
        })
        .await;
        assert_eq!(
            snap.cancelled_requests, 0,
            "no notifications/cancelled in 2026-07-28"
        );
        assert_eq!(snap.methods.get("notifications/cancelled"), None);
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_session_only_server_is_refused_with_a_clear_error() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default().era(Era::Sessions)).await;
        let err = Client::builder(server.url())
            .protocol_era(ProtocolEra::Stateless)
            .connect()
            .await
            .expect_err("no 2026-07-28 here");
        assert_eq!(err.status(), Some(400), "{err}");
        assert_eq!(server.stats().snapshot().sessions_opened, 0);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_stateless_tool_lists_invokes_and_closes() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default().era(Era::Stateless)).await;
        let tool = McpStreamableHttpTool::builder("demo", server.url())
            .protocol_era(ProtocolEra::Stateless)
            .load_prompts(false)
            .build()
            .expect("build");
        tool.connect().await.expect("connect");
        assert!(tool.function("bad_header").is_none());
        assert!(tool.function("route").is_some());
        let output = tool
            .invoke("echo", json!({"message": "hi"}))
            .await
            .expect("invoke");
        assert_eq!(output.text(), "hi");
        assert_eq!(tool.close().await.expect("close"), CloseOutcome::Stateless);
        let snap = wait_stats(&server, "no connection left", |s| s.open_connections == 0).await;
        assert_eq!((snap.sessions_opened, snap.deletes), (0, 0));
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_hundred_stateless_lifecycles_leave_no_connection_open() {
    within(Duration::from_secs(60), async {
        let server = start(ServerConfig::default()).await;
        for _ in 0..100 {
            let client = Client::builder(server.url())
                .protocol_era(ProtocolEra::Stateless)
                .connect()
                .await
                .expect("connect");
            client
                .call_tool("echo", json!({"message": "x"}))
                .await
                .expect("echo");
            assert_eq!(
                client.close().await.expect("close"),
                CloseOutcome::Stateless
            );
        }
        let snap = wait_stats(&server, "no connection left", |s| s.open_connections == 0).await;
        assert_eq!(
            snap.total_connections, 100,
            "one pool per client, one connection each"
        );
        assert_eq!((snap.sessions_opened, snap.discover_calls), (0, 100));
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_stateless_tool_follows_list_changes_on_a_listen_stream() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default().era(Era::Stateless)).await;
        let tool = McpStreamableHttpTool::builder("demo", server.url())
            .protocol_era(ProtocolEra::Stateless)
            .load_prompts(true)
            .build()
            .expect("build");
        tool.connect().await.expect("connect");
        wait_stats(&server, "a listen stream", |s| s.listen_streams_live == 1).await;
        assert!(tool.function("extra").is_none());
        tool.invoke("toggle_tools", json!({}))
            .await
            .expect("toggle on");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while tool.function("extra").is_none() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the tool never saw the new tool"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tool.invoke("toggle_tools", json!({}))
            .await
            .expect("toggle off");
        while tool.function("extra").is_some() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the tool never saw the removal"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(tool.close().await.expect("close"), CloseOutcome::Stateless);
        let snap = wait_stats(&server, "listen stream and sockets closed", |s| {
            s.listen_streams_live == 0 && s.open_connections == 0
        })
        .await;
        assert_eq!(snap.listen_streams_opened, 1, "one stream, kept open");
        assert_eq!(
            (snap.sessions_opened, snap.get_streams_opened, snap.deletes),
            (0, 0, 0)
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_stateless_client_opens_no_listen_stream_until_someone_listens() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default()).await;
        let calls = Arc::new(AtomicUsize::new(0));
        let client = builder(&server, &calls).connect().await.expect("connect");
        client
            .call_tool("echo", json!({"message": "x"}))
            .await
            .expect("echo");
        assert_eq!(
            server.stats().snapshot().listen_streams_opened,
            0,
            "handlers need no stream in 2026-07-28"
        );
        let mut notifications = client.notifications();
        wait_stats(&server, "a listen stream", |s| s.listen_streams_live == 1).await;
        client
            .call_tool("toggle_prompts", json!({}))
            .await
            .expect("toggle");
        let seen = tokio::time::timeout(Duration::from_secs(5), notifications.recv())
            .await
            .expect("in time")
            .expect("a notification");
        assert_eq!(seen.method, "notifications/prompts/list_changed");
        client.close().await.expect("close");
        wait_stats(&server, "closed", |s| {
            s.listen_streams_live == 0 && s.open_connections == 0
        })
        .await;
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn two_hundred_concurrent_stateless_clients_get_only_their_own_answers() {
    within(Duration::from_secs(60), async {
        let server = start(ServerConfig::default()).await;
        let runs = (0..200).map(|i| {
            let url = server.url();
            tokio::spawn(async move {
                let me = format!("client-{i}");
                let answer = me.clone();
                let client =
                        Client::builder(url)
                            .protocol_era(ProtocolEra::Stateless)
                            .on_elicitation(Handler::new(move |_| {
                                let answer = answer.clone();
                                async move {
                                    Ok(json!({"action": "accept", "content": {"answer": answer}}))
                                }
                            }))
                            .connect()
                            .await
                            .expect("connect");
                let echoed = client
                    .call_tool("echo", json!({"message": me}))
                    .await
                    .expect("echo");
                let asked = client
                    .call_tool("ask", json!({"question": "who?"}))
                    .await
                    .expect("ask");
                client.close().await.expect("close");
                (me, text(&echoed), text(&asked))
            })
        });
        for run in futures_util::future::join_all(runs).await {
            let (me, echoed, asked) = run.expect("task");
            assert_eq!(
                (echoed.as_str(), asked.as_str()),
                (me.as_str(), me.as_str()),
                "cross-talk"
            );
        }
        let snap = wait_stats(&server, "every connection closed", |s| {
            s.open_connections == 0
        })
        .await;
        assert_eq!(
            (
                snap.mrtr_rounds,
                snap.mrtr_retries,
                snap.mrtr_rejected_states
            ),
            (200, 200, 0)
        );
        assert_eq!(snap.sessions_opened, 0);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
#[ignore = "1 000 lifecycles: run in release mode by the CI script"]
async fn a_thousand_stateless_tool_lifecycles_leave_no_socket_or_descriptor_behind() {
    within(Duration::from_secs(600), async {
        let server = start(ServerConfig::default()).await;
        let lifecycle = |url: String| async move {
            let tool = McpStreamableHttpTool::builder("demo", url)
                .protocol_era(ProtocolEra::Stateless)
                .build()
                .expect("build");
            tool.connect().await.expect("connect");
            assert_eq!(
                tool.invoke("echo", json!({"message": "x"}))
                    .await
                    .expect("echo")
                    .text(),
                "x"
            );
            assert_eq!(tool.close().await.expect("close"), CloseOutcome::Stateless);
        };
        lifecycle(server.url()).await;
        wait_stats(&server, "warm-up closed", |s| {
            s.open_connections == 0 && s.listen_streams_live == 0
        })
        .await;
        let fds_before = support::open_fds();
        for _ in 0..1000 {
            lifecycle(server.url()).await;
        }
        let snap = wait_stats(&server, "every connection and listen stream closed", |s| {
            s.open_connections == 0 && s.listen_streams_live == 0
        })
        .await;
        assert_eq!(
            (snap.sessions_opened, snap.deletes, snap.get_streams_opened),
            (0, 0, 0)
        );
        assert_eq!(snap.discover_calls, 1001);
        assert_eq!(
            snap.listen_streams_opened, 1001,
            "each tool follows list changes on its own stream"
        );
        let settled =
            support::eventually(Duration::from_secs(5), || support::open_fds() <= fds_before).await;
        assert!(
            settled,
            "fds: {fds_before} before, {} after",
            support::open_fds()
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_list_within_its_ttl_costs_no_request_and_a_change_makes_it_stale() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default()).await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Stateless)
            .connect()
            .await
            .expect("connect");
        let pages = |server: &RunningServer| {
            server
                .stats()
                .snapshot()
                .methods
                .get("tools/list")
                .copied()
                .unwrap_or(0)
        };
        let first = client.list_tools().await.expect("first list");
        let per_list = pages(&server);
        assert!(per_list >= 4, "21 tools in pages of 5");
        let second = client.list_tools().await.expect("second list");
        assert_eq!(
            pages(&server),
            per_list,
            "served from the cache within ttlMs"
        );
        assert_eq!(first, second);
        // A change announced on the listen stream makes the cached pages stale at once.
        let mut notifications = client.notifications();
        wait_stats(&server, "a listen stream", |s| s.listen_streams_live == 1).await;
        client
            .call_tool("toggle_tools", json!({}))
            .await
            .expect("toggle");
        let seen = tokio::time::timeout(Duration::from_secs(5), notifications.recv())
            .await
            .expect("in time")
            .expect("seen");
        assert_eq!(seen.method, "notifications/tools/list_changed");
        let third = client.list_tools().await.expect("third list");
        assert_eq!(
            pages(&server),
            per_list * 2,
            "fetched again after the change"
        );
        assert!(third.iter().any(|t| t.name == "extra"));
        // Another client has its own cache.
        let other = Client::builder(server.url())
            .protocol_era(ProtocolEra::Stateless)
            .connect()
            .await
            .expect("connect");
        other.list_tools().await.expect("other list");
        assert_eq!(pages(&server), per_list * 3);
        other.close().await.expect("close");
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn an_answer_is_fetched_again_once_its_ttl_has_passed() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default().cache_ttl_ms(50)).await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Stateless)
            .connect()
            .await
            .expect("connect");
        let reads = |server: &RunningServer| {
            server
                .stats()
                .snapshot()
                .methods
                .get("resources/read")
                .copied()
                .unwrap_or(0)
        };
        client.read_resource("demo://readme").await.expect("read");
        client
            .read_resource("demo://readme")
            .await
            .expect("read again");
        assert_eq!(reads(&server), 1);
        client
            .read_resource("demo://notes")
            .await
            .expect("another uri");
        assert_eq!(reads(&server), 2, "the key includes the params");
        tokio::time::sleep(Duration::from_millis(80)).await;
        client
            .read_resource("demo://readme")
            .await
            .expect("read when stale");
        assert_eq!(reads(&server), 3);
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_notification_in_each_era_is_accepted_as_that_era() {
    within(Duration::from_secs(30), async {
        for (era, expected) in [
            (ProtocolEra::Stateless, (1, 0)),
            (ProtocolEra::Session, (0, 1)),
        ] {
            let server = start(ServerConfig::default()).await;
            let client = Client::builder(server.url())
                .protocol_era(era)
                .connect()
                .await
                .expect("connect");
            let before = server.stats().snapshot();
            client
                .notify("notifications/roots/list_changed", None)
                .await
                .expect("the server accepts the notification");
            let snap = server.stats().snapshot();
            let counted = (
                snap.stateless_requests - before.stateless_requests,
                snap.session_era_requests - before.session_era_requests,
            );
            assert_eq!(
                counted, expected,
                "{era:?}: (stateless, session era) messages"
            );
            assert_eq!(
                snap.status_counts.get(&400),
                before.status_counts.get(&400),
                "{era:?}: no 400"
            );
            client.close().await.expect("close");
            server.shutdown().await;
        }
    })
    .await;
}
