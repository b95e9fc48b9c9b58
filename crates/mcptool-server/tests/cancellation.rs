//! `notifications/cancelled` stops an in-flight request; nothing else does.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{SseStream, TestServer, request, run};

#[tokio::test]
async fn cancelled_notification_stops_the_tool_without_a_response() {
    run(async {
        let t = TestServer::default().await;
        let s = t.session().await;
        let started = Instant::now();
        let call = request(
            42,
            "tools/call",
            json!({"name": "sleep", "arguments": {"ms": 20_000, "steps": 100}, "_meta": {"progressToken": 1}}),
        );
        let mut stream = SseStream::new(t.post_builder(Some(&s), &call).send().await.unwrap());
        stream.next().await.unwrap();
        let progress = stream.next_message().await.unwrap();
        assert_eq!(progress["method"], "notifications/progress");
        let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 42, "reason": "test"}});
        assert_eq!(t.post(Some(&s), &cancel).await.status, 202);
        while let Some(message) = stream.next_message().await {
            assert_eq!(message["method"], "notifications/progress", "no response after cancel: {message}");
        }
        assert!(started.elapsed() < Duration::from_secs(5));
        let snap = t.wait_for("the tool task to end", |s| s.live_tasks == 2).await;
        assert_eq!(snap.cancelled_requests, 1);
        assert_eq!(snap.methods.get("notifications/cancelled"), Some(&1));
        // Cancelling an unknown request changes nothing.
        assert_eq!(t.post(Some(&s), &cancel).await.status, 202);
        assert_eq!(t.snapshot().cancelled_requests, 1);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn json_mode_cancelled_request_gets_202_without_a_response() {
    run(async {
        let config = mcptool_server::ServerConfig::default().response_mode(mcptool_server::ResponseMode::Json);
        let t = TestServer::start(config).await;
        let s = t.session().await;
        let call = request(7, "tools/call", json!({"name": "sleep", "arguments": {"ms": 20_000}}));
        let pending = t.post_builder(Some(&s), &call).send();
        let cancel = async {
            t.wait_for("the sleep task", |s| s.live_tasks == 3).await;
            let note = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7}});
            assert_eq!(t.post(Some(&s), &note).await.status, 202);
        };
        let (reply, ()) = tokio::join!(pending, cancel);
        let reply = support::Reply::read(reply.unwrap()).await;
        assert_eq!(reply.status, 202);
        assert!(reply.body.is_empty());
        assert_eq!(t.snapshot().cancelled_requests, 1);
        t.finish().await;
    })
    .await;
}
