//! Applies what media-proxy reports about a live call: the stream and conversation ids (the
//! conversation is linked to the call for the post-call webhook), whole transcript lines
//! (persisted and pushed live), turn latencies, errors, and how the conversation ended —
//! including the hang-up through Twilio's REST API that the agent's goodbye asks for.

use serde_json::json;

use super::model::{CallEvent, SetOnce};
use super::service;
use crate::state::AppState;
use crate::store::StoreError;
use common::call::TerminatedBy;
use common::events::media::{EndReason, MediaEvent, MediaEventKind};
use common::ids::CallSid;

/// Stores `event` once (dedupe on its sequence number) and applies it. A repeated event (a
/// retried batch) changes nothing.
pub async fn apply(state: &AppState, event: &MediaEvent) -> Result<(), StoreError> {
    let Some(call) = state.store.get_call(&event.call_id).await? else {
        tracing::warn!(call_id = %event.call_id, "media event for an unknown call");
        return Ok(());
    };
    let kind = match &event.kind {
        MediaEventKind::StreamStarted { .. } => "stream_started",
        MediaEventKind::AgentConnected { .. } => "agent_connected",
        MediaEventKind::Transcript { .. } => "transcript",
        MediaEventKind::TurnLatency { .. } => "turn_latency",
        MediaEventKind::ConversationEnded { .. } => "conversation_ended",
        MediaEventKind::Error { .. } => "media_error",
        MediaEventKind::StreamStats { .. } => "stream_stats",
    };
    let data = serde_json::to_value(&event.kind).unwrap_or_else(|_| json!({}));
    let mut stored =
        CallEvent::new(&call.id, kind, "media-proxy", data).dedupe(format!("media:{}", event.seq));
    stored.at = event.at;
    if !state.store.append_event(&stored).await? {
        return Ok(());
    }
    match &event.kind {
        MediaEventKind::StreamStarted { stream_sid, call_sid } => {
            let fields = SetOnce {
                stream_sid: Some(stream_sid.clone()),
                call_sid: CallSid::parse(call_sid).ok(),
                ..Default::default()
            };
            if let Some(updated) = state.store.set_once(&call.id, &fields).await? {
                state.live.publish_call(&updated, false);
            }
        }
        MediaEventKind::AgentConnected { conversation_id, .. } => {
            // The link lets ElevenLabs' post-call webhook find this call by conversation id.
            state.store.link_conversation(&call.id, conversation_id).await?;
            let fields = SetOnce { conversation_id: Some(conversation_id.clone()), ..Default::default() };
            if let Some(updated) = state.store.set_once(&call.id, &fields).await? {
                state.live.publish_call(&updated, false);
            }
        }
        MediaEventKind::Transcript { line } => {
            // Persisted so the call's page shows the lines (with heard state) after the call.
            state.store.upsert_live_line(&call.id, line).await?;
            state.live.publish_transcript(&call.id, line.clone());
        }
        MediaEventKind::ConversationEnded { reason, detail, hangup_requested } => {
            conversation_ended(state, &call, *reason, detail.as_deref(), *hangup_requested).await?;
        }
        MediaEventKind::TurnLatency { .. }
        | MediaEventKind::Error { .. }
        | MediaEventKind::StreamStats { .. } => {}
    }
    Ok(())
}

async fn conversation_ended(
    state: &AppState,
    call: &super::model::Call,
    reason: EndReason,
    detail: Option<&str>,
    hangup_requested: bool,
) -> Result<(), StoreError> {
    let who = TerminatedBy {
        party: reason.party(),
        reason: detail.map_or_else(|| reason.as_str().to_owned(), |d| format!("{}: {d}", reason.as_str())),
        source: "media-proxy".into(),
    };
    if let Some(updated) = service::record_termination(state, &call.id, who.clone()).await? {
        state.live.publish_call(&updated, false);
        // Twilio's final callback came first: finalization was waiting for this report.
        if updated.status.is_terminal() {
            crate::post_call::ended(state, &call.id).await?;
        }
    }
    if hangup_requested {
        // The hang-up talks to Twilio: run it after this request so media-proxy is not kept
        // waiting; the task is tracked for graceful shutdown.
        let state2 = state.clone();
        let id = call.id.clone();
        state.spawn(async move {
            let call = match state2.store.get_call(&id).await {
                Ok(Some(call)) => call,
                Ok(None) => return,
                Err(e) => return tracing::error!(error = %e, "hang-up: cannot load the call"),
            };
            match service::hang_up(&state2, &call, who).await {
                Ok(()) | Err(service::HangupError::AlreadyEnded) => {}
                Err(e) => {
                    tracing::error!(call_id = %id, error = %e, "hang-up requested by media-proxy failed")
                }
            }
        });
    }
    Ok(())
}
