//! Raw HTTP requests that a well-behaved client never sends: a POST with a terminated
//! session id, two standalone GETs at once, a bogus protocol version, headers that disagree
//! with the body.

use std::time::Duration;

use serde_json::{Value, json};

use crate::connect::Settings;

/// A raw HTTP client with the user's headers (and stored login); it owns its pool, dropped
/// with it.
#[derive(Debug)]
pub(crate) struct Raw {
    http: reqwest::Client,
    url: String,
    headers: Vec<(String, String)>,
    timeout: Duration,
}

/// What a raw request got: a status, or why there was none.
pub(crate) type Answer = Result<reqwest::Response, String>;

impl Raw {
    /// A raw client for `url` (`reqwest` is built without a default TLS provider here, so
    /// the builder comes from `mcptool`).
    pub(crate) fn new(settings: &Settings, url: &str) -> Result<Raw, String> {
        let http = mcptool::http_client_builder()
            .map_err(|e| e.to_string())?
            .no_proxy()
            .connect_timeout(settings.timeout)
            .build()
            .map_err(|e| e.to_string())?;
        let mut headers = settings.headers.clone();
        // The login the check's clients used (they connected first, refreshing it if needed).
        if let Some(bearer) = settings.auth.as_ref().and_then(|a| a.stored_bearer(url)) {
            headers.push(("Authorization".to_owned(), bearer));
        }
        Ok(Raw {
            http,
            url: url.to_owned(),
            headers,
            timeout: settings.timeout,
        })
    }

    fn request(
        &self,
        method: reqwest::Method,
        session: Option<&str>,
        version: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut request = self.http.request(method, &self.url);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(session) = session {
            request = request.header("Mcp-Session-Id", session);
        }
        if let Some(version) = version {
            request = request.header("MCP-Protocol-Version", version);
        }
        request
    }

    /// POSTs a `ping` request.
    pub(crate) async fn ping(&self, session: Option<&str>, version: Option<&str>) -> Answer {
        let body = json!({"jsonrpc": "2.0", "id": "mcptool-check", "method": "ping"});
        let request = self
            .request(reqwest::Method::POST, session, version)
            .header("Accept", "application/json, text/event-stream")
            .header("Content-Type", "application/json")
            .body(body.to_string());
        self.send(request).await
    }

    /// POSTs one JSON-RPC message with extra headers (a 2026-07-28 request's own).
    pub(crate) async fn post(&self, body: &Value, headers: &[(&str, &str)]) -> Answer {
        let mut request = self
            .request(reqwest::Method::POST, None, None)
            .header("Accept", "application/json, text/event-stream")
            .header("Content-Type", "application/json")
            .body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }

    /// Opens a standalone GET stream (the response is returned unread, so it stays open).
    pub(crate) async fn get_stream(&self, session: &str, version: Option<&str>) -> Answer {
        let request = self
            .request(reqwest::Method::GET, Some(session), version)
            .header("Accept", "text/event-stream");
        self.send(request).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        match tokio::time::timeout(self.timeout, request.send()).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err(format!("no answer within {:?}", self.timeout)),
        }
    }

    /// Reads a body for at most the timeout (SSE responses to a request end after it).
    pub(crate) async fn body(&self, response: reqwest::Response) -> String {
        tokio::time::timeout(self.timeout, response.text())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default()
    }
}

/// The JSON-RPC error code in a body, JSON or SSE (the first message that has one).
pub(crate) fn rpc_error_code(body: &str) -> Option<i64> {
    let code = |text: &str| {
        serde_json::from_str::<Value>(text)
            .ok()?
            .pointer("/error/code")?
            .as_i64()
    };
    code(body).or_else(|| {
        body.lines()
            .filter_map(|line| line.strip_prefix("data:"))
            .find_map(|data| code(data.trim()))
    })
}

/// What an SSE body shows about resumption: event ids, a priming event, a `retry` value.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct SseTraits {
    pub(crate) ids: usize,
    pub(crate) priming: bool,
    pub(crate) retry_ms: Option<u64>,
}

/// Scans an SSE body event by event.
pub(crate) fn sse_traits(body: &str) -> SseTraits {
    let mut traits = SseTraits::default();
    for event in body.replace("\r\n", "\n").split("\n\n") {
        let mut id = false;
        let mut data = String::new();
        for line in event.lines() {
            if let Some(v) = line.strip_prefix("id:") {
                id = !v.trim().is_empty();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim());
            } else if let Some(v) = line.strip_prefix("retry:") {
                traits.retry_ms = v.trim().parse().ok();
            }
        }
        if id {
            traits.ids += 1;
            traits.priming |= data.is_empty();
        }
    }
    traits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_ids_priming_and_retry() {
        let body = "id: 1\nretry: 1000\ndata:\n\nid: 2\ndata: {\"x\":1}\n\n";
        assert_eq!(
            sse_traits(body),
            SseTraits {
                ids: 2,
                priming: true,
                retry_ms: Some(1000)
            }
        );
        assert_eq!(sse_traits("data: {}\n\n"), SseTraits::default());
    }

    #[test]
    fn finds_the_error_code_in_json_and_in_sse() {
        let error = r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32020,"message":"m"}}"#;
        assert_eq!(rpc_error_code(error), Some(-32020));
        assert_eq!(
            rpc_error_code(&format!("id: 1\ndata: {error}\n\n")),
            Some(-32020)
        );
        assert_eq!(rpc_error_code(r#"{"result":{}}"#), None);
    }
}
