//! Reading a request's own SSE stream until its answer arrives (on it or on another stream),
//! resuming it with GET + `Last-Event-ID` when the server ends it early, and never delivering
//! a replayed event twice.

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use super::exchange::{Answer, Reply, received};
use super::retry::{MAX_RESUME_WAIT, is_resumable, jittered};
use super::shared::Shared;
use crate::error::Error;
use crate::protocol::{Incoming, Own, RequestId};
use crate::transport::{GetOutcome, SseStream};

impl Shared {
    /// Waits the server's `retry` (backing off per attempt) and reopens the stream with
    /// GET + `Last-Event-ID`. `cause` is why the stream ended; it is returned when the
    /// attempts run out.
    async fn resume(
        &self,
        stream: Box<SseStream>,
        attempts: &mut u32,
        generation: u64,
        cause: Error,
    ) -> Result<Box<SseStream>, Error> {
        loop {
            *attempts += 1;
            if *attempts > self.settings.resume_attempts {
                if cause.is_timeout() {
                    return Err(cause);
                }
                return Err(Error::network(format!(
                    "response stream ended early and {} resumption attempts failed",
                    self.settings.resume_attempts
                ))
                .with_source(cause)
                .lost_in_flight());
            }
            let wait = stream.retry().unwrap_or(self.settings.default_retry);
            tokio::time::sleep(jittered(wait, *attempts).min(MAX_RESUME_WAIT)).await;
            let last = stream.last_event_id().map(str::to_owned);
            match self.transport.get(last.as_deref()).await {
                Ok(GetOutcome::Stream(next)) => return Ok(next),
                Ok(GetOutcome::NotAllowed | GetOutcome::Conflict) => {
                    return Err(Error::network(
                        "response stream ended early and the server refused to resume it",
                    )
                    .lost_in_flight());
                }
                Err(e) if e.is_session_expired() => {
                    self.phase.mark_expired(generation);
                    return Err(e.lost_in_flight());
                }
                // Nobody listens any more (a restart, a crash): waiting out the attempts would
                // only delay the caller.
                Err(e) if e.is_connect() => {
                    return Err(
                        Error::network("server went away while the request was in flight")
                            .with_source(e)
                            .lost_in_flight(),
                    );
                }
                Err(e) if e.is_closed() => return Err(e),
                Err(e) => {
                    tracing::debug!(error = %e, attempts = *attempts, "resumption failed");
                }
            }
        }
    }

    /// Reads a request's SSE stream until its answer has arrived (on this stream or another),
    /// resuming with GET + `Last-Event-ID` when the server ends it early.
    pub(crate) async fn read_stream<R: DeserializeOwned>(
        self: &Arc<Self>,
        id: RequestId,
        mut stream: Box<SseStream>,
        rx: &mut oneshot::Receiver<Answer>,
        generation: u64,
    ) -> Result<Reply<R>, Error> {
        let mut attempts = 0;
        let mut delivered: Vec<Arc<str>> = Vec::new();
        loop {
            let event = tokio::select! {
                biased;
                answer = &mut *rx => return received(answer).map(Reply::Raw),
                event = stream.next_event() => event,
            };
            match event {
                Ok(Some(event)) => {
                    // A resumed stream replays after our last id; a server that replays more
                    // must not make us deliver a progress notification or result twice.
                    if attempts > 0 && event.id.as_ref().is_some_and(|i| delivered.contains(i)) {
                        tracing::debug!(id = event.id.as_deref(), "skipped a replayed event");
                        continue;
                    }
                    if let Some(answer) = self.on_event(id, &event.data, rx) {
                        stream.finish(FINISH_GRACE).await;
                        return answer;
                    }
                    // Only the events before the answer can come back in a resumed stream.
                    delivered.extend(event.id);
                }
                Ok(None) => {
                    if let Ok(answer) = rx.try_recv() {
                        return answer.map(Reply::Raw);
                    }
                    if stream.last_event_id().is_none() {
                        return Err(Error::network(
                            "response stream ended before the response (and it is not resumable)",
                        ));
                    }
                    let cause = Error::network("response stream ended before the response");
                    stream = tokio::select! {
                        biased;
                        answer = &mut *rx => return received(answer).map(Reply::Raw),
                        // Boxed, as a rare path: it keeps the request's future small.
                        next = Box::pin(self.resume(stream, &mut attempts, generation, cause)) => next?,
                    };
                }
                Err(e) if is_resumable(&e) && stream.last_event_id().is_some() => {
                    tracing::debug!(error = %e, "response stream broke; resuming");
                    stream = tokio::select! {
                        biased;
                        answer = &mut *rx => return received(answer).map(Reply::Raw),
                        next = Box::pin(self.resume(stream, &mut attempts, generation, e)) => next?,
                    };
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Handles one event of a request's stream: its answer (or one another stream already
    /// delivered, or an error naming no request) ends the read; anything else is routed.
    fn on_event<R: DeserializeOwned>(
        self: &Arc<Self>,
        id: RequestId,
        data: &str,
        rx: &mut oneshot::Receiver<Answer>,
    ) -> Option<Result<Reply<R>, Error>> {
        let parsed = match Incoming::parse_own::<R>(data, id) {
            Ok(parsed) => parsed,
            Err(e) => {
                return Some(Err(Error::protocol(format!(
                    "server sent invalid JSON-RPC on SSE: {e}"
                ))));
            }
        };
        let message = match parsed {
            // Ours, unless close() (or another stream) answered first: then the channel holds
            // that. The entry goes with exchange's guard.
            Own::Answer(outcome) => {
                return Some(match rx.try_recv() {
                    Ok(earlier) => earlier.map(Reply::Raw),
                    Err(_) => outcome.map(Reply::Decoded).map_err(Error::rpc),
                });
            }
            Own::Other(message) => message,
        };
        if let Some(error) = self.dispatch(message) {
            return Some(Err(Error::rpc(error)));
        }
        rx.try_recv().ok().map(|answer| answer.map(Reply::Raw))
    }
}

/// How long a request waits, after its answer, for the server to end the response stream (which
/// it should do at once) so that the connection can be reused rather than closed.
const FINISH_GRACE: Duration = Duration::from_millis(5);
