//! Real MCP peer servers (TypeScript SDK, Python SDK, rmcp) started for interop tests.
//!
//! [`start`] runs a peer installed by `scripts/install-peers.sh` on a free port of 127.0.0.1,
//! waits until it accepts connections, and checks with `ss` that it listens on loopback only.
//! The returned [`PeerProcess`] kills the peer by pid when dropped, also when a test panics.
//! A peer that is not installed skips the test with a visible message, or fails it loudly when
//! `MCPTOOL_REQUIRE_PEERS=1` (CI).

use std::fs::File;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mcptool::{Client, CloseOutcome, ProtocolEra, ReconnectPolicy};
use serde_json::Value;

/// How long a peer may take to start accepting connections (Python imports are slow on a
/// loaded two-core machine).
const STARTUP_LIMIT: Duration = Duration::from_secs(30);

/// Set to `1` to turn a missing peer into a test failure (CI sets it).
pub const REQUIRE_ENV: &str = "MCPTOOL_REQUIRE_PEERS";

/// A peer server and how to run it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// npm `@modelcontextprotocol/server-everything` in `streamableHttp` mode (endpoint `/mcp`).
    EverythingStreamable,
    /// server-everything in legacy `sse` mode (endpoints `/sse` and `/message`).
    EverythingSse,
    /// `peers/python/server_mcp2.py` (PyPI `mcp` 2.x `MCPServer`).
    PythonMcp2(PyMode),
    /// `peers/python/server_mcp1.py` (PyPI `mcp` 1.x `FastMCP`).
    PythonMcp1(PyMode),
    /// `peers/node/server_ts2.mjs` (npm `@modelcontextprotocol/server` 2.x), serving the eras
    /// that [`TsEra`] names.
    TypeScriptServer2(TsEra),
}

/// Which eras the TypeScript server 2.x peer serves (its `--era`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsEra {
    /// `createMcpHandler` as it comes: 2026-07-28, and the session era through the package's
    /// stateless fallback (no session id; GET and DELETE answer 405).
    Both,
    /// `createMcpHandler` with `legacy: "reject"`: 2026-07-28 only.
    Modern,
    /// 2026-07-28, and the session era with sessions (a sessionful transport per
    /// `Mcp-Session-Id`, routed by the package's `isLegacyRequest`).
    Sessions,
}

impl TsEra {
    fn flag(self) -> &'static str {
        match self {
            TsEra::Both => "both",
            TsEra::Modern => "modern",
            TsEra::Sessions => "sessions",
        }
    }
}

/// How a Python peer answers POSTs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PyMode {
    /// An SSE stream per POST.
    Sse,
    /// A single `application/json` body per POST.
    Json,
    /// An SSE stream per POST, with an event store so clients can resume.
    SseResumable,
    /// The session era without sessions (`stateless_http`): no `Mcp-Session-Id`, and every
    /// POST taken as a request of that era — `server/discover` included.
    StatelessHttp,
}

impl Peer {
    /// A short name for messages.
    pub fn name(self) -> String {
        match self {
            Peer::EverythingStreamable => "server-everything (streamableHttp)".into(),
            Peer::EverythingSse => "server-everything (sse)".into(),
            Peer::PythonMcp2(mode) => format!("python mcp 2.x ({mode:?})"),
            Peer::PythonMcp1(mode) => format!("python mcp 1.x ({mode:?})"),
            Peer::TypeScriptServer2(era) => format!("typescript server 2.x ({era:?})"),
        }
    }

    /// The MCP endpoint path.
    pub fn path(self) -> &'static str {
        match self {
            Peer::EverythingSse => "/sse",
            _ => "/mcp",
        }
    }

    /// The executable and the files that must exist for this peer to run.
    fn program(self, root: &Path) -> (PathBuf, Vec<PathBuf>) {
        match self {
            Peer::EverythingStreamable | Peer::EverythingSse => {
                let entry = root.join(
                    ".peers/node/node_modules/@modelcontextprotocol/server-everything/dist/index.js",
                );
                (PathBuf::from("node"), vec![entry])
            }
            Peer::PythonMcp2(_) => {
                let python = root.join(".peers/py-mcp2/bin/python");
                (python.clone(), vec![python])
            }
            Peer::PythonMcp1(_) => {
                let python = root.join(".peers/py-mcp1/bin/python");
                (python.clone(), vec![python])
            }
            Peer::TypeScriptServer2(_) => {
                let package = root.join(".peers/node/node_modules/@modelcontextprotocol/server");
                (PathBuf::from("node"), vec![package.join("package.json")])
            }
        }
    }

    fn command(self, root: &Path, port: u16) -> Command {
        let (program, needed) = self.program(root);
        let mut cmd = Command::new(program);
        match self {
            Peer::EverythingStreamable | Peer::EverythingSse => {
                // server-everything has no host setting and binds every interface: the preload
                // rewrites its listen() to 127.0.0.1.
                cmd.arg("--require")
                    .arg(root.join("peers/node/loopback.cjs"))
                    .arg(&needed[0])
                    .arg(if self == Peer::EverythingSse {
                        "sse"
                    } else {
                        "streamableHttp"
                    })
                    .env("PORT", port.to_string())
                    // Its gzip tool can fetch URLs (the tests never call it); allow loopback only.
                    .env("GZIP_ALLOWED_DOMAINS", "127.0.0.1");
            }
            Peer::PythonMcp2(mode) | Peer::PythonMcp1(mode) => {
                let script = if matches!(self, Peer::PythonMcp2(_)) {
                    "server_mcp2.py"
                } else {
                    "server_mcp1.py"
                };
                cmd.arg(root.join("peers/python").join(script))
                    .arg("--port")
                    .arg(port.to_string());
                match mode {
                    PyMode::Sse => {}
                    PyMode::Json => {
                        cmd.arg("--json-response");
                    }
                    PyMode::SseResumable => {
                        cmd.arg("--event-store");
                    }
                    PyMode::StatelessHttp => {
                        cmd.arg("--stateless-http");
                    }
                }
                cmd.env("PYTHONUNBUFFERED", "1");
            }
            Peer::TypeScriptServer2(era) => {
                // The script binds 127.0.0.1 itself; the preload holds any other listen() there.
                cmd.arg("--require")
                    .arg(root.join("peers/node/loopback.cjs"))
                    .arg(root.join("peers/node/server_ts2.mjs"))
                    .arg("--port")
                    .arg(port.to_string())
                    .arg("--era")
                    .arg(era.flag());
            }
        }
        cmd
    }
}

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crate lives in <root>/crates/<name>")
        .to_path_buf()
}

