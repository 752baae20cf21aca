//! The inspection API: what the simulators observed, as JSON, for end-to-end tests and the demo.
//! Unauthenticated (the sandbox is a test tool; never expose it publicly).
//!
//! - `GET /sandbox/health`
//! - `GET /sandbox/config`: accounts (SIDs and numbers, no tokens), agent id, formats, speed.
//! - `GET /sandbox/scenarios`: the scenario table (number → scenario).
//! - `GET /sandbox/calls`, `GET /sandbox/calls/{sid}`: [`CallRecord`]s.
//! - `GET /sandbox/conversations`, `GET /sandbox/conversations/{id}`: [`ConversationRecord`]s.
//! - `POST /sandbox/faults` `{"refuse_agent_connections": n}`: refuse the next n agent upgrades.

use crate::el::record::ConversationRecord;
use crate::state::AppState;
use crate::twilio::record::CallRecord;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

/// Routes under `/sandbox`.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/sandbox/health", get(|| async { Json(json!({"ok": true})) }))
        .route("/sandbox/config", get(config))
        .route("/sandbox/scenarios", get(scenarios))
        .route("/sandbox/calls", get(calls))
        .route("/sandbox/calls/{sid}", get(call))
        .route("/sandbox/conversations", get(conversations))
        .route("/sandbox/conversations/{id}", get(conversation))
        .route("/sandbox/faults", post(faults))
}

async fn config(State(state): State<AppState>) -> Json<Value> {
    let c = &state.config;
    Json(json!({
        "base_url": state.base_url,
        "twilio_api_base": state.base_url,
        "elevenlabs_api_base": state.base_url,
        "accounts": c.accounts.iter().map(|a| json!({
            "sid": a.sid.as_str(),
            "numbers": a.numbers.iter().map(|n| n.as_str()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "agent_id": c.elevenlabs.agent_id,
        "allowed_overrides": c.elevenlabs.allowed_overrides,
        "output_format": c.elevenlabs.output_format.name(),
        "input_format": c.elevenlabs.input_format.name(),
        "webhook_url": c.elevenlabs.webhook_url,
        "speed": c.speed,
        "cps_limit": c.cps_limit,
    }))
}

async fn scenarios(State(state): State<AppState>) -> Json<Value> {
    let book = &state.config.scenarios;
    let rows: Vec<Value> =
        book.entries().iter().map(|e| json!({"number": e.number, "scenario": e.scenario.as_ref()})).collect();
    Json(json!({"scenarios": rows, "default": book.default_scenario().as_ref()}))
}

async fn calls(State(state): State<AppState>) -> Json<Vec<CallRecord>> {
    Json(state.calls.all().iter().map(|e| e.snapshot()).collect())
}

async fn call(
    State(state): State<AppState>,
    Path(sid): Path<String>,
) -> Result<Json<CallRecord>, StatusCode> {
    state.calls.get(&sid).map(|e| Json(e.snapshot())).ok_or(StatusCode::NOT_FOUND)
}

async fn conversations(State(state): State<AppState>) -> Json<Vec<ConversationRecord>> {
    Json(state.conversations.all().iter().map(|e| e.snapshot()).collect())
}

async fn conversation(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ConversationRecord>, StatusCode> {
    state.conversations.get(&id).map(|e| Json(e.snapshot())).ok_or(StatusCode::NOT_FOUND)
}

#[derive(Deserialize)]
struct FaultRequest {
    refuse_agent_connections: Option<u32>,
}

async fn faults(State(state): State<AppState>, Json(req): Json<FaultRequest>) -> Json<Value> {
    if let Some(n) = req.refuse_agent_connections {
        state.faults.refuse_agent_connections.store(n, Ordering::SeqCst);
    }
    Json(json!({"refuse_agent_connections": state.faults.refuse_agent_connections.load(Ordering::SeqCst)}))
}
