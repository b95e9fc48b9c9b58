//! The standalone GET stream: one per session, server-initiated messages, 405/406/409.

mod support;

use mcptool_server::ServerConfig;
use serde_json::json;
use support::{SseStream, TestServer, run};

#[tokio::test]
async fn second_concurrent_get_is_409_and_a_new_one_works_after_close() {
    run(async {
        let t = TestServer::default().await;
        let s = t.session().await;
        let first = t.get_builder(&s).send().await.unwrap();
        assert_eq!(first.status(), 200);
        assert_eq!(first.headers()["content-type"], "text/event-stream");
        let mut first = SseStream::new(first);
        let priming = first.next().await.unwrap();
        assert!(priming.id.is_some() && priming.retry.is_some());
        let second = t.get_builder(&s).send().await.unwrap();
        assert_eq!(second.status(), 409);
        let snap = t.snapshot();
        assert_eq!((snap.live_get_streams, snap.get_streams_opened), (1, 1));
        assert_eq!(snap.status_counts.get(&409), Some(&1));
        drop(first);
        t.wait_for("the GET stream closed", |s| s.live_get_streams == 0)
            .await;
        let third = t.get_builder(&s).send().await.unwrap();
        assert_eq!(third.status(), 200);
        drop(third);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn get_is_405_when_standalone_streams_are_off() {
    run(async {
        let t = TestServer::start(ServerConfig::default().get_stream(false)).await;
        let s = t.session().await;
        let reply = t.get_builder(&s).send().await.unwrap();
        assert_eq!(reply.status(), 405);
        assert_eq!(t.snapshot().get_streams_opened, 0);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn get_without_event_stream_accept_is_406() {
    run(async {
        let t = TestServer::default().await;
        let s = t.session().await;
        let reply = t
            .http
            .get(&t.url)
            .header("accept", "application/json")
            .header("mcp-session-id", &s.id)
            .header("mcp-protocol-version", &s.version)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 406);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn list_changed_and_log_messages_arrive_on_the_get_stream() {
    run(async {
        let t = TestServer::default().await;
        let s = t.session().await;
        let mut get = SseStream::new(t.get_builder(&s).send().await.unwrap());
        get.next().await.unwrap();
        let result = t.call_tool(&s, "toggle_tools", json!({})).await;
        assert_eq!(result["content"][0]["text"], "added tool extra");
        let message = get.next_message().await.unwrap();
        assert_eq!(message["method"], "notifications/tools/list_changed");
        assert!(message.get("id").is_none());
        assert_eq!(
            t.call_tool(&s, "extra", json!({})).await["content"][0]["text"],
            "extra tool called"
        );
        t.call_tool(&s, "log", json!({"level": "warning", "message": "careful"}))
            .await;
        let message = get.next_message().await.unwrap();
        assert_eq!(message["method"], "notifications/message");
        assert_eq!(message["params"]["data"], "careful");
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn delete_ends_the_get_stream() {
    run(async {
        let t = TestServer::default().await;
        let s = t.session().await;
        let mut get = SseStream::new(t.get_builder(&s).send().await.unwrap());
        get.next().await.unwrap();
        assert_eq!(t.delete_builder(&s).send().await.unwrap().status(), 200);
        assert!(
            get.next().await.is_none(),
            "the stream ends with the session"
        );
        t.wait_for("no live GET stream", |s| s.live_get_streams == 0)
            .await;
        t.finish().await;
    })
    .await;
}
