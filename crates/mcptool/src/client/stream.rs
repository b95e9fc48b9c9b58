//! The standalone GET stream: server-initiated messages for the whole session.
//!
//! At most one per session. 405 means the server offers none; 409 means one is already open
//! (for this session id, by someone) — we warn once and never retry, which is exactly the loop
//! that earns clients elsewhere a stream of 409s. Other failures back off, boundedly.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::retry::jittered;
use super::shared::{Shared, StandaloneStream};
use crate::protocol::Incoming;
use crate::transport::{GetOutcome, SseStream};

/// Failed or empty connection attempts in a row before we give up on the stream.
const MAX_FAILURES: u32 = 5;

impl Shared {
    /// Whether the stream should be open now: always, never, or once something could
    /// receive what it carries.
    fn wants_standalone_stream(&self) -> bool {
        match self.settings.standalone_stream {
            StandaloneStream::Always => true,
            StandaloneStream::Never => false,
            // In 2026-07-28 handlers answer input_required results: they need no stream.
            StandaloneStream::WhenNeeded => {
                self.router.has_subscribers() || (self.dialect().is_none() && self.handlers.any())
            }
        }
    }

    /// Starts the standalone stream task for a new session (after `initialize`), replacing
    /// any earlier one, if the stream is wanted.
    pub(crate) fn start_standalone_stream(self: &Arc<Self>) {
        if self.wants_standalone_stream() {
            self.spawn_standalone_stream(true);
        }
    }

    /// Something now needs the stream (a subscriber, a request answered with 202): starts it
    /// for the current session unless it was started already or the session is not up. A
    /// stream that ended for good (405, 409, failures) is not started again.
    pub(crate) fn standalone_stream_needed(self: &Arc<Self>) {
        if self.settings.standalone_stream == StandaloneStream::WhenNeeded && self.phase.is_live() {
            self.spawn_standalone_stream(false);
        }
    }

    fn spawn_standalone_stream(self: &Arc<Self>, replace: bool) {
        // HTTP+SSE has its event stream.
        if self.transport.is_legacy() {
            return;
        }
        let stop = {
            let mut current = self
                .stream_stop
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if current.is_some() && !replace {
                return;
            }
            let stop = self.cancel.child_token();
            if let Some(previous) = current.replace(stop.clone()) {
                previous.cancel();
            }
            stop
        };
        let shared = Arc::clone(self);
        if self.dialect().is_some() {
            // 2026-07-28 has no GET stream: notifications come on a listen stream.
            self.tracker
                .spawn(async move { shared.run_listen_stream(stop).await });
        } else {
            self.tracker
                .spawn(async move { shared.run_standalone_stream(stop).await });
        }
    }

    /// Reads the legacy HTTP+SSE stream, which carries every answer. It cannot be resumed:
    /// when it ends, the session is gone and every waiting request fails at once.
    pub(crate) fn start_legacy_stream(self: &Arc<Self>, mut stream: SseStream) {
        let shared = Arc::clone(self);
        let stop = self.cancel.clone();
        self.tracker.spawn(async move {
            if shared.pump(&mut stream, &stop, "legacy").await.is_none() {
                return;
            }
            tracing::warn!("legacy HTTP+SSE stream ended; the session is gone");
            shared.phase.mark_expired(shared.phase.generation());
            shared.router.fail_all(|| {
                crate::error::Error::network("legacy HTTP+SSE stream ended; the session is gone")
                    .lost_in_flight()
            });
        });
    }

    pub(crate) fn stop_standalone_stream(&self) {
        if let Some(stop) = self
            .stream_stop
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            stop.cancel();
        }
    }

    async fn run_standalone_stream(self: Arc<Self>, stop: CancellationToken) {
        let generation = self.phase.generation();
        let mut failures = 0u32;
        let mut last_id: Option<String> = None;
        loop {
            let opened = tokio::select! {
                () = stop.cancelled() => return,
                opened = self.transport.get(last_id.as_deref()) => opened,
            };
            let wait = match opened {
                Ok(GetOutcome::NotAllowed) => {
                    tracing::debug!("server offers no standalone stream (405)");
                    return;
                }
                Ok(GetOutcome::Conflict) => {
                    tracing::warn!(
                        "server refused the standalone stream with 409: another stream is open \
                         for this session; not retrying"
                    );
                    return;
                }
                Ok(GetOutcome::Stream(mut stream)) => {
                    let Some(received) = self.pump(&mut stream, &stop, "standalone").await else {
                        return;
                    };
                    last_id = stream.last_event_id().map(str::to_owned);
                    failures = if received { 0 } else { failures + 1 };
                    stream.retry().unwrap_or(self.settings.default_retry)
                }
                Err(e) if e.is_session_expired() => {
                    self.phase.mark_expired(generation);
                    return;
                }
                Err(e) if e.is_closed() => return,
                Err(e) => {
                    failures += 1;
                    tracing::debug!(error = %e, failures, "standalone stream failed to open");
                    Duration::from_millis(200)
                }
            };
            if failures >= MAX_FAILURES {
                tracing::warn!(failures, "giving up on the standalone stream");
                return;
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(jittered(wait, failures.max(1))) => {}
            }
        }
    }

    /// The one pump of the streams that belong to no request (the standalone GET, the legacy
    /// HTTP+SSE stream): every message event routed until the stream ends or breaks. Events
    /// of another type (a legacy `endpoint`) carry no message. Returns whether any event
    /// arrived, or `None` when `stop` fired.
    async fn pump(
        self: &Arc<Self>,
        stream: &mut SseStream,
        stop: &CancellationToken,
        which: &'static str,
    ) -> Option<bool> {
        let mut received = false;
        loop {
            let event = tokio::select! {
                () = stop.cancelled() => return None,
                event = stream.next_event() => event,
            };
            let event = match event {
                Ok(Some(event)) => event,
                Ok(None) => return Some(received),
                Err(e) => {
                    tracing::debug!(error = %e, stream = which, "stream broke");
                    return Some(received);
                }
            };
            received = true;
            if event.event.as_deref().is_some_and(|kind| kind != "message") {
                continue;
            }
            match Incoming::parse_text(&event.data) {
                Ok(message) => {
                    if let Some(error) = self.dispatch(message) {
                        tracing::debug!(code = error.code, stream = which, "unattributed error");
                    }
                }
                Err(e) => tracing::warn!(error = %e, stream = which, "ignored an invalid message"),
            }
        }
    }
}
