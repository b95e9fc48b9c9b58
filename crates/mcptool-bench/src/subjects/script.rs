//! Runs a rival SDK client written in another language: a script under `peers/bench/` that
//! makes all runs in one process and prints `{"runs": [<figures>, ...]}` on stdout, in the
//! session era or, with `--protocol 2026-07-28`, in the stateless era.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use mcptool::ProtocolEra;
use serde::Deserialize;
use tokio::process::Command;

use crate::config::BenchConfig;
use crate::error::{Context, Error};
use crate::measure::Figures;

/// A script client: how to find its interpreter and what to run.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Script {
    /// `peers/bench/ts_client.mjs` under node, from `.peers/node`: the SDK 1.x in the session
    /// era, the client 2.x (`@modelcontextprotocol/client`) in 2026-07-28.
    TypeScript,
    /// `peers/bench/py_client.py` under `.peers/py-mcp2/bin/python` (`mcp` 2.x in both eras).
    Python,
}

/// The `--protocol` value a script takes for `era`.
fn protocol_arg(era: ProtocolEra) -> Result<&'static str, String> {
    match era {
        ProtocolEra::Session => Ok("session"),
        ProtocolEra::Stateless => Ok("2026-07-28"),
        other => Err(format!("no script setup for {other:?}")),
    }
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
    /// Finds the interpreter and the installed SDK for `era`; `Err` says what is missing.
    pub(crate) fn prepare(self, root: &Path, era: ProtocolEra) -> Result<Prepared, String> {
        let scripts = root.join("peers/bench");
        let protocol = ["--protocol".to_owned(), protocol_arg(era)?.to_owned()];
        match self {
            Script::TypeScript => {
                let modules = root.join(".peers/node");
                let package = match era {
                    ProtocolEra::Stateless => "client",
                    _ => "sdk",
                };
                let sdk = modules.join(format!(
                    "node_modules/@modelcontextprotocol/{package}/package.json"
                ));
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
                    args: [path_arg(&scripts.join("ts_client.mjs"))]
                        .into_iter()
                        .chain(protocol)
                        .collect(),
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
                    args: [path_arg(&scripts.join("py_client.py"))]
                        .into_iter()
                        .chain(protocol)
                        .collect(),
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
