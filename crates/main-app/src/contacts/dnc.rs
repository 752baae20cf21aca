//! `/api/dnc`: the do-not-call list. Every dial checks it (the engine skips listed numbers, with
//! the reason on the campaign member).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::model::DncEntry;
use super::validate;
use crate::calls::model::{Page, Paged};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::now_ms;

/// `GET /api/dnc` query.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Part of the number or the reason.
    pub search: Option<String>,
    /// Items to skip.
    pub offset: Option<u64>,
    /// Items to return (default 50).
    pub limit: Option<u64>,
}

/// `GET /api/dnc`: newest first.
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Paged<DncEntry>>> {
    let page = Page { offset: q.offset.unwrap_or(0), limit: q.limit.unwrap_or(50) };
    Ok(Json(state.store.list_dnc(q.search.as_deref(), page).await?))
}

/// `POST /api/dnc` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewEntry {
    /// The number (E.164, or national in the default region).
    pub phone: Option<String>,
    /// Why.
    pub reason: Option<String>,
}

/// `POST /api/dnc`: 201 with the entry; 200 with the existing one when already listed.
pub async fn add(
    State(state): State<AppState>,
    b: Result<Json<NewEntry>, JsonRejection>,
) -> ApiResult<Response> {
    let b = b.map(|Json(v)| v).map_err(|e| ApiError::bad_request(e.body_text()))?;
    let raw = b
        .phone
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("phone", "phone is required"))?;
    let phone = crate::calls::validate::phone("phone", &raw, &state.settings)?;
    let entry = DncEntry {
        phone,
        reason: validate::text("reason", b.reason, 500)?,
        source: "manual".into(),
        created_at: now_ms(),
    };
    let created = state.store.add_dnc(&entry).await?;
    let stored = state.store.get_dnc(&entry.phone).await?.unwrap_or(entry);
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(stored)).into_response())
}

/// `DELETE /api/dnc/{phone}`: 204; 404 when not listed.
pub async fn remove(State(state): State<AppState>, Path(phone): Path<String>) -> ApiResult<StatusCode> {
    let phone = crate::calls::validate::phone("phone", &phone, &state.settings)?;
    if state.store.remove_dnc(&phone).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("DNC_NOT_FOUND", "the number is not on the do-not-call list"))
    }
}
