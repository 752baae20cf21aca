//! The shared conversation script.
//!
//! The simulated callee (Twilio side) and the simulated agent (ElevenLabs side) follow the same
//! script, so a transcript reads like a real conversation: the agent opens with `first_message`,
//! then for each [`Turn`] the callee says `user` and the agent answers `agent`. The callee's audio
//! is synthesised from the text (its length follows the text), and the agent reports the same
//! text in `user_transcript` once it hears the callee's speech end.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A scripted conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Script {
    /// The agent's opening line (unless the client overrides `agent.first_message`).
    pub first_message: String,
    /// Exchanges after the opening line, in order.
    pub turns: Vec<Turn>,
    /// What the agent says when the callee speaks after the script ran out.
    pub fallback_reply: String,
    /// What the agent says after a voicemail greeting.
    pub voicemail_message: String,
    /// `analysis.transcript_summary` when the script was completed.
    pub summary: String,
    /// `analysis.call_summary_title`.
    pub title: String,
    /// `analysis.data_collection_results` values when the script was completed.
    pub data: BTreeMap<String, Value>,
}

/// One exchange: the callee speaks, the agent answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// What the callee says.
    pub user: String,
    /// The agent's reply.
    pub agent: String,
}

impl Default for Script {
    /// About 15 s of conversation at real time (speech is ~15 characters per second).
    fn default() -> Self {
        Self {
            first_message: "Hi, it's Alex from Sunrise Energy. Got a minute?".to_owned(),
            turns: vec![
                Turn {
                    user: "Sure, go ahead.".to_owned(),
                    agent: "We can lower your rate ten percent. Want a callback?".to_owned(),
                },
                Turn {
                    user: "Yes, tomorrow morning.".to_owned(),
                    agent: "Booked for tomorrow morning. Goodbye!".to_owned(),
                },
            ],
            fallback_reply: "Thanks again for your time. Goodbye!".to_owned(),
            voicemail_message: "Hi, it's Alex from Sunrise Energy. Please call us back. Goodbye!".to_owned(),
            summary: "The agent offered a lower electricity rate and the caller agreed to a callback \
                      tomorrow morning."
                .to_owned(),
            title: "Callback booked".to_owned(),
            data: BTreeMap::from([
                ("callback_time".to_owned(), Value::from("tomorrow morning")),
                ("interested".to_owned(), Value::from(true)),
            ]),
        }
    }
}

impl Script {
    /// A script whose callee lines are long enough to talk over the agent.
    pub fn interrupter() -> Self {
        let mut s = Self::default();
        s.turns[0].user = "Wait, wait, who is this and why are you calling me?".to_owned();
        s.turns[1].user = "Hold on, just tell me the price first, tomorrow maybe.".to_owned();
        s
    }
}

/// Replaces `{{name}}` placeholders with dynamic variables. Unknown placeholders are left as they
/// are (the caller checks for them first with [`missing_variables`]).
pub fn render(text: &str, vars: &BTreeMap<String, Value>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else { break };
        let name = rest[start + 2..start + len].trim();
        out.push_str(&rest[..start]);
        match vars.get(name) {
            Some(Value::String(s)) => out.push_str(s),
            Some(Value::Null) | None => out.push_str(&rest[start..start + len + 2]),
            Some(other) => out.push_str(&other.to_string()),
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

/// Placeholders in `text` with no value in `vars` (`system__*` names are filled by the agent).
pub fn missing_variables(text: &str, vars: &BTreeMap<String, Value>) -> Vec<String> {
    let mut missing = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else { break };
        let name = rest[start + 2..start + len].trim();
        if !name.starts_with("system__") && !vars.contains_key(name) {
            missing.push(name.to_owned());
        }
        rest = &rest[start + len + 2..];
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_known_variables_and_keeps_unknown_ones() {
        let vars =
            BTreeMap::from([("name".to_owned(), Value::from("Ann")), ("n".to_owned(), Value::from(3))]);
        assert_eq!(render("Hi {{name}}, {{ n }} items {{x}}", &vars), "Hi Ann, 3 items {{x}}");
        assert_eq!(missing_variables("Hi {{name}} {{x}} {{system__call_sid}}", &vars), vec!["x"]);
        assert_eq!(render("no braces {{", &vars), "no braces {{");
    }

    #[test]
    fn default_script_round_trips_through_json() {
        let s = Script::default();
        let back: Script = serde_json::from_value(serde_json::to_value(&s).expect("json")).expect("parse");
        assert_eq!(s, back);
        let partial: Script = serde_json::from_str(r#"{"first_message":"Yo"}"#).expect("partial");
        assert_eq!(partial.first_message, "Yo");
        assert_eq!(partial.turns.len(), 2, "missing fields take the default script");
    }
}
