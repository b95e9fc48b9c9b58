//! One tool lifecycle as an agent runs it — connect, call, close — and what it left behind.

use std::net::SocketAddr;
use std::time::Duration;

use mcptool::{Client, CloseOutcome};
use serde_json::json;

use super::report::Finding;
use super::sockets;
use crate::connect::Settings;

/// How long a closed client may take to let go of its sockets.
pub(crate) const SOCKET_GRACE: Duration = Duration::from_secs(2);

/// How long a sequential lifecycle waits for its notification stream's connection.
const LISTEN_GRACE: Duration = Duration::from_secs(1);

/// What a lifecycle calls while it is open.
#[derive(Clone, Debug)]
pub(crate) enum Call {
    /// `tools/list` only: the server has no tool that tells callers apart.
    List,
    /// A tool without arguments that names the caller's session (`whoami`).
    Whoami(String),
    /// An echo tool, with a payload this lifecycle alone sends.
    Echo {
        tool: String,
        field: String,
        payload: String,
    },
}

/// What one lifecycle saw.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    /// The session id the server gave, when it uses sessions.
    pub(crate) session_id: Option<String>,
    /// What `close()` did, or why it failed.
    pub(crate) close: Result<CloseOutcome, String>,
    /// What the called tool answered (text and structured content), when one was called.
    pub(crate) answer: Option<String>,
    /// The payload an echo tool was sent, to find in its answer.
    pub(crate) payload: Option<String>,
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
            answer: None,
            payload: None,
            sockets_open: None,
            sockets_after: None,
            failure: Some(err.to_string()),
        }
    }
}

/// Connects, makes `call`, closes; counts sockets when `server` is given. With `listen` the
/// client subscribes to notifications first, so that it holds a notification stream (the
/// standalone GET, or `subscriptions/listen` in 2026-07-28) that `close()` must end too.
pub(crate) async fn run(
    settings: &Settings,
    url: &str,
    call: &Call,
    server: Option<&[SocketAddr]>,
    listen: bool,
) -> Result<Lifecycle, mcptool::Error> {
    let client = settings.builder(url).connect().await?;
    let session_id = client.session_id().map(|id| id.as_str().to_owned());
    let notifications = listen.then(|| client.notifications());
    let answer = match make_call(&client, call).await {
        Ok(answer) => answer,
        Err(err) => {
            let _ = client.close().await;
            return Err(err);
        }
    };
    let sockets_open = match server {
        // The notification stream opens in the background: over HTTP/1.1 it is a second
        // connection beside the one the calls used, so wait (briefly) until it shows.
        Some(server) if listen => sockets::wait_open(server, 2, LISTEN_GRACE).await,
        Some(server) => sockets::count_to(server),
        None => None,
    };
    let started = std::time::Instant::now();
    let close = client.close().await.map_err(|e| e.to_string());
    drop((client, notifications));
    let sockets_after = match server {
        Some(server) => sockets::wait_closed(server, SOCKET_GRACE).await,
        None => None,
    };
    tracing::debug!(released_in = ?started.elapsed(), sockets_open, sockets_after, "lifecycle closed");
    Ok(Lifecycle {
        session_id,
        close,
        answer,
        payload: match call {
            Call::Echo { payload, .. } => Some(payload.clone()),
            Call::List | Call::Whoami(_) => None,
        },
        sockets_open,
        sockets_after,
        failure: None,
    })
}

async fn make_call(client: &Client, call: &Call) -> Result<Option<String>, mcptool::Error> {
    let arguments = match call {
        Call::List => {
            client.list_tools().await?;
            return Ok(None);
        }
        Call::Whoami(_) => json!({}),
        Call::Echo { field, payload, .. } => json!({ field.as_str(): payload }),
    };
    let (Call::Whoami(tool) | Call::Echo { tool, .. }) = call else {
        return Ok(None);
    };
    let result = client.call_tool(tool, arguments).await?;
    Ok(Some(answer_text(&result)))
}

fn answer_text(result: &mcptool::protocol::CallToolResult) -> String {
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

/// Sockets left open after each sequential close and after the concurrent ones; `streams`
/// names the notification stream each client held, for the detail.
pub(crate) fn leftover_connections(
    sequential: &[Lifecycle],
    concurrent_left: Option<usize>,
    streams: &str,
) -> Finding {
    const NAME: &str = "no-leftover-connections";
    let after: Vec<usize> = sequential.iter().filter_map(|l| l.sockets_after).collect();
    if after.len() != sequential.len() {
        return Finding::warn(
            NAME,
            format!("not counted: {} is not readable here", sockets::METHOD),
        );
    }
    let open_max = sequential.iter().filter_map(|l| l.sockets_open).max();
    let left: usize = after.iter().sum();
    if left > 0 {
        return Finding::fail(
            NAME,
            format!(
                "{left} sockets to the server still open after close ({} lifecycles; {})",
                sequential.len(),
                sockets::METHOD
            ),
        );
    }
    let concurrent_left = concurrent_left.unwrap_or(0);
    if concurrent_left > 0 {
        return Finding::fail(
            NAME,
            format!("{concurrent_left} sockets still open after the concurrent lifecycles closed"),
        );
    }
    Finding::pass(
        NAME,
        format!(
            "up to {} sockets while open ({streams}), 0 after each of {} closes and after the concurrent ones",
            open_max.unwrap_or(0),
            sequential.len()
        ),
    )
}

/// A failing finding named `name` when any lifecycle failed: how many, and the first reason.
pub(crate) fn failed_lifecycles(name: &'static str, all: &[&Lifecycle]) -> Option<Finding> {
    let failures: Vec<&str> = all.iter().filter_map(|l| l.failure.as_deref()).collect();
    let first = failures.first()?;
    Some(Finding::fail(
        name,
        format!(
            "{} of {} lifecycles failed: {first}",
            failures.len(),
            all.len()
        ),
    ))
}
