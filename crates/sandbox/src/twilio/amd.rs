//! Answering machine detection (§2.5): what the detector concludes for a scenario and when.
//!
//! `Enable` decides quickly (`human`, `machine_start`, `fax`, `unknown`); `DetectMessageEnd` waits
//! for a voicemail greeting to end (`machine_end_beep` / `machine_end_silence`), which happens on
//! the call's audio clock. A decision later than `MachineDetectionTimeout` becomes `unknown`.
//! With `AsyncAmd=true` the result goes to `AsyncAmdStatusCallback`; otherwise the TwiML fetch
//! waits for it and carries `AnsweredBy`.

use super::params::AmdMode;
use crate::scenario::{CalleeKind, Scenario};
use common::call::AnsweredBy;
use std::time::Duration;

/// When the detector decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// After this long from answer.
    After(Duration),
    /// When the voicemail greeting ends (audio clock).
    GreetingEnd,
}

/// The detector's plan for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmdPlan {
    /// The result it will report (unless the timeout comes first).
    pub answered_by: AnsweredBy,
    /// When.
    pub trigger: Trigger,
    /// `MachineDetectionTimeout`: the result is `unknown` if nothing was decided by then. Scaled
    /// by speed, except when waiting for a greeting to end (audio is always real time).
    pub timeout: Duration,
}

/// Plans detection for a scenario; `scale` converts scenario milliseconds to a duration.
pub fn plan(
    scenario: &Scenario,
    mode: AmdMode,
    timeout_secs: u32,
    scale: impl Fn(u64) -> Duration,
) -> AmdPlan {
    let timeout = scale(u64::from(timeout_secs) * 1000);
    let after = |default_ms: u64| Trigger::After(scale(scenario.amd_delay_ms.unwrap_or(default_ms)));
    if let Some(forced) = scenario.answered_by.as_deref().and_then(AnsweredBy::parse) {
        return AmdPlan { answered_by: forced, trigger: after(2000), timeout };
    }
    let (answered_by, trigger) = match (scenario.callee, mode) {
        (CalleeKind::Human, _) => (AnsweredBy::Human, after(2500)),
        (CalleeKind::Voicemail, AmdMode::Enable) => (AnsweredBy::MachineStart, after(1800)),
        (CalleeKind::Voicemail, AmdMode::DetectMessageEnd) if scenario.voicemail.beep => {
            (AnsweredBy::MachineEndBeep, Trigger::GreetingEnd)
        }
        (CalleeKind::Voicemail, AmdMode::DetectMessageEnd) => {
            (AnsweredBy::MachineEndSilence, Trigger::GreetingEnd)
        }
        (CalleeKind::Fax, _) => (AnsweredBy::Fax, after(1500)),
        (CalleeKind::Silent, _) => (AnsweredBy::Unknown, Trigger::After(timeout)),
    };
    let timeout = match trigger {
        Trigger::GreetingEnd => Duration::from_secs(u64::from(timeout_secs)),
        Trigger::After(_) => timeout,
    };
    AmdPlan { answered_by, trigger, timeout }
}

/// Form parameters of the async AMD callback.
pub(crate) fn callback_params(
    account_sid: &str,
    call_sid: &str,
    answered_by: AnsweredBy,
    ms: u64,
) -> Vec<(String, String)> {
    vec![
        ("AccountSid".to_owned(), account_sid.to_owned()),
        ("AnsweredBy".to_owned(), answered_by.as_str().to_owned()),
        ("CallSid".to_owned(), call_sid.to_owned()),
        ("MachineDetectionDuration".to_owned(), ms.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{ScenarioBook, builtin};

    fn plan_for(number: &str, mode: AmdMode) -> AmdPlan {
        plan(&ScenarioBook::builtin().lookup(number), mode, 30, Duration::from_millis)
    }

    #[test]
    fn results_per_scenario_and_mode() {
        let human = plan_for(builtin::NORMAL, AmdMode::Enable);
        assert_eq!(
            (human.answered_by, human.trigger),
            (AnsweredBy::Human, Trigger::After(Duration::from_millis(2500)))
        );
        assert_eq!(plan_for(builtin::VOICEMAIL, AmdMode::Enable).answered_by, AnsweredBy::MachineStart);
        let vm = plan_for(builtin::VOICEMAIL, AmdMode::DetectMessageEnd);
        assert_eq!((vm.answered_by, vm.trigger), (AnsweredBy::MachineEndBeep, Trigger::GreetingEnd));
        let vm = plan_for(builtin::VOICEMAIL_NO_BEEP, AmdMode::DetectMessageEnd);
        assert_eq!(vm.answered_by, AnsweredBy::MachineEndSilence);
        assert_eq!(plan_for(builtin::FAX, AmdMode::DetectMessageEnd).answered_by, AnsweredBy::Fax);
        let silent = plan_for(builtin::SILENT, AmdMode::Enable);
        assert_eq!(
            (silent.answered_by, silent.trigger),
            (AnsweredBy::Unknown, Trigger::After(silent.timeout))
        );
    }

    #[test]
    fn forced_results_and_scaling() {
        let mut s = Scenario { answered_by: Some("machine_end_other".into()), ..Scenario::default() };
        s.amd_delay_ms = Some(1000);
        let p = plan(&s, AmdMode::Enable, 30, |ms| Duration::from_millis(ms / 10));
        assert_eq!(p.answered_by, AnsweredBy::MachineEndOther);
        assert_eq!(p.trigger, Trigger::After(Duration::from_millis(100)));
        assert_eq!(p.timeout, Duration::from_secs(3));
        let vm = ScenarioBook::builtin().lookup(builtin::VOICEMAIL);
        let p = plan(&vm, AmdMode::DetectMessageEnd, 30, |ms| Duration::from_millis(ms / 10));
        assert_eq!(p.timeout, Duration::from_secs(30), "greeting audio is real time: timeout not scaled");
        let params = callback_params("AC1", "CA1", AnsweredBy::Human, 2500);
        assert!(params.contains(&("MachineDetectionDuration".to_owned(), "2500".to_owned())));
    }
}
