//! A conversation after it ended: the `GetConversationResponseModel` (§7.3, §7.6) with
//! transcript, metadata and analysis, the `processing` → `done` transition, the post-call webhook,
//! and `GET /v1/convai/conversations[/{id}]`.

use super::agent::Ended;
use super::error::ElError;
use super::record::ConversationRecord;
use super::registry::ConversationEntry;
use super::signed_url::check_api_key;
use super::webhook;
use crate::scenario::{CalleeKind, Scenario};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use chrono::Utc;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// Time ElevenLabs takes to analyse a conversation (scaled by speed).
const PROCESSING_MS: u64 = 1500;

fn user_lines(r: &ConversationRecord) -> usize {
    r.transcript.iter().filter(|t| t.role == "user" && t.message != "Hello?").count()
}

/// `analysis` from what happened against the script.
pub(crate) fn analysis(r: &ConversationRecord, scenario: &Scenario) -> Value {
    let script = &scenario.script;
    let machine = match scenario.callee {
        CalleeKind::Voicemail => {
            Some(("The call reached a voicemail box; the agent left a message.", "Voicemail"))
        }
        CalleeKind::Fax => Some(("The call reached a fax machine.", "Fax machine")),
        CalleeKind::Human | CalleeKind::Silent => None,
    };
    if let Some((summary, title)) = machine {
        return json!({
            "evaluation_criteria_results": {
                "goal_achieved": {"criteria_id": "goal_achieved", "result": "failure", "rationale": summary},
            },
            "data_collection_results": {},
            "call_successful": "failure",
            "transcript_summary": summary,
            "call_summary_title": title,
        });
    }
    let said = user_lines(r);
    let completed = r.error.is_none() && said >= script.turns.len();
    let result = match (r.error.is_some(), said, completed) {
        (true, _, _) => "failure",
        (false, 0, _) if !script.turns.is_empty() => "unknown",
        (false, _, true) => "success",
        _ => "failure",
    };
    let summary = if completed {
        script.summary.clone()
    } else if said == 0 {
        "The caller did not engage with the agent.".to_owned()
    } else {
        format!("The call ended early after {said} of {} exchanges.", script.turns.len())
    };
    let data: Map<String, Value> = script
        .data
        .iter()
        .map(|(k, v)| {
            let value = if completed { v.clone() } else { Value::Null };
            (k.clone(), json!({"data_collection_id": k, "value": value, "json_schema": null, "rationale": "From the caller's answers."}))
        })
        .collect();
    json!({
        "evaluation_criteria_results": {
            "goal_achieved": {"criteria_id": "goal_achieved", "result": result, "rationale": summary},
        },
        "data_collection_results": data,
        "call_successful": result,
        "transcript_summary": summary,
        "call_summary_title": if completed { script.title.clone() } else { "Call ended early".to_owned() },
    })
}

fn phone_call(state: &AppState, r: &ConversationRecord) -> Value {
    let call = r.call_sid.as_deref().and_then(|s| state.calls.get(s)).map(|c| c.snapshot());
    json!({
        "type": "twilio",
        "direction": "outbound",
        "phone_number_id": null,
        "agent_number": call.as_ref().map(|c| c.from.clone()),
        "external_number": call.as_ref().map(|c| c.to.clone()).or_else(|| r.phone_number.clone()),
        "stream_sid": call.as_ref().and_then(|c| c.streams.last().map(|s| s.stream_sid.clone())),
        "call_sid": r.call_sid,
    })
}

