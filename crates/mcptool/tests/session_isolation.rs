//! The core guarantee: every client owns its session and its connection pool, and `close()`
//! ends both — shown by what the strict server saw.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use mcptool::{Client, CloseOutcome, ProtocolEra, StandaloneStream};
use serde_json::json;
use support::server::{start_default, wait_stats};
use support::within;

/// Both ways a client may run: with the standalone GET stream open for the whole session
/// (where servers' one-stream-per-session rule bites), and the default, which opens it only
/// when something listens.
const MODES: [StandaloneStream; 2] = [StandaloneStream::Always, StandaloneStream::WhenNeeded];

async fn connect(url: &str, mode: StandaloneStream) -> Client {
    Client::builder(url)
        .protocol_era(ProtocolEra::Session)
        .standalone_stream(mode)
        .connect()
        .await
        .expect("connect")
}

fn text_of(result: &mcptool::protocol::CallToolResult) -> String {
    result.content[0]
        .as_text()
        .expect("text content")
        .to_owned()
}

#[tokio::test]
async fn two_sequential_clients_get_two_sessions_and_leave_nothing_open() {
    within(Duration::from_secs(30), async {
        for mode in MODES {
            two_sequential_clients(mode).await;
        }
    })
    .await;
}

async fn two_sequential_clients(mode: StandaloneStream) {
    {
        let server = start_default().await;
        let mut ids = Vec::new();
        for run in 0..2 {
            let client = connect(&server.url(), mode).await;
            let echoed = client
                .call_tool("echo", json!({"message": format!("run {run}")}))
                .await
                .expect("echo");
            assert_eq!(text_of(&echoed), format!("run {run}"));
            ids.push(client.session_id().expect("session id").as_str().to_owned());
            assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
            // What the server saw: our DELETE, and no TCP connection of ours left open.
            let seen = wait_stats(&server, "all connections closed after close()", |s| {
                s.open_connections == 0
            })
            .await;
            assert_eq!(seen.sessions_deleted, run + 1);
            assert_eq!(seen.live_get_streams, 0);
        }
        assert_ne!(ids[0], ids[1], "the second client reused the first session");
        let s = server.stats().snapshot();
        assert_eq!(s.sessions_opened, 2);
        assert_eq!(s.deletes, 2);
        assert_eq!(s.status_counts.get(&409), None, "no 409 expected: {s:#?}");
        assert_eq!(s.status_counts.get(&404), None, "no 404 expected: {s:#?}");
        let streams = u64::from(mode == StandaloneStream::Always) * 2;
        assert_eq!(s.get_streams_opened, streams, "{mode:?}");
        server.shutdown().await;
    }
}

#[tokio::test]
async fn a_thousand_lifecycles_leave_no_session_socket_or_descriptor_behind() {
    within(Duration::from_secs(240), async {
        for mode in MODES {
            a_thousand_lifecycles(mode).await;
        }
    })
    .await;
}

