//! The answering-machine policy of a call: what to do when Twilio's asynchronous AMD says a
//! machine (or a fax, or nobody knows) answered. Set per call (`amdPolicy` on `POST /api/calls`),
//! per campaign (the campaign engine passes it when it places calls), with a default from
//! settings (`AMD_ON_MACHINE`, `AMD_VOICEMAIL_MESSAGE`, `AMD_UNKNOWN_AS`).

use serde::{Deserialize, Serialize};

use crate::twilio::AmdMode;
use common::call::AnsweredBy;

/// What to do on a machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MachineAction {
    /// Hang up as soon as a machine is detected (nothing is left on it).
    Hangup,
    /// Wait for the end of the greeting (the beep), then leave a message: the policy's
    /// `voicemailMessage` spoken by Twilio (`<Say>`), or, without one, the agent keeps talking.
    Voicemail,
}

/// How an `unknown` AMD result is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownAs {
    /// Carry on as with a person (the agent keeps talking).
    Human,
    /// Apply the machine action.
    Machine,
}

/// A call's answering-machine policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AmdPolicy {
    /// What to do on a machine.
    pub on_machine: MachineAction,
    /// The message left after the beep (`{name}` is replaced by the contact's name). Only used
    /// with `voicemail`; without it the agent, which is already talking, leaves the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voicemail_message: Option<String>,
    /// How `unknown` is treated.
    pub unknown_as: UnknownAs,
}

/// Longest voicemail message accepted.
pub const MAX_VOICEMAIL_MESSAGE: usize = 1_000;

/// What the policy decides for one AMD result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmdAction {
    /// Nothing: a person (or a result the policy ignores).
    None,
    /// Hang up now; the reason is recorded in `terminatedBy`.
    Hangup(&'static str),
    /// Replace the call's TwiML with `<Say>message</Say><Hangup/>` (after the beep).
    SayAndHangup(String),
    /// A machine answered and its greeting ended: the agent, still connected, leaves the message.
    AgentLeavesMessage,
    /// A machine answered; wait for the end of its greeting (a later result says when).
    WaitForBeep,
}

impl AmdPolicy {
    /// The detection mode this policy needs: `DetectMessageEnd` to hear the beep for a voicemail,
    /// `Enable` (fastest verdict) to hang up.
    pub fn detection_mode(&self) -> AmdMode {
        match self.on_machine {
            MachineAction::Hangup => AmdMode::Enable,
            MachineAction::Voicemail => AmdMode::DetectMessageEnd,
        }
    }

    /// Decides what to do with `answered_by` for a call to `name`.
    pub fn decide(&self, answered_by: AnsweredBy, name: Option<&str>) -> AmdAction {
        let machine = match answered_by {
            AnsweredBy::Human => return AmdAction::None,
            AnsweredBy::Fax => return AmdAction::Hangup("fax"),
            AnsweredBy::Unknown if self.unknown_as == UnknownAs::Human => return AmdAction::None,
            other => other,
        };
        match self.on_machine {
            MachineAction::Hangup => AmdAction::Hangup("answering_machine"),
            MachineAction::Voicemail if machine == AnsweredBy::MachineStart => AmdAction::WaitForBeep,
            MachineAction::Voicemail => match &self.voicemail_message {
                Some(message) => AmdAction::SayAndHangup(render(message, name)),
                None => AmdAction::AgentLeavesMessage,
            },
        }
    }

    /// Checks a policy received from a client; the error names the problem.
    pub fn validate(&self) -> Result<(), String> {
        match &self.voicemail_message {
            Some(m) if m.trim().is_empty() => Err("voicemailMessage must not be empty".into()),
            Some(m) if m.chars().count() > MAX_VOICEMAIL_MESSAGE => {
                Err(format!("voicemailMessage is longer than {MAX_VOICEMAIL_MESSAGE} characters"))
            }
            _ => Ok(()),
        }
    }
}

fn render(template: &str, name: Option<&str>) -> String {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    template.replace("{name}", name.unwrap_or("there")).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(on_machine: MachineAction, message: Option<&str>, unknown_as: UnknownAs) -> AmdPolicy {
        AmdPolicy { on_machine, voicemail_message: message.map(str::to_owned), unknown_as }
    }

    #[test]
    fn hangup_policy_hangs_up_on_machines_and_faxes_only() {
        let p = policy(MachineAction::Hangup, None, UnknownAs::Human);
        assert_eq!(p.detection_mode(), AmdMode::Enable);
        assert_eq!(p.decide(AnsweredBy::Human, None), AmdAction::None);
        assert_eq!(p.decide(AnsweredBy::Unknown, None), AmdAction::None);
        assert_eq!(p.decide(AnsweredBy::MachineStart, None), AmdAction::Hangup("answering_machine"));
        assert_eq!(p.decide(AnsweredBy::Fax, None), AmdAction::Hangup("fax"));
    }

    #[test]
    fn voicemail_policy_waits_for_the_beep_then_leaves_the_message() {
        let p = policy(MachineAction::Voicemail, Some("Hi {name}, call us back."), UnknownAs::Machine);
        assert_eq!(p.detection_mode(), AmdMode::DetectMessageEnd);
        assert_eq!(p.decide(AnsweredBy::MachineStart, Some("Ann")), AmdAction::WaitForBeep);
        assert_eq!(
            p.decide(AnsweredBy::MachineEndBeep, Some("Ann")),
            AmdAction::SayAndHangup("Hi Ann, call us back.".into())
        );
        assert_eq!(
            p.decide(AnsweredBy::Unknown, None),
            AmdAction::SayAndHangup("Hi there, call us back.".into()),
            "unknown treated as a machine"
        );
        let agent = policy(MachineAction::Voicemail, None, UnknownAs::Human);
        assert_eq!(agent.decide(AnsweredBy::MachineEndSilence, None), AmdAction::AgentLeavesMessage);
    }

    #[test]
    fn policies_parse_from_camel_case_and_refuse_unknown_fields() {
        let p: AmdPolicy = serde_json::from_str(
            r#"{"onMachine":"voicemail","voicemailMessage":"Hello","unknownAs":"machine"}"#,
        )
        .expect("valid policy");
        assert_eq!(p, policy(MachineAction::Voicemail, Some("Hello"), UnknownAs::Machine));
        assert!(
            serde_json::from_str::<AmdPolicy>(r#"{"onMachine":"hangup","unknownAs":"human","x":1}"#).is_err()
        );
        assert!(policy(MachineAction::Voicemail, Some("  "), UnknownAs::Human).validate().is_err());
    }
}