/// The conversation model; `analysis` is `null` unless given.
pub(crate) fn build(
    state: &AppState,
    r: &ConversationRecord,
    status: &str,
    analysis: Option<Value>,
) -> Value {
    let start = r.started_at.timestamp();
    let duration = (r.ended_at.unwrap_or_else(Utc::now) - r.started_at).num_seconds().max(0);
    let transcript: Vec<Value> = r
        .transcript
        .iter()
        .map(|t| {
            json!({
                "role": t.role, "message": t.message, "time_in_call_secs": t.time_in_call_secs.floor() as i64,
                "tool_calls": null, "tool_results": null, "feedback": null, "interrupted": t.interrupted,
                "original_message": t.original_message, "conversation_turn_metrics": null, "source_medium": "audio",
            })
        })
        .collect();
    let mut vars: Map<String, Value> = r.dynamic_variables.clone().into_iter().collect();
    vars.insert("system__agent_id".into(), json!(r.agent_id));
    vars.insert("system__conversation_id".into(), json!(r.conversation_id));
    vars.insert("system__call_duration_secs".into(), json!(duration));
    vars.insert("system__time_utc".into(), json!(r.started_at.to_rfc3339()));
    if let Some(sid) = &r.call_sid {
        vars.entry("system__call_sid").or_insert(json!(sid));
    }
    json!({
        "agent_id": r.agent_id,
        "conversation_id": r.conversation_id,
        "status": status,
        "user_id": r.initiation.as_ref().and_then(|i| i.get("user_id")).cloned(),
        "transcript": transcript,
        "metadata": {
            "start_time_unix_secs": start,
            "accepted_time_unix_secs": start,
            "call_duration_secs": duration,
            "cost": duration * 12 + 10,
            "termination_reason": r.termination_reason.clone().unwrap_or_default(),
            "main_language": "en",
            "text_only": false,
            "authorization_method": "signed_url",
            "error": r.error.as_ref().map(|e| json!({"code": e.code, "reason": e.message})),
            "phone_call": phone_call(state, r),
            "batch_call": null,
            "conversation_initiation_source": "unknown",
        },
        "analysis": analysis,
        "conversation_initiation_client_data": {
            "conversation_config_override": r.overrides.clone().unwrap_or_else(|| json!({})),
            "custom_llm_extra_body": {},
            "dynamic_variables": vars,
            "user_id": r.initiation.as_ref().and_then(|i| i.get("user_id")).cloned(),
            "source_info": r.initiation.as_ref().and_then(|i| i.get("source_info")).cloned().unwrap_or_else(|| json!({})),
        },
        "has_audio": false,
        "has_user_audio": false,
        "has_response_audio": false,
    })
}

/// Records the end of a conversation, then (after processing) its analysis and the webhook.
pub(crate) fn finish(
    state: &AppState,
    entry: &Arc<ConversationEntry>,
    scenario: &Arc<Scenario>,
    ended: Ended,
) {
    let final_status = if ended.failed { "failed" } else { "done" };
    entry.update(|r| {
        r.close_code = Some(ended.close_code);
        r.closed_by = Some(ended.closed_by.to_owned());
        r.termination_reason = Some(ended.reason.clone());
        r.ended_at = Some(Utc::now());
        r.status = "processing".into();
    });
    let processing = build(state, &entry.snapshot(), "processing", None);
    entry.update(|r| r.data = Some(processing));
    let (state, entry, scenario) = (state.clone(), entry.clone(), scenario.clone());
    tokio::spawn(async move {
        tokio::time::sleep(state.scaled(PROCESSING_MS)).await;
        let record = entry.snapshot();
        let data = build(&state, &record, final_status, Some(analysis(&record, &scenario)));
        entry.update(|r| {
            r.status = final_status.to_owned();
            r.data = Some(data.clone());
        });
        webhook::deliver(&state, &entry, data).await;
    });
}

/// `GET /v1/convai/conversations/{id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ElError> {
    check_api_key(&state, &headers)?;
    let entry = state.conversations.get(&id).ok_or(ElError::NotFound("conversation"))?;
    let record = entry.snapshot();
    Ok(Json(record.data.clone().unwrap_or_else(|| build(&state, &record, &record.status, None))))
}

/// `GET /v1/convai/conversations?agent_id=…`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ElError> {
    check_api_key(&state, &headers)?;
    let items: Vec<Value> = state
        .conversations
        .all()
        .iter()
        .rev()
        .map(|e| e.snapshot())
        .filter(|r| q.get("agent_id").is_none_or(|a| *a == r.agent_id))
        .map(|r| {
            let successful =
                r.data.as_ref().and_then(|d| d["analysis"]["call_successful"].as_str().map(str::to_owned));
            json!({
                "agent_id": r.agent_id,
                "agent_name": "Sandbox agent",
                "conversation_id": r.conversation_id,
                "start_time_unix_secs": r.started_at.timestamp(),
                "call_duration_secs": r.ended_at.map(|e| (e - r.started_at).num_seconds()),
                "message_count": r.transcript.len(),
                "status": r.status,
                "call_successful": successful.unwrap_or_else(|| "unknown".to_owned()),
            })
        })
        .collect();
    Ok(Json(json!({"conversations": items, "has_more": false, "next_cursor": null})))
}
