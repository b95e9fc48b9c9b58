//! The demo state a request sees, and the changes it announces.

use std::sync::atomic::{AtomicBool, Ordering};

/// What the toggling demo tools change: per session in the session era, server-wide in
/// 2026-07-28 (where lists no longer vary per connection).
#[derive(Debug, Default)]
pub(crate) struct Scope {
    extra_tool: AtomicBool,
    extra_prompt: AtomicBool,
    extra_resource: AtomicBool,
}

impl Scope {
    pub(crate) fn extra_tool(&self) -> bool {
        self.extra_tool.load(Ordering::SeqCst)
    }

    pub(crate) fn extra_prompt(&self) -> bool {
        self.extra_prompt.load(Ordering::SeqCst)
    }

    pub(crate) fn extra_resource(&self) -> bool {
        self.extra_resource.load(Ordering::SeqCst)
    }

    /// Flips the item `change` names; returns whether it is now present.
    pub(crate) fn toggle(&self, change: &Change) -> bool {
        let flag = match change {
            Change::Tools => &self.extra_tool,
            Change::Prompts => &self.extra_prompt,
            Change::Resources => &self.extra_resource,
            Change::Resource(_) => return true,
        };
        !flag.fetch_xor(true, Ordering::SeqCst)
    }
}

/// A change that listeners may have asked to hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// The tool list changed.
    Tools,
    /// The prompt list changed.
    Prompts,
    /// The resource list changed.
    Resources,
    /// The resource with this URI was updated.
    Resource(String),
}

impl Change {
    /// The notification method that announces it.
    pub(crate) fn method(&self) -> &'static str {
        match self {
            Self::Tools => "notifications/tools/list_changed",
            Self::Prompts => "notifications/prompts/list_changed",
            Self::Resources => "notifications/resources/list_changed",
            Self::Resource(_) => "notifications/resources/updated",
        }
    }

    /// The notification's params (before any `_meta`).
    pub(crate) fn params(&self) -> serde_json::Value {
        match self {
            Self::Resource(uri) => serde_json::json!({"uri": uri}),
            _ => serde_json::json!({}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toggling_flips_one_item_and_reports_its_new_state() {
        let scope = Scope::default();
        assert!(scope.toggle(&Change::Tools));
        assert!(scope.extra_tool());
        assert!(!scope.extra_prompt());
        assert!(!scope.toggle(&Change::Tools));
        assert!(!scope.extra_tool());
    }
}
