//! Transcripts as stored and as `GET /api/calls/{id}/transcript` returns them: the live lines
//! media-proxy reported while the call ran (with heard state), and the post-call record
//! ElevenLabs sent (or that was recovered from its REST API): turns, analysis and metadata.
//!
//! The AI's evaluation (`analysis.callSuccessful`) lives here and only here; the call's
//! telephony status is never derived from it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

use common::elevenlabs::Conversation;
use common::events::{Role, TranscriptLine};

/// One turn of the post-call transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Turn {
    /// Who spoke.
    pub role: Role,
    /// What was said (empty for a pure tool turn).
    pub message: String,
    /// Seconds from the start of the conversation.
    pub time_in_call_secs: f64,
    /// Whether the caller interrupted this (agent) turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<bool>,
}

/// One evaluation criterion's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CriterionOutcome {
    /// `success`, `failure` or `unknown`.
    pub result: String,
    /// Why.
    pub rationale: String,
}

/// One collected data item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectedValue {
    /// The value (any JSON).
    pub value: Value,
    /// Why.
    pub rationale: String,
}

/// The agent's evaluation of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostCallAnalysis {
    /// `success`, `failure` or `unknown` (the AI's verdict, not the telephony status).
    pub call_successful: String,
    /// Summary of the conversation.
    pub transcript_summary: String,
    /// Short title, when the agent gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_summary_title: Option<String>,
    /// Per criterion id.
    pub evaluation_criteria: BTreeMap<String, CriterionOutcome>,
    /// Per data item id.
    pub data_collection: BTreeMap<String, CollectedValue>,
}

/// Facts about the conversation from ElevenLabs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostCallMetadata {
    /// Conversation length, seconds.
    pub call_duration_secs: f64,
    /// Cost in ElevenLabs credits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// Why ElevenLabs says it ended (free text; informational only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_reason: Option<String>,
}

/// The post-call record of one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostCall {
    /// ElevenLabs conversation id.
    pub conversation_id: String,
    /// Turns in order.
    pub turns: Vec<Turn>,
    /// The evaluation; `None` while ElevenLabs is still processing.
    pub analysis: Option<PostCallAnalysis>,
    /// Duration, cost, termination reason.
    pub metadata: PostCallMetadata,
    /// `webhook` or `recovered`.
    pub source: String,
    /// When we stored it.
    pub received_at: DateTime<Utc>,
}

impl PostCall {
    /// Converts ElevenLabs' conversation model. Turns with a role other than `user`/`agent`
    /// are dropped; a missing message (a tool turn) becomes empty text.
    pub fn from_conversation(conv: &Conversation, source: &str, received_at: DateTime<Utc>) -> Self {
        let turns = conv
            .transcript
            .iter()
            .filter_map(|t| {
                let role = match t.role.as_str() {
                    "user" => Role::User,
                    "agent" => Role::Agent,
                    _ => return None,
                };
                Some(Turn {
                    role,
                    message: t.message.clone().unwrap_or_default(),
                    time_in_call_secs: t.time_in_call_secs,
                    interrupted: t.interrupted,
                })
            })
            .collect();
        let analysis = conv.analysis.as_ref().map(|a| PostCallAnalysis {
            call_successful: a.call_successful.clone(),
            transcript_summary: a.transcript_summary.clone(),
            call_summary_title: a.call_summary_title.clone().filter(|t| !t.is_empty()),
            evaluation_criteria: a
                .evaluation_criteria_results
                .iter()
                .map(|(id, c)| {
                    (
                        id.clone(),
                        CriterionOutcome { result: c.result.clone(), rationale: c.rationale.clone() },
                    )
                })
                .collect(),
            data_collection: a
                .data_collection_results
                .iter()
                .map(|(id, d)| {
                    (id.clone(), CollectedValue { value: d.value.clone(), rationale: d.rationale.clone() })
                })
                .collect(),
        });
        Self {
            conversation_id: conv.conversation_id.clone(),
            turns,
            analysis,
            metadata: PostCallMetadata {
                call_duration_secs: conv.metadata.call_duration_secs,
                cost: conv.metadata.cost,
                termination_reason: conv.metadata.termination_reason.clone().filter(|r| !r.is_empty()),
            },
            source: source.to_owned(),
            received_at: crate::store::truncate_ms(received_at),
        }
    }

    /// True when the callee said something (a non-empty user turn).
    pub fn caller_spoke(&self) -> bool {
        self.turns.iter().any(|t| t.role == Role::User && !t.message.trim().is_empty())
    }
}

/// `GET /api/calls/{id}/transcript`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallTranscript {
    /// Lines media-proxy reported while the call ran, in order, with heard state.
    pub live: Vec<TranscriptLine>,
    /// ElevenLabs' record, once it arrived.
    pub post_call: Option<PostCall>,
    /// Failed bulk recoveries of the record, once there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery: Option<RecoveryState>,
}

/// True when a live transcript has a non-empty line from the callee.
pub fn caller_spoke_live(lines: &[TranscriptLine]) -> bool {
    lines.iter().any(|l| l.role == Role::User && !l.text.trim().is_empty())
}

/// Where bulk recovery of one call's conversation stands ([`super::store::TranscriptStore`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryState {
    /// Failed recoveries so far.
    pub attempts: u32,
    /// The last failure.
    pub last_error: Option<String>,
    /// When recovery was given up (bulk recovery skips the conversation from then on; recovery
    /// of the one call on demand still tries).
    pub given_up_at: Option<DateTime<Utc>>,
}
