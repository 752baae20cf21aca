//! The built-in scenario table (documented in `docs/sandbox.md` and served at
//! `GET /sandbox/scenarios`).

use super::{AgentFault, CalleeKind, DialOutcome, NumberedScenario, Scenario};
use crate::script::Script;
use std::sync::Arc;

/// Number of the normal conversation (any unknown valid number behaves the same).
pub const NORMAL: &str = "+61491570101";
/// Busy.
pub const BUSY: &str = "+61491570102";
/// Rings until `Timeout`.
pub const NO_ANSWER: &str = "+61491570103";
/// Voicemail with a beep.
pub const VOICEMAIL: &str = "+61491570104";
/// Fax machine.
pub const FAX: &str = "+61491570105";
/// Callee hangs up in the middle of a sentence.
pub const HANGUP_MID_SENTENCE: &str = "+61491570106";
/// The agent ends the call with `end_call`.
pub const AGENT_ENDS: &str = "+61491570107";
/// Callee keeps talking over the agent.
pub const INTERRUPTER: &str = "+61491570108";
/// The agent fails at connect (1011 before metadata).
pub const AGENT_FAIL_CONNECT: &str = "+61491570109";
/// The agent fails mid-call (1002 after the first user turn).
pub const AGENT_FAIL_MIDCALL: &str = "+61491570110";
/// Answers after 15 s of ringing.
pub const SLOW_ANSWER: &str = "+61491570111";
/// Unreachable number: `failed`.
pub const FAILED: &str = "+61491570112";
/// A person who never speaks (AMD `unknown`).
pub const SILENT: &str = "+61491570113";
/// Voicemail without a beep (AMD `machine_end_silence`).
pub const VOICEMAIL_NO_BEEP: &str = "+61491570114";

fn with(name: &str, description: &str, f: impl FnOnce(&mut Scenario)) -> Scenario {
    let mut s =
        Scenario { name: name.to_owned(), description: description.to_owned(), ..Scenario::default() };
    f(&mut s);
    s
}