/// Whether peers must be present (CI) rather than skipped.
pub fn peers_required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1")
}

/// Reports a missing peer: a panic when peers are required, else a visible skip notice.
pub fn missing(what: &str) {
    if peers_required() {
        panic!(
            "\n\n*** {what} is not installed, and {REQUIRE_ENV}=1 requires it. \
             Run scripts/install-peers.sh ***\n"
        );
    }
    // Straight to the stream: libtest captures eprintln! of passing tests, and a skip must
    // be visible in a plain `cargo test`.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: peer {what} not installed; run scripts/install-peers.sh"
    );
}

/// A running peer process, killed by pid on drop.
#[derive(Debug)]
pub struct PeerProcess {
    peer: Peer,
    child: Child,
    port: u16,
    log: PathBuf,
}

impl PeerProcess {
    /// The peer's MCP endpoint URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}{}", self.port, self.peer.path())
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the peer wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics unless the process is still running (it did not crash during the test).
    pub fn assert_alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited during the test with {status}; its log:\n{}",
                self.peer.name(),
                self.log()
            );
        }
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        // Child::kill sends SIGKILL to this pid only; wait() reaps it so no zombie is left.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Starts `peer`, or returns `None` after [`missing`] when it is not installed.
pub async fn start(peer: Peer) -> Option<PeerProcess> {
    let root = repo_root();
    let (_, needed) = peer.program(&root);
    if let Some(absent) = needed.iter().find(|p| !p.exists()) {
        missing(&format!("{} ({})", peer.name(), absent.display()));
        return None;
    }
    // A port taken between free_port() and the peer's bind makes the peer exit: try again.
    let mut last_log = String::new();
    for _ in 0..3 {
        let port = free_port();
        let mut process = spawn(peer, &root, port);
        match wait_listening(&mut process).await {
            Ok(()) => {
                assert_loopback_only(&process);
                return Some(process);
            }
            Err(log) => last_log = log,
        }
    }
    panic!(
        "{} did not start listening within {STARTUP_LIMIT:?}; its log:\n{last_log}",
        peer.name()
    );
}

fn spawn(peer: Peer, root: &Path, port: u16) -> PeerProcess {
    let log = std::env::temp_dir().join(format!("mcptool-peer-{}-{port}.log", std::process::id()));
    let out = File::create(&log).expect("create the peer log file");
    let err = out.try_clone().expect("clone the peer log file");
    let child = peer
        .command(root, port)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", peer.name()));
    PeerProcess {
        peer,
        child,
        port,
        log,
    }
}

/// Waits until the peer accepts TCP connections; on failure returns its log.
async fn wait_listening(process: &mut PeerProcess) -> Result<(), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, process.port));
    let start = Instant::now();
    while start.elapsed() < STARTUP_LIMIT {
        if let Ok(Some(status)) = process.child.try_wait() {
            return Err(format!("(exited with {status})\n{}", process.log()));
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(process.log())
}

/// Asserts with `ss -ltnp` that every listening TCP socket of the peer's pid is on 127.0.0.1,
/// and that there is at least one.
pub fn assert_loopback_only(process: &PeerProcess) {
    // `ss -p` names a socket's process by walking /proc; on a loaded machine a listener that
    // already accepts connections was seen without its pid once. Look again before failing.
    let mut listening = listening_addresses(process.pid());
    for _ in 0..20 {
        if !listening.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        listening = listening_addresses(process.pid());
    }
    assert!(
        !listening.is_empty(),
        "ss shows no listening socket for pid {}",
        process.pid()
    );
    for local in &listening {
        assert!(
            local.starts_with("127.0.0.1:"),
            "{} listens on {local}, not only on 127.0.0.1 (all: {listening:?})",
            process.peer.name()
        );
    }
}

/// Local addresses of the TCP sockets that `pid` listens on, as `ss` prints them.
pub fn listening_addresses(pid: u32) -> Vec<String> {
    let out = Command::new("ss")
        .args(["-ltnpH"])
        .output()
        .expect("run `ss -ltnpH` (iproute2) to check where the peer listens");
    assert!(out.status.success(), "ss failed: {out:?}");
    let needle = format!("pid={pid},");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|line| line.contains(&needle))
        // State Recv-Q Send-Q Local Peer Process
        .filter_map(|line| line.split_whitespace().nth(3).map(str::to_owned))
        .collect()
}

