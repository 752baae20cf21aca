//! The media-proxy ⇄ main-app channel (`common::events::media`).
//!
//! - `GET /internal/stream-context?callId=…` with `Authorization: Bearer <stream token>`: the
//!   token must verify (signature, expiry, bound to that call) and is consumed here, atomically in
//!   the store, so it works once across every media-proxy instance. Answers the call's context.
//! - `POST /internal/media-events`: a batch of events about live calls, signed with the
//!   timestamped HMAC keyed by `STREAM_TOKEN_SECRET`. Each event is stored once (dedupe on
//!   the call and its sequence number) and applied by [`crate::calls::media_events`].

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::calls::media_events;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use common::events::media::{CallContext, MediaEventBatch, SIGNATURE_HEADER};
use common::ids::CallId;
use common::stream_token::{self, TokenError};

/// Query of the context request.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextQuery {
    call_id: String,
}

fn token_error(e: &TokenError) -> ApiError {
    let code = match e {
        TokenError::Malformed => "TOKEN_MALFORMED",
        TokenError::BadSignature => "TOKEN_INVALID",
        TokenError::Expired => "TOKEN_EXPIRED",
        TokenError::WrongCall => "TOKEN_WRONG_CALL",
        TokenError::Reused => "TOKEN_REUSED",
    };
    ApiError::new(StatusCode::UNAUTHORIZED, code, e.to_string())
}

/// `GET /internal/stream-context`.
pub async fn stream_context(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ContextQuery>,
) -> ApiResult<Json<CallContext>> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(ApiError::unauthorized)?;
    let secret = state.settings.stream_token_secret.expose_secret().as_bytes();
    let claims = stream_token::verify(secret, token.trim(), Some(&q.call_id), Utc::now().timestamp())
        .map_err(|e| token_error(&e))?;
    if !state.store.mark_once(&format!("stream-token:{}", claims.nonce)).await? {
        tracing::warn!(call_id = %claims.call_id, "stream token presented twice");
        return Err(token_error(&TokenError::Reused));
    }
    let call = state
        .store
        .get_call(&claims.call_id)
        .await?
        .ok_or_else(|| ApiError::not_found("CALL_NOT_FOUND", "no such call"))?;
    Ok(Json(CallContext {
        call_id: call.id.clone(),
        call_sid: call.call_sid.as_ref().map(ToString::to_string),
        to: call.to.to_string(),
        name: call.name.clone(),
        prompt: call.prompt.clone(),
        first_message: call.first_message.clone(),
        language: call.language.clone(),
        campaign_id: call.campaign_id.as_ref().map(ToString::to_string),
        contact_id: call.contact_id.as_ref().map(ToString::to_string),
        dynamic_variables: call.dynamic_variables.clone(),
        max_duration_secs: Some(u64::from(state.settings.calls.time_limit_secs)),
    }))
}

/// How far a batch's signature timestamp may be from our clock.
const EVENTS_MAX_SKEW_SECS: i64 = 300;

/// `POST /internal/media-events`.
pub async fn media_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let secret = state.settings.stream_token_secret.expose_secret();
    common::signature::verify_timestamped(
        secret,
        signature,
        &body,
        Utc::now().timestamp(),
        EVENTS_MAX_SKEW_SECS,
    )
    .map_err(|e| {
        tracing::warn!(error = %e, "rejected media-proxy events");
        ApiError::unauthorized()
    })?;
    let batch: MediaEventBatch = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid events batch: {e}")))?;
    for event in &batch.events {
        media_events::apply(&state, event).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Parses a call id from a path or query.
pub fn call_id(raw: &str) -> ApiResult<CallId> {
    CallId::parse(raw).map_err(|_| ApiError::invalid("callId", "not a call id"))
}
