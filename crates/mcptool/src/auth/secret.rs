//! Secrets (tokens, client secrets) that never show themselves in `Debug`, `Display` or logs.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A secret string: an access or refresh token, or a client secret.
///
/// `Debug` and `Display` print `[redacted]`; the value is reached only through
/// [`Secret::expose`]. It serialises as the plain string, for a [`TokenStore`](crate::TokenStore)
/// that writes it somewhere safe.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself. Every use is a place where it may leak: keep them few.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_display_hide_the_value_and_serde_keeps_it() {
        let s = Secret::new("tok-123");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(s.to_string(), "[redacted]");
        assert!(!format!("{s:?}{s}").contains("tok-123"));
        assert_eq!(serde_json::to_string(&s).expect("json"), "\"tok-123\"");
        assert_eq!(s.expose(), "tok-123");
    }
}
