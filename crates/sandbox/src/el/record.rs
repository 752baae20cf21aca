//! What the simulated ElevenLabs observed about each conversation, for tests and the demo
//! (`GET /sandbox/conversations/{id}`, `SandboxHandle::conversation`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// One line of the transcript as the agent saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnRecord {
    /// `agent` or `user`.
    pub role: String,
    /// What was said (for an interrupted agent turn: the part said before the interruption).
    pub message: String,
    /// The full text of an interrupted agent turn.
    pub original_message: Option<String>,
    /// Whether the caller interrupted this turn.
    pub interrupted: bool,
    /// Seconds since the conversation started.
    pub time_in_call_secs: f64,
    /// `event_id` of the turn.
    pub event_id: u64,
}

/// A webhook request the agent made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// `post_call_transcription`.
    pub kind: String,
    /// Where.
    pub url: String,
    /// HTTP status, if a response came.
    pub http_status: Option<u16>,
    /// Transport error.
    pub error: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The `error` event the agent sent before closing, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentError {
    /// Close code.
    pub code: u16,
    /// `override_error`, `llm_error`, ...
    pub error_type: String,
    /// Message.
    pub message: String,
}

/// Everything observed about one conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationRecord {
    /// `conv_…`.
    pub conversation_id: String,
    /// Agent.
    pub agent_id: String,
    /// `in-progress`, `processing`, `done`, `failed`.
    pub status: String,
    /// Scenario followed.
    pub scenario: String,
    /// The Twilio call this conversation belongs to, when known.
    pub call_sid: Option<String>,
    /// The callee's number, when known.
    pub phone_number: Option<String>,
    /// The raw `conversation_initiation_client_data` message, if one was sent.
    pub initiation: Option<Value>,
    /// Dynamic variables received.
    pub dynamic_variables: BTreeMap<String, Value>,
    /// `conversation_config_override` received.
    pub overrides: Option<Value>,
    /// The first message actually spoken.
    pub first_message: Option<String>,
    /// `agent_output_audio_format`.
    pub output_format: String,
    /// `user_input_audio_format`.
    pub input_format: String,
    /// Transcript in order.
    pub transcript: Vec<TurnRecord>,
    /// `interruption` events sent.
    pub interruptions: u32,
    /// `user_audio_chunk` messages received.
    pub user_audio_chunks: u64,
    /// Bytes of caller audio received (decoded).
    pub user_audio_bytes: u64,
    /// `audio` events sent.
    pub agent_audio_chunks: u64,
    /// `ping` events sent.
    pub pings_sent: u64,
    /// `pong` messages received (with a matching id).
    pub pongs_received: u64,
    /// Messages from the client that could not be understood.
    pub invalid_messages: u64,
    /// Whether `agent_tool_response` `end_call` was sent.
    pub end_call_sent: bool,
    /// The error event sent, if any.
    pub error: Option<AgentError>,
    /// Close code of the WebSocket.
    pub close_code: Option<u16>,
    /// `agent` or `client`: who closed.
    pub closed_by: Option<String>,
    /// `metadata.termination_reason`.
    pub termination_reason: Option<String>,
    /// Webhook requests.
    pub webhook_deliveries: Vec<WebhookDelivery>,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub ended_at: Option<DateTime<Utc>>,
    /// The conversation as `GET /v1/convai/conversations/{id}` serves it, once ended.
    pub data: Option<Value>,
}

impl ConversationRecord {
    /// Whether the WebSocket has closed.
    pub fn is_finished(&self) -> bool {
        self.ended_at.is_some()
    }

    /// Transcript lines of one role.
    pub fn lines(&self, role: &str) -> Vec<&str> {
        self.transcript.iter().filter(|t| t.role == role).map(|t| t.message.as_str()).collect()
    }
}
