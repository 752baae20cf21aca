//! Logging set-up: `tracing` to stderr, filtered by `RUST_LOG` (default `info`), JSON when
//! `LOG_FORMAT=json`. Nothing per audio frame is logged above `trace`; secrets are never
//! formatted (they are `SecretString`s) and signed URLs are never logged.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Safe to call more than once (later calls do nothing).
pub fn init(default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // try_init fails only when a subscriber is already installed (tests): ignoring is safe.
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
