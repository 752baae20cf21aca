//! Typed configuration of the simulators.
//!
//! Everything has a default that works out of the box with no real credentials: one Twilio
//! account with a fixed SID, auth token and caller id, one ElevenLabs agent with a fixed API key,
//! and the built-in scenario table. Tests build a [`SandboxConfig`] in code; the binary reads the
//! environment (see `env.rs` and `docs/sandbox.md`).

use crate::scenario::ScenarioBook;
use common::elevenlabs::AudioFormat;
use common::ids::AccountSid;
use common::phone::PhoneNumber;
use secrecy::SecretString;
use std::collections::BTreeSet;
use std::time::Duration;

/// Default Twilio account SID of the sandbox (not a real account).
pub const DEFAULT_ACCOUNT_SID: &str = "AC5a4db0c55a4db0c55a4db0c55a4db0c5";
/// Default auth token of that account.
pub const DEFAULT_AUTH_TOKEN: &str = "sandbox_auth_token_0123456789abcd";
/// Default number the account owns (a fictional Australian mobile, valid per libphonenumber).
pub const DEFAULT_FROM_NUMBER: &str = "+61491571266";
/// Default ElevenLabs API key (`xi-api-key`).
pub const DEFAULT_XI_API_KEY: &str = "sandbox_xi_api_key";
/// Default agent id.
pub const DEFAULT_AGENT_ID: &str = "agent_sandbox0000000000000001";
/// Default secret of the `post_call_transcription` webhook signature.
pub const DEFAULT_WEBHOOK_SECRET: &str = "wsec_sandbox";
/// Override fields allowed by default (paths inside `conversation_config_override`).
pub const DEFAULT_ALLOWED_OVERRIDES: [&str; 4] =
    ["agent.prompt.prompt", "agent.first_message", "agent.language", "tts.voice_id"];

/// Everything the sandbox needs to run.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Base URL others use to reach the sandbox (recording URLs, the signed WebSocket URL).
    /// `None`: `http://<listener address>`.
    pub public_url: Option<String>,
    /// Simulated Twilio accounts.
    pub accounts: Vec<TwilioAccount>,
    /// Simulated ElevenLabs agent.
    pub elevenlabs: ElevenLabsConfig,
    /// Divides ringing, AMD, queue and callback delays (2.0 = twice as fast). Audio is always
    /// real time.
    pub speed: f64,
    /// Calls per second per account; `None` = unlimited.
    pub cps_limit: Option<u32>,
    /// What happens to a call over the CPS limit.
    pub cps_mode: CpsMode,
    /// Callback delivery faults for idempotency tests; all off by default.
    pub test_modes: CallbackTestModes,
    /// Built-in and custom scenarios, selected by the dialled number.
    pub scenarios: ScenarioBook,
    /// Size limits.
    pub limits: Limits,
    /// How long a `<Connect><Stream>` WebSocket may take to open (including a scenario's
    /// `stream.connect_delay_ms`) before the stream fails with 31901. Real time.
    pub stream_connect_timeout: Duration,
}

/// One simulated Twilio account.
#[derive(Debug, Clone)]
pub struct TwilioAccount {
    /// `AC…`.
    pub sid: AccountSid,
    /// Basic-auth password and the key of every `X-Twilio-Signature`.
    pub auth_token: SecretString,
    /// Numbers usable as `From`.
    pub numbers: Vec<PhoneNumber>,
}

/// The simulated ElevenLabs agent.
#[derive(Debug, Clone)]
pub struct ElevenLabsConfig {
    /// Expected `xi-api-key`.
    pub api_key: SecretString,
    /// The one agent that exists.
    pub agent_id: String,
    /// Override paths the agent's security settings allow (`agent.first_message`, ...).
    pub allowed_overrides: BTreeSet<String>,
    /// `agent_output_audio_format`.
    pub output_format: AudioFormat,
    /// `user_input_audio_format`.
    pub input_format: AudioFormat,
    /// Where `post_call_transcription` is POSTed; `None` = no webhook.
    pub webhook_url: Option<String>,
    /// HMAC key of `ElevenLabs-Signature`.
    pub webhook_secret: SecretString,
    /// Whether the WebSocket requires a token from the signed-URL endpoint.
    pub require_signed_url: bool,
    /// How often the agent pings.
    pub ping_interval: Duration,
    /// How long an unanswered ping is tolerated before closing 1002.
    pub pong_timeout: Duration,
    /// No client input (any message but `pong`) for this long closes 1002
    /// (`transport_receive_timeout`, "no user input for 60 s" in reference §6.7).
    pub idle_timeout: Duration,
    /// A conversation longer than this closes 1000 (`max_duration_exceeded`).
    pub max_duration: Duration,
}

