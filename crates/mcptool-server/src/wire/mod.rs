//! What both eras share on the wire: header names, reading headers, building responses.

pub(crate) mod reply;

use http::{HeaderMap, header};

pub(crate) const SESSION_HEADER: &str = "mcp-session-id";
pub(crate) const VERSION_HEADER: &str = "mcp-protocol-version";

/// A header's value, when it is present and visible ASCII.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether an `Accept` header lists `media` (or a matching wildcard).
pub(crate) fn accepts(headers: &HeaderMap, media: &str) -> bool {
    let (kind, _) = media.split_once('/').unwrap_or((media, ""));
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',')
                .map(|part| part.split(';').next().unwrap_or("").trim())
                .any(|m| {
                    m.eq_ignore_ascii_case(media)
                        || m.strip_suffix("/*")
                            .is_some_and(|k| k.eq_ignore_ascii_case(kind))
                })
        })
}
