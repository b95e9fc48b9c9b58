//! One attempt of one request, in the caller's task: register it with the router, POST it,
//! read the JSON body or hand the SSE stream to `reply_stream.rs`, and race the deadline, the
//! caller's cancellation and the client's close.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use http::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::handlers::{Answering, MAX_ANSWER_ALLOWANCE};
use super::options::RequestOptions;
use super::router::Pending;
use super::shared::Shared;
use crate::error::{Deadline, Error};
use crate::protocol::{Incoming, RequestId};
use crate::transport::{PostResponse, SessionId};

pub(crate) type Answer = Result<Box<RawValue>, Error>;

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
        let was_waiting = self.shared.router.unregister(self.id);
        if was_waiting && self.cancel_on_drop {
            self.shared
                .send_cancelled(self.id, "request abandoned by the client");
        }
    }
}

impl Shared {
    /// The request engine: sends request `id`, already encoded in `body`. For `initialize`,
    /// also returns the session id the server assigned.
    pub(crate) async fn exchange<R: DeserializeOwned>(
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
        let (timeout, deadline_kind) = self.deadline_of(initialize, options);
        if !initialize {
            // A re-initialisation under way: wait for the new session rather than send this
            // request with none.
            self.phase.settled().await;
        }
        let (mut rx, mut guard, last_progress) = self.enter(id, initialize, options)?;
        let started = Instant::now();
        let span = tracing::debug_span!("mcp.request", method, id);
        let outcome = async {
            tokio::select! {
                biased;
                () = cancelled(options.cancel.as_ref()) => {
                    self.router.unregister(id);
                    self.send_cancelled(id, "cancelled by the caller");
                    guard.cancel_on_drop = false;
                    Err(Error::cancelled())
                }
                fired = deadline(started, timeout, options, last_progress.as_deref(), &self.answering, deadline_kind) => {
                    if guard.cancel_on_drop {
                        self.router.unregister(id);
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
        let elapsed_us = started.elapsed().as_micros() as u64;
        tracing::debug!(elapsed_us, ok = outcome.is_ok(), "request finished");
        outcome
    }

    /// Registers request `id` with the router; the guard removes it however the request ends.
    #[allow(
        clippy::type_complexity,
        reason = "three parts of one registration, used once"
    )]
    fn enter<'a>(
        self: &'a Arc<Self>,
        id: RequestId,
        initialize: bool,
        options: &RequestOptions,
    ) -> Result<
        (
            oneshot::Receiver<Answer>,
            PendingGuard<'a>,
            Option<Arc<Mutex<Option<Instant>>>>,
        ),
        Error,
    > {
        let (tx, rx) = oneshot::channel();
        let pending = Pending::new(
            tx,
            options.on_progress.clone(),
            options.reset_timeout_on_progress,
        );
        let last_progress = pending.last_progress.clone();
        self.router.register(id, pending);
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
        Ok((rx, guard, last_progress))
    }

    /// How long a request may take, and the deadline it then misses: the caller's timeout,
    /// else the client's for `initialize` or for any other request.
    fn deadline_of(&self, initialize: bool, options: &RequestOptions) -> (Duration, Deadline) {
        let (default, kind) = if initialize {
            (self.settings.initialize_timeout, Deadline::Initialize)
        } else {
            (self.settings.request_timeout, Deadline::Request)
        };
        (options.timeout.unwrap_or(default), kind)
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
}

/// What a request's channel delivered: its answer, or `closed` when the client dropped the
/// sender (close, shutdown).
pub(crate) fn received(answer: Result<Answer, oneshot::error::RecvError>) -> Answer {
    answer.unwrap_or_else(|_| Err(Error::closed()))
}

async fn cancelled(token: Option<&CancellationToken>) {
    match token {
        Some(t) => t.cancelled().await,
        None => std::future::pending().await,
    }
}

/// Resolves when the request's deadline passes, saying which one. Progress, and the time our
/// own handlers spend answering the server, may push the deadline out, never past the hard
/// maximum.
async fn deadline(
    started: Instant,
    timeout: Duration,
    options: &RequestOptions,
    last_progress: Option<&Mutex<Option<Instant>>>,
    answering: &Answering,
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
        let allowance = started + timeout + MAX_ANSWER_ALLOWANCE;
        if let Some(pushed) = answering.pushes(now, timeout).filter(|_| now < allowance) {
            due = pushed.min(allowance);
            continue;
        }
        return kind;
    }
}
