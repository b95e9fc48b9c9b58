//! Starting, observing and stopping the server.

use std::error::Error as StdError;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::auth::Auth;
use crate::config::ServerConfig;
use crate::listener::CountingListener;
use crate::session_era::EndReason;
use crate::state::AppState;
use crate::stats::ServerStats;

/// How long `shutdown` waits for tasks before aborting the HTTP server.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The strict reference MCP server; see [`Server::start`].
#[derive(Debug)]
pub struct Server;

impl Server {
    /// Binds `config.bind` and serves until [`RunningServer::shutdown`] (or drop).
    ///
    /// Refuses a non-loopback address unless `allow_non_loopback` is set. With
    /// [`ServerConfig::auth`] it sets up the protected resource once bound (fetching the
    /// issuer's metadata and JWKS unless the JWKS is given) and fails when that fails.
    pub async fn start(config: ServerConfig) -> Result<RunningServer, StartError> {
        let bind = config.bind;
        if !config.allow_non_loopback && !bind.ip().is_loopback() {
            return Err(StartError {
                kind: StartErrorKind::NonLoopback,
                addr: bind,
                source: None,
            });
        }
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|e| StartError {
                kind: StartErrorKind::Bind,
                addr: bind,
                source: Some(Box::new(e)),
            })?;
        let addr = listener.local_addr().map_err(|e| StartError {
            kind: StartErrorKind::Bind,
            addr: bind,
            source: Some(Box::new(e)),
        })?;
        let stats = ServerStats::default();
        let auth = start_auth(&config, addr, &stats).await?;
        let app = Arc::new(AppState::new(config, stats.clone(), auth));
        let router = crate::http::router(&app);
        let listener = CountingListener {
            inner: listener,
            stats: stats.clone(),
        };
        let signal = app.shutdown.clone().cancelled_owned();
        let guard = stats.task_guard();
        let serve = tokio::spawn(async move {
            let _guard = guard;
            if let Err(err) = axum::serve(listener, router)
                .with_graceful_shutdown(signal)
                .await
            {
                tracing::warn!(%err, "server stopped with an error");
            }
        });
        if let Some(timeout) = app.config.session_idle_timeout {
            app.spawn(sweep(Arc::clone(&app), timeout));
        }
        Ok(RunningServer {
            addr,
            app,
            serve: Some(serve),
        })
    }
}

/// The protected resource of a server bound to `addr`, when it has one.
async fn start_auth(
    config: &ServerConfig,
    addr: SocketAddr,
    stats: &ServerStats,
) -> Result<Option<Auth>, StartError> {
    let Some(auth) = &config.auth else {
        return Ok(None);
    };
    match Auth::start(auth, addr, &config.path, stats).await {
        Ok(auth) => Ok(Some(auth)),
        Err(err) => Err(StartError {
            kind: StartErrorKind::Auth,
            addr,
            source: Some(Box::new(err)),
        }),
    }
}

/// Expires idle sessions until shutdown.
async fn sweep(app: Arc<AppState>, timeout: Duration) {
    let period = (timeout / 10).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut tick = tokio::time::interval(period);
    loop {
        tokio::select! {
            () = app.shutdown.cancelled() => return,
            _ = tick.tick() => { app.sessions.expire_idle(timeout); }
        }
    }
}

/// A server that is serving.
///
/// [`RunningServer::shutdown`] stops it gracefully and awaits every task. Dropping it without
/// `shutdown` signals the same stop (SSE streams end, tools are cancelled, the listener closes)
/// but cannot wait: the tasks finish on the runtime shortly afterwards.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    app: Arc<AppState>,
    serve: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL, e.g. `http://127.0.0.1:8081/mcp`.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.app.config.path)
    }

    /// The counters of what the server saw.
    pub fn stats(&self) -> ServerStats {
        self.app.stats.clone()
    }

    /// Expires one session as an idle expiry would; false when it was not live.
    pub fn expire_session(&self, id: &str) -> bool {
        self.app.sessions.end(id, EndReason::Expired)
    }

    /// Expires every session; returns how many.
    pub fn expire_all_sessions(&self) -> usize {
        self.app.sessions.end_all(EndReason::Expired)
    }

    /// Forgets every session as a process restart would (same port); returns how many.
    pub fn restart_sessions(&self) -> usize {
        self.app.sessions.end_all(EndReason::Forgotten)
    }

    /// Stops gracefully: ends every SSE stream and session (a listen stream with its closing
    /// result), stops the sweeper and the tools, and awaits all of them and the connections.
    pub async fn shutdown(mut self) {
        self.app.stop();
        let Some(mut serve) = self.serve.take() else {
            return;
        };
        let all = async {
            self.app.tasks_done().await;
            (&mut serve).await
        };
        if tokio::time::timeout(SHUTDOWN_GRACE, all).await.is_err() {
            tracing::warn!("graceful shutdown timed out; aborting connections");
            serve.abort();
            let _ = serve.await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.app.stop();
    }
}

/// Why [`Server::start`] failed.
#[derive(Debug)]
pub struct StartError {
    kind: StartErrorKind,
    addr: SocketAddr,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StartErrorKind {
    NonLoopback,
    Bind,
    Auth,
}

impl StartError {
    /// The address was not loopback and `allow_non_loopback` was not set.
    pub fn is_non_loopback(&self) -> bool {
        self.kind == StartErrorKind::NonLoopback
    }

    /// Binding the address failed (the cause is in `source()`).
    pub fn is_bind(&self) -> bool {
        self.kind == StartErrorKind::Bind
    }

    /// Setting up the protected resource of [`ServerConfig::auth`] failed: the issuer's
    /// metadata or JWKS could not be fetched or used, or the resource is not a URL (the cause
    /// is in `source()`).
    pub fn is_auth(&self) -> bool {
        self.kind == StartErrorKind::Auth
    }

    /// This error and its causes on one line (`cannot set up authorization on ...: cannot
    /// read ...: ...`).
    pub fn describe(&self) -> String {
        crate::auth::discovery::chain(self)
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            StartErrorKind::NonLoopback => {
                write!(
                    f,
                    "refusing to bind non-loopback address {} without allow_non_loopback",
                    self.addr
                )
            }
            StartErrorKind::Bind => write!(f, "cannot bind {}", self.addr),
            StartErrorKind::Auth => write!(f, "cannot set up authorization on {}", self.addr),
        }
    }
}

impl StdError for StartError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_error_is_small_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<StartError>();
        // The address (32 bytes), the kind, and a boxed cause (16).
        assert!(std::mem::size_of::<StartError>() <= 56);
    }
}
