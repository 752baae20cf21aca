//! Transcript API: read a call's transcript, and recover missing post-call records from
//! ElevenLabs (`GET /v1/convai/conversations/{id}`) for one call or in bulk.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::model::CallTranscript;
use crate::calls::handlers::find;
use crate::elevenlabs::ElevenLabsError;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::webhooks::elevenlabs::store_conversation;

/// `GET /api/calls/{id}/transcript`: live lines (with heard state) and the post-call record.
pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<CallTranscript>> {
    let call = find(&state, &id).await?;
    Ok(Json(CallTranscript {
        live: state.store.live_lines(&call.id).await?,
        post_call: state.store.get_post_call(&call.id).await?,
        recovery: state.store.recovery_state(&call.id).await?.filter(|r| r.attempts > 0),
    }))
}

fn upstream(e: &ElevenLabsError) -> ApiError {
    if e.is_not_found() {
        ApiError::not_found("CONVERSATION_NOT_FOUND", "ElevenLabs has no such conversation")
    } else {
        ApiError::upstream("ELEVENLABS_ERROR", "ElevenLabs did not return the conversation", e)
    }
}

/// The conversation's status when ElevenLabs has not finished it (no final transcript yet).
fn unfinished(conv: &common::elevenlabs::Conversation) -> Option<&str> {
    matches!(conv.status.as_str(), "initiated" | "in-progress" | "processing").then_some(conv.status.as_str())
}

/// `POST /api/calls/{id}/transcript/recover`: fetches the conversation from ElevenLabs and
/// stores it as the call's post-call record (replacing an earlier one). Answers the transcript.
pub async fn recover_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<CallTranscript>> {
    let call = find(&state, &id).await?;
    let conversation_id = match call.conversation_id.clone() {
        Some(c) => c,
        None => state.store.get_post_call(&call.id).await?.map(|p| p.conversation_id).ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "NO_CONVERSATION",
                "this call never reached the agent, so there is no conversation to recover",
            )
        })?,
    };
    let conv = state.elevenlabs.conversation(&conversation_id).await.map_err(|e| upstream(&e))?;
    if conv.conversation_id != conversation_id {
        return Err(ApiError::upstream("ELEVENLABS_ERROR", "ElevenLabs returned another conversation", ""));
    }
    if let Some(status) = unfinished(&conv) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "CONVERSATION_NOT_READY",
            format!("ElevenLabs is still processing this conversation ({status}); try again later"),
        ));
    }
    // The conversation is ours (asked for by its id): link it first so it resolves to this call.
    state.store.link_conversation(&call.id, &conversation_id).await?;
    store_conversation(&state, &conv, "recovered")
        .await?
        .map_err(|reason| ApiError::internal(format!("recovered conversation not stored: {reason}")))?;
    get(State(state), Path(call.id.to_string())).await
}

/// `POST /api/transcripts/recover` body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkRequest {
    /// How many conversations to fetch (1..=200, default 50).
    pub limit: Option<u64>,
}

/// One conversation that could not be recovered.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    /// Call id.
    pub call_id: String,
    /// Conversation id.
    pub conversation_id: String,
    /// Why.
    pub error: String,
    /// Bulk recovery stopped trying this one: ElevenLabs has no such conversation, or it failed
    /// [`RECOVERY_MAX_ATTEMPTS`] times (`POST /api/calls/{id}/transcript/recover` still tries).
    pub gave_up: bool,
}

/// Failed bulk recoveries after which a conversation is skipped by bulk recovery.
pub const RECOVERY_MAX_ATTEMPTS: u32 = 5;

/// `POST /api/transcripts/recover` answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkResult {
    /// Conversations tried.
    pub attempted: usize,
    /// Stored.
    pub recovered: usize,
    /// Not stored, with the reason.
    pub failed: Vec<Failure>,
}

/// `POST /api/transcripts/recover`: recovers up to `limit` calls whose conversation has no
/// post-call record, one after the other (ElevenLabs' rate limits are per account). Every
/// failure is recorded on the conversation: the ones that failed least are tried first, and one
/// ElevenLabs answers 404 for, or that failed [`RECOVERY_MAX_ATTEMPTS`] times, is skipped from
/// then on, so conversations that can never be recovered do not starve the others.
pub async fn recover_bulk(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<BulkResult>> {
    let req: BulkRequest = if body.iter().all(u8::is_ascii_whitespace) {
        BulkRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("invalid body: {e}")))?
    };
    let limit = req.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit must be between 1 and 200"));
    }
    let missing = state.store.conversations_missing_post_call(limit).await?;
    let mut result = BulkResult { attempted: missing.len(), recovered: 0, failed: Vec::new() };
    for (call_id, conversation_id) in missing {
        let outcome = match state.elevenlabs.conversation(&conversation_id).await {
            Ok(conv) if conv.conversation_id != conversation_id => {
                Err(("ElevenLabs returned another conversation".to_owned(), false))
            }
            Ok(conv) => match unfinished(&conv) {
                Some(status) => Err((format!("still {status} at ElevenLabs"), false)),
                None => {
                    store_conversation(&state, &conv, "recovered").await?.map(|_| ()).map_err(|e| (e, false))
                }
            },
            Err(e) => Err((e.to_string(), e.is_not_found())),
        };
        match outcome {
            Ok(()) => result.recovered += 1,
            Err((error, permanent)) => {
                let gave_up = state
                    .store
                    .record_recovery_failure(
                        &call_id,
                        &error,
                        permanent,
                        RECOVERY_MAX_ATTEMPTS,
                        chrono::Utc::now(),
                    )
                    .await?;
                if gave_up {
                    tracing::warn!(call_id = %call_id, error = %error, "transcript recovery given up");
                }
                result.failed.push(Failure { call_id: call_id.to_string(), conversation_id, error, gave_up })
            }
        }
    }
    Ok(Json(result))
}
