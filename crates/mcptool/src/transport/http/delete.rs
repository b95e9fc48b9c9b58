//! DELETE: the end of the session, sent at close.

use bytes::Bytes;
use http::{Method, StatusCode};

use super::response::{ERROR_BODY_LIMIT, read_limited, status_error};
use super::{ACCEPT_BOTH, HttpTransport};
use crate::error::Error;

/// What the DELETE at close produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeleteOutcome {
    Deleted,
    NotAllowed,
}

impl HttpTransport {
    /// Ends the session with DELETE.
    pub(crate) async fn delete(&self) -> Result<DeleteOutcome, Error> {
        let client = self.client()?;
        let (headers, had_session) = self.base_headers(ACCEPT_BOTH).await?;
        let response = self
            .send_authorized(
                &client,
                Method::DELETE,
                &self.target,
                headers,
                Bytes::new(),
                "DELETE",
            )
            .await?;
        match response.status() {
            StatusCode::METHOD_NOT_ALLOWED => Ok(DeleteOutcome::NotAllowed),
            s if s.is_success() => {
                let _ = read_limited(response, ERROR_BODY_LIMIT).await;
                Ok(DeleteOutcome::Deleted)
            }
            _ => Err(status_error(response, had_session).await),
        }
    }
}
