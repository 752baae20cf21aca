//! Builds `conversation_initiation_client_data`, the first message on every agent socket.
//!
//! Overrides use the documented shape (`agent.prompt.prompt`, `agent.first_message`,
//! `agent.language`), each included only when the call gives it (an override the agent does not
//! allow is refused by ElevenLabs with close 1008, so nothing is sent needlessly). Dynamic
//! variables always carry `name`, `phone_number`, `call_id`, `call_sid`, `campaign_id` and
//! `contact_id` (empty strings when unknown, so an agent prompt that references them never fails
//! with `missing_dynamic_variable`), plus the call's custom variables. Ours win on a name clash;
//! names starting with `system__` are reserved by ElevenLabs and dropped.

use common::elevenlabs::{
    AgentOverride, ConfigOverride, InitiationData, PromptOverride, SourceInfo, ToAgent,
};
use common::events::media::CallContext;
use serde_json::Value;
use std::collections::BTreeMap;

/// Builds the initiation message for a call.
pub fn build(ctx: &CallContext, call_sid: &str) -> ToAgent {
    let agent = AgentOverride {
        prompt: ctx
            .prompt
            .as_ref()
            .filter(|p| !p.trim().is_empty())
            .map(|p| PromptOverride { prompt: Some(p.clone()), other: BTreeMap::new() }),
        first_message: ctx.first_message.clone().filter(|m| !m.trim().is_empty()),
        language: ctx.language.clone().filter(|l| !l.trim().is_empty()),
        other: BTreeMap::new(),
    };
    let has_agent = agent.prompt.is_some() || agent.first_message.is_some() || agent.language.is_some();
    let conversation_config_override =
        has_agent.then(|| ConfigOverride { agent: Some(agent), ..Default::default() });

    let mut vars: BTreeMap<String, Value> = BTreeMap::new();
    for (name, value) in &ctx.dynamic_variables {
        if name.starts_with("system__") {
            tracing::warn!(variable = %name, "dynamic variable with the reserved system__ prefix dropped");
            continue;
        }
        vars.insert(name.clone(), value.clone());
    }
    let call_sid = ctx.call_sid.as_deref().filter(|s| !s.is_empty()).unwrap_or(call_sid);
    let ours = [
        ("name", ctx.name.clone().unwrap_or_default()),
        ("phone_number", ctx.to.clone()),
        ("call_id", ctx.call_id.to_string()),
        ("call_sid", call_sid.to_owned()),
        ("campaign_id", ctx.campaign_id.clone().unwrap_or_default()),
        ("contact_id", ctx.contact_id.clone().unwrap_or_default()),
    ];
    for (name, value) in ours {
        vars.insert(name.to_owned(), Value::String(value));
    }

    ToAgent::ConversationInitiationClientData(InitiationData {
        conversation_config_override,
        custom_llm_extra_body: None,
        dynamic_variables: vars,
        user_id: ctx.contact_id.clone(),
        source_info: Some(SourceInfo {
            source: Some("media-proxy".to_owned()),
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::ids::CallId;

    fn ctx() -> CallContext {
        CallContext {
            call_id: CallId::new(),
            call_sid: None,
            to: "+61412345678".into(),
            name: Some("Ann".into()),
            prompt: Some("Be brief.".into()),
            first_message: Some("Hi {{name}}!".into()),
            language: None,
            campaign_id: Some("camp-1".into()),
            contact_id: None,
            dynamic_variables: BTreeMap::from([
                ("plan".to_owned(), Value::from("gold")),
                ("name".to_owned(), Value::from("spoofed")),
                ("system__call_sid".to_owned(), Value::from("x")),
            ]),
            max_duration_secs: None,
        }
    }

    #[test]
    fn overrides_use_the_documented_keys_and_vars_are_complete() {
        let c = ctx();
        let v = serde_json::to_value(build(&c, "CA00000000000000000000000000000001")).expect("json");
        assert_eq!(v["type"], "conversation_initiation_client_data");
        let agent = &v["conversation_config_override"]["agent"];
        assert_eq!(agent["prompt"]["prompt"], "Be brief.");
        assert_eq!(agent["first_message"], "Hi {{name}}!");
        assert!(agent.get("language").is_none(), "no language given: {agent}");
        assert!(agent.get("system_prompt").is_none());
        let vars = &v["dynamic_variables"];
        assert_eq!(vars["name"], "Ann", "ours win over a custom variable of the same name");
        assert_eq!(vars["phone_number"], "+61412345678");
        assert_eq!(vars["call_id"], c.call_id.as_str());
        assert_eq!(vars["call_sid"], "CA00000000000000000000000000000001");
        assert_eq!(vars["campaign_id"], "camp-1");
        assert_eq!(vars["contact_id"], "");
        assert_eq!(vars["plan"], "gold");
        assert!(vars.get("system__call_sid").is_none());
    }

    #[test]
    fn no_override_block_without_overrides() {
        let mut c = ctx();
        c.prompt = None;
        c.first_message = Some("  ".into());
        let v = serde_json::to_value(build(&c, "CA1")).expect("json");
        assert!(v.get("conversation_config_override").is_none(), "{v}");
        c.language = Some("de".into());
        let v = serde_json::to_value(build(&c, "CA1")).expect("json");
        assert_eq!(v["conversation_config_override"]["agent"]["language"], "de");
    }
}
