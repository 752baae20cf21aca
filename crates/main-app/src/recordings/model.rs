//! A call recording as stored (metadata only: the audio stays at Twilio and is streamed through
//! `GET /api/recordings/{sid}/audio` on demand).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use common::ids::{CallId, CallSid};

/// Where a recording is in its life. Ordered: a late `in-progress` callback never replaces
/// `completed`, and nothing replaces `deleted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordingStatus {
    /// Twilio is recording.
    InProgress,
    /// Finished and available.
    Completed,
    /// Twilio produced nothing (error, or too short / silent after trimming).
    Absent,
    /// Deleted through our API (the audio is gone at Twilio).
    Deleted,
}

impl RecordingStatus {
    /// Position in the recording's life; a status only replaces one of lower rank.
    pub fn rank(self) -> u8 {
        match self {
            Self::InProgress => 0,
            Self::Completed | Self::Absent => 1,
            Self::Deleted => 2,
        }
    }

    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "in-progress",
            Self::Completed => "completed",
            Self::Absent => "absent",
            Self::Deleted => "deleted",
        }
    }

    /// Parses the wire string (Twilio's `RecordingStatus`, plus our `deleted`).
    pub fn parse(s: &str) -> Option<Self> {
        [Self::InProgress, Self::Completed, Self::Absent, Self::Deleted].into_iter().find(|v| v.as_str() == s)
    }
}

/// One recording of one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recording {
    /// Twilio RecordingSid (`RE…`).
    pub sid: String,
    /// Our call.
    pub call_id: CallId,
    /// Twilio CallSid.
    pub call_sid: Option<CallSid>,
    /// Status.
    pub status: RecordingStatus,
    /// Length in seconds, once completed.
    pub duration_secs: Option<u32>,
    /// 1 or 2 (dual: caller and agent on separate channels).
    pub channels: Option<u32>,
    /// When Twilio started recording (or when we first heard of it).
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Number called (copied from the call, for lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Contact name (copied from the call, for lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Twilio's error code when `absent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
}
