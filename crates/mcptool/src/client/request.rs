//! A request as the caller makes it: routed to the era's dialect, re-sent after a transient
//! failure when the retry policy allows, re-sent once in a new session after expiry when the
//! reconnect policy allows. One attempt is the exchange (`exchange.rs`).

use std::sync::Arc;

use http::HeaderMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::exchange::Reply;
use super::options::RequestOptions;
use super::retry::{RETRIES, RETRY_BASE, is_safe_to_repeat, is_transient, jittered};
use super::shared::{ReconnectPolicy, Shared};
use crate::error::Error;
use crate::protocol::{RequestId, encode_request};
use crate::transport::SessionId;

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
            let id = self.router.next_id();
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
