//! `/api/campaigns` handlers: create, list (with progress), get, edit, delete, and who is in a
//! campaign (join by ids, tag or everyone; leave; members with their attempts).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::join;
use super::model::{Attempt, Campaign, CampaignFilter, CampaignStatus, Member, MemberState};
use super::progress::{self, Progress};
use super::validate::{self, CampaignInput};
use crate::calls::model::{Page, Paged};
use crate::contacts::model::ContactFilter;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::now_ms;
use common::ids::{CampaignId, ContactId};
use common::phone::PhoneNumber;

/// Most contacts one join by tag (or everyone) adds.
const MAX_JOIN: u64 = 500_000;

/// A campaign with its progress.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CampaignView {
    /// The record.
    #[serde(flatten)]
    pub campaign: Campaign,
    /// Its progress now.
    pub progress: Progress,
}

/// The view of a campaign.
pub async fn view(state: &AppState, campaign: Campaign) -> ApiResult<CampaignView> {
    let progress = progress::compute(&*state.store, &campaign, now_ms()).await?;
    Ok(CampaignView { campaign, progress })
}

pub(super) fn body<T>(b: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    b.map(|Json(v)| v).map_err(|e| ApiError::bad_request(e.body_text()))
}

/// The campaign of a path id.
pub async fn load(state: &AppState, raw: &str) -> ApiResult<Campaign> {
    let not_found = || ApiError::not_found("CAMPAIGN_NOT_FOUND", "no such campaign");
    let id = CampaignId::parse(raw).map_err(|_| not_found())?;
    state.store.get_campaign(&id).await?.ok_or_else(not_found)
}

/// `GET /api/campaigns` query.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Comma-separated states.
    pub status: Option<String>,
    /// Part of the name or description.
    pub search: Option<String>,
    /// Items to skip.
    pub offset: Option<u64>,
    /// Items to return (default 20).
    pub limit: Option<u64>,
}

/// `GET /api/campaigns`: newest first, each with its progress.
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Paged<CampaignView>>> {
    let mut statuses = Vec::new();
    for s in q.status.as_deref().unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()) {
        statuses.push(
            CampaignStatus::parse(s)
                .ok_or_else(|| ApiError::invalid("status", format!("unknown status {s:?}")))?,
        );
    }
    let filter = CampaignFilter { statuses, search: q.search };
    let page = Page { offset: q.offset.unwrap_or(0), limit: q.limit.unwrap_or(20).min(200) };
    let found = state.store.list_campaigns(&filter, page).await?;
    let mut items = Vec::with_capacity(found.items.len());
    for c in found.items {
        items.push(view(&state, c).await?);
    }
    Ok(Json(Paged { items, total: found.total, offset: found.offset, limit: found.limit }))
}

/// `POST /api/campaigns`: a new draft (201).
pub async fn create(
    State(state): State<AppState>,
    b: Result<Json<CampaignInput>, JsonRejection>,
) -> ApiResult<Response> {
    let v = validate::campaign(body(b)?, &state.settings)?;
    let now = now_ms();
    let c = Campaign {
        id: CampaignId::new(),
        name: v.name,
        description: v.description,
        status: CampaignStatus::Draft,
        status_reason: None,
        settings: v.settings,
        created_at: now,
        updated_at: now,
        started_at: None,
        finished_at: None,
    };
    state.store.insert_campaign(&c).await?;
    tracing::info!(campaign_id = %c.id, "campaign created");
    Ok((StatusCode::CREATED, Json(view(&state, c).await?)).into_response())
}

/// `GET /api/campaigns/{id}`.
pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<CampaignView>> {
    let c = load(&state, &id).await?;
    Ok(Json(view(&state, c).await?))
}

/// `PUT /api/campaigns/{id}`: replaces name, description and settings (409 once final). A
/// running campaign applies them from its next dial.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    b: Result<Json<CampaignInput>, JsonRejection>,
) -> ApiResult<Json<CampaignView>> {
    let c = load(&state, &id).await?;
    let v = validate::campaign(body(b)?, &state.settings)?;
    let updated =
        state.store.update_campaign(&c.id, &v.name, v.description.as_deref(), &v.settings, now_ms()).await?;
    let updated = updated.ok_or_else(finished)?;
    Ok(Json(view(&state, updated).await?))
}

pub(super) fn finished() -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "CAMPAIGN_FINISHED", "the campaign is completed or canceled")
}

