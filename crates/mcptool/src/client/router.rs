//! The routing of what the server sends: each answer to the request waiting for it (by id),
//! progress to that request's callback, notifications to the client's subscribers, and server
//! requests back to the caller, for the handlers. One path for every stream: JSON bodies, the
//! request's own SSE stream, the standalone stream and listen streams all deliver here.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::{broadcast, oneshot};

use super::options::{Progress, ProgressFn};
use crate::error::Error;
use crate::protocol::{Incoming, RequestId, RpcError};

/// A notification the server sent that is not about one request (list changes, log messages,
/// resource updates...).
#[derive(Clone, Debug, PartialEq)]
pub struct ServerNotification {
    /// The notification's method, e.g. `notifications/tools/list_changed`.
    pub method: String,
    /// Its params, as sent.
    pub params: Option<Value>,
}

/// Hashes our request ids, which are distinct counters we made ourselves: no attacker chooses
/// them, so SipHash's protection buys nothing and costs a measurable share of each request.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        // Spread sequential ids over the table's buckets (Fibonacci hashing).
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub(crate) struct Pending {
    tx: oneshot::Sender<Result<Box<RawValue>, Error>>,
    progress: Option<ProgressFn>,
    /// When progress last arrived: kept only for a request whose deadline it extends.
    pub(crate) last_progress: Option<Arc<Mutex<Option<Instant>>>>,
}

impl Pending {
    pub(crate) fn new(
        tx: oneshot::Sender<Result<Box<RawValue>, Error>>,
        progress: Option<ProgressFn>,
        track_progress: bool,
    ) -> Pending {
        Pending {
            tx,
            progress,
            last_progress: track_progress.then(|| Arc::new(Mutex::new(None))),
        }
    }
}

/// What became of one message.
pub(crate) enum Routed {
    /// Delivered (or dropped, as nobody waits for it).
    Done,
    /// A JSON-RPC error naming no request of ours (id `null` or foreign).
    Unattributed(RpcError),
    /// A request from the server, for our handlers to answer.
    Request {
        id: Value,
        method: String,
        params: Option<Value>,
    },
}

/// The requests of one client waiting for answers, and its notification subscribers.
pub(crate) struct Router {
    pending: Mutex<HashMap<RequestId, Pending, BuildHasherDefault<IdHasher>>>,
    next_id: AtomicU64,
    /// Made on the first subscription: a broadcast channel preallocates every slot, and most
    /// sessions never subscribe (notifications with no subscriber are dropped either way).
    notifications: OnceLock<broadcast::Sender<ServerNotification>>,
    notification_capacity: usize,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("pending", &self.pending_count())
            .field("subscribed", &self.has_subscribers())
            .finish()
    }
}

impl Router {
    pub(crate) fn new(notification_capacity: usize) -> Router {
        Router {
            pending: Mutex::new(HashMap::default()),
            next_id: AtomicU64::new(0),
            notifications: OnceLock::new(),
            notification_capacity: notification_capacity.max(1),
        }
    }

    fn pending(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<RequestId, Pending, BuildHasherDefault<IdHasher>>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn next_id(&self) -> RequestId {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Whether anyone ever subscribed to notifications.
    pub(crate) fn has_subscribers(&self) -> bool {
        self.notifications.get().is_some()
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<ServerNotification> {
        self.notifications
            .get_or_init(|| broadcast::channel(self.notification_capacity).0)
            .subscribe()
    }

    pub(crate) fn register(&self, id: RequestId, pending: Pending) {
        self.pending().insert(id, pending);
    }

    /// Forgets a request; returns whether it was still waiting.
    pub(crate) fn unregister(&self, id: RequestId) -> bool {
        self.pending().remove(&id).is_some()
    }

    pub(crate) fn pending_count(&self) -> usize {
        self.pending().len()
    }

    /// Fails every waiting request with `error()` (close, expiry, restart).
    pub(crate) fn fail_all(&self, error: impl Fn() -> Error) {
        let drained: Vec<Pending> = self.pending().drain().map(|(_, p)| p).collect();
        for p in drained {
            let _ = p.tx.send(Err(error()));
        }
    }

    /// Delivers one message from the server, or hands it back when it is a request.
    pub(crate) fn route(&self, message: Incoming) -> Routed {
        match message {
            Incoming::Response {
                id: Some(id),
                outcome,
            } => {
                let pending = self.pending().remove(&id);
                match pending {
                    Some(p) => {
                        let _ = p.tx.send(outcome.map_err(Error::rpc));
                    }
                    None => tracing::debug!(id, "dropped a response to no waiting request"),
                }
                Routed::Done
            }
            Incoming::Response { id: None, outcome } => match outcome {
                Err(error) => Routed::Unattributed(error),
                Ok(_) => {
                    tracing::debug!("dropped a result with an id that is not ours");
                    Routed::Done
                }
            },
            Incoming::Notification { method, params } => {
                if method == "notifications/progress" {
                    self.progress(params);
                } else if let Some(subscribers) = self.notifications.get() {
                    let _ = subscribers.send(ServerNotification { method, params });
                }
                Routed::Done
            }
            Incoming::Request { id, method, params } => Routed::Request { id, method, params },
        }
    }

    fn progress(&self, params: Option<Value>) {
        let Some(params) = params else { return };
        let Some(token) = params.get("progressToken").and_then(Value::as_u64) else {
            return;
        };
        let (callback, last) = match self.pending().get(&token) {
            Some(p) => (p.progress.clone(), p.last_progress.clone()),
            None => return,
        };
        if let Some(last) = last {
            *last.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        }
        if let Some(callback) = callback {
            match serde_json::from_value::<Progress>(params) {
                Ok(p) => callback(p),
                Err(e) => tracing::debug!(error = %e, "ignored a malformed progress notification"),
            }
        }
    }
}
