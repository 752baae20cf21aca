//! ElevenLabs Agents: the conversation WebSocket (protocol reference §6) and the post-call
//! webhook and REST models (§7).
//!
//! [`FromAgent`] is what the agent server sends (media-proxy parses it, the simulated ElevenLabs
//! produces it); [`ToAgent`] and [`UserAudioChunk`] are what a client sends. Unknown message types
//! parse as [`FromAgent::Other`] so a new server event never breaks a call.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Audio encodings an agent may use in either direction (§6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioFormat {
    /// G.711 μ-law 8 kHz mono: byte-identical to Twilio payloads.
    Ulaw8000,
    /// Signed 16-bit little-endian mono PCM at the given rate.
    Pcm(u32),
}

impl AudioFormat {
    /// Parses the wire name (`ulaw_8000`, `pcm_16000`, ...).
    pub fn parse(s: &str) -> Option<Self> {
        if s == "ulaw_8000" {
            return Some(Self::Ulaw8000);
        }
        let rate: u32 = s.strip_prefix("pcm_")?.parse().ok()?;
        matches!(rate, 8000 | 16000 | 22050 | 24000 | 44100 | 48000).then_some(Self::Pcm(rate))
    }

    /// The wire name.
    pub fn name(self) -> String {
        match self {
            Self::Ulaw8000 => "ulaw_8000".to_owned(),
            Self::Pcm(rate) => format!("pcm_{rate}"),
        }
    }

    /// Samples per second.
    pub fn sample_rate(self) -> u32 {
        match self {
            Self::Ulaw8000 => 8000,
            Self::Pcm(rate) => rate,
        }
    }
}

/// `GET /v1/convai/conversation/get-signed-url` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedUrlResponse {
    /// `wss://…/v1/convai/conversation?agent_id=…&token=…`, valid 15 minutes.
    pub signed_url: String,
}

/// Caller audio to the agent. This message has no `type` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAudioChunk {
    /// Base64 audio in the agent's `user_input_audio_format`.
    pub user_audio_chunk: String,
}

/// Typed client → agent messages. (The initiation variant is large, but it is sent once per
/// conversation, so boxing it would only add noise.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToAgent {
    /// Must be the first message: overrides and dynamic variables.
    ConversationInitiationClientData(InitiationData),
    /// Answer to a `ping`, echoing its `event_id`.
    Pong {
        /// The ping's id.
        event_id: u64,
    },
    /// Result of a client tool call.
    ClientToolResult {
        /// The call being answered.
        tool_call_id: String,
        /// The result text.
        result: String,
        /// Whether the tool failed.
        is_error: bool,
    },
    /// Non-interrupting context for the agent.
    ContextualUpdate {
        /// The text.
        text: String,
    },
    /// Text treated like spoken user input.
    UserMessage {
        /// The text.
        text: String,
    },
    /// Resets the turn timeout.
    UserActivity,
}

/// Any client → agent frame, as the simulated agent reads it.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ClientFrame {
    /// Caller audio.
    Audio(UserAudioChunk),
    /// A typed message.
    Message(ToAgent),
}

/// Parses a client → agent text frame.
pub fn parse_client_frame(text: &str) -> Result<ClientFrame, serde_json::Error> {
    if text.contains("\"user_audio_chunk\"") {
        serde_json::from_str(text).map(ClientFrame::Audio)
    } else {
        serde_json::from_str(text).map(ClientFrame::Message)
    }
}

/// `conversation_initiation_client_data` body (§6.3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InitiationData {
    /// Per-conversation overrides; each overridden field must be allowed in the agent's settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_config_override: Option<ConfigOverride>,
    /// Extra body for a custom LLM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_llm_extra_body: Option<Value>,
    /// `{{name}}` values for the agent's prompt and first message.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dynamic_variables: BTreeMap<String, Value>,
    /// An id of the end user, shown in ElevenLabs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Who opened the conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_info: Option<SourceInfo>,
}

