//! The layer in front of the MCP endpoint: every request (POST, GET, DELETE, both eras) needs
//! one valid `Authorization: Bearer` token with the scopes every request needs; a token in the
//! URL query is refused outright. What passes carries its [`Grant`] in the request extensions.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, Uri, header};

use super::Auth;
use super::challenge::Challenge;
use super::token::Grant;

/// The middleware: admits the request or answers with the challenge.
pub(crate) async fn guard(State(auth): State<Arc<Auth>>, mut req: Request, next: Next) -> Response {
    match admit(&auth, req.uri(), req.headers()).await {
        Ok(grant) => {
            req.extensions_mut().insert(grant);
            next.run(req).await
        }
        Err(challenge) => auth.refuse(&challenge),
    }
}

async fn admit(auth: &Auth, uri: &Uri, headers: &HeaderMap) -> Result<Grant, Challenge> {
    if query_has_token(uri) {
        return Err(Challenge::QueryToken);
    }
    let token = bearer(headers)
        .map_err(Challenge::InvalidToken)?
        .ok_or(Challenge::Missing)?;
    let grant = auth
        .verifier
        .verify(token)
        .await
        .map_err(Challenge::InvalidToken)?;
    auth.stats.token_accepted(grant.fingerprint);
    auth.needs(&grant, &[])?;
    Ok(grant)
}

/// The bearer token of the one `Authorization` header; `None` without a header or with
/// another scheme (no bearer credentials at all).
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, &'static str> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err("the request has more than one Authorization header");
    }
    let value = value
        .to_str()
        .map_err(|_| "the Authorization header is not visible ASCII")?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = token.trim_matches(' ');
    if !is_token68(token) {
        return Err("the bearer token is malformed");
    }
    Ok(Some(token))
}

/// RFC 7235 `token68`: the syntax of a bearer token (RFC 6750 section 2.1).
fn is_token68(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// Whether the query has an `access_token` parameter (RFC 6750 section 2.3, which OAuth 2.1
/// and MCP forbid).
fn query_has_token(uri: &Uri) -> bool {
    uri.query().is_some_and(|query| {
        query
            .split('&')
            .map(|pair| pair.split_once('=').map_or(pair, |(key, _)| key))
            .any(|key| percent_decoded(key) == "access_token")
    })
}

fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_authorization(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(header::AUTHORIZATION, v.parse().expect("value"));
        }
        headers
    }

    #[test]
    fn only_one_bearer_header_counts() {
        assert_eq!(bearer(&with_authorization(&[])), Ok(None));
        assert_eq!(
            bearer(&with_authorization(&["Basic dXNlcjpwdw=="])),
            Ok(None)
        );
        assert_eq!(
            bearer(&with_authorization(&["bearer a.b.c"])),
            Ok(Some("a.b.c"))
        );
        assert!(bearer(&with_authorization(&["Bearer"])).is_err());
        assert!(bearer(&with_authorization(&["Bearer a b"])).is_err());
        assert!(bearer(&with_authorization(&["Bearer a", "Bearer b"])).is_err());
    }

    #[test]
    fn a_token_in_the_query_is_seen_however_it_is_spelt() {
        let seen = |q: &str| query_has_token(&format!("/mcp?{q}").parse().expect("uri"));
        assert!(seen("access_token=abc"));
        assert!(seen("x=1&access%5Ftoken=abc"));
        assert!(seen("access_token"));
        assert!(!seen("x_access_token=abc&y=access_token"));
    }
}
