//! Validation of `conversation_initiation_client_data` (§6.3): overrides are disabled per field
//! unless the agent's security settings allow them (error `override_error`, close 1008); a
//! malformed message is `invalid_message` (1008); a `{{variable}}` with no value is
//! `missing_dynamic_variable` (1008).

use crate::script::missing_variables;
use common::elevenlabs::InitiationData;
use serde_json::Value;
use std::collections::BTreeSet;

/// Why the initiation was refused: (`error_type`, message). Always closes 1008.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `override_error`, `invalid_message`, `missing_dynamic_variable`.
    pub error_type: &'static str,
    /// Human-readable message.
    pub message: String,
}

/// Paths of every non-null leaf under `value` (`agent.prompt.prompt`, `tts.voice_id`, ...).
pub fn leaf_paths(value: &Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        Value::Null => {}
        Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                leaf_paths(v, &path, out);
            }
        }
        _ => out.push(prefix.to_owned()),
    }
}

fn allowed(path: &str, allowed: &BTreeSet<String>) -> bool {
    allowed.iter().any(|a| path == a || path.starts_with(&format!("{a}.")))
}

/// Parses and validates the raw initiation message.
pub fn validate(raw: &Value, allowed_paths: &BTreeSet<String>) -> Result<InitiationData, Refusal> {
    let data: InitiationData = serde_json::from_value(raw.clone()).map_err(|e| Refusal {
        error_type: "invalid_message",
        message: format!("Invalid conversation_initiation_client_data: {e}"),
    })?;
    if let Some(o) = raw.get("conversation_config_override") {
        if !(o.is_object() || o.is_null()) {
            return Err(Refusal {
                error_type: "invalid_message",
                message: "conversation_config_override must be an object".to_owned(),
            });
        }
        let mut paths = Vec::new();
        leaf_paths(o, "", &mut paths);
        if let Some(bad) = paths.iter().find(|p| !allowed(p, allowed_paths)) {
            return Err(Refusal {
                error_type: "override_error",
                message: format!("Override for field '{bad}' is not allowed by config."),
            });
        }
    }
    let agent = data.conversation_config_override.as_ref().and_then(|o| o.agent.as_ref());
    let texts = [
        agent.and_then(|a| a.first_message.as_deref()),
        agent.and_then(|a| a.prompt.as_ref()).and_then(|p| p.prompt.as_deref()),
    ];
    for text in texts.into_iter().flatten() {
        if let Some(name) = missing_variables(text, &data.dynamic_variables).first() {
            return Err(Refusal {
                error_type: "missing_dynamic_variable",
                message: format!("Missing required dynamic variable '{name}'"),
            });
        }
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defaults() -> BTreeSet<String> {
        crate::config::DEFAULT_ALLOWED_OVERRIDES.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn allowed_overrides_pass_and_nulls_are_ignored() {
        let raw = json!({
            "type": "conversation_initiation_client_data",
            "conversation_config_override": {
                "agent": {"prompt": {"prompt": "Be brief with {{name}}", "llm": null}, "first_message": "Hi {{name}}"},
                "tts": {"voice_id": "v1", "stability": null}
            },
            "dynamic_variables": {"name": "Ann", "call_sid": "CA1"}
        });
        let data = validate(&raw, &defaults()).expect("allowed");
        assert_eq!(data.dynamic_variables["name"], "Ann");
    }

    #[test]
    fn disallowed_malformed_and_missing_variables_are_refused() {
        let raw = json!({"conversation_config_override": {"agent": {"first_message": "Hi"}}});
        let err = validate(&raw, &BTreeSet::new()).expect_err("nothing allowed");
        assert_eq!(err.error_type, "override_error");
        assert!(err.message.contains("agent.first_message"));
        let raw = json!({"conversation_config_override": {"tts": {"speed": 1.2}}});
        assert_eq!(validate(&raw, &defaults()).expect_err("speed").error_type, "override_error");
        let raw = json!({"conversation_config_override": {"agent": {"first_message": 5}}});
        assert_eq!(validate(&raw, &defaults()).expect_err("type").error_type, "invalid_message");
        let raw = json!({"conversation_config_override": "yes"});
        assert_eq!(validate(&raw, &defaults()).expect_err("shape").error_type, "invalid_message");
        let raw = json!({"conversation_config_override": {"agent": {"first_message": "Hi {{name}}"}}});
        assert_eq!(validate(&raw, &defaults()).expect_err("var").error_type, "missing_dynamic_variable");
        let prefix: BTreeSet<String> = ["agent".to_owned()].into();
        let raw = json!({"conversation_config_override": {"agent": {"language": "de"}}});
        assert!(validate(&raw, &prefix).is_ok(), "a prefix allows everything under it");
    }
}
