//! What the server saw: [`ServerStats`], [`StatsSnapshot`] and [`RequestRecord`].

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;

/// How many request records are kept.
const MAX_RECORDS: usize = 10_000;
/// How many distinct session ids the per-session maps remember.
const MAX_SESSION_KEYS: usize = 100_000;
/// How many distinct token hashes `auth_distinct_tokens` tells apart.
const MAX_TOKEN_HASHES: usize = 100_000;

/// Counters of what the server saw, as of one moment.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StatsSnapshot {
    /// Sessions created by `initialize`.
    pub sessions_opened: u64,
    /// Sessions terminated by DELETE.
    pub sessions_deleted: u64,
    /// Sessions expired (idle, by fault, or by [`RunningServer::expire_session`](crate::RunningServer::expire_session)).
    pub sessions_expired: u64,
    /// Sessions alive now.
    pub sessions_live: u64,
    /// TCP connections open now (counted at accept and when the socket closes).
    pub open_connections: u64,
    /// TCP connections accepted so far.
    pub total_connections: u64,
    /// Standalone GET streams open now.
    pub live_get_streams: u64,
    /// Standalone GET streams opened so far.
    pub get_streams_opened: u64,
    /// Every HTTP status returned, by code.
    pub status_counts: BTreeMap<u16, u64>,
    /// HTTP requests per session id.
    pub requests_per_session: BTreeMap<String, u64>,
    /// DELETE requests received.
    pub deletes: u64,
    /// JSON-RPC methods received (requests and notifications), by name.
    pub methods: BTreeMap<String, u64>,
    /// Session ids in creation order.
    pub session_ids: Vec<String>,
    /// Requests on a session that negotiated 2025-06-18 or later without `MCP-Protocol-Version`.
    pub requests_missing_protocol_version: u64,
    /// In-flight requests stopped by `notifications/cancelled`.
    pub cancelled_requests: u64,
    /// JSON-RPC responses POSTed by the client.
    pub client_responses: u64,
    /// GET requests carrying `Last-Event-ID`.
    pub resumptions: u64,
    /// Background tasks of the server running now.
    pub live_tasks: u64,
    /// POSTs served by the session era's rules.
    pub session_era_requests: u64,
    /// POSTs served by the 2026-07-28 (stateless) rules.
    pub stateless_requests: u64,
    /// `server/discover` calls answered.
    pub discover_calls: u64,
    /// 2026-07-28 requests refused with -32020 (HeaderMismatch), by header name in lower case.
    pub header_mismatches: BTreeMap<String, u64>,
    /// JSON-RPC errors of 2026-07-28 requests, by code.
    pub stateless_errors: BTreeMap<i64, u64>,
    /// `input_required` results sent: rounds of multi-round-trip requests.
    pub mrtr_rounds: u64,
    /// Retries whose `requestState` verified, so that their `inputResponses` were used.
    pub mrtr_retries: u64,
    /// `requestState` values refused: tampered, expired, replayed or issued for another request.
    pub mrtr_rejected_states: u64,
    /// `subscriptions/listen` streams opened so far.
    pub listen_streams_opened: u64,
    /// `subscriptions/listen` streams open now.
    pub listen_streams_live: u64,
    /// `subscriptions/listen` streams that ended (closed by the client or by shutdown).
    pub listen_streams_closed: u64,
    /// Notifications delivered on listen streams (acknowledgements included).
    pub listen_notifications: u64,
    /// 2026-07-28 requests whose work stopped because the client closed the response stream.
    pub works_cancelled_by_close: u64,
    /// Results that carried caching hints (`ttlMs`, `cacheScope`).
    pub caching_hints: u64,
    /// 2026-07-28 requests that carried an `Mcp-Session-Id` (ignored, never echoed).
    pub stateless_session_ids_ignored: u64,
    /// With [`AuthConfig`](crate::AuthConfig): 401s for requests without a bearer token.
    pub auth_missing: u64,
    /// 401s for bearer tokens that are malformed, badly signed, expired or not for this resource.
    pub auth_invalid: u64,
    /// 403s for valid tokens that lack a scope the request needs.
    pub auth_insufficient_scope: u64,
    /// Requests whose token was valid (a 403 for a missing scope included).
    pub auth_accepted: u64,
    /// Distinct valid tokens seen (told apart by a hash; no token is kept).
    pub auth_distinct_tokens: u64,
    /// Requests refused with 400 for an `access_token` in the URL query.
    pub auth_query_token: u64,
    /// JWKS documents fetched from the issuer: at start, then on unknown `kid`s.
    pub auth_jwks_fetches: u64,
}

