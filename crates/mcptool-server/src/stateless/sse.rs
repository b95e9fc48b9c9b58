//! A 2026-07-28 response stream: no event ids, no priming event, no resumption; closing it is
//! the client's cancellation.

use std::convert::Infallible;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::wire::reply;

/// Messages a stream holds before the slowest notifications are dropped.
const BUFFER: usize = 64;

/// The writing end of a response stream.
#[derive(Debug, Clone)]
pub(super) struct Sender {
    tx: mpsc::Sender<Bytes>,
}

/// A response stream whose reading end cancels `cancel` when dropped before the stream ended
/// (the client went away), and the writer that feeds it.
pub(super) fn channel(cancel: &CancellationToken) -> (Sender, Response) {
    let (tx, rx) = mpsc::channel(BUFFER);
    let reader = Reader {
        rx,
        guard: Some(cancel.clone().drop_guard()),
    };
    let stream = futures_util::stream::unfold(reader, |mut reader| async move {
        match reader.rx.recv().await {
            Some(bytes) => Some((Ok::<_, Infallible>(bytes), reader)),
            None => {
                // The writer finished: the stream ended by itself, not by the client.
                if let Some(guard) = reader.guard.take() {
                    guard.disarm();
                }
                None
            }
        }
    });
    (Sender { tx }, reply::sse(Body::from_stream(stream)))
}

#[derive(Debug)]
struct Reader {
    rx: mpsc::Receiver<Bytes>,
    guard: Option<DropGuard>,
}

impl Sender {
    /// Sends a notification unless the stream is full or closed (progress is lossy).
    pub(super) fn notify(&self, message: &Value) -> bool {
        self.tx.try_send(event(message)).is_ok()
    }

    /// Sends a message, waiting for room; false when the client has gone, or when `stop` fires
    /// first (a client that stops reading must not hold up a shutdown).
    pub(super) async fn send(&self, message: &Value, stop: &CancellationToken) -> bool {
        tokio::select! {
            biased;
            sent = self.tx.send(event(message)) => sent.is_ok(),
            () = stop.cancelled() => false,
        }
    }

    /// Sends an SSE comment (a keep-alive); false when the client has gone.
    pub(super) async fn comment(&self) -> bool {
        self.tx
            .send(Bytes::from_static(b": keep-alive\n\n"))
            .await
            .is_ok()
    }

    /// Resolves when the client has closed the stream.
    pub(super) async fn closed(&self) {
        self.tx.closed().await;
    }
}

fn event(message: &Value) -> Bytes {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(b"event: message\ndata: ");
    // Serialising a Value cannot fail; an empty data line would be a bug, not a panic.
    let _ = serde_json::to_writer(&mut out, message);
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}
