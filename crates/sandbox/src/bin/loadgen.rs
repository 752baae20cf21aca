//! The media-proxy load generator (see `sandbox::loadgen`).
//!
//! ```text
//! loadgen bench --target media-proxy --binary target/release/media-proxy --core 0 \
//!     --calls 100,250,500,1000 [--ramp-secs 5] [--warmup-secs 5] [--measure-secs 20]
//! loadgen bench --target passthrough --binary target/release/loadgen --core 0 --calls ...
//! loadgen passthrough --port 9000 --agent-url ws://127.0.0.1:9001/v1/convai/conversation
//! ```
//! Pin the generator itself to the other core: `taskset -c 1 loadgen bench ...`.

use anyhow::{Context as _, bail};
use sandbox::loadgen::{self, BenchConfig, Target};
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
        _ => bail!(
            "usage: loadgen bench --target media-proxy|passthrough --binary PATH [--core N] --calls N,N,...\n       loadgen passthrough --port P --agent-url URL"
        ),
    }
}

async fn bench(args: &[String]) -> anyhow::Result<()> {
    let target = match value(args, "--target") {
        Some("media-proxy") => Target::MediaProxy,
        Some("passthrough") => Target::Passthrough,
        other => bail!("--target media-proxy|passthrough, got {other:?}"),
    };
    let counts = value(args, "--calls")
        .unwrap_or("100,250,500,1000")
        .split(',')
        .map(|c| c.trim().parse::<usize>())
        .collect::<Result<Vec<_>, _>>()
        .context("--calls")?;
    let config = BenchConfig {
        target,
        binary: value(args, "--binary").context("--binary")?.into(),
        core: value(args, "--core").map(str::parse).transpose().context("--core")?,
        counts,
        ramp: secs(args, "--ramp-secs", 5)?,
        warmup: secs(args, "--warmup-secs", 5)?,
        measure: secs(args, "--measure-secs", 20)?,
    };
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

/// The benchmark's output is its table on stdout.
#[allow(clippy::print_stdout)]
fn print_line(line: &str) {
    println!("{line}");
}