/// One HTTP request as the server saw it.
#[derive(Clone, Debug, Serialize)]
pub struct RequestRecord {
    /// `GET`, `POST`, `DELETE`...
    pub http_method: String,
    /// The `Mcp-Session-Id` header, or the id created by this `initialize`.
    pub session_id: Option<String>,
    /// The JSON-RPC method of a POST (the first one of a batch).
    pub rpc_method: Option<String>,
    /// The `MCP-Protocol-Version` header.
    pub protocol_version: Option<String>,
    /// The status returned.
    pub status: u16,
    /// All request headers.
    pub headers: Vec<(String, String)>,
}

/// A handle on the server's counters; clones are cheap and share them.
#[derive(Clone, Debug, Default)]
pub struct ServerStats {
    inner: Arc<StatsInner>,
}

#[derive(Debug, Default)]
struct StatsInner {
    counters: Mutex<StatsSnapshot>,
    records: Mutex<VecDeque<RequestRecord>>,
    /// SHA-256 hashes of the valid tokens seen.
    token_hashes: Mutex<HashSet<[u8; 32]>>,
    open_connections: AtomicU64,
    total_connections: AtomicU64,
    live_tasks: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ServerStats {
    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        let mut snap = lock(&self.inner.counters).clone();
        snap.open_connections = self.inner.open_connections.load(Ordering::SeqCst);
        snap.total_connections = self.inner.total_connections.load(Ordering::SeqCst);
        snap.live_tasks = self.inner.live_tasks.load(Ordering::SeqCst);
        snap
    }

    /// The last 10 000 requests, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.inner.records).iter().cloned().collect()
    }

    /// Polls the counters every ~5 ms until `pred` holds (`Ok`) or `timeout` passes (`Err` with
    /// the last snapshot).
    pub async fn wait_until(
        &self,
        pred: impl Fn(&StatsSnapshot) -> bool,
        timeout: Duration,
    ) -> Result<StatsSnapshot, StatsSnapshot> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let snap = self.snapshot();
            if pred(&snap) {
                return Ok(snap);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(snap);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Changes the counters under the lock.
    pub(crate) fn update(&self, f: impl FnOnce(&mut StatsSnapshot)) {
        f(&mut lock(&self.inner.counters));
    }

    pub(crate) fn count_method(&self, method: &str) {
        self.update(|s| {
            if let Some(n) = s.methods.get_mut(method) {
                *n += 1;
            } else if s.methods.len() < 1000 {
                s.methods.insert(method.to_owned(), 1);
            }
        });
    }

    pub(crate) fn session_opened(&self, id: &str) {
        self.update(|s| {
            s.sessions_opened += 1;
            s.sessions_live += 1;
            if s.session_ids.len() < MAX_SESSION_KEYS {
                s.session_ids.push(id.to_owned());
            }
        });
    }

    /// Records one finished HTTP request.
    pub(crate) fn record(&self, record: RequestRecord) {
        self.update(|s| {
            *s.status_counts.entry(record.status).or_default() += 1;
            if let Some(id) = &record.session_id {
                if let Some(n) = s.requests_per_session.get_mut(id) {
                    *n += 1;
                } else if s.requests_per_session.len() < MAX_SESSION_KEYS {
                    s.requests_per_session.insert(id.clone(), 1);
                }
            }
        });
        let mut records = lock(&self.inner.records);
        if records.len() == MAX_RECORDS {
            records.pop_front();
        }
        records.push_back(record);
    }

    /// Counts a request with a valid token, and the token when it is new.
    pub(crate) fn token_accepted(&self, fingerprint: [u8; 32]) {
        let new = {
            let mut hashes = lock(&self.inner.token_hashes);
            hashes.len() < MAX_TOKEN_HASHES && hashes.insert(fingerprint)
        };
        self.update(|s| {
            s.auth_accepted += 1;
            s.auth_distinct_tokens += u64::from(new);
        });
    }

    pub(crate) fn connection_opened(&self) {
        self.inner.open_connections.fetch_add(1, Ordering::SeqCst);
        self.inner.total_connections.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn connection_closed(&self) {
        self.inner.open_connections.fetch_sub(1, Ordering::SeqCst);
    }

    /// Counts a task as live until the returned guard drops.
    pub(crate) fn task_guard(&self) -> TaskGuard {
        self.inner.live_tasks.fetch_add(1, Ordering::SeqCst);
        TaskGuard {
            stats: self.clone(),
        }
    }
}

/// Decrements `live_tasks` on drop.
#[derive(Debug)]
pub(crate) struct TaskGuard {
    stats: ServerStats,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.stats.inner.live_tasks.fetch_sub(1, Ordering::SeqCst);
    }
}
