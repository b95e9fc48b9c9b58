//! The figures of a whole benchmark: medians per client, ratios to the floor, and the two
//! renderings (`--json` and a Markdown table).

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::connect::ConnectFigure;
use crate::measure::{Figures, median};
use crate::memory::MemoryFigures;

/// Figures of one client as ratios to the floor's in the same run (medians of per-run ratios).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Ratios {
    /// Sequential calls/s over the floor's: higher is better, 1.0 is the floor.
    pub sequential: f64,
    /// Concurrent calls/s over the floor's.
    pub concurrent: f64,
    /// connect + initialize + close time over the floor's: lower is better.
    pub connect_close: f64,
}

/// Everything measured about one client.
#[derive(Clone, Debug)]
pub struct ClientReport {
    /// `floor`, `reqwest_raw`, `hyper_pooled`, `mcptool`, `rmcp`, `rmcp_pooled`, `typescript_sdk`
    /// or `python_sdk`; with a `_stateless` suffix, the same client in 2026-07-28, whose ratios
    /// are to the 2026-07-28 floor.
    pub name: String,
    /// The figures of every run, in order.
    pub runs: Vec<Figures>,
    /// The median of every figure over the runs.
    pub median: Figures,
    /// Ratios to the floor.
    pub ratios: Ratios,
    /// Memory and descriptor figures, for the clients measured in a child process.
    pub memory: Option<MemoryFigures>,
}

/// A whole benchmark.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The server measured against.
    pub url: String,
    /// Concurrent callers of the concurrent phase.
    pub concurrency: usize,
    /// One entry per measured client, the floor first.
    pub clients: Vec<ClientReport>,
    /// Clients that were not measured, and why (not installed, or failed).
    pub skipped: Vec<(String, String)>,
    /// mcptool's connect to first answer in each era and detection mode.
    pub connect: Vec<ConnectFigure>,
}

impl ClientReport {
    pub(crate) fn new(name: &str, runs: Vec<Figures>, floor: &[Figures]) -> ClientReport {
        let pick = |f: fn(&Figures) -> f64| median(runs.iter().map(f));
        let ratio = |f: fn(&Figures) -> f64| {
            median(runs.iter().zip(floor).map(|(mine, base)| f(mine) / f(base)))
        };
        ClientReport {
            name: name.to_owned(),
            median: Figures {
                sequential_calls_per_s: pick(|f| f.sequential_calls_per_s),
                concurrent_calls_per_s: pick(|f| f.concurrent_calls_per_s),
                p50_us: pick(|f| f.p50_us),
                p99_us: pick(|f| f.p99_us),
                connect_close_ms: pick(|f| f.connect_close_ms),
            },
            ratios: Ratios {
                sequential: ratio(|f| f.sequential_calls_per_s),
                concurrent: ratio(|f| f.concurrent_calls_per_s),
                connect_close: ratio(|f| f.connect_close_ms),
            },
            runs,
            memory: None,
        }
    }
}

impl Report {
    /// The client named `name`, if it was measured.
    pub fn client(&self, name: &str) -> Option<&ClientReport> {
        self.clients.iter().find(|c| c.name == name)
    }