async fn a_thousand_lifecycles(mode: StandaloneStream) {
    {
        let server = start_default().await;
        // Warm up once so lazily created process-wide state (TLS config, runtime) is counted.
        Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect")
            .close()
            .await
            .expect("close");
        wait_stats(&server, "warm-up connections closed", |s| {
            s.open_connections == 0
        })
        .await;
        let fds_before = support::open_fds();
        let runs = 1000;
        for _ in 0..runs {
            let client = connect(&server.url(), mode).await;
            client.ping().await.expect("ping");
            assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
        }
        let s = wait_stats(&server, "every connection closed", |s| {
            s.open_connections == 0 && s.live_get_streams == 0
        })
        .await;
        assert_eq!(s.sessions_opened, runs + 1);
        assert_eq!(s.sessions_deleted, runs + 1);
        assert_eq!(s.sessions_live, 0);
        let distinct: HashSet<&String> = s.session_ids.iter().collect();
        assert_eq!(distinct.len() as u64, runs + 1);
        assert!(
            support::eventually(Duration::from_secs(5), || support::open_fds() <= fds_before).await,
            "file descriptors grew from {fds_before} to {}",
            support::open_fds()
        );
        assert_eq!(s.status_counts.get(&409), None, "{mode:?}");
        server.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_closes_the_connections_still_in_use_at_once() {
    within(Duration::from_secs(60), async {
        let server = start_default().await;
        for round in 0..20 {
            let client = connect(&server.url(), StandaloneStream::Always).await;
            client.ping().await.expect("ping");
            // A call still running when close() starts holds a connection of its own.
            let running = {
                let client = client.clone();
                tokio::spawn(async move { client.call_tool("sleep", json!({"ms": 5000})).await })
            };
            wait_stats(&server, "the call is running and the stream open", |s| {
                s.methods.get("tools/call").copied().unwrap_or(0) > round && s.live_get_streams > 0
            })
            .await;
            assert!(
                support::client_sockets_to(server.addr()) >= 2,
                "the call and the standalone stream each hold a connection"
            );
            assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
            // The call's response would go on for 5 s: its connection is closed by close(),
            // not when the response ends.
            assert!(
                support::eventually(Duration::from_millis(500), || {
                    support::client_sockets_to(server.addr()) == 0
                })
                .await,
                "round {round}: {} sockets left",
                support::client_sockets_to(server.addr())
            );
            let failed = running
                .await
                .expect("join")
                .expect_err("the call outlived close");
            assert!(failed.is_closed(), "{failed:?}");
        }
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_clients_each_see_only_their_own_session() {
    within(Duration::from_secs(120), async {
        let server = start_default().await;
        let url = server.url();
        let mut tasks = Vec::new();
        for _ in 0..200 {
            let url = url.clone();
            tasks.push(tokio::spawn(async move {
                let client = connect(&url, StandaloneStream::Always).await;
                let mine = client.session_id().expect("session").as_str().to_owned();
                for _ in 0..50 {
                    let who = client.call_tool("whoami", json!({})).await.expect("whoami");
                    assert_eq!(
                        text_of(&who),
                        mine,
                        "cross-talk: answer from another session"
                    );
                }
                client.close().await.expect("close");
                mine
            }));
        }
        let mut ids = HashSet::new();
        for t in tasks {
            ids.insert(t.await.expect("task"));
        }
        assert_eq!(ids.len(), 200);
        let s = wait_stats(&server, "all connections closed", |s| {
            s.open_connections == 0
        })
        .await;
        assert_eq!(s.sessions_deleted, 200);
        assert_eq!(s.status_counts.get(&409), None);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_lent_http_client_survives_close_and_is_never_closed_by_us() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let lent = mcptool::http_client_builder()
            .expect("builder")
            .build()
            .expect("lent client");
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .http_client(lent.clone())
            .connect()
            .await
            .expect("connect");
        assert!(!client.owns_http_client());
        client.ping().await.expect("ping");
        assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
        // The caller's client still works, and its pool kept a connection to the server.
        let status = lent
            .get(format!("http://{}/nowhere", server.addr()))
            .send()
            .await
            .expect("lent client still usable")
            .status();
        assert_eq!(status.as_u16(), 404);
        assert!(server.stats().snapshot().open_connections >= 1);
        // And a second client can borrow it again, getting a fresh session.
        let again = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .http_client(lent)
            .connect()
            .await
            .expect("connect again");
        assert_eq!(server.stats().snapshot().sessions_opened, 2);
        again.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn close_is_idempotent_and_later_calls_fail_as_closed() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect");
        let (a, b) = tokio::join!(client.close(), client.close());
        let mut outcomes = [a.expect("close"), b.expect("close")];
        outcomes.sort_by_key(|o| *o == CloseOutcome::AlreadyClosed);
        assert_eq!(
            outcomes,
            [CloseOutcome::Deleted, CloseOutcome::AlreadyClosed]
        );
        assert_eq!(
            client.close().await.expect("close"),
            CloseOutcome::AlreadyClosed
        );
        let err = client.ping().await.expect_err("closed client must refuse");
        assert!(err.is_closed(), "{err:?}");
        assert!(!client.is_connected());
        assert_eq!(server.stats().snapshot().deletes, 1);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn dropping_without_close_releases_connections_but_sends_no_delete() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .standalone_stream(true)
            .connect()
            .await
            .expect("connect");
        client.ping().await.expect("ping");
        wait_stats(&server, "the standalone stream", |s| {
            s.live_get_streams == 1
        })
        .await;
        drop(client);
        let s = wait_stats(&server, "connections closed after drop", |s| {
            s.open_connections == 0 && s.live_get_streams == 0
        })
        .await;
        assert_eq!(s.deletes, 0, "drop cannot send DELETE");
        assert_eq!(
            s.sessions_live, 1,
            "the session stays until the server expires it"
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn terminate_on_close_off_sends_no_delete_yet_closes_streams_and_sockets() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let first = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .terminate_on_close(false)
            .standalone_stream(true)
            .connect()
            .await
            .expect("connect");
        wait_stats(&server, "the standalone stream", |s| {
            s.live_get_streams == 1
        })
        .await;
        assert_eq!(
            first.close().await.expect("close"),
            CloseOutcome::NotTerminated
        );
        wait_stats(&server, "stream and sockets closed", |s| {
            s.open_connections == 0 && s.live_get_streams == 0
        })
        .await;
        let second = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .terminate_on_close(false)
            .standalone_stream(true)
            .connect()
            .await
            .expect("connect");
        wait_stats(&server, "the second standalone stream", |s| {
            s.live_get_streams == 1
        })
        .await;
        assert_ne!(first.session_id(), second.session_id());
        second.close().await.expect("close");
        let s = server.stats().snapshot();
        assert_eq!(s.deletes, 0);
        assert_eq!(s.status_counts.get(&409), None);
        server.shutdown().await;
    })
    .await;
}
