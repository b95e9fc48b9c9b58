//! The state one running server shares between its requests.
//!
//! Everything a handler needs comes from here; the modules below it (the eras, the demo content)
//! take the parts they use and never reach back up.

use std::future::Future;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Auth;
use crate::config::ServerConfig;
use crate::session_era::Sessions;
use crate::stateless::Stateless;
use crate::stats::ServerStats;

/// Shared state of one running server.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) config: ServerConfig,
    pub(crate) stats: ServerStats,
    /// The protected resource, when the server has [`ServerConfig::auth`].
    pub(crate) auth: Option<Arc<Auth>>,
    /// The session era's live sessions.
    pub(crate) sessions: Sessions,
    /// The stateless era's server-wide state: demo scope, listeners, request-state keys.
    pub(crate) stateless: Stateless,
    /// Cancelled when the server shuts down.
    pub(crate) shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl AppState {
    pub(crate) fn new(config: ServerConfig, stats: ServerStats, auth: Option<Auth>) -> Self {
        let shutdown = CancellationToken::new();
        Self {
            auth: auth.map(Arc::new),
            sessions: Sessions::new(stats.clone(), shutdown.clone()),
            stateless: Stateless::new(&config),
            config,
            stats,
            shutdown,
            tasks: TaskTracker::new(),
        }
    }

    /// Spawns a task owned by the server: counted in `live_tasks`, awaited by `shutdown`.
    /// The task must stop by itself once `shutdown` is cancelled.
    pub(crate) fn spawn(&self, fut: impl Future<Output = ()> + Send + 'static) {
        let guard = self.stats.task_guard();
        self.tasks.spawn(async move {
            let _guard = guard;
            fut.await;
        });
    }

    /// Signals every task to stop and takes no new ones.
    pub(crate) fn stop(&self) {
        self.shutdown.cancel();
        self.tasks.close();
    }

    /// Waits for every task spawned with [`AppState::spawn`].
    pub(crate) async fn tasks_done(&self) {
        self.tasks.wait().await;
    }
}
