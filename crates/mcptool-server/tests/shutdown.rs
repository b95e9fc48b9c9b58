//! Shutdown (and drop) end every stream, task and connection.

mod support;

use std::time::Duration;

use mcptool_server::{Server, ServerConfig};
use serde_json::json;
use support::{SseStream, TestServer, request, run};

#[tokio::test]
async fn shutdown_with_open_streams_and_running_tools_leaves_nothing() {
    run(async {
        let t = TestServer::default().await;
        let stats = t.stats.clone();
        let s = t.session().await;
        let mut get = SseStream::new(t.get_builder(&s).send().await.unwrap());
        get.next().await.unwrap();
        let call = request(
            3,
            "tools/call",
            json!({"name": "sleep", "arguments": {"ms": 60_000}}),
        );
        let mut post = SseStream::new(t.post_builder(Some(&s), &call).send().await.unwrap());
        post.next().await.unwrap();
        assert_eq!(t.snapshot().live_tasks, 3, "server, sweeper, sleep");
        tokio::time::timeout(Duration::from_secs(5), t.finish())
            .await
            .expect("shutdown is prompt");
        assert!(get.next().await.is_none());
        assert!(post.next().await.is_none());
        let snap = stats
            .wait_until(|s| s.open_connections == 0, Duration::from_secs(5))
            .await
            .expect("sockets closed");
        assert_eq!(snap.live_tasks, 0);
    })
    .await;
}

#[tokio::test]
async fn dropping_the_server_stops_it() {
    run(async {
        let server = Server::start(ServerConfig::default()).await.unwrap();
        let stats = server.stats();
        let url = server.url();
        let http = support::http_client();
        assert_eq!(http.get(&url).send().await.unwrap().status(), 406);
        drop(server);
        stats
            .wait_until(
                |s| s.live_tasks == 0 && s.open_connections == 0,
                Duration::from_secs(5),
            )
            .await
            .expect("stopped");
        assert!(
            support::http_client().get(&url).send().await.is_err(),
            "the listener is closed"
        );
    })
    .await;
}
