//! `GET /v1/convai/conversation?agent_id=…&token=…` (§6.1–6.2): the conversation WebSocket.
//!
//! The upgrade requires the agent id and (by default) a valid signed-URL token. After it, the
//! first client message may be `conversation_initiation_client_data`; it is validated (overrides
//! allowed by config, well-formed, dynamic variables present) or refused with an `error` event
//! and close 1008. The conversation is attached to its Twilio call when both run in this sandbox
//! (by `call_sid`/`system__call_sid`, else by the callee's number), which selects the scenario.
//! Then `conversation_initiation_metadata` is sent and the scripted agent takes over.

use super::agent::{self, AgentSession};
use super::conversation;
use super::error::ElError;
use super::overrides;
use super::record::{AgentError, ConversationRecord};
use super::registry::ConversationEntry;
use crate::scenario::{AgentFault, Scenario};
use crate::script::render;
use crate::state::AppState;
use crate::twilio::registry::CallEntry;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use common::elevenlabs::{ErrorEvent, FromAgent, InitiationData, InitiationMetadata};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// How long the server waits for the initiation message before starting without it.
const INIT_WAIT: Duration = Duration::from_secs(2);

/// The upgrade handler.
pub(crate) async fn upgrade(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    if state.faults.take_refusal() {
        return (StatusCode::SERVICE_UNAVAILABLE, "agent unavailable (injected fault)").into_response();
    }
    let Some(agent_id) = q.get("agent_id").filter(|a| !a.is_empty()) else {
        return ElError::MissingQuery("agent_id").into_response();
    };
    if *agent_id != state.config.elevenlabs.agent_id {
        return ElError::NotFound("agent").into_response();
    }
    let token_ok = q.get("token").is_some_and(|t| state.tokens.check(t, agent_id));
    if state.config.elevenlabs.require_signed_url && !token_ok {
        return ElError::InvalidSignature.into_response();
    }
    ws.max_message_size(1 << 20).on_upgrade(move |socket| session(state, socket))
}

fn first_string(vars: &BTreeMap<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| vars.get(*k).and_then(Value::as_str)).map(str::to_owned)
}

/// Finds the Twilio call and scenario of a conversation from its dynamic variables.
fn resolve(
    state: &AppState,
    vars: &BTreeMap<String, Value>,
) -> (Option<Arc<CallEntry>>, Arc<Scenario>, Option<String>) {
    let sid = first_string(vars, &["call_sid", "system__call_sid", "callSid", "twilio_call_sid"]);
    let phone = first_string(vars, &["phone_number", "system__called_number", "phoneNumber", "to"]);
    let call = sid
        .as_deref()
        .and_then(|s| state.calls.get(s))
        .or_else(|| phone.as_deref().and_then(|p| state.calls.live_call_to(p)));
    let number = call.as_ref().map(|c| c.read(|r| r.to.clone())).or(phone);
    let scenario = number
        .as_deref()
        .map_or_else(|| state.config.scenarios.default_scenario(), |n| state.config.scenarios.lookup(n));
    (call, scenario, number)
}

async fn refuse(socket: &mut WebSocket, code: u16, error_type: &str, message: &str) {
    let event = FromAgent::Error {
        error_event: ErrorEvent { code, message: message.to_owned(), error_type: error_type.to_owned() },
    };
    if let Ok(text) = serde_json::to_string(&event) {
        let _ = tokio::time::timeout(Duration::from_secs(2), socket.send(Message::text(text))).await;
    }
    let frame = CloseFrame { code, reason: error_type.into() };
    // The client may have gone; the refusal is recorded either way.
    let _ = tokio::time::timeout(Duration::from_secs(2), socket.send(Message::Close(Some(frame)))).await;
}

fn new_record(state: &AppState) -> ConversationRecord {
    let el = &state.config.elevenlabs;
    ConversationRecord {
        conversation_id: format!("conv_{}", uuid::Uuid::new_v4().simple()),
        agent_id: el.agent_id.clone(),
        status: "in-progress".into(),
        scenario: String::new(),
        call_sid: None,
        phone_number: None,
        initiation: None,
        dynamic_variables: BTreeMap::new(),
        overrides: None,
        first_message: None,
        output_format: el.output_format.name(),
        input_format: el.input_format.name(),
        transcript: vec![],
        interruptions: 0,
        user_audio_chunks: 0,
        user_audio_bytes: 0,
        agent_audio_chunks: 0,
        pings_sent: 0,
        pongs_received: 0,
        invalid_messages: 0,
        end_call_sent: false,
        error: None,
        close_code: None,
        closed_by: None,
        termination_reason: None,
        webhook_deliveries: vec![],
        started_at: Utc::now(),
        ended_at: None,
        data: None,
    }
}

