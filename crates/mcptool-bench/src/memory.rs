//! Memory and descriptor figures, measured in a child process so that only the client's memory
//! counts: the benchmark re-runs its own executable with [`CHILD_ENV`] set, the child opens
//! sessions against the parent's server and prints what `/proc/self` says.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::process::Command;

use crate::error::{Context, Error, chain};
use crate::measure::median;
use crate::subjects::rmcp::install_crypto_provider;

/// Set in a child's environment to the JSON of what it should measure.
pub const CHILD_ENV: &str = "MCPTOOL_BENCH_CHILD";

/// Which client a child measures.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(crate) enum ChildClient {
    /// `mcptool::Client`.
    Mcptool,
    /// rmcp with its defaults.
    Rmcp,
}

#[derive(Debug, Serialize, Deserialize)]
struct ChildRequest {
    url: String,
    client: ChildClient,
    sessions: Vec<usize>,
    fd_lifecycles: usize,
}

/// What a memory child measured.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct MemoryFigures {
    /// RSS growth per idle open session, KiB, keyed by the number of sessions held open.
    pub rss_per_idle_session_kib: BTreeMap<usize, f64>,
    /// Lifecycles (connect + initialize + close) between the two descriptor counts.
    pub fd_lifecycles: usize,
    /// Open file descriptors before the lifecycles.
    pub fds_before: usize,
    /// Open file descriptors after them.
    pub fds_after: usize,
}

impl MemoryFigures {
    /// Several children's figures as one: the median RSS per session at each count, and the
    /// descriptor counts of the child that ended with the most open (a leak shows there).
    pub(crate) fn combine(all: &[MemoryFigures]) -> MemoryFigures {
        let mut rss = BTreeMap::new();
        for count in all.iter().flat_map(|m| m.rss_per_idle_session_kib.keys()) {
            let values = all
                .iter()
                .filter_map(|m| m.rss_per_idle_session_kib.get(count).copied());
            rss.insert(*count, median(values));
        }
        let worst = all
            .iter()
            .max_by_key(|m| m.fds_after.saturating_sub(m.fds_before));
        MemoryFigures {
            rss_per_idle_session_kib: rss,
            fd_lifecycles: worst.map_or(0, |m| m.fd_lifecycles),
            fds_before: worst.map_or(0, |m| m.fds_before),
            fds_after: worst.map_or(0, |m| m.fds_after),
        }
    }
}

/// Runs the memory child and exits the process when [`CHILD_ENV`] is set; returns otherwise.
///
/// Call it first thing in `main` of any program that runs the benchmark: the benchmark starts
/// its own executable again, with the same arguments, to measure memory in a clean process.
pub fn run_child_if_requested() {
    let Some(request) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let outcome = serde_json::from_str::<ChildRequest>(&request.to_string_lossy())
        .context("parsing the memory child's request")
        .and_then(|request| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("building the child's runtime")?;
            runtime.block_on(child(&request))
        });
    match outcome.and_then(|figures| serde_json::to_string(&figures).context("encoding")) {
        Ok(json) => {
            println!("{json}");
            std::process::exit(0);
        }
        Err(err) => {
            eprintln!("memory child: {}", chain(&err));
            std::process::exit(1);
        }
    }
}

