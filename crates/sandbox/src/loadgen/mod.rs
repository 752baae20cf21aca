//! The media-proxy benchmark: N simulated Twilio streams at real-time pacing against a bridge
//! process, with a simulated agent answering with audio, all on the generator's one clock.
//!
//! For each N the generator starts the target as a child process (pinned with `taskset` to its
//! own core), starts fresh in-process [`peers`] (simulated ElevenLabs + main-app stand-in), ramps
//! up N [`twilio`] streams, lets them warm up, then measures for a fixed window:
//!
//! - one-way latency per direction (p50/p99/p99.9): receive time − the send time stamped in the
//!   frame ([`frame`]), for frames *sent* inside the window;
//! - frames lost: sent inside the window − received (after a drain second);
//! - target CPU as % of one core (total and per call) from `/proc/<pid>/stat`;
//! - target RSS from `/proc/<pid>/status`: under load, per call on average (loaded − idle, over
//!   N) and marginal (loaded − with the first half open, over the second half);
//! - set-up time: Twilio `start` sent → first agent frame received by the Twilio client.
//!
//! The generator plays both ends of every call on one core, so it is built to cost less per
//! stream than the bridge: its sockets use the lean [`ws`] (one reader task per socket, parsing
//! in place) and every paced frame is sent from one shared [`ticker`] instead of a timer per
//! sender.
//!
//! The same load against [`passthrough`] (a trivial bridge, also a child process on the same
//! core) is the baseline: the generator's own floor. [`compare`] pairs runs of both to measure
//! the CPU ratio despite the machine's drift. Figures are printed, not asserted.

pub mod compare;
pub mod frame;
pub mod passthrough;
pub mod peers;
pub mod stats;
pub mod ticker;
pub mod twilio;
pub mod ws;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use stats::{Clock, Recorder, percentile};

/// The bridge under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The real media-proxy binary.
    MediaProxy,
    /// `loadgen passthrough` (the baseline).
    Passthrough,
}

/// One benchmark invocation.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// What to run.
    pub target: Target,
    /// Its binary (`media-proxy`, or `loadgen` itself for the passthrough).
    pub binary: PathBuf,
    /// Core to pin the target to with `taskset -c` (none: not pinned).
    pub core: Option<u32>,
    /// Concurrent streams per run.
    pub counts: Vec<usize>,
    /// Time to open all streams.
    pub ramp: Duration,
    /// Time between the last stream opening and the window.
    pub warmup: Duration,
    /// Measurement window.
    pub measure: Duration,
}

