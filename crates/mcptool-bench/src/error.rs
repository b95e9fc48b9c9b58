//! The one error type of the benchmark.

use std::error::Error as StdError;
use std::fmt;

type Source = Box<dyn StdError + Send + Sync>;

/// Why a benchmark could not run: which step failed, with the cause in [`source`](StdError::source).
pub struct Error {
    step: String,
    source: Option<Source>,
}

impl Error {
    /// A failed step with no underlying cause.
    pub(crate) fn msg(step: impl Into<String>) -> Error {
        Error {
            step: step.into(),
            source: None,
        }
    }

    /// A failed step caused by `source`.
    pub(crate) fn from_source(step: impl Into<String>, source: impl Into<Source>) -> Error {
        Error {
            step: step.into(),
            source: Some(source.into()),
        }
    }
}

/// Attaches a step name to any error, for `?`.
pub(crate) trait Context<T> {
    fn context(self, step: &str) -> Result<T, Error>;
}

impl<T, E: Into<Source>> Context<T> for Result<T, E> {
    fn context(self, step: &str) -> Result<T, Error> {
        self.map_err(|e| Error::from_source(step, e))
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("step", &self.step)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.step)
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

/// The error and its causes on one line, for people.
pub fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_and_chains_its_cause() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Error>();
        let io = std::io::Error::other("refused");
        let err = Error::from_source("connecting to the floor", io);
        assert_eq!(chain(&err), "connecting to the floor: refused");
    }
}
