//! The state one client shares with its background tasks, and the routing of every message
//! the server sends, whichever stream it arrives on.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::era::{EraCache, ProtocolEra};
use super::handlers::{Answering, Handlers};
use super::phase::Phase;
use super::router::{Routed, Router};
use super::stateless::Stateless;
use crate::error::Error;
use crate::protocol::{
    Incoming, InitializeResult, RequestId, RpcError, encode_notification, encode_response,
};
use crate::transport::HttpTransport;

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

pub(crate) struct Shared {
    pub(crate) transport: HttpTransport,
    /// The stateless dialect, when the client may speak 2026-07-28 (whether it does is the
    /// phase's to say).
    stateless: Option<Stateless>,
    pub(crate) settings: Settings,
    pub(crate) handlers: Handlers,
    /// Whether a handler is answering the server right now (it pushes deadlines out).
    pub(crate) answering: Arc<Answering>,
    pub(crate) client_info: Value,
    pub(crate) offered_version: crate::protocol::ProtocolVersion,
    /// Requests waiting for their answers, and the subscribers to notifications.
    pub(crate) router: Router,
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
        answering: Arc<Answering>,
    ) -> Shared {
        let stateless = (settings.era != ProtocolEra::Session)
            .then(|| Stateless::new(&handlers, &client_info, !transport.credentials_may_change()));
        Shared {
            transport,
            stateless,
            phase: Phase::new(settings.era == ProtocolEra::Stateless),
            settings,
            handlers,
            answering,
            client_info,
            offered_version,
            router: Router::new(notification_capacity),
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
            server: Mutex::new(None),
            stream_stop: Mutex::new(None),
        }
    }

    /// Routes one message from the server: answers and notifications through the router,
    /// server requests to our handlers (in a task of the client's). Returns a JSON-RPC error
    /// that names no request of ours (id `null` or foreign), for the caller to attribute.
    pub(crate) fn dispatch(self: &Arc<Self>, message: Incoming) -> Option<RpcError> {
        match self.router.route(message) {
            Routed::Done => None,
            Routed::Unattributed(error) => Some(error),
            Routed::Request { id, method, params } => {
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

    async fn answer(self: Arc<Self>, id: Value, method: String, params: Option<Value>) {
        // Elicitation and sampling wait on a person or a model: that time is ours, not the
        // server's (see `Answering`). Pings and roots answer at once.
        let waits_on_us = matches!(
            method.as_str(),
            "elicitation/create" | "sampling/createMessage"
        );
        let answer = {
            let _busy = waits_on_us.then(|| self.answering.enter());
            self.handlers.answer(&method, params).await
        };
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

    /// Sends a notification and waits for the server to accept it. In 2026-07-28 it carries
    /// the era's `_meta` and routing headers like a request (a server tells the eras apart by
    /// them, and without them refuses it as a session-era message with no session).
    pub(crate) async fn notify(&self, method: &str, params: Option<&Value>) -> Result<(), Error> {
        let encoded = match self.dialect() {
            Some(dialect) => {
                let empty = serde_json::Map::new();
                let params = match params {
                    Some(Value::Object(map)) => map,
                    Some(_) => return Err(Error::config("notification params must be an object")),
                    None => &empty,
                };
                let headers = dialect.headers(method, params);
                encode_notification(method, Some(&dialect.params_with_meta(params)))
                    .map(|body| (body, Some(headers)))
            }
            None => encode_notification(method, params).map(|body| (body, None)),
        };
        let (body, headers) =
            encoded.map_err(|e| Error::config("cannot encode notification").with_source(e))?;
        self.transport
            .post(body, headers.as_ref(), false)
            .await
            .map(|_| ())
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
        self.router.fail_all(Error::closed);
        self.transport.release();
    }
}
