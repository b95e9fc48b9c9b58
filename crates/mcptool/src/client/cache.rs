//! The answers a stateless client may reuse: results whose `ttlMs` says they stay fresh, by
//! method and params, for this client alone. A retry that carried input is never cached; a
//! change notification makes the answers it concerns stale at once; private answers are kept
//! only while the credentials cannot change between requests.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use serde_json::{Map, Value};

use crate::protocol::modern::{CacheHint, CacheScope};

/// The methods whose complete results carry caching hints (discover runs once per client).
const CACHEABLE: [&str; 5] = [
    "tools/list",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
];
/// The most answers one client keeps.
const MAX_CACHED: usize = 256;

/// One client's cached answers.
#[derive(Debug)]
pub(super) struct Cache {
    entries: Mutex<HashMap<String, (Instant, Value)>>,
    /// Whether private answers may be kept: not when a header provider may change the
    /// credentials between requests.
    private: bool,
}

impl Cache {
    pub(super) fn new(private: bool) -> Cache {
        Cache {
            entries: Mutex::default(),
            private,
        }
    }

    /// The key of a cacheable request, or `None` when its answer must not be cached: another
    /// method, or a retry that carries input.
    pub(super) fn key(method: &str, params: &Map<String, Value>) -> Option<String> {
        let carries_input =
            params.contains_key("inputResponses") || params.contains_key("requestState");
        if !CACHEABLE.contains(&method) || carries_input || params.contains_key("_meta") {
            return None;
        }
        Some(format!("{method}\n{}", Value::Object(params.clone())))
    }

    /// A fresh answer to `key`, if one is cached.
    pub(super) fn get(&self, key: &str) -> Option<Value> {
        let mut cache = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match cache.get(key) {
            Some((fresh_until, value)) if Instant::now() < *fresh_until => Some(value.clone()),
            Some(_) => {
                cache.remove(key);
                None
            }
            None => None,
        }
    }

    /// Keeps an answer for as long as its hints say it stays fresh.
    pub(super) fn store(&self, key: String, result: &Value) {
        let hint = CacheHint::of(result);
        if hint.ttl.is_zero() || (hint.scope == CacheScope::Private && !self.private) {
            return;
        }
        let now = Instant::now();
        let mut cache = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= MAX_CACHED {
            cache.retain(|_, (fresh_until, _)| *fresh_until > now);
        }
        if cache.len() < MAX_CACHED {
            cache.insert(key, (now + hint.ttl, result.clone()));
        }
    }

    /// A change notification makes the answers it concerns stale at once.
    pub(super) fn invalidate(&self, notification: &str) {
        let stale: &[&str] = match notification {
            "notifications/tools/list_changed" => &["tools/list"],
            "notifications/prompts/list_changed" => &["prompts/list"],
            "notifications/resources/list_changed" => {
                &["resources/list", "resources/templates/list"]
            }
            "notifications/resources/updated" => &["resources/read"],
            _ => return,
        };
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|key, _| !stale.iter().any(|m| key.split('\n').next() == Some(*m)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn retries_other_methods_and_zero_ttls_are_never_kept() {
        assert!(Cache::key("tools/call", &params(json!({"name": "x"}))).is_none());
        assert!(
            Cache::key(
                "resources/read",
                &params(json!({"uri": "u", "requestState": "s"}))
            )
            .is_none()
        );
        let cache = Cache::new(true);
        let key = Cache::key("tools/list", &Map::new()).expect("cacheable");
        cache.store(key.clone(), &json!({"tools": [], "ttlMs": 0}));
        assert!(cache.get(&key).is_none(), "ttl 0 is immediately stale");
        cache.store(
            key.clone(),
            &json!({"tools": [], "ttlMs": -5, "cacheScope": "public"}),
        );
        assert!(cache.get(&key).is_none(), "a negative ttl counts as 0");
    }

    #[test]
    fn private_answers_wait_for_fixed_credentials_and_changes_invalidate() {
        let fixed = Cache::new(true);
        let changing = Cache::new(false);
        let key =
            Cache::key("resources/read", &params(json!({"uri": "demo://readme"}))).expect("key");
        let private = json!({"contents": [], "ttlMs": 60_000, "cacheScope": "private"});
        fixed.store(key.clone(), &private);
        changing.store(key.clone(), &private);
        assert!(fixed.get(&key).is_some());
        assert!(
            changing.get(&key).is_none(),
            "credentials may change: not kept"
        );
        fixed.invalidate("notifications/tools/list_changed");
        assert!(fixed.get(&key).is_some(), "another list's change");
        fixed.invalidate("notifications/resources/updated");
        assert!(fixed.get(&key).is_none());
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = Cache::new(true);
        for i in 0..(MAX_CACHED + 50) {
            let key = Cache::key("resources/read", &params(json!({"uri": format!("u{i}")})))
                .expect("key");
            cache.store(key, &json!({"ttlMs": 60_000, "cacheScope": "public"}));
        }
        assert_eq!(cache.entries.lock().expect("lock").len(), MAX_CACHED);
    }
}
