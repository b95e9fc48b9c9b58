//! The 2026-07-28 era's checks. There are no sessions to tell apart, end or resume, so those
//! checks are skipped; what isolation means here is that a closed client leaves no connection
//! or listen stream behind, that concurrent clients each get their own answers, and that the
//! server honours the routing headers ([`super::headers`]).

use super::headers;
use super::lifecycle::{self, Call, Lifecycle, failed_lifecycles};
use super::probe::Raw;
use super::report::Finding;
use super::{Context, sockets};
use crate::exit::CliError;

/// Every check, in the report's order; the lifecycle counts first.
pub(crate) async fn checks(ctx: &Context<'_>) -> Result<(usize, usize, Vec<Finding>), CliError> {
    let echo = ctx.discovery.echo();
    let call = |n: usize| match echo {
        Some((tool, ref field)) => Call::Echo {
            tool: tool.to_owned(),
            field: field.clone(),
            payload: payload(n),
        },
        None => Call::List,
    };
    let sequential = ctx.sequential(call, true).await?;
    let concurrent = ctx.concurrent(call, true).await;
    let concurrent_left = sockets::wait_closed(&ctx.server, lifecycle::SOCKET_GRACE).await;
    let all: Vec<&Lifecycle> = sequential.iter().chain(concurrent.iter()).collect();
    let raw = Raw::new(&ctx.settings, ctx.url).map_err(CliError::connection)?;
    let calls = all.iter().filter(|l| l.answer.is_some()).count();
    let checks = vec![
        Finding::skip("distinct-session-ids", "2026-07-28 has no sessions"),
        Finding::skip(
            "delete-accepted",
            "2026-07-28 has no DELETE: a client has nothing to end",
        ),
        Finding::skip(
            "terminated-session-rejected",
            "2026-07-28 has no sessions to terminate",
        ),
        headers::version_header(&raw).await,
        Finding::skip(
            "second-standalone-get",
            "2026-07-28 has no standalone GET; notifications come on subscriptions/listen",
        ),
        Finding::skip(
            "resumption",
            "removed in 2026-07-28: a broken stream loses its request, which is re-issued",
        ),
        headers::honoured(&ctx.settings, ctx.url, &raw, calls).await,
        lifecycle::leftover_connections(
            &sequential,
            concurrent_left,
            "each client subscribed to notifications, which opens its listen stream",
        ),
        cross_talk(&all, concurrent.len(), echo.map(|(tool, _)| tool)),
    ];
    Ok((sequential.len(), concurrent.len(), checks))
}

/// The payload lifecycle `n` alone sends; no payload is a substring of another.
fn payload(n: usize) -> String {
    format!("[mcptool-check {} #{n}]", std::process::id())
}

/// Each client got its own payload back, never another's.
fn cross_talk(all: &[&Lifecycle], at_once: usize, echo: Option<&str>) -> Finding {
    const NAME: &str = "cross-talk";
    if let Some(failed) = failed_lifecycles(NAME, all) {
        return failed;
    }
    let Some(tool) = echo else {
        return Finding::warn(NAME, "not probed: the server has no echo-like tool");
    };
    let payloads: Vec<&str> = all.iter().filter_map(|l| l.payload.as_deref()).collect();
    for l in all {
        let (Some(mine), Some(answer)) = (l.payload.as_deref(), l.answer.as_deref()) else {
            continue;
        };
        if let Some(other) = payloads
            .iter()
            .find(|p| **p != mine && answer.contains(**p))
        {
            return Finding::fail(
                NAME,
                format!("{tool} sent {mine} got back another client's {other}"),
            );
        }
        if !answer.contains(mine) {
            return Finding::fail(
                NAME,
                format!("{tool} sent {mine} and answered without it: {answer:?}"),
            );
        }
    }
    Finding::pass(
        NAME,
        format!(
            "{} clients, {at_once} of them at once, each got its own payload back from {tool}",
            all.len()
        ),
    )
}