/// Overrides of the agent configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigOverride {
    /// Agent overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentOverride>,
    /// Voice overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tts: Option<TtsOverride>,
    /// Anything else the agent accepts, kept verbatim.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// `conversation_config_override.agent`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentOverride {
    /// The system prompt: `agent.prompt.prompt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<PromptOverride>,
    /// What the agent says first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_message: Option<String>,
    /// Conversation language (`en`, `de`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Anything else, kept verbatim.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// `conversation_config_override.agent.prompt`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PromptOverride {
    /// The prompt text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Anything else, kept verbatim.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// `conversation_config_override.tts`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TtsOverride {
    /// Voice id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_id: Option<String>,
    /// Anything else, kept verbatim.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// `source_info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Client name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Client version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Agent → client messages (§6.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromAgent {
    /// First server message: conversation id and audio formats.
    ConversationInitiationMetadata {
        /// Payload.
        conversation_initiation_metadata_event: InitiationMetadata,
    },
    /// Agent speech.
    Audio {
        /// Current shape.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        audio_event: Option<AudioEvent>,
        /// Legacy shape `{"audio":{"chunk":"…"}}`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        audio: Option<LegacyAudio>,
    },
    /// Final transcript of what the caller said.
    UserTranscript {
        /// Payload.
        user_transcription_event: UserTranscription,
    },
    /// Provisional transcript.
    TentativeUserTranscript {
        /// Payload.
        tentative_user_transcription_event: UserTranscription,
    },
    /// Full text of the agent's turn, sent with its first audio.
    AgentResponse {
        /// Payload.
        agent_response_event: AgentResponseEvent,
    },
    /// The agent's turn text, truncated where the caller interrupted.
    AgentResponseCorrection {
        /// Payload.
        agent_response_correction_event: AgentResponseCorrectionEvent,
    },
    /// The caller talked over the agent: stop playback, drop audio with `event_id` ≤ this one.
    Interruption {
        /// Payload.
        interruption_event: EventId,
    },
    /// Keep-alive; answer with `pong` at once.
    Ping {
        /// Payload.
        ping_event: PingEvent,
    },
    /// The agent wants a client-side tool run.
    ClientToolCall {
        /// Payload.
        client_tool_call: ClientToolCall,
    },
    /// A server-side tool ran (e.g. `end_call`).
    AgentToolResponse {
        /// Payload.
        agent_tool_response: AgentToolResponse,
    },
    /// Voice activity score.
    VadScore {
        /// Payload.
        vad_score_event: Value,
    },
    /// An error, usually followed by a close.
    Error {
        /// Payload.
        error_event: ErrorEvent,
    },
    /// Any message type this build does not know.
    #[serde(other)]
    Other,
}

/// `conversation_initiation_metadata_event`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitiationMetadata {
    /// The conversation id.
    pub conversation_id: String,
    /// What the agent sends (e.g. `ulaw_8000`, `pcm_16000`).
    pub agent_output_audio_format: String,
    /// What the agent expects from us.
    #[serde(default = "default_input_format")]
    pub user_input_audio_format: String,
}

fn default_input_format() -> String {
    "pcm_16000".to_owned()
}

/// `audio_event`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudioEvent {
    /// Base64 audio in `agent_output_audio_format`.
    pub audio_base_64: String,
    /// Monotonic id, shared with the turn's `agent_response`.
    pub event_id: u64,
}

/// Legacy `audio` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyAudio {
    /// Base64 audio.
    pub chunk: String,
}

/// A user transcription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserTranscription {
    /// The text.
    pub user_transcript: String,
    /// Event id.
    #[serde(default)]
    pub event_id: u64,
}

/// `agent_response_event`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentResponseEvent {
    /// The text.
    pub agent_response: String,
    /// Event id.
    #[serde(default)]
    pub event_id: u64,
}

/// `agent_response_correction_event`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentResponseCorrectionEvent {
    /// What the agent meant to say.
    pub original_agent_response: String,
    /// What was said before the interruption.
    pub corrected_agent_response: String,
    /// Event id.
    #[serde(default)]
    pub event_id: u64,
}

