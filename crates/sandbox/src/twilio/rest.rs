//! Calls API handlers (§1.3–1.5): create, fetch, list, update (hang up, cancel, redirect) and
//! delete, under `/2010-04-01/Accounts/{AccountSid}/Calls…`, with Basic auth and Twilio-shaped
//! errors.

use super::auth::authenticate;
use super::call;
use super::error::TwilioError;
use super::params::{CreateCall, Form, Update};
use super::record::CallRecord;
use super::recording_http::page;
use super::registry::{CallEntry, Control};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

fn form(body: &[u8]) -> Result<Form, TwilioError> {
    serde_urlencoded::from_bytes(body).map_err(|_| TwilioError::invalid_param("malformed form body"))
}

/// The call resource JSON (§1.4).
pub(crate) fn resource(r: &CallRecord) -> Value {
    let base = format!("/2010-04-01/Accounts/{}/Calls/{}", r.account_sid, r.sid);
    let updated = r.status_history.last().map_or(r.date_created, |s| s.at);
    json!({
        "sid": r.sid,
        "account_sid": r.account_sid,
        "parent_call_sid": null,
        "to": r.to, "to_formatted": r.to,
        "from": r.from, "from_formatted": r.from,
        "phone_number_sid": format!("PN{}", &r.account_sid[2..]),
        "status": r.status,
        "direction": "outbound-api",
        "answered_by": r.answered_by,
        "start_time": r.start_time.map(|t| t.to_rfc2822()),
        "end_time": r.end_time.map(|t| t.to_rfc2822()),
        "duration": r.duration_secs.filter(|_| r.status == "completed").map(|d| d.to_string()),
        "price": null,
        "price_unit": "USD",
        "api_version": "2010-04-01",
        "caller_name": null,
        "forwarded_from": null,
        "group_sid": null,
        "trunk_sid": null,
        "queue_time": "0",
        "date_created": r.date_created.to_rfc2822(),
        "date_updated": updated.to_rfc2822(),
        "uri": format!("{base}.json"),
        "subresource_uris": {
            "recordings": format!("{base}/Recordings.json"),
            "notifications": format!("{base}/Notifications.json"),
            "events": format!("{base}/Events.json"),
            "streams": format!("{base}/Streams.json"),
        },
    })
}

/// `POST …/Calls.json`.
pub(crate) async fn create(
    State(state): State<AppState>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), TwilioError> {
    let account = authenticate(&state.config.accounts, &account, &headers)?;
    let req = CreateCall::parse(&form(&body)?, account)?;
    let record = call::create(&state, account, req)?;
    Ok((StatusCode::CREATED, Json(resource(&record))))
}

/// `GET …/Calls.json?To=&From=&Status=`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Path(account): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Json<Value>, TwilioError> {
    authenticate(&state.config.accounts, &account, &headers)?;
    let matches = |r: &CallRecord| {
        r.account_sid == account
            && q.get("To").is_none_or(|v| *v == r.to)
            && q.get("From").is_none_or(|v| *v == r.from)
            && q.get("Status").is_none_or(|v| *v == r.status)
    };
    let items: Vec<Value> =
        state.calls.all().iter().rev().map(|e| e.snapshot()).filter(matches).map(|r| resource(&r)).collect();
    Ok(Json(page("calls", &format!("/2010-04-01/Accounts/{account}/Calls.json"), items)))
}

fn find(state: &AppState, account: &str, file: &str) -> Result<Arc<CallEntry>, TwilioError> {
    let sid = file.strip_suffix(".json").unwrap_or(file);
    state
        .calls
        .get(sid)
        .filter(|e| e.read(|r| r.account_sid == account))
        .ok_or_else(|| TwilioError::not_found(&format!("/2010-04-01/Accounts/{account}/Calls/{file}")))
}

/// `GET …/Calls/{CallSid}.json`.
pub(crate) async fn fetch(
    State(state): State<AppState>,
    Path((account, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, TwilioError> {
    authenticate(&state.config.accounts, &account, &headers)?;
    Ok(Json(resource(&find(&state, &account, &file)?.snapshot())))
}

/// `POST …/Calls/{CallSid}.json`: `Status=completed|canceled`, or `Url`/`Twiml` to redirect.
pub(crate) async fn update(
    State(state): State<AppState>,
    Path((account, file)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, TwilioError> {
    authenticate(&state.config.accounts, &account, &headers)?;
    let entry = find(&state, &account, &file)?;
    let update = Update::parse(&form(&body)?)?;
    if entry.read(CallRecord::is_finished) {
        return Err(TwilioError::invalid_state("the call has ended"));
    }
    let (done, ack) = oneshot::channel();
    let control = match update {
        Update::End { cancel } => Control::End { cancel, done },
        Update::Redirect(source) => Control::Redirect { source, done },
    };
    match entry.control.send_timeout(control, Duration::from_secs(2)).await {
        Ok(()) => {
            // A dropped acknowledgement means the call ended meanwhile: render it as it is.
            let _ = tokio::time::timeout(Duration::from_secs(5), ack).await;
        }
        Err(_) => return Err(TwilioError::invalid_state("the call is not accepting updates")),
    }
    Ok(Json(resource(&entry.snapshot())))
}

/// `DELETE …/Calls/{CallSid}.json`: only finished calls can be deleted.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path((account, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, TwilioError> {
    authenticate(&state.config.accounts, &account, &headers)?;
    let entry = find(&state, &account, &file)?;
    if !entry.read(CallRecord::is_finished) {
        return Err(TwilioError::invalid_state("a live call cannot be deleted"));
    }
    state.calls.remove(&entry.read(|r| r.sid.clone()));
    Ok(StatusCode::NO_CONTENT)
}
