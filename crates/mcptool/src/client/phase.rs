//! Where one client is in its life, and the only ways it moves on:
//!
//! ```text
//! built ──open()──▶ open (generation 1, one era) ──server drops the session──▶ expired
//!                     ▲                                                          │
//!                     └──────────── re-initialisation (generation n+1) ◀─────────┘
//! any phase ──close() or drop──▶ closed (for good)
//! ```
//!
//! Every request reads the phase, so it is kept in atomics that a read does not contend on;
//! the transitions are the methods below and nothing else writes them.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::sync::{Mutex, MutexGuard};

/// The phase of one client.
#[derive(Debug, Default)]
pub(crate) struct Phase {
    /// Set by the first `open()`: a client opens once.
    opened: AtomicBool,
    /// Set by `close()` or drop; never cleared.
    closed: AtomicBool,
    /// Whether the client speaks 2026-07-28 (set when it opens in that era).
    stateless: AtomicBool,
    /// Bumped by every successful `initialize` or discover: 0 until the client is open.
    generation: AtomicU64,
    /// The generation whose session the server was seen to have dropped (0: none).
    expired_at: AtomicU64,
    /// Held by the one re-initialisation under way ...
    reinit: Mutex<()>,
    /// ... and set while it is held: what requests check, a load where trying the lock would
    /// write to a line every caller shares.
    reinitializing: AtomicBool,
}

/// Held while one re-initialisation runs; clears the flag however it ends, cancellation
/// included.
pub(crate) struct Reinitializing<'a> {
    phase: &'a Phase,
    _lock: MutexGuard<'a, ()>,
}

impl Drop for Reinitializing<'_> {
    fn drop(&mut self) {
        self.phase.reinitializing.store(false, Ordering::Release);
    }
}

impl Phase {
    /// A client that starts in 2026-07-28 (pinned) or not.
    pub(crate) fn new(stateless: bool) -> Phase {
        let phase = Phase::default();
        phase.stateless.store(stateless, Ordering::Release);
        phase
    }

    /// Claims the one `open()`; false when it was claimed already.
    pub(crate) fn claim_open(&self) -> bool {
        !self.opened.swap(true, Ordering::AcqRel)
    }

    /// Gives the claim back after an `open()` that failed.
    pub(crate) fn release_open(&self) {
        self.opened.store(false, Ordering::Release);
    }

    /// The client opened (or re-opened) a session, or discovered a 2026-07-28 server.
    pub(crate) fn opened(&self, stateless: bool) {
        if stateless {
            self.stateless.store(true, Ordering::Release);
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Moves to closed; true for the call that did it.
    pub(crate) fn close(&self) -> bool {
        !self.closed.swap(true, Ordering::AcqRel)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Whether the client speaks 2026-07-28.
    pub(crate) fn is_stateless(&self) -> bool {
        self.stateless.load(Ordering::Acquire)
    }

    /// The current session generation (0: not open yet).
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Records that the session of `generation` is gone. A late 404 for an old session does
    /// not mark the current one.
    pub(crate) fn mark_expired(&self, generation: u64) {
        self.expired_at.fetch_max(generation, Ordering::AcqRel);
    }

    /// Whether the current session is known to be gone.
    pub(crate) fn is_expired(&self) -> bool {
        let current = self.generation();
        current > 0 && self.expired_at.load(Ordering::Acquire) >= current
    }

    /// Open, not closed, and its session not known to be gone.
    pub(crate) fn is_live(&self) -> bool {
        self.generation() > 0 && !self.is_closed() && !self.is_expired()
    }

    /// Waits for the re-initialisation slot; while it is held, requests wait for the new
    /// session rather than go out with none.
    pub(crate) async fn reinitializing(&self) -> Reinitializing<'_> {
        let lock = self.reinit.lock().await;
        self.reinitializing.store(true, Ordering::Release);
        Reinitializing {
            phase: self,
            _lock: lock,
        }
    }

    /// Returns once no re-initialisation is under way.
    pub(crate) async fn settled(&self) {
        if self.reinitializing.load(Ordering::Acquire) {
            drop(self.reinit.lock().await);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_expiry_of_an_old_session_leaves_the_new_one_live() {
        let phase = Phase::new(false);
        assert!(!phase.is_live(), "built, not open");
        assert!(phase.claim_open());
        assert!(!phase.claim_open(), "a client opens once");
        phase.opened(false);
        phase.mark_expired(1);
        assert!(phase.is_expired() && !phase.is_live());
        phase.opened(false);
        phase.mark_expired(1);
        assert!(phase.is_live(), "generation 2 is not the one that expired");
        assert!(phase.close());
        assert!(!phase.close(), "closed once");
        assert!(!phase.is_live() && phase.is_closed());
    }

    #[tokio::test]
    async fn requests_wait_while_a_reinitialisation_runs() {
        let phase = std::sync::Arc::new(Phase::new(false));
        let held = phase.reinitializing().await;
        let waiter = tokio::spawn({
            let phase = std::sync::Arc::clone(&phase);
            async move { phase.settled().await }
        });
        tokio::task::yield_now().await;
        assert!(
            !waiter.is_finished(),
            "settled() returned during a re-initialisation"
        );
        drop(held);
        waiter.await.expect("settled after it ended");
    }
}
