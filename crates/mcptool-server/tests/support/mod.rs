//! Test helpers: start the server on 127.0.0.1:0, talk to it with reqwest, read SSE.
#![allow(
    dead_code,
    unused_imports,
    reason = "each test file uses a subset of the helpers"
)]

pub(crate) mod auth;
mod modern;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mcptool_server::{RunningServer, Server, ServerConfig, ServerStats, StatsSnapshot};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub(crate) use modern::{MODERN, all_capabilities, modern_request, next_modern_id};

pub(crate) const ACCEPT_BOTH: &str = "application/json, text/event-stream";

/// Runs a test body under a deadline, so a hang fails instead of blocking CI.
pub(crate) async fn run<F: Future<Output = ()>>(body: F) {
    tokio::time::timeout(Duration::from_secs(30), body)
        .await
        .expect("test timed out");
}

/// A server plus an HTTP client for it.
#[derive(Debug)]
pub(crate) struct TestServer {
    server: Option<RunningServer>,
    pub(crate) http: reqwest::Client,
    pub(crate) url: String,
    pub(crate) stats: ServerStats,
}

/// A session as the test client sees it.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) version: String,
    next_id: AtomicU64,
}

impl Session {
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 100
    }
}

/// A complete HTTP reply.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Reply {
    pub(crate) async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        Self {
            status,
            headers,
            body,
        }
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    pub(crate) fn events(&self) -> Vec<SseEvent> {
        parse_sse(&self.body)
    }

    /// The JSON-RPC messages of an SSE or JSON reply.
    pub(crate) fn messages(&self) -> Vec<Value> {
        if self
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/event-stream"))
        {
            self.events()
                .iter()
                .filter(|e| !e.data.is_empty())
                .map(|e| e.json())
                .collect()
        } else {
            vec![self.json()]
        }
    }

    /// The one JSON-RPC response in the reply.
    pub(crate) fn response(&self) -> Value {
        let mut responses: Vec<Value> = self
            .messages()
            .into_iter()
            .filter(|m| m.get("method").is_none())
            .collect();
        assert_eq!(
            responses.len(),
            1,
            "expected one response in {:?}",
            self.body
        );
        responses.remove(0)
    }
}

/// One SSE event.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SseEvent {
    pub(crate) id: Option<String>,
    pub(crate) retry: Option<u64>,
    pub(crate) data: String,
}

impl SseEvent {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("event data not JSON ({e}): {:?}", self.data))
    }
}

/// Parses complete SSE events (comments skipped).
pub(crate) fn parse_sse(text: &str) -> Vec<SseEvent> {
    let mut events = Vec::new();
    for block in text.split("\n\n") {
        let mut event = SseEvent::default();
        let mut any = false;
        for line in block.lines() {
            let (field, value) = line
                .split_once(':')
                .map_or((line, ""), |(f, v)| (f, v.strip_prefix(' ').unwrap_or(v)));
            match field {
                "id" => event.id = Some(value.to_owned()),
                "retry" => event.retry = value.parse().ok(),
                "data" => event.data.push_str(value),
                _ => continue,
            }
            any = true;
        }
        if any {
            events.push(event);
        }
    }
    events
}

/// Reads SSE events incrementally from a streaming response.
#[derive(Debug)]
pub(crate) struct SseStream {
    response: reqwest::Response,
    buffer: String,
}

impl SseStream {
    pub(crate) fn new(response: reqwest::Response) -> Self {
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event, or `None` when the stream ends.
    pub(crate) async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse_sse(&block).pop() {
                    return Some(event);
                }
                continue;
            }
            let chunk = self.response.chunk().await.ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next event carrying a JSON-RPC message.
    pub(crate) async fn next_message(&mut self) -> Option<Value> {
        loop {
            let event = self.next().await?;
            if !event.data.is_empty() {
                return Some(event.json());
            }
        }
    }
}

pub(crate) fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

pub(crate) fn request(id: u64, method: &str, params: Value) -> Value {
    let mut message = json!({"jsonrpc": "2.0", "id": id, "method": method});
    message["params"] = params;
    message
}

