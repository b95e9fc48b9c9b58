//! The POST path: one message out, and its answer classified (accepted, one JSON body, or an
//! SSE stream).

use std::sync::PoisonError;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderMap};
use http::{Method, StatusCode};

use super::response::{ERROR_BODY_LIMIT, Media, media_type, read_limited, status_error};
use super::{ACCEPT_BOTH, HttpTransport, JSON, MCP_SESSION_ID, legacy};
use crate::error::Error;
use crate::transport::backend::Response;
use crate::transport::session::SessionId;
use crate::transport::sse::SseStream;

/// What a POST produced.
#[derive(Debug)]
pub(crate) enum PostResponse {
    /// 202 Accepted, empty body.
    Accepted,
    /// One JSON body (a message or, in 2025-03-26, a batch).
    Json(Bytes),
    /// An SSE stream of messages.
    Sse(Box<SseStream>),
}

impl HttpTransport {
    /// POSTs one message. With `capture_session`, the response's `Mcp-Session-Id` is returned.
    pub(crate) async fn post(
        &self,
        body: Vec<u8>,
        extra: Option<&HeaderMap>,
        capture_session: bool,
    ) -> Result<(PostResponse, Option<SessionId>), Error> {
        let client = self.client()?;
        let (mut headers, had_session) = self.post_headers_now().await?;
        if let Some(extra) = extra {
            for (k, v) in extra {
                headers.insert(k, v.clone());
            }
        }
        let target = self.legacy_endpoint.get().unwrap_or(&self.target);
        let response = self
            .send_authorized(
                &client,
                Method::POST,
                target,
                headers,
                Bytes::from(body),
                "POST",
            )
            .await?;
        if self.is_legacy() {
            return Ok((legacy::post_answer(response).await?, None));
        }
        if !response.status().is_success() {
            return Err(status_error(response, had_session).await);
        }
        let session = if capture_session {
            match response.headers().get(MCP_SESSION_ID) {
                Some(v) => Some(SessionId::parse(v.as_bytes())?),
                None => None,
            }
        } else {
            None
        };
        Ok((self.post_answer(response).await?, session))
    }

    /// The headers of this POST, and whether they carry a session: the template made when the
    /// session changed, or, with a header provider, headers made afresh.
    async fn post_headers_now(&self) -> Result<(HeaderMap, bool), Error> {
        match &self.config.provider {
            None => {
                let state = self.session.read().unwrap_or_else(PoisonError::into_inner);
                Ok((state.post_headers.clone(), state.id_header.is_some()))
            }
            Some(_) => {
                let (mut headers, had_session) = self.base_headers(ACCEPT_BOTH).await?;
                headers.insert(CONTENT_TYPE, JSON);
                Ok((headers, had_session))
            }
        }
    }

    /// Classifies a successful answer by its status and media type.
    async fn post_answer(&self, response: Response) -> Result<PostResponse, Error> {
        let status = response.status();
        if status == StatusCode::ACCEPTED {
            // The body should be empty (it may be chunked); read it so the connection is reused.
            let _ = read_limited(response, ERROR_BODY_LIMIT).await;
            return Ok(PostResponse::Accepted);
        }
        match media_type(&response) {
            Media::Json => {
                let bytes = read_limited(response, self.config.max_message_bytes).await?;
                if bytes.is_empty() {
                    return Err(Error::protocol(
                        "server answered 200 with an empty JSON body",
                    ));
                }
                Ok(PostResponse::Json(bytes))
            }
            Media::Sse => Ok(PostResponse::Sse(Box::new(self.sse_stream(response, None)))),
            Media::Absent if status == StatusCode::OK => {
                // Some servers answer a notification with 200 and nothing else.
                let bytes = read_limited(response, ERROR_BODY_LIMIT).await?;
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    Ok(PostResponse::Accepted)
                } else {
                    Err(Error::protocol("server answered without a Content-Type"))
                }
            }
            Media::Absent => Err(Error::protocol("server answered without a Content-Type")),
            Media::Other(other) => Err(Error::protocol(format!(
                "server answered with unexpected Content-Type {other:?}"
            ))),
        }
    }
}
