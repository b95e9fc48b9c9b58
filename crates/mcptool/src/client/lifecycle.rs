//! Opening and ending a session: `initialize`, single-flight re-initialisation, `close()`.

use std::sync::Arc;

use serde_json::{Value, json};

use super::era::is_older_server;
use super::exchange::Reply;
use super::options::RequestOptions;
use super::shared::{LegacyFallback, Shared};
use crate::error::{Deadline, Error};
use crate::protocol::{InitializeResult, ProtocolVersion};
use crate::transport::{DeleteOutcome, SessionId};

/// What `close()` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseOutcome {
    /// The server accepted the session `DELETE`.
    Deleted,
    /// The server answered the `DELETE` with 405: it does not let clients end sessions.
    DeleteNotAllowed,
    /// No `DELETE` was sent: `terminate_on_close` is off. Streams and connections are closed
    /// all the same.
    NotTerminated,
    /// No `DELETE` was needed: the server never gave us a session id, or it had already
    /// expired it.
    NoSession,
    /// No `DELETE` was needed: the client spoke 2026-07-28, which has no sessions. Requests in
    /// flight were ended by closing their streams, and the connections are closed.
    Stateless,
    /// `close()` had already run.
    AlreadyClosed,
}

/// How `initialize` reaches the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Start {
    /// Streamable HTTP, falling back to HTTP+SSE when the server refuses it (unless the
    /// client's legacy fallback is off).
    Streamable,
    /// Streamable HTTP only: a lent era cache said the server speaks it, and a refusal means
    /// the cache is out of date.
    StreamableOnly,
    /// HTTP+SSE straight away: a lent era cache said the server is that old.
    Legacy,
}

impl Shared {
    /// Runs the `initialize` handshake and records the session, over the transport `start`
    /// says.
    pub(crate) async fn initialize(
        self: &Arc<Self>,
        start: Start,
    ) -> Result<Arc<InitializeResult>, Error> {
        let params = json!({
            "protocolVersion": self.offered_version.as_str(),
            "capabilities": self.handlers.capabilities(),
            "clientInfo": self.client_info,
        });
        self.transport.set_session(None, None);
        let (reply, session) = if start == Start::Legacy && !self.transport.is_legacy() {
            self.initialize_legacy(&params).await?
        } else {
            match self
                .request_with_retries(
                    "initialize",
                    Some(&params),
                    None,
                    &RequestOptions::default(),
                )
                .await
            {
                Err(e)
                    if self.settings.legacy_fallback == LegacyFallback::Auto
                        && start == Start::Streamable
                        && !self.transport.is_legacy()
                        && is_older_server(&e) =>
                {
                    tracing::info!(status = ?e.status(), "initialize refused; trying the legacy HTTP+SSE transport");
                    self.initialize_legacy(&params).await?
                }
                other => other.map_err(refused_version)?,
            }
        };
        let result: InitializeResult = reply.decode("initialize")?;
        self.session_opened(result, session).await
    }

    /// The server answered `initialize`: its version checked, the session recorded,
    /// `notifications/initialized` sent, the standalone stream started when needed.
    async fn session_opened(
        self: &Arc<Self>,
        result: InitializeResult,
        session: Option<SessionId>,
    ) -> Result<Arc<InitializeResult>, Error> {
        let version: ProtocolVersion = result.protocol_version.parse().map_err(|_| {
            Error::protocol(format!(
                "server chose protocol version {:?}, which this client does not support",
                result.protocol_version
            ))
        })?;
        self.transport.set_session(session, Some(version));
        let notified = tokio::time::timeout(
            self.settings.initialize_timeout,
            self.notify("notifications/initialized", None::<&Value>),
        )
        .await
        .map_err(|_| Error::timeout(Deadline::Initialize))?;
        notified?;
        let result = Arc::new(result);
        *self
            .server
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::clone(&result));
        self.phase.opened(false);
        self.start_standalone_stream();
        tracing::debug!(
            session = ?self.transport.session_id(),
            version = version.as_str(),
            "session initialised"
        );
        Ok(result)
    }

    /// `initialize` over the legacy HTTP+SSE transport, whose endpoint event comes first.
    async fn initialize_legacy(
        self: &Arc<Self>,
        params: &Value,
    ) -> Result<(Reply<InitializeResult>, Option<SessionId>), Error> {
        let stream = self
            .transport
            .open_legacy(self.settings.initialize_timeout)
            .await?;
        self.start_legacy_stream(stream);
        self.request_with_retries("initialize", Some(params), None, &RequestOptions::default())
            .await
    }

    /// Starts a new session after the old one expired, unless another caller already did
    /// since `seen_generation`: one re-initialisation serves every concurrent caller.
    pub(crate) async fn reinitialize(self: &Arc<Self>, seen_generation: u64) -> Result<(), Error> {
        let _single_flight = self.phase.reinitializing().await;
        if self.phase.generation() != seen_generation {
            return Ok(());
        }
        if self.phase.is_closed() {
            return Err(Error::closed());
        }
        self.stop_standalone_stream();
        tracing::info!("session expired; starting a new one");
        self.initialize(Start::Streamable).await.map(|_| ())
    }

    /// The whole teardown: background tasks, standalone stream, session `DELETE`, pool.
    pub(crate) async fn close(self: &Arc<Self>) -> Result<CloseOutcome, Error> {
        if !self.phase.close() {
            return Ok(CloseOutcome::AlreadyClosed);
        }
        self.stop_standalone_stream();
        self.router.fail_all(Error::closed);
        let deleted = self.delete_session().await;
        self.cancel.cancel();
        self.tracker.close();
        let drained = tokio::time::timeout(self.settings.close_timeout, self.tracker.wait()).await;
        if drained.is_err() {
            tracing::warn!("background tasks did not stop within the close timeout");
        }
        self.transport.release();
        deleted
    }

    async fn delete_session(&self) -> Result<CloseOutcome, Error> {
        if self.dialect().is_some() {
            return Ok(CloseOutcome::Stateless);
        }
        if self.transport.session_id().is_none() || self.phase.is_expired() {
            return Ok(CloseOutcome::NoSession);
        }
        if !self.settings.terminate_on_close {
            return Ok(CloseOutcome::NotTerminated);
        }
        match tokio::time::timeout(self.settings.close_timeout, self.transport.delete()).await {
            Err(_) => Err(Error::timeout(Deadline::Close)),
            Ok(Ok(DeleteOutcome::Deleted)) => Ok(CloseOutcome::Deleted),
            Ok(Ok(DeleteOutcome::NotAllowed)) => Ok(CloseOutcome::DeleteNotAllowed),
            Ok(Err(e)) if e.is_session_expired() => Ok(CloseOutcome::NoSession),
            Ok(Err(e)) => Err(e),
        }
    }
}

/// A 2026-07-28 server's refusal of `initialize` (-32022) is final, not a reason to try
/// HTTP+SSE: the error names the versions it serves.
fn refused_version(error: Error) -> Error {
    let supported = match error.rpc_error() {
        Some(rpc) if rpc.code == crate::protocol::modern::codes::UNSUPPORTED_PROTOCOL_VERSION => {
            rpc.data
                .as_ref()
                .map(crate::protocol::modern::supported_versions)
                .unwrap_or_default()
        }
        _ => return error,
    };
    Error::protocol(format!(
        "the server refused initialize: it serves {}, none of them a session-era version this client speaks",
        if supported.is_empty() { "no version it names".to_owned() } else { supported.join(", ") }
    ))
    .with_source(error)
}
