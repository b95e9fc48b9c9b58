//! The session era's checks: each lifecycle gets its own session id, `DELETE` ends it, the
//! server refuses the id afterwards, and a whoami-like tool answers each session with its own
//! id. The live-session probes are in [`super::live`].

use std::collections::HashSet;

use mcptool::CloseOutcome;

use super::lifecycle::{self, Call, Lifecycle, failed_lifecycles};
use super::probe::Raw;
use super::report::Finding;
use super::{Context, live, sockets};
use crate::exit::CliError;

/// Every check, in the report's order; the lifecycle counts first.
pub(crate) async fn checks(ctx: &Context<'_>) -> Result<(usize, usize, Vec<Finding>), CliError> {
    let whoami = ctx.discovery.whoami().map(str::to_owned);
    let call = |_| whoami.clone().map_or(Call::List, Call::Whoami);
    let sequential = ctx.sequential(call, false).await?;
    let concurrent = ctx.concurrent(call, false).await;
    // Counted now: the raw probes below hold connections of their own.
    let concurrent_left = sockets::wait_closed(&ctx.server, lifecycle::SOCKET_GRACE).await;
    let all: Vec<&Lifecycle> = sequential.iter().chain(concurrent.iter()).collect();
    let raw = Raw::new(&ctx.settings, ctx.url).map_err(CliError::connection)?;
    let mut checks = vec![
        distinct_sessions(&all),
        delete_accepted(&all),
        terminated_rejected(&raw, &sequential).await,
    ];
    checks.extend(live::probes(&ctx.settings, ctx.url, &raw).await?);
    checks.push(Finding::skip(
        "headers-honoured",
        "Mcp-Method and Mcp-Name are 2026-07-28 headers; this era routes by the body",
    ));
    checks.push(lifecycle::leftover_connections(
        &sequential,
        concurrent_left,
        "one session each",
    ));
    checks.push(cross_talk(&all, whoami.as_deref()));
    Ok((sequential.len(), concurrent.len(), checks))
}

fn distinct_sessions(all: &[&Lifecycle]) -> Finding {
    const NAME: &str = "distinct-session-ids";
    if let Some(failed) = failed_lifecycles(NAME, all) {
        return failed;
    }
    let ids: Vec<&str> = all.iter().filter_map(|l| l.session_id.as_deref()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    if ids.is_empty() {
        return Finding::warn(
            NAME,
            "the server issues no session ids (stateless); nothing to tell sessions apart by",
        );
    }
    if unique.len() != ids.len() {
        return Finding::fail(
            NAME,
            format!(
                "{} lifecycles got only {} distinct session ids: sessions are shared",
                ids.len(),
                unique.len()
            ),
        );
    }
    Finding::pass(
        NAME,
        format!(
            "{} lifecycles, {} distinct session ids",
            all.len(),
            unique.len()
        ),
    )
}

fn delete_accepted(all: &[&Lifecycle]) -> Finding {
    const NAME: &str = "delete-accepted";
    let errors: Vec<&str> = all
        .iter()
        .filter_map(|l| l.close.as_ref().err().map(String::as_str))
        .collect();
    if let Some(first) = errors.first() {
        return Finding::fail(
            NAME,
            format!(
                "the session DELETE failed in {} of {} closes: {first}",
                errors.len(),
                all.len()
            ),
        );
    }
    let count = |o: CloseOutcome| all.iter().filter(|l| l.close == Ok(o)).count();
    let (deleted, refused) = (
        count(CloseOutcome::Deleted),
        count(CloseOutcome::DeleteNotAllowed),
    );
    if refused > 0 {
        return Finding::warn(
            NAME,
            format!(
                "DELETE answered 405 {refused} times: clients cannot end sessions; they last until the server expires them"
            ),
        );
    }
    if deleted == 0 {
        return Finding::skip(NAME, "no DELETE sent: the server gave no session ids");
    }
    Finding::pass(NAME, format!("{deleted} session DELETEs accepted"))
}

async fn terminated_rejected(raw: &Raw, sequential: &[Lifecycle]) -> Finding {
    const NAME: &str = "terminated-session-rejected";
    let Some(last) = sequential.iter().rev().find(|l| l.session_id.is_some()) else {
        return Finding::skip(NAME, "the server gave no session ids");
    };
    if last.close == Ok(CloseOutcome::DeleteNotAllowed) {
        return Finding::warn(
            NAME,
            "not probed: DELETE is not allowed, so no session was terminated",
        );
    }
    let id = last.session_id.as_deref();
    match raw.ping(id, None).await.map(|r| r.status().as_u16()) {
        Ok(404) => Finding::pass(NAME, "a POST with the closed session's id got 404"),
        Ok(400) => Finding::warn(
            NAME,
            "a POST with the closed session's id got 400, not 404 (the TypeScript SDK variant; clients must treat it as expired)",
        ),
        Ok(s) if (200..300).contains(&s) => Finding::fail(
            NAME,
            format!(
                "a POST with the closed session's id got {s}: the server still serves a session its client ended"
            ),
        ),
        Ok(s) => Finding::fail(
            NAME,
            format!("a POST with the closed session's id got {s}, expected 404"),
        ),
        Err(e) => Finding::fail(NAME, format!("the probe POST failed: {e}")),
    }
}

fn cross_talk(all: &[&Lifecycle], whoami: Option<&str>) -> Finding {
    const NAME: &str = "cross-talk";
    let Some(tool) = whoami else {
        return Finding::warn(NAME, "not probed: the server has no whoami-like tool");
    };
    let ids: Vec<&str> = all.iter().filter_map(|l| l.session_id.as_deref()).collect();
    let mut own = 0;
    for l in all {
        let (Some(me), Some(answer)) = (l.session_id.as_deref(), l.answer.as_deref()) else {
            continue;
        };
        if let Some(other) = ids.iter().find(|id| **id != me && answer.contains(**id)) {
            let short: String = other.chars().take(8).collect();
            return Finding::fail(
                NAME,
                format!("{tool} in one session answered with another session's id ({short}…)"),
            );
        }
        if answer.contains(me) {
            own += 1;
        }
    }
    if own == 0 {
        return Finding::warn(
            NAME,
            format!("{tool} does not name the session id, so answers cannot be matched"),
        );
    }
    Finding::pass(
        NAME,
        format!("{tool} answered each of {own} sessions with its own id"),
    )
}
