//! The stateless era's notification channel: one `subscriptions/listen` stream per client,
//! opened when something can receive what it carries (the same rule as the session era's GET
//! stream), asking for the list changes the server announces. The first message must be the
//! acknowledgement; every later one must carry our subscription id. A result ends it
//! gracefully; an abrupt end re-opens it with bounded, jittered backoff.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use super::retry::jittered;
use super::shared::Shared;
use super::stateless::Stateless;
use crate::protocol::modern::meta_keys;
use crate::protocol::{Incoming, RequestId, encode_request};
use crate::transport::{PostResponse, SseStream};

/// Failed openings in a row before we give up on the stream.
const MAX_FAILURES: u32 = 5;
/// The first wait before re-opening.
const BACKOFF: Duration = Duration::from_millis(200);

/// How one listen stream ended.
enum End {
    /// The server sent the listen result: it tore the subscription down on purpose.
    Graceful,
    /// The stream broke, or ended without a result: open it again.
    Abrupt { acknowledged: bool },
    /// We stopped it, or it cannot work.
    Stopped,
}

impl Shared {
    /// The filter a listen stream asks for: the list changes the server announces.
    fn listen_filter(&self) -> Map<String, Value> {
        let capabilities = self
            .server
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|s| s.capabilities.clone())
            .unwrap_or(Value::Null);
        let mut filter = Map::new();
        for (list, field) in [
            ("tools", "toolsListChanged"),
            ("prompts", "promptsListChanged"),
            ("resources", "resourcesListChanged"),
        ] {
            if capabilities[list]["listChanged"] == Value::Bool(true) {
                filter.insert(field.to_owned(), Value::Bool(true));
            }
        }
        filter
    }

    /// Keeps one listen stream open until `stop`, re-opening it after an abrupt end.
    pub(crate) async fn run_listen_stream(self: Arc<Self>, stop: CancellationToken) {
        let Some(dialect) = self.dialect() else {
            return;
        };
        let filter = self.listen_filter();
        if filter.is_empty() {
            tracing::debug!("the server announces no list changes: no listen stream");
            return;
        }
        let mut failures = 0u32;
        loop {
            let id = self.router.next_id();
            let end = tokio::select! {
                () = stop.cancelled() => return,
                end = self.listen_once(dialect, id, &filter) => end,
            };
            match end {
                End::Graceful => {
                    tracing::debug!("the server ended the listen stream");
                    return;
                }
                End::Stopped => return,
                End::Abrupt { acknowledged } => {
                    failures = if acknowledged { 1 } else { failures + 1 };
                }
            }
            if failures >= MAX_FAILURES {
                tracing::warn!(failures, "giving up on the listen stream");
                return;
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(jittered(BACKOFF, failures)) => {}
            }
        }
    }

    /// Opens one listen stream and reads it to its end.
    async fn listen_once(
        self: &Arc<Self>,
        dialect: &Stateless,
        id: RequestId,
        filter: &Map<String, Value>,
    ) -> End {
        let params = json!({"notifications": filter});
        let Some(params) = params.as_object() else {
            return End::Stopped;
        };
        let headers = dialect.headers("subscriptions/listen", params);
        let body = match encode_request(
            id,
            "subscriptions/listen",
            Some(&dialect.params_with_meta(params)),
        ) {
            Ok(body) => body,
            Err(e) => {
                tracing::warn!(error = %e, "cannot encode the listen request");
                return End::Stopped;
            }
        };
        match self.transport.post(body, Some(&headers), false).await {
            Ok((PostResponse::Sse(stream), _)) => self.pump_listen(id, filter, stream).await,
            Ok(_) => {
                tracing::warn!("the server answered subscriptions/listen without a stream");
                End::Stopped
            }
            Err(e) if e.is_closed() => End::Stopped,
            Err(e) => {
                tracing::debug!(error = %e, "the listen stream failed to open");
                End::Abrupt {
                    acknowledged: false,
                }
            }
        }
    }

    /// Routes a listen stream's notifications until it ends.
    async fn pump_listen(
        self: &Arc<Self>,
        id: RequestId,
        asked: &Map<String, Value>,
        mut stream: Box<SseStream>,
    ) -> End {
        let mut acknowledged = false;
        loop {
            let event = match stream.next_event().await {
                Ok(Some(event)) => event,
                Ok(None) => return End::Abrupt { acknowledged },
                Err(e) => {
                    tracing::debug!(error = %e, "the listen stream broke");
                    return End::Abrupt { acknowledged };
                }
            };
            let message = match Incoming::parse_text(&event.data) {
                Ok(message) => message,
                Err(e) => {
                    tracing::warn!(error = %e, "ignored an invalid message on the listen stream");
                    continue;
                }
            };
            match message {
                Incoming::Response {
                    id: Some(answered), ..
                } if answered == id => return End::Graceful,
                Incoming::Notification { method, params } => {
                    let tag = params
                        .as_ref()
                        .and_then(|p| p.pointer("/_meta"))
                        .and_then(|m| m.get(meta_keys::SUBSCRIPTION_ID));
                    if tag.and_then(Value::as_u64) != Some(id) {
                        tracing::warn!(method, "ignored a notification for another subscription");
                        continue;
                    }
                    if !acknowledged {
                        if method != "notifications/subscriptions/acknowledged" {
                            tracing::warn!(
                                method,
                                "the listen stream did not start with its acknowledgement"
                            );
                            return End::Stopped;
                        }
                        acknowledged = true;
                        check_honoured(asked, params.as_ref());
                        continue;
                    }
                    if let Some(dialect) = self.dialect() {
                        dialect.cache.invalidate(&method);
                    }
                    let _ = self.dispatch(Incoming::Notification { method, params });
                }
                other => tracing::debug!(?other, "ignored a message on the listen stream"),
            }
        }
    }
}

/// Warns about the list changes the server will not send although we asked.
fn check_honoured(asked: &Map<String, Value>, params: Option<&Value>) {
    let honoured = params.and_then(|p| p.get("notifications"));
    for field in asked.keys() {
        if honoured.and_then(|h| h.get(field)) != Some(&Value::Bool(true)) {
            tracing::warn!(field, "the server does not honour this subscription");
        }
    }
}
