//! The message shapes of MCP 2026-07-28, the stateless revision: `server/discover`, the
//! `resultType` of every result, `input_required` results (multi-round-trip requests), caching
//! hints, the request `_meta`, and the errors that tell a modern server from an older one.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::types::Implementation;

/// The stateless protocol revision.
pub const STATELESS_VERSION: &str = "2026-07-28";

/// `_meta` keys of 2026-07-28.
pub mod meta_keys {
    /// The protocol version of a request (required).
    pub const PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
    /// The client capabilities of a request (required).
    pub const CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
    /// Who the client is (should be sent).
    pub const CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
    /// The least severe log level the client wants for a request (none: no log messages).
    pub const LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
    /// Who the server is, on results.
    pub const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
    /// The listen request a notification belongs to.
    pub const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";
}

/// The error codes 2026-07-28 defines.
pub mod codes {
    /// An HTTP header disagrees with the body, or is missing or malformed (HTTP 400).
    pub const HEADER_MISMATCH: i64 = -32020;
    /// The request needs a client capability it did not declare (HTTP 400).
    pub const MISSING_REQUIRED_CLIENT_CAPABILITY: i64 = -32021;
    /// The request's protocol version is not served (HTTP 400, `data: {supported, requested}`).
    pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
    /// The method is unknown (HTTP 404 on Streamable HTTP).
    pub const METHOD_NOT_FOUND: i64 = -32601;
}

/// The `_meta` a 2026-07-28 request carries: the version, the capabilities the client can
/// fulfil, who it is, and the log level when it wants log messages.
pub fn request_meta(
    capabilities: &Value,
    client_info: &Implementation,
    log_level: Option<&str>,
) -> Map<String, Value> {
    let mut meta = Map::new();
    meta.insert(
        meta_keys::PROTOCOL_VERSION.to_owned(),
        json!(STATELESS_VERSION),
    );
    meta.insert(
        meta_keys::CLIENT_CAPABILITIES.to_owned(),
        capabilities.clone(),
    );
    meta.insert(meta_keys::CLIENT_INFO.to_owned(), json!(client_info));
    if let Some(level) = log_level {
        meta.insert(meta_keys::LOG_LEVEL.to_owned(), json!(level));
    }
    meta
}

/// What `server/discover` answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DiscoverResult {
    /// The protocol versions the server serves.
    pub supported_versions: Vec<String>,
    /// The server's capabilities, as sent.
    #[serde(default)]
    pub capabilities: Value,
    /// Usage hints for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// The result's `_meta` (the server's identity is under `io.modelcontextprotocol/serverInfo`).
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
    /// Caching hint: how long the answer stays fresh, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<Value>,
    /// Caching hint: `public` or `private`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_scope: Option<String>,
}

impl DiscoverResult {
    /// Whether the server serves 2026-07-28.
    pub fn serves_stateless(&self) -> bool {
        self.supported_versions
            .iter()
            .any(|v| v == STATELESS_VERSION)
    }

    /// Who the server says it is, when it says.
    pub fn server_info(&self) -> Option<Implementation> {
        let info = self.meta.as_ref()?.get(meta_keys::SERVER_INFO)?;
        serde_json::from_value(info.clone()).ok()
    }

    /// The caching hints of this answer.
    pub fn cache_hint(&self) -> CacheHint {
        CacheHint::read(self.ttl_ms.as_ref(), self.cache_scope.as_deref())
    }
}

/// What kind of result a server sent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResultType {
    /// The request is done (also a result without `resultType`, from an older server).
    Complete,
    /// The server needs input first: an [`InputRequired`] result.
    InputRequired,
}

impl ResultType {
    /// Reads `resultType`; an unknown value is an error naming it (the spec calls it invalid).
    pub fn of(result: &Value) -> Result<ResultType, String> {
        ResultType::from_field(result.get("resultType"))
    }

    /// Reads the value of a result's `resultType` field (`None`: absent).
    pub fn from_field(field: Option<&Value>) -> Result<ResultType, String> {
        match field {
            None | Some(Value::Null) => Ok(ResultType::Complete),
            Some(Value::String(kind)) if kind == "complete" => Ok(ResultType::Complete),
            Some(Value::String(kind)) if kind == "input_required" => Ok(ResultType::InputRequired),
            Some(other) => Err(format!("unknown resultType {other}")),
        }
    }
}

/// One request for input inside an `input_required` result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputRequest {
    /// `elicitation/create`, `sampling/createMessage` or `roots/list`.
    pub method: String,
    /// Its params, as sent.
    #[serde(default)]
    pub params: Value,
}

