//! Events between components, defined once.
//!
//! - [`media`]: what media-proxy reports to main-app about a live call (`POST
//!   /internal/media-events`, signed with the timestamped HMAC of [`crate::signature`] keyed by
//!   `STREAM_TOKEN_SECRET`), and the call context main-app gives media-proxy.
//! - [`live`]: the Socket.IO rooms, event names and payloads main-app pushes to dashboards.
//!
//! `docs/events.md` documents both with examples.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Whether the caller heard an agent line (learned from Twilio mark echoes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeardState {
    /// Still queued or playing.
    Pending,
    /// Played to the end.
    Heard,
    /// Playback was cut off by an interruption; see `heard_ms`.
    CutOff,
    /// Cleared before any of it played.
    NotHeard,
}

/// Who spoke a transcript line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The AI agent.
    Agent,
    /// The person called.
    User,
}

/// One whole line of a live transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptLine {
    /// Position of the line in the call, from 0; later updates to the same line reuse it.
    pub index: u32,
    /// Speaker.
    pub role: Role,
    /// The text (for a cut-off agent line, the corrected text once known).
    pub text: String,
    /// Milliseconds from the start of the stream.
    pub time_in_call_ms: u64,
    /// For agent lines, what the caller heard; `None` for user lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heard: Option<HeardState>,
    /// For cut-off lines, how many milliseconds of the line's audio played.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heard_ms: Option<u64>,
    /// For agent lines, total milliseconds of audio the agent sent for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_ms: Option<u64>,
}

/// media-proxy ⇄ main-app contract.
pub mod media {
    use super::*;
    use crate::call::Party;
    use crate::ids::CallId;
    use std::collections::BTreeMap;

    /// Path on main-app where media-proxy fetches a call's context, presenting the stream token
    /// as `Authorization: Bearer <token>`. main-app consumes the token (single use) here.
    pub const CONTEXT_PATH: &str = "/internal/stream-context";
    /// Path on main-app where media-proxy posts [`MediaEventBatch`]es.
    pub const EVENTS_PATH: &str = "/internal/media-events";
    /// Header carrying the timestamped HMAC of an events batch.
    pub const SIGNATURE_HEADER: &str = "x-media-proxy-signature";

