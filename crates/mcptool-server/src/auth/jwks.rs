//! The issuer's signing keys: a parsed JWKS, and the cache that re-fetches it — at most once per
//! interval — when a token names a `kid` it does not know (key rotation).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::discovery::JwksSource;
use crate::stats::ServerStats;

/// One verification key.
#[derive(Clone)]
pub(super) struct Key {
    /// The key's `alg`, when the JWKS names one: then only that algorithm may use it.
    alg: Option<Algorithm>,
    rsa: bool,
    pub(super) decoding: DecodingKey,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("alg", &self.alg)
            .field("rsa", &self.rsa)
            .finish_non_exhaustive()
    }
}

impl Key {
    /// Whether a token signed with `alg` may be checked with this key.
    pub(super) fn fits(&self, alg: Algorithm) -> bool {
        let family = match alg {
            Algorithm::RS256 | Algorithm::PS256 => self.rsa,
            Algorithm::ES256 => !self.rsa,
            _ => false,
        };
        family && self.alg.is_none_or(|a| a == alg)
    }

    /// The key a JWK describes, when it is an RSA or P-256 signing key with a `kid`.
    fn from_jwk(jwk: &Jwk) -> Option<(String, Self)> {
        let kid = jwk.common.key_id.clone()?;
        if jwk
            .common
            .public_key_use
            .as_ref()
            .is_some_and(|u| *u != PublicKeyUse::Signature)
        {
            return None;
        }
        let alg = match jwk.common.key_algorithm {
            None => None,
            Some(KeyAlgorithm::RS256) => Some(Algorithm::RS256),
            Some(KeyAlgorithm::ES256) => Some(Algorithm::ES256),
            Some(KeyAlgorithm::PS256) => Some(Algorithm::PS256),
            Some(_) => return None,
        };
        let rsa = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => true,
            AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => false,
            _ => return None,
        };
        let decoding = DecodingKey::from_jwk(jwk).ok()?;
        Some((kid, Self { alg, rsa, decoding }))
    }
}

/// A parsed JWKS: the usable keys by `kid`.
#[derive(Debug, Default)]
pub(super) struct KeySet {
    keys: HashMap<String, Key>,
}

impl KeySet {
    /// Parses a JWKS document; keys this server cannot use are skipped, not errors.
    pub(super) fn parse(json: &[u8]) -> Result<Self, serde_json::Error> {
        #[derive(serde::Deserialize)]
        struct Document {
            keys: Vec<Value>,
        }
        let document: Document = serde_json::from_slice(json)?;
        let keys = document
            .keys
            .into_iter()
            .filter_map(|key| serde_json::from_value::<Jwk>(key).ok())
            .filter_map(|jwk| Key::from_jwk(&jwk))
            .collect();
        Ok(Self { keys })
    }

    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }

    fn get(&self, kid: &str) -> Option<Key> {
        self.keys.get(kid).cloned()
    }
}

/// The keys in use, and where to fetch new ones.
#[derive(Debug)]
pub(super) struct Keys {
    current: RwLock<Arc<KeySet>>,
    /// `None` when the JWKS was given in the configuration.
    source: Option<JwksSource>,
    /// When an unknown `kid` last caused a fetch; held while one is under way.
    last_refetch: Mutex<Option<Instant>>,
    interval: Duration,
    stats: ServerStats,
}

impl Keys {
    pub(super) fn new(
        set: KeySet,
        source: Option<JwksSource>,
        interval: Duration,
        stats: ServerStats,
    ) -> Self {
        Self {
            current: RwLock::new(Arc::new(set)),
            source,
            last_refetch: Mutex::new(None),
            interval,
            stats,
        }
    }

    fn lookup(&self, kid: &str) -> Option<Key> {
        let set = self.current.read().unwrap_or_else(PoisonError::into_inner);
        set.get(kid)
    }

    /// The key named `kid`; an unknown one re-fetches the JWKS first, unless the last re-fetch
    /// was less than the interval ago. Concurrent requests wait for one fetch.
    pub(super) async fn key(&self, kid: &str) -> Option<Key> {
        if let Some(key) = self.lookup(kid) {
            return Some(key);
        }
        let source = self.source.as_ref()?;
        let mut last = self.last_refetch.lock().await;
        // Another request may have fetched the new set while this one waited.
        if let Some(key) = self.lookup(kid) {
            return Some(key);
        }
        if last.is_some_and(|at| at.elapsed() < self.interval) {
            return None;
        }
        *last = Some(Instant::now());
        match source.fetch().await {
            Ok(set) => {
                self.stats.update(|s| s.auth_jwks_fetches += 1);
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
            }
            Err(err) => {
                tracing::warn!(err = %super::discovery::chain(&err), "JWKS re-fetch failed")
            }
        }
        drop(last);
        self.lookup(kid)
    }
}
