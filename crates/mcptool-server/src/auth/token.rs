//! Checking an access token: a JWT signed by one of the issuer's keys, for this resource, in
//! date; what it grants is its scopes.
//!
//! A refusal says why in words fit for `error_description`: never the token, nor any claim
//! value taken from it.

use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::jwks::Keys;

/// What a valid token grants.
#[derive(Clone, Debug)]
pub(crate) struct Grant {
    /// The scopes of its `scope` (space-separated) or `scp` (array) claim.
    pub(crate) scopes: Vec<String>,
    /// SHA-256 of the token, to count distinct tokens without keeping one.
    pub(crate) fingerprint: [u8; 32],
}

impl Grant {
    pub(crate) fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// Checks tokens against the issuer, the resource and the keys.
#[derive(Debug)]
pub(super) struct Verifier {
    pub(super) issuer: String,
    pub(super) resource: String,
    pub(super) leeway_secs: u64,
    pub(super) keys: Keys,
}

/// The parts of a JWT header read before choosing a key.
#[derive(Deserialize)]
struct Head {
    alg: String,
    kid: Option<String>,
}

/// The claims read after validation (the registered ones are checked by `jsonwebtoken`).
#[derive(Deserialize)]
struct Claims {
    scope: Option<String>,
    scp: Option<Value>,
}

impl Verifier {
    /// The grant of a valid token, or why it is not valid.
    pub(super) async fn verify(&self, token: &str) -> Result<Grant, &'static str> {
        let head = read_head(token)?;
        let alg = match head.alg.as_str() {
            "RS256" => Algorithm::RS256,
            "ES256" => Algorithm::ES256,
            "PS256" => Algorithm::PS256,
            _ => return Err("the token is not signed with RS256, ES256 or PS256"),
        };
        let kid = head.kid.ok_or("the token header has no kid")?;
        let key = self
            .keys
            .key(&kid)
            .await
            .ok_or("the token is signed by a key the issuer does not publish")?;
        if !key.fits(alg) {
            return Err("the token's algorithm does not match its signing key");
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &key.decoding, &self.validation(alg))
            .map_err(|e| describe(e.kind()))?
            .claims;
        Ok(Grant {
            scopes: scopes(&claims),
            fingerprint: Sha256::digest(token.as_bytes()).into(),
        })
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.resource]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = self.leeway_secs;
        validation
    }
}

/// The header of a compact JWS, without trusting anything in it yet.
fn read_head(token: &str) -> Result<Head, &'static str> {
    const MALFORMED: &str = "the token is not a signed JWT";
    let mut parts = token.split('.');
    let (Some(head), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(MALFORMED);
    };
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(head)
        .map_err(|_| MALFORMED)?;
    serde_json::from_slice(&json).map_err(|_| MALFORMED)
}

fn describe(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidSignature => "the token signature is invalid",
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)",
        ErrorKind::InvalidIssuer => "the token was issued by another issuer",
        ErrorKind::InvalidAudience => "the token is not meant for this resource (aud)",
        ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
            "exp" => "the token has no exp claim",
            "iss" => "the token has no iss claim",
            "aud" => "the token has no aud claim",
            _ => "the token lacks a required claim",
        },
        ErrorKind::InvalidClaimFormat(_) => "a claim of the token is malformed",
        ErrorKind::InvalidAlgorithm => "the token's algorithm does not match its signing key",
        _ => "the token is malformed",
    }
}

fn scopes(claims: &Claims) -> Vec<String> {
    let words = |s: &str| s.split_ascii_whitespace().map(str::to_owned).collect();
    if let Some(scope) = &claims.scope {
        return words(scope);
    }
    match &claims.scp {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(scope)) => words(scope),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scopes_come_from_scope_or_scp() {
        let from = |v: Value| scopes(&serde_json::from_value::<Claims>(v).expect("claims"));
        assert_eq!(from(json!({"scope": "a  b"})), ["a", "b"]);
        assert_eq!(from(json!({"scp": ["a", "b"]})), ["a", "b"]);
        assert_eq!(from(json!({"scp": "a b"})), ["a", "b"]);
        assert!(from(json!({})).is_empty());
    }

    #[test]
    fn only_compact_jws_headers_are_read() {
        let head = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
        assert_eq!(
            read_head(&format!("{head}.e30.")).expect("head").alg,
            "none"
        );
        assert!(read_head(&format!("{head}.e30")).is_err());
        assert!(read_head("not a token").is_err());
    }
}
