//! Sessions: their registry, their per-session state, and their lifecycle.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::events::{EventStore, StreamLog};
use crate::demo;
use crate::stats::ServerStats;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One MCP session.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) id: String,
    /// The negotiated protocol version.
    pub(crate) version: &'static str,
    /// Cancelled when the session ends (DELETE, expiry, restart, shutdown).
    pub(crate) ended: CancellationToken,
    pub(crate) state: Mutex<SessionState>,
    /// The demo content's state for this session (the toggled tool, prompt and resource).
    pub(crate) demo: demo::Scope,
    last_seen: Mutex<Instant>,
    next_server_request: AtomicU64,
}

/// The mutable part of a session.
#[derive(Debug, Default)]
pub(crate) struct SessionState {
    pub(crate) initialized: bool,
    /// Minimum log level (index into [`crate::demo::LOG_LEVELS`]).
    pub(crate) log_level: usize,
    /// In-flight requests by serialized id.
    pub(crate) in_flight: HashMap<String, CancellationToken>,
    /// Server→client requests awaiting the client's response, by serialized id.
    pub(crate) pending: HashMap<String, oneshot::Sender<Value>>,
    /// The live standalone GET stream.
    pub(crate) standalone: Option<Arc<StreamLog>>,
    pub(crate) store: EventStore,
}

impl Session {
    pub(crate) fn touch(&self) {
        *lock(&self.last_seen) = Instant::now();
    }

    fn idle_for(&self) -> Duration {
        lock(&self.last_seen).elapsed()
    }

    /// A fresh id for a server→client request, and where the client's answer to it will arrive.
    pub(crate) fn expect_answer(&self) -> (u64, oneshot::Receiver<Value>) {
        let id = self.next_server_request.fetch_add(1, Ordering::Relaxed) + 1;
        let (tx, rx) = oneshot::channel();
        lock(&self.state)
            .pending
            .insert(Value::from(id).to_string(), tx);
        (id, rx)
    }

    /// Stops waiting for the answer to request `id`.
    pub(crate) fn forget_answer(&self, id: u64) {
        lock(&self.state)
            .pending
            .remove(&Value::from(id).to_string());
    }

    /// Sends a message on the standalone GET stream; false when none is open.
    pub(crate) fn push_standalone(&self, message: &Value) -> bool {
        let log = lock(&self.state).standalone.clone();
        log.is_some_and(|log| log.push(message))
    }
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EndReason {
    Deleted,
    Expired,
    Forgotten,
}

/// All live sessions.
#[derive(Debug)]
pub(crate) struct Sessions {
    map: Mutex<HashMap<String, Arc<Session>>>,
    stats: ServerStats,
    shutdown: CancellationToken,
}

impl Sessions {
    pub(crate) fn new(stats: ServerStats, shutdown: CancellationToken) -> Self {
        Self {
            map: Mutex::default(),
            stats,
            shutdown,
        }
    }

    /// Creates a session, unless `max` are already live.
    pub(crate) fn create(&self, version: &'static str, max: usize) -> Option<Arc<Session>> {
        let mut map = lock(&self.map);
        if map.len() >= max {
            return None;
        }
        let id = loop {
            let id = format!("{:032x}", rand::random::<u128>());
            if !map.contains_key(&id) {
                break id;
            }
        };
        let session = Arc::new(Session {
            id: id.clone(),
            version,
            ended: self.shutdown.child_token(),
            state: Mutex::default(),
            demo: demo::Scope::default(),
            last_seen: Mutex::new(Instant::now()),
            next_server_request: AtomicU64::new(0),
        });
        map.insert(id.clone(), Arc::clone(&session));
        drop(map);
        self.stats.session_opened(&id);
        Some(session)
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<Session>> {
        lock(&self.map).get(id).cloned()
    }

    /// Ends one session; false when it was not live.
    pub(crate) fn end(&self, id: &str, reason: EndReason) -> bool {
        let Some(session) = lock(&self.map).remove(id) else {
            return false;
        };
        self.finish(&session, reason);
        true
    }

    /// Ends every session; returns how many.
    pub(crate) fn end_all(&self, reason: EndReason) -> usize {
        let all: Vec<_> = lock(&self.map).drain().map(|(_, s)| s).collect();
        for session in &all {
            self.finish(session, reason);
        }
        all.len()
    }

    /// Ends the sessions idle for at least `timeout`.
    pub(crate) fn expire_idle(&self, timeout: Duration) -> usize {
        let idle: Vec<_> = {
            let mut map = lock(&self.map);
            let ids: Vec<_> = map
                .values()
                .filter(|s| s.idle_for() >= timeout)
                .map(|s| s.id.clone())
                .collect();
            ids.iter().filter_map(|id| map.remove(id)).collect()
        };
        for session in &idle {
            self.finish(session, EndReason::Expired);
        }
        idle.len()
    }

    fn finish(&self, session: &Session, reason: EndReason) {
        session.ended.cancel();
        let mut state = lock(&session.state);
        state.pending.clear();
        state.standalone = None;
        drop(state);
        self.stats.update(|s| {
            s.sessions_live = s.sessions_live.saturating_sub(1);
            match reason {
                EndReason::Deleted => s.sessions_deleted += 1,
                EndReason::Expired => s.sessions_expired += 1,
                EndReason::Forgotten => {}
            }
        });
    }
}
