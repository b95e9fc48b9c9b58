//! The key a URL's tokens are kept under in the store: the library's canonical resource URI
//! (RFC 8707 `resource`); `logout --url` and `check`'s raw probes need the same key.

/// The key the client keeps `url`'s tokens under.
pub(crate) fn resource_key(url: &str) -> Option<String> {
    mcptool::canonical_resource(url)
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
