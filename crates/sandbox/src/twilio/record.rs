//! What the simulated Twilio observed about each call, for tests and the demo.
//!
//! A [`CallRecord`] is updated by the call's actor as things happen and served as JSON at
//! `GET /sandbox/calls/{sid}` (and returned by `SandboxHandle::call`). All types are
//! `Deserialize` too, so a client of the HTTP inspection API can reuse them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// REST `Status=completed` on an answered call.
    RestCompleted,
    /// REST `Status=canceled` (or `completed`) before the call was answered.
    RestCanceled,
    /// A `<Hangup/>` verb.
    TwimlHangup,
    /// A `<Reject/>` verb.
    TwimlReject,
    /// The TwiML ran out of verbs.
    TwimlEnd,
    /// The TwiML could not be fetched or parsed (and no fallback worked).
    TwimlError,
    /// The callee (person, voicemail box, fax) hung up.
    CalleeHangup,
    /// `TimeLimit` was reached.
    TimeLimit,
    /// Rang until `Timeout`.
    NoAnswer,
    /// The line was busy.
    Busy,
    /// The number was unreachable.
    Failed,
    /// The sandbox shut down.
    Shutdown,
}

/// A change of call status (including the callback-only `initiated`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// Twilio status string.
    pub status: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// One HTTP request the simulated Twilio made to a callback URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackLog {
    /// `status`, `amd`, `recording`.
    pub kind: String,
    /// The URL requested (for GET, including the parameters).
    pub url: String,
    /// `POST` or `GET`.
    pub method: String,
    /// Parameters sent, in order.
    pub params: Vec<(String, String)>,
    /// HTTP status of the response, if one came.
    pub http_status: Option<u16>,
    /// Transport error, if any.
    pub error: Option<String>,
    /// Whether this is an injected duplicate (test mode).
    pub duplicate: bool,
    /// When the request was sent.
    pub at: DateTime<Utc>,
}

/// One TwiML document the call executed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwimlFetch {
    /// `url`, `inline`, `fallback`, `redirect`, `action`.
    pub source: String,
    /// The URL fetched (absent for inline TwiML).
    pub url: Option<String>,
    /// HTTP status of the fetch.
    pub http_status: Option<u16>,
    /// The document.
    pub body: Option<String>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A mark echoed to the stream server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkEcho {
    /// The mark's name.
    pub name: String,
    /// Echoed because of a `clear` (not because playback reached it).
    pub cleared: bool,
}

/// One `<Connect><Stream>` session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamStats {
    /// `MZ…`.
    pub stream_sid: String,
    /// The URL connected to (query string stripped, as Twilio does).
    pub url: String,
    /// The `<Parameter>`s sent in `start`.
    pub parameters: BTreeMap<String, String>,
    /// Whether the WebSocket handshake succeeded.
    pub connected: bool,
    /// Twilio error code when it failed (31901 timeout, 31902 refused, 31920 handshake).
    pub error_code: Option<u32>,
    /// The HTTP status that answered the upgrade instead of 101 (with 31920).
    #[serde(default)]
    pub http_status: Option<u16>,
    /// Callee media frames sent to the server.
    pub frames_sent: u64,
    /// Frames not sent because the socket could not keep up.
    pub frames_dropped: u64,
    /// `media` messages received from the server.
    pub media_received: u64,
    /// μ-law bytes received.
    pub bytes_received: u64,
    /// μ-law bytes actually played to the callee.
    pub bytes_played: u64,
    /// Bytes discarded by `clear`.
    pub bytes_cleared: u64,
    /// `mark` messages received.
    pub marks_received: u64,
    /// Marks echoed, in order (capped at 5000 entries).
    pub mark_echoes: Vec<MarkEcho>,
    /// `clear` messages received.
    pub clears_received: u64,
    /// Messages that arrived before `start` was sent.
    pub early_messages: u64,
    /// Messages with a `streamSid` other than this stream's.
    pub wrong_stream_sid: u64,
    /// Messages that were not valid JSON of a known event.
    pub invalid_messages: u64,
    /// Who ended the stream: `server_closed`, `call_ended`, `redirect`, `connect_failed`.
    pub ended_by: Option<String>,
    /// Close code the server sent, if it closed.
    pub close_code: Option<u16>,
}

/// What the call asked for at creation (the parts tests look at).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRequest {
    /// `Url`.
    pub url: Option<String>,
    /// `Twiml` given inline.
    pub twiml: Option<String>,
    /// `StatusCallback`.
    pub status_callback: Option<String>,
    /// `StatusCallbackEvent` values.
    pub status_callback_events: Vec<String>,
    /// `Record`.
    pub record: bool,
    /// `MachineDetection`.
    pub machine_detection: Option<String>,
    /// `AsyncAmd`.
    pub async_amd: bool,
    /// `Timeout` in seconds.
    pub timeout_secs: u32,
    /// `TimeLimit` in seconds.
    pub time_limit_secs: u32,
}

/// The call's recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingSummary {
    /// `RE…`.
    pub sid: String,
    /// `in-progress` or `completed`.
    pub status: String,
    /// Whole seconds, once completed.
    pub duration_secs: Option<u64>,
}

/// Everything observed about one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// `CA…`.
    pub sid: String,
    /// `AC…`.
    pub account_sid: String,
    /// Dialled number.
    pub to: String,
    /// Caller id.
    pub from: String,
    /// Scenario name.
    pub scenario: String,
    /// What was requested.
    pub request: CallRequest,
    /// Current resource status (`queued`, `ringing`, `in-progress`, terminal).
    pub status: String,
    /// Every status, in order.
    pub status_history: Vec<StatusChange>,
    /// Every callback request.
    pub callbacks: Vec<CallbackLog>,
    /// Every TwiML document executed.
    pub twiml: Vec<TwimlFetch>,
    /// Texts of `<Say>` verbs played.
    pub says: Vec<String>,
    /// Media stream sessions.
    pub streams: Vec<StreamStats>,
    /// AMD result.
    pub answered_by: Option<String>,
    /// AMD decision time.
    pub amd_duration_ms: Option<u64>,
    /// How the call ended.
    pub end_reason: Option<EndReason>,
    /// The recording, when `Record=true`.
    pub recording: Option<RecordingSummary>,
    /// Whether audio was played to a voicemail box after its greeting (a message was left).
    pub voicemail_message_received: bool,
    /// ElevenLabs conversations attached to this call in the same sandbox.
    pub conversation_ids: Vec<String>,
    /// Redirects applied (REST `Url`/`Twiml` updates).
    pub redirects: u32,
    /// Created.
    pub date_created: DateTime<Utc>,
    /// Answered.
    pub start_time: Option<DateTime<Utc>>,
    /// Ended.
    pub end_time: Option<DateTime<Utc>>,
    /// Seconds from answer to end.
    pub duration_secs: Option<u64>,
}

impl CallRecord {
    /// Whether the call has ended.
    pub fn is_finished(&self) -> bool {
        self.end_reason.is_some()
    }

    /// Callbacks of one kind (`status`, `amd`, `recording`).
    pub fn callbacks_of(&self, kind: &str) -> Vec<&CallbackLog> {
        self.callbacks.iter().filter(|c| c.kind == kind).collect()
    }
}

impl CallbackLog {
    /// The first value of a parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}
