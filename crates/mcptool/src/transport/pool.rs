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

/// A pool of HTTP/1.1 connections, each to its origin (the MCP server's, and the
/// authorization layer's). Clones share the pool.
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
            let (mut conn, reused) = match self.shared.take_idle(origin)? {
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
        Ok(Conn {
            send,
            driver,
            origin: origin.clone(),
        })
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

    /// The most recently returned idle connection to `origin` that is still open, if any.
    fn take_idle(&self, origin: &Uri) -> Result<Option<Conn>, SendError> {
        let mut state = self.lock();
        if state.closed {
            return Err(SendError::Closed);
        }
        let now = Instant::now();
        // Nearly always the last one: a client talks to its server, and rarely to another.
        while let Some(at) = state.idle.iter().rposition(|i| i.conn.origin == *origin) {
            let idle = state.idle.remove(at);
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
mod tests;
