//! When the standalone GET stream opens: by default only once something can receive what it
//! carries (a subscriber, a handler, a request answered with 202), always, or never — shown by
//! what the server saw.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcptool::{Client, ProtocolEra, StandaloneStream};
use serde_json::json;
use support::scripted::{Action, Scripted, init_result, response, result, sse_head};
use support::server::{start_default, wait_stats};
use support::within;

#[tokio::test]
async fn a_client_that_only_calls_tools_opens_no_stream() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        for n in 0..20 {
            client
                .call_tool("echo", json!({"message": format!("{n}")}))
                .await
                .expect("echo");
        }
        client.close().await.expect("close");
        let s = wait_stats(&server, "connections closed", |s| s.open_connections == 0).await;
        assert_eq!(s.get_streams_opened, 0, "{s:#?}");
        assert_eq!(s.methods.get("tools/call"), Some(&20));
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn subscribing_after_connect_opens_one_stream_that_delivers_notifications() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        client.ping().await.expect("ping");
        assert_eq!(server.stats().snapshot().get_streams_opened, 0);
        let mut notes = client.notifications();
        let _second = client.notifications();
        wait_stats(&server, "the GET stream", |s| s.live_get_streams == 1).await;
        client
            .call_tool("toggle_tools", json!({}))
            .await
            .expect("toggle");
        let note = tokio::time::timeout(Duration::from_secs(5), notes.recv())
            .await
            .expect("a notification in time")
            .expect("a notification");
        assert_eq!(note.method, "notifications/tools/list_changed");
        client.close().await.expect("close");
        let s = wait_stats(&server, "stream closed", |s| s.live_get_streams == 0).await;
        assert_eq!(
            s.get_streams_opened, 1,
            "a second subscriber opened a second stream"
        );
        assert_eq!(s.status_counts.get(&409), None);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn subscribing_before_initialize_opens_the_stream_with_the_session() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .build()
            .expect("build");
        let _notes = client.notifications();
        assert_eq!(server.stats().snapshot().get_streams_opened, 0);
        client.open().await.expect("open");
        wait_stats(&server, "the GET stream", |s| s.live_get_streams == 1).await;
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn always_and_never_do_what_they_say() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let always = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .standalone_stream(StandaloneStream::Always)
            .connect()
            .await
            .expect("connect");
        wait_stats(&server, "the GET stream", |s| s.live_get_streams == 1).await;
        always.close().await.expect("close");

        let never = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .standalone_stream(StandaloneStream::Never)
            .connect()
            .await
            .expect("connect");
        let _notes = never.notifications();
        never.ping().await.expect("ping");
        tokio::time::sleep(Duration::from_millis(200)).await;
        never.close().await.expect("close");
        let s = wait_stats(&server, "connections closed", |s| s.open_connections == 0).await;
        assert_eq!(s.get_streams_opened, 1, "Never opened a stream: {s:#?}");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_request_answered_with_202_opens_the_stream_and_gets_its_answer_there() {
    within(Duration::from_secs(30), async {
        let waiting: Arc<Mutex<Option<serde_json::Value>>> = Arc::default();
        let script = Arc::clone(&waiting);
        let server = Scripted::start(move |req| match (req.method.as_str(), req.rpc_method()) {
            ("POST", Some(m)) if m == "initialize" => Action::Respond(response(
                200,
                &[
                    ("content-type", "application/json"),
                    ("mcp-session-id", "sess-202"),
                ],
                &init_result(&req.rpc_id().expect("id"), "2025-11-25"),
            )),
            ("POST", Some(m)) if m == "ping" => {
                *script.lock().expect("lock") = req.rpc_id();
                Action::Respond(response(202, &[], ""))
            }
            ("GET", _) => match script.lock().expect("lock").take() {
                Some(id) => {
                    let mut head = sse_head(&[]);
                    let event = format!("id: g-1\ndata: {}\n\n", result(&id, &json!({})));
                    head.extend_from_slice(event.as_bytes());
                    Action::Stream(head, Duration::from_secs(5), Vec::new())
                }
                None => Action::Respond(response(405, &[], "")),
            },
            _ => Action::Respond(response(202, &[], "")),
        })
        .await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        assert_eq!(server.count("GET"), 0, "no stream before it was needed");
        tokio::time::timeout(Duration::from_secs(5), client.ping())
            .await
            .expect("the answer arrived on the stream in time")
            .expect("ping");
        assert_eq!(server.count("GET"), 1);
        client.close().await.expect("close");
    })
    .await;
}
