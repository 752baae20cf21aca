//! Scenarios: what happens on a call, chosen by the dialled number.
//!
//! A [`Scenario`] says how the dial goes (answer, busy, no answer, failed, and the delays), who
//! answers (a person, a voicemail box, a fax, silence), how the person behaves (interrupts, hangs
//! up mid-sentence), how the agent behaves (ends the call, fails at connect or mid-call), how
//! the media stream misbehaves (late connect, refused upgrade, jittered or bursty frames) and the
//! shared [`Script`]. The built-in table uses the fictional Australian mobile range
//! `+61 491 570 006 … 159` (reserved for drama); any other valid number gets the normal
//! conversation. Custom scenarios are JSON objects that extend a built-in one (see
//! [`ScenarioBook::load_file`] and `docs/sandbox.md`).

use crate::script::Script;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

/// How the dial ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DialOutcome {
    /// The callee picks up after `ring_ms`.
    Answer,
    /// The line is busy after `ring_ms`.
    Busy,
    /// It rings until the call's `Timeout`.
    NoAnswer,
    /// The number is unreachable: `failed` without ringing.
    Failed,
}

/// Who or what picks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalleeKind {
    /// A person following the script.
    Human,
    /// A voicemail box: greeting, optional beep, then it records.
    Voicemail,
    /// A fax machine (CNG tones).
    Fax,
    /// A person who never says anything.
    Silent,
}

/// How the person behaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HumanBehaviour {
    /// Pause between the agent's speech ending and the reply.
    pub think_ms: u64,
    /// Start talking this long after the agent starts (talks over it), instead of waiting.
    pub interrupt_after_ms: Option<u64>,
    /// Hang up halfway through this user line (0-based index into the script's turns).
    pub hangup_mid_line: Option<usize>,
    /// Hang up after the agent's reply to the last line (otherwise stay on the line).
    pub hangup_after_script: bool,
    /// Hang up after this long without hearing the agent.
    pub patience_ms: u64,
}

impl Default for HumanBehaviour {
    fn default() -> Self {
        Self {
            think_ms: 400,
            interrupt_after_ms: None,
            hangup_mid_line: None,
            hangup_after_script: true,
            patience_ms: 12_000,
        }
    }
}

/// How the voicemail box behaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VoicemailBehaviour {
    /// The greeting.
    pub greeting: String,
    /// Whether a beep follows the greeting.
    pub beep: bool,
    /// Hang up after this much silence once a message started.
    pub silence_hangup_ms: u64,
    /// Hang up after this long in any case.
    pub max_message_ms: u64,
}

impl Default for VoicemailBehaviour {
    fn default() -> Self {
        Self {
            greeting: "Hi, you have reached Sam. Please leave a message after the tone.".to_owned(),
            beep: true,
            silence_hangup_ms: 4000,
            max_message_ms: 60_000,
        }
    }
}

/// A failure the agent produces on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AgentFault {
    /// After the initiation message, before metadata: `error` then close with `code`.
    AtConnect {
        /// Close code (1002, 1008, 1011).
        code: u16,
    },
    /// After this many user turns: `error` then close with `code`.
    MidCall {
        /// User turns heard before failing.
        after_user_turns: usize,
        /// Close code.
        code: u16,
    },
}

impl AgentFault {
    /// The close code the agent fails with.
    pub fn code(self) -> u16 {
        match self {
            Self::AtConnect { code } | Self::MidCall { code, .. } => code,
        }
    }

    /// The `error` event's `error_type` and message that precede the close, per the close-code
    /// table of reference §6.7: 1002 an operational failure (`llm_error`), 1008 a contract
    /// failure (`invalid_message`), anything else an unexpected crash (`unknown_websocket_crash`).
    pub fn error(self) -> (&'static str, &'static str) {
        match self.code() {
            1002 => ("llm_error", "The LLM request failed"),
            1008 => ("invalid_message", "Invalid message"),
            _ => ("unknown_websocket_crash", "Unexpected server error"),
        }
    }
}

/// How the agent behaves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentBehaviour {
    /// After its last scripted line has played: `agent_tool_response` `end_call`, close 1000.
    pub end_call_after_script: bool,
    /// Deliberate failure.
    pub fault: Option<AgentFault>,
}

/// How the Twilio side of `<Connect><Stream>` misbehaves: the fault modes of reference §5.6
/// (delayed connect, a non-101 answer, jittered frames). All off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StreamBehaviour {
    /// Wait this long (real time, not scaled) before sending the WebSocket upgrade, as a slow
    /// network would. The wait counts against the connect timeout
    /// ([`crate::SandboxConfig::stream_connect_timeout`], 10 s): a delay that reaches it fails
    /// the stream with 31901 before the server sees anything.
    pub connect_delay_ms: u64,
    /// Act as if the upgrade had been answered with this HTTP status instead of 101 (a proxy in
    /// front of the server refusing it): the stream fails with 31920, the server sees no request
    /// and the TwiML after `</Connect>` runs, as for a real refusal.
    pub upgrade_status: Option<u16>,
    /// Hold every outgoing message back a random 0..=`jitter_ms` (real time), keeping their
    /// order, so frames arrive bunched and spread; `timestamp`s stay on the 20 ms clock.
    pub jitter_ms: u64,
    /// Send the callee's frames in bursts of this many, back to back, once per
    /// `burst_frames` × 20 ms (0 or 1: one per 20 ms tick).
    pub burst_frames: u32,
}

