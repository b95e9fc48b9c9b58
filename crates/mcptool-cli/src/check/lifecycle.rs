//! One tool lifecycle as an agent runs it — connect, call, close — and what it left behind.

use std::net::SocketAddr;
use std::time::Duration;

use mcptool::CloseOutcome;
use serde_json::json;

use super::sockets;
use crate::connect::Settings;

/// How long a closed client may take to let go of its sockets.
pub(crate) const SOCKET_GRACE: Duration = Duration::from_secs(2);

/// What one lifecycle saw.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    /// The session id the server gave, when it uses sessions.
    pub(crate) session_id: Option<String>,
    /// What `close()` did, or why it failed.
    pub(crate) close: Result<CloseOutcome, String>,
    /// What the whoami-like tool answered (text and structured content), when probed.
    pub(crate) whoami: Option<String>,
    /// Our sockets to the server while the client was open (sequential runs only).
    pub(crate) sockets_open: Option<usize>,
    /// Our sockets to the server after `close()` (sequential runs only).
    pub(crate) sockets_after: Option<usize>,
    /// Why the lifecycle could not run to its close, when it could not.
    pub(crate) failure: Option<String>,
}

impl Lifecycle {
    /// A lifecycle that failed before its close.
    pub(crate) fn failed(err: &mcptool::Error) -> Lifecycle {
        Lifecycle {
            session_id: None,
            close: Ok(CloseOutcome::NoSession),
            whoami: None,
            sockets_open: None,
            sockets_after: None,
            failure: Some(err.to_string()),
        }
    }
}

/// Connects, calls `whoami` (or lists tools), closes; counts sockets when `count` is set.
pub(crate) async fn run(
    settings: &Settings,
    url: &str,
    whoami: Option<&str>,
    server: Option<&[SocketAddr]>,
) -> Result<Lifecycle, mcptool::Error> {
    let client = settings.builder(url).connect().await?;
    let session_id = client.session_id().map(|id| id.as_str().to_owned());
    let answer = match whoami {
        Some(tool) => {
            let result = client.call_tool(tool, json!({})).await;
            match result {
                Ok(result) => Some(whoami_text(&result)),
                Err(err) => {
                    let _ = client.close().await;
                    return Err(err);
                }
            }
        }
        None => {
            if let Err(err) = client.list_tools().await {
                let _ = client.close().await;
                return Err(err);
            }
            None
        }
    };
    let sockets_open = server.and_then(sockets::count_to);
    let started = std::time::Instant::now();
    let close = client.close().await.map_err(|e| e.to_string());
    let closed_in = started.elapsed();
    drop(client);
    let sockets_after = match server {
        Some(server) => sockets::wait_closed(server, SOCKET_GRACE).await,
        None => None,
    };
    tracing::debug!(
        ?closed_in,
        released_in = ?started.elapsed(),
        sockets_open,
        sockets_after,
        "lifecycle closed"
    );
    Ok(Lifecycle {
        session_id,
        close,
        whoami: answer,
        sockets_open,
        sockets_after,
        failure: None,
    })
}

fn whoami_text(result: &mcptool::protocol::CallToolResult) -> String {
    let mut text: Vec<String> = result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(str::to_owned))
        .collect();
    if let Some(structured) = &result.structured_content {
        text.push(structured.to_string());
    }
    text.join("\n")
}
