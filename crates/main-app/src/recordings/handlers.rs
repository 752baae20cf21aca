//! Recording API: list, get, stream the audio (HTTP Range passed through to Twilio), delete.

use axum::Extension;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::model::{Recording, RecordingStatus};
use crate::auth::Principal;
use crate::calls::handlers::find;
use crate::calls::model::{CallEvent, Page, Paged};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::twilio::TwilioError;

/// `?offset&limit`.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    offset: Option<u64>,
    limit: Option<u64>,
}

fn page(q: &PageQuery) -> ApiResult<Page> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit must be between 1 and 1000"));
    }
    Ok(Page { offset: q.offset.unwrap_or(0), limit })
}

/// `GET /api/recordings`: every recording not deleted, newest first.
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Paged<Recording>>> {
    Ok(Json(state.store.list_recordings(page(&q)?).await?))
}

/// `GET /api/calls/{id}/recordings`: the call's recordings, oldest first, in the same paged
/// shape as the list (one page holding all of them).
pub async fn list_for_call(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Paged<Recording>>> {
    let call = find(&state, &id).await?;
    let items = state.store.list_call_recordings(&call.id).await?;
    let total = items.len() as u64;
    Ok(Json(Paged { items, total, offset: 0, limit: total }))
}

async fn existing(state: &AppState, sid: &str) -> ApiResult<Recording> {
    match state.store.get_recording(sid).await? {
        Some(r) if r.status != RecordingStatus::Deleted => Ok(r),
        _ => Err(ApiError::not_found("RECORDING_NOT_FOUND", format!("no recording {sid}"))),
    }
}

/// `GET /api/recordings/{sid}`.
pub async fn get(State(state): State<AppState>, Path(sid): Path<String>) -> ApiResult<Json<Recording>> {
    Ok(Json(existing(&state, &sid).await?))
}

/// `?download=1&format=mp3|wav`.
#[derive(Debug, Default, Deserialize)]
pub struct AudioQuery {
    download: Option<String>,
    format: Option<String>,
}

fn twilio_error(e: TwilioError) -> ApiError {
    match e {
        TwilioError::Api { status: 404, .. } => {
            ApiError::not_found("RECORDING_NOT_FOUND", "Twilio has no audio for this recording")
        }
        TwilioError::Api { status: 416, .. } => {
            ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "RANGE_NOT_SATISFIABLE", "range not satisfiable")
        }
        other => ApiError::upstream("TWILIO_ERROR", "Twilio did not return the recording", other),
    }
}

/// `GET /api/recordings/{sid}/audio`: streams the audio from Twilio. A `Range` header is passed
/// to Twilio and its `206`, `Content-Range` and `Content-Length` come back, so `<audio>` can
/// seek. `?download=1` makes it an attachment; `?format=mp3|wav` picks the format (default
/// `RECORDING_FORMAT`, falling back to the other one when Twilio has not got it). Nothing is
/// cached.
pub async fn audio(
    State(state): State<AppState>,
    Path(sid): Path<String>,
    Query(q): Query<AudioQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let recording = existing(&state, &sid).await?;
    if recording.status != RecordingStatus::Completed {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "RECORDING_NOT_READY",
            "the recording is not completed",
        ));
    }
    let explicit = q.format.is_some();
    let mut format = q.format.unwrap_or_else(|| state.settings.post_call.recording_format.clone());
    if !matches!(format.as_str(), "mp3" | "wav") {
        return Err(ApiError::invalid("format", "format must be mp3 or wav"));
    }
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|r| r.starts_with("bytes=") && r.len() < 200);
    let upstream = match state.twilio.recording_media(&recording.sid, &format, range).await {
        // The configured format is not available (the sandbox, for one, only has WAV): serve
        // the other one rather than nothing, unless the client asked for this format.
        Err(TwilioError::Api { status: 404, .. }) if !explicit => {
            format = if format == "mp3" { "wav".into() } else { "mp3".into() };
            state.twilio.recording_media(&recording.sid, &format, range).await.map_err(twilio_error)?
        }
        other => other.map_err(twilio_error)?,
    };
    let content_type = if format == "mp3" { "audio/mpeg" } else { "audio/wav" };
    let status = if upstream.status() == reqwest::StatusCode::PARTIAL_CONTENT {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let mut response = Response::builder().status(status);
    let out = response.headers_mut().ok_or_else(|| ApiError::internal("response builder failed"))?;
    for name in [header::CONTENT_LENGTH, header::CONTENT_RANGE] {
        if let Some(v) =
            upstream.headers().get(name.as_str()).and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok())
        {
            out.insert(name, v);
        }
    }
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    let disposition =
        if q.download.as_deref().is_some_and(|d| d == "1" || d == "true") { "attachment" } else { "inline" };
    let value = format!("{disposition}; filename=\"{}.{format}\"", recording.sid);
    if let Ok(v) = HeaderValue::from_str(&value) {
        out.insert(header::CONTENT_DISPOSITION, v);
    }
    response
        .body(Body::from_stream(upstream.bytes_stream()))
        .map_err(|e| ApiError::internal(format!("building the audio response: {e}")))
}

/// `DELETE /api/recordings/{sid}`: deletes the audio at Twilio (PII), then marks the recording
/// deleted here. 204; 404 when unknown or already deleted.
pub async fn delete(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(sid): Path<String>,
) -> ApiResult<Response> {
    let recording = existing(&state, &sid).await?;
    state
        .twilio
        .delete_recording(&recording.sid)
        .await
        .map_err(|e| ApiError::upstream("TWILIO_ERROR", "Twilio did not delete the recording", e))?;
    state.store.mark_recording_deleted(&recording.sid, Utc::now()).await?;
    let data = json!({ "recordingSid": recording.sid, "by": principal.label() });
    state.store.append_event(&CallEvent::new(&recording.call_id, "recording_deleted", "api", data)).await?;
    tracing::info!(recording = %recording.sid, by = %principal.label(), "recording deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}
