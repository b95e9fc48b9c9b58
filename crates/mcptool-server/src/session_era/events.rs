//! SSE streams and the per-session event store that makes them resumable.
//!
//! Every SSE stream of a session (one per POSTed request, one per standalone GET) is a
//! [`StreamLog`]: producers append events, and any number of readers (the original HTTP response,
//! later a GET with `Last-Event-ID`) follow it with their own cursor. Event ids are
//! `<stream-number>-<seq>`, so an id names the one stream it belongs to.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Events kept per stream.
const MAX_EVENTS_PER_STREAM: usize = 1024;
/// Bytes kept per stream (the newest event is always kept).
const MAX_BYTES_PER_STREAM: usize = 4 * 1024 * 1024;
/// Streams kept per session.
const MAX_STREAMS_PER_SESSION: usize = 64;
/// Interval of `: keepalive` comments on standalone GET streams.
const KEEPALIVE: Duration = Duration::from_secs(15);
/// How long a `close` fault waits after the last chunk before dropping the connection.
pub(crate) const FAULT_FLUSH: Duration = Duration::from_millis(20);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One SSE stream's events, in order; bounded.
#[derive(Debug)]
pub(crate) struct StreamLog {
    pub(crate) number: u64,
    /// Whether this is a standalone GET stream (never carries responses, never completes).
    pub(crate) standalone: bool,
    inner: Mutex<LogInner>,
    changed: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct LogInner {
    events: VecDeque<(u64, Bytes)>,
    /// Bytes held in `events`.
    bytes: usize,
    next_seq: u64,
    closed: bool,
}

impl StreamLog {
    fn new(number: u64, standalone: bool) -> Self {
        Self {
            number,
            standalone,
            inner: Mutex::default(),
            changed: watch::Sender::new(0),
        }
    }

    /// Appends the event `render` makes from its id; with `last`, the stream is complete
    /// after it, in the same step, so a reader sees the event and the end together.
    fn append(&self, last: bool, render: impl FnOnce(&str) -> Vec<u8>) -> bool {
        let mut inner = lock(&self.inner);
        if inner.closed {
            return false;
        }
        inner.closed = last;
        let seq = inner.next_seq;
        inner.next_seq += 1;
        let id = format!("{}-{seq}", self.number);
        let event = Bytes::from(render(&id));
        inner.bytes += event.len();
        inner.events.push_back((seq, event));
        // Keep the newest event whatever its size; drop the oldest beyond either bound.
        while inner.events.len() > 1
            && (inner.events.len() > MAX_EVENTS_PER_STREAM || inner.bytes > MAX_BYTES_PER_STREAM)
        {
            if let Some((_, old)) = inner.events.pop_front() {
                inner.bytes -= old.len();
            }
        }
        drop(inner);
        self.changed.send_modify(|v| *v += 1);
        true
    }

    /// Appends the priming event: an id, the `retry` value and empty data.
    pub(crate) fn prime(&self, retry_ms: u64) {
        self.append(false, |id| {
            format!("id: {id}\nretry: {retry_ms}\ndata: \n\n").into_bytes()
        });
    }

    /// Appends one JSON-RPC message; false when the stream is already complete.
    pub(crate) fn push(&self, message: &Value) -> bool {
        self.append(false, |id| message_event(id, message))
    }

    /// Appends the stream's last message and completes the stream.
    pub(crate) fn push_last(&self, message: &Value) -> bool {
        self.append(true, |id| message_event(id, message))
    }

    /// Marks the stream complete: readers end after its last event.
    pub(crate) fn close(&self) {
        lock(&self.inner).closed = true;
        self.changed.send_modify(|v| *v += 1);
    }

    /// The first event at or after `seq`, or whether the stream is complete.
    fn next_from(&self, seq: u64) -> Result<(u64, Bytes), bool> {
        let inner = lock(&self.inner);
        match inner.events.iter().find(|(s, _)| *s >= seq) {
            Some((s, bytes)) => Ok((*s, bytes.clone())),
            None => Err(inner.closed),
        }
    }
}

/// The SSE event of one message: `id`, `event: message` and the JSON (compact, so on one line).
fn message_event(id: &str, message: &Value) -> Vec<u8> {
    let mut event = Vec::with_capacity(256);
    event.extend_from_slice(b"id: ");
    event.extend_from_slice(id.as_bytes());
    event.extend_from_slice(b"\nevent: message\ndata: ");
    // Writing a `Value` into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut event, message);
    event.extend_from_slice(b"\n\n");
    event
}

/// The streams of one session, newest last; bounded.
#[derive(Debug, Default)]
pub(crate) struct EventStore {
    next_stream: u64,
    streams: VecDeque<Arc<StreamLog>>,
}

impl EventStore {
    /// Opens a new stream.
    pub(crate) fn open(&mut self, standalone: bool) -> Arc<StreamLog> {
        self.next_stream += 1;
        let log = Arc::new(StreamLog::new(self.next_stream, standalone));
        if self.streams.len() == MAX_STREAMS_PER_SESSION {
            // Prefer evicting a complete stream; fall back to the oldest.
            let pos = self
                .streams
                .iter()
                .position(|s| lock(&s.inner).closed)
                .unwrap_or(0);
            self.streams.remove(pos);
        }
        self.streams.push_back(Arc::clone(&log));
        log
    }