/// Starts a child that measures `client` against `url` and waits for its figures.
pub(crate) async fn measure(
    url: &str,
    client: ChildClient,
    sessions: &[usize],
    fd_lifecycles: usize,
    budget: Duration,
) -> Result<MemoryFigures, Error> {
    let request = ChildRequest {
        url: url.to_owned(),
        client,
        sessions: sessions.to_vec(),
        fd_lifecycles,
    };
    let exe = std::env::current_exe().context("finding the benchmark's executable")?;
    let mut child = Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(
            CHILD_ENV,
            serde_json::to_string(&request).context("encoding")?,
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("starting the memory child")?;
    let stdout = child.stdout.take();
    let wait = async {
        let mut out = Vec::new();
        if let Some(mut stdout) = stdout {
            tokio::io::AsyncReadExt::read_to_end(&mut stdout, &mut out)
                .await
                .context("reading the memory child's output")?;
        }
        let status = child.wait().await.context("waiting for the memory child")?;
        Ok::<_, Error>((status, out))
    };
    let (status, out) = match tokio::time::timeout(budget, wait).await {
        Ok(done) => done?,
        Err(_) => {
            child.kill().await.context("stopping the memory child")?;
            return Err(Error::msg(format!(
                "the memory child ran over its {budget:?} budget"
            )));
        }
    };
    if !status.success() {
        return Err(Error::msg(format!("the memory child exited with {status}")));
    }
    serde_json::from_slice(&out).context("parsing the memory child's figures")
}

async fn child(request: &ChildRequest) -> Result<MemoryFigures, Error> {
    install_crypto_provider();
    let url = request.url.as_str();
    // Warm up: lazily built process-wide state (TLS roots, runtime threads) is not per session.
    let warm = open(url, request.client).await?;
    warm.close().await?;
    tokio::time::sleep(Duration::from_millis(100)).await;

    let fds_before = open_fds()?;
    for _ in 0..request.fd_lifecycles {
        open(url, request.client).await?.close().await?;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fds_after = open_fds()?;

    let mut sessions = request.sessions.clone();
    sessions.sort_unstable();
    let base = vm_rss_kib()?;
    let mut held = Vec::with_capacity(sessions.last().copied().unwrap_or(0));
    let mut rss = BTreeMap::new();
    for &count in &sessions {
        while held.len() < count {
            held.push(open(url, request.client).await?);
        }
        // Let background work settle before reading the figure.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let grown = vm_rss_kib()?.saturating_sub(base);
        rss.insert(count, grown as f64 / count.max(1) as f64);
    }
    for session in held {
        session.close().await?;
    }
    Ok(MemoryFigures {
        rss_per_idle_session_kib: rss,
        fd_lifecycles: request.fd_lifecycles,
        fds_before,
        fds_after,
    })
}

/// One open session of either client.
enum Session {
    Mcptool(mcptool::Client),
    Rmcp(rmcp::service::RunningService<rmcp::service::RoleClient, ()>),
}

async fn open(url: &str, client: ChildClient) -> Result<Session, Error> {
    match client {
        // No standalone GET stream: 10 000 of them would need 20 000 descriptors on each side.
        // The session era, pinned: what an idle session costs is the question.
        ChildClient::Mcptool => mcptool::Client::builder(url)
            .protocol_era(mcptool::ProtocolEra::Session)
            .standalone_stream(false)
            .connect()
            .await
            .map(Session::Mcptool)
            .context("mcptool: connect"),
        ChildClient::Rmcp => {
            use rmcp::ServiceExt;
            let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(url);
            ().serve(transport)
                .await
                .map(Session::Rmcp)
                .context("rmcp: connect")
        }
    }
}

impl Session {
    async fn close(self) -> Result<(), Error> {
        match self {
            Session::Mcptool(client) => {
                client.close().await.context("mcptool: close")?;
            }
            Session::Rmcp(service) => {
                service.cancel().await.context("rmcp: close")?;
            }
        }
        Ok(())
    }
}

/// The resident set size of this process, KiB.
fn vm_rss_kib() -> Result<u64, Error> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| Error::msg("no VmRSS in /proc/self/status"))
}

/// How many file descriptors this process holds open.
fn open_fds() -> Result<usize, Error> {
    Ok(std::fs::read_dir("/proc/self/fd")
        .context("reading /proc/self/fd")?
        .count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combine_takes_median_rss_and_the_worst_descriptor_count() {
        let one = |kib: f64, after: usize| MemoryFigures {
            rss_per_idle_session_kib: BTreeMap::from([(100, kib)]),
            fd_lifecycles: 10,
            fds_before: 12,
            fds_after: after,
        };
        let combined = MemoryFigures::combine(&[one(30.0, 12), one(10.0, 15), one(20.0, 12)]);
        assert_eq!(combined.rss_per_idle_session_kib[&100], 20.0);
        assert_eq!((combined.fds_before, combined.fds_after), (12, 15));
    }
}
