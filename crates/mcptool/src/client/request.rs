//! One request from start to finish, in the caller's task: POST, read the JSON body or the
//! SSE stream (resuming it if it is cut), route what arrives, and race the deadline, the
//! caller's cancellation and the client's close.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use http::HeaderMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::options::RequestOptions;
use super::shared::{Pending, ReconnectPolicy, Shared};
use crate::error::{Deadline, Error};
use crate::protocol::{Incoming, Own, RequestId, encode_request};
use crate::transport::{GetOutcome, PostResponse, SessionId, SseStream};

type Answer = Result<Box<RawValue>, Error>;

/// A request's result: decoded as the caller's type when it came on the request's own
/// stream, in one pass over the message; raw when it was routed from elsewhere (a JSON body,
/// the standalone stream) or was not of that type.
pub(crate) enum Reply<R> {
    Decoded(R),
    Raw(Box<RawValue>),
}

impl<R: DeserializeOwned> Reply<R> {
    pub(crate) fn decode(self, method: &str) -> Result<R, Error> {
        match self {
            Reply::Decoded(result) => Ok(result),
            Reply::Raw(raw) => serde_json::from_str(raw.get()).map_err(|e| {
                Error::protocol(format!("the server's result for {method} is malformed"))
                    .with_source(e)
            }),
        }
    }
}

/// Removes the pending entry however the request ends; if it ends without an answer (timeout,
/// cancellation, the caller dropping the future), tells the server to stop.
struct PendingGuard<'a> {
    shared: &'a Arc<Shared>,
    id: RequestId,
    cancel_on_drop: bool,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        let was_waiting = self.shared.unregister(self.id);
        if was_waiting && self.cancel_on_drop {
            self.shared
                .send_cancelled(self.id, "request abandoned by the client");
        }
    }
}

impl Shared {
    /// Sends a request and decodes its result, re-initialising once on an expired session
    /// when the policy allows.
    pub(crate) async fn request<R: DeserializeOwned, P: Serialize + ?Sized>(
        self: &Arc<Self>,
        method: &str,
        params: Option<&P>,
        options: &RequestOptions,
    ) -> Result<R, Error> {
        if let Some(dialect) = self.dialect() {
            // Boxed: the other era's path must not enlarge this one's future.
            return Box::pin(self.stateless_request(dialect, method, params, options)).await;
        }
        // Read before sending: a 404 that arrives after another caller already re-initialised
        // must not start a second session.
        let seen = self.phase.generation();
        let (reply, _) = match self
            .request_with_retries(method, params, None, options)
            .await
        {
            Err(e)
                if e.is_session_expired()
                    && !e.was_in_flight()
                    && self.settings.reconnect == ReconnectPolicy::Reinitialize =>
            {
                // Boxed: a rare path that would otherwise enlarge every request's future.
                Box::pin(self.reinitialize(seen)).await?;
                self.request_with_retries(method, params, None, options)
                    .await?
            }
            other => other?,
        };
        reply.decode(method)
    }

    /// Sends a request, repeating it after a refused connection or a 5xx answer when that is
    /// safe: for requests that change nothing (`initialize` among them), or when the caller
    /// opted in. Each attempt has an id of its own. For `initialize`, also returns the session
    /// id the server assigned. `headers` are added to the POST's own.
    pub(crate) async fn request_with_retries<R: DeserializeOwned, P: Serialize + ?Sized>(
        self: &Arc<Self>,
        method: &str,
        params: Option<&P>,
        headers: Option<&HeaderMap>,
        options: &RequestOptions,
    ) -> Result<(Reply<R>, Option<SessionId>), Error> {
        let repeatable = options.retry_unsafe || is_safe_to_repeat(method);
        let mut attempt = 0;
        loop {
            let id = self.next_id();
            let body = encode(id, method, params, options.on_progress.is_some())?;
            match self.exchange(id, method, body, headers, options).await {
                Err(e) if repeatable && attempt < RETRIES && is_transient(&e) => {
                    attempt += 1;
                    tracing::debug!(error = %e, method, attempt, "transient failure; retrying");
                    tokio::time::sleep(jittered(RETRY_BASE, attempt)).await;
                }
                other => return other,
            }
        }
    }