/// An `input_required` result: what the server needs before it can answer, and the state to
/// echo, byte for byte, on the retry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InputRequired {
    /// The requests to fulfil, by the key their answers go under.
    #[serde(default)]
    pub input_requests: Map<String, Value>,
    /// Opaque state to send back unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
}

impl InputRequired {
    /// Reads an `input_required` result; refuses one that asks for nothing and carries no state,
    /// or whose requests are not objects with a method.
    pub fn read(result: &Value) -> Result<InputRequired, String> {
        let parsed: InputRequired = serde_json::from_value(result.clone())
            .map_err(|e| format!("malformed input_required result: {e}"))?;
        if parsed.input_requests.is_empty() && parsed.request_state.is_none() {
            return Err("input_required result has neither inputRequests nor requestState".into());
        }
        for (key, request) in &parsed.input_requests {
            serde_json::from_value::<InputRequest>(request.clone())
                .map_err(|e| format!("inputRequests[{key:?}] is not a request: {e}"))?;
        }
        Ok(parsed)
    }

    /// The requests, decoded.
    pub fn requests(&self) -> impl Iterator<Item = (&str, InputRequest)> + '_ {
        self.input_requests.iter().filter_map(|(key, request)| {
            let request = serde_json::from_value(request.clone()).ok()?;
            Some((key.as_str(), request))
        })
    }

    /// The params of the retry: the original params plus `inputResponses` and, when the server
    /// sent one, its `requestState` unchanged.
    pub fn retry_params(&self, original: &Value, responses: Map<String, Value>) -> Value {
        let mut params = original.as_object().cloned().unwrap_or_default();
        params.insert("inputResponses".to_owned(), Value::Object(responses));
        match &self.request_state {
            Some(state) => params.insert("requestState".to_owned(), json!(state)),
            None => params.remove("requestState"),
        };
        Value::Object(params)
    }
}

/// Who may reuse a cached answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheScope {
    /// Anyone: the answer holds no user-specific data.
    Public,
    /// Only the same authorization context (the same credentials).
    Private,
}

/// The caching hints of a result, read leniently: a missing, negative or non-numeric `ttlMs`
/// is 0 (immediately stale), a huge one is capped at a day, an unknown scope is private.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheHint {
    /// How long the answer stays fresh after it arrived.
    pub ttl: Duration,
    /// Who may reuse it.
    pub scope: CacheScope,
}

impl CacheHint {
    /// The longest freshness honoured.
    pub const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);

    /// Reads `ttlMs` and `cacheScope`.
    pub fn read(ttl_ms: Option<&Value>, scope: Option<&str>) -> CacheHint {
        let ms = ttl_ms
            .and_then(Value::as_f64)
            .filter(|ms| ms.is_finite() && *ms > 0.0);
        let ttl = ms.map_or(Duration::ZERO, |ms| {
            Duration::from_millis(ms.min(Self::MAX_TTL.as_millis() as f64) as u64)
        });
        let scope = match scope {
            Some("public") => CacheScope::Public,
            _ => CacheScope::Private,
        };
        CacheHint { ttl, scope }
    }

    /// The hints of a result object.
    pub fn of(result: &Value) -> CacheHint {
        CacheHint::read(
            result.get("ttlMs"),
            result.get("cacheScope").and_then(Value::as_str),
        )
    }
}

/// Whether an HTTP error answer comes from a modern (2026-07-28) server: a JSON-RPC error with
/// one of its codes, at the status the spec gives it. An older server's 400/404/405 has none, and
/// a client then falls back to `initialize`.
pub fn is_modern_error(status: u16, body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|message| message.pointer("/error/code").and_then(Value::as_i64))
        .is_some_and(|code| is_modern_code(status, code))
}

/// Whether a JSON-RPC error `code` at HTTP `status` is one only a 2026-07-28 server sends.
pub fn is_modern_code(status: u16, code: i64) -> bool {
    matches!(
        (status, code),
        (
            400,
            codes::HEADER_MISMATCH
                | codes::MISSING_REQUIRED_CLIENT_CAPABILITY
                | codes::UNSUPPORTED_PROTOCOL_VERSION
        ) | (404, codes::METHOD_NOT_FOUND)
    )
}

