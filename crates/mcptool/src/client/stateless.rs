//! The stateless dialect (2026-07-28): no `initialize` and no session. Every request carries
//! `_meta` (version, the capabilities our handlers can fulfil, client info) and the routing
//! headers (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, and `Mcp-Param-*` for the tools
//! whose parameters ask for them); `server/discover` stands in for `initialize`; an
//! `input_required` result is fulfilled through the same handlers the session era uses and the
//! request retried with a new id; cancelling a request closes its stream; `close()` sends no
//! `DELETE`.
//!
//! The request engine (ids, deadlines, progress, the pool) is the session era's; this file only
//! decorates a request and interprets its answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::cache::Cache;
use super::decode::{decode, decode_raw, peek};
use super::handlers::Handlers;
use super::options::RequestOptions;
use super::shared::Shared;
use crate::error::Error;
use crate::protocol::Implementation;
use crate::protocol::headers::{ParamHeaders, encode_header_value};
use crate::protocol::modern::{
    self, CacheHint, InputRequired, ResultType, STATELESS_VERSION, codes,
};

/// How many `input_required` rounds one request may take before we give up.
const MAX_ROUNDS: usize = 8;
/// The methods whose results may be `input_required`.
const MRTR_METHODS: [&str; 3] = ["tools/call", "prompts/get", "resources/read"];

/// What the stateless dialect keeps for one client.
#[derive(Debug)]
pub(crate) struct Stateless {
    /// The `_meta` every request carries, and the same serialised once.
    meta: Map<String, Value>,
    meta_raw: Option<Box<RawValue>>,
    /// The `Mcp-Param-*` annotations of the tools `tools/list` showed, by tool name.
    params: Mutex<HashMap<String, ParamHeaders>>,
    /// Answers still fresh by their `ttlMs`; this client's alone.
    pub(super) cache: Cache,
    /// The caching hints of the `server/discover` answer.
    pub(super) discovered: Mutex<Option<CacheHint>>,
}

impl Stateless {
    pub(crate) fn new(handlers: &Handlers, client_info: &Value, cache_private: bool) -> Stateless {
        let info: Implementation =
            serde_json::from_value(client_info.clone()).unwrap_or(Implementation {
                name: "mcptool".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                title: None,
            });
        let meta = modern::request_meta(&handlers.capabilities(), &info, None);
        let meta_raw = serde_json::value::to_raw_value(&meta).ok();
        Stateless {
            meta,
            meta_raw,
            params: Mutex::default(),
            cache: Cache::new(cache_private),
            discovered: Mutex::new(None),
        }
    }

    /// The params as sent: the caller's with our `_meta`, written as they are serialised.
    fn params_for<'a>(&'a self, params: &'a Map<String, Value>) -> Params<'a> {
        match &self.meta_raw {
            Some(meta) if !params.contains_key("_meta") => Params::Plain(WithMeta { params, meta }),
            _ => Params::Merged(self.params_with_meta(params)),
        }
    }

    /// The params as sent: the caller's, with our `_meta` added to any it gave.
    pub(super) fn params_with_meta(&self, params: &Map<String, Value>) -> Value {
        let mut params = params.clone();
        let meta = params.entry("_meta").or_insert_with(|| json!({}));
        if let Some(meta) = meta.as_object_mut() {
            meta.extend(self.meta.clone());
        }
        Value::Object(params)
    }