    /// The request engine: sends request `id`, already encoded in `body`. For `initialize`,
    /// also returns the session id the server assigned.
    async fn exchange<R: DeserializeOwned>(
        self: &Arc<Self>,
        id: RequestId,
        method: &str,
        body: Vec<u8>,
        headers: Option<&HeaderMap>,
        options: &RequestOptions,
    ) -> Result<(Reply<R>, Option<SessionId>), Error> {
        if self.phase.is_closed() {
            return Err(Error::closed());
        }
        let initialize = method == "initialize";
        let deadline_kind = if initialize {
            Deadline::Initialize
        } else {
            Deadline::Request
        };
        if !initialize {
            // A re-initialisation under way: wait for the new session rather than send this
            // request with none.
            self.phase.settled().await;
        }
        let (tx, mut rx) = oneshot::channel();
        let pending = Pending::new(
            tx,
            options.on_progress.clone(),
            options.reset_timeout_on_progress,
        );
        let last_progress = pending.last_progress.clone();
        self.register(id, pending);
        let mut guard = PendingGuard {
            shared: self,
            id,
            // Never cancel initialize (the spec forbids it).
            cancel_on_drop: !initialize,
        };
        // `close()` fails every registered request through its channel; one that registered
        // after that must see the flag instead.
        if self.phase.is_closed() {
            guard.cancel_on_drop = false;
            return Err(Error::closed());
        }
        let timeout = options.timeout.unwrap_or(if initialize {
            self.settings.initialize_timeout
        } else {
            self.settings.request_timeout
        });
        let started = Instant::now();
        let span = tracing::debug_span!("mcp.request", method, id);
        let outcome = async {
            tokio::select! {
                biased;
                () = cancelled(options.cancel.as_ref()) => {
                    self.unregister(id);
                    self.send_cancelled(id, "cancelled by the caller");
                    guard.cancel_on_drop = false;
                    Err(Error::cancelled())
                }
                fired = deadline(started, timeout, options, last_progress.as_deref(), deadline_kind) => {
                    if guard.cancel_on_drop {
                        self.unregister(id);
                        self.send_cancelled(id, "timed out");
                        guard.cancel_on_drop = false;
                    }
                    Err(Error::timeout(fired))
                }
                result = self.post_and_read(id, body, headers, &mut rx, initialize) => result,
            }
        }
        .instrument(span)
        .await;
        // Answered or failed, the request is over: nothing to cancel. (An answer read off the
        // request's own stream leaves its entry for the guard to remove.)
        guard.cancel_on_drop = false;
        tracing::debug!(
            elapsed_us = started.elapsed().as_micros() as u64,
            ok = outcome.is_ok(),
            "request finished"
        );
        outcome
    }

