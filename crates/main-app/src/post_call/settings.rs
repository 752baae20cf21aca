//! Settings of live events and post-call processing (the `# post-call / live events` section of
//! `.env.example`), parsed with the rest of [`crate::settings`].

use std::time::Duration;

use crate::amd::{AmdPolicy, MachineAction, UnknownAs};
use crate::retry::Backoff;
use crate::settings::Env;

/// Post-call and live-event settings.
#[derive(Debug, Clone)]
pub struct PostCallSettings {
    /// `AMD_ON_MACHINE` (`hangup`|`voicemail`, default `hangup`), `AMD_VOICEMAIL_MESSAGE`
    /// (default none: the agent leaves the message), `AMD_UNKNOWN_AS` (`human`|`machine`, default
    /// `human`): the policy of calls placed without one.
    pub amd_policy: AmdPolicy,
    /// `POST_CALL_WAIT_SECS` (default 300): after a conversation ends, how long to wait for
    /// ElevenLabs' post-call data before finalizing the call without it.
    pub post_call_wait: Duration,
    /// `ELEVENLABS_WEBHOOK_TOLERANCE_SECS` (default 1800): how far an ElevenLabs signature's
    /// timestamp may be from our clock, either way.
    pub webhook_tolerance_secs: i64,
    /// `SOCKETIO_WEBSOCKET_ONLY` (default false): refuse HTTP long-polling, for several instances
    /// behind a proxy without sticky sessions.
    pub socketio_websocket_only: bool,
    /// `RECORDING_FORMAT` (`mp3`|`wav`, default `mp3`): what `/api/recordings/{sid}/audio` serves
    /// unless `?format=` says otherwise.
    pub recording_format: String,
    /// CRM delivery.
    pub crm: CrmSettings,
}

/// CRM outbox settings.
#[derive(Debug, Clone)]
pub struct CrmSettings {
    /// `CRM_MAX_ATTEMPTS` (default 8): attempts before a delivery is dead-lettered.
    /// `CRM_RETRY_BASE_MS` (default 30000) and `CRM_RETRY_MAX_SECS` (default 3600): the backoff.
    pub backoff: Backoff,
    /// `CRM_TIMEOUT_SECS` (default 10): one attempt's deadline.
    pub timeout: Duration,
    /// `CRM_POLL_MS` (default 1000): how often the outbox looks for due deliveries.
    pub poll_interval: Duration,
}

/// Parses the section, recording problems in `env`.
pub fn parse(env: &mut Env<'_>) -> PostCallSettings {
    let on_machine = match env.optional("AMD_ON_MACHINE").as_deref() {
        None | Some("hangup") => MachineAction::Hangup,
        Some("voicemail") => MachineAction::Voicemail,
        Some(other) => {
            env.problems.push(format!("AMD_ON_MACHINE must be hangup or voicemail, got {other:?}"));
            MachineAction::Hangup
        }
    };
    let unknown_as = match env.optional("AMD_UNKNOWN_AS").as_deref() {
        None | Some("human") => UnknownAs::Human,
        Some("machine") => UnknownAs::Machine,
        Some(other) => {
            env.problems.push(format!("AMD_UNKNOWN_AS must be human or machine, got {other:?}"));
            UnknownAs::Human
        }
    };
    let amd_policy =
        AmdPolicy { on_machine, voicemail_message: env.optional("AMD_VOICEMAIL_MESSAGE"), unknown_as };
    if let Err(e) = amd_policy.validate() {
        env.problems.push(format!("AMD_VOICEMAIL_MESSAGE: {e}"));
    }
    let recording_format = env.optional("RECORDING_FORMAT").unwrap_or_else(|| "mp3".into());
    if !matches!(recording_format.as_str(), "mp3" | "wav") {
        env.problems.push(format!("RECORDING_FORMAT must be mp3 or wav, got {recording_format:?}"));
    }
    let max_attempts: u32 = env.parsed("CRM_MAX_ATTEMPTS", 8);
    if max_attempts == 0 {
        env.problems.push("CRM_MAX_ATTEMPTS must be at least 1".into());
    }
    let crm = CrmSettings {
        backoff: Backoff {
            base: Duration::from_millis(env.parsed("CRM_RETRY_BASE_MS", 30_000)),
            factor: 2.0,
            max: Duration::from_secs(env.parsed("CRM_RETRY_MAX_SECS", 3600)),
            max_attempts,
        },
        timeout: Duration::from_secs(env.parsed("CRM_TIMEOUT_SECS", 10)),
        poll_interval: Duration::from_millis(env.parsed::<u64>("CRM_POLL_MS", 1000).max(10)),
    };
    PostCallSettings {
        amd_policy,
        post_call_wait: Duration::from_secs(env.parsed("POST_CALL_WAIT_SECS", 300)),
        webhook_tolerance_secs: env.parsed("ELEVENLABS_WEBHOOK_TOLERANCE_SECS", 1800),
        socketio_websocket_only: env.flag("SOCKETIO_WEBSOCKET_ONLY", false),
        recording_format,
        crm,
    }
}
