//! Loading the server's tools and prompts, and reloading them when it says they changed.
//!
//! The refresh task owns a clone of the session's client and nothing of the tool but the
//! catalog cell: it never holds a lock across an `.await`, so an `invoke` racing a refresh
//! sees the old functions or the new ones, never waits for it.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio_util::sync::CancellationToken;

use super::CatalogCell;
use super::config::ToolConfig;
use super::functions::Catalog;
use crate::client::{Client, ServerNotification};
use crate::error::Error;

const TOOLS_CHANGED: &str = "notifications/tools/list_changed";
const PROMPTS_CHANGED: &str = "notifications/prompts/list_changed";

/// Lists what the tool is configured to load and the server offers, and builds the functions.
pub(crate) async fn load(client: &Client, config: &ToolConfig) -> Result<Catalog, Error> {
    let capabilities = client
        .server_info()
        .map(|s| s.capabilities.clone())
        .unwrap_or(Value::Null);
    let offers = |what: &str| capabilities.get(what).is_some_and(|v| !v.is_null());
    let wants_tools =
        config.load_tools && config.allowed_tools.as_ref().is_none_or(|a| !a.is_empty());
    let tools = if wants_tools && offers("tools") {
        client.list_tools().await?
    } else {
        Vec::new()
    };
    let prompts = if config.load_prompts && offers("prompts") {
        client.list_prompts().await?
    } else {
        Vec::new()
    };
    Catalog::build(
        &tools,
        &prompts,
        config.allowed_tools.as_deref(),
        config.prefix.as_deref(),
    )
}

fn is_list_change(notification: &ServerNotification) -> bool {
    notification.method == TOOLS_CHANGED || notification.method == PROMPTS_CHANGED
}

/// Whether the server announces changes (`listChanged`) to a list this tool loads.
pub(crate) fn follows_changes(capabilities: &serde_json::Value, config: &ToolConfig) -> bool {
    let announces = |list: &str| capabilities[list]["listChanged"] == serde_json::Value::Bool(true);
    (config.load_tools && announces("tools")) || (config.load_prompts && announces("prompts"))
}

/// Reloads the functions after every list change until `stop` is cancelled or the client's
/// notifications end. Changes that arrive together are folded into one reload.
pub(crate) async fn run(
    client: Client,
    config: Arc<ToolConfig>,
    cell: Arc<CatalogCell>,
    mut notifications: broadcast::Receiver<ServerNotification>,
    stop: CancellationToken,
) {
    loop {
        let received = tokio::select! {
            () = stop.cancelled() => return,
            received = notifications.recv() => received,
        };
        match received {
            Ok(n) if is_list_change(&n) => {}
            Ok(_) => continue,
            // We may have missed a list change: reload to be sure.
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
        loop {
            match notifications.try_recv() {
                Ok(_) | Err(TryRecvError::Lagged(_)) => {}
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => return,
            }
        }
        let reloaded = tokio::select! {
            () = stop.cancelled() => return,
            reloaded = load(&client, &config) => reloaded,
        };
        match reloaded {
            Ok(catalog) => {
                if cell.replace(catalog, false) {
                    tracing::debug!(tool = %config.name, "functions changed");
                }
            }
            Err(e) => {
                tracing::warn!(tool = %config.name, error = %e, "could not reload the functions; keeping the old ones");
                if e.is_closed() {
                    return;
                }
            }
        }
    }
}