    /// The routing headers of a request.
    pub(super) fn headers(&self, method: &str, params: &Map<String, Value>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "mcp-protocol-version",
            HeaderValue::from_static(STATELESS_VERSION),
        );
        if let Ok(value) = HeaderValue::from_str(method) {
            headers.insert("mcp-method", value);
        }
        let name = match method {
            "tools/call" | "prompts/get" => params.get("name"),
            "resources/read" => params.get("uri"),
            _ => None,
        };
        if let Some(name) = name.and_then(Value::as_str)
            && let Ok(value) = HeaderValue::from_str(&encode_header_value(name))
        {
            headers.insert("mcp-name", value);
        }
        if method == "tools/call"
            && let Some(name) = params.get("name").and_then(Value::as_str)
        {
            let known = self.params.lock().unwrap_or_else(PoisonError::into_inner);
            let arguments = params.get("arguments").unwrap_or(&Value::Null);
            for (header, value) in known
                .get(name)
                .map(|p| p.headers(arguments))
                .unwrap_or_default()
            {
                match (
                    HeaderName::from_bytes(header.as_bytes()),
                    HeaderValue::from_str(&value),
                ) {
                    (Ok(name), Ok(value)) => {
                        headers.insert(name, value);
                    }
                    _ => tracing::warn!(header, "cannot send a mirrored parameter header"),
                }
            }
        }
        headers
    }

    /// A complete answer: screened when it lists tools, cached when its hints allow (a first
    /// answer only: a retry's depends on input outside the key), decoded.
    fn complete<R: DeserializeOwned>(
        &self,
        method: &str,
        mut result: Value,
        cache_key: Option<String>,
        params: &Map<String, Value>,
    ) -> Result<R, Error> {
        if method == "tools/list" {
            self.screen_tools(&mut result);
        }
        if let (Some(key), false) = (cache_key, params.contains_key("requestState")) {
            self.cache.store(key, &result);
        }
        decode(method, result)
    }

    /// Leaves out of a `tools/list` page the tools whose `x-mcp-header` annotations are
    /// invalid (with a warning), and remembers the annotations of the others.
    fn screen_tools(&self, page: &mut Value) {
        let Some(tools) = page.get_mut("tools").and_then(Value::as_array_mut) else {
            return;
        };
        let mut known = self.params.lock().unwrap_or_else(PoisonError::into_inner);
        tools.retain(|tool| {
            let name = tool.get("name").and_then(Value::as_str).unwrap_or("");
            let schema = tool.get("inputSchema").unwrap_or(&Value::Null);
            match ParamHeaders::from_schema(schema) {
                Ok(params) => {
                    known.insert(name.to_owned(), params);
                    true
                }
                Err(reason) => {
                    tracing::warn!(tool = name, %reason, "left out a tool with an invalid x-mcp-header annotation");
                    false
                }
            }
        });
    }
}

/// Params with our `_meta`: written straight after the caller's, or merged into theirs.
#[derive(Serialize)]
#[serde(untagged)]
enum Params<'a> {
    Plain(WithMeta<'a>),
    Merged(Value),
}

#[derive(Serialize)]
struct WithMeta<'a> {
    #[serde(flatten)]
    params: &'a Map<String, Value>,
    #[serde(rename = "_meta")]
    meta: &'a RawValue,
}

impl Shared {
    /// One request in the stateless dialect, through as many `input_required` rounds as the
    /// server asks for (at most [`MAX_ROUNDS`]).
    pub(crate) async fn stateless_request<R: DeserializeOwned, P: Serialize + ?Sized>(
        self: &Arc<Self>,
        dialect: &Stateless,
        method: &str,
        params: Option<&P>,
        options: &RequestOptions,
    ) -> Result<R, Error> {
        let mut params = params_object(method, params)?;
        let cache_key = Cache::key(method, &params);
        if let Some(hit) = cache_key.as_deref().and_then(|key| dialect.cache.get(key)) {
            return decode(method, hit);
        }
        let mut relisted = false;
        for _ in 0..MAX_ROUNDS {
            let Some(raw) = self
                .stateless_round(dialect, method, &params, options, &mut relisted)
                .await?
            else {
                continue;
            };
            let kind =
                ResultType::from_field(peek(method, &raw)?.as_ref()).map_err(Error::protocol)?;
            if kind == ResultType::Complete && cache_key.is_none() && method != "tools/list" {
                // The common case: decode the caller's type straight from the text.
                return decode_raw(method, &raw);
            }
            let result: Value = decode_raw(method, &raw)?;
            match kind {
                ResultType::Complete => {
                    return dialect.complete(method, result, cache_key, &params);
                }
                ResultType::InputRequired => {
                    params = self.next_round(method, &result, params).await?
                }
            }
        }
        Err(Error::protocol(format!(
            "the server asked for input on {method} more than {MAX_ROUNDS} times"
        )))
    }

