//! A side-by-side benchmark of MCP clients against the cost of the HTTP round trip itself.
//!
//! The **floor** sends the same JSON-RPC requests over a hyper keep-alive connection with no MCP
//! logic; `mcptool`, rmcp (the Rust SDK), the TypeScript SDK and the Python SDK clients then run
//! the same phases against the same server in the same run, and every figure is also given as a
//! ratio to the floor's:
//!
//! - sequential `tools/call` calls/s, p50 and p99 latency;
//! - calls/s with many concurrent callers;
//! - connect + initialize + close time;
//! - mcptool's connect to first answer in each era: pinned, detected by its own probe, or
//!   detected once and lent through an era cache;
//! - RSS per idle open session and open file descriptors after many lifecycles, measured in a
//!   child process (see [`run_child_if_requested`]).
//!
//! ```no_run
//! fn main() -> Result<(), mcptool_bench::Error> {
//!     mcptool_bench::run_child_if_requested();
//!     let report = mcptool_bench::run(&mcptool_bench::BenchConfig::smoke())?;
//!     println!("{}", report.to_markdown());
//!     Ok(())
//! }
//! ```

mod config;
mod connect;
mod error;
mod floor;
mod measure;
mod memory;
mod report;
mod run;
mod subjects;

pub use config::BenchConfig;
pub use connect::ConnectFigure;
pub use error::{Error, chain};
pub use measure::Figures;
pub use memory::{CHILD_ENV, MemoryFigures, run_child_if_requested};
pub use report::{ClientReport, Ratios, Report};
pub use run::run;
