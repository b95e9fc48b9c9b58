//! One whole benchmark: start the server (unless given a URL), measure every client in turn,
//! run after run, then memory in a child process.

use std::time::Duration;

use ::mcptool::ProtocolEra;
use mcptool_server::{Server, ServerConfig};

use crate::config::BenchConfig;
use crate::error::{Context, Error, chain};
use crate::measure::Figures;
use crate::memory::{self, ChildClient, MemoryFigures};

/// Memory children per client: each holds up to 10 000 sessions, so fewer than the runs.
const MEMORY_RUNS: usize = 3;
use crate::report::{ClientReport, Report};
use crate::subjects::pooled::{self, HyperUtil, Pool, Reqwest};
use crate::subjects::rmcp::Setup;
use crate::subjects::script::Script;
use crate::subjects::{floor, mcptool, rmcp, script};

/// A Rust client measured in this process.
#[derive(Clone, Copy, Debug)]
enum Subject {
    Floor,
    ReqwestRaw,
    HyperPooled,
    Mcptool,
    /// mcptool pinned to 2026-07-28, against the same (dual-era) server.
    McptoolStateless,
    Rmcp(Setup),
    /// rmcp pinned to 2026-07-28 (`ClientLifecycleMode::Discover`).
    RmcpStateless(Setup),
}

impl Subject {
    fn name(self) -> &'static str {
        match self {
            Subject::Floor => "floor",
            Subject::ReqwestRaw => Reqwest::NAME,
            Subject::HyperPooled => HyperUtil::NAME,
            Subject::Mcptool => "mcptool",
            Subject::McptoolStateless => "mcptool_stateless",
            Subject::Rmcp(Setup::Defaults) => "rmcp",
            Subject::Rmcp(Setup::Pooled { .. }) => "rmcp_pooled",
            Subject::RmcpStateless(Setup::Defaults) => "rmcp_stateless",
            Subject::RmcpStateless(Setup::Pooled { .. }) => "rmcp_pooled_stateless",
        }
    }

    /// Whether it speaks 2026-07-28, and so is measured against the 2026-07-28 floor.
    fn is_stateless(self) -> bool {
        matches!(self, Subject::McptoolStateless | Subject::RmcpStateless(_))
    }

    async fn run(self, url: &str, config: &BenchConfig) -> Result<Figures, Error> {
        match self {
            Subject::Floor => floor::run(url, config).await,
            Subject::ReqwestRaw => pooled::run::<Reqwest>(url, config).await,
            Subject::HyperPooled => pooled::run::<HyperUtil>(url, config).await,
            Subject::Mcptool => mcptool::run(url, config, ProtocolEra::Session).await,
            Subject::McptoolStateless => mcptool::run(url, config, ProtocolEra::Stateless).await,
            Subject::Rmcp(setup) => rmcp::run(url, config, setup, ProtocolEra::Session).await,
            Subject::RmcpStateless(setup) => {
                rmcp::run(url, config, setup, ProtocolEra::Stateless).await
            }
        }
    }
}

/// Runs the benchmark described by `config` on a runtime of its own.
///
/// Progress goes to stderr; rivals that are not installed or that fail are reported there
/// (and in [`Report::skipped`]), never dropped silently. A failure of the floor or of mcptool
/// fails the run.
pub fn run(config: &BenchConfig) -> Result<Report, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("building the runtime")?;
    runtime.block_on(run_async(config))
}

async fn run_async(config: &BenchConfig) -> Result<Report, Error> {
    let server = match &config.url {
        Some(_) => None,
        None => Some(
            Server::start(ServerConfig::default())
                .await
                .context("starting the in-repo server")?,
        ),
    };
    let url = match (&config.url, &server) {
        (Some(url), _) => url.clone(),
        (None, Some(server)) => server.url(),
        (None, None) => unreachable!("a server is started when no URL is given"),
    };
    let rivals = config.rivals && config.url.is_none();
    let outcome = measure_all(&url, config, rivals).await;
    if let Some(server) = server {
        server.shutdown().await;
    }
    outcome
}