/// A payload carrying only an event id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventId {
    /// The id.
    pub event_id: u64,
}

/// `ping_event`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingEvent {
    /// Echo this in the pong.
    pub event_id: u64,
    /// Estimated round trip, if known.
    #[serde(default)]
    pub ping_ms: Option<u64>,
}

/// `client_tool_call`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientToolCall {
    /// Tool name.
    pub tool_name: String,
    /// Id to answer with.
    pub tool_call_id: String,
    /// Arguments.
    #[serde(default)]
    pub parameters: Value,
    /// Event id.
    #[serde(default)]
    pub event_id: u64,
}

/// `agent_tool_response`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentToolResponse {
    /// Tool name (`end_call`, `skip_turn`, ...).
    pub tool_name: String,
    /// Call id.
    #[serde(default)]
    pub tool_call_id: String,
    /// `system`, `client`, ...
    #[serde(default)]
    pub tool_type: String,
    /// Whether it failed.
    #[serde(default)]
    pub is_error: bool,
    /// Event id.
    #[serde(default)]
    pub event_id: u64,
}

/// `error_event`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEvent {
    /// Close code the server will use (1000, 1002, 1008, 1011).
    #[serde(default)]
    pub code: u16,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
    /// Machine-readable type (`override_error`, `llm_timeout`, ...).
    #[serde(default)]
    pub error_type: String,
}

/// Close codes the agent server uses (§6.7).
pub mod close_code {
    /// Normal: the agent ended the conversation or the maximum duration passed.
    pub const NORMAL: u16 = 1000;
    /// Operational failure (timeouts, LLM/TTS errors, no input for 60 s).
    pub const PROTOCOL: u16 = 1002;
    /// Bad input: invalid message, override not allowed, missing dynamic variable.
    pub const POLICY: u16 = 1008;
    /// Unexpected server error.
    pub const INTERNAL: u16 = 1011;
}

/// A post-call webhook envelope (§7.3–7.5). `data` is parsed per `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEnvelope {
    /// `post_call_transcription`, `post_call_audio`, `call_initiation_failure`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Unix seconds.
    pub event_timestamp: i64,
    /// The payload.
    pub data: Value,
}

/// A conversation as `GET /v1/convai/conversations/{id}` and `post_call_transcription` carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// Agent id.
    pub agent_id: String,
    /// Conversation id.
    pub conversation_id: String,
    /// `initiated|in-progress|processing|done|failed`.
    pub status: String,
    /// End-user id.
    #[serde(default)]
    pub user_id: Option<String>,
    /// Turns in order.
    #[serde(default)]
    pub transcript: Vec<TranscriptTurn>,
    /// Duration, cost, termination reason, phone call.
    pub metadata: ConversationMetadata,
    /// The agent's evaluation; absent while processing.
    #[serde(default)]
    pub analysis: Option<Analysis>,
    /// What the client sent at initiation (dynamic variables live here).
    #[serde(default)]
    pub conversation_initiation_client_data: Option<InitiationData>,
    /// Whether audio is stored.
    #[serde(default)]
    pub has_audio: bool,
    /// Whether the caller's audio is stored.
    #[serde(default)]
    pub has_user_audio: bool,
    /// Whether the agent's audio is stored.
    #[serde(default)]
    pub has_response_audio: bool,
}

/// One turn of a stored transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptTurn {
    /// `user` or `agent`.
    pub role: String,
    /// The text (absent for pure tool turns).
    #[serde(default)]
    pub message: Option<String>,
    /// Seconds from the start of the call.
    #[serde(default)]
    pub time_in_call_secs: f64,
    /// Whether the caller interrupted this turn.
    #[serde(default)]
    pub interrupted: Option<bool>,
    /// The untruncated text, when interrupted.
    #[serde(default)]
    pub original_message: Option<String>,
    /// Tool calls made in this turn.
    #[serde(default)]
    pub tool_calls: Option<Value>,
    /// Tool results.
    #[serde(default)]
    pub tool_results: Option<Value>,
}

