//! A strict reference MCP (Model Context Protocol) Streamable HTTP server that reports what it saw.
//!
//! It speaks protocol versions 2025-03-26, 2025-06-18 and 2025-11-25, enforces the transport rules
//! as strictly as the TypeScript and Python SDK servers do (404 for a dead session, 409 for a second
//! standalone GET, 403 for a foreign `Origin`...), serves demo tools, prompts and resources, keeps
//! an event store for SSE resumption, and counts everything in [`ServerStats`] for tests.
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

mod call;
mod config;
mod demo;
mod endpoint;
mod events;
mod fault;
mod listener;
mod rpc;
mod server;
mod session;
mod stats;

pub use crate::config::{DeadSessionStatus, Faults, ResponseMode, ServerConfig};
pub use crate::server::{RunningServer, Server, StartError};
pub use crate::stats::{RequestRecord, ServerStats, StatsSnapshot};

/// The protocol versions the server negotiates, oldest first.
pub const SUPPORTED_PROTOCOL_VERSIONS: [&str; 3] = rpc::SUPPORTED_VERSIONS;
