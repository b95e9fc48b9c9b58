//! Verdicts of `check` and how they are printed.

use serde::Serialize;

/// How one check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Verdict {
    /// The server behaves as isolation needs.
    Pass,
    /// Allowed, but worth knowing (a protocol variant, a feature not offered, a probe that could not run).
    Warn,
    /// Isolation does not hold.
    Fail,
    /// The check does not apply to the server's protocol era (the detail says why).
    Skip,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "SKIP",
        }
    }
}

/// One line of the report.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Finding {
    /// The check's stable name.
    pub(crate) name: &'static str,
    /// Its verdict.
    pub(crate) verdict: Verdict,
    /// A short explanation.
    pub(crate) detail: String,
}

impl Finding {
    pub(crate) fn pass(name: &'static str, detail: impl Into<String>) -> Finding {
        Finding::new(name, Verdict::Pass, detail)
    }

    pub(crate) fn warn(name: &'static str, detail: impl Into<String>) -> Finding {
        Finding::new(name, Verdict::Warn, detail)
    }

    pub(crate) fn fail(name: &'static str, detail: impl Into<String>) -> Finding {
        Finding::new(name, Verdict::Fail, detail)
    }

    pub(crate) fn skip(name: &'static str, detail: impl Into<String>) -> Finding {
        Finding::new(name, Verdict::Skip, detail)
    }

    fn new(name: &'static str, verdict: Verdict, detail: impl Into<String>) -> Finding {
        Finding {
            name,
            verdict,
            detail: detail.into(),
        }
    }
}

/// The whole report, as printed by `--json`.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    /// The server checked.
    pub(crate) url: String,
    /// The protocol era found, e.g. `2026-07-28 (stateless, no session)`.
    pub(crate) era: String,
    /// Sequential lifecycles run.
    pub(crate) runs: usize,
    /// Concurrent lifecycles run.
    pub(crate) concurrency: usize,
    /// Whether isolation holds (no check failed).
    pub(crate) passed: bool,
    /// One entry per check, in order.
    pub(crate) checks: Vec<Finding>,
}

impl Report {
    pub(crate) fn new(
        url: String,
        era: String,
        runs: usize,
        concurrency: usize,
        checks: Vec<Finding>,
    ) -> Report {
        let passed = checks.iter().all(|c| c.verdict != Verdict::Fail);
        Report {
            url,
            era,
            runs,
            concurrency,
            passed,
            checks,
        }
    }

    /// The report for people: one line per check, then the verdict.
    pub(crate) fn render(&self) -> String {
        let width = self.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        let mut out = format!(
            "checking {} ({} sequential + {} concurrent lifecycles)\n",
            self.url, self.runs, self.concurrency
        );
        out.push_str(&format!("era: {}\n", self.era));
        for c in &self.checks {
            out.push_str(&format!(
                "{} {:<width$} — {}\n",
                c.verdict.label(),
                c.name,
                c.detail
            ));
        }
        let count = |v| self.checks.iter().filter(|c| c.verdict == v).count();
        if self.passed {
            out.push_str(&format!(
                "isolation holds ({} passed, {} warnings, {} skipped)\n",
                count(Verdict::Pass),
                count(Verdict::Warn),
                count(Verdict::Skip)
            ));
        } else {
            out.push_str(&format!(
                "isolation does NOT hold ({} failed)\n",
                count(Verdict::Fail)
            ));
        }
        out
    }
}
