//! The agent service example under load, in each era: in the session era one session per
//! turn, every session deleted; in 2026-07-28 no session at all; no connection left open in
//! either, and the era probed once thanks to the service's lent era cache.

mod support;

#[allow(dead_code, reason = "the example's main is not used by the test")]
#[path = "../examples/agent_service.rs"]
mod agent_service;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use mcptool_server::{Era, ServerConfig};
use serde_json::{Value, json};
use support::server::{start, wait_stats};
use support::within;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One `POST /turn` over a fresh connection; the status and the JSON body.
async fn post_turn(addr: SocketAddr, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "POST /turn HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let response = String::from_utf8(response).expect("utf-8");
    let status = response[9..12].parse().expect("status");
    let (_, json) = response.split_once("\r\n\r\n").expect("head and body");
    (status, serde_json::from_str(json).expect("JSON body"))
}

/// Serves the example in front of `server`; returns its address and what stops it.
fn serve_example(
    server: &mcptool_server::RunningServer,
) -> (
    SocketAddr,
    tokio_util::sync::CancellationToken,
    tokio::task::JoinHandle<()>,
) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("addr");
    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
    let stop = tokio_util::sync::CancellationToken::new();
    let app = agent_service::app(server.url());
    let service = tokio::spawn({
        let stop = stop.clone();
        async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
                .expect("serve");
        }
    });
    (addr, stop, service)
}

/// Runs `turns` echo turns from `loops` concurrent drivers; every answer's body.
async fn drive(addr: SocketAddr, turns: usize, loops: usize) -> Vec<Value> {
    let drivers: Vec<_> = (0..loops)
        .map(|l| {
            tokio::spawn(async move {
                let mut bodies = Vec::new();
                for i in 0..turns / loops {
                    let message = format!("turn {l}-{i}");
                    let (status, body) = post_turn(
                        addr,
                        &json!({"function": "echo", "arguments": {"message": message}}),
                    )
                    .await;
                    assert_eq!(status, 200, "{body}");
                    assert_eq!(body["text"], message.as_str());
                    bodies.push(body);
                }
                bodies
            })
        })
        .collect();
    let mut bodies = Vec::new();
    for d in drivers {
        bodies.extend(d.await.expect("driver"));
    }
    assert_eq!(bodies.len(), turns);
    bodies
}

#[tokio::test]
async fn five_hundred_turns_open_and_delete_five_hundred_sessions() {
    within(Duration::from_secs(240), async {
        let server = start(ServerConfig::default().era(Era::Sessions)).await;
        let (addr, stop, service) = serve_example(&server);
        let turns = 500usize;
        for body in drive(addr, turns, 10).await {
            assert_eq!(body["close"], "Deleted", "{body}");
            assert_eq!(body["era"], "2025-11-25", "{body}");
            assert!(body["session"].is_string(), "{body}");
        }
        let s = wait_stats(&server, "every MCP connection closed", |s| {
            s.open_connections == 0 && s.live_get_streams == 0
        })
        .await;
        let turns = turns as u64;
        assert_eq!(s.sessions_opened, turns);
        assert_eq!(s.sessions_deleted, turns);
        assert_eq!(s.deletes, turns);
        assert_eq!(s.sessions_live, 0);
        let distinct: HashSet<&String> = s.session_ids.iter().collect();
        assert_eq!(distinct.len() as u64, turns, "a session was reused");
        assert_eq!(s.status_counts.get(&409), None);
        // The lent era cache: the first turns probed (concurrently, at most one per driver),
        // every later turn went straight to initialize.
        let probes = s.methods.get("server/discover").copied().unwrap_or(0);
        assert!((1..=10).contains(&probes), "{probes} discover probes");
        assert_eq!(s.methods.get("initialize"), Some(&turns));

        stop.cancel();
        service.await.expect("service");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn against_a_stateless_server_the_turns_open_no_session_and_share_one_discover() {
    within(Duration::from_secs(240), async {
        let server = start(ServerConfig::default().era(Era::Stateless)).await;
        let (addr, stop, service) = serve_example(&server);
        // The first turn alone, so that every later one finds the era (and the server's public
        // discover answer, fresh for a minute) in the cache.
        drive(addr, 1, 1).await;
        let turns = 200usize;
        for body in drive(addr, turns, 10).await {
            assert_eq!(body["close"], "Stateless", "{body}");
            assert_eq!(body["era"], "2026-07-28", "{body}");
            assert!(body["session"].is_null(), "{body}");
        }
        let s = wait_stats(&server, "every MCP connection closed", |s| {
            s.open_connections == 0 && s.listen_streams_live == 0
        })
        .await;
        assert_eq!(s.sessions_opened, 0);
        assert_eq!(s.deletes, 0);
        assert_eq!(
            s.discover_calls, 1,
            "the lent cache saved every later probe"
        );
        assert_eq!(s.methods.get("tools/call"), Some(&(turns as u64 + 1)));
        assert_eq!(
            s.status_counts.keys().copied().collect::<Vec<_>>(),
            vec![200]
        );

        stop.cancel();
        service.await.expect("service");
        server.shutdown().await;
    })
    .await;
}
