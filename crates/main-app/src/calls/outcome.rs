//! What a call achieved ([`Outcome`]), decided from real signals only: Twilio's final status,
//! the AMD verdict (`AnsweredBy`), and whether the callee said anything (a non-empty user line
//! in the live transcript or in ElevenLabs' post-call turns). The AI's evaluation of the
//! conversation is deliberately not an input: it is kept separately in the post-call analysis.

use common::call::{AnsweredBy, CallStatus, Outcome};

/// The signals an outcome is decided from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signals {
    /// Twilio's status.
    pub status: CallStatus,
    /// AMD verdict, if detection ran and answered.
    pub answered_by: Option<AnsweredBy>,
    /// Whether the callee said anything.
    pub caller_spoke: bool,
}

/// The outcome, or `None` while the call has not ended.
///
/// - busy / no-answer / failed / canceled map to themselves;
/// - `completed` answered by a machine is `voicemail` (whatever the greeting said — a machine's
///   greeting is transcribed as user speech, so AMD takes precedence);
/// - `completed` where the callee spoke is `conversation_held`;
/// - any other `completed` (silence, a fax, a person who hung up at once) is `no_conversation`.
pub fn decide(s: Signals) -> Option<Outcome> {
    Some(match s.status {
        CallStatus::Busy => Outcome::Busy,
        CallStatus::NoAnswer => Outcome::NoAnswer,
        CallStatus::Failed => Outcome::Failed,
        CallStatus::Canceled => Outcome::Canceled,
        CallStatus::Completed => match s.answered_by {
            Some(a) if a.is_machine() => Outcome::Voicemail,
            Some(AnsweredBy::Fax) => Outcome::NoConversation,
            _ if s.caller_spoke => Outcome::ConversationHeld,
            _ => Outcome::NoConversation,
        },
        CallStatus::Queued | CallStatus::Initiated | CallStatus::Ringing | CallStatus::InProgress => {
            return None;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals(status: CallStatus, answered_by: Option<AnsweredBy>, caller_spoke: bool) -> Signals {
        Signals { status, answered_by, caller_spoke }
    }

    #[test]
    fn unanswered_statuses_map_to_themselves() {
        assert_eq!(decide(signals(CallStatus::Busy, None, false)), Some(Outcome::Busy));
        assert_eq!(decide(signals(CallStatus::NoAnswer, None, false)), Some(Outcome::NoAnswer));
        assert_eq!(decide(signals(CallStatus::Failed, None, false)), Some(Outcome::Failed));
        assert_eq!(decide(signals(CallStatus::Canceled, None, false)), Some(Outcome::Canceled));
    }

    #[test]
    fn completed_calls_depend_on_amd_and_speech() {
        let held = signals(CallStatus::Completed, Some(AnsweredBy::Human), true);
        assert_eq!(decide(held), Some(Outcome::ConversationHeld));
        let unknown_spoke = signals(CallStatus::Completed, Some(AnsweredBy::Unknown), true);
        assert_eq!(decide(unknown_spoke), Some(Outcome::ConversationHeld));
        let silent = signals(CallStatus::Completed, None, false);
        assert_eq!(decide(silent), Some(Outcome::NoConversation));
        let machine = signals(CallStatus::Completed, Some(AnsweredBy::MachineEndBeep), true);
        assert_eq!(decide(machine), Some(Outcome::Voicemail), "a greeting is not a conversation");
        let fax = signals(CallStatus::Completed, Some(AnsweredBy::Fax), false);
        assert_eq!(decide(fax), Some(Outcome::NoConversation));
    }

    #[test]
    fn live_calls_have_no_outcome_yet() {
        assert_eq!(decide(signals(CallStatus::InProgress, Some(AnsweredBy::Human), true)), None);
    }
}
