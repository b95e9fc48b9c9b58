//! Session-era probes that need a live session: the protocol-version header, resumption
//! (do SSE responses carry event ids?), and a second standalone GET.

use super::probe::{Raw, sse_traits};
use super::report::Finding;
use crate::connect::Settings;
use crate::exit::CliError;

const VERSION: &str = "protocol-version-header";
const RESUME: &str = "resumption";
const SECOND_GET: &str = "second-standalone-get";

/// What a well-formed ping on the live session got: how it was framed, and its body.
#[derive(Debug)]
struct Ping {
    sse: bool,
    body: String,
}

/// Opens a session of its own (without a standalone stream) and probes it.
pub(crate) async fn probes(
    settings: &Settings,
    url: &str,
    raw: &Raw,
) -> Result<Vec<Finding>, CliError> {
    let client = settings
        .builder(url)
        .standalone_stream(false)
        .connect()
        .await
        .map_err(|e| CliError::from_mcp(e, "cannot start an MCP session", url))?;
    let id = client.session_id().map(|s| s.as_str().to_owned());
    let version = client
        .protocol_version()
        .map_or("2025-03-26", |v| v.as_str())
        .to_owned();
    let ping = ping(raw, id.as_deref(), &version).await;
    let version_finding = match &ping {
        Ok(_) => unsupported_version(raw, id.as_deref(), &version).await,
        Err(detail) => Finding::fail(VERSION, detail.clone()),
    };
    let resumption = match &ping {
        Ok(ping) => resumption(ping),
        Err(_) => Finding::warn(RESUME, "not probed: the ping on the live session failed"),
    };
    let second_get = match &id {
        Some(id) => second_get(raw, id, &version).await,
        None => Finding::skip(SECOND_GET, "the server gave no session id"),
    };
    let _ = client.close().await;
    Ok(vec![version_finding, second_get, resumption])
}

/// A ping with the negotiated version; `Err` is the failing detail.
async fn ping(raw: &Raw, id: Option<&str>, version: &str) -> Result<Ping, String> {
    match raw.ping(id, Some(version)).await {
        Ok(r) if r.status().is_success() => {
            let sse = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/event-stream"));
            Ok(Ping {
                sse,
                body: raw.body(r).await,
            })
        }
        Ok(r) => Err(format!(
            "a POST with MCP-Protocol-Version: {version} got {}",
            r.status().as_u16()
        )),
        Err(e) => Err(format!("probe failed: {e}")),
    }
}

/// `version` was accepted; does an unsupported one get 400?
async fn unsupported_version(raw: &Raw, id: Option<&str>, version: &str) -> Finding {
    let bogus = raw
        .ping(id, Some("1999-01-01"))
        .await
        .map(|r| r.status().as_u16());
    match bogus {
        Ok(400) => Finding::pass(
            VERSION,
            format!("{version} accepted; an unsupported version gets 400"),
        ),
        Ok(s) => Finding::warn(
            VERSION,
            format!("{version} accepted, but unsupported version 1999-01-01 got {s}, not 400"),
        ),
        Err(e) => Finding::warn(
            VERSION,
            format!("{version} accepted; the unsupported-version probe failed: {e}"),
        ),
    }
}

/// Can a cut response be resumed: SSE with event ids?
fn resumption(ping: &Ping) -> Finding {
    if !ping.sse {
        return Finding::warn(
            RESUME,
            "the server answers with JSON: a lost response cannot be resumed",
        );
    }
    let traits = sse_traits(&ping.body);
    if traits.ids == 0 {
        return Finding::warn(
            RESUME,
            "SSE responses carry no event ids: a cut stream cannot be resumed",
        );
    }
    let retry = traits
        .retry_ms
        .map(|r| format!(", retry {r} ms"))
        .unwrap_or_default();
    let priming = if traits.priming {
        "priming event"
    } else {
        "no priming event"
    };
    Finding::pass(
        RESUME,
        format!("SSE events carry ids ({priming}{retry}); GET with Last-Event-ID can resume"),
    )
}

async fn second_get(raw: &Raw, id: &str, version: &str) -> Finding {
    let first = match raw.get_stream(id, Some(version)).await {
        Ok(r) if r.status().as_u16() == 405 => {
            return Finding::pass(
                SECOND_GET,
                "the server offers no standalone GET stream (405)",
            );
        }
        Ok(r) if r.status().is_success() => r,
        Ok(r) => {
            return Finding::fail(
                SECOND_GET,
                format!("the first standalone GET got {}", r.status().as_u16()),
            );
        }
        Err(e) => {
            return Finding::fail(SECOND_GET, format!("the first standalone GET failed: {e}"));
        }
    };
    let second = raw
        .get_stream(id, Some(version))
        .await
        .map(|r| r.status().as_u16());
    drop(first);
    match second {
        Ok(409) => Finding::pass(
            SECOND_GET,
            "a second GET on the same session got 409 Conflict",
        ),
        Ok(s) if (200..300).contains(&s) => Finding::warn(
            SECOND_GET,
            format!(
                "a second GET on the same session was allowed ({s}): server messages may go to either stream"
            ),
        ),
        Ok(s) => Finding::warn(
            SECOND_GET,
            format!("a second GET on the same session got {s}"),
        ),
        Err(e) => Finding::warn(SECOND_GET, format!("the second GET failed: {e}")),
    }
}
