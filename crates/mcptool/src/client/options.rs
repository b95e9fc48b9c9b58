//! Per-request options: timeout, progress, cancellation.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

/// One `notifications/progress` for a request.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Progress {
    /// Progress so far (increases with every notification).
    pub progress: f64,
    /// The total, when the server knows it.
    #[serde(default)]
    pub total: Option<f64>,
    /// A human-readable message.
    #[serde(default)]
    pub message: Option<String>,
}

pub(crate) type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Options for one request. The default uses the client's request timeout, no progress
/// callback and no cancellation token.
#[derive(Clone, Default)]
#[must_use]
pub struct RequestOptions {
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_total: Option<Duration>,
    pub(crate) reset_timeout_on_progress: bool,
    pub(crate) on_progress: Option<ProgressFn>,
    pub(crate) cancel: Option<CancellationToken>,
    pub(crate) retry_unsafe: bool,
}

impl RequestOptions {
    /// Options with the client's defaults.
    pub fn new() -> RequestOptions {
        RequestOptions::default()
    }

    /// The time allowed from sending the request to its response.
    pub fn timeout(mut self, timeout: Duration) -> RequestOptions {
        self.timeout = Some(timeout);
        self
    }

    /// Calls `f` for each progress notification of this request, in order. Asks the server for
    /// progress by sending a `progressToken`.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> RequestOptions {
        self.on_progress = Some(Arc::new(f));
        self
    }

    /// Lets each progress notification restart the timeout, but never past `max_total` from
    /// the start of the request.
    pub fn reset_timeout_on_progress(mut self, max_total: Duration) -> RequestOptions {
        self.reset_timeout_on_progress = true;
        self.max_total = Some(max_total);
        self
    }

    /// Cancels the request when `token` is cancelled: the server is sent
    /// `notifications/cancelled` and the call returns a cancelled error.
    pub fn cancel_token(mut self, token: CancellationToken) -> RequestOptions {
        self.cancel = Some(token);
        self
    }
}

impl RequestOptions {
    /// Allows repeating this request after a refused connection or a 5xx answer even though
    /// it may change something on the server (a `tools/call`). Off by default: listing, reading
    /// and pinging are repeated anyway, tool calls never without this.
    pub fn retry_on_transient_failure(mut self, enabled: bool) -> RequestOptions {
        self.retry_unsafe = enabled;
        self
    }
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestOptions")
            .field("timeout", &self.timeout)
            .field("max_total", &self.max_total)
            .field("reset_timeout_on_progress", &self.reset_timeout_on_progress)
            .field("on_progress", &self.on_progress.is_some())
            .field("cancel", &self.cancel.is_some())
            .field("retry_unsafe", &self.retry_unsafe)
            .finish()
    }
}
