//! The wire format: JSON-RPC 2.0 envelopes and the MCP types this crate uses.
//!
//! Serde only; no I/O. Types keep what they do not model (`_meta`, unknown content kinds) so
//! that a result converts without loss.

pub mod headers;
mod jsonrpc;
pub mod modern;
mod types;
mod version;

pub use jsonrpc::RpcError;
pub(crate) use jsonrpc::{
    Incoming, Own, RequestId, encode_notification, encode_request, encode_response,
};
pub use types::{
    CallToolResult, CompleteResult, Completion, Content, GetPromptResult, Implementation,
    InitializeResult, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, Prompt, PromptArgument, PromptMessage, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate, Tool,
};
pub use version::ProtocolVersion;
