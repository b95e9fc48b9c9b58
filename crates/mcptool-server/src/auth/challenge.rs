//! The refusals of a protected resource (RFC 6750 section 3, RFC 9728 section 5.1): the status,
//! the `WWW-Authenticate: Bearer` challenge, and a JSON-RPC error body without id.
//!
//! Every challenge names the protected resource metadata (`resource_metadata`); `scope` lists
//! the scopes that would satisfy the request; the descriptions are the server's own words.

use axum::response::Response;
use http::{HeaderValue, StatusCode, header};

use crate::wire::reply;

/// Why a request to the protected endpoint is refused.
#[derive(Debug)]
pub(crate) enum Challenge {
    /// 401 without an error code: no bearer token at all.
    Missing,
    /// 401 `invalid_token`: the token is malformed, badly signed, expired, or not for us.
    InvalidToken(&'static str),
    /// 403 `insufficient_scope`: a valid token without every scope this request needs; holds
    /// the scopes to ask for (the token's own and the missing ones).
    InsufficientScope(Vec<String>),
    /// 400 `invalid_request`: an access token in the URL query.
    QueryToken,
}

impl Challenge {
    /// The response: `metadata_url` is the absolute protected resource metadata URL and
    /// `required` the scopes every request needs.
    pub(crate) fn respond(&self, metadata_url: &str, required: &[String]) -> Response {
        let (status, value, message) = self.parts(metadata_url, required);
        let mut response = reply::rpc_error(status, -32000, &message);
        match HeaderValue::from_str(&value) {
            Ok(value) => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
            Err(_) => tracing::warn!("a WWW-Authenticate value was not a valid header"),
        }
        response
    }

    fn parts(&self, metadata_url: &str, required: &[String]) -> (StatusCode, String, String) {
        let metadata = param("resource_metadata", metadata_url);
        let scope = |scopes: &[String]| {
            if scopes.is_empty() {
                String::new()
            } else {
                format!(", {}", param("scope", &scopes.join(" ")))
            }
        };
        match self {
            Self::Missing => (
                StatusCode::UNAUTHORIZED,
                format!("Bearer {metadata}{}", scope(required)),
                "Unauthorized: a bearer token is required".to_owned(),
            ),
            Self::InvalidToken(why) => (
                StatusCode::UNAUTHORIZED,
                format!(
                    "Bearer error=\"invalid_token\", {}, {metadata}{}",
                    param("error_description", why),
                    scope(required)
                ),
                format!("Unauthorized: {why}"),
            ),
            Self::InsufficientScope(scopes) => (
                StatusCode::FORBIDDEN,
                format!(
                    "Bearer error=\"insufficient_scope\"{}, {metadata}, {}",
                    scope(scopes),
                    param("error_description", INSUFFICIENT)
                ),
                format!("Forbidden: {INSUFFICIENT}"),
            ),
            Self::QueryToken => (
                StatusCode::BAD_REQUEST,
                format!(
                    "Bearer error=\"invalid_request\", {}, {metadata}",
                    param("error_description", QUERY)
                ),
                format!("Bad Request: {QUERY}"),
            ),
        }
    }
}

const INSUFFICIENT: &str = "the token lacks a scope this request needs";
const QUERY: &str = "access tokens are accepted in the Authorization header only, not in the URL";

/// `name="value"`, with what a quoted string cannot hold (`"`, `\`, controls) left out.
fn param(name: &str, value: &str) -> String {
    let clean: String = value
        .chars()
        .filter(|c| (' '..='~').contains(c) && *c != '"' && *c != '\\')
        .collect();
    format!("{name}=\"{clean}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp";

    fn header_of(challenge: &Challenge, required: &[String]) -> (u16, String) {
        let (status, value, _) = challenge.parts(URL, required);
        (status.as_u16(), value)
    }

    #[test]
    fn challenges_have_the_documented_shape() {
        let required = ["mcp:tools".to_owned()];
        assert_eq!(
            header_of(&Challenge::Missing, &[]),
            (401, format!("Bearer resource_metadata=\"{URL}\""))
        );
        assert_eq!(
            header_of(&Challenge::Missing, &required),
            (
                401,
                format!("Bearer resource_metadata=\"{URL}\", scope=\"mcp:tools\"")
            )
        );
        assert_eq!(
            header_of(&Challenge::InvalidToken("the token has expired"), &[]),
            (
                401,
                format!(
                    "Bearer error=\"invalid_token\", error_description=\"the token has expired\", resource_metadata=\"{URL}\""
                )
            )
        );
        let scopes = vec!["mcp:tools".to_owned(), "mcp:admin".to_owned()];
        let (status, value) = header_of(&Challenge::InsufficientScope(scopes), &[]);
        assert_eq!(status, 403);
        assert!(value.starts_with(&format!(
            "Bearer error=\"insufficient_scope\", scope=\"mcp:tools mcp:admin\", resource_metadata=\"{URL}\""
        )));
        assert_eq!(header_of(&Challenge::QueryToken, &[]).0, 400);
    }

    #[test]
    fn quoted_values_drop_what_would_break_them() {
        assert_eq!(param("x", "a\"b\\c\nd"), "x=\"abcd\"");
    }
}
