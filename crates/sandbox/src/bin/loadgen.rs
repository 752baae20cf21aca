//! The media-proxy load generator (see `sandbox::loadgen`).
//!
//! ```text
//! loadgen bench --target media-proxy --binary target/release/media-proxy --core 0 \
//!     --calls 100,250,500,1000 [--ramp-secs 5] [--warmup-secs 5] [--measure-secs 20]
//! loadgen bench --target passthrough --binary target/release/loadgen --core 0 --calls ...
//! loadgen compare --binary target/release/media-proxy --core 0 --calls 100,250 --repeat 5 \
//!     [--baseline target/release/loadgen] [--measure-secs 10]
//! loadgen passthrough --port 9000 --agent-url ws://127.0.0.1:9001/v1/convai/conversation
//! ```
//! Pin the generator itself to the other core: `taskset -c 1 loadgen bench ...`.

use anyhow::{Context as _, bail};
use sandbox::loadgen::{self, BenchConfig, Target, compare};
use std::time::Duration;

fn value<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

fn secs(args: &[String], name: &str, default: u64) -> anyhow::Result<Duration> {
    Ok(Duration::from_secs(
        value(args, name).map(str::parse).transpose().context(name.to_owned())?.unwrap_or(default),
    ))
}

// One thread: the generator runs pinned to one core, where a single-threaded runtime drives more
// streams than a one-worker multi-threaded one (measured: 78 % vs 85-91 % of the core at 400).
#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default(); // Err: already installed
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter("warn").init();
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("passthrough") => {
            let port: u16 = value(&args, "--port").context("--port")?.parse()?;
            let agent = value(&args, "--agent-url").context("--agent-url")?.to_owned();
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
            loadgen::passthrough::serve(listener, agent).await
        }
        Some("bench") => bench(&args).await,
        Some("compare") => compare(&args).await,
        _ => bail!(
            "usage: loadgen bench --target media-proxy|passthrough --binary PATH [--core N] --calls N,N,...\n       loadgen compare --binary MEDIA_PROXY [--baseline LOADGEN] [--core N] --calls N,N,... [--repeat R]\n       loadgen passthrough --port P --agent-url URL"
        ),
    }
}

fn config(args: &[String], target: Target, binary: std::path::PathBuf) -> anyhow::Result<BenchConfig> {
    let counts = value(args, "--calls")
        .unwrap_or("100,250,500,1000")
        .split(',')
        .map(|c| c.trim().parse::<usize>())
        .collect::<Result<Vec<_>, _>>()
        .context("--calls")?;
    Ok(BenchConfig {
        target,
        binary,
        core: value(args, "--core").map(str::parse).transpose().context("--core")?,
        counts,
        ramp: secs(args, "--ramp-secs", 5)?,
        warmup: secs(args, "--warmup-secs", 5)?,
        measure: secs(args, "--measure-secs", 20)?,
    })
}

async fn bench(args: &[String]) -> anyhow::Result<()> {
    let target = match value(args, "--target") {
        Some("media-proxy") => Target::MediaProxy,
        Some("passthrough") => Target::Passthrough,
        other => bail!("--target media-proxy|passthrough, got {other:?}"),
    };
    let config = config(args, target, value(args, "--binary").context("--binary")?.into())?;
    print_line(&format!(
        "target: {:?} ({}), pinned to core {:?}",
        config.target,
        config.binary.display(),
        config.core
    ));
    print_line(loadgen::HEADER);
    for &n in &config.counts {
        let result = loadgen::run_once(&config, n).await?;
        print_line(&loadgen::format_row(&result));
    }
    Ok(())
}

/// Pairs of runs, passthrough and media-proxy back to back, for the CPU ratio ([`compare`]).
async fn compare(args: &[String]) -> anyhow::Result<()> {
    let proxy = config(args, Target::MediaProxy, value(args, "--binary").context("--binary")?.into())?;
    let baseline_bin = match value(args, "--baseline") {
        Some(path) => path.into(),
        None => std::env::current_exe().context("the passthrough is this binary")?,
    };
    let baseline = BenchConfig { target: Target::Passthrough, binary: baseline_bin, ..proxy.clone() };
    let repeat: usize = value(args, "--repeat").map(str::parse).transpose().context("--repeat")?.unwrap_or(5);
    print_line(&format!(
        "pairs of runs (passthrough {}, media-proxy {}), pinned to core {:?}, {} s windows",
        baseline.binary.display(),
        proxy.binary.display(),
        proxy.core,
        proxy.measure.as_secs()
    ));
    print_line(compare::HEADER);
    for &n in &proxy.counts {
        let mut pairs = Vec::with_capacity(repeat);
        for index in 0..repeat {
            let pair = if compare::baseline_first(index) {
                let baseline = loadgen::run_once(&baseline, n).await?;
                compare::Pair { baseline, proxy: loadgen::run_once(&proxy, n).await? }
            } else {
                let proxy = loadgen::run_once(&proxy, n).await?;
                compare::Pair { baseline: loadgen::run_once(&baseline, n).await?, proxy }
            };
            print_line(&compare::format_pair(index, &pair));
            pairs.push(pair);
        }
        print_line(&compare::format_summary(&pairs));
    }
    Ok(())
}

/// The benchmark's output is its table on stdout.
#[allow(clippy::print_stdout)]
fn print_line(line: &str) {
    println!("{line}");
}
