//! A scripted HTTP/1.1 server on 127.0.0.1:0 whose every answer the test chooses, byte for
//! byte — for the misbehaviour the strict server will not produce (malformed SSE, wrong
//! content types, bad session ids, oversize bodies, a 409 on every GET).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request the scripted server received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The JSON-RPC method of a POST body, if any.
    pub fn rpc_method(&self) -> Option<String> {
        let v: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        v.get("method")?.as_str().map(str::to_owned)
    }

    /// The JSON-RPC id of a POST body, if any.
    pub fn rpc_id(&self) -> Option<serde_json::Value> {
        let v: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        v.get("id").cloned()
    }
}

/// What to do with a request.
pub enum Action {
    /// Write these bytes (a whole HTTP response) and keep the connection.
    Respond(Vec<u8>),
    /// Write these bytes, wait, then write more (a slow SSE stream), then close.
    Stream(Vec<u8>, Duration, Vec<u8>),
    /// Write these bytes and close the connection.
    RespondAndClose(Vec<u8>),
    /// Never answer (until the client gives up).
    Hang,
}

type Handler = dyn Fn(&Seen) -> Action + Send + Sync;

pub struct Scripted {
    pub addr: std::net::SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Scripted {
    pub async fn start(handler: impl Fn(&Seen) -> Action + Send + Sync + 'static) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log = Arc::clone(&seen);
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                conns.spawn(serve(stream, Arc::clone(&handler), Arc::clone(&log)));
            }
        });
        Scripted { addr, seen, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("log").clone()
    }

    pub fn count(&self, method: &str) -> usize {
        self.seen().iter().filter(|s| s.method == method).count()
    }
}

async fn serve(mut stream: TcpStream, handler: Arc<Handler>, log: Arc<Mutex<Vec<Seen>>>) {
    let mut buf = Vec::new();
    loop {
        let Some(seen) = read_request(&mut stream, &mut buf).await else {
            return;
        };
        log.lock().expect("log").push(seen.clone());
        match handler(&seen) {
            Action::Respond(bytes) => {
                if stream.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Action::Stream(first, pause, rest) => {
                let _ = stream.write_all(&first).await;
                tokio::time::sleep(pause).await;
                let _ = stream.write_all(&rest).await;
                return;
            }
            Action::RespondAndClose(bytes) => {
                let _ = stream.write_all(&bytes).await;
                return;
            }
            Action::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
        }
    }
}

async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Seen> {
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let method = lines.next()?.split(' ').next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).into_owned();
    buf.drain(..head_end + len);
    Some(Seen {
        method,
        headers,
        body,
    })
}

/// A whole HTTP response with a body and a Content-Length.
pub fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

/// The head of a streamed (close-delimited) SSE response, followed by `events`.
pub fn sse_head(headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out =
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n".to_owned();
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// A JSON-RPC result for request `id`.
pub fn result(id: &serde_json::Value, result: &serde_json::Value) -> String {
    serde_json::json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string()
}

/// A plausible initialize result for `version`.
pub fn init_result(id: &serde_json::Value, version: &str) -> String {
    result(
        id,
        &serde_json::json!({
            "protocolVersion": version,
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "scripted", "version": "0"},
        }),
    )
}
