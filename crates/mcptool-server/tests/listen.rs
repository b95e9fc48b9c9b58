//! `subscriptions/listen` in 2026-07-28: the acknowledgement first with the honoured subset,
//! notifications tagged with the subscription id and filtered per stream, keep-alives, a closing
//! result at shutdown, a closed stream counted, and a bounded number of streams.

mod support;

use std::time::Duration;

use mcptool_server::{Era, ServerConfig};
use serde_json::{Value, json};
use support::{SseStream, TestServer, all_capabilities, modern_request, run};

const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";

/// Opens a listen stream with request id `id` and `filter`; returns it after the acknowledgement.
async fn listen(t: &TestServer, id: u64, filter: Value) -> (SseStream, Value) {
    let body = modern_request(
        id,
        "subscriptions/listen",
        json!({"notifications": filter}),
        json!({}),
    );
    let response = t.modern_builder(&body).send().await.expect("POST listen");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut stream = SseStream::new(response);
    let ack = next(&mut stream).await;
    assert_eq!(
        ack["method"], "notifications/subscriptions/acknowledged",
        "{ack}"
    );
    assert_eq!(ack["params"]["_meta"][SUBSCRIPTION_ID], id);
    (stream, ack)
}

async fn next(stream: &mut SseStream) -> Value {
    tokio::time::timeout(Duration::from_secs(5), stream.next_message())
        .await
        .expect("a message within 5 s")
        .expect("the stream is open")
}

#[tokio::test]
async fn a_listen_stream_acknowledges_what_it_honours_then_delivers_only_that() {
    run(async {
        for era in [Era::Both, Era::Stateless] {
            let t = TestServer::start(ServerConfig::default().era(era)).await;
            let filter = json!({"toolsListChanged": true, "resourceSubscriptions": ["demo://readme", "demo://missing"], "tasks": true});
            let (mut tools, ack) = listen(&t, 7, filter).await;
            assert_eq!(
                ack["params"]["notifications"],
                json!({"toolsListChanged": true, "resourceSubscriptions": ["demo://readme"]})
            );
            let (mut prompts, _) = listen(&t, 8, json!({"promptsListChanged": true})).await;
            t.modern_call("toggle_prompts", json!({})).await;
            t.modern_call("toggle_tools", json!({})).await;
            t.modern_call("touch_resource", json!({"uri": "demo://readme"})).await;
            let first = next(&mut tools).await;
            assert_eq!(first["method"], "notifications/tools/list_changed", "the prompt change is not for this stream");
            assert_eq!(first["params"]["_meta"][SUBSCRIPTION_ID], 7);
            let second = next(&mut tools).await;
            assert_eq!(second["method"], "notifications/resources/updated");
            assert_eq!(second["params"]["uri"], "demo://readme");
            let other = next(&mut prompts).await;
            assert_eq!(other["method"], "notifications/prompts/list_changed");
            assert_eq!(other["params"]["_meta"][SUBSCRIPTION_ID], 8);
            // The toggled tool is in the server-wide list now.
            let list = t.modern("tools/list", json!({"cursor": "21"})).await.response();
            assert_eq!(list["result"]["tools"][0]["name"], "extra", "{list}");
            let snap = t.snapshot();
            assert_eq!((snap.listen_streams_opened, snap.listen_streams_live), (2, 2));
            assert_eq!(snap.listen_notifications, 5, "two acks and three notifications");
            drop((tools, prompts));
            t.wait_for("both listen streams closed", |s| s.listen_streams_live == 0 && s.listen_streams_closed == 2)
                .await;
            t.finish().await;
        }
    })
    .await;
}

#[tokio::test]
async fn an_idle_stream_carries_keep_alive_comments() {
    run(async {
        let t =
            TestServer::start(ServerConfig::default().listen_keepalive(Duration::from_millis(50)))
                .await;
        let body = modern_request(
            1,
            "subscriptions/listen",
            json!({"notifications": {"toolsListChanged": true}}),
            json!({}),
        );
        let mut response = t.modern_builder(&body).send().await.expect("POST listen");
        let mut seen = String::new();
        while !seen.contains(": keep-alive") {
            let chunk = tokio::time::timeout(Duration::from_secs(5), response.chunk())
                .await
                .expect("a chunk in time")
                .expect("read")
                .expect("still open");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        assert!(seen.starts_with("event: message\ndata: "), "{seen}");
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn shutdown_ends_a_listen_stream_with_its_result() {
    run(async {
        let mut t = TestServer::default().await;
        let (mut stream, _) = listen(&t, 42, json!({"toolsListChanged": true})).await;
        let stats = t.stats.clone();
        let server = t.take_server();
        server.shutdown().await;
        let end = next(&mut stream).await;
        assert_eq!(end["id"], 42);
        assert_eq!(end["result"]["resultType"], "complete");
        assert_eq!(end["result"]["_meta"][SUBSCRIPTION_ID], 42);
        assert!(
            stream.next().await.is_none(),
            "the stream ends after its result"
        );
        let snap = stats.snapshot();
        assert_eq!((snap.listen_streams_live, snap.live_tasks), (0, 0));
    })
    .await;
}

#[tokio::test]
async fn a_mistyped_filter_is_400_invalid_params() {
    run(async {
        let t = TestServer::default().await;
        for params in [
            json!({}),
            json!({"notifications": {"toolsListChanged": "yes"}}),
        ] {
            let body = modern_request(3, "subscriptions/listen", params.clone(), json!({}));
            let reply =
                support::Reply::read(t.modern_builder(&body).send().await.expect("POST")).await;
            assert_eq!(reply.status, 400, "{params}");
            assert_eq!(reply.response()["error"]["code"], -32602);
        }
        assert_eq!(t.snapshot().listen_streams_opened, 0);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_thousand_listen_streams_stay_within_bounds_and_the_server_keeps_serving() {
    run(async {
        let t = TestServer::start(ServerConfig::default().max_listen_streams(1000)).await;
        let mut streams = Vec::new();
        for id in 0..1000u64 {
            let body = modern_request(
                id,
                "subscriptions/listen",
                json!({"notifications": {"toolsListChanged": true}}),
                all_capabilities(),
            );
            streams.push(t.modern_builder(&body).send());
        }
        let responses: Vec<reqwest::Response> = futures_util::future::join_all(streams)
            .await
            .into_iter()
            .map(|r| r.expect("POST listen"))
            .collect();
        assert!(responses.iter().all(|r| r.status() == 200));
        t.wait_for("1000 live listen streams", |s| {
            s.listen_streams_live == 1000
        })
        .await;
        let body = modern_request(
            5000,
            "subscriptions/listen",
            json!({"notifications": {"toolsListChanged": true}}),
            json!({}),
        );
        let refused =
            support::Reply::read(t.modern_builder(&body).send().await.expect("POST")).await;
        assert_eq!(refused.status, 503, "{}", refused.body);
        assert!(refused.body.contains("at most 1000"), "{}", refused.body);
        let discover = t.modern("server/discover", json!({})).await;
        assert_eq!(discover.status, 200, "other requests are still served");
        drop(responses);
        t.wait_for("every listen stream closed", |s| {
            s.listen_streams_live == 0 && s.listen_streams_closed == 1000
        })
        .await;
        let (_again, _) = listen(&t, 6000, json!({"toolsListChanged": true})).await;
        t.finish().await;
    })
    .await;
}
