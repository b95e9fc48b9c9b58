//! Scope checks: the scopes every request needs (checked by the guard) and those of the tools a
//! `tools/call` names (checked once per POST, on the parsed body, before either era runs it).

use axum::response::Response;
use serde_json::Value;

use super::Auth;
use super::challenge::Challenge;
use super::token::Grant;

impl Auth {
    /// The one tool-scope check of both eras; the refusal, if any. Every `tools/call` in the
    /// POSTed message (a session-era batch may hold several) needs its tool's scopes. The tool
    /// is the body's `params.name`; in 2026-07-28 the era then refuses an `Mcp-Name` that
    /// disagrees, so the header cannot name a tool other than the one checked here.
    pub(crate) fn check_calls(&self, grant: Option<&Grant>, message: &Value) -> Option<Response> {
        let Some(grant) = grant else {
            // The guard admits nothing without a grant; refuse rather than trust a wiring bug.
            return Some(self.refuse(&Challenge::Missing));
        };
        let items = match message {
            Value::Array(items) => items.as_slice(),
            single => std::slice::from_ref(single),
        };
        let mut needed: Vec<String> = Vec::new();
        for item in items {
            if item.get("method").and_then(Value::as_str) != Some("tools/call") {
                continue;
            }
            let name = item.pointer("/params/name").and_then(Value::as_str);
            let scopes = name.and_then(|n| self.tool_scopes.get(n));
            for scope in scopes.into_iter().flatten() {
                if !needed.contains(scope) {
                    needed.push(scope.clone());
                }
            }
        }
        self.needs(grant, &needed).err().map(|c| self.refuse(&c))
    }

    /// `Ok` when the grant holds every required scope and every one of `extra`; otherwise the
    /// 403 challenge naming the grant's scopes plus the missing ones, so that a client asking
    /// for exactly those keeps what it had and gains what it lacks.
    pub(super) fn needs(&self, grant: &Grant, extra: &[String]) -> Result<(), Challenge> {
        let missing: Vec<&String> = self
            .required
            .iter()
            .chain(extra)
            .filter(|scope| !grant.has(scope))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let mut scopes = grant.scopes.clone();
        for scope in missing {
            if !scopes.contains(scope) {
                scopes.push(scope.clone());
            }
        }
        Err(Challenge::InsufficientScope(scopes))
    }
}