    async fn post_and_read<R: DeserializeOwned>(
        self: &Arc<Self>,
        id: RequestId,
        body: Vec<u8>,
        headers: Option<&HeaderMap>,
        rx: &mut oneshot::Receiver<Answer>,
        capture_session: bool,
    ) -> Result<(Reply<R>, Option<SessionId>), Error> {
        let generation = self.phase.generation();
        // The request's channel also ends it: `close()` (and expiry) fail it there, and
        // over HTTP+SSE its answer may come on the event stream first.
        let posted = tokio::select! {
            biased;
            answer = &mut *rx => return received(answer).map(|raw| (Reply::Raw(raw), None)),
            posted = self.transport.post(body, headers, capture_session) => posted,
        };
        let (response, session) = posted.inspect_err(|e| {
            if e.is_session_expired() {
                self.phase.mark_expired(generation);
            }
        })?;
        let answer = match response {
            // A request answered 202: the response will come on the standalone stream.
            PostResponse::Accepted => {
                self.standalone_stream_needed();
                received(rx.await).map(Reply::Raw)
            }
            PostResponse::Json(bytes) => {
                let messages = Incoming::parse_many(&bytes)
                    .map_err(|e| Error::protocol(format!("server sent invalid JSON-RPC: {e}")))?;
                let mut unattributed = None;
                for message in messages {
                    if let Some(error) = self.dispatch(message) {
                        unattributed = Some(error);
                    }
                }
                match rx.try_recv() {
                    Ok(answer) => answer.map(Reply::Raw),
                    // One POST carries one request: a JSON-RPC error with id null (or a
                    // foreign id such as "server-error") is the answer to it.
                    Err(_) => match unattributed {
                        Some(error) => Err(Error::rpc(error)),
                        None => Err(Error::protocol(
                            "server's JSON response did not answer the request",
                        )),
                    },
                }
            }
            PostResponse::Sse(stream) => self.read_stream(id, stream, rx, generation).await,
        };
        answer.map(|reply| (reply, session))
    }

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
    async fn read_stream<R: DeserializeOwned>(
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
                    if let Some(id) = &event.id
                        && attempts > 0
                        && delivered.contains(id)
                    {
                        tracing::debug!(id = &**id, "skipped a replayed event");
                        continue;
                    }
                    let parsed = Incoming::parse_own::<R>(&event.data, id).map_err(|e| {
                        Error::protocol(format!("server sent invalid JSON-RPC on SSE: {e}"))
                    })?;
                    let message = match parsed {
                        Own::Answer(outcome) => {
                            // Ours, unless close() (or another stream) answered first: then
                            // the channel holds that. The entry goes with exchange's guard.
                            let answer = match rx.try_recv() {
                                Ok(earlier) => earlier.map(Reply::Raw),
                                Err(_) => outcome.map(Reply::Decoded).map_err(Error::rpc),
                            };
                            stream.finish(FINISH_GRACE).await;
                            return answer;
                        }
                        Own::Other(message) => message,
                    };
                    if let Some(error) = self.dispatch(message) {
                        stream.finish(FINISH_GRACE).await;
                        return Err(Error::rpc(error));
                    }
                    if let Ok(answer) = rx.try_recv() {
                        stream.finish(FINISH_GRACE).await;
                        return answer.map(Reply::Raw);
                    }
                    // Only the events before the answer can come back in a resumed stream.
                    delivered.extend(event.id);
                }
                Ok(None) if stream.last_event_id().is_some() => {
                    if let Ok(answer) = rx.try_recv() {
                        return answer.map(Reply::Raw);
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
                Ok(None) => {
                    if let Ok(answer) = rx.try_recv() {
                        return answer.map(Reply::Raw);
                    }
                    return Err(Error::network(
                        "response stream ended before the response (and it is not resumable)",
                    ));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// How long a request waits, after its answer, for the server to end the response stream (which
/// it should do at once) so that the connection can be reused rather than closed.
const FINISH_GRACE: Duration = Duration::from_millis(5);

/// The longest wait between two resumption attempts, whatever `retry` and backoff say.
const MAX_RESUME_WAIT: Duration = Duration::from_secs(5);

/// Repeats after a transient failure, at most.
const RETRIES: u32 = 2;
/// The first wait before a repeat; it doubles.
const RETRY_BASE: Duration = Duration::from_millis(100);

/// Requests that change nothing on the server, so repeating them is harmless.
pub(crate) fn is_safe_to_repeat(method: &str) -> bool {
    matches!(
        method,
        "initialize"
            | "ping"
            | "tools/list"
            | "prompts/list"
            | "prompts/get"
            | "resources/list"
            | "resources/templates/list"
            | "resources/read"
            | "completion/complete"
            | "logging/setLevel"
    )
}

/// A refused connection or a server error that may pass: worth one more try.
pub(crate) fn is_transient(error: &Error) -> bool {
    error.is_connect()
        || (error.kind() == crate::ErrorKind::HttpStatus
            && error.status().is_some_and(|s| (500..600).contains(&s)))
}

/// A broken connection or a silent stream may be resumed; a protocol violation may not.
fn is_resumable(error: &Error) -> bool {
    error.kind() == crate::ErrorKind::Network || error.deadline() == Some(Deadline::SseIdle)
}

/// Encodes request `id`. When the caller wants progress, `_meta.progressToken` is added to
/// the params.
pub(crate) fn encode<P: Serialize + ?Sized>(
    id: RequestId,
    method: &str,
    params: Option<&P>,
    wants_progress: bool,
) -> Result<Vec<u8>, Error> {
    let failed = |e| Error::config("cannot encode the request").with_source(e);
    if !wants_progress {
        return encode_request(id, method, params).map_err(failed);
    }
    let mut owned = match params {
        Some(params) => serde_json::to_value(params).map_err(failed)?,
        None => Value::Object(Default::default()),
    };
    if let Value::Object(map) = &mut owned {
        let meta = map
            .entry("_meta")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Value::Object(meta) = meta {
            meta.insert("progressToken".into(), Value::from(id));
        }
    }
    encode_request(id, method, Some(&owned)).map_err(failed)
}

/// What a request's channel delivered: its answer, or `closed` when the client dropped the
/// sender (close, shutdown).
fn received(answer: Result<Answer, oneshot::error::RecvError>) -> Answer {
    answer.unwrap_or_else(|_| Err(Error::closed()))
}

async fn cancelled(token: Option<&CancellationToken>) {
    match token {
        Some(t) => t.cancelled().await,
        None => std::future::pending().await,
    }
}

/// Resolves when the request's deadline passes, saying which one. Progress may push the
/// deadline out, never past the hard maximum.
async fn deadline(
    started: Instant,
    timeout: Duration,
    options: &RequestOptions,
    last_progress: Option<&Mutex<Option<Instant>>>,
    kind: Deadline,
) -> Deadline {
    let hard = options.max_total.map(|m| started + m);
    let mut due = started + timeout;
    loop {
        let target = hard.map_or(due, |h| h.min(due));
        tokio::time::sleep_until(target.into()).await;
        let now = Instant::now();
        if hard.is_some_and(|h| now >= h) {
            return Deadline::MaxTotal;
        }
        if let Some(last_progress) = last_progress {
            let last = *last_progress.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(last) = last.filter(|l| *l + timeout > now) {
                due = last + timeout;
                continue;
            }
        }
        return kind;
    }
}

/// The wait before resumption attempt `attempt`: the server's `retry`, doubled per attempt,
/// with up to 25% jitter.
pub(crate) fn jittered(base: Duration, attempt: u32) -> Duration {
    let scaled = base.saturating_mul(1 << attempt.saturating_sub(1).min(5));
    let jitter = rand::random_range(0.0..0.25);
    scaled.mul_f64(1.0 + jitter)
}
