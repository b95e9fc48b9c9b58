//! Runs the raw hyper floor through the three phases.

use std::sync::Arc;

use crate::config::BenchConfig;
use crate::error::Error;
use crate::floor::{Endpoint, RawConn, RawSession, lifecycle, stateless_lifecycle};
use crate::measure::{self, Figures};

/// A connection, the session it calls in, and the next request id.
type Worker = (RawConn, Arc<RawSession>, u64);

async fn call((mut conn, session, id): Worker) -> Result<Worker, Error> {
    conn.call(&session, id).await?;
    Ok((conn, session, id + 1))
}

/// One keep-alive connection per concurrent caller, each with its own range of request ids.
async fn workers(
    endpoint: &Arc<Endpoint>,
    session: &Arc<RawSession>,
    concurrency: usize,
) -> Result<Vec<Worker>, Error> {
    let mut workers = Vec::with_capacity(concurrency);
    for i in 0..concurrency {
        let conn = RawConn::open(endpoint).await?;
        workers.push((conn, Arc::clone(session), 1_000_000 * (i as u64 + 1)));
    }
    Ok(workers)
}

/// One run of the floor against `url`.
pub(crate) async fn run(url: &str, config: &BenchConfig) -> Result<Figures, Error> {
    let endpoint = Endpoint::parse(url)?;
    let mut first = RawConn::open(&endpoint).await?;
    let session = Arc::new(first.initialize().await?);

    let worker = (first, Arc::clone(&session), 1);
    let (seq, (mut first, _, _)) =
        measure::sequential(worker, config.calls, config.phase_limit, call).await?;

    // One keep-alive connection per caller, all in the same session.
    let workers = workers(&endpoint, &session, config.concurrency).await?;
    let concurrent =
        measure::concurrent(workers, config.concurrent_calls, config.phase_limit, call).await?;
    first.delete(&session).await?;
    drop(first);

    let connect_close_ms = measure::lifecycles(config.lifecycles, config.phase_limit, || {
        lifecycle(&endpoint)
    })
    .await?;
    Ok(Figures::of_phases(&seq, concurrent, connect_close_ms))
}

/// One run of the 2026-07-28 floor against `url`: the same calls without a session, each with
/// `_meta` and the routing headers; a lifecycle is a fresh connection and one call.
pub(crate) async fn run_stateless(url: &str, config: &BenchConfig) -> Result<Figures, Error> {
    let endpoint = Endpoint::parse(url)?;
    let session = Arc::new(RawSession::stateless());
    let worker = (RawConn::open(&endpoint).await?, Arc::clone(&session), 1);
    let (seq, _) = measure::sequential(worker, config.calls, config.phase_limit, call).await?;
    let workers = workers(&endpoint, &session, config.concurrency).await?;
    let concurrent =
        measure::concurrent(workers, config.concurrent_calls, config.phase_limit, call).await?;
    let connect_close_ms = measure::lifecycles(config.lifecycles, config.phase_limit, || {
        stateless_lifecycle(&endpoint)
    })
    .await?;
    Ok(Figures::of_phases(&seq, concurrent, connect_close_ms))
}
