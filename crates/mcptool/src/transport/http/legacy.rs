//! The legacy HTTP+SSE transport (2024-11-05), which a client falls back to: one long GET
//! stream carries every answer, and messages are POSTed to the endpoint its first event names.

use std::time::Duration;

use super::response::{ERROR_BODY_LIMIT, Media, media_type, read_limited, status_error};
use super::{ACCEPT_SSE, HttpTransport, MCP_PROTOCOL_VERSION, MCP_SESSION_ID, PostResponse};
use crate::error::{Deadline, Error};
use crate::transport::backend::{Response, Target};
use crate::transport::sse::SseStream;

impl HttpTransport {
    /// Whether we fell back to the legacy HTTP+SSE transport.
    pub(crate) fn is_legacy(&self) -> bool {
        self.legacy_endpoint.get().is_some()
    }

    /// Falls back to the legacy HTTP+SSE transport: opens the event stream with GET, waits for
    /// its `endpoint` event, and from then on POSTs there. Returns the open stream, which
    /// carries every answer. The endpoint must be on the server's own origin.
    pub(crate) async fn open_legacy(&self, wait: Duration) -> Result<SseStream, Error> {
        let (mut headers, _) = self.base_headers(ACCEPT_SSE).await?;
        headers.remove(MCP_SESSION_ID);
        headers.remove(MCP_PROTOCOL_VERSION);
        let response = self.send_get(headers).await?;
        if !response.status().is_success() || media_type(&response) != Media::Sse {
            return Err(Error::protocol(format!(
                "server is neither Streamable HTTP nor HTTP+SSE (legacy GET answered {})",
                response.status()
            ))
            .with_status(response.status().as_u16()));
        }
        let mut stream = self.sse_stream(response, None);
        let endpoint = tokio::time::timeout(wait, endpoint_event(&mut stream))
            .await
            .map_err(|_| Error::timeout(Deadline::Initialize))??;
        let url = self.target.url.join(endpoint.trim()).map_err(|e| {
            Error::protocol("server sent an unusable legacy endpoint").with_source(e)
        })?;
        if url.origin() != self.target.url.origin() {
            return Err(Error::protocol(
                "server's legacy endpoint is on another origin; refusing to send our headers there",
            ));
        }
        let _ = self.legacy_endpoint.set(Target::new(url)?);
        Ok(stream)
    }
}

/// The data of the stream's `endpoint` event, the events before it skipped.
async fn endpoint_event(stream: &mut SseStream) -> Result<String, Error> {
    loop {
        match stream.next_event().await? {
            Some(event) if event.event.as_deref() == Some("endpoint") => {
                return Ok(event.data);
            }
            Some(_) => continue,
            None => {
                return Err(Error::protocol(
                    "legacy SSE stream ended before its endpoint event",
                ));
            }
        }
    }
}

/// The answer to a legacy POST: every answer comes on the event stream; the POST is only
/// accepted.
pub(super) async fn post_answer(response: Response) -> Result<PostResponse, Error> {
    if !response.status().is_success() {
        return Err(status_error(response, false).await);
    }
    let _ = read_limited(response, ERROR_BODY_LIMIT).await;
    Ok(PostResponse::Accepted)
}
