//! Real third-party clients speaking MCP 2026-07-28 (stateless) against the strict server.
//!
//! Each test starts the server in-process on 127.0.0.1, runs one peer client script of
//! `peers/clients/` with the server's URL, and checks the one JSON object it prints: the script
//! pins 2026-07-28 (no fallback to the session era), calls `server/discover`, lists the tools,
//! calls `echo`, answers the `ask` tool's `input_required` elicitation through the client's own
//! handler (MRTR), opens `subscriptions/listen` for tool list changes, calls `toggle_tools` and
//! waits for `notifications/tools/list_changed`, then lists the tools again.
//!
//! The clients come from `scripts/install-peers.sh`: PyPI `mcp` 2.x in `.peers/py-mcp2` and npm
//! `@modelcontextprotocol/client` 2.x in `.peers/node`. A missing client skips the test with a
//! visible message, or fails it when `MCPTOOL_REQUIRE_PEERS=1` (CI).

use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mcptool_server::{Server, ServerConfig};
use serde_json::Value;

/// The protocol revision both clients must speak.
const VERSION: &str = "2026-07-28";
/// Set to `1` to turn a missing client into a test failure (CI sets it).
const REQUIRE_ENV: &str = "MCPTOOL_REQUIRE_PEERS";
/// How long a client script may run before it is killed (the scripts give up by themselves at 28 s).
const SCRIPT_LIMIT: Duration = Duration::from_secs(30);

/// One peer client script and how to run it.
#[derive(Debug)]
struct PeerClient {
    name: &'static str,
    program: PathBuf,
    script: PathBuf,
    /// Files that must exist for the client to run.
    needed: Vec<PathBuf>,
    env: Vec<(&'static str, PathBuf)>,
}

impl PeerClient {
    fn python(root: &Path) -> Self {
        let python = root.join(".peers/py-mcp2/bin/python");
        Self {
            name: "python mcp 2.x client",
            program: python.clone(),
            script: root.join("peers/clients/py_modern.py"),
            needed: vec![python],
            env: Vec::new(),
        }
    }

    fn typescript(root: &Path) -> Self {
        let peers = root.join(".peers/node");
        Self {
            name: "typescript @modelcontextprotocol/client 2.x",
            program: PathBuf::from("node"),
            script: root.join("peers/clients/ts_modern.mjs"),
            needed: vec![peers.join("node_modules/@modelcontextprotocol/client/package.json")],
            env: vec![("MCPTOOL_PEERS_NODE", peers)],
        }
    }
}

/// The repository root (two levels above this crate).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crate lives in <root>/crates/<name>")
        .to_path_buf()
}

fn peers_required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1")
}

/// Reports a missing client: a panic when peers are required, else a visible skip notice.
fn missing(what: &str) {
    if peers_required() {
        panic!(
            "\n\n*** {what} is not installed, and {REQUIRE_ENV}=1 requires it. \
             Run scripts/install-peers.sh ***\n"
        );
    }
    // Straight to the stream: libtest captures eprintln! of passing tests, and a skip must be
    // visible in a plain `cargo test`.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: peer {what} not installed; run scripts/install-peers.sh"
    );
}

/// Reads a child's pipe to the end on a thread of its own.
fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

/// How a script run ended.
#[derive(Debug)]
enum Outcome {
    /// The program could not be started at all (not installed).
    NotStarted(std::io::Error),
    Finished {
        success: bool,
        status: String,
        stdout: String,
        stderr: String,
    },
    TimedOut {
        stdout: String,
        stderr: String,
    },
}

/// Kills the child by pid unless it was reaped already (also when the test panics).
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            // Child::kill sends SIGKILL to this pid only; wait() reaps it.
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Runs `client` with `url`, blocking, for at most [`SCRIPT_LIMIT`].
fn run_script(client: &PeerClient, root: &Path, url: &str) -> Outcome {
    let mut command = Command::new(&client.program);
    command
        .arg(&client.script)
        .arg(url)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in &client.env {
        command.env(key, value);
    }
    let mut child = match command.spawn() {
        Ok(child) => KillOnDrop(child),
        Err(err) => return Outcome::NotStarted(err),
    };
    let stdout = drain(child.0.stdout.take());
    let stderr = drain(child.0.stderr.take());
    let start = Instant::now();
    let status = loop {
        match child.0.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() < SCRIPT_LIMIT => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(None) => break None,
            Err(err) => panic!("waiting for {}: {err}", client.name),
        }
    };
    // Kill first on a timeout, so that the pipes close and the readers finish.
    drop(child);
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    match status {
        Some(status) => Outcome::Finished {
            success: status.success(),
            status: status.to_string(),
            stdout,
            stderr,
        },
        None => Outcome::TimedOut { stdout, stderr },
    }
}

