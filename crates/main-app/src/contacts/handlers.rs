//! `/api/contacts` handlers: list, get, create, update, delete, bulk delete, tags, call
//! history, and marking a contact do-not-call.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::model::{Contact, ContactFilter, ContactInsert, ContactUpdate, DncEntry};
use super::tz::{self, ZoneSource};
use super::validate::{self, ContactInput};
use crate::calls::model::{Call, CallFilter, Page, Paged};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::now_ms;
use common::ids::ContactId;

/// A contact as the API returns it: the record, the zone used for calling windows and where it
/// came from, and its do-not-call entry if listed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactView {
    /// The record.
    #[serde(flatten)]
    pub contact: Contact,
    /// The zone used when no campaign default applies (explicit or from the number).
    pub effective_time_zone: Option<String>,
    /// `contact`, `number`, or `campaign` (the campaign's default zone will apply).
    pub time_zone_source: ZoneSource,
    /// Its do-not-call entry, if the number is listed.
    pub dnc: Option<DncEntry>,
}

/// Views of `contacts`, with their DNC entries read in one query.
pub async fn views(state: &AppState, contacts: Vec<Contact>) -> ApiResult<Vec<ContactView>> {
    let phones: Vec<_> = contacts.iter().map(|c| c.phone.clone()).collect();
    let dnc: HashMap<String, DncEntry> =
        state.store.dnc_among(&phones).await?.into_iter().map(|e| (e.phone.to_string(), e)).collect();
    Ok(contacts
        .into_iter()
        .map(|c| {
            let (zone, source) =
                match (c.time_zone.as_deref().and_then(|z| tz::parse_zone(z).ok()), tz::infer(&c.phone)) {
                    (Some(z), _) => (Some(z.name().to_owned()), ZoneSource::Contact),
                    (None, Some(z)) => (Some(z.name().to_owned()), ZoneSource::Number),
                    (None, None) => (None, ZoneSource::Campaign),
                };
            let dnc = dnc.get(c.phone.as_str()).cloned();
            ContactView { contact: c, effective_time_zone: zone, time_zone_source: source, dnc }
        })
        .collect())
}

async fn view(state: &AppState, contact: Contact) -> ApiResult<ContactView> {
    let mut v = views(state, vec![contact]).await?;
    v.pop().ok_or_else(|| ApiError::internal("view of one contact is empty"))
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    b.map(|Json(v)| v).map_err(|e| ApiError::bad_request(e.body_text()))
}

/// A contact id from the path.
pub fn contact_id(raw: &str) -> ApiResult<ContactId> {
    ContactId::parse(raw).map_err(|_| ApiError::not_found("CONTACT_NOT_FOUND", "no such contact"))
}

async fn load(state: &AppState, raw: &str) -> ApiResult<Contact> {
    let id = contact_id(raw)?;
    state
        .store
        .get_contact(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("CONTACT_NOT_FOUND", "no such contact"))
}

fn conflict(existing: &ContactId) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::CONFLICT,
        "CONTACT_EXISTS",
        format!("another contact ({existing}) has this number"),
    );
    e.field = Some("phone".into());
    e
}

/// `GET /api/contacts` query.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Part of the name, number or email.
    pub search: Option<String>,
    /// A tag.
    pub tag: Option<String>,
    /// Items to skip.
    pub offset: Option<u64>,
    /// Items to return (default 50).
    pub limit: Option<u64>,
}

impl ListQuery {
    /// The store filter.
    pub fn filter(&self) -> ContactFilter {
        ContactFilter { search: self.search.clone(), tag: self.tag.clone().filter(|t| !t.trim().is_empty()) }
    }
}

/// `GET /api/contacts`.
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Paged<ContactView>>> {
    let page = Page { offset: q.offset.unwrap_or(0), limit: q.limit.unwrap_or(50) };
    let found = state.store.list_contacts(&q.filter(), page).await?;
    let items = views(&state, found.items).await?;
    Ok(Json(Paged { items, total: found.total, offset: found.offset, limit: found.limit }))
}

/// `POST /api/contacts`: 201 with the contact; 409 `CONTACT_EXISTS` when the number is taken.
pub async fn create(
    State(state): State<AppState>,
    b: Result<Json<ContactInput>, JsonRejection>,
) -> ApiResult<Response> {
    let contact = validate::contact(body(b)?, ContactId::new(), now_ms(), &state.settings)?;
    match state.store.insert_contact(&contact).await? {
        ContactInsert::New(c) => Ok((StatusCode::CREATED, Json(view(&state, *c).await?)).into_response()),
        ContactInsert::PhoneTaken(other) => Err(conflict(&other)),
    }
}

