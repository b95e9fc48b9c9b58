//! Recovery where the spec allows it, fast and clear failure where it does not: resumption
//! of cut streams, expired sessions, restarts, 5xx answers, and every deadline named.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcptool::{Client, Deadline, HeaderProvider, ProtocolEra, ReconnectPolicy, RequestOptions};
use mcptool_server::{DeadSessionStatus, Faults, ServerConfig};
use serde_json::json;
use support::scripted::{Action, Scripted, init_result, response};
use support::server::{start, wait_stats};
use support::within;

fn faulty() -> ServerConfig {
    ServerConfig::default().retry_ms(20).faults(Faults {
        enabled: true,
        ..Faults::default()
    })
}

/// A header provider that sends `mcptool-fault: <fault>` while `on` is set.
fn fault_switch(fault: &'static str) -> (HeaderProvider, Arc<AtomicBool>) {
    let on = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&on);
    let provider = HeaderProvider::new(move || {
        let on = flag.load(Ordering::SeqCst);
        async move {
            let mut headers = Vec::new();
            if on {
                headers.push(("mcptool-fault".to_owned(), fault.to_owned()));
            }
            Ok(headers)
        }
    });
    (provider, on)
}

#[tokio::test]
async fn a_cut_stream_is_resumed_and_every_event_delivered_exactly_once() {
    within(Duration::from_secs(30), async {
        let server = start(faulty()).await;
        let (provider, on) = fault_switch("cut-after=3");
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .header_provider(provider)
            .connect()
            .await
            .expect("connect");
        on.store(true, Ordering::SeqCst);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let result = client
            .call_tool_with(
                "sleep",
                json!({"ms": 300, "steps": 6}),
                &RequestOptions::new()
                    .on_progress(move |p| sink.lock().expect("lock").push(p.progress)),
            )
            .await
            .expect("result delivered after resumption");
        on.store(false, Ordering::SeqCst);
        assert_eq!(result.content[0].as_text(), Some("slept 300 ms"));
        assert_eq!(
            *seen.lock().expect("lock"),
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        );
        let s = server.stats().snapshot();
        assert_eq!(s.resumptions, 1, "{s:#?}");
        assert_eq!(
            s.methods.get("tools/call"),
            Some(&1),
            "the call must not be re-sent"
        );
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn resumption_attempts_are_bounded_when_the_server_cannot_resume() {
    within(Duration::from_secs(30), async {
        // The server cuts the stream after its priming event and then forgets the session:
        // every GET to resume is refused.
        let server = start(faulty()).await;
        let (provider, on) = fault_switch("cut-after=1");
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .header_provider(provider)
            .resume_attempts(3)
            .standalone_stream(false)
            .connect()
            .await
            .expect("connect");
        on.store(true, Ordering::SeqCst);
        let server_handle = &server;
        let call = client.call_tool("sleep", json!({"ms": 2000}));
        let expire = async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            server_handle.expire_all_sessions();
        };
        let started = Instant::now();
        let (result, ()) = tokio::join!(call, expire);
        let err = result.expect_err("cannot resume");
        assert!(err.is_session_expired(), "{err:?}");
        assert!(err.to_string().contains("in flight"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(!client.is_connected());
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

async fn expired_session_is_recovered_once(dead: DeadSessionStatus) {
    let config = ServerConfig::default().faults(Faults {
        dead_session_status: dead,
        ..Faults::default()
    });
    let server = start(config).await;
    let client = Client::builder(server.url())
        .protocol_era(ProtocolEra::Session)
        .reconnect_policy(ReconnectPolicy::Reinitialize)
        .connect()
        .await
        .expect("connect");
    let first = client.session_id().expect("session");
    assert!(server.expire_session(first.as_str()));
    let mut calls = Vec::new();
    for i in 0..50 {
        let c = client.clone();
        calls.push(tokio::spawn(async move {
            c.call_tool("echo", json!({"message": format!("m{i}")}))
                .await
        }));
    }
    for (i, call) in calls.into_iter().enumerate() {
        let r = call.await.expect("task").expect("recovered call");
        assert_eq!(r.content[0].as_text(), Some(format!("m{i}").as_str()));
    }
    let s = server.stats().snapshot();
    assert_eq!(
        s.sessions_opened, 2,
        "exactly one re-initialisation: {s:#?}"
    );
    assert_ne!(client.session_id(), Some(first));
    assert!(client.is_connected());
    client.close().await.expect("close");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_is_re_initialised_once_for_fifty_concurrent_callers() {
    within(
        Duration::from_secs(30),
        expired_session_is_recovered_once(DeadSessionStatus::NotFound),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_400_no_valid_session_variant_is_recovered_the_same_way() {
    within(
        Duration::from_secs(30),
        expired_session_is_recovered_once(DeadSessionStatus::BadRequest),
    )
    .await;
}

#[tokio::test]
async fn strict_isolation_reports_session_expired_and_opens_no_new_session() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default()).await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        server.expire_all_sessions();
        let err = client
            .call_tool("echo", json!({"message": "x"}))
            .await
            .expect_err("expired");
        assert!(err.is_session_expired(), "{err:?}");
        assert_eq!(err.status(), Some(404));
        assert!(!client.is_connected(), "a dropped session is not connected");
        assert_eq!(server.stats().snapshot().sessions_opened, 1);
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_400_without_session_wording_is_not_taken_for_an_expired_session() {
    within(Duration::from_secs(30), async {
        let server = Scripted::start(|req| match req.rpc_method().as_deref() {
            Some("initialize") => Action::Respond(response(
                200,
                &[
                    ("content-type", "application/json"),
                    ("mcp-session-id", "s-1"),
                ],
                &init_result(&req.rpc_id().expect("id"), "2025-11-25"),
            )),
            Some("tools/call") => {
                Action::Respond(response(400, &[], "{\"error\":\"bad arguments\"}"))
            }
            _ if req.method == "GET" => Action::Respond(response(405, &[], "")),
            _ => Action::Respond(response(202, &[], "")),
        })
        .await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .reconnect_policy(ReconnectPolicy::Reinitialize)
            .connect()
            .await
            .expect("connect");
        let err = client.call_tool("x", json!({})).await.expect_err("400");
        assert!(!err.is_session_expired(), "{err:?}");
        assert_eq!(err.status(), Some(400));
        assert_eq!(server.count("POST"), 3, "no re-initialisation expected");
        client.close().await.expect("close");
    })
    .await;
}

#[tokio::test]
async fn a_server_restart_fails_in_flight_calls_fast_and_the_next_call_recovers() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default()).await;
        let addr = server.addr();
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .reconnect_policy(ReconnectPolicy::Reinitialize)
            .request_timeout(Duration::from_secs(20))
            .connect()
            .await
            .expect("connect");
        let caller = client.clone();
        let in_flight =
            tokio::spawn(async move { caller.call_tool("sleep", json!({"ms": 10000})).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        server.shutdown().await;
        let err = in_flight
            .await
            .expect("task")
            .expect_err("the server went away");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "waited {:?}",
            started.elapsed()
        );
        assert!(!err.is_timeout(), "failed fast, not by timeout: {err:?}");
        // The same address comes back with no memory of our session.
        let restarted = start(ServerConfig::default().bind(addr)).await;
        let echoed = client
            .call_tool("echo", json!({"message": "again"}))
            .await
            .expect("recovered after restart");
        assert_eq!(echoed.content[0].as_text(), Some("again"));
        assert_eq!(restarted.stats().snapshot().sessions_opened, 1);
        client.close().await.expect("close");
        restarted.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn five_hundreds_are_retried_for_safe_requests_only() {
    within(Duration::from_secs(30), async {
        let server = start(faulty()).await;
        let (provider, on) = fault_switch("status=500");
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .header_provider(provider)
            .connect()
            .await
            .expect("connect");
        on.store(true, Ordering::SeqCst);
        let five_hundreds = || server.stats().snapshot().status_counts.get(&500).copied();
        let err = client.list_tools().await.expect_err("500");
        assert_eq!(err.status(), Some(500));
        assert_eq!(five_hundreds(), Some(3), "tools/list: 1 + 2 retries");
        let err = client
            .call_tool("echo", json!({"message": "x"}))
            .await
            .expect_err("500");
        assert_eq!(err.status(), Some(500));
        assert_eq!(
            five_hundreds(),
            Some(4),
            "tools/call is never repeated unasked"
        );
        let opted_in = RequestOptions::new().retry_on_transient_failure(true);
        client
            .call_tool_with("echo", json!({"message": "x"}), &opted_in)
            .await
            .expect_err("500");
        assert_eq!(five_hundreds(), Some(7), "opted in: 1 + 2 retries");
        on.store(false, Ordering::SeqCst);
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn an_idle_stream_fails_with_the_sse_idle_deadline() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default().retry_ms(10)).await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .sse_idle_timeout(Duration::from_millis(200))
            .resume_attempts(1)
            .standalone_stream(false)
            .connect()
            .await
            .expect("connect");
        let err = client
            .call_tool("sleep", json!({"ms": 5000}))
            .await
            .expect_err("idle");
        assert_eq!(err.deadline(), Some(Deadline::SseIdle), "{err:?}");
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_delete_that_never_answers_is_bounded_by_the_close_timeout() {
    within(Duration::from_secs(30), async {
        let server =
            Scripted::start(
                |req| match (req.method.as_str(), req.rpc_method().as_deref()) {
                    ("POST", Some("initialize")) => Action::Respond(response(
                        200,
                        &[
                            ("content-type", "application/json"),
                            ("mcp-session-id", "s-1"),
                        ],
                        &init_result(&req.rpc_id().expect("id"), "2025-11-25"),
                    )),
                    ("DELETE", _) => Action::Hang,
                    ("GET", _) => Action::Respond(response(405, &[], "")),
                    _ => Action::Respond(response(202, &[], "")),
                },
            )
            .await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .close_timeout(Duration::from_millis(300))
            .connect()
            .await
            .expect("connect");
        let started = Instant::now();
        let err = client.close().await.expect_err("DELETE hangs");
        assert_eq!(err.deadline(), Some(Deadline::Close));
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(client.is_closed());
    })
    .await;
}

#[tokio::test]
async fn a_connect_that_never_completes_fails_with_the_connect_deadline() {
    within(Duration::from_secs(30), async {
        // A listener that never accepts, with its backlog filled: further SYNs go unanswered.
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind("127.0.0.1:0".parse().expect("addr"))
            .expect("bind");
        let listener = socket.listen(1).expect("listen");
        let addr = listener.local_addr().expect("addr");
        let mut fillers = Vec::new();
        for _ in 0..8 {
            if let Ok(Ok(s)) = tokio::time::timeout(
                Duration::from_millis(200),
                tokio::net::TcpStream::connect(addr),
            )
            .await
            {
                fillers.push(s);
            }
        }
        let err = Client::builder(format!("http://{addr}/mcp"))
            .protocol_era(ProtocolEra::Session)
            .connect_timeout(Duration::from_millis(300))
            .initialize_timeout(Duration::from_secs(10))
            .connect()
            .await
            .expect_err("cannot connect");
        assert_eq!(err.deadline(), Some(Deadline::Connect), "{err:?}");
        drop(listener);
    })
    .await;
}

#[tokio::test]
async fn the_standalone_stream_is_reopened_after_the_server_ends_it() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default().retry_ms(20)).await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .standalone_stream(true)
            .connect()
            .await
            .expect("connect");
        wait_stats(&server, "the first GET stream", |s| s.live_get_streams == 1).await;
        // The server-side idle stream ends when the session's streams restart; a fresh GET
        // must follow without a 409.
        let first_opened = server.stats().snapshot().get_streams_opened;
        client
            .call_tool("toggle_tools", json!({}))
            .await
            .expect("toggle");
        assert!(server.stats().snapshot().get_streams_opened >= first_opened);
        assert_eq!(server.stats().snapshot().status_counts.get(&409), None);
        client.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}
