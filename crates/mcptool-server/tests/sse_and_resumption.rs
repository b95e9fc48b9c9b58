//! SSE responses, event ids, and resumption with `Last-Event-ID`.

mod support;

use std::time::Duration;

use mcptool_server::{Faults, ResponseMode, ServerConfig};
use serde_json::{Value, json};
use support::{Reply, SseEvent, SseStream, TestServer, request, run};

fn faulty() -> ServerConfig {
    ServerConfig::default().faults(Faults {
        enabled: true,
        ..Faults::default()
    })
}

fn stream_of(id: &str) -> &str {
    id.split_once('-').expect("id is <stream>-<seq>").0
}

fn sleep_call(id: u64, token: &str, ms: u64, steps: u64) -> Value {
    request(
        id,
        "tools/call",
        json!({"name": "sleep", "arguments": {"ms": ms, "steps": steps}, "_meta": {"progressToken": token}}),
    )
}

async fn resume(t: &TestServer, s: &support::Session, last_event_id: &str) -> Reply {
    let response = t
        .get_builder(s)
        .header("last-event-id", last_event_id)
        .send()
        .await
        .unwrap();
    Reply::read(response).await
}

#[tokio::test]
async fn sse_response_starts_with_priming_event_and_retry() {
    run(async {
        let t = TestServer::start(ServerConfig::default().retry_ms(250)).await;
        let s = t.session().await;
        let reply = t
            .post(
                Some(&s),
                &request(
                    5,
                    "tools/call",
                    json!({"name": "echo", "arguments": {"message": "hi"}}),
                ),
            )
            .await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-type"), Some("text/event-stream"));
        assert_eq!(reply.header("x-accel-buffering"), Some("no"));
        assert_eq!(reply.header("cache-control"), Some("no-cache"));
        let events = reply.events();
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(events[0].retry, Some(250));
        assert!(events[0].data.is_empty());
        let stream = stream_of(events[0].id.as_deref().unwrap());
        assert!(
            events
                .iter()
                .all(|e| stream_of(e.id.as_deref().unwrap()) == stream)
        );
        assert_eq!(events[1].json()["result"]["content"][0]["text"], "hi");
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn resumption_replays_exactly_the_missed_events_of_its_stream() {
    run(async {
        let t = TestServer::start(faulty()).await;
        let s = t.session().await;
        // Stream A is cut after the priming event and the first progress notification.
        let a = t
            .post_builder(Some(&s), &sleep_call(10, "A", 300, 3))
            .header("mcptool-fault", "cut-after=2")
            .send();
        // Stream B runs at the same time on the same session, uncut.
        let b = t
            .post_builder(Some(&s), &sleep_call(11, "B", 300, 3))
            .send();
        let (a, b) = tokio::join!(a, b);
        let a = Reply::read(a.unwrap()).await;
        let a_events = a.events();
        assert_eq!(a_events.len(), 2, "cut after two events: {a_events:?}");
        let b_events = Reply::read(b.unwrap()).await.events();
        assert_eq!(
            b_events.len(),
            5,
            "priming, 3 progress, response: {b_events:?}"
        );
        let last_seen = a_events[1].id.clone().unwrap();
        let stream = stream_of(&last_seen).to_owned();
        assert_ne!(stream, stream_of(b_events[0].id.as_deref().unwrap()));

        let replay = resume(&t, &s, &last_seen).await;
        assert_eq!(replay.status, 200);
        let events = replay.events();
        let messages: Vec<Value> = events.iter().map(SseEvent::json).collect();
        assert_eq!(
            messages.len(),
            3,
            "progress 2, progress 3, response: {messages:?}"
        );
        assert_eq!(messages[0]["params"]["progress"], 2);
        assert_eq!(messages[1]["params"]["progress"], 3);
        assert_eq!(messages[2]["id"], 10);
        assert!(
            messages
                .iter()
                .all(|m| m["params"]["progressToken"] != "B" && m["id"] != 11)
        );
        let seq = |e: &SseEvent| {
            e.id.as_deref()
                .unwrap()
                .split_once('-')
                .unwrap()
                .1
                .parse::<u64>()
                .unwrap()
        };
        assert!(
            events
                .iter()
                .all(|e| stream_of(e.id.as_deref().unwrap()) == stream)
        );
        assert_eq!(events.iter().map(seq).collect::<Vec<_>>(), vec![2, 3, 4]);
        assert_eq!(t.snapshot().resumptions, 1);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn resumption_while_running_delivers_the_rest_live() {
    run(async {
        let t = TestServer::start(faulty()).await;
        let s = t.session().await;
        let a = t
            .post_builder(Some(&s), &sleep_call(20, "A", 400, 4))
            .header("mcptool-fault", "cut-after=1")
            .send()
            .await;
        let events = Reply::read(a.unwrap()).await.events();
        assert_eq!(events.len(), 1);
        let replay = resume(&t, &s, events[0].id.as_deref().unwrap()).await;
        let messages: Vec<Value> = replay.events().iter().map(SseEvent::json).collect();
        assert_eq!(messages.len(), 5, "{messages:?}");
        assert_eq!(messages[4]["result"]["content"][0]["text"], "slept 400 ms");
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn client_disconnect_is_not_cancellation() {
    run(async {
        let t = TestServer::default().await;
        let s = t.session().await;
        let response = t
            .post_builder(Some(&s), &sleep_call(30, "D", 200, 2))
            .send()
            .await
            .unwrap();
        let mut stream = SseStream::new(response);
        let priming = stream.next().await.expect("priming event");
        drop(stream);
        tokio::time::sleep(Duration::from_millis(400)).await;
        let replay = resume(&t, &s, priming.id.as_deref().unwrap()).await;
        let messages: Vec<Value> = replay.events().iter().map(SseEvent::json).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert_eq!(messages[2]["id"], 30);
        assert_eq!(t.snapshot().cancelled_requests, 0);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn unknown_last_event_id_is_refused() {
    run(async {
        let t = TestServer::default().await;
        let s = t.session().await;
        assert_eq!(resume(&t, &s, "999-0").await.status, 400);
        assert_eq!(resume(&t, &s, "garbage").await.status, 400);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn json_mode_answers_with_one_json_body() {
    run(async {
        let t = TestServer::start(ServerConfig::default().response_mode(ResponseMode::Json)).await;
        let s = t.session().await;
        let reply = t
            .post(
                Some(&s),
                &request(
                    5,
                    "tools/call",
                    json!({"name": "echo", "arguments": {"message": "x"}}),
                ),
            )
            .await;
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.json()["result"]["content"][0]["text"], "x");
        t.finish().await;
    })
    .await;
}
