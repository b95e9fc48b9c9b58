//! The `Mcp-Session-Id` value: validated, and redacted wherever it is printed.

use std::fmt;

use crate::error::Error;

/// The longest session id we accept from a server.
const MAX_LEN: usize = 256;

/// A session id the server assigned. `Display` and `Debug` show only its first 8 characters;
/// [`SessionId::as_str`] gives the whole value.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SessionId(Box<str>);

impl SessionId {
    /// Validates a header value: 1 to 256 visible ASCII characters (0x21–0x7E).
    pub(crate) fn parse(raw: &[u8]) -> Result<SessionId, Error> {
        if raw.is_empty() || raw.len() > MAX_LEN {
            return Err(Error::protocol(format!(
                "server sent a session id of {} bytes (allowed: 1 to {MAX_LEN})",
                raw.len()
            )));
        }
        if !raw.iter().all(|b| (0x21..=0x7e).contains(b)) {
            return Err(Error::protocol(
                "server sent a session id with characters outside visible ASCII",
            ));
        }
        let s = std::str::from_utf8(raw)
            .map_err(|e| Error::protocol("invalid session id").with_source(e))?;
        Ok(SessionId(s.into()))
    }

    /// The whole id, as sent in the `Mcp-Session-Id` header.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 8 characters, for logs.
    pub fn redacted(&self) -> &str {
        let end = self.0.len().min(8);
        &self.0[..end]
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}…", self.redacted())
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({}…)", self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_visible_ascii_and_redacts_it() {
        let id = SessionId::parse(b"0123456789abcdef").expect("valid");
        assert_eq!(id.as_str(), "0123456789abcdef");
        assert_eq!(id.to_string(), "01234567…");
        assert_eq!(format!("{id:?}"), "SessionId(01234567…)");
    }

    #[test]
    fn refuses_control_characters_spaces_and_oversize() {
        for bad in [&b""[..], b"abc\x01", b"a b", b"caf\xc3\xa9", &[b'a'; 257]] {
            let err = SessionId::parse(bad).expect_err("must be refused");
            assert!(err.is_protocol());
        }
    }
}
