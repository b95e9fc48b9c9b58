//! The load loops every client runs, and the figures they produce.
//!
//! Each client hands in a *worker* (a connection, a session handle) and a function that makes
//! one call with it and hands it back; the loops here time the calls. Every loop stops at its
//! count or at its time limit, whichever comes first.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Context, Error};

/// The figures of one run of one client.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Sequential `tools/call` calls per second, one caller.
    pub sequential_calls_per_s: f64,
    /// Calls per second with all concurrent callers together.
    pub concurrent_calls_per_s: f64,
    /// Median latency of one sequential call, microseconds.
    pub p50_us: f64,
    /// 99th percentile latency of one sequential call, microseconds.
    pub p99_us: f64,
    /// Median of connect + initialize + close, milliseconds.
    pub connect_close_ms: f64,
}

/// What a sequential loop saw.
#[derive(Debug)]
pub(crate) struct Sequential {
    pub(crate) calls_per_s: f64,
    pub(crate) p50_us: f64,
    pub(crate) p99_us: f64,
}

impl Figures {
    /// One run's figures from its three phases.
    pub(crate) fn of_phases(seq: &Sequential, concurrent: f64, connect_close_ms: f64) -> Figures {
        Figures {
            sequential_calls_per_s: seq.calls_per_s,
            concurrent_calls_per_s: concurrent,
            p50_us: seq.p50_us,
            p99_us: seq.p99_us,
            connect_close_ms,
        }
    }
}

/// Makes `calls` calls one after another (after `calls / 10` untimed warm-up calls).
pub(crate) async fn sequential<W, F, Fut>(
    mut worker: W,
    calls: usize,
    limit: Duration,
    mut call: F,
) -> Result<(Sequential, W), Error>
where
    F: FnMut(W) -> Fut,
    Fut: Future<Output = Result<W, Error>>,
{
    for _ in 0..calls / 10 {
        worker = call(worker).await?;
    }
    let mut samples = Vec::with_capacity(calls);
    let start = Instant::now();
    while samples.len() < calls && start.elapsed() < limit {
        let t = Instant::now();
        worker = call(worker).await?;
        samples.push(t.elapsed());
    }
    let elapsed = start.elapsed();
    samples.sort_unstable();
    let result = Sequential {
        calls_per_s: per_second(samples.len(), elapsed),
        p50_us: micros(percentile(&samples, 0.50)),
        p99_us: micros(percentile(&samples, 0.99)),
    };
    Ok((result, worker))
}

/// Runs one task per worker; together they make `total` calls. Returns calls per second.
pub(crate) async fn concurrent<W, F, Fut>(
    workers: Vec<W>,
    total: usize,
    limit: Duration,
    call: F,
) -> Result<f64, Error>
where
    W: Send + 'static,
    F: Fn(W) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<W, Error>> + Send,
{
    let tickets = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for mut worker in workers {
        let tickets = Arc::clone(&tickets);
        let call = call.clone();
        tasks.spawn(async move {
            let mut done = 0usize;
            while tickets.fetch_add(1, Ordering::Relaxed) < total && start.elapsed() < limit {
                worker = call(worker).await?;
                done += 1;
            }
            Ok::<usize, Error>(done)
        });
    }
    let mut done = 0;
    while let Some(joined) = tasks.join_next().await {
        done += joined.context("joining a concurrent caller")??;
    }
    Ok(per_second(done, start.elapsed()))
}

/// Times `lifecycles` rounds of `lifecycle` (connect + initialize + close); the median, ms.
pub(crate) async fn lifecycles<F, Fut>(
    lifecycles: usize,
    limit: Duration,
    mut lifecycle: F,
) -> Result<f64, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), Error>>,
{
    // One untimed round: lazily built process-wide state is not what we measure.
    lifecycle().await?;
    let mut samples = Vec::with_capacity(lifecycles);
    let start = Instant::now();
    while samples.len() < lifecycles && start.elapsed() < limit {
        let t = Instant::now();
        lifecycle().await?;
        samples.push(t.elapsed());
    }
    samples.sort_unstable();
    Ok(percentile(&samples, 0.50).as_secs_f64() * 1e3)
}

/// The `q` quantile of sorted samples (nearest rank); zero when there are none.
pub(crate) fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of some figures; zero when there are none.
pub(crate) fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_uses_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile(&samples, 0.50), Duration::from_micros(50));
        assert_eq!(percentile(&samples, 0.99), Duration::from_micros(99));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median([3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median([4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median([]), 0.0);
    }
}
