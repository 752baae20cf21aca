//! CRM delivery log and replay.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use super::model::{Delivery, DeliveryStatus};
use crate::calls::model::{Page, Paged};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// `?status&offset&limit`.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    offset: Option<u64>,
    limit: Option<u64>,
}

/// `GET /api/crm/deliveries`: the delivery log, newest first, optionally one status
/// (`pending`, `delivered`, `dead`).
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Paged<Delivery>>> {
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            DeliveryStatus::parse(s)
                .ok_or_else(|| ApiError::invalid("status", "status must be pending, delivered or dead"))?,
        ),
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit must be between 1 and 1000"));
    }
    Ok(Json(state.store.list_deliveries(status, Page { offset: q.offset.unwrap_or(0), limit }).await?))
}

/// `GET /api/crm/deliveries/{id}`.
pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Delivery>> {
    state
        .store
        .get_delivery(&id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("DELIVERY_NOT_FOUND", format!("no delivery {id}")))
}

/// `POST /api/crm/deliveries/{id}/replay`: sends the delivery again (a dead or delivered one
/// gets a fresh attempt budget; a pending one is made due now).
pub async fn replay(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Delivery>> {
    let delivery = state
        .store
        .replay_delivery(&id, chrono::Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found("DELIVERY_NOT_FOUND", format!("no delivery {id}")))?;
    state.wakeups.crm.notify_one();
    Ok(Json(delivery))
}