fn names(report: &Value, key: &str) -> Vec<String> {
    report[key]
        .as_array()
        .unwrap_or_else(|| panic!("`{key}` is not an array in {report}"))
        .iter()
        .map(|v| v.as_str().expect("a tool name").to_owned())
        .collect()
}

/// Starts the server, runs `client` against it and checks its report and the server's counters.
async fn client_speaks_2026_07_28(client: PeerClient) {
    let root = repo_root();
    if let Some(absent) = client.needed.iter().find(|p| !p.exists()) {
        missing(&format!("{} ({})", client.name, absent.display()));
        return;
    }
    let server = Server::start(ServerConfig::default())
        .await
        .expect("start the server on 127.0.0.1");
    let url = server.url();
    let stats = server.stats();

    let name = client.name;
    let outcome = tokio::task::spawn_blocking(move || run_script(&client, &root, &url))
        .await
        .expect("the script runner panicked");
    let report: Value = match outcome {
        Outcome::NotStarted(err) => {
            missing(&format!("{name} ({err})"));
            server.shutdown().await;
            return;
        }
        Outcome::TimedOut { stdout, stderr } => panic!(
            "{name} did not finish within {SCRIPT_LIMIT:?} and was killed\n\
             stdout:\n{stdout}\nstderr:\n{stderr}"
        ),
        Outcome::Finished {
            success,
            status,
            stdout,
            stderr,
        } => {
            assert!(
                success,
                "{name} failed ({status})\nstdout:\n{stdout}\nstderr:\n{stderr}"
            );
            serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
                panic!("{name} printed no JSON object ({e})\nstdout:\n{stdout}\nstderr:\n{stderr}")
            })
        }
    };

    // What the client saw.
    assert_eq!(report["protocolVersion"], VERSION, "{report}");
    let supported = report["discover"]["supportedVersions"]
        .as_array()
        .unwrap_or_else(|| panic!("no discover.supportedVersions in {report}"));
    assert!(
        supported.iter().any(|v| v == VERSION),
        "server/discover does not offer {VERSION}: {report}"
    );
    assert_eq!(report["echo"], "hello", "{report}");
    assert_eq!(report["ask"], "Ada", "{report}");
    assert_eq!(report["elicitations"], 1, "{report}");
    assert_eq!(report["listChanged"], true, "{report}");
    let tools = names(&report, "tools");
    for tool in ["echo", "ask", "toggle_tools"] {
        assert!(tools.iter().any(|t| t == tool), "no {tool} in {tools:?}");
    }
    assert!(
        !tools.iter().any(|t| t == "extra"),
        "extra listed before the toggle: {tools:?}"
    );
    let after = names(&report, "toolsAfterToggle");
    assert!(
        after.iter().any(|t| t == "extra"),
        "extra not listed after the toggle: {after:?}"
    );

    // What the server saw: no handshake, no session, no standalone GET, no DELETE.
    let snapshot = stats.snapshot();
    for method in ["server/discover", "tools/list", "subscriptions/listen"] {
        assert!(
            snapshot.methods.contains_key(method),
            "server saw no {method}: {:?}",
            snapshot.methods
        );
    }
    // echo, ask twice (the first round answered input_required), toggle_tools.
    let calls = snapshot.methods.get("tools/call").copied().unwrap_or(0);
    assert!(
        calls >= 4,
        "expected at least 4 tools/call, saw {calls}: {:?}",
        snapshot.methods
    );
    assert!(
        !snapshot.methods.contains_key("initialize"),
        "a 2026-07-28 client sent initialize: {:?}",
        snapshot.methods
    );
    assert_eq!(snapshot.sessions_opened, 0, "{snapshot:?}");
    assert!(snapshot.session_ids.is_empty(), "{snapshot:?}");
    assert_eq!(snapshot.get_streams_opened, 0, "{snapshot:?}");
    assert_eq!(snapshot.deletes, 0, "{snapshot:?}");
    for record in stats.requests() {
        assert_eq!(record.http_method, "POST", "{record:?}");
        assert_eq!(
            record.protocol_version.as_deref(),
            Some(VERSION),
            "a request without MCP-Protocol-Version {VERSION}: {record:?}"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_mcp_client_speaks_2026_07_28_with_the_strict_server() {
    client_speaks_2026_07_28(PeerClient::python(&repo_root())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_client_speaks_2026_07_28_with_the_strict_server() {
    client_speaks_2026_07_28(PeerClient::typescript(&repo_root())).await;
}
