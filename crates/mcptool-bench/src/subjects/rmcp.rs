//! Runs the rmcp (Rust SDK) client through the three phases, with its defaults (a fresh
//! connection per request) or with a pooled `reqwest` client, in the session era (`initialize`)
//! or in 2026-07-28 (rmcp 3.11's `ClientLifecycleMode::Discover`: `server/discover`, then
//! `_meta` on every request, no session).

use mcptool::ProtocolEra;
use rmcp::model::{CallToolRequestParams, ProtocolVersion};
use rmcp::service::{Peer, RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientLifecycleMode, ClientServiceExt};
use serde_json::{Map, Value};

use super::TOOL;
use crate::config::BenchConfig;
use crate::error::{Context, Error};
use crate::measure::{self, Figures};

/// How the rmcp client is set up.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Setup {
    /// `StreamableHttpClientTransport::from_uri`: rmcp's defaults, connection reuse off.
    Defaults,
    /// A `reqwest` client with pooling and `TCP_NODELAY`, and room for every caller in flight.
    Pooled { max_in_flight: usize },
}

type Service = RunningService<RoleClient, ()>;

/// Provides the process-wide crypto provider rmcp's default `reqwest` client needs (our
/// `reqwest` is built without one; the benchmark speaks plain HTTP).
pub(crate) fn install_crypto_provider() {
    // An error means that one is installed already, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// How rmcp starts in `era`: `initialize`, or `server/discover` pinned to 2026-07-28.
fn lifecycle_mode(era: ProtocolEra) -> Result<ClientLifecycleMode, Error> {
    match era {
        ProtocolEra::Session => Ok(ClientLifecycleMode::Initialize),
        ProtocolEra::Stateless => Ok(ClientLifecycleMode::Discover {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        }),
        other => Err(Error::msg(format!(
            "rmcp: no benchmark setup for {other:?}"
        ))),
    }
}

async fn connect(url: &str, setup: Setup, era: ProtocolEra) -> Result<Service, Error> {
    let transport = match setup {
        Setup::Defaults => StreamableHttpClientTransport::from_uri(url),
        Setup::Pooled { max_in_flight } => {
            let http = reqwest::Client::builder()
                .tcp_nodelay(true)
                .build()
                .context("rmcp: building the pooled reqwest client")?;
            let config = StreamableHttpClientTransportConfig::with_uri(url)
                .max_concurrent_requests(max_in_flight);
            StreamableHttpClientTransport::with_client(http, config)
        }
    };
    ().serve_with_lifecycle(transport, lifecycle_mode(era)?)
        .await
        .context("rmcp: connect")
}

async fn call(peer: Peer<RoleClient>) -> Result<Peer<RoleClient>, Error> {
    let mut arguments = Map::new();
    arguments.insert("message".to_owned(), Value::from("hi"));
    let params = CallToolRequestParams::new(TOOL).with_arguments(arguments);
    let result = peer.call_tool(params).await.context("rmcp: tools/call")?;
    if result.is_error == Some(true) {
        return Err(Error::msg("rmcp: the echo tool reported an error"));
    }
    Ok(peer)
}

async fn lifecycle(url: &str, setup: Setup, era: ProtocolEra) -> Result<(), Error> {
    let service = connect(url, setup, era).await?;
    service.cancel().await.context("rmcp: close")?;
    Ok(())
}

/// One run of rmcp in `era` against `url`.
pub(crate) async fn run(
    url: &str,
    config: &BenchConfig,
    setup: Setup,
    era: ProtocolEra,
) -> Result<Figures, Error> {
    install_crypto_provider();
    let service = connect(url, setup, era).await?;
    let peer = service.peer().clone();
    let (seq, peer) = measure::sequential(peer, config.calls, config.phase_limit, call).await?;
    let workers = vec![peer; config.concurrency];
    let concurrent =
        measure::concurrent(workers, config.concurrent_calls, config.phase_limit, call).await?;
    service.cancel().await.context("rmcp: close")?;

    let connect_close_ms = measure::lifecycles(config.lifecycles, config.phase_limit, || {
        lifecycle(url, setup, era)
    })
    .await?;
    Ok(Figures::of_phases(&seq, concurrent, connect_close_ms))
}
