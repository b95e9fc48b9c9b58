//! Unit tests of the owned pool over real sockets.

use std::time::Duration;

use http::header::HOST;
use http::{HeaderValue, Method};
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

fn pool(idle_timeout: Duration) -> ConnPool {
    ConnPool::new(Duration::from_secs(5), idle_timeout).expect("pool")
}

fn request(addr: std::net::SocketAddr) -> Request<Full<Bytes>> {
    let mut request = Request::new(Full::new(Bytes::from_static(b"{}")));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = Uri::from_static("/mcp");
    request.headers_mut().insert(
        HOST,
        HeaderValue::from_str(&addr.to_string()).expect("host"),
    );
    request
}

#[derive(Debug, PartialEq)]
enum Seen {
    Accepted,
    /// The client closed its end.
    Closed,
}

/// A server that answers every request on a connection with `ok` (and the header lines
/// `extra`), closing the connection after `per_connection` answers; reports what it sees
/// of each connection.
async fn server(
    per_connection: usize,
    extra: &'static str,
) -> (
    std::net::SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<Seen>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (seen, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let _ = seen.send(Seen::Accepted);
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                for _ in 0..per_connection {
                    // Each request is a head and a 2-byte body.
                    loop {
                        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n")
                            && buf.len() >= end + 4 + 2
                        {
                            buf.drain(..end + 4 + 2);
                            break;
                        }
                        let mut chunk = [0u8; 1024];
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => {
                                let _ = seen.send(Seen::Closed);
                                return;
                            }
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let answer = format!("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n{extra}\r\nok");
                    if socket.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, rx)
}

/// How many connections the server accepted so far.
fn accepted(seen: &mut tokio::sync::mpsc::UnboundedReceiver<Seen>) -> usize {
    let mut count = 0;
    while let Ok(event) = seen.try_recv() {
        count += usize::from(event == Seen::Accepted);
    }
    count
}

async fn exchange(pool: &ConnPool, addr: std::net::SocketAddr) -> Result<Bytes, SendError> {
    let origin: Uri = format!("http://{addr}").parse().expect("origin");
    let (response, mut lease) = pool.send(&origin, request(addr)).await?;
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(SendError::Request)?;
    lease.give_back();
    Ok(body.to_bytes())
}

#[tokio::test]
async fn a_connection_carries_requests_for_its_own_origin_only() {
    let (a, mut seen_a) = server(usize::MAX, "").await;
    let (b, mut seen_b) = server(usize::MAX, "").await;
    let pool = pool(Duration::from_secs(90));
    exchange(&pool, a).await.expect("a");
    // A's idle connection must not carry B's request (an MCP token would reach the
    // authorization server, or its requests the MCP server).
    exchange(&pool, b).await.expect("b");
    exchange(&pool, a).await.expect("a again");
    exchange(&pool, b).await.expect("b again");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!((accepted(&mut seen_a), accepted(&mut seen_b)), (1, 1));
    assert_eq!(pool.idle_count(), 2);
}

#[tokio::test]
async fn sequential_requests_share_one_connection() {
    let (addr, mut seen) = server(usize::MAX, "").await;
    let pool = pool(Duration::from_secs(90));
    for _ in 0..20 {
        assert_eq!(exchange(&pool, addr).await.expect("answer"), "ok");
    }
    assert_eq!(accepted(&mut seen), 1);
    assert_eq!(pool.idle_count(), 1);
}

#[tokio::test]
async fn a_connection_the_server_closed_is_replaced_without_failing_the_request() {
    let (addr, mut seen) = server(1, "").await;
    let pool = pool(Duration::from_secs(90));
    for _ in 0..5 {
        assert_eq!(exchange(&pool, addr).await.expect("answer"), "ok");
        // Let the driver see the server's close, as it would between two agent steps.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(accepted(&mut seen), 5);
}

#[tokio::test]
async fn an_idle_connection_past_the_idle_timeout_is_not_reused() {
    let (addr, mut seen) = server(usize::MAX, "").await;
    let pool = pool(Duration::from_millis(30));
    exchange(&pool, addr).await.expect("first");
    tokio::time::sleep(Duration::from_millis(60)).await;
    exchange(&pool, addr).await.expect("second");
    assert_eq!(accepted(&mut seen), 2);
    assert_eq!(pool.idle_count(), 1, "the expired connection is gone");
}

#[tokio::test]
async fn a_keep_alive_timeout_of_a_second_or_less_means_no_reuse() {
    let (addr, mut seen) = server(usize::MAX, "keep-alive: timeout=1\r\n").await;
    let pool = pool(Duration::from_secs(90));
    for _ in 0..4 {
        assert_eq!(exchange(&pool, addr).await.expect("answer"), "ok");
    }
    assert_eq!(accepted(&mut seen), 4);
    assert_eq!(pool.idle_count(), 0);
}

#[tokio::test]
async fn a_connection_is_retired_a_second_before_the_servers_keep_alive_timeout() {
    let (addr, mut seen) = server(usize::MAX, "keep-alive: timeout=2, max=100\r\n").await;
    let pool = pool(Duration::from_secs(90));
    exchange(&pool, addr).await.expect("first");
    exchange(&pool, addr)
        .await
        .expect("second, on the same connection");
    assert_eq!(accepted(&mut seen), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    exchange(&pool, addr).await.expect("third");
    assert_eq!(
        accepted(&mut seen),
        1,
        "the idle connection was kept past its second"
    );
}

#[tokio::test]
async fn a_body_dropped_before_its_end_closes_its_connection() {
    let (addr, mut seen) = server(usize::MAX, "").await;
    let pool = pool(Duration::from_secs(90));
    let origin: Uri = format!("http://{addr}").parse().expect("origin");
    let (response, lease) = pool.send(&origin, request(addr)).await.expect("send");
    drop((response, lease));
    assert_eq!(pool.idle_count(), 0);
    exchange(&pool, addr).await.expect("answer");
    assert_eq!(accepted(&mut seen), 2);
}

#[tokio::test]
async fn after_shutdown_requests_fail_and_no_socket_is_left() {
    let (addr, mut seen) = server(usize::MAX, "").await;
    let pool = pool(Duration::from_secs(90));
    exchange(&pool, addr).await.expect("answer");
    assert_eq!(seen.recv().await, Some(Seen::Accepted));
    pool.shutdown();
    // The idle connection would stay open for 90 s; the server sees it closed now.
    let closed = tokio::time::timeout(Duration::from_secs(5), seen.recv()).await;
    assert_eq!(
        closed.expect("the socket was not closed"),
        Some(Seen::Closed)
    );
    assert!(matches!(
        exchange(&pool, addr).await,
        Err(SendError::Closed)
    ));
    assert_eq!(accepted(&mut seen), 0, "a closed pool connected again");
}
