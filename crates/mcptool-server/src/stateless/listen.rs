//! `subscriptions/listen`: a long-lived stream of the change notifications a client opted in to.
//!
//! The stream opens with `notifications/subscriptions/acknowledged` (the honoured subset), tags
//! every message with `_meta["io.modelcontextprotocol/subscriptionId"]` (the listen request's
//! id), carries SSE comments while idle, and ends with a result when the server shuts down.
//! Closing it is the client's way to end it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::{Reject, SERVER_INFO, sse};
use crate::demo::{self, Change};
use crate::rpc::{self, RpcError};
use crate::state::AppState;

const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";
/// How long the closing result of a listen stream may wait for a client that stopped reading.
const CLOSING_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// What a listen stream carries.
#[derive(Debug, Default, PartialEq, Eq)]
struct Filter {
    tools: bool,
    prompts: bool,
    resources: bool,
    uris: Vec<String>,
}

impl Filter {
    /// Reads `params.notifications`; a field of the wrong type is -32602.
    fn read(params: &Value) -> Result<Self, RpcError> {
        let Some(asked) = params.get("notifications").and_then(Value::as_object) else {
            return Err(RpcError::invalid_params(
                "subscriptions/listen needs params.notifications, an object",
            ));
        };
        let flag = |name: &str| match asked.get(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(RpcError::invalid_params(format!(
                "notifications.{name} must be a boolean"
            ))),
        };
        let uris = match asked.get("resourceSubscriptions") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|u| u.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    RpcError::invalid_params(
                        "notifications.resourceSubscriptions must list strings",
                    )
                })?,
            Some(_) => {
                return Err(RpcError::invalid_params(
                    "notifications.resourceSubscriptions must be an array",
                ));
            }
        };
        Ok(Self {
            tools: flag("toolsListChanged")?,
            prompts: flag("promptsListChanged")?,
            resources: flag("resourcesListChanged")?,
            uris,
        })
    }

    /// The subset the server honours: every list kind, and the URIs of resources it has.
    fn honoured(mut self) -> Self {
        self.uris.retain(|uri| demo::resource_exists(uri));
        self.uris.dedup();
        self
    }

    fn wants(&self, change: &Change) -> bool {
        match change {
            Change::Tools => self.tools,
            Change::Prompts => self.prompts,
            Change::Resources => self.resources,
            Change::Resource(uri) => self.uris.contains(uri),
        }
    }

    fn to_json(&self) -> Value {
        let mut out = serde_json::Map::new();
        for (on, name) in [
            (self.tools, "toolsListChanged"),
            (self.prompts, "promptsListChanged"),
            (self.resources, "resourcesListChanged"),
        ] {
            if on {
                out.insert(name.to_owned(), Value::Bool(true));
            }
        }
        if !self.uris.is_empty() {
            out.insert("resourceSubscriptions".to_owned(), json!(self.uris));
        }
        Value::Object(out)
    }
}

/// Opens a listen stream, or refuses: bad params (-32602), too many streams (503).
pub(super) fn open(
    app: &Arc<AppState>,
    id: Value,
    params: &Value,
) -> Result<axum::response::Response, Reject> {
    let filter = Filter::read(params)
        .map_err(|err| Reject::bad_request(&id, err))?
        .honoured();
    let listeners = &app.stateless.listeners;
    if listeners.fetch_add(1, Ordering::SeqCst) >= app.config.max_listen_streams {
        listeners.fetch_sub(1, Ordering::SeqCst);
        let message = format!(
            "too many listen streams open (at most {})",
            app.config.max_listen_streams
        );
        return Err(Reject::unavailable(
            &id,
            RpcError::new(rpc::INTERNAL_ERROR, message),
        ));
    }
    app.stats.update(|s| {
        s.listen_streams_opened += 1;
        s.listen_streams_live += 1;
    });
    let changes = app.stateless.bus.subscribe();
    // Nothing to cancel: the task sees the client go through the sender.
    let (out, response) = sse::channel(&CancellationToken::new());
    let task_app = Arc::clone(app);
    app.spawn(async move {
        serve(&task_app, &id, &filter, &out, changes).await;
        task_app.stateless.listeners.fetch_sub(1, Ordering::SeqCst);
        task_app.stats.update(|s| {
            s.listen_streams_live = s.listen_streams_live.saturating_sub(1);
            s.listen_streams_closed += 1;
        });
    });
    Ok(response)
}

/// Feeds one listen stream until the client closes it or the server shuts down.
async fn serve(
    app: &AppState,
    id: &Value,
    filter: &Filter,
    out: &sse::Sender,
    mut changes: tokio::sync::broadcast::Receiver<Change>,
) {
    let tag = json!({SUBSCRIPTION_ID: id});
    let ack = json!({"_meta": tag, "notifications": filter.to_json()});
    if !deliver(app, out, "notifications/subscriptions/acknowledged", ack).await {
        return;
    }
    let mut keepalive = tokio::time::interval(app.config.listen_keepalive);
    keepalive.tick().await;
    loop {
        tokio::select! {
            () = out.closed() => return,
            () = app.shutdown.cancelled() => {
                let result = json!({"resultType": "complete", "_meta": {SUBSCRIPTION_ID: id, SERVER_INFO: demo::server_info()}});
                // Shutdown has begun: the closing result gets a moment of its own.
                let _ = tokio::time::timeout(CLOSING_GRACE, out.send(&rpc::result(id, result), &CancellationToken::new())).await;
                return;
            }
            change = changes.recv() => match change {
                Ok(change) if filter.wants(&change) => {
                    let mut params = change.params();
                    params["_meta"] = tag.clone();
                    if !deliver(app, out, change.method(), params).await {
                        return;
                    }
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
            _ = keepalive.tick() => {
                if !out.comment().await {
                    return;
                }
            }
        }
    }
}

async fn deliver(app: &AppState, out: &sse::Sender, method: &str, params: Value) -> bool {
    let sent = out
        .send(&rpc::notification(method, params), &app.shutdown)
        .await;
    if sent {
        app.stats.update(|s| s.listen_notifications += 1);
    }
    sent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_honoured_subset_drops_unknown_resources_and_unasked_kinds() {
        let params = json!({"notifications": {"toolsListChanged": true, "resourceSubscriptions": ["demo://readme", "demo://nope"], "somethingElse": true}});
        let filter = Filter::read(&params).expect("valid").honoured();
        assert_eq!(
            filter.to_json(),
            json!({"toolsListChanged": true, "resourceSubscriptions": ["demo://readme"]})
        );
        assert!(filter.wants(&Change::Tools));
        assert!(!filter.wants(&Change::Prompts));
        assert!(filter.wants(&Change::Resource("demo://readme".into())));
        assert!(!filter.wants(&Change::Resource("demo://notes".into())));
    }

    #[test]
    fn a_mistyped_filter_is_invalid_params() {
        for params in [
            json!({}),
            json!({"notifications": []}),
            json!({"notifications": {"toolsListChanged": "yes"}}),
            json!({"notifications": {"resourceSubscriptions": "demo://readme"}}),
            json!({"notifications": {"resourceSubscriptions": [1]}}),
        ] {
            let err = Filter::read(&params).expect_err("invalid");
            assert_eq!(err.code, rpc::INVALID_PARAMS, "{params}");
        }
    }
}
