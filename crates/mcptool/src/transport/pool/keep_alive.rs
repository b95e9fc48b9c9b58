//! How long an idle connection is kept: the pool's idle timeout, or less when the server
//! announced with `Keep-Alive: timeout=N` that it closes idle connections after N seconds.

use std::time::Duration;

/// How much sooner than the server's announced keep-alive timeout a connection is retired.
const KEEP_ALIVE_MARGIN: Duration = Duration::from_secs(1);

/// How long a connection whose response carried `headers` may sit idle before it is retired:
/// a second less than the server's announced timeout, and never longer than `idle_timeout`.
pub(super) fn keep_for(headers: &http::HeaderMap, idle_timeout: Duration) -> Duration {
    match server_keep_alive(headers) {
        Some(server) => server.saturating_sub(KEEP_ALIVE_MARGIN).min(idle_timeout),
        None => idle_timeout,
    }
}

/// The idle timeout a server announced with `Keep-Alive: timeout=N` (RFC 9112 leaves the
/// header to implementations; Node's HTTP server sends it).
fn server_keep_alive(headers: &http::HeaderMap) -> Option<Duration> {
    // A constant name: looking up a `&str` parses and validates it on every response.
    const KEEP_ALIVE: http::HeaderName = http::HeaderName::from_static("keep-alive");
    let value = headers.get(KEEP_ALIVE)?.to_str().ok()?;
    value.split(',').find_map(|param| {
        let (name, seconds) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("timeout") {
            return None;
        }
        seconds.trim().parse::<u64>().ok().map(Duration::from_secs)
    })
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn reads_the_servers_keep_alive_timeout() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(server_keep_alive(&headers), None);
        for (value, seconds) in [
            ("timeout=5", Some(5)),
            ("timeout=5, max=1000", Some(5)),
            ("max=100,Timeout = 7", Some(7)),
            ("max=100", None),
            ("timeout=soon", None),
        ] {
            headers.insert("keep-alive", HeaderValue::from_static(value));
            assert_eq!(
                server_keep_alive(&headers),
                seconds.map(Duration::from_secs),
                "{value}"
            );
        }
    }
}
