//! GET: the standalone stream, or a response stream resumed after its last event id.

use http::StatusCode;
use http::header::{HeaderName, HeaderValue};

use super::response::{Media, media_type, status_error};
use super::{ACCEPT_SSE, HttpTransport};
use crate::error::Error;
use crate::transport::sse::SseStream;

const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

/// What a GET for a stream produced.
#[derive(Debug)]
pub(crate) enum GetOutcome {
    Stream(Box<SseStream>),
    /// 405: the server offers no standalone stream.
    NotAllowed,
    /// 409: another stream is open for this session.
    Conflict,
}

impl HttpTransport {
    /// Opens an SSE stream with GET: the standalone stream, or a resumption after `last_id`.
    pub(crate) async fn get(&self, last_id: Option<&str>) -> Result<GetOutcome, Error> {
        let (mut headers, had_session) = self.base_headers(ACCEPT_SSE).await?;
        if let Some(id) = last_id {
            let value = HeaderValue::from_str(id)
                .map_err(|e| Error::protocol("server sent an unusable event id").with_source(e))?;
            headers.insert(LAST_EVENT_ID, value);
        }
        let response = self.send_get(headers).await?;
        match response.status() {
            StatusCode::METHOD_NOT_ALLOWED => return Ok(GetOutcome::NotAllowed),
            StatusCode::CONFLICT => return Ok(GetOutcome::Conflict),
            s if !s.is_success() => return Err(status_error(response, had_session).await),
            _ => {}
        }
        if media_type(&response) != Media::Sse {
            return Err(Error::protocol(
                "server answered GET without a text/event-stream body",
            ));
        }
        Ok(GetOutcome::Stream(Box::new(
            self.sse_stream(response, last_id.map(str::to_owned)),
        )))
    }
}
