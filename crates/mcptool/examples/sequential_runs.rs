//! The seed scenario: an agent service that, for every run, creates an MCP tool, connects,
//! invokes one function and closes the tool — many times, one after another or in `C` loops
//! side by side. Every run must get its own session and leave nothing open behind it.
//!
//! ```text
//! cargo run -p mcptool --example sequential_runs -- --runs 100 --concurrency 4
//! cargo run -p mcptool --example sequential_runs -- --url http://127.0.0.1:8081/mcp \
//!     --tool echo --args '{"message":"hi"}'
//! ```
//!
//! Without `--url` it starts the in-repo strict server in-process. It prints one line per run
//! (run number, redacted session id, close outcome), then a summary, and exits non-zero if any
//! run failed.

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::Parser;
use mcptool::McpStreamableHttpTool;
use serde_json::Value;

#[derive(Parser, Debug)]
#[command(about = "Create, connect, invoke and close an MCP tool per run")]
struct Args {
    /// The MCP endpoint; default: start the strict server in-process.
    #[arg(long)]
    url: Option<String>,
    /// How many runs in all.
    #[arg(long, default_value_t = 10)]
    runs: usize,
    /// How many loops run side by side, sharing the runs between them.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// The function to invoke in each run.
    #[arg(long, default_value = "whoami")]
    tool: String,
    /// Its arguments, as a JSON object.
    #[arg(long, default_value = "{}")]
    args: String,
}

/// What one run ended with.
struct RunReport {
    session: Option<String>,
    full_session: Option<String>,
    outcome: Result<String, String>,
}

async fn one_run(url: &str, function: &str, arguments: &Value) -> RunReport {
    let mut report = RunReport {
        session: None,
        full_session: None,
        outcome: Err(String::new()),
    };
    let tool = match McpStreamableHttpTool::builder("seed", url).build() {
        Ok(tool) => tool,
        Err(e) => {
            report.outcome = Err(format!("build: {e}"));
            return report;
        }
    };
    if let Err(e) = tool.connect().await {
        report.outcome = Err(format!("connect: {e}"));
        return report;
    }
    if let Some(id) = tool.session_id() {
        report.session = Some(id.to_string());
        report.full_session = Some(id.as_str().to_owned());
    }
    let invoked = tool.invoke(function, arguments.clone()).await;
    let closed = tool.close().await;
    report.outcome = match (invoked, closed) {
        (Ok(out), Ok(close)) if !out.is_error() => Ok(format!("{close:?}")),
        (Ok(out), Ok(_)) => Err(format!("{:?}: {}", out.kind, out.text())),
        (Err(e), _) => Err(format!("invoke: {e}")),
        (_, Err(e)) => Err(format!("close: {e}")),
    };
    report
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let arguments: Value = match serde_json::from_str(&args.args) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("--args is not JSON: {e}");
            return ExitCode::from(2);
        }
    };
    let server = match &args.url {
        Some(_) => None,
        None => {
            match mcptool_server::Server::start(mcptool_server::ServerConfig::default()).await {
                Ok(s) => Some(s),
                Err(e) => {
                    eprintln!("cannot start the embedded server: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    let url = args
        .url
        .clone()
        .or_else(|| server.as_ref().map(|s| s.url()))
        .unwrap_or_default();

    let next_run = Arc::new(Mutex::new(0usize));
    let sessions = Arc::new(Mutex::new(HashSet::new()));
    let failures = Arc::new(Mutex::new(0usize));
    let loops: Vec<_> = (0..args.concurrency.max(1))
        .map(|_| {
            let (url, function, arguments) = (url.clone(), args.tool.clone(), arguments.clone());
            let (next_run, sessions, failures) = (
                Arc::clone(&next_run),
                Arc::clone(&sessions),
                Arc::clone(&failures),
            );
            let total = args.runs;
            tokio::spawn(async move {
                loop {
                    let run = {
                        let mut next = next_run.lock().expect("lock");
                        if *next >= total {
                            return;
                        }
                        *next += 1;
                        *next
                    };
                    let report = one_run(&url, &function, &arguments).await;
                    let session = report.session.as_deref().unwrap_or("-");
                    match &report.outcome {
                        Ok(close) => println!("run {run}: session {session} closed: {close}"),
                        Err(e) => {
                            println!("run {run}: session {session} FAILED: {e}");
                            *failures.lock().expect("lock") += 1;
                        }
                    }
                    if let Some(id) = report.full_session {
                        sessions.lock().expect("lock").insert(id);
                    }
                }
            })
        })
        .collect();
    for l in loops {
        if l.await.is_err() {
            *failures.lock().expect("lock") += 1;
        }
    }
    let failures = *failures.lock().expect("lock");
    let distinct = sessions.lock().expect("lock").len();
    println!(
        "runs: {}, distinct sessions: {distinct}, failures: {failures}",
        args.runs
    );
    if let Some(server) = server {
        let s = server.stats().snapshot();
        println!(
            "server saw: sessions opened {}, deleted {}, open connections {}, 409s {}",
            s.sessions_opened,
            s.sessions_deleted,
            s.open_connections,
            s.status_counts.get(&409).copied().unwrap_or(0)
        );
        server.shutdown().await;
    }
    let succeeded = args.runs.saturating_sub(failures);
    if distinct < succeeded {
        println!("a session was used by more than one run");
        return ExitCode::FAILURE;
    }
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