/// `GET /api/contacts/{id}`.
pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<ContactView>> {
    let c = load(&state, &id).await?;
    Ok(Json(view(&state, c).await?))
}

/// `PUT /api/contacts/{id}`: replaces every editable field.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    b: Result<Json<ContactInput>, JsonRejection>,
) -> ApiResult<Json<ContactView>> {
    let old = load(&state, &id).await?;
    let contact = validate::contact(body(b)?, old.id, old.created_at, &state.settings)?;
    match state.store.update_contact(&contact).await? {
        ContactUpdate::Updated(c) => Ok(Json(view(&state, *c).await?)),
        ContactUpdate::NotFound => Err(ApiError::not_found("CONTACT_NOT_FOUND", "no such contact")),
        ContactUpdate::PhoneTaken(other) => Err(conflict(&other)),
    }
}

/// `DELETE /api/contacts/{id}`: 204. Its campaign places are skipped from then on.
pub async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id = contact_id(&id)?;
    match state.store.delete_contacts(&[id]).await? {
        0 => Err(ApiError::not_found("CONTACT_NOT_FOUND", "no such contact")),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

/// `POST /api/contacts/bulk-delete` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkDelete {
    /// Contact ids (at most 10,000).
    pub contact_ids: Vec<String>,
}

/// `POST /api/contacts/bulk-delete`: `{deleted}`; unknown ids are ignored.
pub async fn bulk_delete(
    State(state): State<AppState>,
    b: Result<Json<BulkDelete>, JsonRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let b = body(b)?;
    if b.contact_ids.len() > 10_000 {
        return Err(ApiError::invalid("contactIds", "at most 10000 ids at once"));
    }
    let ids = b
        .contact_ids
        .iter()
        .map(|i| {
            ContactId::parse(i)
                .map_err(|_| ApiError::invalid("contactIds", format!("{i:?} is not a contact id")))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let deleted = state.store.delete_contacts(&ids).await?;
    Ok(Json(serde_json::json!({ "deleted": deleted })))
}

/// `POST /api/contacts/{id}/tags` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TagChange {
    /// Tags to add.
    #[serde(default)]
    pub add: Vec<String>,
    /// Tags to remove.
    #[serde(default)]
    pub remove: Vec<String>,
}

/// `POST /api/contacts/{id}/tags`: adds and removes tags.
pub async fn tags(
    State(state): State<AppState>,
    Path(id): Path<String>,
    b: Result<Json<TagChange>, JsonRejection>,
) -> ApiResult<Json<ContactView>> {
    let change = body(b)?;
    let mut c = load(&state, &id).await?;
    let remove: Vec<String> = change.remove.iter().map(|t| t.trim().to_owned()).collect();
    let mut all: Vec<String> = c.tags.into_iter().filter(|t| !remove.contains(t)).collect();
    all.extend(change.add);
    c.tags = validate::tags(all)?;
    c.updated_at = now_ms();
    match state.store.update_contact(&c).await? {
        ContactUpdate::Updated(c) => Ok(Json(view(&state, *c).await?)),
        _ => Err(ApiError::not_found("CONTACT_NOT_FOUND", "no such contact")),
    }
}

/// `GET /api/contacts/{id}/calls`: the contact's calls, newest first.
pub async fn calls(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Paged<Call>>> {
    let c = load(&state, &id).await?;
    let filter = CallFilter { contact_id: Some(c.id), ..Default::default() };
    let page = Page { offset: q.offset.unwrap_or(0), limit: q.limit.unwrap_or(50) };
    Ok(Json(state.store.list_calls(&filter, page).await?))
}

/// `POST /api/contacts/{id}/dnc` body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DncReason {
    /// Why.
    pub reason: Option<String>,
}

/// `POST /api/contacts/{id}/dnc`: lists the contact's number (201, or 200 if already listed).
pub async fn mark_dnc(
    State(state): State<AppState>,
    Path(id): Path<String>,
    b: Result<Json<DncReason>, JsonRejection>,
) -> ApiResult<Response> {
    let c = load(&state, &id).await?;
    let reason = validate::text("reason", body(b)?.reason, 500)?;
    let entry = DncEntry { phone: c.phone.clone(), reason, source: "contact".into(), created_at: now_ms() };
    let status = if state.store.add_dnc(&entry).await? { StatusCode::CREATED } else { StatusCode::OK };
    let stored = state.store.get_dnc(&c.phone).await?.unwrap_or(entry);
    Ok((status, Json(stored)).into_response())
}

/// `DELETE /api/contacts/{id}/dnc`: unlists the contact's number (204; 404 if not listed).
pub async fn unmark_dnc(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let c = load(&state, &id).await?;
    if state.store.remove_dnc(&c.phone).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("DNC_NOT_FOUND", "the number is not on the do-not-call list"))
    }
}