async fn measure_all(url: &str, config: &BenchConfig, rivals: bool) -> Result<Report, Error> {
    let mut subjects = vec![Subject::Floor, Subject::Mcptool, Subject::McptoolStateless];
    if rivals {
        subjects.insert(1, Subject::ReqwestRaw);
        subjects.insert(2, Subject::HyperPooled);
        subjects.push(Subject::Rmcp(Setup::Defaults));
        subjects.push(Subject::Rmcp(Setup::Pooled {
            max_in_flight: config.concurrency,
        }));
        subjects.push(Subject::RmcpStateless(Setup::Defaults));
        subjects.push(Subject::RmcpStateless(Setup::Pooled {
            max_in_flight: config.concurrency,
        }));
    }
    subjects.retain(|s| config.wants(s.name()));
    let mut report = Report {
        url: url.to_owned(),
        concurrency: config.concurrency,
        ..Report::default()
    };
    // Runs interleave the clients, so that a noisy neighbour hurts all of them alike, and each
    // client is measured right after a run of the floor of its own, its ratios taken to that
    // run: the machine's load drifts, and a baseline measured a dozen seconds earlier, before
    // other clients, measures a different machine.
    let mut runs: Vec<Vec<Figures>> = vec![Vec::new(); subjects.len()];
    let mut baselines: Vec<Vec<Figures>> = vec![Vec::new(); subjects.len()];
    // The first floor run of each round, in each era: the baselines of the script clients, run
    // apart.
    let mut first_floors: Vec<Figures> = Vec::new();
    let mut first_stateless_floors: Vec<Figures> = Vec::new();
    // Every run of the 2026-07-28 floor, for its own line in the report.
    let mut stateless_floor_runs: Vec<Figures> = Vec::new();
    let mut failed: Vec<Option<String>> = vec![None; subjects.len()];
    for round in 1..=config.runs {
        let mut first = true;
        let mut first_stateless = true;
        for (i, subject) in subjects.iter().enumerate() {
            if failed[i].is_some() || (matches!(subject, Subject::Floor) && subjects.len() > 1) {
                continue;
            }
            let floor = if matches!(subject, Subject::Floor) {
                None
            } else if subject.is_stateless() {
                // Its own floor: the same raw calls in 2026-07-28, so that the ratio compares
                // like with like (the server's stateless checks are in both).
                eprintln!("run {round}/{}: floor (2026-07-28)", config.runs);
                match floor::run_stateless(url, config).await {
                    Ok(floor) => {
                        stateless_floor_runs.push(floor);
                        if std::mem::take(&mut first_stateless) {
                            first_stateless_floors.push(floor);
                        }
                        Some(floor)
                    }
                    Err(err) => {
                        eprintln!("FAILED floor (2026-07-28): {}", chain(&err));
                        failed[i] = Some(format!("its floor failed: {}", chain(&err)));
                        continue;
                    }
                }
            } else {
                eprintln!("run {round}/{}: floor", config.runs);
                let floor = Subject::Floor.run(url, config).await?;
                runs[0].push(floor);
                if std::mem::take(&mut first) {
                    first_floors.push(floor);
                }
                Some(floor)
            };
            eprintln!("run {round}/{}: {}", config.runs, subject.name());
            match subject.run(url, config).await {
                Ok(figures) => {
                    let base = floor.unwrap_or_else(|| {
                        // Only the floor is measured.
                        first_floors.push(figures);
                        figures
                    });
                    baselines[i].push(base);
                    runs[i].push(figures);
                }
                // A reference or a rival that fails is reported; the floor or mcptool failing
                // fails the run.
                Err(err) if !matches!(subject, Subject::Floor | Subject::Mcptool) => {
                    eprintln!("FAILED {}: {}", subject.name(), chain(&err));
                    failed[i] = Some(format!("failed: {}", chain(&err)));
                }
                Err(err) => return Err(err),
            }
        }
    }
    // The floor's own line: every run of it, each its own baseline.
    baselines[0] = runs[0].clone();
    let floor = first_floors;
    for (((subject, figures), base), failure) in
        subjects.iter().zip(runs).zip(&baselines).zip(failed)
    {
        match failure {
            Some(why) => report.skipped.push((subject.name().to_owned(), why)),
            None => report
                .clients
                .push(ClientReport::new(subject.name(), figures, base)),
        }
    }
    if rivals {
        for (name, which, era) in [
            ("typescript_sdk", Script::TypeScript, ProtocolEra::Session),
            ("python_sdk", Script::Python, ProtocolEra::Session),
            (
                "typescript_sdk_stateless",
                Script::TypeScript,
                ProtocolEra::Stateless,
            ),
            (
                "python_sdk_stateless",
                Script::Python,
                ProtocolEra::Stateless,
            ),
        ] {
            if !config.wants(name) {
                continue;
            }
            let base = if era == ProtocolEra::Stateless {
                // Measured with mcptool_stateless, or here when it was not (`--clients`).
                while first_stateless_floors.len() < config.runs {
                    eprintln!("floor (2026-07-28) for {name}");
                    let floor = floor::run_stateless(url, config).await?;
                    stateless_floor_runs.push(floor);
                    first_stateless_floors.push(floor);
                }
                &first_stateless_floors
            } else {
                &floor
            };
            match measure_script(which, era, url, config).await {
                Ok(figures) => report.clients.push(ClientReport::new(name, figures, base)),
                Err(why) => {
                    eprintln!("SKIPPED {name}: {why}");
                    report.skipped.push((name.to_owned(), why));
                }
            }
        }
    }
    if !stateless_floor_runs.is_empty() {
        // The 2026-07-28 floor's own line, beside the session-era floor: every run of it, each
        // its own baseline.
        let line = ClientReport::new(
            "floor_stateless",
            stateless_floor_runs.clone(),
            &stateless_floor_runs,
        );
        report.clients.insert(report.clients.len().min(1), line);
    }
    if config.wants("connect") {
        eprintln!("connect to first answer");
        report.connect = crate::connect::measure(url, config.url.is_none(), config).await?;
    }
    if config.memory {
        measure_memory(url, config, rivals, &mut report).await?;
    }
    Ok(report)
}

