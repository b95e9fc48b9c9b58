//! Which protocol era a client speaks, and how an automatic client finds out: probe with
//! `server/discover`, fall back to `initialize` on a refusal that is not a 2026-07-28 error,
//! and from there to HTTP+SSE. What was found belongs to the client, unless the caller lends an
//! [`EraCache`] that several clients of one server share.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use super::lifecycle::Start;
use super::shared::{LegacyFallback, Shared};
use crate::error::{Error, ErrorKind};
use crate::protocol::InitializeResult;
use crate::protocol::modern::{codes, is_modern_code};

/// Which protocol era a client speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolEra {
    /// Whichever the server speaks: `connect()` probes with `server/discover` and stays in
    /// 2026-07-28 when it answers (or refuses with a 2026-07-28 error, which is reported);
    /// a 400, 404 or 405 without one falls back to `initialize`, and from there to HTTP+SSE.
    /// The probe costs one request per client, unless an [`EraCache`] is lent.
    #[default]
    Auto,
    /// The session era (2025-03-26 .. 2025-11-25): `initialize` with the offered version, a
    /// session, the standalone stream, `DELETE` at close; HTTP+SSE when the server is older.
    Session,
    /// 2026-07-28, stateless: `server/discover` instead of `initialize`, no session, `_meta`
    /// and routing headers on every request, `input_required` answered through the handlers,
    /// cancellation by closing the request's stream, no `DELETE`.
    Stateless,
}

/// What automatic detection found for one server, shared by the clients it is lent to, so that
/// a service creating a client (or a tool) per run pays the probe once rather than per run.
///
/// Only the era is shared, and in 2026-07-28 the server's `server/discover` answer while its
/// `ttlMs` keeps it fresh and its `cacheScope` is `public`: no session, connection or
/// credential. A client whose server no longer speaks the remembered era finds out at once:
/// when `connect()` is refused it forgets the entry and detects again; when the refusal comes
/// later (the remembered discover answer let it connect without a request), that request fails
/// and the entry is forgotten, so the next client detects again. Pinned clients
/// ([`ProtocolEra::Session`], [`ProtocolEra::Stateless`]) neither read nor write it.
///
/// `EraCache` is a cheap handle: clones share one cache.
#[derive(Clone, Default)]
pub struct EraCache {
    entries: Arc<Mutex<HashMap<String, Found>>>,
}

impl fmt::Debug for EraCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EraCache")
            .field("servers", &self.lock().len())
            .finish()
    }
}

impl EraCache {
    /// An empty cache.
    pub fn new() -> EraCache {
        EraCache::default()
    }

    /// Forgets every server.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Found>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, url: &str) -> Option<Found> {
        self.lock().get(url).cloned()
    }

    fn put(&self, url: &str, found: Found) {
        self.lock().insert(url.to_owned(), found);
    }

    fn forget(&self, url: &str) {
        self.lock().remove(url);
    }
}

/// The era one server was found to speak.
#[derive(Clone, Debug)]
pub(crate) enum Found {
    /// 2026-07-28, with its discover answer while that may be reused.
    Stateless(Option<(Arc<InitializeResult>, Instant)>),
    /// The session era over Streamable HTTP.
    Session,
    /// The session era over the legacy HTTP+SSE transport.
    Legacy,
}

impl Shared {
    /// Opens the client in its era: discover, initialize, or detection first.
    pub(crate) async fn open(self: &Arc<Self>) -> Result<Arc<InitializeResult>, Error> {
        match self.settings.era {
            ProtocolEra::Session => self.initialize(Start::Streamable).await,
            ProtocolEra::Stateless => self.discover_era().await,
            ProtocolEra::Auto => self.detect().await,
        }
    }

    async fn discover_era(self: &Arc<Self>) -> Result<Arc<InitializeResult>, Error> {
        match self.probe_dialect() {
            Some(dialect) => Box::pin(self.discover(dialect)).await,
            None => Err(Error::config("this client cannot speak 2026-07-28")),
        }
    }

    /// Automatic detection, starting from what a lent cache remembers.
    async fn detect(self: &Arc<Self>) -> Result<Arc<InitializeResult>, Error> {
        let url = self.transport.url().as_str().to_owned();
        let cache = self.settings.era_cache.clone();
        let remembered = cache.as_ref().and_then(|c| c.get(&url)).filter(|found| {
            // A client that may not speak HTTP+SSE does not take another's word for it.
            !matches!(found, Found::Legacy) || self.settings.legacy_fallback == LegacyFallback::Auto
        });
        if let Some(found) = remembered {
            match self.open_as(&found).await {
                // Refused in the remembered era (the way an older server refuses, or with a
                // 2026-07-28 error naming other versions): the server changed. A network
                // failure, a deadline, 401/403/429 or a 5xx say nothing about the era and are
                // reported as they are.
                Err(e) if is_older_server(&e) || is_older_answer(&e) || e.is_protocol() => {
                    tracing::info!(error = %e, "the remembered era was refused; detecting again");
                    if let Some(cache) = &cache {
                        cache.forget(&url);
                    }
                }
                Ok((result, adopted)) => {
                    // A handshake just made refreshes what is remembered (a new discover
                    // answer, fresh again); an adopted one is left as it was.
                    if let (Some(cache), false) = (&cache, adopted) {
                        cache.put(&url, self.found(&result));
                    }
                    return Ok(result);
                }
                Err(e) => return Err(e),
            }
        }
        let result = self.probe().await?;
        if let Some(cache) = &cache {
            cache.put(&url, self.found(&result));
        }
        Ok(result)
    }

