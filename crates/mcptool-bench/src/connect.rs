//! Connect to first answer: from a new mcptool client to the result of its first `tools/call`
//! (then close), in each era and each way of choosing it — pinned, detected by the client's own
//! probe, or detected once and lent through an [`EraCache`] — as ratios to the session era's
//! connect + initialize measured in the same run. Against a session-only server too, where the
//! automatic client's probe is a refused `server/discover` before `initialize`.

use mcptool::{Client, EraCache, ProtocolEra};
use mcptool_server::{Era, Server, ServerConfig};
use serde_json::json;

use crate::config::BenchConfig;
use crate::error::{Context, Error};
use crate::measure::{self, median};

/// One way of connecting, and the server it connects to.
#[derive(Clone, Copy, Debug)]
enum Case {
    /// Pinned to the session era (`initialize`): the baseline.
    Session,
    /// Pinned to 2026-07-28 (`server/discover`).
    Stateless,
    /// Automatic, each client probing for itself.
    Auto,
    /// Automatic, with a lent era cache that already knows the server.
    AutoCached,
}

impl Case {
    const ALL: [Case; 4] = [Case::Session, Case::Stateless, Case::Auto, Case::AutoCached];

    fn name(self) -> &'static str {
        match self {
            Case::Session => "session (initialize)",
            Case::Stateless => "2026-07-28 pinned (discover)",
            Case::Auto => "automatic, own probe",
            Case::AutoCached => "automatic, lent era cache",
        }
    }
}

/// The median connect-to-first-answer time of one case on one server.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectFigure {
    /// `dual-era` or `session-only`: the server measured against.
    pub server: &'static str,
    /// How the client chose its era.
    pub case: &'static str,
    /// Median milliseconds from building the client to its first answer, close included.
    pub ms: f64,
    /// Over the session era's pinned connect on the same server, in the same runs.
    pub ratio: f64,
}

async fn first_answer(url: &str, case: Case, cache: &EraCache) -> Result<(), Error> {
    let builder = Client::builder(url);
    let builder = match case {
        Case::Session => builder.protocol_era(ProtocolEra::Session),
        Case::Stateless => builder.protocol_era(ProtocolEra::Stateless),
        Case::Auto => builder.protocol_era(ProtocolEra::Auto),
        Case::AutoCached => builder.protocol_era(ProtocolEra::Auto).era_cache(cache),
    };
    let client = builder.connect().await.context("mcptool: connect")?;
    client
        .call_tool(super::subjects::TOOL, json!({"message": "hi"}))
        .await
        .context("mcptool: tools/call")?;
    client.close().await.context("mcptool: close")?;
    Ok(())
}

/// Every case on `url`, interleaved over the runs; the session case first (the baseline).
async fn measure_server(
    server: &'static str,
    url: &str,
    config: &BenchConfig,
    cases: &[Case],
) -> Result<Vec<ConnectFigure>, Error> {
    let cache = EraCache::new();
    let mut runs: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    for _ in 0..config.runs {
        for (i, &case) in cases.iter().enumerate() {
            let ms = measure::lifecycles(config.lifecycles, config.phase_limit, || {
                first_answer(url, case, &cache)
            })
            .await?;
            runs[i].push(ms);
        }
    }
    let baseline = &runs[0];
    Ok(cases
        .iter()
        .zip(&runs)
        .map(|(case, mine)| ConnectFigure {
            server,
            case: case.name(),
            ms: median(mine.iter().copied()),
            ratio: median(mine.iter().zip(baseline).map(|(m, b)| m / b)),
        })
        .collect())
}

/// Connect to first answer on the dual-era server at `url`, and on a session-only server this
/// starts for the purpose (when the benchmark runs its own servers).
pub(crate) async fn measure(
    url: &str,
    own_servers: bool,
    config: &BenchConfig,
) -> Result<Vec<ConnectFigure>, Error> {
    let mut figures = measure_server("dual-era", url, config, &Case::ALL).await?;
    if own_servers {
        let sessions = Server::start(ServerConfig::default().era(Era::Sessions))
            .await
            .context("start the session-only server")?;
        let cases = [Case::Session, Case::Auto, Case::AutoCached];
        let measured = measure_server("session-only", &sessions.url(), config, &cases).await;
        sessions.shutdown().await;
        figures.extend(measured?);
    }
    Ok(figures)
}