async fn measure_script(
    which: Script,
    era: ProtocolEra,
    url: &str,
    config: &BenchConfig,
) -> Result<Vec<Figures>, String> {
    let prepared = which.prepare(&config.repo_root, era)?;
    eprintln!("runs 1-{}: {which:?} SDK ({era:?})", config.runs);
    script::run(&prepared, url, config)
        .await
        .map_err(|err| format!("failed: {}", chain(&err)))
}

async fn measure_memory(
    url: &str,
    config: &BenchConfig,
    rivals: bool,
    report: &mut Report,
) -> Result<(), Error> {
    let budget = config.phase_limit * 6 + Duration::from_secs(120);
    let runs = config.runs.clamp(1, MEMORY_RUNS);
    let mut all = Vec::with_capacity(runs);
    for round in 1..=runs {
        eprintln!(
            "memory run {round}/{runs}: mcptool, {:?} idle sessions",
            config.sessions
        );
        all.push(
            memory::measure(
                url,
                ChildClient::Mcptool,
                &config.sessions,
                config.fd_lifecycles,
                budget,
            )
            .await?,
        );
    }
    if let Some(client) = report.clients.iter_mut().find(|c| c.name == "mcptool") {
        client.memory = Some(MemoryFigures::combine(&all));
    }
    // rmcp connects slowly; its figure at the smallest count is enough for the comparison.
    if let (true, Some(&first)) = (rivals && config.wants("rmcp"), config.sessions.first()) {
        let mut all = Vec::with_capacity(runs);
        for round in 1..=runs {
            eprintln!("memory run {round}/{runs}: rmcp, {first} idle sessions");
            match memory::measure(url, ChildClient::Rmcp, &[first], 0, budget).await {
                Ok(figures) => all.push(figures),
                Err(err) => {
                    eprintln!("FAILED rmcp memory: {}", chain(&err));
                    break;
                }
            }
        }
        if let (false, Some(client)) = (
            all.is_empty(),
            report.clients.iter_mut().find(|c| c.name == "rmcp"),
        ) {
            client.memory = Some(MemoryFigures::combine(&all));
        }
    }
    Ok(())
}
