//! What `initialize` answers: who the server is and what it can do.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The name and version of a client or server implementation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Implementation {
    /// Programmatic name.
    pub name: String,
    /// Version string.
    pub version: String,
    /// Human-readable title, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// The server's answer to `initialize`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeResult {
    /// The protocol version the server chose.
    pub protocol_version: String,
    /// The server's capabilities, as sent.
    #[serde(default)]
    pub capabilities: Value,
    /// Who the server is.
    pub server_info: Implementation,
    /// Usage hints for the model, if the server gives any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
}