/// Reads the optional initiation message: `Ok(None)` when the client sent something else first.
async fn read_initiation(socket: &mut WebSocket) -> Result<Option<Value>, Option<&'static str>> {
    match tokio::time::timeout(INIT_WAIT, socket.recv()).await {
        Err(_) => Ok(None),
        Ok(None | Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => Err(None),
        Ok(Some(Ok(Message::Text(text)))) => {
            let value: Value =
                serde_json::from_str(text.as_str()).map_err(|_| Some("Invalid JSON message"))?;
            Ok((value.get("type").and_then(Value::as_str) == Some("conversation_initiation_client_data"))
                .then_some(value))
        }
        Ok(Some(Ok(_))) => Ok(None),
    }
}

/// Records how a conversation that never started properly ended.
fn closed_early(entry: &ConversationEntry, code: u16, by: &str, error: Option<AgentError>) {
    entry.update(|r| {
        r.close_code = Some(code);
        r.closed_by = Some(by.to_owned());
        r.error = error;
        r.status = "failed".into();
        r.ended_at = Some(Utc::now());
    });
}

/// Refuses with an `error` event and close, and records it.
async fn refuse_and_record(
    socket: &mut WebSocket,
    entry: &ConversationEntry,
    code: u16,
    error_type: &str,
    msg: &str,
) {
    refuse(socket, code, error_type, msg).await;
    let error = AgentError { code, error_type: error_type.to_owned(), message: msg.to_owned() };
    closed_early(entry, code, "agent", Some(error));
}

/// Reads and validates the initiation message; `None` when the conversation ended there.
async fn initiate(
    state: &AppState,
    socket: &mut WebSocket,
    entry: &ConversationEntry,
) -> Option<(Option<Value>, InitiationData)> {
    let raw = match read_initiation(socket).await {
        Ok(raw) => raw,
        Err(None) => {
            closed_early(entry, 1006, "client", None);
            return None;
        }
        Err(Some(msg)) => {
            refuse_and_record(socket, entry, 1008, "invalid_message", msg).await;
            return None;
        }
    };
    entry.update(|r| r.initiation = raw.clone());
    match raw.as_ref().map(|r| overrides::validate(r, &state.config.elevenlabs.allowed_overrides)) {
        None => Some((None, InitiationData::default())),
        Some(Ok(data)) => Some((raw, data)),
        Some(Err(refusal)) => {
            refuse_and_record(socket, entry, 1008, refusal.error_type, &refusal.message).await;
            None
        }
    }
}

/// Attaches the conversation to its call and scenario; returns the scenario and first message.
fn attach(
    state: &AppState,
    entry: &ConversationEntry,
    raw: Option<&Value>,
    data: &InitiationData,
) -> (Arc<Scenario>, String) {
    let id = entry.read(|r| r.conversation_id.clone());
    let (call, scenario, number) = resolve(state, &data.dynamic_variables);
    let agent_override = data.conversation_config_override.as_ref().and_then(|o| o.agent.as_ref());
    let first_template = agent_override
        .and_then(|a| a.first_message.clone())
        .unwrap_or_else(|| scenario.script.first_message.clone());
    let first_message = render(&first_template, &data.dynamic_variables);
    let call_sid = call.as_ref().map(|c| c.read(|r| r.sid.clone()));
    if let Some(c) = &call {
        c.update(|r| r.conversation_ids.push(id.clone()));
    }
    entry.update(|r| {
        r.dynamic_variables = data.dynamic_variables.clone();
        r.overrides = raw.and_then(|v| v.get("conversation_config_override").cloned());
        r.scenario = scenario.name.clone();
        r.call_sid = call_sid;
        r.phone_number = number;
        r.first_message = Some(first_message.clone());
    });
    tracing::info!(conversation_id = %id, scenario = %scenario.name, "agent conversation started");
    (scenario, first_message)
}

async fn session(state: AppState, mut socket: WebSocket) {
    let entry = state.conversations.insert(new_record(&state), state.changes.clone());
    let Some((raw, data)) = initiate(&state, &mut socket, &entry).await else { return };
    let (scenario, first_message) = attach(&state, &entry, raw.as_ref(), &data);
    if let Some(fault @ AgentFault::AtConnect { code }) = scenario.agent.fault {
        let (error_type, msg) = fault.error();
        return refuse_and_record(&mut socket, &entry, code, error_type, msg).await;
    }
    let el = &state.config.elevenlabs;
    let metadata = FromAgent::ConversationInitiationMetadata {
        conversation_initiation_metadata_event: InitiationMetadata {
            conversation_id: entry.read(|r| r.conversation_id.clone()),
            agent_output_audio_format: el.output_format.name(),
            user_input_audio_format: el.input_format.name(),
        },
    };
    let Ok(text) = serde_json::to_string(&metadata) else { return };
    if socket.send(Message::text(text)).await.is_err() {
        return closed_early(&entry, 1006, "client", None);
    }
    let session = AgentSession {
        state: state.clone(),
        entry: entry.clone(),
        scenario: scenario.clone(),
        socket,
        input: el.input_format,
        output: el.output_format,
        first_message,
    };
    let ended = agent::run(session).await;
    conversation::finish(&state, &entry, &scenario, ended);
}
