//! What one benchmark run measures, and how much of it.

use std::path::PathBuf;
use std::time::Duration;

/// Every knob of a run. [`BenchConfig::full`] is the published benchmark,
/// [`BenchConfig::smoke`] a short run that proves the machinery works.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    /// Measure against this server; `None` starts the in-repo server in-process on 127.0.0.1.
    /// With a URL only `floor` and `mcptool` are measured.
    pub url: Option<String>,
    /// Sequential `tools/call` calls per run (after a warm-up of a tenth of them).
    pub calls: usize,
    /// Concurrent callers (the floor opens one keep-alive connection per caller).
    pub concurrency: usize,
    /// Calls per run of the concurrent phase, all callers together.
    pub concurrent_calls: usize,
    /// connect + initialize + close lifecycles per run.
    pub lifecycles: usize,
    /// Runs per client; figures are medians over them.
    pub runs: usize,
    /// Idle sessions held open for the RSS figure, each a separate step.
    pub sessions: Vec<usize>,
    /// Lifecycles before counting open file descriptors again.
    pub fd_lifecycles: usize,
    /// Upper bound of every load loop: a phase stops at its count or at this time.
    pub phase_limit: Duration,
    /// Measure rmcp, the TypeScript SDK and the Python SDK (only against the in-process server).
    pub rivals: bool,
    /// The repository root, where `peers/bench/` and `.peers/` live.
    pub repo_root: PathBuf,
    /// Measure only these clients (by their report names); empty measures all. The floor is
    /// always measured: every ratio is taken against it.
    pub only: Vec<String>,
    /// Measure memory (RSS per idle session, descriptors after lifecycles) in child processes.
    pub memory: bool,
}

impl BenchConfig {
    /// Whether the client named `name` is to be measured.
    pub fn wants(&self, name: &str) -> bool {
        name == "floor" || self.only.is_empty() || self.only.iter().any(|n| n == name)
    }

    /// The published benchmark: 2 000 sequential calls, 64 callers, 5 runs, 1 000 and 10 000
    /// idle sessions, 10 000 lifecycles for the descriptor count.
    pub fn full() -> BenchConfig {
        BenchConfig {
            url: None,
            calls: 2_000,
            concurrency: 64,
            concurrent_calls: 20_000,
            lifecycles: 200,
            runs: 5,
            sessions: vec![1_000, 10_000],
            fd_lifecycles: 10_000,
            phase_limit: Duration::from_secs(20),
            rivals: true,
            repo_root: default_repo_root(),
            only: Vec::new(),
            memory: true,
        }
    }

    /// A few hundred calls and 100 sessions: for CI, to prove that every part runs.
    pub fn smoke() -> BenchConfig {
        BenchConfig {
            calls: 300,
            concurrency: 8,
            concurrent_calls: 400,
            lifecycles: 20,
            runs: 2,
            sessions: vec![100],
            fd_lifecycles: 100,
            phase_limit: Duration::from_secs(10),
            ..BenchConfig::full()
        }
    }
}

/// The repository this crate was built from; `MCPTOOL_REPO` overrides it.
fn default_repo_root() -> PathBuf {
    if let Some(root) = std::env::var_os("MCPTOOL_REPO") {
        return PathBuf::from(root);
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}