/// The table, in number order.
pub fn table() -> Vec<NumberedScenario> {
    let rows = vec![
        (NORMAL, Scenario::default()),
        (
            BUSY,
            with("busy", "Rings briefly, then busy.", |s| {
                s.dial = DialOutcome::Busy;
                s.ring_ms = 1500;
            }),
        ),
        (
            NO_ANSWER,
            with("no_answer", "Rings until the call's Timeout, then no-answer.", |s| {
                s.dial = DialOutcome::NoAnswer;
            }),
        ),
        (
            VOICEMAIL,
            with(
                "voicemail",
                "Voicemail: greeting, beep, then records (AMD machine_start / machine_end_beep).",
                |s| {
                    s.callee = CalleeKind::Voicemail;
                    s.ring_ms = 4000;
                },
            ),
        ),
        (
            FAX,
            with("fax", "A fax machine answers (AMD fax) and hangs up after 15 s.", |s| {
                s.callee = CalleeKind::Fax;
                s.ring_ms = 2000;
            }),
        ),
        (
            HANGUP_MID_SENTENCE,
            with("hangup_mid_sentence", "The person hangs up halfway through their second sentence.", |s| {
                s.human.hangup_mid_line = Some(1)
            }),
        ),
        (
            AGENT_ENDS,
            with(
                "agent_ends_call",
                "The agent says goodbye and ends the call (end_call, close 1000); the person stays on.",
                |s| {
                    s.human.hangup_after_script = false;
                    s.agent.end_call_after_script = true;
                },
            ),
        ),
        (
            INTERRUPTER,
            with("interrupter", "The person talks over the agent at every turn.", |s| {
                s.human.interrupt_after_ms = Some(900);
                s.script = Script::interrupter();
            }),
        ),
        (
            AGENT_FAIL_CONNECT,
            with(
                "agent_fail_connect",
                "The agent fails at connect: error event and close 1011 before metadata.",
                |s| s.agent.fault = Some(AgentFault::AtConnect { code: 1011 }),
            ),
        ),
        (
            AGENT_FAIL_MIDCALL,
            with(
                "agent_fail_midcall",
                "The agent fails after the first user turn: error event (llm_error) and close 1002.",
                |s| s.agent.fault = Some(AgentFault::MidCall { after_user_turns: 1, code: 1002 }),
            ),
        ),
        (
            SLOW_ANSWER,
            with("slow_answer", "Rings for 15 s, then a normal conversation.", |s| {
                s.ring_ms = 15_000;
            }),
        ),
        (
            FAILED,
            with("failed", "Unreachable: failed without ringing.", |s| {
                s.dial = DialOutcome::Failed;
            }),
        ),
        (
            SILENT,
            with("silent", "A person answers and never speaks (AMD unknown); hangs up after 15 s.", |s| {
                s.callee = CalleeKind::Silent;
                s.human.patience_ms = 15_000;
            }),
        ),
        (
            VOICEMAIL_NO_BEEP,
            with(
                "voicemail_no_beep",
                "Voicemail whose greeting ends without a beep (AMD machine_end_silence).",
                |s| {
                    s.callee = CalleeKind::Voicemail;
                    s.voicemail.beep = false;
                    s.ring_ms = 4000;
                },
            ),
        ),
    ];
    rows.into_iter()
        .map(|(number, scenario)| NumberedScenario {
            number: number.to_owned(),
            scenario: Arc::new(scenario),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::ScenarioBook;
    use super::*;
    use common::phone::PhoneNumber;

    #[test]
    fn every_table_number_is_valid_in_the_drama_range_and_unique() {
        let table = table();
        let mut seen = std::collections::HashSet::new();
        for e in &table {
            let n = PhoneNumber::parse_e164(&e.number).expect("valid per libphonenumber");
            assert_eq!(n.as_str(), e.number);
            let tail: u32 = e.number["+61491570".len()..].parse().expect("digits");
            assert!((6..=159).contains(&tail), "{} outside the drama range", e.number);
            assert!(seen.insert(e.scenario.name.clone()), "duplicate name {}", e.scenario.name);
        }
        assert!(PhoneNumber::parse_e164(crate::config::DEFAULT_FROM_NUMBER).is_ok());
    }

    #[test]
    fn unknown_numbers_get_the_normal_conversation() {
        let book = ScenarioBook::builtin();
        assert_eq!(book.lookup(BUSY).name, "busy");
        assert_eq!(book.lookup("+61491570150").name, "normal");
        assert_eq!(book.lookup("+14155552671").dial, DialOutcome::Answer);
    }

    #[test]
    fn custom_scenarios_extend_builtins() {
        let mut book = ScenarioBook::builtin();
        book.load_json(
            r#"{"scenarios":[
                {"number":"+61491570150","extends":"interrupter","name":"rude","ring_ms":100,
                 "human":{"think_ms":50},"script":{"first_message":"Yo"}},
                {"number":"+61491570102","name":"busy_fast","dial":"busy","ring_ms":1}
            ]}"#,
        )
        .expect("loads");
        let rude = book.lookup("+61491570150");
        assert_eq!(rude.name, "rude");
        assert_eq!(rude.ring_ms, 100);
        assert_eq!(rude.human.think_ms, 50);
        assert_eq!(rude.human.interrupt_after_ms, Some(900), "inherited from interrupter");
        assert_eq!(rude.script.first_message, "Yo");
        assert_eq!(rude.script.turns, Script::interrupter().turns);
        assert_eq!(book.lookup(BUSY).name, "busy_fast");
        assert!(book.load_json(r#"{"scenarios":[{"number":"12"}]}"#).is_err());
        assert!(book.load_json(r#"{"scenarios":[{"number":"+61491570151","extends":"nope"}]}"#).is_err());
        assert!(book.load_json(r#"{"scenarios":[{"number":"+61491570151","dial":"maybe"}]}"#).is_err());
    }
}