    /// `GET /internal/stream-context` response: everything the bridge needs for one call.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct CallContext {
        /// Our call id.
        pub call_id: CallId,
        /// Twilio's CallSid, once known.
        #[serde(default)]
        pub call_sid: Option<String>,
        /// The number called (E.164).
        pub to: String,
        /// The contact's name, if known.
        #[serde(default)]
        pub name: Option<String>,
        /// Prompt override (`agent.prompt.prompt`).
        #[serde(default)]
        pub prompt: Option<String>,
        /// First message override (`agent.first_message`).
        #[serde(default)]
        pub first_message: Option<String>,
        /// Language override (`agent.language`).
        #[serde(default)]
        pub language: Option<String>,
        /// Campaign reference.
        #[serde(default)]
        pub campaign_id: Option<String>,
        /// Contact reference.
        #[serde(default)]
        pub contact_id: Option<String>,
        /// The call's custom dynamic variables.
        #[serde(default)]
        pub dynamic_variables: BTreeMap<String, serde_json::Value>,
        /// Maximum call length in seconds, if the call sets one.
        #[serde(default)]
        pub max_duration_secs: Option<u64>,
    }

    /// A batch of events, posted in order.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct MediaEventBatch {
        /// Id of the media-proxy instance (for logs).
        pub instance: String,
        /// The events, in the order they happened.
        pub events: Vec<MediaEvent>,
    }

    /// One event about one call.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct MediaEvent {
        /// The call (from the verified stream token).
        pub call_id: CallId,
        /// Per-call sequence number from 0; main-app ignores a number it has already stored, so
        /// a retried batch changes nothing.
        pub seq: u64,
        /// When it happened.
        pub at: DateTime<Utc>,
        /// What happened.
        #[serde(flatten)]
        pub kind: MediaEventKind,
    }

    /// Why a conversation ended, as media-proxy saw it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum EndReason {
        /// The agent closed normally (its `end_call` tool): goodbye played, hang-up requested.
        AgentEnded,
        /// Twilio sent `stop` or closed the stream: the caller hung up (or the call was ended).
        CallerHungUp,
        /// The agent could not be reached (signed URL, refused, handshake).
        AgentUnavailable,
        /// The agent closed abnormally (1002, 1008, 1011, or the socket dropped).
        AgentError,
        /// No media from Twilio for the configured time.
        Inactivity,
        /// The maximum call duration passed.
        MaxDuration,
        /// media-proxy is shutting down and the drain deadline passed.
        Shutdown,
    }

    impl EndReason {
        /// Who ended the call, for `terminatedBy`.
        pub fn party(self) -> Party {
            match self {
                Self::AgentEnded => Party::Agent,
                Self::CallerHungUp => Party::Caller,
                Self::AgentUnavailable
                | Self::AgentError
                | Self::Inactivity
                | Self::MaxDuration
                | Self::Shutdown => Party::System,
            }
        }

        /// The wire string.
        pub fn as_str(self) -> &'static str {
            match self {
                Self::AgentEnded => "agent_ended",
                Self::CallerHungUp => "caller_hung_up",
                Self::AgentUnavailable => "agent_unavailable",
                Self::AgentError => "agent_error",
                Self::Inactivity => "inactivity",
                Self::MaxDuration => "max_duration",
                Self::Shutdown => "shutdown",
            }
        }
    }

    /// The event variants (`"type"` on the wire).
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    pub enum MediaEventKind {
        /// Twilio's `start` arrived with a valid token.
        StreamStarted {
            /// Twilio stream SID.
            #[serde(rename = "streamSid")]
            stream_sid: String,
            /// Twilio call SID.
            #[serde(rename = "callSid")]
            call_sid: String,
        },
        /// The agent answered `conversation_initiation_metadata`.
        AgentConnected {
            /// ElevenLabs conversation id.
            #[serde(rename = "conversationId")]
            conversation_id: String,
            /// Formats in use.
            #[serde(rename = "agentOutputFormat")]
            agent_output_format: String,
            /// Formats in use.
            #[serde(rename = "userInputFormat")]
            user_input_format: String,
            /// Milliseconds from Twilio `start` to the agent's metadata.
            #[serde(rename = "setupMs")]
            setup_ms: u64,
        },
        /// A new transcript line, or an update to one (same `index`: heard state, corrected text).
        Transcript {
            /// The line.
            line: TranscriptLine,
        },
        /// Caller stopped speaking → first agent audio of the reply sent to Twilio.
        TurnLatency {
            /// Index of the agent line that answered.
            index: u32,
            /// Milliseconds.
            #[serde(rename = "latencyMs")]
            latency_ms: u64,
        },
        /// The conversation ended; when `hangupRequested`, main-app must end the call through
        /// Twilio's REST API (closing the stream alone does not reliably end it).
        ConversationEnded {
            /// Why.
            reason: EndReason,
            /// Detail (close code, error type).
            #[serde(default)]
            detail: Option<String>,
            /// Ask main-app to hang up the call.
            #[serde(rename = "hangupRequested")]
            hangup_requested: bool,
        },
        /// Something went wrong that operators should see.
        Error {
            /// Stable code (`agent_refused`, `signed_url_failed`, `token_reused`, ...).
            code: String,
            /// Human-readable text.
            message: String,
        },
        /// Counters at the end of the stream.
        StreamStats {
            /// Twilio media frames received.
            #[serde(rename = "framesIn")]
            frames_in: u64,
            /// Media messages sent to Twilio.
            #[serde(rename = "framesOut")]
            frames_out: u64,
            /// Agent audio dropped after an interruption.
            #[serde(rename = "staleAudioDropped")]
            stale_audio_dropped: u64,
            /// Agent messages of unknown type.
            #[serde(rename = "unknownMessages")]
            unknown_messages: u64,
            /// Events this stream could not deliver to main-app.
            #[serde(rename = "eventsLost")]
            events_lost: u64,
        },
    }
}

/// Socket.IO contract between main-app and dashboards.
pub mod live {
    use super::*;

    /// Client → server: join a room. Payload [`Subscription`]; ack `{ok, error?}`.
    pub const SUBSCRIBE: &str = "subscribe";
    /// Client → server: leave a room. Payload [`Subscription`].
    pub const UNSUBSCRIBE: &str = "unsubscribe";

    /// Server → client on subscribing to `calls`: every live call ([`LiveCall`] array).
    pub const CALLS_SNAPSHOT: &str = "calls:snapshot";
    /// Server → `calls` and `call:<id>`: a call was created ([`LiveCall`]).
    pub const CALL_CREATED: &str = "call:created";
    /// Server → `calls` and `call:<id>`: a call changed ([`LiveCall`]).
    pub const CALL_UPDATED: &str = "call:updated";
    /// Server → `calls` and `call:<id>`: a call ended ([`LiveCall`]).
    pub const CALL_ENDED: &str = "call:ended";
    /// Server → `call:<id>` on subscribing: [`CallSnapshot`].
    pub const CALL_SNAPSHOT: &str = "call:snapshot";
    /// Server → `call:<id>`: a whole transcript line, new or updated ([`TranscriptEvent`]).
    pub const CALL_TRANSCRIPT: &str = "call:transcript";
    /// Server → `campaigns` on subscribing: array of campaign progress values.
    pub const CAMPAIGNS_SNAPSHOT: &str = "campaigns:snapshot";
    /// Server → `campaigns` and `campaign:<id>`: progress of one campaign.
    pub const CAMPAIGN_PROGRESS: &str = "campaign:progress";

