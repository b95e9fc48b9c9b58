//! Runs a rival SDK client written in another language: a script under `peers/bench/` that
//! makes all runs in one process and prints `{"runs": [<figures>, ...]}` on stdout.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use tokio::process::Command;

use crate::config::BenchConfig;
use crate::error::{Context, Error};
use crate::measure::Figures;

/// A script client: how to find its interpreter and what to run.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Script {
    /// `peers/bench/ts_client.mjs` under node, with the SDK from `.peers/node`.
    TypeScript,
    /// `peers/bench/py_client.py` under `.peers/py-mcp2/bin/python`.
    Python,
}

/// A script that can run, or why it cannot.
#[derive(Debug)]
pub(crate) struct Prepared {
    program: PathBuf,
    args: Vec<String>,
    envs: Vec<(&'static str, PathBuf)>,
}

#[derive(Deserialize)]
struct Output {
    runs: Vec<Figures>,
}

impl Script {
    /// Finds the interpreter and the installed SDK; `Err` says what is missing.
    pub(crate) fn prepare(self, root: &Path) -> Result<Prepared, String> {
        let scripts = root.join("peers/bench");
        match self {
            Script::TypeScript => {
                let modules = root.join(".peers/node");
                let sdk = modules.join("node_modules/@modelcontextprotocol/sdk/package.json");
                if !sdk.is_file() {
                    return Err(format!(
                        "the TypeScript SDK is not installed ({} is missing; run scripts/install-peers.sh)",
                        sdk.display()
                    ));
                }
                let node =
                    std::env::var_os("NODE").map_or_else(|| PathBuf::from("node"), PathBuf::from);
                Ok(Prepared {
                    program: node,
                    args: vec![path_arg(&scripts.join("ts_client.mjs"))],
                    envs: vec![("MCPTOOL_PEERS_NODE", modules)],
                })
            }
            Script::Python => {
                let python = root.join(".peers/py-mcp2/bin/python");
                if !python.is_file() {
                    return Err(format!(
                        "the Python SDK is not installed ({} is missing; run scripts/install-peers.sh)",
                        python.display()
                    ));
                }
                Ok(Prepared {
                    program: python,
                    args: vec![path_arg(&scripts.join("py_client.py"))],
                    envs: Vec::new(),
                })
            }
        }
    }
}

fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Runs the script for `config.runs` runs against `url`; kills it if it outlives its budget.
pub(crate) async fn run(
    prepared: &Prepared,
    url: &str,
    config: &BenchConfig,
) -> Result<Vec<Figures>, Error> {
    let limit = config.phase_limit.as_secs_f64();
    let mut command = Command::new(&prepared.program);
    command
        .args(&prepared.args)
        .args(["--url", url])
        .args(["--calls", &config.calls.to_string()])
        .args(["--concurrency", &config.concurrency.to_string()])
        .args(["--concurrent-calls", &config.concurrent_calls.to_string()])
        .args(["--lifecycles", &config.lifecycles.to_string()])
        .args(["--runs", &config.runs.to_string()])
        .args(["--time-limit", &limit.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for (key, value) in &prepared.envs {
        command.env(key, value);
    }
    let mut child = command
        .spawn()
        .context(&format!("starting {}", prepared.program.display()))?;
    let stdout = child.stdout.take();
    // Three phases per run, each bounded by the phase limit, plus start-up.
    let budget = config.phase_limit * 3 * config.runs as u32 + Duration::from_secs(60);
    let wait = async {
        let mut out = Vec::new();
        if let Some(mut stdout) = stdout {
            tokio::io::AsyncReadExt::read_to_end(&mut stdout, &mut out)
                .await
                .context("reading the script's output")?;
        }
        let status = child.wait().await.context("waiting for the script")?;
        Ok::<_, Error>((status, out))
    };
    let (status, out) = match tokio::time::timeout(budget, wait).await {
        Ok(done) => done?,
        Err(_) => {
            child.kill().await.context("stopping the script")?;
            return Err(Error::msg(format!(
                "the script ran over its {budget:?} budget"
            )));
        }
    };
    if !status.success() {
        return Err(Error::msg(format!("the script exited with {status}")));
    }
    let output: Output = serde_json::from_slice(&out).context("parsing the script's figures")?;
    if output.runs.is_empty() {
        return Err(Error::msg("the script reported no runs"));
    }
    Ok(output.runs)
}
