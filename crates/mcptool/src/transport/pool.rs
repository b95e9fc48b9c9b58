//! The owned connection pool: HTTP/1.1 keep-alive connections made with hyper's connection
//! API, over hyper-util's connector (DNS, `TCP_NODELAY`, the connect timeout) and
//! hyper-rustls (TLS).
//!
//! A connection goes back to the pool at the moment its response body ends, from the task
//! that read the body, and the next request takes the most recently returned one. Nothing is
//! spawned per request, so a pool costs one lock per checkout and one per return; hyper-util's
//! pooled client hands every HTTP/1 connection back from a task of its own, which held 64
//! concurrent callers to 0.84× of one-connection-per-caller on the benchmark.
//!
//! An idle connection is kept for the pool's idle timeout, or for less when the server said in
//! a `Keep-Alive: timeout=N` header that it closes idle connections after N seconds: then
//! until a second before that, so that a request is not written into a connection the server
//! is closing (the request would fail, and a POST cannot be sent again safely).
//!
//! Every connection's driver task belongs to the pool. [`ConnPool::shutdown`] aborts them all,
//! idle and in use (a closed client's requests fail anyway), and so does dropping the pool:
//! each socket closes when its task is next polled, microseconds later, without the caller
//! waiting for it (waiting cost a connect+initialize+close lifecycle about 40 µs, a tenth,
//! on the benchmark; the socket's close is the same work either way).
//!
//! Connection establishment is in `conn`, the keep-alive arithmetic in `keep_alive`; this file
//! is the pool's bookkeeping: checkout, return, and shutdown.

mod conn;
mod keep_alive;

use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use tokio::task::JoinSet;

use crate::error::{BoxError, Error};
use conn::{Conn, Connector};

/// Why a request did not get a response head.
#[derive(Debug)]
pub(crate) enum SendError {
    /// No connection could be made (DNS, TCP, TLS, or the HTTP/1 handshake).
    Connect(BoxError),
    /// The connection failed while the request was sent or its response awaited.
    Request(hyper::Error),
    /// The pool was shut down.
    Closed,
}

/// A pool of HTTP/1.1 connections to one server. Clones share the pool.
#[derive(Clone, Debug)]
pub(crate) struct ConnPool {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    connector: Connector,
    idle_timeout: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Idle connections, the most recently returned last.
    idle: Vec<Idle>,
    /// The driver task of every open connection.
    drivers: JoinSet<()>,
    closed: bool,
}

#[derive(Debug)]
struct Idle {
    conn: Conn,
    /// When the connection stops being reused.
    until: Instant,
}

/// A connection lent to one response: given back to the pool by [`Lease::give_back`] once
/// the body has ended, closed if the lease is dropped before that.
#[derive(Debug)]
pub(crate) struct Lease {
    conn: Option<Conn>,
    pool: Weak<Shared>,
    /// How long the connection may sit idle before it is retired.
    keep_for: Duration,
}

impl ConnPool {
    /// A pool of its own: `TCP_NODELAY`, the connect timeout, HTTP/1.1, the process-wide TLS
    /// configuration, no proxy.
    pub(crate) fn new(connect_timeout: Duration, idle_timeout: Duration) -> Result<Self, Error> {
        Ok(ConnPool {
            shared: Arc::new(Shared {
                connector: conn::connector(connect_timeout)?,
                idle_timeout,
                state: Mutex::new(State::default()),
            }),
        })
    }

    /// Sends `request` (whose URI is in origin form, with a `Host` header) on an idle
    /// connection, or on a new one to `origin`. A request that a reused connection could not
    /// take (the server had closed it) is sent again on another; one that was written is
    /// never sent twice.
    pub(crate) async fn send(
        &self,
        origin: &Uri,
        mut request: Request<Full<Bytes>>,
    ) -> Result<(Response<Incoming>, Lease), SendError> {
        loop {
            let (mut conn, reused) = match self.shared.take_idle()? {
                Some(conn) => (conn, true),
                // Boxed: connecting is rare, and its future would make every request's larger.
                None => (Box::pin(self.connect(origin)).await?, false),
            };
            // A new connection takes its first request before its task has run; a reused
            // one says it is ready once its task has finished the previous exchange, which
            // it usually has by the time the body's end reached us.
            if reused && !conn.send.is_ready() && conn.send.ready().await.is_err() {
                continue;
            }
            match conn.send.try_send_request(request).await {
                Ok(response) => {
                    let keep_for =
                        keep_alive::keep_for(response.headers(), self.shared.idle_timeout);
                    let lease = Lease {
                        conn: Some(conn),
                        pool: Arc::downgrade(&self.shared),
                        keep_for,
                    };
                    return Ok((response, lease));
                }
                Err(mut e) => match e.take_message() {
                    Some(unsent) if reused => request = unsent,
                    _ => return Err(SendError::Request(e.into_error())),
                },
            }
        }
    }

    /// Dials `origin` and gives the new connection's driver to the pool.
    async fn connect(&self, origin: &Uri) -> Result<Conn, SendError> {
        let (send, connection) = conn::dial(&self.shared.connector, origin).await?;
        let mut state = self.shared.lock();
        if state.closed {
            return Err(SendError::Closed);
        }
        // Reap drivers whose connections have ended, so the set stays as large as the pool.
        while state.drivers.try_join_next().is_some() {}
        let driver = state.drivers.spawn(async move {
            // An error here is the request's to report (hyper passes it to the response).
            let _ = connection.await;
        });
        Ok(Conn { send, driver })
    }

    /// Closes every connection of the pool, idle or in use: their tasks are aborted, which
    /// closes the sockets. Later requests fail with [`SendError::Closed`].
    pub(crate) fn shutdown(&self) {
        let (idle, drivers) = {
            let mut state = self.shared.lock();
            state.closed = true;
            (
                std::mem::take(&mut state.idle),
                std::mem::take(&mut state.drivers),
            )
        };
        drop(idle);
        // Dropping a JoinSet aborts its tasks.
        drop(drivers);
    }

    /// How many connections sit idle (for tests).
    #[cfg(test)]
    fn idle_count(&self) -> usize {
        self.shared.lock().idle.len()
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The most recently returned idle connection that is still open, if any.
    fn take_idle(&self) -> Result<Option<Conn>, SendError> {
        let mut state = self.lock();
        if state.closed {
            return Err(SendError::Closed);
        }
        let now = Instant::now();
        while let Some(idle) = state.idle.pop() {
            if !idle.conn.send.is_closed() && now < idle.until {
                return Ok(Some(idle.conn));
            }
        }
        Ok(None)
    }

    fn give_back(&self, conn: Conn, keep_for: Duration) {
        if conn.send.is_closed() || keep_for.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut state = self.lock();
        if state.closed {
            return;
        }
        // The oldest come first; close the ones whose time is up.
        if state.idle.first().is_some_and(|idle| idle.until <= now) {
            state.idle.retain(|idle| idle.until > now);
        }
        state.idle.push(Idle {
            conn,
            until: now + keep_for,
        });
    }
}

impl Lease {
    /// The response body has ended: the connection can carry the next request.
    pub(crate) fn give_back(&mut self) {
        if let (Some(conn), Some(pool)) = (self.conn.take(), self.pool.upgrade()) {
            pool.give_back(conn, self.keep_for);
        }
    }
}

#[cfg(test)]
mod tests {
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
                        let answer =
                            format!("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n{extra}\r\nok");
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
}