    /// Sends one round; `None` when the server refused our headers and the tools were listed
    /// again, for the caller to retry (once).
    async fn stateless_round(
        self: &Arc<Self>,
        dialect: &Stateless,
        method: &str,
        params: &Map<String, Value>,
        options: &RequestOptions,
        relisted: &mut bool,
    ) -> Result<Option<Box<RawValue>>, Error> {
        let headers = dialect.headers(method, params);
        let sent = dialect.params_for(params);
        let reply = self
            .request_with_retries::<Box<RawValue>, Params<'_>>(
                method,
                Some(&sent),
                Some(&headers),
                options,
            )
            .await;
        match reply {
            Err(e) if is_header_mismatch(&e) && method == "tools/call" && !*relisted => {
                // The tool's annotations may have changed: learn them again, retry once.
                *relisted = true;
                tracing::debug!("header mismatch; listing the tools again");
                self.list_all_tools(dialect).await?;
                Ok(None)
            }
            Err(e) => {
                self.era_refused(&e);
                Err(explain(e))
            }
            Ok((reply, _)) => reply.decode(method).map(Some),
        }
    }

    /// The params of the next round of an `input_required` answer: the input fulfilled.
    async fn next_round(
        &self,
        method: &str,
        result: &Value,
        params: Map<String, Value>,
    ) -> Result<Map<String, Value>, Error> {
        if !MRTR_METHODS.contains(&method) {
            return Err(Error::protocol(format!(
                "the server answered {method} with input_required, which only tools/call, prompts/get and resources/read may get"
            )));
        }
        let input = InputRequired::read(result).map_err(Error::protocol)?;
        let responses = self.fulfil(&input).await?;
        Ok(
            match input.retry_params(&Value::Object(params), responses) {
                Value::Object(map) => map,
                _ => Map::new(),
            },
        )
    }

    /// Lists every tool once, which refreshes their `Mcp-Param-*` annotations.
    async fn list_all_tools(self: &Arc<Self>, dialect: &Stateless) -> Result<(), Error> {
        let mut cursor: Option<String> = None;
        for _ in 0..super::MAX_PAGES {
            let params = cursor.as_ref().map(|c| json!({"cursor": c}));
            let page: Value = Box::pin(self.stateless_request(
                dialect,
                "tools/list",
                params.as_ref(),
                &RequestOptions::default(),
            ))
            .await?;
            match page.get("nextCursor").and_then(Value::as_str) {
                Some(next) if Some(next) != cursor.as_deref() => cursor = Some(next.to_owned()),
                _ => return Ok(()),
            }
        }
        Ok(())
    }
}

fn is_header_mismatch(error: &Error) -> bool {
    error
        .rpc_error()
        .is_some_and(|e| e.code == codes::HEADER_MISMATCH)
}

/// The caller's params as an object (none: an empty one).
fn params_object<P: Serialize + ?Sized>(
    method: &str,
    params: Option<&P>,
) -> Result<Map<String, Value>, Error> {
    match params.map(serde_json::to_value).transpose() {
        Ok(None) => Ok(Map::new()),
        Ok(Some(Value::Object(map))) => Ok(map),
        Ok(Some(_)) => Err(Error::config(format!(
            "the params of {method} must be an object"
        ))),
        Err(e) => Err(Error::config("cannot encode the request").with_source(e)),
    }
}

/// An unsupported-version refusal says which versions the server serves.
fn explain(error: Error) -> Error {
    let Some(rpc) = error.rpc_error() else {
        return error;
    };
    if rpc.code != codes::UNSUPPORTED_PROTOCOL_VERSION {
        return error;
    }
    let supported = rpc
        .data
        .as_ref()
        .map(modern::supported_versions)
        .unwrap_or_default();
    Error::protocol(format!(
        "the server does not serve {STATELESS_VERSION} (this client's only stateless version); it serves {}",
        if supported.is_empty() { "no version it names".to_owned() } else { supported.join(", ") }
    ))
    .with_source(error)
}