/// The versions an `UnsupportedProtocolVersion` error says the server serves.
pub fn supported_versions(error_data: &Value) -> Vec<String> {
    error_data
        .get("supported")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_discover_answer_reads_versions_identity_and_hints() {
        let result: DiscoverResult = serde_json::from_value(json!({
            "resultType": "complete",
            "supportedVersions": ["2026-07-28", "2025-11-25"],
            "capabilities": {"tools": {}},
            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "s", "version": "1"}},
            "ttlMs": 60000,
            "cacheScope": "public",
        }))
        .expect("valid");
        assert!(result.serves_stateless());
        assert_eq!(result.server_info().map(|i| i.name), Some("s".to_owned()));
        assert_eq!(
            result.cache_hint(),
            CacheHint {
                ttl: Duration::from_secs(60),
                scope: CacheScope::Public
            }
        );
    }

    #[test]
    fn result_types_default_to_complete_and_refuse_unknown_ones() {
        assert_eq!(ResultType::of(&json!({})), Ok(ResultType::Complete));
        assert_eq!(
            ResultType::of(&json!({"resultType": "input_required"})),
            Ok(ResultType::InputRequired)
        );
        assert!(ResultType::of(&json!({"resultType": "task"})).is_err());
        assert!(ResultType::of(&json!({"resultType": 3})).is_err());
    }

    #[test]
    fn an_input_required_result_is_checked_and_its_retry_echoes_the_state() {
        let result = json!({"resultType": "input_required", "inputRequests": {"a": {"method": "roots/list"}}, "requestState": "s1"});
        let input = InputRequired::read(&result).expect("valid");
        assert_eq!(
            input
                .requests()
                .map(|(k, r)| (k.to_owned(), r.method))
                .collect::<Vec<_>>(),
            [("a".to_owned(), "roots/list".to_owned())]
        );
        let mut answers = Map::new();
        answers.insert("a".to_owned(), json!({"roots": []}));
        let retry = input.retry_params(&json!({"name": "t", "requestState": "old"}), answers);
        assert_eq!(
            retry,
            json!({"name": "t", "inputResponses": {"a": {"roots": []}}, "requestState": "s1"})
        );
        let stateless =
            InputRequired::read(&json!({"inputRequests": {"a": {"method": "roots/list"}}}))
                .expect("valid");
        let retry = stateless.retry_params(&json!({"requestState": "stale"}), Map::new());
        assert!(
            retry.get("requestState").is_none(),
            "no state sent, none echoed"
        );
        assert!(InputRequired::read(&json!({"resultType": "input_required"})).is_err());
        assert!(InputRequired::read(&json!({"inputRequests": {"a": 5}})).is_err());
    }

    #[test]
    fn odd_ttls_are_read_safely() {
        for (ttl, expected) in [
            (json!(-5), Duration::ZERO),
            (json!("soon"), Duration::ZERO),
            (json!(1e300), CacheHint::MAX_TTL),
            (json!(250), Duration::from_millis(250)),
        ] {
            assert_eq!(CacheHint::read(Some(&ttl), None).ttl, expected, "{ttl}");
        }
        assert_eq!(
            CacheHint::read(None, Some("shared")).scope,
            CacheScope::Private
        );
    }

    #[test]
    fn only_modern_codes_at_their_status_mark_a_modern_server() {
        let body = |code: i64| {
            json!({"jsonrpc": "2.0", "id": 1, "error": {"code": code, "message": "m"}}).to_string()
        };
        assert!(is_modern_error(400, body(-32022).as_bytes()));
        assert!(is_modern_error(404, body(-32601).as_bytes()));
        assert!(
            !is_modern_error(400, body(-32000).as_bytes()),
            "a session-era 400"
        );
        assert!(!is_modern_error(404, b"Not Found"), "a legacy 404");
        assert!(!is_modern_error(405, body(-32601).as_bytes()));
        assert_eq!(
            supported_versions(&json!({"supported": ["2026-07-28", 5]})),
            ["2026-07-28"]
        );
    }

    #[test]
    fn request_meta_carries_the_required_fields_and_the_log_level_only_when_asked() {
        let info = Implementation {
            name: "c".into(),
            version: "1".into(),
            title: None,
        };
        let meta = request_meta(&json!({"elicitation": {}}), &info, None);
        assert_eq!(meta[meta_keys::PROTOCOL_VERSION], STATELESS_VERSION);
        assert!(!meta.contains_key(meta_keys::LOG_LEVEL));
        assert_eq!(
            request_meta(&json!({}), &info, Some("warning"))[meta_keys::LOG_LEVEL],
            "warning"
        );
    }
}
