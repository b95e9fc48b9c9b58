//! MCP servers over Streamable HTTP for AI agents, with one guarantee at the heart: every
//! [`Client`] owns its MCP session and its HTTP connection pool, and [`Client::close`] ends
//! both.
//!
//! ```no_run
//! # async fn run() -> Result<(), mcptool::Error> {
//! use serde_json::json;
//!
//! let client = mcptool::Client::connect("http://127.0.0.1:8081/mcp").await?;
//! for tool in client.list_tools().await? {
//!     println!("{}", tool.name);
//! }
//! let result = client.call_tool("echo", json!({"message": "hi"})).await?;
//! println!("{:?}", result.content[0].as_text());
//! client.close().await?;
//! # Ok(())
//! # }
//! ```
//!
//! The layers, top to bottom: [`Client`] (requests, correlation, timeouts, progress,
//! lifecycle) → `transport` (POST / GET / DELETE, SSE decoding, session headers) →
//! [`protocol`] (JSON-RPC and MCP types, serde only).

pub mod protocol;

/// The README's code blocks, compiled as doctests so that its quick start stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

mod auth;
mod client;
mod error;
mod tool;
mod transport;

pub use auth::{
    AuthorizationHandler, AuthorizeFuture, ClientRegistration, LoopbackBrowser, MemoryTokenStore,
    OAuth, PrivateKey, Secret, StoreFuture, StoredTokens, TokenStore, authorization_handler,
    canonical_resource,
};
pub use client::{
    Client, ClientBuilder, CloseOutcome, DEFAULT_MAX_MESSAGE_BYTES, EraCache, Handler,
    HandlerFuture, LegacyFallback, Progress, ProtocolEra, ReconnectPolicy, RequestOptions,
    ServerNotification, StandaloneStream,
};
pub use error::{AuthFailure, Deadline, Error, ErrorKind, Result};
pub use tool::{
    ApprovalDecision, ApprovalFuture, ApprovalMode, ApprovalRequest, Approver, Function,
    FunctionKind, McpStreamableHttpTool, McpStreamableHttpToolBuilder, OutputKind, SchemaViolation,
    ToolOutput, normalize_function_name,
};
#[cfg(feature = "reqwest-client")]
pub use transport::http_client_builder;
pub use transport::{HeaderFuture, HeaderProvider, SessionId};