impl TestServer {
    pub(crate) async fn start(config: ServerConfig) -> Self {
        let server = Server::start(config).await.expect("server starts");
        let url = server.url();
        let stats = server.stats();
        Self {
            server: Some(server),
            http: http_client(),
            url,
            stats,
        }
    }

    pub(crate) async fn default() -> Self {
        Self::start(ServerConfig::default()).await
    }

    pub(crate) fn server(&self) -> &RunningServer {
        self.server.as_ref().expect("server running")
    }

    /// Takes the running server out, for a test that shuts it down itself.
    pub(crate) fn take_server(&mut self) -> RunningServer {
        self.server.take().expect("server running")
    }

    pub(crate) fn snapshot(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Waits until the stats satisfy `pred`, failing with the last snapshot.
    pub(crate) async fn wait_for(
        &self,
        what: &str,
        pred: impl Fn(&StatsSnapshot) -> bool,
    ) -> StatsSnapshot {
        match self.stats.wait_until(pred, Duration::from_secs(5)).await {
            Ok(snap) => snap,
            Err(last) => panic!("stats never showed {what}: {last:#?}"),
        }
    }

    /// A POST with the usual headers (and the session's, when given).
    pub(crate) fn post_builder(
        &self,
        session: Option<&Session>,
        body: &Value,
    ) -> reqwest::RequestBuilder {
        let mut builder = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", ACCEPT_BOTH)
            .body(body.to_string());
        if let Some(session) = session {
            builder = builder
                .header("mcp-session-id", &session.id)
                .header("mcp-protocol-version", &session.version);
        }
        builder
    }

    pub(crate) async fn post(&self, session: Option<&Session>, body: &Value) -> Reply {
        Reply::read(self.post_builder(session, body).send().await.expect("POST")).await
    }

    /// A GET with the session's headers.
    pub(crate) fn get_builder(&self, session: &Session) -> reqwest::RequestBuilder {
        self.http
            .get(&self.url)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &session.id)
            .header("mcp-protocol-version", &session.version)
    }

    pub(crate) fn delete_builder(&self, session: &Session) -> reqwest::RequestBuilder {
        self.http
            .delete(&self.url)
            .header("mcp-session-id", &session.id)
            .header("mcp-protocol-version", &session.version)
    }

    /// `initialize` + `notifications/initialized`.
    pub(crate) async fn initialize(&self, version: &str) -> Session {
        let params = json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}});
        let reply = self.post(None, &request(1, "initialize", params)).await;
        assert_eq!(reply.status, 200, "initialize: {}", reply.body);
        let id = reply
            .header("mcp-session-id")
            .expect("session id header")
            .to_owned();
        let negotiated = reply.response()["result"]["protocolVersion"]
            .as_str()
            .expect("version")
            .to_owned();
        let session = Session {
            id,
            version: negotiated,
            next_id: AtomicU64::new(0),
        };
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        assert_eq!(self.post(Some(&session), &initialized).await.status, 202);
        session
    }

    pub(crate) async fn session(&self) -> Session {
        self.initialize("2025-11-25").await
    }

    /// Calls a tool and returns its result.
    pub(crate) async fn call_tool(&self, session: &Session, name: &str, arguments: Value) -> Value {
        let body = request(
            session.next_id(),
            "tools/call",
            json!({"name": name, "arguments": arguments}),
        );
        let reply = self.post(Some(session), &body).await;
        assert_eq!(reply.status, 200, "tools/call {name}: {}", reply.body);
        let response = reply.response();
        response
            .get("result")
            .cloned()
            .unwrap_or_else(|| panic!("no result: {response}"))
    }

    /// Shuts down and asserts that nothing is left running.
    pub(crate) async fn finish(mut self) {
        let server = self.server.take().expect("server running");
        server.shutdown().await;
        let snap = self.stats.snapshot();
        assert_eq!(snap.live_tasks, 0, "tasks left after shutdown: {snap:#?}");
        assert_eq!(snap.live_get_streams, 0, "GET streams left after shutdown");
    }
}