/// `DELETE /api/campaigns/{id}`: only drafts and finished campaigns (409 otherwise: pause or
/// cancel first), with their members and attempts; their calls stay in the call log.
pub async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let c = load(&state, &id).await?;
    if !matches!(c.status, CampaignStatus::Draft | CampaignStatus::Completed | CampaignStatus::Canceled) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "CAMPAIGN_ACTIVE",
            "cancel the campaign before deleting it",
        ));
    }
    state.store.delete_campaign(&c.id).await?;
    state.live.remove_campaign(c.id.as_str());
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/campaigns/{id}/contacts` body: exactly one of the three.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JoinRequest {
    /// These contacts.
    pub contact_ids: Option<Vec<String>>,
    /// Every contact with this tag.
    pub tag: Option<String>,
    /// Every contact.
    #[serde(default)]
    pub all: bool,
}

fn ids(raw: &[String]) -> ApiResult<Vec<ContactId>> {
    raw.iter()
        .map(|i| {
            ContactId::parse(i)
                .map_err(|_| ApiError::invalid("contactIds", format!("{i:?} is not a contact id")))
        })
        .collect()
}

/// `POST /api/campaigns/{id}/contacts`: `{added}`; contacts already in it are left alone.
pub async fn add_contacts(
    State(state): State<AppState>,
    Path(id): Path<String>,
    b: Result<Json<JoinRequest>, JsonRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let c = load(&state, &id).await?;
    if c.status.is_final() {
        return Err(finished());
    }
    let req = body(b)?;
    let contact_ids = match (req.contact_ids, req.tag.filter(|t| !t.trim().is_empty()), req.all) {
        (Some(list), None, false) if list.len() <= 100_000 => ids(&list)?,
        (None, Some(tag), false) => {
            state.store.contact_ids(&ContactFilter { search: None, tag: Some(tag) }, MAX_JOIN).await?
        }
        (None, None, true) => state.store.contact_ids(&ContactFilter::default(), MAX_JOIN).await?,
        _ => {
            return Err(ApiError::invalid(
                "contactIds",
                "give contactIds (at most 100000), a tag, or all: true",
            ));
        }
    };
    let added = join::join_ids(&state, &c, &contact_ids, now_ms()).await?;
    Ok(Json(serde_json::json!({ "added": added })))
}

/// `DELETE /api/campaigns/{id}/contacts` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LeaveRequest {
    /// Contacts to take out (those not yet dialled or skipped).
    pub contact_ids: Vec<String>,
}

/// `DELETE /api/campaigns/{id}/contacts`: `{removed}`.
pub async fn remove_contacts(
    State(state): State<AppState>,
    Path(id): Path<String>,
    b: Result<Json<LeaveRequest>, JsonRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let c = load(&state, &id).await?;
    let removed = state.store.remove_members(&c.id, &ids(&body(b)?.contact_ids)?).await?;
    Ok(Json(serde_json::json!({ "removed": removed })))
}

/// A member with the contact's name and number.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    /// The member.
    #[serde(flatten)]
    pub member: Member,
    /// The contact's name (absent for a deleted contact).
    pub name: Option<String>,
    /// The contact's number (absent for a deleted contact).
    pub phone: Option<PhoneNumber>,
}

/// `GET /api/campaigns/{id}/contacts` query.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MembersQuery {
    /// Comma-separated member states.
    pub state: Option<String>,
    /// Items to skip.
    pub offset: Option<u64>,
    /// Items to return (default 50).
    pub limit: Option<u64>,
}

/// `GET /api/campaigns/{id}/contacts`: members in joining order, with name and number (two
/// queries per page, never one per member).
pub async fn members(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<MembersQuery>,
) -> ApiResult<Json<Paged<MemberView>>> {
    let c = load(&state, &id).await?;
    let mut states = Vec::new();
    for s in q.state.as_deref().unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()) {
        states.push(
            MemberState::parse(s)
                .ok_or_else(|| ApiError::invalid("state", format!("unknown state {s:?}")))?,
        );
    }
    let page = Page { offset: q.offset.unwrap_or(0), limit: q.limit.unwrap_or(50) };
    let found = state.store.list_members(&c.id, &states, page).await?;
    let ids: Vec<ContactId> = found.items.iter().map(|m| m.contact_id.clone()).collect();
    let contacts: HashMap<ContactId, _> =
        state.store.get_contacts(&ids).await?.into_iter().map(|c| (c.id.clone(), c)).collect();
    let items = found
        .items
        .into_iter()
        .map(|m| {
            let contact = contacts.get(&m.contact_id);
            MemberView {
                name: contact.and_then(|c| c.name.clone()),
                phone: contact.map(|c| c.phone.clone()),
                member: m,
            }
        })
        .collect();
    Ok(Json(Paged { items, total: found.total, offset: found.offset, limit: found.limit }))
}

/// `GET /api/campaigns/{id}/attempts` query.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptsQuery {
    /// One contact's attempts.
    pub contact_id: Option<String>,
    /// Items to skip.
    pub offset: Option<u64>,
    /// Items to return (default 100).
    pub limit: Option<u64>,
}

/// `GET /api/campaigns/{id}/attempts`: dial attempts, oldest first.
pub async fn attempts(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<AttemptsQuery>,
) -> ApiResult<Json<Paged<Attempt>>> {
    let c = load(&state, &id).await?;
    let contact = match q.contact_id.as_deref() {
        Some(raw) => {
            Some(ContactId::parse(raw).map_err(|_| ApiError::invalid("contactId", "not a contact id"))?)
        }
        None => None,
    };
    let page = Page { offset: q.offset.unwrap_or(0), limit: q.limit.unwrap_or(100) };
    Ok(Json(state.store.list_attempts(&c.id, contact.as_ref(), page).await?))
}
