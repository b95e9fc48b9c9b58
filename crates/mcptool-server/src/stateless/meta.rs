//! `params._meta` of a 2026-07-28 request: version, client capabilities, client info, log level.

use serde_json::{Map, Value};

use crate::demo::LOG_LEVELS;
use crate::rpc::RpcError;

const VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
const CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
const LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";

/// What a request says about itself.
#[derive(Debug)]
pub(super) struct Meta {
    /// The protocol version the request speaks.
    pub(super) version: String,
    /// The client capabilities declared for this request.
    pub(super) capabilities: Map<String, Value>,
    /// The least severe log level the client wants for this request (an index into
    /// [`LOG_LEVELS`]); `None`: no log messages at all.
    pub(super) log_level: Option<usize>,
}

impl Meta {
    /// Reads and checks `params._meta`; a missing or mistyped field is -32602.
    pub(super) fn read(params: &Value) -> Result<Self, RpcError> {
        let meta = match params.get("_meta") {
            Some(Value::Object(meta)) => meta,
            Some(_) => return Err(RpcError::invalid_params("params._meta must be an object")),
            None => {
                return Err(RpcError::invalid_params(format!(
                    "params._meta is required in 2026-07-28 (with {VERSION} and {CAPABILITIES})"
                )));
            }
        };
        let version = match meta.get(VERSION) {
            Some(Value::String(v)) => v.clone(),
            Some(_) => return Err(mistyped(VERSION, "a string")),
            None => return Err(missing(VERSION)),
        };
        let capabilities = match meta.get(CAPABILITIES) {
            Some(Value::Object(c)) => c.clone(),
            Some(_) => return Err(mistyped(CAPABILITIES, "an object")),
            None => return Err(missing(CAPABILITIES)),
        };
        if let Some(info) = meta.get(CLIENT_INFO) {
            let named = |k: &str| info.get(k).is_some_and(Value::is_string);
            if !info.is_object() || !named("name") || !named("version") {
                return Err(mistyped(
                    CLIENT_INFO,
                    "an object with string name and version",
                ));
            }
        }
        let log_level = match meta.get(LOG_LEVEL) {
            None => None,
            Some(level) => Some(
                level
                    .as_str()
                    .and_then(|l| LOG_LEVELS.iter().position(|known| *known == l))
                    .ok_or_else(|| mistyped(LOG_LEVEL, "a log level (debug .. emergency)"))?,
            ),
        };
        Ok(Self {
            version,
            capabilities,
            log_level,
        })
    }

    /// Whether the client declared `capability` (for elicitation: its form mode).
    pub(super) fn declares(&self, capability: &str) -> bool {
        match (capability, self.capabilities.get(capability)) {
            (_, None | Some(Value::Null)) => false,
            ("elicitation", Some(Value::Object(modes))) => {
                modes.is_empty() || modes.contains_key("form")
            }
            (_, Some(value)) => value.is_object(),
        }
    }
}

fn missing(field: &str) -> RpcError {
    RpcError::invalid_params(format!("params._meta is missing {field}"))
}

fn mistyped(field: &str, what: &str) -> RpcError {
    RpcError::invalid_params(format!("params._meta {field} must be {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(meta: &Value) -> Value {
        json!({"_meta": meta})
    }

    #[test]
    fn a_complete_meta_reads_and_client_info_is_optional() {
        let meta = Meta::read(&params(&json!({VERSION: "2026-07-28", CAPABILITIES: {"elicitation": {}}, LOG_LEVEL: "warning"})))
            .expect("valid");
        assert_eq!(meta.version, "2026-07-28");
        assert_eq!(meta.log_level, Some(3));
        assert!(meta.declares("elicitation"));
        assert!(!meta.declares("sampling"));
    }

    #[test]
    fn each_missing_or_mistyped_field_is_named() {
        let cases = [
            (
                json!({}),
                "is missing io.modelcontextprotocol/protocolVersion",
            ),
            (
                json!({VERSION: 1, CAPABILITIES: {}}),
                "protocolVersion must be a string",
            ),
            (
                json!({VERSION: "2026-07-28"}),
                "is missing io.modelcontextprotocol/clientCapabilities",
            ),
            (
                json!({VERSION: "2026-07-28", CAPABILITIES: []}),
                "clientCapabilities must be an object",
            ),
            (
                json!({VERSION: "2026-07-28", CAPABILITIES: {}, CLIENT_INFO: "me"}),
                "clientInfo must be",
            ),
            (
                json!({VERSION: "2026-07-28", CAPABILITIES: {}, LOG_LEVEL: "loud"}),
                "logLevel must be",
            ),
        ];
        for (meta, expected) in cases {
            let err = Meta::read(&params(&meta)).expect_err("invalid");
            assert!(err.message.contains(expected), "{meta}: {}", err.message);
            assert_eq!(err.code, crate::rpc::INVALID_PARAMS);
        }
        assert!(Meta::read(&json!({})).is_err());
        assert!(Meta::read(&json!({"_meta": 5})).is_err());
    }

    #[test]
    fn url_only_elicitation_does_not_declare_forms() {
        let meta = Meta::read(&params(
            &json!({VERSION: "2026-07-28", CAPABILITIES: {"elicitation": {"url": {}}}}),
        ))
        .expect("valid");
        assert!(!meta.declares("elicitation"));
    }
}
