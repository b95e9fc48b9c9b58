//! Which calls need approval, and who gives it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

/// Which calls of a tool need approval before they reach the server. Names are the tools'
/// names on the server (before prefixing and normalisation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApprovalMode {
    /// No call needs approval (the default).
    #[default]
    NeverRequire,
    /// Every call needs approval.
    AlwaysRequire,
    /// Per tool: the names in `never_require` run without approval; every other call
    /// (those in `always_require` and any tool in neither list) needs it.
    PerTool {
        /// Tools whose calls always need approval.
        always_require: Vec<String>,
        /// Tools whose calls never need approval.
        never_require: Vec<String>,
    },
}

impl ApprovalMode {
    /// Whether a call of the MCP tool or prompt `name` needs approval.
    pub fn requires_approval(&self, name: &str) -> bool {
        match self {
            ApprovalMode::NeverRequire => false,
            ApprovalMode::AlwaysRequire => true,
            ApprovalMode::PerTool {
                always_require,
                never_require,
            } => {
                always_require.iter().any(|n| n == name) || !never_require.iter().any(|n| n == name)
            }
        }
    }
}

/// A call waiting for approval.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ApprovalRequest {
    /// The function the model called (prefixed, normalised).
    pub function: String,
    /// The tool's or prompt's name on the server.
    pub mcp_name: String,
    /// The arguments the model gave.
    pub arguments: Value,
}

/// The answer to an [`ApprovalRequest`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApprovalDecision {
    /// Run the call.
    Approve,
    /// Do not run it; the reason goes to the model in the result.
    Deny {
        /// Why, if the approver says.
        reason: Option<String>,
    },
}

/// The future an [`Approver`] returns.
pub type ApprovalFuture = Pin<Box<dyn Future<Output = ApprovalDecision> + Send>>;

/// Decides, asynchronously, whether a call may run (asks a person, checks a policy...).
/// Cheap to clone.
#[derive(Clone)]
pub struct Approver(Arc<dyn Fn(ApprovalRequest) -> ApprovalFuture + Send + Sync>);

impl Approver {
    /// Wraps an async function of the request.
    pub fn new<F, Fut>(f: F) -> Approver
    where
        F: Fn(ApprovalRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ApprovalDecision> + Send + 'static,
    {
        Approver(Arc::new(move |request| Box::pin(f(request))))
    }

    pub(crate) fn decide(&self, request: ApprovalRequest) -> ApprovalFuture {
        (self.0)(request)
    }
}

impl fmt::Debug for Approver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Approver(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_tool_lists_default_to_requiring_approval() {
        let mode = ApprovalMode::PerTool {
            always_require: vec!["rm".into()],
            never_require: vec!["echo".into()],
        };
        assert!(mode.requires_approval("rm"));
        assert!(!mode.requires_approval("echo"));
        assert!(mode.requires_approval("unlisted"));
        assert!(!ApprovalMode::NeverRequire.requires_approval("rm"));
        assert!(ApprovalMode::AlwaysRequire.requires_approval("echo"));
    }
}
