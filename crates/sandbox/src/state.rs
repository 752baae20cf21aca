//! The state shared by every handler and actor of one sandbox instance.

use crate::config::SandboxConfig;
use crate::el::registry::ConversationRegistry;
use crate::el::signed_url::TokenStore;
use crate::twilio::cps::CpsLimiter;
use crate::twilio::recording::RecordingStore;
use crate::twilio::registry::CallRegistry;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Cheap-to-clone handle on the shared state.
pub(crate) type AppState = Arc<Shared>;

/// Everything shared.
pub(crate) struct Shared {
    /// The configuration, fixed at start.
    pub config: SandboxConfig,
    /// Base URL others reach us at (`http://127.0.0.1:port` by default), no trailing slash.
    pub base_url: String,
    /// Client for callbacks, TwiML fetches and webhooks.
    pub http: reqwest::Client,
    /// Calls, live and finished.
    pub calls: CallRegistry,
    /// Recordings.
    pub recordings: RecordingStore,
    /// ElevenLabs conversations.
    pub conversations: ConversationRegistry,
    /// Signed-URL tokens.
    pub tokens: TokenStore,
    /// CPS limiter.
    pub cps: CpsLimiter,
    /// Bumped on every observable change, so waiters can re-check.
    pub changes: watch::Sender<u64>,
    /// Cancelled when the sandbox shuts down.
    pub shutdown: CancellationToken,
    /// Injected faults.
    pub faults: Faults,
}

/// Faults injected at run time through the inspection API.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    /// Refuse this many upcoming agent WebSocket upgrades with 503.
    pub refuse_agent_connections: AtomicU32,
}

impl Faults {
    /// Consumes one refusal if any is pending.
    pub fn take_refusal(&self) -> bool {
        self.refuse_agent_connections
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

impl Shared {
    pub(crate) fn new(config: SandboxConfig, base_url: String) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .user_agent("TwilioProxy/1.1 (sandbox)")
            .build()?;
        let (changes, _) = watch::channel(0);
        Ok(Self {
            calls: CallRegistry::new(config.limits.max_kept),
            recordings: RecordingStore::default(),
            conversations: ConversationRegistry::new(config.limits.max_kept),
            tokens: TokenStore::default(),
            cps: CpsLimiter::new(config.cps_limit),
            config,
            base_url,
            http,
            changes,
            shutdown: CancellationToken::new(),
            faults: Faults::default(),
        })
    }

    /// A scenario delay scaled by the speed factor.
    pub fn scaled(&self, ms: u64) -> Duration {
        self.config.scaled(ms)
    }

    /// The WebSocket form of the base URL.
    pub fn ws_base_url(&self) -> String {
        if let Some(rest) = self.base_url.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = self.base_url.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            self.base_url.clone()
        }
    }
}
