//! `/api/calls` handlers: create, list, get, events, active, hang up; and the replaced system's
//! `POST /api/outbound-call` alias.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::json;

use super::model::{Call, CallEvent, CallFilter, Page, Paged};
use super::service::{self, HangupError, PlaceError};
use super::validate::{self, CallRequest};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use common::call::{CallStatus, Outcome, Party, TerminatedBy};
use common::events::live::LiveCall;
use common::ids::{CallId, CallSid, CampaignId, ContactId};

fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    body.map(|Json(b)| b).map_err(|e| ApiError::bad_request(e.body_text()))
}

fn place_error(e: PlaceError) -> ApiError {
    match e {
        PlaceError::Store(e) => ApiError::from(e),
        PlaceError::DoNotCall(entry) => {
            let reason = entry.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
            let mut err = ApiError::invalid(
                "to",
                format!(
                    "this number is on the do-not-call list since {}{reason}",
                    entry.created_at.date_naive()
                ),
            );
            err.code = "DO_NOT_CALL";
            err
        }
        PlaceError::Twilio { call, error } => {
            let field = match error.code() {
                Some(21211 | 21217 | 21214 | 21215 | 21216 | 21219) => Some("to"),
                Some(21210 | 21212) => Some("callerId"),
                _ => None,
            };
            let mut err = match field {
                Some(f) => ApiError::invalid(f, format!("Twilio refused the call: {error}")),
                None => ApiError::upstream(
                    "TWILIO_ERROR",
                    format!("Twilio did not place the call: {error}"),
                    &error,
                ),
            };
            err.message = format!("{} (call {})", err.message, call.id);
            err
        }
    }
}

/// `POST /api/calls`: validates, stores and dials. 201 with the call; 200 with the first call
/// when the `Idempotency-Key` was seen before.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<CallRequest>, JsonRejection>,
) -> ApiResult<Response> {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let new = validate::new_call(json_body(body)?, key, &state.settings)?;
    let placed = service::place_call_detached(&state, new).await.map_err(place_error)?;
    let status = if placed.existing { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(placed.call)).into_response())
}

/// The replaced system's body for `POST /api/outbound-call`.
#[derive(Debug, Deserialize)]
pub struct LegacyRequest {
    number: Option<String>,
    prompt: Option<String>,
    first_message: Option<String>,
    name: Option<String>,
    #[serde(rename = "callerId")]
    caller_id: Option<String>,
    #[serde(rename = "campaignId")]
    campaign_id: Option<String>,
    #[serde(rename = "contactId")]
    contact_id: Option<String>,
}

/// `POST /api/outbound-call`: compatibility alias answering `{success, callSid, …}`.
pub async fn outbound_call_alias(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<LegacyRequest>, JsonRejection>,
) -> Response {
    let result = async {
        let b = json_body(body)?;
        let req = CallRequest {
            to: b.number,
            name: b.name,
            prompt: b.prompt,
            first_message: b.first_message,
            caller_id: b.caller_id,
            campaign_id: b.campaign_id,
            contact_id: b.contact_id,
            ..Default::default()
        };
        let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let new = validate::new_call(req, key, &state.settings)?;
        service::place_call_detached(&state, new).await.map_err(place_error)
    }
    .await;
    match result {
        Ok(placed) => Json(json!({
            "success": true,
            "message": "Call initiated",
            "callSid": placed.call.call_sid,
            "callId": placed.call.id,
            "status": placed.call.status,
        }))
        .into_response(),
        Err(e) => {
            let body = json!({ "success": false, "error": e.message, "code": e.code, "field": e.field });
            (e.status, Json(body)).into_response()
        }
    }
}

/// `GET /api/calls` query.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Comma-separated statuses.
    status: Option<String>,
    /// Comma-separated outcomes.
    outcome: Option<String>,
    /// Part of the number called.
    phone: Option<String>,
    /// Campaign id.
    campaign_id: Option<String>,
    /// Contact id.
    contact_id: Option<String>,
    /// Created at or after (RFC 3339 or YYYY-MM-DD).
    from: Option<String>,
    /// Created before (RFC 3339, or YYYY-MM-DD meaning the end of that day).
    to: Option<String>,
    /// Items to skip.
    offset: Option<u64>,
    /// Items to return (1..=1000, default 50).
    limit: Option<u64>,
}