    /// Finds the stream an event id belongs to, and the sequence number after that event.
    pub(crate) fn resume(&self, last_event_id: &str) -> Option<(Arc<StreamLog>, u64)> {
        let (stream, seq) = last_event_id.trim().split_once('-')?;
        let stream: u64 = stream.parse().ok()?;
        let seq: u64 = seq.parse().ok()?;
        let log = self.streams.iter().find(|s| s.number == stream)?;
        if seq >= lock(&log.inner).next_seq {
            return None;
        }
        Some((Arc::clone(log), seq + 1))
    }
}

/// How a reader ends early (fault injection).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReaderLimits {
    /// End the response cleanly after this many events.
    pub(crate) cut_after: Option<usize>,
    /// Fail the body (dropping the connection) after this many events.
    pub(crate) fail_after: Option<usize>,
}

/// Follows one [`StreamLog`] from a cursor, as an HTTP body.
#[derive(Debug)]
pub(crate) struct Reader {
    log: Arc<StreamLog>,
    rx: watch::Receiver<u64>,
    next_seq: u64,
    sent: usize,
    limits: ReaderLimits,
    stop: CancellationToken,
    keepalive: Option<tokio::time::Interval>,
    /// Dropped with the body: releases whatever the stream held (the standalone GET slot).
    _guard: Option<Box<dyn std::any::Any + Send + Sync>>,
}

impl Reader {
    pub(crate) fn new(
        log: Arc<StreamLog>,
        from_seq: u64,
        limits: ReaderLimits,
        stop: CancellationToken,
        guard: Option<Box<dyn std::any::Any + Send + Sync>>,
    ) -> Self {
        let keepalive = log.standalone.then(|| {
            let start = tokio::time::Instant::now() + KEEPALIVE;
            tokio::time::interval_at(start, KEEPALIVE)
        });
        let rx = log.changed.subscribe();
        Self {
            log,
            rx,
            next_seq: from_seq,
            sent: 0,
            limits,
            stop,
            keepalive,
            _guard: guard,
        }
    }

    /// The next chunk of the body, `None` at its end.
    async fn next(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        loop {
            if self.limits.cut_after.is_some_and(|n| self.sent >= n) {
                return None;
            }
            if self.limits.fail_after.is_some_and(|n| self.sent >= n) {
                // Let what was sent reach the socket first, so the cut is mid-response.
                tokio::time::sleep(FAULT_FLUSH).await;
                return Some(Err(std::io::Error::other(
                    "fault: connection closed mid-response",
                )));
            }
            self.rx.borrow_and_update();
            match self.log.next_from(self.next_seq) {
                Ok((seq, bytes)) => {
                    self.next_seq = seq + 1;
                    self.sent += 1;
                    return Some(Ok(bytes));
                }
                Err(true) => return None,
                Err(false) => {}
            }
            let keepalive = async {
                match &mut self.keepalive {
                    Some(interval) => interval.tick().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = self.rx.changed() => {}
                () = self.stop.cancelled() => return None,
                _ = keepalive => return Some(Ok(Bytes::from_static(b": keepalive\n\n"))),
            }
        }
    }

    /// Turns the reader into an HTTP body.
    pub(crate) fn into_body(self) -> axum::body::Body {
        let stream = futures_util::stream::unfold(self, |mut reader| async move {
            let item = reader.next().await?;
            Some((item, reader))
        });
        axum::body::Body::from_stream(stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_name_their_stream_and_resume_only_there() {
        let mut store = EventStore::default();
        let a = store.open(false);
        let b = store.open(true);
        a.prime(100);
        a.push(&serde_json::json!({"n": 1}));
        b.prime(100);
        let (log, from) = store.resume("1-0").unwrap();
        assert_eq!((log.number, from), (1, 1));
        assert!(matches!(log.next_from(1), Ok((1, ref bytes)) if bytes.starts_with(b"id: 1-1\n")));
        assert!(store.resume("2-1").is_none(), "no such event yet");
        assert!(store.resume("3-0").is_none() && store.resume("x").is_none());
    }

    #[test]
    fn a_stream_keeps_bounded_events_and_bytes() {
        let log = StreamLog::new(1, false);
        for _ in 0..(MAX_EVENTS_PER_STREAM + 10) {
            log.push(&serde_json::json!(1));
        }
        assert_eq!(lock(&log.inner).events.len(), MAX_EVENTS_PER_STREAM);
        log.push(&serde_json::json!("x".repeat(MAX_BYTES_PER_STREAM)));
        let inner = lock(&log.inner);
        assert_eq!(
            inner.events.len(),
            1,
            "only the newest, oversized event stays"
        );
        assert_eq!(inner.bytes, inner.events[0].1.len());
    }

    #[tokio::test]
    async fn the_last_message_and_the_end_reach_a_reader_together() {
        use futures_util::FutureExt;
        let log = Arc::new(StreamLog::new(7, false));
        let mut reader = Reader::new(
            Arc::clone(&log),
            0,
            ReaderLimits::default(),
            CancellationToken::new(),
            None,
        );
        log.push(&serde_json::json!({"n": 1}));
        let first = reader.next().await.expect("an event").expect("no error");
        assert_eq!(&first[..], b"id: 7-0\nevent: message\ndata: {\"n\":1}\n\n");
        assert!(
            reader.next().now_or_never().is_none(),
            "an open stream waits for more"
        );
        assert!(log.push_last(&serde_json::json!({"n": 2})));
        let last = reader.next().await.expect("an event").expect("no error");
        assert!(last.ends_with(b"data: {\"n\":2}\n\n"), "{last:?}");
        assert!(
            matches!(reader.next().now_or_never(), Some(None)),
            "the end must not need another wake-up"
        );
        assert!(!log.push(&serde_json::json!(3)), "the stream is complete");
    }
}