/// Everything that happens on one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Scenario {
    /// Short name (`normal`, `busy`, ...).
    pub name: String,
    /// One line for the table.
    pub description: String,
    /// How the dial ends.
    pub dial: DialOutcome,
    /// `queued` → `initiated` delay (scaled by speed).
    pub queue_ms: u64,
    /// `initiated` → `ringing` delay (scaled).
    pub initiate_ms: u64,
    /// Ringing time before answer or busy (scaled).
    pub ring_ms: u64,
    /// Who picks up.
    pub callee: CalleeKind,
    /// The person's behaviour.
    pub human: HumanBehaviour,
    /// The voicemail box's behaviour.
    pub voicemail: VoicemailBehaviour,
    /// Forces the AMD result (`human`, `machine_start`, ...) instead of deriving it from `callee`.
    pub answered_by: Option<String>,
    /// AMD decision time (scaled); default per callee kind.
    pub amd_delay_ms: Option<u64>,
    /// The agent's behaviour.
    pub agent: AgentBehaviour,
    /// Media stream faults.
    pub stream: StreamBehaviour,
    /// The shared script.
    pub script: Script,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            name: "normal".to_owned(),
            description: "A person answers, has the scripted conversation and hangs up after the goodbye."
                .to_owned(),
            dial: DialOutcome::Answer,
            queue_ms: 200,
            initiate_ms: 600,
            ring_ms: 3000,
            callee: CalleeKind::Human,
            human: HumanBehaviour::default(),
            voicemail: VoicemailBehaviour::default(),
            answered_by: None,
            amd_delay_ms: None,
            agent: AgentBehaviour::default(),
            stream: StreamBehaviour::default(),
            script: Script::default(),
        }
    }
}

/// A scenario bound to the number that selects it.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberedScenario {
    /// E.164 number.
    pub number: String,
    /// The scenario.
    pub scenario: Arc<Scenario>,
}

/// The scenario table.
#[derive(Debug, Clone)]
pub struct ScenarioBook {
    entries: Vec<NumberedScenario>,
    default: Arc<Scenario>,
}

/// Why a scenario file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioFileError {
    /// The file could not be read.
    #[error("cannot read scenario file: {0}")]
    Io(#[from] std::io::Error),
    /// The JSON is malformed or has a bad field.
    #[error("invalid scenario file: {0}")]
    Json(#[from] serde_json::Error),
    /// A semantic problem.
    #[error("invalid scenario {index}: {reason}")]
    Invalid {
        /// Position in the file.
        index: usize,
        /// What is wrong.
        reason: String,
    },
}

impl ScenarioBook {
    /// The built-in table (see [`crate::scenario::builtin`]).
    pub fn builtin() -> Self {
        Self { entries: builtin::table(), default: Arc::new(Scenario::default()) }
    }

    /// Scenario for a dialled number: an exact table entry, else the normal conversation.
    pub fn lookup(&self, number: &str) -> Arc<Scenario> {
        self.entries
            .iter()
            .find(|e| e.number == number)
            .map_or_else(|| self.default.clone(), |e| e.scenario.clone())
    }

    /// All numbered scenarios, in table order.
    pub fn entries(&self) -> &[NumberedScenario] {
        &self.entries
    }

    /// The scenario used for numbers not in the table.
    pub fn default_scenario(&self) -> Arc<Scenario> {
        self.default.clone()
    }

    /// A built-in or custom scenario by name.
    pub fn by_name(&self, name: &str) -> Option<Arc<Scenario>> {
        self.entries.iter().find(|e| e.scenario.name == name).map(|e| e.scenario.clone())
    }

    /// Adds or replaces the scenario of a number.
    pub fn insert(&mut self, number: &str, scenario: Scenario) {
        let scenario = Arc::new(scenario);
        match self.entries.iter_mut().find(|e| e.number == number) {
            Some(e) => e.scenario = scenario,
            None => self.entries.push(NumberedScenario { number: number.to_owned(), scenario }),
        }
    }

    /// Loads custom scenarios from a JSON file: `{"scenarios":[{"number":"+61491570150",
    /// "extends":"interrupter","name":"…", …any Scenario field…}]}`. Each entry is the named
    /// built-in scenario (default `normal`) with the given fields merged over it.
    pub fn load_file(&mut self, path: &Path) -> Result<(), ScenarioFileError> {
        let text = std::fs::read_to_string(path)?;
        self.load_json(&text)
    }

    /// [`ScenarioBook::load_file`] on a string.
    pub fn load_json(&mut self, text: &str) -> Result<(), ScenarioFileError> {
        #[derive(Deserialize)]
        struct File {
            scenarios: Vec<serde_json::Map<String, Value>>,
        }
        let file: File = serde_json::from_str(text)?;
        for (index, mut entry) in file.scenarios.into_iter().enumerate() {
            let invalid = |reason: String| ScenarioFileError::Invalid { index, reason };
            let number = match entry.remove("number") {
                Some(Value::String(n)) => common::phone::PhoneNumber::parse_e164(&n)
                    .map_err(|e| invalid(format!("number {n}: {e}")))?
                    .to_string(),
                _ => return Err(invalid("missing \"number\" (E.164 string)".to_owned())),
            };
            let base_name = match entry.remove("extends") {
                Some(Value::String(b)) => b,
                None => "normal".to_owned(),
                Some(_) => return Err(invalid("\"extends\" must be a scenario name".to_owned())),
            };
            let base = if base_name == "normal" {
                self.default.clone()
            } else {
                self.by_name(&base_name)
                    .ok_or_else(|| invalid(format!("unknown base scenario {base_name}")))?
            };
            let mut merged = serde_json::to_value(base.as_ref())?;
            merge(&mut merged, Value::Object(entry));
            let scenario: Scenario = serde_json::from_value(merged)?;
            self.insert(&number, scenario);
        }
        Ok(())
    }
}

/// Deep-merges `patch` into `target` (objects merge key by key; anything else replaces).
fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                merge(t.entry(k).or_insert(Value::Null), v);
            }
        }
        (t, p) => *t = p,
    }
}

pub mod builtin;