    /// One object keyed by client; each holds the median figures, the ratios to the floor and,
    /// where measured, memory figures.
    pub fn to_json(&self) -> Value {
        let mut all = Map::new();
        for client in &self.clients {
            let m = &client.median;
            let mut entry = json!({
                "sequential_calls_per_s": round(m.sequential_calls_per_s, 1),
                "concurrent_calls_per_s": round(m.concurrent_calls_per_s, 1),
                "p50_us": round(m.p50_us, 1),
                "p99_us": round(m.p99_us, 1),
                "connect_close_ms": round(m.connect_close_ms, 3),
                "runs": client.runs.len(),
                "ratio_to_floor": {
                    "sequential": round(client.ratios.sequential, 3),
                    "concurrent": round(client.ratios.concurrent, 3),
                    "connect_close": round(client.ratios.connect_close, 3),
                },
            });
            if let (Some(memory), Some(obj)) = (&client.memory, entry.as_object_mut()) {
                let rss: Map<String, Value> = memory
                    .rss_per_idle_session_kib
                    .iter()
                    .map(|(n, kib)| (n.to_string(), json!(round(*kib, 2))))
                    .collect();
                obj.insert("rss_per_idle_session_kib".to_owned(), Value::Object(rss));
                if memory.fd_lifecycles > 0 {
                    obj.insert("fd_lifecycles".to_owned(), json!(memory.fd_lifecycles));
                    obj.insert("fds_before".to_owned(), json!(memory.fds_before));
                    obj.insert("fds_after".to_owned(), json!(memory.fds_after));
                }
            }
            all.insert(client.name.clone(), entry);
        }
        if !self.connect.is_empty() {
            let connect: Vec<Value> = self
                .connect
                .iter()
                .map(|c| {
                    json!({
                        "server": c.server,
                        "case": c.case,
                        "ms": round(c.ms, 3),
                        "ratio_to_session_connect": round(c.ratio, 3),
                    })
                })
                .collect();
            all.insert("connect_to_first_answer".to_owned(), Value::Array(connect));
        }
        Value::Object(all)
    }

    /// Markdown tables: throughput and latency, then memory, then what was skipped.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "server: {}\n", self.url);
        let _ = writeln!(
            out,
            "| client | sequential calls/s | × floor | p50 µs | p99 µs | {}-way calls/s | × floor | connect+init+close ms | × floor |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|",
            self.concurrency
        );
        for c in &self.clients {
            let (m, r) = (&c.median, &c.ratios);
            let _ = writeln!(
                out,
                "| {} | {:.0} | {:.2} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} |",
                c.name,
                m.sequential_calls_per_s,
                r.sequential,
                m.p50_us,
                m.p99_us,
                m.concurrent_calls_per_s,
                r.concurrent,
                m.connect_close_ms,
                r.connect_close
            );
        }
        let with_memory: Vec<_> = self.clients.iter().filter(|c| c.memory.is_some()).collect();
        if !with_memory.is_empty() {
            out.push_str("\n| client | RSS per idle session | open fds before → after lifecycles |\n|---|---|---|\n");
            for c in with_memory {
                let Some(memory) = &c.memory else { continue };
                let rss: Vec<String> = memory
                    .rss_per_idle_session_kib
                    .iter()
                    .map(|(n, kib)| format!("{kib:.1} KiB at {n}"))
                    .collect();
                let fds = if memory.fd_lifecycles > 0 {
                    format!(
                        "{} → {} after {}",
                        memory.fds_before, memory.fds_after, memory.fd_lifecycles
                    )
                } else {
                    "not measured".to_owned()
                };
                let _ = writeln!(out, "| {} | {} | {} |", c.name, rss.join(", "), fds);
            }
        }
        if !self.connect.is_empty() {
            out.push_str("\n| mcptool connect to first answer | server | ms | × session connect |\n|---|---|---:|---:|\n");
            for c in &self.connect {
                let _ = writeln!(
                    out,
                    "| {} | {} | {:.3} | {:.2} |",
                    c.case, c.server, c.ms, c.ratio
                );
            }
        }
        for (name, why) in &self.skipped {
            let _ = writeln!(out, "\nSKIPPED {name}: {why}");
        }
        out
    }
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_medians_of_per_run_ratios() {
        let floor = vec![
            Figures {
                sequential_calls_per_s: 100.0,
                concurrent_calls_per_s: 200.0,
                connect_close_ms: 1.0,
                ..Figures::default()
            };
            3
        ];
        let mine = vec![
            Figures {
                sequential_calls_per_s: 90.0,
                concurrent_calls_per_s: 100.0,
                connect_close_ms: 2.0,
                ..Figures::default()
            };
            3
        ];
        let report = ClientReport::new("x", mine, &floor);
        assert!((report.ratios.sequential - 0.9).abs() < 1e-9);
        assert!((report.ratios.concurrent - 0.5).abs() < 1e-9);
        assert!((report.ratios.connect_close - 2.0).abs() < 1e-9);
    }
}
