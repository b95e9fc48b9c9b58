//! The state one client shares with its background tasks, and the routing of every message
//! the server sends, whichever stream it arrives on.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::{broadcast, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::era::{EraCache, ProtocolEra};
use super::handlers::Handlers;
use super::options::{Progress, ProgressFn};
use super::phase::Phase;
use super::stateless::Stateless;
use crate::error::Error;
use crate::protocol::{
    Incoming, InitializeResult, RequestId, RpcError, encode_notification, encode_response,
};
use crate::transport::HttpTransport;

/// A notification the server sent that is not about one request (list changes, log messages,
/// resource updates...).
#[derive(Clone, Debug, PartialEq)]
pub struct ServerNotification {
    /// The notification's method, e.g. `notifications/tools/list_changed`.
    pub method: String,
    /// Its params, as sent.
    pub params: Option<Value>,
}

/// What happens when the server says our session is gone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReconnectPolicy {
    /// Fail with a session-expired error; never open a new session (strict isolation).
    #[default]
    Fail,
    /// Start a new session with `initialize` and retry the request once. Concurrent callers
    /// share one re-initialisation.
    Reinitialize,
}

/// When a client opens the standalone GET stream, on which the server sends messages that
/// belong to no request: notifications such as list changes and log messages, and its own
/// requests (sampling, elicitation, roots, ping).
///
/// `true` converts to [`Always`](StandaloneStream::Always), `false` to
/// [`Never`](StandaloneStream::Never).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StandaloneStream {
    /// Open it once something could receive what it carries: a subscriber to
    /// [`Client::notifications`](crate::Client::notifications) (before or after `initialize`),
    /// a handler for server requests, or a request the server answered with 202 (its answer
    /// can only come on that stream). A client that only calls tools keeps one connection
    /// per caller and never meets the server's one-stream-per-session rule.
    #[default]
    WhenNeeded,
    /// Open it right after `initialize`.
    Always,
    /// Never open it.
    Never,
}

impl From<bool> for StandaloneStream {
    fn from(enabled: bool) -> StandaloneStream {
        if enabled {
            StandaloneStream::Always
        } else {
            StandaloneStream::Never
        }
    }
}

/// Whether to fall back to the legacy HTTP+SSE transport (protocol 2024-11-05) when a server
/// refuses the `initialize` POST with 400, 404 or 405.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LegacyFallback {
    /// Try HTTP+SSE when Streamable HTTP is refused.
    #[default]
    Auto,
    /// Speak Streamable HTTP only.
    Never,
}

/// Timeouts and limits of one client.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) request_timeout: Duration,
    pub(crate) initialize_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) standalone_stream: StandaloneStream,
    pub(crate) terminate_on_close: bool,
    pub(crate) reconnect: ReconnectPolicy,
    pub(crate) resume_attempts: u32,
    pub(crate) legacy_fallback: LegacyFallback,
    pub(crate) default_retry: Duration,
    pub(crate) era: ProtocolEra,
    pub(crate) era_cache: Option<EraCache>,
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

pub(crate) struct Shared {
    pub(crate) transport: HttpTransport,
    /// The stateless dialect, when the client may speak 2026-07-28 (whether it does is the
    /// phase's to say).
    stateless: Option<Stateless>,
    pub(crate) settings: Settings,
    pub(crate) handlers: Handlers,
    pub(crate) client_info: Value,
    pub(crate) offered_version: crate::protocol::ProtocolVersion,
    pending: Mutex<HashMap<RequestId, Pending, BuildHasherDefault<IdHasher>>>,
    next_id: AtomicU64,
    /// Made on the first subscription: a broadcast channel preallocates every slot, and most
    /// sessions never subscribe (notifications with no subscriber are dropped either way).
    notifications: std::sync::OnceLock<broadcast::Sender<ServerNotification>>,
    notification_capacity: usize,
    /// Cancelled at close or drop: stops every background task (requests in flight end through
    /// their channels, which `fail_all` answers with a closed error).
    pub(crate) cancel: CancellationToken,
    pub(crate) tracker: TaskTracker,
    /// Where the client is in its life (open, expired, closed) and which era it speaks.
    pub(crate) phase: Phase,
    pub(crate) server: Mutex<Option<Arc<InitializeResult>>>,
    pub(crate) stream_stop: Mutex<Option<CancellationToken>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("url", &self.transport.url().as_str())
            .field("session", &self.transport.session_id())
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// The stateless dialect, when the client speaks 2026-07-28: the one seam between eras.
    pub(crate) fn dialect(&self) -> Option<&Stateless> {
        self.stateless
            .as_ref()
            .filter(|_| self.phase.is_stateless())
    }

    /// The stateless dialect to probe with, when the era is automatic (or pinned).
    pub(crate) fn probe_dialect(&self) -> Option<&Stateless> {
        self.stateless.as_ref()
    }

