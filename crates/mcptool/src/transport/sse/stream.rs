//! An open SSE response: chunks read (each within the idle timeout) and fed to the decoder,
//! and the stream ended cleanly once its answer has arrived.

use std::time::Duration;

use super::{SseDecoder, SseEvent};
use crate::error::{Deadline, Error};
use crate::transport::backend::Response;

/// How many times [`SseStream::finish`] lets other tasks run before it sets a timer.
const FINISH_YIELDS: usize = 2;

/// An open SSE response being decoded.
#[derive(Debug)]
pub(crate) struct SseStream {
    response: Response,
    decoder: SseDecoder,
    idle: Option<Duration>,
    done: bool,
}

impl SseStream {
    /// Wraps a response whose headers have been read; `idle` bounds the wait for each chunk.
    pub(crate) fn new(mut response: Response, decoder: SseDecoder, idle: Option<Duration>) -> Self {
        response.release_headers();
        SseStream {
            response,
            decoder,
            idle,
            done: false,
        }
    }

    /// The next event with data; `Ok(None)` when the server ended the stream.
    pub(crate) async fn next_event(&mut self) -> Result<Option<SseEvent>, Error> {
        loop {
            if let Some(event) = self.decoder.next_event() {
                return Ok(Some(event));
            }
            if self.done {
                return Ok(None);
            }
            let chunk = match self.idle {
                Some(idle) => tokio::time::timeout(idle, self.response.chunk())
                    .await
                    .map_err(|_| Error::timeout(Deadline::SseIdle))?,
                None => self.response.chunk().await,
            };
            match chunk {
                Ok(Some(bytes)) => self.decoder.feed(&bytes).map_err(|o| {
                    Error::protocol(format!(
                        "SSE message exceeds the limit of {} bytes",
                        o.limit
                    ))
                })?,
                Ok(None) => self.done = true,
                Err(e) => {
                    return Err(Error::network("SSE stream broke").with_source(e));
                }
            }
        }
    }

    /// After the answer has arrived: waits up to `grace` for the server to end the stream, as
    /// the spec says it should, so that the connection goes back to the pool instead of being
    /// closed with the unfinished body. Anything else still on the stream is dropped.
    pub(crate) async fn finish(&mut self, grace: Duration) {
        // The end usually came in the same read as the answer, but the connection's task hands
        // it over only once asked for more: ask, and let that task run, before any timer.
        let mut ended = self.done;
        for turn in 0..=FINISH_YIELDS {
            while !ended {
                match futures_util::FutureExt::now_or_never(self.response.chunk()) {
                    Some(Ok(Some(_))) => {}
                    Some(_) => ended = true,
                    None => break,
                }
            }
            if ended || turn == FINISH_YIELDS {
                break;
            }
            tokio::task::yield_now().await;
        }
        if !ended {
            let rest = async { while let Ok(Some(_)) = self.response.chunk().await {} };
            ended = tokio::time::timeout(grace, rest).await.is_ok();
        }
        if !ended {
            tracing::debug!("response stream still open after its answer; closing it");
        }
    }

    /// The id of the last event received (priming events included), for resumption.
    pub(crate) fn last_event_id(&self) -> Option<&str> {
        self.decoder.last_event_id()
    }

    /// The server's last `retry` value.
    pub(crate) fn retry(&self) -> Option<Duration> {
        self.decoder.retry_ms().map(Duration::from_millis)
    }
}
