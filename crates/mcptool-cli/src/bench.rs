//! `mcptool bench`: the side-by-side benchmark of `mcptool-bench`, from the command line.
//!
//! Without `--url` it starts the strict server in this process and measures the floor,
//! mcptool and the rival clients; with `--url` only the floor and mcptool. The benchmark
//! re-runs this executable (same arguments) as its memory child, so `run` hands over to the
//! child first.

use mcptool_bench::{BenchConfig, chain};

use crate::connect::Common;
use crate::exit::{CliError, CliResult, Exit};

/// Options of `mcptool bench`; `--url` and `--json` are the global flags.
#[derive(Debug, clap::Args)]
pub(crate) struct BenchArgs {
    /// Sequential tools/call calls per run (default 2000; 300 with --smoke).
    #[arg(long, value_name = "N")]
    calls: Option<usize>,
    /// Concurrent callers (default 64; 8 with --smoke).
    #[arg(long, value_name = "C")]
    concurrency: Option<usize>,
    /// Calls per run with all callers together (default 20000; 400 with --smoke).
    #[arg(long, value_name = "N")]
    concurrent_calls: Option<usize>,
    /// connect + initialize + close lifecycles per run (default 200; 20 with --smoke).
    #[arg(long, value_name = "N")]
    lifecycles: Option<usize>,
    /// Runs per client; figures are medians over them (default 5; 2 with --smoke).
    #[arg(long, value_name = "R")]
    runs: Option<usize>,
    /// Measure only the floor and mcptool, not rmcp, the TypeScript SDK or the Python SDK.
    #[arg(long)]
    no_rivals: bool,
    /// A short run (a few hundred calls, 100 sessions) that proves everything works.
    #[arg(long)]
    smoke: bool,
    /// Measure only these clients, comma-separated (floor, reqwest_raw, hyper_pooled, mcptool,
    /// rmcp, rmcp_pooled, typescript_sdk, python_sdk, each also with a _stateless suffix for
    /// 2026-07-28, and connect for mcptool's connect to first answer); the floor is always
    /// measured.
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    clients: Vec<String>,
    /// Skip the memory figures (RSS per idle session, descriptors after lifecycles).
    #[arg(long)]
    no_memory: bool,
}

/// Runs the benchmark and prints its table, or with `--json` one object keyed by client.
pub(crate) fn run(common: &Common, args: &BenchArgs) -> CliResult {
    mcptool_bench::run_child_if_requested();
    let mut config = if args.smoke {
        BenchConfig::smoke()
    } else {
        BenchConfig::full()
    };
    config.url.clone_from(&common.url);
    config.rivals = !args.no_rivals;
    config.only.clone_from(&args.clients);
    config.memory = !args.no_memory;
    if let Some(calls) = args.calls {
        config.calls = calls.max(1);
    }
    if let Some(concurrency) = args.concurrency {
        config.concurrency = concurrency.max(1);
    }
    if let Some(calls) = args.concurrent_calls {
        config.concurrent_calls = calls.max(1);
    }
    if let Some(lifecycles) = args.lifecycles {
        config.lifecycles = lifecycles.max(1);
    }
    if let Some(runs) = args.runs {
        config.runs = runs.max(1);
    }
    let report = mcptool_bench::run(&config).map_err(|err| {
        CliError::connection(format!("benchmark failed: {}", chain(&err)))
            .hint("run with -v for details; with --url, is the server an MCP endpoint over http?")
    })?;
    if common.json {
        println!("{:#}", report.to_json());
    } else {
        println!("{}", report.to_markdown());
    }
    Ok(Exit::Ok)
}