fn parse_time(field: &str, raw: &str, end_of_day: bool) -> ApiResult<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        ApiError::invalid(field, format!("{field} must be a date (YYYY-MM-DD) or an RFC 3339 time"))
    })?;
    let date = if end_of_day { date.succ_opt().unwrap_or(date) } else { date };
    Ok(date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

fn parse_list<T>(field: &str, raw: Option<&str>, parse: impl Fn(&str) -> Option<T>) -> ApiResult<Vec<T>> {
    raw.into_iter()
        .flat_map(|r| r.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| parse(s).ok_or_else(|| ApiError::invalid(field, format!("unknown {field} {s:?}"))))
        .collect()
}

/// Turns the query into a filter and a page.
pub fn filter_from_query(q: &ListQuery) -> ApiResult<(CallFilter, Page)> {
    let filter = CallFilter {
        statuses: parse_list("status", q.status.as_deref(), CallStatus::parse)?,
        outcomes: parse_list("outcome", q.outcome.as_deref(), Outcome::parse)?,
        phone: q
            .phone
            .as_ref()
            .map(|p| p.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect::<String>())
            .filter(|p| !p.is_empty()),
        campaign_id: q
            .campaign_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(CampaignId::parse)
            .transpose()
            .map_err(|_| ApiError::invalid("campaignId", "campaignId is not a valid id"))?,
        contact_id: q
            .contact_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(ContactId::parse)
            .transpose()
            .map_err(|_| ApiError::invalid("contactId", "contactId is not a valid id"))?,
        created_from: q
            .from
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| parse_time("from", s, false))
            .transpose()?,
        created_to: q
            .to
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| parse_time("to", s, true))
            .transpose()?,
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit must be between 1 and 1000"));
    }
    Ok((filter, Page { offset: q.offset.unwrap_or(0), limit }))
}

/// `GET /api/calls`: filtered, newest first, paginated.
pub async fn list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult<Json<Paged<Call>>> {
    let (filter, page) = filter_from_query(&q)?;
    Ok(Json(state.store.list_calls(&filter, page).await?))
}

/// Finds a call by internal id or CallSid.
pub async fn find(state: &AppState, id: &str) -> ApiResult<Call> {
    let found = if let Ok(id) = CallId::parse(id) {
        state.store.get_call(&id).await?
    } else if let Ok(sid) = CallSid::parse(id) {
        state.store.get_call_by_sid(&sid).await?
    } else {
        None
    };
    found.ok_or_else(|| ApiError::not_found("CALL_NOT_FOUND", format!("no call {id}")))
}

/// `GET /api/calls/{id}` (internal id or CallSid).
pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Call>> {
    Ok(Json(find(&state, &id).await?))
}

/// `GET /api/calls/{id}/events`: the audit log, oldest first.
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<CallEvent>>> {
    let call = find(&state, &id).await?;
    Ok(Json(state.store.list_events(&call.id, 5_000).await?))
}

/// `GET /api/calls/active`: the live registry.
pub async fn active(State(state): State<AppState>) -> Json<Vec<LiveCall>> {
    Json(state.live.snapshot())
}

/// `POST /api/calls/{id}/hangup`: ends a live call through Twilio. 202 when requested.
pub async fn hangup(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let call = find(&state, &id).await?;
    let who =
        TerminatedBy { party: Party::Operator, reason: "operator_hangup".into(), source: principal.label() };
    match service::hang_up(&state, &call, who).await {
        Ok(()) => {
            Ok((StatusCode::ACCEPTED, Json(json!({ "id": call.id, "hangup": "requested" }))).into_response())
        }
        Err(HangupError::AlreadyEnded) => {
            Err(ApiError::new(StatusCode::CONFLICT, "CALL_ALREADY_ENDED", "the call has already ended"))
        }
        Err(HangupError::NotDialled) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "CALL_NOT_DIALLED",
            "the call has not reached Twilio yet; try again in a moment",
        )),
        Err(HangupError::Twilio(e)) => {
            Err(ApiError::upstream("TWILIO_ERROR", format!("Twilio refused: {e}"), &e))
        }
        Err(HangupError::Store(e)) => Err(e.into()),
    }
}
