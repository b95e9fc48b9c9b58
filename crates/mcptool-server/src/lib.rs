//! A strict reference MCP (Model Context Protocol) Streamable HTTP server that reports what it saw.
//!
//! It speaks both protocol eras on one endpoint, as real dual-era servers do ([`Era`]):
//!
//! - the session era (2025-03-26, 2025-06-18, 2025-11-25): `initialize`, `Mcp-Session-Id`, the
//!   standalone GET stream, DELETE, resumption with `Last-Event-ID`, enforced as strictly as the
//!   TypeScript and Python SDK servers do (404 for a dead session, 409 for a second standalone
//!   GET, 403 for a foreign `Origin`...);
//! - 2026-07-28, stateless: `_meta` and the `Mcp-*` routing headers checked on every request,
//!   `server/discover`, multi-round-trip results with an HMAC-protected `requestState`,
//!   `subscriptions/listen` streams, caching hints, cancellation by closing the stream.
//!
//! With [`ServerConfig::auth`] it is an OAuth 2.1 protected resource ([`AuthConfig`]): bearer
//! JWTs of one issuer on every request to the endpoint, protected resource metadata (RFC 9728),
//! 401 and 403 challenges with `WWW-Authenticate`, per-tool scopes.
//!
//! It serves demo tools, prompts and resources, and counts everything in [`ServerStats`] for tests.
//!
//! ```no_run
//! use mcptool_server::{Server, ServerConfig};
//! # async fn demo() -> Result<(), mcptool_server::StartError> {
//! let server = Server::start(ServerConfig::default()).await?;
//! println!("serving {}", server.url());
//! let stats = server.stats();
//! // ... point a client at server.url() ...
//! assert_eq!(stats.snapshot().live_get_streams, 0);
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod auth;
mod config;
mod demo;
mod fault;
mod http;
mod listener;
mod rpc;
mod server;
mod session_era;
mod state;
mod stateless;
mod stats;
mod wire;

pub use crate::auth::AuthConfig;
pub use crate::config::{DeadSessionStatus, Era, Faults, ResponseMode, ServerConfig};
pub use crate::server::{RunningServer, Server, StartError};
pub use crate::stats::{RequestRecord, ServerStats, StatsSnapshot};

/// The session-era protocol versions the server negotiates with `initialize`, oldest first.
pub const SUPPORTED_PROTOCOL_VERSIONS: [&str; 3] = rpc::SUPPORTED_VERSIONS;

/// The stateless protocol versions the server serves (every request names its version in `_meta`).
pub const STATELESS_PROTOCOL_VERSIONS: [&str; 1] = rpc::STATELESS_VERSIONS;
