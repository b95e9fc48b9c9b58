//! `cargo bench -p mcptool-bench`: the side-by-side benchmark against the in-repo server.
//!
//! A short run by default, so that `cargo bench` stays quick on a shared machine; set
//! `MCPTOOL_BENCH_FULL=1` for the published benchmark (or run `mcptool bench`).

/// The same allocator as the `mcptool` binary's, so that both give the same figures.
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    mcptool_bench::run_child_if_requested();
    let full = std::env::var_os("MCPTOOL_BENCH_FULL").is_some_and(|v| v == "1");
    let config = if full {
        mcptool_bench::BenchConfig::full()
    } else {
        mcptool_bench::BenchConfig::smoke()
    };
    match mcptool_bench::run(&config) {
        Ok(report) => {
            println!("{}", report.to_markdown());
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("side_by_side: {}", mcptool_bench::chain(&err));
            std::process::ExitCode::FAILURE
        }
    }
}
