//! The retry policy, in one place: which requests may be repeated after a transient failure,
//! what counts as transient, which broken streams may be resumed, and how long to wait.

use std::time::Duration;

use crate::error::{Deadline, Error};

/// Repeats after a transient failure, at most.
pub(crate) const RETRIES: u32 = 2;
/// The first wait before a repeat; it doubles.
pub(crate) const RETRY_BASE: Duration = Duration::from_millis(100);

/// Requests that change nothing on the server, so repeating them is harmless.
pub(crate) fn is_safe_to_repeat(method: &str) -> bool {
    matches!(
        method,
        "initialize"
            | "ping"
            | "tools/list"
            | "prompts/list"
            | "prompts/get"
            | "resources/list"
            | "resources/templates/list"
            | "resources/read"
            | "completion/complete"
            | "logging/setLevel"
    )
}

/// A refused connection or a server error that may pass: worth one more try.
pub(crate) fn is_transient(error: &Error) -> bool {
    // A dead authorization server is not the MCP server: retrying would re-run the flow.
    error.auth_failure().is_none() && error.is_connect()
        || (error.kind() == crate::ErrorKind::HttpStatus
            && error.status().is_some_and(|s| (500..600).contains(&s)))
}

/// The longest wait between two resumption attempts, whatever `retry` and backoff say.
pub(crate) const MAX_RESUME_WAIT: Duration = Duration::from_secs(5);

/// A broken connection or a silent stream may be resumed; a protocol violation may not.
pub(crate) fn is_resumable(error: &Error) -> bool {
    error.kind() == crate::ErrorKind::Network || error.deadline() == Some(Deadline::SseIdle)
}

/// The wait before resumption attempt `attempt`: the server's `retry`, doubled per attempt,
/// with up to 25% jitter.
pub(crate) fn jittered(base: Duration, attempt: u32) -> Duration {
    let scaled = base.saturating_mul(1 << attempt.saturating_sub(1).min(5));
    let jitter = rand::random_range(0.0..0.25);
    scaled.mul_f64(1.0 + jitter)
}