    /// The full probe: discover, else initialize (which falls back to HTTP+SSE itself).
    async fn probe(self: &Arc<Self>) -> Result<Arc<InitializeResult>, Error> {
        match self.discover_era().await {
            Err(e) if is_older_server(&e) || is_older_answer(&e) => {
                tracing::info!(error = %e, "server/discover refused without a 2026-07-28 error; trying initialize");
                self.initialize(Start::Streamable).await
            }
            other => other,
        }
    }

    /// Opens the client in a remembered era; whether it adopted a remembered discover answer
    /// (no request sent).
    async fn open_as(
        self: &Arc<Self>,
        found: &Found,
    ) -> Result<(Arc<InitializeResult>, bool), Error> {
        let result = match found {
            Found::Stateless(Some((result, fresh_until))) if Instant::now() < *fresh_until => {
                self.adopt_discovered(Arc::clone(result));
                return Ok((Arc::clone(result), true));
            }
            Found::Stateless(_) => self.discover_era().await,
            Found::Session => self.initialize(Start::StreamableOnly).await,
            Found::Legacy => self.initialize(Start::Legacy).await,
        };
        result.map(|r| (r, false))
    }

    /// A request refused the way an older server refuses 2026-07-28: the remembered era is
    /// wrong (the server changed since), so the next client detects again. This request
    /// fails all the same — it is not silently re-sent in another era.
    pub(crate) fn era_refused(&self, error: &Error) {
        if self.settings.era == ProtocolEra::Auto
            && is_older_server(error)
            && let Some(cache) = &self.settings.era_cache
        {
            cache.forget(self.transport.url().as_str());
        }
    }

    /// What to remember of a successful detection.
    fn found(&self, result: &Arc<InitializeResult>) -> Found {
        if self.dialect().is_some() {
            let reusable = self
                .discovered_hint()
                .filter(|hint| hint.scope == crate::protocol::modern::CacheScope::Public)
                .map(|hint| (Arc::clone(result), Instant::now() + hint.ttl));
            Found::Stateless(reusable)
        } else if self.transport.is_legacy() {
            Found::Legacy
        } else {
            Found::Session
        }
    }
}

/// Whether a refused probe came from a server older than 2026-07-28: a 400, 404 or 405 whose
/// body is no 2026-07-28 error. The spec asks not to key this on the status alone.
pub(crate) fn is_older_server(error: &Error) -> bool {
    let modern = match (error.status(), error.rpc_error()) {
        (Some(status), Some(rpc)) => is_modern_code(status, rpc.code),
        _ => false,
    };
    error.kind() == ErrorKind::HttpStatus
        && matches!(error.status(), Some(400 | 404 | 405))
        && !modern
}

/// Whether `server/discover` was answered (HTTP 200) with a JSON-RPC error that is no
/// 2026-07-28 error: a session-era server without sessions, which takes any POST as a request
/// of its era. A 2026-07-28 server implements discover, so it never answers so.
fn is_older_answer(error: &Error) -> bool {
    error.kind() == ErrorKind::Rpc
        && error.rpc_error().is_some_and(|rpc| {
            ![
                codes::HEADER_MISMATCH,
                codes::MISSING_REQUIRED_CLIENT_CAPABILITY,
                codes::UNSUPPORTED_PROTOCOL_VERSION,
            ]
            .contains(&rpc.code)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::RpcError;

    fn answered(code: i64) -> Error {
        Error::rpc(RpcError {
            code,
            message: "no".into(),
            data: None,
        })
    }

    #[test]
    fn a_discover_answered_with_an_older_error_is_an_older_server_and_a_modern_one_is_not() {
        // Method not found or invalid params at HTTP 200: a session-era server without
        // sessions that took the probe for one of its requests.
        assert!(is_older_answer(&answered(-32601)));
        assert!(is_older_answer(&answered(-32602)));
        for modern in [-32020, -32021, -32022] {
            assert!(!is_older_answer(&answered(modern)), "{modern}");
        }
        assert!(!is_older_answer(&Error::closed()));
    }
}
