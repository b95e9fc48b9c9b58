//! The agent service example under 500 requests: one session per turn, every session
//! deleted, no connection left open.

mod support;

#[allow(dead_code, reason = "the example's main is not used by the test")]
#[path = "../examples/agent_service.rs"]
mod agent_service;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};
use support::server::{start_default, wait_stats};
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

#[tokio::test]
async fn five_hundred_turns_open_and_delete_five_hundred_sessions() {
    within(Duration::from_secs(240), async {
        let server = start_default().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stop = tokio_util::sync::CancellationToken::new();
        let service = tokio::spawn({
            let stop = stop.clone();
            let app = agent_service::app(server.url());
            async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await
                    .expect("serve");
            }
        });

        let turns = 500usize;
        let loops = 10;
        let drivers: Vec<_> = (0..loops)
            .map(|l| {
                tokio::spawn(async move {
                    let mut sessions = Vec::new();
                    for i in 0..turns / loops {
                        let message = format!("turn {l}-{i}");
                        let (status, body) = post_turn(
                            addr,
                            &json!({"function": "echo", "arguments": {"message": message}}),
                        )
                        .await;
                        assert_eq!(status, 200, "{body}");
                        assert_eq!(body["text"], message.as_str());
                        assert_eq!(body["close"], "Deleted");
                        sessions.push(body["session"].as_str().expect("session").to_owned());
                    }
                    sessions
                })
            })
            .collect();
        let mut redacted = Vec::new();
        for d in drivers {
            redacted.extend(d.await.expect("driver"));
        }
        assert_eq!(redacted.len(), turns);

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

        stop.cancel();
        service.await.expect("service");
        server.shutdown().await;
    })
    .await;
}
