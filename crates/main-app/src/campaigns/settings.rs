//! Settings of the campaign engine and contact imports (the `# campaigns` section of
//! `.env.example`), parsed with the rest of [`crate::settings`].

use std::time::Duration;

use crate::settings::Env;

/// Engine and import settings.
#[derive(Debug, Clone)]
pub struct CampaignSettings {
    /// `CAMPAIGN_ENGINE` (default true): run the dialling engine in this instance. Off, campaigns
    /// can be edited but nothing is dialled by this instance (tests drive the engine by hand).
    pub engine: bool,
    /// `CAMPAIGN_TICK_MS` (default 500, 50..=10000): how often the engine looks for work.
    pub tick: Duration,
    /// `CAMPAIGN_LEASE_SECS` (default 120, at least 5): how long a claim or a dial in progress
    /// belongs to this instance before another may take it over. Longer than the slowest
    /// possible dial (Twilio's 15 s timeout and its 429 retries).
    pub lease: Duration,
    /// `CAMPAIGN_FAILURE_WINDOW_SECS` (default 120): the sliding window of the failure breaker.
    pub failure_window: Duration,
    /// `CAMPAIGN_FAILURE_RATIO` (default 0.5, in (0, 1]): failed share of the window's ended
    /// calls above which a campaign pauses itself.
    pub failure_ratio: f64,
    /// `CAMPAIGN_FAILURE_MIN_CALLS` (default 5): the breaker needs at least this many ended calls
    /// in the window.
    pub failure_min_calls: u64,
    /// `CONTACT_IMPORT_MAX_MB` (default 50): largest CSV upload accepted.
    pub import_max_bytes: usize,
}

/// Reads the `# campaigns` variables.
pub fn parse(env: &mut Env<'_>) -> CampaignSettings {
    let tick: u64 = env.parsed("CAMPAIGN_TICK_MS", 500);
    if !(50..=10_000).contains(&tick) {
        env.problems.push(format!("CAMPAIGN_TICK_MS must be between 50 and 10000, got {tick}"));
    }
    let lease: u64 = env.parsed("CAMPAIGN_LEASE_SECS", 120);
    if lease < 5 {
        env.problems.push(format!("CAMPAIGN_LEASE_SECS must be at least 5, got {lease}"));
    }
    let ratio: f64 = env.parsed("CAMPAIGN_FAILURE_RATIO", 0.5);
    if !(ratio > 0.0 && ratio <= 1.0) {
        env.problems.push(format!("CAMPAIGN_FAILURE_RATIO must be in (0, 1], got {ratio}"));
    }
    let mb: usize = env.parsed("CONTACT_IMPORT_MAX_MB", 50);
    if mb == 0 || mb > 1024 {
        env.problems.push(format!("CONTACT_IMPORT_MAX_MB must be between 1 and 1024, got {mb}"));
    }
    CampaignSettings {
        engine: env.flag("CAMPAIGN_ENGINE", true),
        tick: Duration::from_millis(tick),
        lease: Duration::from_secs(lease),
        failure_window: Duration::from_secs(env.parsed("CAMPAIGN_FAILURE_WINDOW_SECS", 120)),
        failure_ratio: ratio,
        failure_min_calls: env.parsed("CAMPAIGN_FAILURE_MIN_CALLS", 5),
        import_max_bytes: mb * 1024 * 1024,
    }
}
