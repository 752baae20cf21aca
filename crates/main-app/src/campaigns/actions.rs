//! Starting, pausing, resuming and canceling a campaign, and checking its templates.
//!
//! Each state change is one conditional write in the store, made before the API answers; the
//! engine's next attempt is refused by the store once the campaign is not running. A pause or
//! cancel then waits (up to [`DIAL_DRAIN`]) for the dials that had already begun to reach
//! Twilio, so once it has answered no request to create a call is made for the campaign. The
//! new progress is pushed live at once.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::handlers::{CampaignView, body, finished, load, view};
use super::model::{Campaign, CampaignStatus, MemberState};
use super::progress::{self, Progress};
use super::template;
use crate::calls::model::Page;
use crate::calls::service::{self, HangupError};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{StoreResult, now_ms};
use common::call::{Party, TerminatedBy};
use common::ids::ContactId;
use common::phone::PhoneNumber;

use CampaignStatus::{Canceled, Draft, Paused, Running, Scheduled};

/// Longest a pause or cancel waits for dials already under way.
pub const DIAL_DRAIN: std::time::Duration = std::time::Duration::from_secs(10);

/// Contacts examples listed when variables are missing.
const MAX_EXAMPLES: usize = 50;
/// Members read per page while checking templates.
const PAGE: u64 = 1000;

/// A contact lacking template variables.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MissingVariables {
    /// The contact.
    pub contact_id: ContactId,
    /// Its name.
    pub name: Option<String>,
    /// Its number.
    pub phone: PhoneNumber,
    /// The variables it lacks.
    pub variables: Vec<String>,
}

/// The result of checking a campaign's templates against its contacts.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateCheck {
    /// True when every contact still to be called has every variable.
    pub ok: bool,
    /// Contacts checked.
    pub checked: u64,
    /// Contacts lacking something.
    pub missing_count: u64,
    /// The first of them.
    pub missing: Vec<MissingVariables>,
}

/// Checks the templates of `campaign` against its unfinished members.
pub async fn check_templates(state: &AppState, campaign: &Campaign) -> StoreResult<TemplateCheck> {
    let s = &campaign.settings;
    let templates: Vec<&str> =
        [s.prompt.as_deref(), s.first_message.as_deref()].into_iter().flatten().collect();
    let mut check = TemplateCheck { ok: true, checked: 0, missing_count: 0, missing: Vec::new() };
    let states = [MemberState::Pending, MemberState::Claimed];
    let mut offset = 0;
    loop {
        let page = state.store.list_members(&campaign.id, &states, Page { offset, limit: PAGE }).await?;
        let ids: Vec<ContactId> = page.items.iter().map(|m| m.contact_id.clone()).collect();
        for c in state.store.get_contacts(&ids).await? {
            check.checked += 1;
            let lacking = template::missing(&templates, &template::contact_variables(&c));
            if !lacking.is_empty() {
                check.ok = false;
                check.missing_count += 1;
                if check.missing.len() < MAX_EXAMPLES {
                    check.missing.push(MissingVariables {
                        contact_id: c.id,
                        name: c.name,
                        phone: c.phone,
                        variables: lacking,
                    });
                }
            }
        }
        offset += page.items.len() as u64;
        if page.items.len() < PAGE as usize {
            return Ok(check);
        }
    }
}

/// `POST /api/campaigns/{id}/check`: the template check, without starting.
pub async fn check(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<TemplateCheck>> {
    let c = load(&state, &id).await?;
    Ok(Json(check_templates(&state, &c).await?))
}

fn wrong_state(c: &Campaign, action: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "INVALID_STATE",
        format!("cannot {action} a {} campaign", c.status.as_str()),
    )
}

async fn changed(state: &AppState, c: Campaign) -> ApiResult<Json<CampaignView>> {
    let v = view(state, c).await?;
    state.live.publish_campaign(v.progress.to_live());
    Ok(Json(v))
}

/// `POST /api/campaigns/{id}/start` body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartRequest {
    /// Start at this instant instead of now (the campaign is scheduled).
    pub at: Option<DateTime<Utc>>,
}

/// `POST /api/campaigns/{id}/start`: a draft (or scheduled) campaign starts now, or is
/// scheduled. Refused (422) without contacts, or while a contact lacks a template variable (the
/// body lists who lacks what).
pub async fn start(
    State(state): State<AppState>,
    Path(id): Path<String>,
    b: Option<Json<StartRequest>>,
) -> ApiResult<Response> {
    let mut c = load(&state, &id).await?;
    if !matches!(c.status, Draft | Scheduled) {
        return Err(wrong_state(&c, "start"));
    }
    let now = now_ms();
    if state.store.member_stats(&c.id).await?.total == 0 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "NO_CONTACTS",
            "add contacts before starting",
        ));
    }
    let check = check_templates(&state, &c).await?;
    if !check.ok {
        let message = format!("{} contacts lack template variables", check.missing_count);
        let body = json!({ "error": { "code": "TEMPLATE_VARIABLES_MISSING", "message": message, "details": check } });
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
    }
    if let Some(at) = b.and_then(|Json(r)| r.at) {
        let mut settings = c.settings.clone();
        settings.start_at = Some(at);
        c = state
            .store
            .update_campaign(&c.id, &c.name, c.description.as_deref(), &settings, now)
            .await?
            .ok_or_else(finished)?;
    }
    let to = if c.settings.start_at.is_some_and(|s| s > now) { Scheduled } else { Running };
    let moved = state.store.set_status(&c.id, &[Draft, Scheduled], to, None, now).await?;
    let moved = moved.ok_or_else(|| wrong_state(&c, "start"))?;
    tracing::info!(campaign_id = %moved.id, status = moved.status.as_str(), "campaign started");
    Ok(changed(&state, moved).await?.into_response())
}

