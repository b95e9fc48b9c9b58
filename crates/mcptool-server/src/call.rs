//! One running request: where its messages go and how it talks back to the client.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::events::StreamLog;
use crate::rpc;
use crate::server::App;
use crate::session::{Session, lock};

/// How long a tool waits for the client's answer to a server→client request.
const CLIENT_ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// Where messages related to a request go.
#[derive(Debug)]
pub(crate) enum Outlet {
    /// The request's own SSE stream.
    Stream(Arc<StreamLog>),
    /// A JSON response: related notifications are dropped, server requests use the GET stream.
    Json,
}

/// The context a request runs in.
#[derive(Debug)]
pub(crate) struct CallCtx {
    pub(crate) app: Arc<App>,
    pub(crate) session: Arc<Session>,
    pub(crate) out: Outlet,
    /// Cancelled by `notifications/cancelled` or when the session ends.
    pub(crate) cancel: CancellationToken,
}

impl CallCtx {
    /// Sends a notification related to this request (progress), if its outlet can carry one.
    pub(crate) fn notify_related(&self, method: &str, params: Value) {
        if let Outlet::Stream(log) = &self.out {
            log.push(&rpc::notification(method, params));
        }
    }

    /// Sends a request to the client and waits for its result.
    pub(crate) async fn ask_client(&self, method: &str, params: Value) -> Result<Value, String> {
        let id = self.session.next_request_id();
        let key = Value::from(id).to_string();
        let (tx, rx) = oneshot::channel();
        lock(&self.session.state).pending.insert(key.clone(), tx);
        let message = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let sent = match &self.out {
            Outlet::Stream(log) => log.push(&message),
            Outlet::Json => self.session.push_standalone(&message),
        };
        let outcome = if sent {
            tokio::select! {
                answer = rx => answer.map_err(|_| "the session ended".to_owned()),
                () = self.cancel.cancelled() => Err("cancelled".to_owned()),
                () = tokio::time::sleep(CLIENT_ANSWER_TIMEOUT) => Err(format!("no answer to {method} in time")),
            }
        } else {
            Err(format!(
                "no open stream to send {method} to the client (open the GET stream)"
            ))
        };
        lock(&self.session.state).pending.remove(&key);
        let answer = outcome?;
        if let Some(error) = answer.get("error") {
            return Err(format!(
                "the client answered {method} with an error: {error}"
            ));
        }
        Ok(answer.get("result").cloned().unwrap_or(Value::Null))
    }
}
