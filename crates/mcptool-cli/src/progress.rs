//! Progress of a long call: an indicatif bar when stderr is a terminal, plain lines otherwise.

use std::io::IsTerminal as _;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use mcptool::Progress;

/// Shows progress notifications of one request on stderr.
#[derive(Clone, Debug)]
pub(crate) struct ProgressView {
    bar: Option<Arc<ProgressBar>>,
}

impl ProgressView {
    /// A bar on a terminal, plain lines when stderr is piped or redirected.
    pub(crate) fn new() -> ProgressView {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            let style = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            Arc::new(bar)
        });
        ProgressView { bar }
    }

    /// Shows one notification.
    pub(crate) fn update(&self, progress: &Progress) {
        let message = progress.message.clone().unwrap_or_default();
        match &self.bar {
            Some(bar) => {
                if let Some(total) = progress.total {
                    bar.set_length(as_count(total));
                }
                bar.set_position(as_count(progress.progress));
                bar.set_message(message);
            }
            None => {
                let total = progress.total.map(|t| format!("/{t}")).unwrap_or_default();
                let message = if message.is_empty() {
                    message
                } else {
                    format!(" {message}")
                };
                eprintln!("progress {}{total}{message}", progress.progress);
            }
        }
    }

    /// Removes the bar, if one was drawn.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Progress values are floats on the wire; the bar counts whole steps.
fn as_count(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "rounded, positive and finite; the bar only needs whole steps"
        )]
        let n = value.round() as u64;
        n
    } else {
        0
    }
}
