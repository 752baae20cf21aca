//! `sandbox`: runs the simulated Twilio and ElevenLabs on one port.
//!
//! Settings come from the environment (and a `.env` file if present); a few can be overridden on
//! the command line: `--listen ADDR`, `--speed N`, `--scenarios FILE`, `--public-url URL`.
//! See `docs/sandbox.md`.

use anyhow::{Context, bail};
use sandbox::env::{BinSettings, from_vars};
use sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage: sandbox [--listen ADDR] [--speed N] [--scenarios FILE] [--public-url URL]\n\
                     All settings: SANDBOX_* environment variables, see docs/sandbox.md.";

fn apply_args(config: &mut SandboxConfig, bin: &mut BinSettings) -> anyhow::Result<bool> {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().with_context(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--help" | "-h" => return Ok(false),
            "--listen" => bin.listen = value("--listen")?.parse().context("--listen")?,
            "--speed" => config.speed = value("--speed")?.parse().context("--speed")?,
            "--scenarios" => bin.scenario_file = Some(value("--scenarios")?.into()),
            "--public-url" => config.public_url = Some(value("--public-url")?),
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    Ok(true)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // A missing .env file is normal; the environment alone is enough.
    let _ = dotenvy::dotenv();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let (mut config, mut bin) =
        from_vars(&|k| std::env::var(k).ok()).context("reading SANDBOX_* settings")?;
    if !apply_args(&mut config, &mut bin)? {
        print_usage();
        return Ok(());
    }
    if let Some(path) = &bin.scenario_file {
        config
            .scenarios
            .load_file(path)
            .with_context(|| format!("loading scenarios from {}", path.display()))?;
    }
    let listener =
        tokio::net::TcpListener::bind(bin.listen).await.with_context(|| format!("binding {}", bin.listen))?;
    let handle = Sandbox::start(listener, config).await.context("starting the sandbox")?;
    print_banner(&handle);
    shutdown_signal().await;
    tracing::info!("shutting down");
    handle.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

// A command-line tool's usage text belongs on stdout.
#[allow(clippy::print_stdout)]
fn print_usage() {
    println!("{USAGE}");
}

// The banner is the binary's user interface: where to point main-app and media-proxy, and the
// scenario numbers. No secret values are printed (only whether the defaults are in use).
#[allow(clippy::print_stdout)]
fn print_banner(h: &SandboxHandle) {
    let c = h.config();
    let base = h.base_url();
    println!("sandbox listening on {} (base URL {base})", h.local_addr());
    println!("  Twilio REST   TWILIO_API_BASE={base}      (/2010-04-01/Accounts/{{sid}}/Calls.json)");
    println!("  ElevenLabs    ELEVENLABS_API_BASE={base}  (/v1/convai/...)");
    println!("  inspection    {base}/sandbox/calls, {base}/sandbox/conversations, {base}/sandbox/scenarios");
    for a in &c.accounts {
        let numbers: Vec<&str> = a.numbers.iter().map(|n| n.as_str()).collect();
        println!("  account       {} numbers {}", a.sid, numbers.join(", "));
    }
    let el = &c.elevenlabs;
    println!(
        "  agent         {} (output {}, input {})",
        el.agent_id,
        el.output_format.name(),
        el.input_format.name()
    );
    println!("  webhook       {}", el.webhook_url.as_deref().unwrap_or("(none: set SANDBOX_EL_WEBHOOK_URL)"));
    println!("  speed         x{}  cps {:?}", c.speed, c.cps_limit);
    println!(
        "  credentials   defaults unless SANDBOX_TWILIO_AUTH_TOKEN / SANDBOX_EL_API_KEY / SANDBOX_EL_WEBHOOK_SECRET are set (see docs/sandbox.md)"
    );
    println!("  scenarios (any other valid number: normal):");
    for e in c.scenarios.entries() {
        println!("    {}  {:<20} {}", e.number, e.scenario.name, e.scenario.description);
    }
}