/// `POST /api/campaigns/{id}/pause`: no dial begins after this answers.
pub async fn pause(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<CampaignView>> {
    let c = load(&state, &id).await?;
    let moved = state.store.set_status(&c.id, &[Running, Scheduled], Paused, None, now_ms()).await?;
    let moved = moved.ok_or_else(|| wrong_state(&c, "pause"))?;
    drain_dials(&state, &moved).await?;
    tracing::info!(campaign_id = %moved.id, "campaign paused");
    changed(&state, moved).await
}

/// `POST /api/campaigns/{id}/resume`: a paused campaign runs again (or waits for its start date).
pub async fn resume(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<CampaignView>> {
    let c = load(&state, &id).await?;
    let now = now_ms();
    let to = if c.settings.start_at.is_some_and(|s| s > now) { Scheduled } else { Running };
    let moved = state.store.set_status(&c.id, &[Paused], to, None, now).await?;
    let moved = moved.ok_or_else(|| wrong_state(&c, "resume"))?;
    tracing::info!(campaign_id = %moved.id, "campaign resumed");
    changed(&state, moved).await
}

/// `POST /api/campaigns/{id}/cancel` body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelRequest {
    /// Also hang up the campaign's calls in progress.
    #[serde(default)]
    pub hang_up: bool,
}

/// `POST /api/campaigns/{id}/cancel`: stops for good; with `hangUp`, ends its live calls too.
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    b: Result<Json<CancelRequest>, JsonRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let c = load(&state, &id).await?;
    let hang_up = match b {
        Ok(Json(r)) => r.hang_up,
        Err(JsonRejection::MissingJsonContentType(_)) => false,
        Err(e) => {
            return Err(body::<CancelRequest>(Err(e))
                .err()
                .unwrap_or_else(|| ApiError::bad_request("bad body")));
        }
    };
    let moved =
        state.store.set_status(&c.id, &[Draft, Scheduled, Running, Paused], Canceled, None, now_ms()).await?;
    let moved = moved.ok_or_else(|| wrong_state(&c, "cancel"))?;
    drain_dials(&state, &moved).await?;
    tracing::info!(campaign_id = %moved.id, hang_up, "campaign canceled");
    let hung_up = if hang_up { hang_up_calls(&state, &moved).await? } else { 0 };
    let v = changed(&state, moved).await?.0;
    Ok(Json(json!({ "campaign": v, "hungUp": hung_up })))
}

/// Waits until no dial of `c` begun before its state changed is still on its way to Twilio (a
/// member `dialing` under a valid lease), for at most [`DIAL_DRAIN`]. A dial whose instance died
/// (expired lease) is not waited for: it is recovered, not placed, while the campaign is stopped.
async fn drain_dials(state: &AppState, c: &Campaign) -> StoreResult<()> {
    let deadline = tokio::time::Instant::now() + DIAL_DRAIN;
    loop {
        let now = now_ms();
        let dialing =
            state.store.list_members(&c.id, &[MemberState::Dialing], Page { offset: 0, limit: 1000 }).await?;
        if !dialing.items.iter().any(|m| m.lease_until.is_some_and(|l| l > now)) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(campaign_id = %c.id, "dials still under way after the pause; answering anyway");
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Hangs up every call of the campaign still in progress; returns how many.
async fn hang_up_calls(state: &AppState, c: &Campaign) -> ApiResult<u64> {
    let flying = state
        .store
        .list_members(&c.id, &[MemberState::Dialing, MemberState::Live], Page { offset: 0, limit: 1000 })
        .await?;
    let who =
        TerminatedBy { party: Party::Operator, reason: "campaign_canceled".into(), source: "api".into() };
    let mut n = 0;
    for m in flying.items {
        let Some(call_id) = m.call_id else { continue };
        let Some(call) = state.store.get_call(&call_id).await? else { continue };
        match service::hang_up(state, &call, who.clone()).await {
            Ok(()) => n += 1,
            Err(HangupError::AlreadyEnded | HangupError::NotDialled) => {}
            Err(e) => {
                tracing::warn!(call_id = %call.id, error = %e, "cannot hang up a canceled campaign's call")
            }
        }
    }
    Ok(n)
}

/// `GET /api/campaigns/{id}/progress`.
pub async fn progress(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Progress>> {
    let c = load(&state, &id).await?;
    Ok(Json(progress::compute(&*state.store, &c, now_ms()).await?))
}