/// CPS behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpsMode {
    /// Answer 429 with code 20429 (request not processed, safe to retry).
    Reject,
    /// Accept and keep the call `queued` until a slot frees (what real Twilio does).
    Queue,
}

/// Twilio callback delivery faults ("test modes").
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CallbackTestModes {
    /// Send every callback twice.
    pub duplicate: bool,
    /// Deliver callbacks with random jitter so they can overtake each other.
    pub shuffle: bool,
    /// Extra delay before every callback, in milliseconds (not scaled by speed).
    pub delay_ms: u64,
}

/// Bounds on memory.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Finished calls and conversations kept for inspection (oldest evicted first).
    pub max_kept: usize,
    /// Recording length cap; audio after it is not recorded.
    pub max_recording_secs: u32,
    /// Calls alive at once; more are refused with 429 / 20429.
    pub max_live_calls: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_kept: 2000, max_recording_secs: 900, max_live_calls: 1000 }
    }
}

impl TwilioAccount {
    /// The default account (see the `DEFAULT_*` constants).
    pub fn default_account() -> Self {
        Self {
            sid: AccountSid::parse(DEFAULT_ACCOUNT_SID).expect("default account SID is valid"),
            auth_token: SecretString::from(DEFAULT_AUTH_TOKEN),
            numbers: vec![PhoneNumber::parse_e164(DEFAULT_FROM_NUMBER).expect("default number is valid")],
        }
    }
}

impl Default for ElevenLabsConfig {
    fn default() -> Self {
        Self {
            api_key: SecretString::from(DEFAULT_XI_API_KEY),
            agent_id: DEFAULT_AGENT_ID.to_owned(),
            allowed_overrides: DEFAULT_ALLOWED_OVERRIDES.iter().map(|s| (*s).to_owned()).collect(),
            output_format: AudioFormat::Ulaw8000,
            input_format: AudioFormat::Ulaw8000,
            webhook_url: None,
            webhook_secret: SecretString::from(DEFAULT_WEBHOOK_SECRET),
            require_signed_url: true,
            ping_interval: Duration::from_secs(3),
            pong_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_duration: Duration::from_secs(600),
        }
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            public_url: None,
            accounts: vec![TwilioAccount::default_account()],
            elevenlabs: ElevenLabsConfig::default(),
            speed: 1.0,
            cps_limit: None,
            cps_mode: CpsMode::Reject,
            test_modes: CallbackTestModes::default(),
            scenarios: ScenarioBook::builtin(),
            limits: Limits::default(),
            stream_connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A setting has an impossible value.
    #[error("invalid setting {name}: {reason}")]
    Invalid {
        /// The setting (environment variable name where applicable).
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl SandboxConfig {
    /// Checks values that would make the simulators misbehave.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |name, reason: &str| Err(ConfigError::Invalid { name, reason: reason.to_owned() });
        if !(self.speed.is_finite() && self.speed > 0.0) {
            return invalid("SANDBOX_SPEED", "must be a positive number");
        }
        if self.accounts.is_empty() {
            return invalid("SANDBOX_TWILIO_ACCOUNT_SID", "at least one account is needed");
        }
        if self.cps_limit == Some(0) {
            return invalid("SANDBOX_CPS_LIMIT", "must be at least 1 (unset it for no limit)");
        }
        if self.stream_connect_timeout.is_zero() {
            return invalid("SANDBOX_STREAM_CONNECT_TIMEOUT_MS", "must be positive");
        }
        if self.elevenlabs.ping_interval.is_zero() {
            return invalid("SANDBOX_EL_PING_INTERVAL_MS", "must be positive");
        }
        Ok(())
    }

    /// Scales a scenario delay (given at real speed) by the speed factor.
    pub fn scaled(&self, ms: u64) -> Duration {
        Duration::from_secs_f64(ms as f64 / 1000.0 / self.speed)
    }
}