/// Conversation metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationMetadata {
    /// Start, unix seconds.
    #[serde(default)]
    pub start_time_unix_secs: i64,
    /// When the agent accepted, unix seconds.
    #[serde(default)]
    pub accepted_time_unix_secs: Option<i64>,
    /// Length of the conversation.
    #[serde(default)]
    pub call_duration_secs: f64,
    /// Cost in credits.
    #[serde(default)]
    pub cost: Option<f64>,
    /// Why it ended.
    #[serde(default)]
    pub termination_reason: Option<String>,
    /// Main language.
    #[serde(default)]
    pub main_language: Option<String>,
    /// Telephony details.
    #[serde(default)]
    pub phone_call: Option<PhoneCallMetadata>,
    /// `{code, reason}` when the conversation failed.
    #[serde(default)]
    pub error: Option<Value>,
}

/// `metadata.phone_call`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneCallMetadata {
    /// `twilio` or `sip_trunking`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// `outbound`.
    #[serde(default)]
    pub direction: Option<String>,
    /// Our number.
    #[serde(default)]
    pub agent_number: Option<String>,
    /// The callee.
    #[serde(default)]
    pub external_number: Option<String>,
    /// Stream SID.
    #[serde(default)]
    pub stream_sid: Option<String>,
    /// Call SID.
    #[serde(default)]
    pub call_sid: Option<String>,
}

/// The agent's post-call analysis.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Per criterion.
    #[serde(default)]
    pub evaluation_criteria_results: BTreeMap<String, CriterionResult>,
    /// Per data item.
    #[serde(default)]
    pub data_collection_results: BTreeMap<String, DataCollectionResult>,
    /// `success|failure|unknown`.
    #[serde(default)]
    pub call_successful: String,
    /// Summary.
    #[serde(default)]
    pub transcript_summary: String,
    /// Title.
    #[serde(default)]
    pub call_summary_title: Option<String>,
}

/// One evaluation criterion.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionResult {
    /// Criterion id.
    pub criteria_id: String,
    /// `success|failure|unknown`.
    pub result: String,
    /// Why.
    #[serde(default)]
    pub rationale: String,
}

/// One collected data item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataCollectionResult {
    /// Item id.
    pub data_collection_id: String,
    /// The value (any JSON).
    #[serde(default)]
    pub value: Value,
    /// Schema, if any.
    #[serde(default)]
    pub json_schema: Option<Value>,
    /// Why.
    #[serde(default)]
    pub rationale: String,
}

