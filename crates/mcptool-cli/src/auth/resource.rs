//! The key a URL's tokens are kept under in the store.
//!
//! It mirrors the library's canonical resource URI (RFC 8707 `resource`), which it uses as the
//! lookup key but does not export; `logout --url` and `check`'s raw probes need the same key.

use reqwest::Url;

/// The key the client keeps `url`'s tokens under: its canonical resource URI, as the library
/// computes it (`scheme://host[:port]` lower case without a default port, the path without a
/// trailing slash, the query kept, no fragment).
pub(crate) fn resource_key(url: &str) -> Option<String> {
    let parsed = Url::parse(url).ok()?;
    let host = parsed.host_str().unwrap_or_default();
    let mut key = match parsed.port() {
        Some(port) => format!("{}://{host}:{port}", parsed.scheme()),
        None => format!("{}://{host}", parsed.scheme()),
    };
    key.push_str(parsed.path().trim_end_matches('/'));
    if let Some(query) = parsed.query() {
        key.push('?');
        key.push_str(query);
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_canonical_resource() {
        let key = |u: &str| resource_key(u).expect("a URL");
        assert_eq!(
            key("http://127.0.0.1:8080/mcp"),
            "http://127.0.0.1:8080/mcp"
        );
        assert_eq!(
            key("HTTP://Example.COM:443/mcp/"),
            "http://example.com:443/mcp"
        );
        assert_eq!(
            key("https://example.com:443/mcp#x"),
            "https://example.com/mcp"
        );
        assert_eq!(key("http://127.0.0.1:1/"), "http://127.0.0.1:1");
        assert_eq!(key("http://h/m?t=1"), "http://h/m?t=1");
        assert_eq!(resource_key("not a url"), None);
    }
}
