//! The vocabulary of a call's life: telephony status, who answered, how it ended.
//!
//! Telephony status (what Twilio says) and the AI's evaluation of the conversation are kept apart:
//! the replaced system wrote "success/failure" into the status field and lost the truth.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Telephony status of a call, in Twilio's vocabulary (including the callback-only `initiated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallStatus {
    /// Stored by us, or accepted by Twilio and waiting for a dialling slot.
    Queued,
    /// Twilio started dialling (callback-only value).
    Initiated,
    /// The callee's phone is ringing.
    Ringing,
    /// Answered; the conversation is under way.
    InProgress,
    /// Ended after being answered.
    Completed,
    /// The callee was busy.
    Busy,
    /// Could not be placed (invalid number, carrier failure, our own failure to dial).
    Failed,
    /// Rang until the timeout.
    NoAnswer,
    /// Cancelled before it was answered.
    Canceled,
}

impl CallStatus {
    /// All values, for validation messages and filters.
    pub const ALL: [CallStatus; 9] = [
        Self::Queued,
        Self::Initiated,
        Self::Ringing,
        Self::InProgress,
        Self::Completed,
        Self::Busy,
        Self::Failed,
        Self::NoAnswer,
        Self::Canceled,
    ];

    /// Position in the life of a call. A status may only replace one of strictly lower rank, so
    /// a late `ringing` never overwrites `in-progress`, and nothing overwrites a terminal status.
    pub fn rank(self) -> u8 {
        match self {
            Self::Queued => 0,
            Self::Initiated => 1,
            Self::Ringing => 2,
            Self::InProgress => 3,
            Self::Completed | Self::Busy | Self::Failed | Self::NoAnswer | Self::Canceled => 4,
        }
    }

    /// True once the call has ended, whatever the reason.
    pub fn is_terminal(self) -> bool {
        self.rank() == 4
    }

    /// The wire string (`in-progress`, `no-answer`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Initiated => "initiated",
            Self::Ringing => "ringing",
            Self::InProgress => "in-progress",
            Self::Completed => "completed",
            Self::Busy => "busy",
            Self::Failed => "failed",
            Self::NoAnswer => "no-answer",
            Self::Canceled => "canceled",
        }
    }

    /// Parses the wire string.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for CallStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who or what answered, from Twilio answering-machine detection (`AnsweredBy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnsweredBy {
    /// A person.
    Human,
    /// A machine, detected at the start of its greeting.
    MachineStart,
    /// A machine whose greeting ended with a beep (ready to record).
    MachineEndBeep,
    /// A machine whose greeting ended in silence.
    MachineEndSilence,
    /// A machine whose greeting ended otherwise.
    MachineEndOther,
    /// A fax machine.
    Fax,
    /// Detection could not decide.
    Unknown,
}

impl AnsweredBy {
    /// All values.
    pub const ALL: [AnsweredBy; 7] = [
        Self::Human,
        Self::MachineStart,
        Self::MachineEndBeep,
        Self::MachineEndSilence,
        Self::MachineEndOther,
        Self::Fax,
        Self::Unknown,
    ];

    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Human => "human",
            Self::MachineStart => "machine_start",
            Self::MachineEndBeep => "machine_end_beep",
            Self::MachineEndSilence => "machine_end_silence",
            Self::MachineEndOther => "machine_end_other",
            Self::Fax => "fax",
            Self::Unknown => "unknown",
        }
    }

    /// Parses the wire string.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Any answering machine (not fax, not unknown).
    pub fn is_machine(self) -> bool {
        matches!(
            self,
            Self::MachineStart | Self::MachineEndBeep | Self::MachineEndSilence | Self::MachineEndOther
        )
    }
}

/// What the call achieved, derived from real signals (Twilio status, AMD, whether the caller spoke).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A person answered and a conversation took place.
    ConversationHeld,
    /// Answered, but the callee never spoke (a person who hung up at once, or silence).
    NoConversation,
    /// An answering machine answered (a message may have been left).
    Voicemail,
    /// Nobody answered.
    NoAnswer,
    /// The line was busy.
    Busy,
    /// The call could not be placed or failed.
    Failed,
    /// Cancelled before it was answered.
    Canceled,
}

impl Outcome {
    /// All values.
    pub const ALL: [Outcome; 7] = [
        Self::ConversationHeld,
        Self::NoConversation,
        Self::Voicemail,
        Self::NoAnswer,
        Self::Busy,
        Self::Failed,
        Self::Canceled,
    ];

    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConversationHeld => "conversation_held",
            Self::NoConversation => "no_conversation",
            Self::Voicemail => "voicemail",
            Self::NoAnswer => "no_answer",
            Self::Busy => "busy",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
        }
    }

    /// Parses the wire string.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The party that ended a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The person we called hung up.
    Caller,
    /// The AI agent ended the conversation.
    Agent,
    /// An operator hung up from the dashboard or the API.
    Operator,
    /// The platform: answering-machine policy, limits, inactivity, failures.
    System,
}

impl Party {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Caller => "caller",
            Self::Agent => "agent",
            Self::Operator => "operator",
            Self::System => "system",
        }
    }
}

/// Who ended the call, why, and which component observed it. Written once, by the first
/// authoritative observer, and never overwritten by a later guess.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TerminatedBy {
    /// The party.
    pub party: Party,
    /// A short machine-readable reason (`agent_ended_conversation`, `caller_hung_up`,
    /// `operator_hangup`, `answering_machine`, `max_duration`, `inactivity`, `agent_error`...).
    pub reason: String,
    /// The component that observed it (`media-proxy`, `api`, `twilio-status-callback`, ...).
    pub source: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_ordered_and_terminal_is_final() {
        assert!(CallStatus::Ringing.rank() < CallStatus::InProgress.rank());
        assert!(CallStatus::InProgress.rank() < CallStatus::Completed.rank());
        assert_eq!(CallStatus::Busy.rank(), CallStatus::Completed.rank());
        assert!(CallStatus::NoAnswer.is_terminal());
        assert!(!CallStatus::InProgress.is_terminal());
    }

    #[test]
    fn wire_strings_round_trip() {
        for s in CallStatus::ALL {
            assert_eq!(CallStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_string(&s).expect("json"), format!("\"{}\"", s.as_str()));
        }
        for a in AnsweredBy::ALL {
            assert_eq!(AnsweredBy::parse(a.as_str()), Some(a));
            assert_eq!(serde_json::to_string(&a).expect("json"), format!("\"{}\"", a.as_str()));
        }
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
            assert_eq!(serde_json::to_string(&o).expect("json"), format!("\"{}\"", o.as_str()));
        }
    }
}
