//! The clients measured side by side, one module each. Every `run` makes one run of the three
//! phases (sequential, concurrent, lifecycles) and returns its [`Figures`](crate::Figures).

pub(crate) mod floor;
pub(crate) mod mcptool;
pub(crate) mod pooled;
pub(crate) mod rmcp;
pub(crate) mod script;

/// The tool every client calls, and its arguments.
pub(crate) const TOOL: &str = "echo";
