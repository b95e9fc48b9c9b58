//! Deadlines, cancellation and progress: the server is told to stop, late answers are
//! dropped, progress arrives in order and may extend a deadline up to a hard maximum.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::sync::atomic::{AtomicBool, Ordering};

use mcptool::{Client, Deadline, HeaderProvider, ProtocolEra, RequestOptions};
use mcptool_server::{Faults, ServerConfig};
use serde_json::json;
use support::server::{start, start_default, wait_stats};
use support::within;
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn answered_calls_send_no_cancellation() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        for n in 0..3 {
            let result = client
                .call_tool("echo", json!({"message": n.to_string()}))
                .await
                .expect("echo");
            assert!(!result.is_error);
        }
        // A cancellation would be sent in the background: give it time to arrive.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let stats = server.stats().snapshot();
        assert_eq!(stats.methods.get("tools/call"), Some(&3));
        assert_eq!(stats.methods.get("notifications/cancelled"), None);
        assert_eq!(client.requests_in_flight(), 0);
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_timeout_sends_cancelled_and_the_client_stays_usable() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        let err = client
            .call_tool_with(
                "sleep",
                json!({"ms": 3000}),
                &RequestOptions::new().timeout(Duration::from_millis(150)),
            )
            .await
            .expect_err("must time out");
        assert!(err.is_timeout(), "{err:?}");
        assert_eq!(err.deadline(), Some(Deadline::Request));
        assert_eq!(err.to_string(), "request timeout");
        let s = wait_stats(&server, "notifications/cancelled", |s| {
            s.methods.get("notifications/cancelled") == Some(&1) && s.cancelled_requests == 1
        })
        .await;
        assert_eq!(s.cancelled_requests, 1);
        assert_eq!(client.requests_in_flight(), 0);
        let echoed = client
            .call_tool("echo", json!({"message": "after"}))
            .await
            .expect("echo after timeout");
        assert_eq!(echoed.content[0].as_text(), Some("after"));
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn progress_arrives_in_order_on_the_callers_callback() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let result = client
            .call_tool_with(
                "sleep",
                json!({"ms": 200, "steps": 5}),
                &RequestOptions::new().on_progress(move |p| sink.lock().expect("lock").push(p)),
            )
            .await
            .expect("sleep");
        assert!(!result.is_error);
        let seen = seen.lock().expect("lock").clone();
        let values: Vec<f64> = seen.iter().map(|p| p.progress).collect();
        assert_eq!(values, vec![1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!(seen.iter().all(|p| p.total == Some(5.0)));
        assert_eq!(seen[0].message.as_deref(), Some("step 1 of 5"));
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn progress_extends_the_deadline_but_not_past_the_hard_maximum() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        // 10 steps 100 ms apart: 1 s in all, but never 600 ms without progress (a margin for
        // a loaded machine).
        let extended = RequestOptions::new()
            .timeout(Duration::from_millis(600))
            .reset_timeout_on_progress(Duration::from_secs(10))
            .on_progress(|_| {});
        client
            .call_tool_with("sleep", json!({"ms": 1000, "steps": 10}), &extended)
            .await
            .expect("progress keeps the call alive");
        let capped = RequestOptions::new()
            .timeout(Duration::from_millis(600))
            .reset_timeout_on_progress(Duration::from_millis(500))
            .on_progress(|_| {});
        let err = client
            .call_tool_with("sleep", json!({"ms": 1000, "steps": 10}), &capped)
            .await
            .expect_err("the hard maximum must fire");
        assert_eq!(err.deadline(), Some(Deadline::MaxTotal));
        let without = RequestOptions::new()
            .timeout(Duration::from_millis(600))
            .on_progress(|_| {});
        let err = client
            .call_tool_with("sleep", json!({"ms": 1000, "steps": 10}), &without)
            .await
            .expect_err("without reset the timeout fires");
        assert_eq!(err.deadline(), Some(Deadline::Request));
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn an_explicit_cancel_stops_the_tool_on_the_server() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        let token = CancellationToken::new();
        let trigger = token.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            trigger.cancel();
        });
        let err = client
            .call_tool_with(
                "sleep",
                json!({"ms": 5000}),
                &RequestOptions::new().cancel_token(token),
            )
            .await
            .expect_err("cancelled");
        assert!(err.is_cancelled(), "{err:?}");
        wait_stats(&server, "the tool stopped", |s| s.cancelled_requests == 1).await;
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn dropping_a_call_future_tells_the_server_to_stop() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        let abandoned = tokio::time::timeout(
            Duration::from_millis(100),
            client.call_tool("sleep", json!({"ms": 5000})),
        )
        .await;
        assert!(abandoned.is_err());
        wait_stats(&server, "cancellation after drop", |s| {
            s.cancelled_requests == 1
        })
        .await;
        assert_eq!(client.requests_in_flight(), 0);
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

/// Closes `client` while `call` waits, and checks that the call fails as closed within `limit`.
async fn close_under(
    client: &Client,
    call: tokio::task::JoinHandle<mcptool::Result<mcptool::protocol::CallToolResult>>,
    limit: Duration,
) {
    let started = std::time::Instant::now();
    client.close().await.expect("close");
    let err = call
        .await
        .expect("task")
        .expect_err("closed under the call");
    assert!(err.is_closed(), "{err:?}");
    assert!(started.elapsed() < limit, "{:?}", started.elapsed());
}

#[tokio::test]
async fn close_fails_a_request_still_waiting_for_its_response_headers() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default().faults(Faults {
            enabled: true,
            ..Faults::default()
        }))
        .await;
        // Once set, every request asks the server to hold its answer, headers and all, 10 s.
        let slow = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&slow);
        let provider = HeaderProvider::new(move || {
            let slow = flag.load(Ordering::SeqCst);
            async move {
                let mut headers = Vec::new();
                if slow {
                    headers.push(("mcptool-fault".to_owned(), "delay-ms=10000".to_owned()));
                }
                Ok(headers)
            }
        });
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .header_provider(provider)
            .terminate_on_close(false)
            .connect()
            .await
            .expect("connect");
        slow.store(true, Ordering::SeqCst);
        let caller = client.clone();
        let call =
            tokio::spawn(async move { caller.call_tool("echo", json!({"message": "x"})).await });
        // The server holds the POST before reading it, so nothing on its side says it arrived.
        tokio::time::sleep(Duration::from_millis(200)).await;
        close_under(&client, call, Duration::from_secs(2)).await;
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn close_fails_requests_in_flight_promptly() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        let caller = client.clone();
        let call =
            tokio::spawn(async move { caller.call_tool("sleep", json!({"ms": 10000})).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        close_under(&client, call, Duration::from_secs(3)).await;
        wait_stats(&server, "the tool stopped with the session", |s| {
            s.open_connections == 0
        })
        .await;
        server.shutdown().await;
    })
    .await;
}