/// `call_initiation_failure` data (§7.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallInitiationFailure {
    /// Agent id.
    pub agent_id: String,
    /// Conversation id.
    pub conversation_id: String,
    /// `busy|no-answer|unknown`.
    pub failure_reason: String,
    /// Provider details.
    #[serde(default)]
    pub metadata: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initiation_uses_the_documented_override_keys() {
        let msg = ToAgent::ConversationInitiationClientData(InitiationData {
            conversation_config_override: Some(ConfigOverride {
                agent: Some(AgentOverride {
                    prompt: Some(PromptOverride { prompt: Some("Be brief".into()), ..Default::default() }),
                    first_message: Some("Hi".into()),
                    language: None,
                    other: BTreeMap::new(),
                }),
                ..Default::default()
            }),
            dynamic_variables: BTreeMap::from([("name".into(), Value::from("Ann"))]),
            ..Default::default()
        });
        let v = serde_json::to_value(&msg).expect("json");
        assert_eq!(v["type"], "conversation_initiation_client_data");
        assert_eq!(v["conversation_config_override"]["agent"]["prompt"]["prompt"], "Be brief");
        assert_eq!(v["conversation_config_override"]["agent"]["first_message"], "Hi");
        assert!(v["conversation_config_override"]["agent"].get("language").is_none());
        assert_eq!(v["dynamic_variables"]["name"], "Ann");
    }

    #[test]
    fn parses_server_messages_and_tolerates_unknown_types() {
        let audio: FromAgent =
            serde_json::from_str(r#"{"type":"audio","audio_event":{"audio_base_64":"AA==","event_id":3}}"#)
                .expect("audio");
        assert!(matches!(audio, FromAgent::Audio { audio_event: Some(AudioEvent { event_id: 3, .. }), .. }));
        let legacy: FromAgent =
            serde_json::from_str(r#"{"type":"audio","audio":{"chunk":"AA=="}}"#).expect("legacy");
        assert!(matches!(legacy, FromAgent::Audio { audio: Some(_), .. }));
        let other: FromAgent =
            serde_json::from_str(r#"{"type":"guardrail_triggered","x":1}"#).expect("other");
        assert_eq!(other, FromAgent::Other);
        let ping: FromAgent =
            serde_json::from_str(r#"{"type":"ping","ping_event":{"event_id":7,"ping_ms":null}}"#)
                .expect("ping");
        assert_eq!(ping, FromAgent::Ping { ping_event: PingEvent { event_id: 7, ping_ms: None } });
    }

    #[test]
    fn client_frames_distinguish_audio_from_messages() {
        let a = parse_client_frame(r#"{"user_audio_chunk":"AAA="}"#).expect("audio");
        assert!(matches!(a, ClientFrame::Audio(_)));
        let p = parse_client_frame(r#"{"type":"pong","event_id":4}"#).expect("pong");
        assert_eq!(p, ClientFrame::Message(ToAgent::Pong { event_id: 4 }));
    }

    #[test]
    fn audio_formats() {
        assert_eq!(AudioFormat::parse("ulaw_8000"), Some(AudioFormat::Ulaw8000));
        assert_eq!(AudioFormat::parse("pcm_16000"), Some(AudioFormat::Pcm(16000)));
        assert_eq!(AudioFormat::parse("pcm_12345"), None);
        assert_eq!(AudioFormat::Pcm(24000).name(), "pcm_24000");
    }

    #[test]
    fn parses_the_reference_post_call_payload() {
        let raw = r#"{"type":"post_call_transcription","event_timestamp":1739537297,"data":{"agent_id":"agent_1","conversation_id":"conv_1","status":"done","user_id":"crm-42","transcript":[{"role":"agent","message":"Hi John!","time_in_call_secs":0,"tool_calls":null,"tool_results":null,"feedback":null,"interrupted":false,"original_message":null,"conversation_turn_metrics":null},{"role":"user","message":"Hello","time_in_call_secs":2}],"metadata":{"start_time_unix_secs":1739537297,"accepted_time_unix_secs":1739537299,"call_duration_secs":22,"cost":296,"termination_reason":"","main_language":"en","text_only":false,"authorization_method":"signed_url","error":null,"phone_call":{"type":"twilio","direction":"outbound","phone_number_id":"x","agent_number":"+612","external_number":"+614","stream_sid":"MZ1","call_sid":"CA1"},"batch_call":null,"conversation_initiation_source":"twilio"},"analysis":{"evaluation_criteria_results":{"goal":{"criteria_id":"goal","result":"success","rationale":"ok"}},"data_collection_results":{"email":{"data_collection_id":"email","value":"a@b.c","json_schema":null,"rationale":"said"}},"call_successful":"success","transcript_summary":"Talked.","call_summary_title":"T"},"conversation_initiation_client_data":{"conversation_config_override":{},"custom_llm_extra_body":{},"dynamic_variables":{"user_name":"John"},"user_id":"crm-42","source_info":{}},"has_audio":true,"has_user_audio":true,"has_response_audio":true}}"#;
        let env: WebhookEnvelope = serde_json::from_str(raw).expect("envelope");
        let conv: Conversation = serde_json::from_value(env.data).expect("conversation");
        assert_eq!(conv.transcript.len(), 2);
        assert_eq!(conv.metadata.call_duration_secs, 22.0);
        let analysis = conv.analysis.expect("analysis");
        assert_eq!(analysis.call_successful, "success");
        assert_eq!(analysis.data_collection_results["email"].value, "a@b.c");
        let vars = conv.conversation_initiation_client_data.expect("client data").dynamic_variables;
        assert_eq!(vars["user_name"], "John");
    }
}