/// A plain HTTP client for raw requests that bypass mcptool (its own pool).
pub fn raw_http() -> reqwest::Client {
    mcptool::http_client_builder()
        .expect("HTTP client builder")
        .build()
        .expect("build a raw HTTP client")
}

/// POSTs a `tools/list` with `session` as `Mcp-Session-Id`, returning the status and the
/// response (to check how the peer treats a session id).
pub async fn post_with_session(url: &str, session: &str) -> reqwest::Response {
    raw_http()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", "2025-11-25")
        .body(r#"{"jsonrpc":"2.0","id":41,"method":"tools/list"}"#)
        .send()
        .await
        .expect("raw POST to the peer")
}

/// One whole client lifecycle: connect, call `tool`, close with a `DELETE`. Returns the
/// session id the peer assigned.
pub async fn lifecycle(url: &str, tool: &str, arguments: Value) -> String {
    let client = Client::builder(url)
        .protocol_era(ProtocolEra::Session)
        .connect()
        .await
        .expect("connect");
    let session = client
        .session_id()
        .expect("the peer assigned a session id")
        .as_str()
        .to_owned();
    let result = client.call_tool(tool, arguments).await.expect("call tool");
    assert!(!result.is_error, "{tool} reported an error: {result:?}");
    assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
    session
}

/// Runs 2 sequential and then 20 concurrent lifecycles, asserts that all 22 sessions were
/// distinct, and that the peer rejects every one of them afterwards with `dead_status` (so it
/// saw each `DELETE`).
pub async fn sequential_and_concurrent_lifecycles(
    url: &str,
    tool: &str,
    arguments: Value,
    dead_status: u16,
) {
    let mut sessions = Vec::new();
    for _ in 0..2 {
        sessions.push(lifecycle(url, tool, arguments.clone()).await);
    }
    let concurrent = (0..20).map(|_| lifecycle(url, tool, arguments.clone()));
    sessions.extend(futures_util::future::join_all(concurrent).await);
    let distinct: std::collections::HashSet<&String> = sessions.iter().collect();
    assert_eq!(distinct.len(), 22, "sessions were reused: {sessions:?}");
    for session in &sessions {
        let status = post_with_session(url, session).await.status().as_u16();
        assert_eq!(
            status, dead_status,
            "closed session {session} answered {status}"
        );
    }
}

/// A session the server ended under the client (a raw `DELETE`): with the default policy the
/// next call fails as session-expired (the peer answering `dead_status`); with `Reinitialize`
/// the client opens a new session and the call succeeds. `echo` must answer
/// `{echo_prefix}again` to `{"message": "again"}`.
pub async fn session_ended_by_the_server(url: &str, dead_status: u16, echo_prefix: &str) {
    let http = raw_http();
    for policy in [ReconnectPolicy::Fail, ReconnectPolicy::Reinitialize] {
        let client = Client::builder(url)
            .protocol_era(ProtocolEra::Session)
            .reconnect_policy(policy)
            .connect()
            .await
            .expect("connect");
        let old = client.session_id().expect("session id").as_str().to_owned();
        let deleted = http
            .delete(url)
            .header("mcp-session-id", &old)
            .header("mcp-protocol-version", "2025-11-25")
            .send()
            .await
            .expect("raw DELETE");
        assert!(
            deleted.status().is_success(),
            "raw DELETE: {}",
            deleted.status()
        );
        let call = client
            .call_tool("echo", serde_json::json!({"message": "again"}))
            .await;
        match policy {
            ReconnectPolicy::Fail => {
                let err = call.expect_err("the session is gone");
                assert!(err.is_session_expired(), "{policy:?}: {err:?}");
                assert_eq!(err.status(), Some(dead_status), "{err:?}");
                assert_eq!(
                    client.close().await.expect("close"),
                    CloseOutcome::NoSession
                );
            }
            _ => {
                let result = call.expect("a new session serves the call");
                let text = result.content.first().and_then(|c| c.as_text());
                assert_eq!(text, Some(format!("{echo_prefix}again").as_str()));
                let new = client
                    .session_id()
                    .expect("new session id")
                    .as_str()
                    .to_owned();
                assert_ne!(new, old);
                assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
            }
        }
    }
}