/// What one run measured.
#[derive(Debug, Clone, Default)]
pub struct RunResult {
    /// Concurrent streams.
    pub streams: usize,
    /// Twilio → agent latency percentiles (µs): p50, p99, p99.9.
    pub inbound: [u32; 3],
    /// Agent → Twilio latency percentiles (µs).
    pub outbound: [u32; 3],
    /// Frames lost per direction.
    pub lost: [u64; 2],
    /// Frames sent per direction inside the window.
    pub sent: [u64; 2],
    /// Target CPU, % of one core.
    pub cpu_pct: f64,
    /// Target RSS (KiB): idle, with the first half of the streams open, and with all of them.
    pub rss_kib: [u64; 3],
    /// Set-up p50 and p99 (µs).
    pub setup: [u32; 2],
    /// Streams that failed or closed early.
    pub failed: u64,
    /// Fraction of the frames the generator should have sent that it did send.
    pub pacing: f64,
    /// The generator's own CPU during the window, % of one core.
    pub generator_cpu_pct: f64,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

const SECRET: &str = "loadgen-secret-loadgen-secret-loadgen!";

fn spawn_target(
    config: &BenchConfig,
    port: u16,
    peers: &str,
    agent: &str,
    n: usize,
) -> anyhow::Result<std::process::Child> {
    let mut cmd = match config.core {
        Some(core) => {
            let mut c = std::process::Command::new("taskset");
            c.arg("-c").arg(core.to_string()).arg(&config.binary);
            c
        }
        None => std::process::Command::new(&config.binary),
    };
    if config.target == Target::Passthrough {
        cmd.arg("passthrough")
            .arg("--port")
            .arg(port.to_string())
            .arg("--agent-url")
            .arg(format!("ws://{agent}/v1/convai/conversation?agent_id=loadgen"));
    }
    let log = std::fs::File::create(std::env::temp_dir().join(format!("loadgen-target-{n}.log")))?;
    cmd.env("PORT", port.to_string())
        .env("MAIN_APP_URL", format!("http://{peers}"))
        .env("ELEVENLABS_API_BASE", format!("http://{peers}"))
        .env("ELEVENLABS_API_KEY", "loadgen")
        .env("ELEVENLABS_AGENT_ID", "loadgen")
        .env("STREAM_TOKEN_SECRET", SECRET)
        .env("MAX_CONCURRENT_CALLS", "20000")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(log);
    Ok(cmd.spawn()?)
}

async fn wait_listening(port: u16) -> anyhow::Result<()> {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("target did not listen on port {port}")
}

fn sorted(samples: &std::sync::Mutex<Vec<u32>>) -> Vec<u32> {
    let mut v = samples.lock().map(|v| v.clone()).unwrap_or_default();
    v.sort_unstable();
    v
}

fn three(v: &[u32]) -> [u32; 3] {
    [50.0, 99.0, 99.9].map(|p| percentile(v, p).unwrap_or(0))
}

/// Runs the load once with `n` streams.
pub async fn run_once(config: &BenchConfig, n: usize) -> anyhow::Result<RunResult> {
    let clock = Clock::new();
    let recorder = Arc::new(Recorder::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let agent_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let peers_addr = listener.local_addr()?.to_string();
    let ticker = ticker::Ticker::new();
    let peers = peers::Peers::start(
        listener,
        agent_listener,
        ticker.clone(),
        SECRET.to_owned(),
        clock,
        recorder.clone(),
    );
    tokio::spawn(ticker.clone().run(peers.stop.clone()));
    let port = free_port()?;
    let mut child = spawn_target(config, port, &peers_addr, &peers.agent_addr, n)?;
    let pid = child.id();
    let result = measure(config, n, port, pid, &clock, &recorder, &peers).await;
    // The run is over either way; the child is ours.
    let _ = child.kill();
    let _ = child.wait();
    result
}

async fn measure(
    config: &BenchConfig,
    n: usize,
    port: u16,
    pid: u32,
    clock: &Clock,
    recorder: &Arc<Recorder>,
    peers: &peers::Peers,
) -> anyhow::Result<RunResult> {
    let ticker = &peers.ticker;
    wait_listening(port).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_idle = stats::rss_kib(pid).unwrap_or(0);
    let stop = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();
    let addr = format!("127.0.0.1:{port}");
    let gap = config.ramp / n.max(1) as u32;
    let half = n / 2;
    let mut rss_half = rss_idle;
    for i in 0..n {
        if i == half && half > 0 {
            // What the first half cost, read once their buffers have settled: the second half's
            // growth over it is the marginal cost of a call, without the one-time growth
            // (allocator arenas, pools, lazily touched pages) that the first streams bring.
            tokio::time::sleep(Duration::from_secs(1)).await;
            rss_half = stats::rss_kib(pid).unwrap_or(0);
        }
        let spec = twilio::StreamSpec {
            index: i as u32,
            addr: addr.clone(),
            secret: SECRET.to_owned(),
            slot: i * ticker::SLOTS / n.max(1),
        };
        tasks.spawn(twilio::run_stream(spec, ticker.clone(), *clock, recorder.clone(), stop.clone()));
        tokio::time::sleep(gap).await;
    }
    tokio::time::sleep(config.warmup).await;
    let tps = stats::ticks_per_second();
    recorder.window_start.store(clock.now_us(), Ordering::Relaxed);
    let me = std::process::id();
    let (cpu0, gen0) = (stats::cpu_ticks(pid).unwrap_or(0), stats::cpu_ticks(me).unwrap_or(0));
    let t0 = std::time::Instant::now();
    tokio::time::sleep(config.measure).await;
    recorder.window_end.store(clock.now_us(), Ordering::Relaxed);
    let (cpu1, gen1) = (stats::cpu_ticks(pid).unwrap_or(0), stats::cpu_ticks(me).unwrap_or(0));
    let elapsed = t0.elapsed().as_secs_f64();
    let rss_loaded = stats::rss_kib(pid).unwrap_or(0);
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Twilio hangs up first (as in a real call), then the agent side is torn down.
    stop.cancel();
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(10), drain).await.is_err() {
        tracing::warn!("some streams did not stop in time");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    peers.stop.cancel();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (inb, outb) = (sorted(&recorder.inbound.latencies), sorted(&recorder.outbound.latencies));
    let sent =
        [recorder.inbound.sent.load(Ordering::Relaxed), recorder.outbound.sent.load(Ordering::Relaxed)];
    let received = [
        recorder.inbound.received.load(Ordering::Relaxed),
        recorder.outbound.received.load(Ordering::Relaxed),
    ];
    let setup = sorted(&recorder.setup);
    // The window's real length: an overloaded generator wakes late.
    let expected = n as f64 * 50.0 * elapsed;
    Ok(RunResult {
        streams: n,
        inbound: three(&inb),
        outbound: three(&outb),
        lost: [sent[0].saturating_sub(received[0]), sent[1].saturating_sub(received[1])],
        sent,
        cpu_pct: (cpu1.saturating_sub(cpu0)) as f64 / tps as f64 / elapsed * 100.0,
        rss_kib: [rss_idle, rss_half, rss_loaded],
        setup: [percentile(&setup, 50.0).unwrap_or(0), percentile(&setup, 99.0).unwrap_or(0)],
        failed: recorder.failed_streams.load(Ordering::Relaxed),
        pacing: sent[0] as f64 / expected,
        generator_cpu_pct: (gen1.saturating_sub(gen0)) as f64 / tps as f64 / elapsed * 100.0,
    })
}

fn ms(us: u32) -> String {
    format!("{:.2}", f64::from(us) / 1000.0)
}

/// One table row.
pub fn format_row(r: &RunResult) -> String {
    let per_call_cpu = r.cpu_pct / r.streams.max(1) as f64;
    let [idle, half, loaded] = r.rss_kib;
    let average = loaded.saturating_sub(idle) as f64 / r.streams.max(1) as f64;
    let marginal = loaded.saturating_sub(half) as f64 / (r.streams - r.streams / 2).max(1) as f64;
    format!(
        "| {:>5} | {} / {} / {} | {} / {} / {} | {} / {} | {:>5.1} % | {:.3} % | {:.1} MiB | {:.1} / {:.1} KiB | {} / {} | {:.3} | {:.0} % | {} |",
        r.streams,
        ms(r.inbound[0]),
        ms(r.inbound[1]),
        ms(r.inbound[2]),
        ms(r.outbound[0]),
        ms(r.outbound[1]),
        ms(r.outbound[2]),
        r.lost[0],
        r.lost[1],
        r.cpu_pct,
        per_call_cpu,
        loaded as f64 / 1024.0,
        average,
        marginal,
        ms(r.setup[0]),
        ms(r.setup[1]),
        r.pacing,
        r.generator_cpu_pct,
        r.failed,
    )
}

/// Table header.
pub const HEADER: &str = "| calls | caller→agent p50/p99/p99.9 ms | agent→caller p50/p99/p99.9 ms | lost in/out | CPU (1 core) | CPU/call | RSS | RSS/call average / marginal | set-up p50/p99 ms | pacing | generator CPU | failed |\n|---|---|---|---|---|---|---|---|---|---|---|---|";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_gives_the_average_and_the_marginal_rss_per_call() {
        // 100 streams: 1,000 KiB idle, 1,800 with 50 open, 2,500 with all 100.
        let r = RunResult { streams: 100, rss_kib: [1000, 1800, 2500], ..RunResult::default() };
        let row = format_row(&r);
        assert!(row.contains("| 2.4 MiB | 15.0 / 14.0 KiB |"), "{row}");
        // An odd count: the second half is the larger one.
        let r = RunResult { streams: 3, rss_kib: [0, 10, 30], ..RunResult::default() };
        assert!(format_row(&r).contains("| 10.0 / 10.0 KiB |"), "{}", format_row(&r));
    }
}