    /// Room names.
    pub mod rooms {
        /// All live calls.
        pub const CALLS: &str = "calls";
        /// All campaigns.
        pub const CAMPAIGNS: &str = "campaigns";

        /// One call's room.
        pub fn call(id: &str) -> String {
            format!("call:{id}")
        }

        /// One campaign's room.
        pub fn campaign(id: &str) -> String {
            format!("campaign:{id}")
        }
    }

    /// `subscribe` / `unsubscribe` payload.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Subscription {
        /// `calls`, `call`, `campaigns` or `campaign`.
        pub topic: String,
        /// The call or campaign id for the single-item topics.
        #[serde(default)]
        pub id: Option<String>,
    }

    /// A call as live views show it.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct LiveCall {
        /// Internal id.
        pub id: String,
        /// Twilio CallSid, once known.
        pub call_sid: Option<String>,
        /// Number called.
        pub to: String,
        /// Caller id used.
        pub from: String,
        /// Contact name.
        pub name: Option<String>,
        /// Telephony status.
        pub status: crate::call::CallStatus,
        /// AMD result.
        pub answered_by: Option<crate::call::AnsweredBy>,
        /// Outcome, once final.
        pub outcome: Option<crate::call::Outcome>,
        /// Who ended it, once ended.
        pub terminated_by: Option<crate::call::TerminatedBy>,
        /// When it was created.
        pub created_at: DateTime<Utc>,
        /// When it was answered.
        pub answered_at: Option<DateTime<Utc>>,
        /// When it ended.
        pub ended_at: Option<DateTime<Utc>>,
        /// Campaign reference.
        pub campaign_id: Option<String>,
        /// Contact reference.
        pub contact_id: Option<String>,
        /// ElevenLabs conversation id.
        pub conversation_id: Option<String>,
    }

    /// Sent to a `call:<id>` subscriber at once: the call and its transcript so far.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct CallSnapshot {
        /// The call.
        pub call: LiveCall,
        /// Lines so far, in order.
        pub transcript: Vec<TranscriptLine>,
    }

    /// The `topic` values of a [`Subscription`].
    pub mod topics {
        /// Every live call (room `calls`).
        pub const CALLS: &str = "calls";
        /// One call, by id (room `call:<id>`).
        pub const CALL: &str = "call";
        /// Every campaign (room `campaigns`).
        pub const CAMPAIGNS: &str = "campaigns";
        /// One campaign, by id (room `campaign:<id>`).
        pub const CAMPAIGN: &str = "campaign";
    }

    /// The acknowledgement of `subscribe` / `unsubscribe`.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Ack {
        /// True when the subscription changed as asked.
        pub ok: bool,
        /// Why not (`UNKNOWN_TOPIC`, `ID_REQUIRED`, `CALL_NOT_FOUND`, `INVALID_PAYLOAD`, ...).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub error: Option<String>,
    }

    impl Ack {
        /// A positive acknowledgement.
        pub fn ok() -> Self {
            Self { ok: true, error: None }
        }

        /// A refusal with a stable code.
        pub fn error(code: impl Into<String>) -> Self {
            Self { ok: false, error: Some(code.into()) }
        }
    }

    /// `campaign:progress` (and each item of `campaigns:snapshot`): the campaign engine decides
    /// the shape of `progress`; this envelope only names the campaign it belongs to.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct CampaignProgress {
        /// Campaign id.
        pub campaign_id: String,
        /// The campaign engine's progress payload (counts, status, ...).
        #[serde(flatten)]
        pub progress: serde_json::Map<String, serde_json::Value>,
    }

    /// A transcript line of one call.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct TranscriptEvent {
        /// Internal call id.
        pub call_id: String,
        /// The line.
        pub line: TranscriptLine,
    }
}

#[cfg(test)]
mod tests {
    use super::media::*;
    use super::*;
    use crate::ids::CallId;

    #[test]
    fn media_events_are_flat_and_tagged() {
        let e = MediaEvent {
            call_id: CallId::new(),
            seq: 3,
            at: Utc::now(),
            kind: MediaEventKind::ConversationEnded {
                reason: EndReason::AgentEnded,
                detail: None,
                hangup_requested: true,
            },
        };
        let v = serde_json::to_value(&e).expect("json");
        assert_eq!(v["type"], "conversation_ended");
        assert_eq!(v["reason"], "agent_ended");
        assert_eq!(v["hangupRequested"], true);
        let back: MediaEvent = serde_json::from_value(v).expect("parse");
        assert_eq!(back, e);
    }
}