    pub(crate) fn new(
        transport: HttpTransport,
        settings: Settings,
        handlers: Handlers,
        client_info: Value,
        offered_version: crate::protocol::ProtocolVersion,
        notification_capacity: usize,
    ) -> Shared {
        let stateless = (settings.era != ProtocolEra::Session)
            .then(|| Stateless::new(&handlers, &client_info, !transport.has_header_provider()));
        Shared {
            transport,
            stateless,
            phase: Phase::new(settings.era == ProtocolEra::Stateless),
            settings,
            handlers,
            client_info,
            offered_version,
            pending: Mutex::new(HashMap::default()),
            next_id: AtomicU64::new(0),
            notifications: std::sync::OnceLock::new(),
            notification_capacity: notification_capacity.max(1),
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
            server: Mutex::new(None),
            stream_stop: Mutex::new(None),
        }
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
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, pending);
    }

    /// Forgets a request; returns whether it was still waiting.
    pub(crate) fn unregister(&self, id: RequestId) -> bool {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id)
            .is_some()
    }

    pub(crate) fn pending_count(&self) -> usize {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Fails every waiting request with `error()` (close, expiry, restart).
    pub(crate) fn fail_all(&self, error: impl Fn() -> Error) {
        let drained: Vec<Pending> = self
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .map(|(_, p)| p)
            .collect();
        for p in drained {
            let _ = p.tx.send(Err(error()));
        }
    }

    /// Routes one message from the server. Returns a JSON-RPC error that names no request of
    /// ours (id `null` or foreign), for the caller to attribute when it can.
    pub(crate) fn dispatch(self: &Arc<Self>, message: Incoming) -> Option<RpcError> {
        match message {
            Incoming::Response {
                id: Some(id),
                outcome,
            } => {
                let pending = self
                    .pending
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&id);
                match pending {
                    Some(p) => {
                        let _ = p.tx.send(outcome.map_err(Error::rpc));
                    }
                    None => tracing::debug!(id, "dropped a response to no waiting request"),
                }
                None
            }
            Incoming::Response { id: None, outcome } => match outcome {
                Err(error) => Some(error),
                Ok(_) => {
                    tracing::debug!("dropped a result with an id that is not ours");
                    None
                }
            },
            Incoming::Notification { method, params } => {
                if method == "notifications/progress" {
                    self.progress(params);
                } else {
                    if let Some(subscribers) = self.notifications.get() {
                        let _ = subscribers.send(ServerNotification { method, params });
                    }
                }
                None
            }
            Incoming::Request { id, method, params } => {
                let shared = Arc::clone(self);
                self.tracker.spawn(async move {
                    let cancel = shared.cancel.clone();
                    tokio::select! {
                        () = cancel.cancelled() => {}
                        () = shared.answer(id, method, params) => {}
                    }
                });
                None
            }
        }
    }

    fn progress(&self, params: Option<Value>) {
        let Some(params) = params else { return };
        let Some(token) = params.get("progressToken").and_then(Value::as_u64) else {
            return;
        };
        let (callback, last) = {
            let pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            match pending.get(&token) {
                Some(p) => (p.progress.clone(), p.last_progress.clone()),
                None => return,
            }
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

    async fn answer(self: Arc<Self>, id: Value, method: String, params: Option<Value>) {
        let answer = self.handlers.answer(&method, params).await;
        let body = match encode_response(&id, answer.as_ref()) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, method, "could not encode our answer");
                return;
            }
        };
        if let Err(e) = self.transport.post(body, None, false).await {
            tracing::warn!(error = %e, method, "could not deliver our answer to a server request");
        }
    }

    /// Sends a notification and waits for the server to accept it.
    pub(crate) async fn notify(&self, method: &str, params: Option<&Value>) -> Result<(), Error> {
        let body = encode_notification(method, params)
            .map_err(|e| Error::config("cannot encode notification").with_source(e))?;
        self.transport.post(body, None, false).await.map(|_| ())
    }

    /// Tells the server to stop working on `id`, in the background (the caller has moved on).
    pub(crate) fn send_cancelled(self: &Arc<Self>, id: RequestId, reason: &'static str) {
        // In 2026-07-28 the request's closed stream is the cancellation: nothing to send.
        if self.cancel.is_cancelled() || self.dialect().is_some() {
            return;
        }
        let shared = Arc::clone(self);
        self.tracker.spawn(async move {
            let params = serde_json::json!({"requestId": id, "reason": reason});
            let send = shared.notify("notifications/cancelled", Some(&params));
            match tokio::time::timeout(shared.settings.close_timeout, send).await {
                Ok(Err(e)) => tracing::debug!(error = %e, "notifications/cancelled not delivered"),
                Err(_) => tracing::debug!("notifications/cancelled timed out"),
                Ok(Ok(())) => {}
            }
        });
    }

    /// Stops everything without waiting: the path of `Drop`.
    pub(crate) fn shutdown_now(&self) {
        self.phase.close();
        self.cancel.cancel();
        self.fail_all(Error::closed);
        self.transport.release();
    }
}
