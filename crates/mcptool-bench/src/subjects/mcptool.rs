//! Runs the mcptool client, with its defaults, through the three phases: in the session era,
//! or pinned to 2026-07-28 (the same server serves both).

use mcptool::{Client, ProtocolEra};
use serde_json::json;

use super::TOOL;
use crate::config::BenchConfig;
use crate::error::{Context, Error};
use crate::measure::{self, Figures};

async fn call(client: Client) -> Result<Client, Error> {
    let result = client
        .call_tool(TOOL, json!({"message": "hi"}))
        .await
        .context("mcptool: tools/call")?;
    if result.is_error {
        return Err(Error::msg("mcptool: the echo tool reported an error"));
    }
    Ok(client)
}

async fn lifecycle(url: &str, era: ProtocolEra) -> Result<(), Error> {
    let client = Client::builder(url)
        .protocol_era(era)
        .connect()
        .await
        .context("mcptool: connect")?;
    client.close().await.context("mcptool: close")?;
    Ok(())
}

/// One run of mcptool in `era` against `url`: one client for the sequential and concurrent
/// phases (its callers share its pool), a fresh client per lifecycle (connect to the first
/// answer: `initialize` or `server/discover`, then close).
pub(crate) async fn run(
    url: &str,
    config: &BenchConfig,
    era: ProtocolEra,
) -> Result<Figures, Error> {
    let client = Client::builder(url)
        .protocol_era(era)
        .connect()
        .await
        .context("mcptool: connect")?;
    let (seq, client) = measure::sequential(client, config.calls, config.phase_limit, call).await?;
    let workers = vec![client.clone(); config.concurrency];
    let concurrent =
        measure::concurrent(workers, config.concurrent_calls, config.phase_limit, call).await?;
    client.close().await.context("mcptool: close")?;

    let connect_close_ms = measure::lifecycles(config.lifecycles, config.phase_limit, || {
        lifecycle(url, era)
    })
    .await?;
    Ok(Figures::of_phases(&seq, concurrent, connect_close_ms))
}
