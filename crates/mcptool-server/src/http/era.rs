//! Which protocol era serves a request, on an endpoint that may speak both.
//!
//! The rules (the 2026-07-28 versioning page, "a dual-era server selects its behavior from how
//! the client opens"):
//! - `initialize` and batches belong to the session era;
//! - a `_meta` protocol version decides: a session-era version keeps the session rules, any
//!   other (2026-07-28, or one we do not know) gets the stateless rules and their errors;
//! - otherwise an `Mcp-Session-Id` header means the session era;
//! - otherwise an `MCP-Protocol-Version` header naming a stateless version means 2026-07-28;
//! - anything else is a session-era request (which then needs a session id).
//!
//! A server configured for one era serves every request by that era's rules.

use http::HeaderMap;
use serde_json::Value;

use crate::config::Era;
use crate::rpc;
use crate::wire::{SESSION_HEADER, VERSION_HEADER, header};

/// The wire dialect a request is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wire {
    /// 2025-03-26 .. 2025-11-25: sessions, standalone GET, DELETE, resumption.
    Session,
    /// 2026-07-28: every request self-contained.
    Stateless,
}

/// The `_meta` key that names a request's protocol version (2026-07-28).
pub(crate) const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";

pub(crate) fn for_post(mode: Era, headers: &HeaderMap, message: &Value) -> Wire {
    match mode {
        Era::Sessions => return Wire::Session,
        Era::Stateless => return Wire::Stateless,
        Era::Both => {}
    }
    if message.is_array() || message.get("method").and_then(Value::as_str) == Some("initialize") {
        return Wire::Session;
    }
    let meta_version = message
        .pointer("/params/_meta")
        .and_then(|meta| meta.get(META_VERSION))
        .and_then(Value::as_str);
    if let Some(version) = meta_version {
        return if rpc::supported(version).is_some() {
            Wire::Session
        } else {
            Wire::Stateless
        };
    }
    for_get_or_delete(mode, headers)
}

pub(crate) fn for_get_or_delete(mode: Era, headers: &HeaderMap) -> Wire {
    match mode {
        Era::Sessions => Wire::Session,
        Era::Stateless => Wire::Stateless,
        Era::Both if headers.contains_key(SESSION_HEADER) => Wire::Session,
        Era::Both => match header(headers, VERSION_HEADER).and_then(rpc::stateless) {
            Some(_) => Wire::Stateless,
            None => Wire::Session,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().expect("header value"));
        }
        map
    }

    fn call(meta_version: Option<&str>) -> Value {
        let mut message = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}});
        if let Some(v) = meta_version {
            message["params"]["_meta"] = json!({META_VERSION: v});
        }
        message
    }

    #[test]
    fn a_dual_era_endpoint_picks_the_era_from_the_request() {
        let none = headers(&[]);
        let session = headers(&[(SESSION_HEADER, "abc")]);
        let modern = headers(&[(VERSION_HEADER, "2026-07-28")]);
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}});
        assert_eq!(for_post(Era::Both, &modern, &init), Wire::Session);
        assert_eq!(for_post(Era::Both, &none, &json!([])), Wire::Session);
        assert_eq!(
            for_post(Era::Both, &none, &call(Some("2026-07-28"))),
            Wire::Stateless
        );
        assert_eq!(
            for_post(Era::Both, &session, &call(Some("2026-07-28"))),
            Wire::Stateless
        );
        assert_eq!(
            for_post(Era::Both, &none, &call(Some("2099-01-01"))),
            Wire::Stateless
        );
        assert_eq!(
            for_post(Era::Both, &none, &call(Some("2025-11-25"))),
            Wire::Session
        );
        assert_eq!(for_post(Era::Both, &session, &call(None)), Wire::Session);
        assert_eq!(for_post(Era::Both, &modern, &call(None)), Wire::Stateless);
        assert_eq!(for_post(Era::Both, &none, &call(None)), Wire::Session);
    }

    #[test]
    fn a_single_era_endpoint_serves_everything_by_its_rules() {
        let modern = headers(&[(VERSION_HEADER, "2026-07-28")]);
        let session = headers(&[(SESSION_HEADER, "abc")]);
        assert_eq!(
            for_post(Era::Sessions, &modern, &call(Some("2026-07-28"))),
            Wire::Session
        );
        assert_eq!(
            for_post(Era::Stateless, &session, &call(None)),
            Wire::Stateless
        );
        assert_eq!(for_get_or_delete(Era::Both, &modern), Wire::Stateless);
        assert_eq!(for_get_or_delete(Era::Both, &session), Wire::Session);
        assert_eq!(for_get_or_delete(Era::Stateless, &session), Wire::Stateless);
    }
}
