//! Twilio's requests to us: the TwiML fetch when a call is answered, the fallback, and the
//! status, answering-machine, recording and media-stream callbacks (the last two also feed
//! [`crate::amd`] and [`crate::recordings`]; a terminal status decides the outcome and schedules
//! the call's finalization, [`crate::post_call`]). Every one is signature-checked first
//! ([`super::signed`]); each callback is stored in the call's audit log with a deduplication key
//! (so a retried or duplicated callback changes nothing) and applied with monotonic writes.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use secrecy::ExposeSecret;
use serde_json::{Map, Value};

use super::signed::{TwilioRequest, verify};
use crate::calls::model::{Call, CallError, CallEvent, SetOnce, StatusUpdate};
use crate::state::AppState;
use crate::store::StoreError;
use crate::twiml;
use common::call::{AnsweredBy, CallStatus, Party, TerminatedBy};
use common::ids::{CallId, CallSid};

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

fn params_json(req: &TwilioRequest) -> Value {
    let mut map = Map::new();
    for (k, v) in req.params.iter().chain(req.query.iter()) {
        map.entry(k.clone()).or_insert_with(|| Value::String(v.clone()));
    }
    Value::Object(map)
}

/// The call a Twilio request is about: by our `call` query parameter, else by `CallSid`.
async fn find_call(state: &AppState, req: &TwilioRequest) -> Result<Option<Call>, StoreError> {
    if let Some(id) = req.query("call").and_then(|id| CallId::parse(id).ok())
        && let Some(call) = state.store.get_call(&id).await?
    {
        return Ok(Some(call));
    }
    match req.get("CallSid").and_then(|s| CallSid::parse(s).ok()) {
        Some(sid) => state.store.get_call_by_sid(&sid).await,
        None => Ok(None),
    }
}

fn internal(e: StoreError) -> Response {
    tracing::error!(error = %e, "store failure while handling a Twilio request");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// `/outbound-call-twiml?call=<id>`: bridges the answered call to media-proxy with a fresh
/// stream token bound to it. Unknown or finished calls get the apology.
pub async fn outbound_twiml(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = match verify(&state, &method, &uri, &headers, &body) {
        Ok(r) => r,
        Err(status) => return status.into_response(),
    };
    let call = match find_call(&state, &req).await {
        Ok(Some(call)) => call,
        Ok(None) => {
            tracing::warn!("TwiML requested for an unknown call");
            return xml(twiml::apology());
        }
        Err(e) => return internal(e),
    };
    if let Err(e) = apply_callback(&state, &call, &req, "twiml_fetch").await {
        return internal(e);
    }
    let secret = state.settings.stream_token_secret.expose_secret().as_bytes();
    let ttl = i64::try_from(state.settings.stream_token_ttl.as_secs()).unwrap_or(120);
    let token = common::stream_token::issue(secret, &call.id, Utc::now().timestamp(), ttl);
    let stream_callback = format!(
        "{}/stream-status-callback?call={}",
        state.settings.server_url.trim_end_matches('/'),
        call.id
    );
    xml(twiml::connect_stream(&state.settings.media_proxy_url, call.id.as_str(), &token, &stream_callback))
}

/// `/fallback-twiml`: Twilio could not use our TwiML. Apologise, hang up, mark the call failed.
pub async fn fallback_twiml(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = match verify(&state, &method, &uri, &headers, &body) {
        Ok(r) => r,
        Err(status) => return status.into_response(),
    };
    if let Ok(Some(call)) = find_call(&state, &req).await {
        let message =
            format!("Twilio used the fallback TwiML (error {})", req.get("ErrorCode").unwrap_or("unknown"));
        let result = async {
            let ev = CallEvent::new(&call.id, "fallback_twiml", "twilio", params_json(&req));
            state.store.append_event(&ev).await?;
            let tb =
                TerminatedBy { party: Party::System, reason: "twiml_error".into(), source: "twilio".into() };
            let fields = SetOnce {
                error: Some(CallError { code: "FALLBACK_TWIML".into(), message }),
                terminated_by: Some(tb),
                ..Default::default()
            };
            state.store.set_once(&call.id, &fields).await?;
            let update = StatusUpdate { status: CallStatus::Failed, at: Utc::now() };
            state.store.advance_status(&call.id, &update).await
        }
        .await;
        match result {
            Ok(Some(updated)) => state.live.publish_call(&updated, false),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "could not record the fallback"),
        }
    }
    xml(twiml::apology())
}

/// Stores a callback in the audit log and applies what it says. Returns false for a duplicate.
async fn apply_callback(
    state: &AppState,
    call: &Call,
    req: &TwilioRequest,
    kind: &str,
) -> Result<bool, StoreError> {
    let status = req.get("CallStatus").unwrap_or("");
    let seq = req.get("SequenceNumber").unwrap_or("-");
    let mut event = CallEvent::new(&call.id, kind, "twilio", params_json(req));
    let key = match kind {
        "status" => Some(format!("status:{seq}:{status}")),
        "amd" => Some(format!("amd:{}", req.get("AnsweredBy").unwrap_or(""))),
        "recording" => Some(format!(
            "recording:{}:{}",
            req.get("RecordingSid").unwrap_or(""),
            req.get("RecordingStatus").unwrap_or("")
        )),
        "stream" => Some(format!(
            "stream:{}:{}",
            req.get("StreamSid").unwrap_or(""),
            req.get("StreamEvent").unwrap_or("")
        )),
        _ => None,
    };
    if let Some(key) = key {
        event = event.dedupe(key);
    }
    if !state.store.append_event(&event).await? {
        return Ok(false);
    }
    let fields = SetOnce {
        call_sid: req.get("CallSid").and_then(|s| CallSid::parse(s).ok()),
        twilio_duration_secs: req.get("CallDuration").and_then(|d| d.parse().ok()),
        answered_by: req.get("AnsweredBy").and_then(AnsweredBy::parse),
        ..Default::default()
    };
    let mut latest = state.store.set_once(&call.id, &fields).await?;
    if let Some(new_status) = CallStatus::parse(status) {
        let update = StatusUpdate { status: new_status, at: Utc::now() };
        if let Some(updated) = state.store.advance_status(&call.id, &update).await? {
            latest = Some(updated);
            if new_status.is_terminal() {
                latest = on_ended(state, &call.id, new_status).await?.or(latest);
                // The outcome is decided and the finalization scheduled before the call is
                // pushed, so live views get the ended call with its outcome in one update.
                match crate::post_call::ended(state, &call.id).await {
                    Ok((Some(with_outcome), _)) => latest = Some(with_outcome),
                    Ok((None, _)) => {}
                    Err(e) => tracing::error!(call_id = %call.id, error = %e, "cannot schedule finalization"),
                }
            }
        }
    }
    if let Some(call) = latest {
        state.live.publish_call(&call, false);
    }
    Ok(true)
}

/// Terminal statuses that say by themselves who ended the call (nobody answered, line busy,
/// dial failed, cancelled before answer). For answered calls, media-proxy or an operator is the
/// authoritative observer.
async fn on_ended(state: &AppState, id: &CallId, status: CallStatus) -> Result<Option<Call>, StoreError> {
    state.hangups.remove(id);
    let reason = match status {
        CallStatus::Busy => "busy",
        CallStatus::NoAnswer => "no_answer",
        CallStatus::Failed => "dial_failed",
        CallStatus::Canceled => "canceled",
        _ => return Ok(None),
    };
    let tb =
        TerminatedBy { party: Party::System, reason: reason.into(), source: "twilio-status-callback".into() };
    state.store.set_once(id, &SetOnce { terminated_by: Some(tb), ..Default::default() }).await
}

/// Shared body of the callback endpoints: verify, find the call, store and apply.
async fn callback(
    state: AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    kind: &str,
) -> Response {
    let req = match verify(&state, &method, &uri, &headers, &body) {
        Ok(r) => r,
        Err(status) => return status.into_response(),
    };
    match find_call(&state, &req).await {
        Ok(Some(call)) => match apply_callback(&state, &call, &req, kind).await {
            Ok(new) => match after_callback(&state, &call, &req, kind, new).await {
                Ok(()) => StatusCode::OK.into_response(),
                Err(e) => internal(e),
            },
            Err(e) => internal(e),
        },
        Ok(None) => {
            tracing::warn!(kind, "Twilio callback for an unknown call");
            StatusCode::OK.into_response()
        }
        Err(e) => internal(e),
    }
}

/// What the AMD and recording callbacks do beyond the audit log and the call's fields:
/// - `recording`: the recording is upserted (idempotent and monotonic on its own, so it runs
///   for a repeated callback too: a failed first attempt is then repaired by Twilio's retry);
/// - `amd`: a new verdict (not a repeat) is handed to the call's answering-machine policy,
///   which runs after the answer because it talks to Twilio.
async fn after_callback(
    state: &AppState,
    call: &Call,
    req: &TwilioRequest,
    kind: &str,
    new: bool,
) -> Result<(), StoreError> {
    match kind {
        "recording" => {
            let call = state.store.get_call(&call.id).await?.unwrap_or_else(|| call.clone());
            crate::recordings::callback::apply(state, &call, req).await?;
        }
        "amd" if new => {
            let Some(verdict) = req.get("AnsweredBy").and_then(AnsweredBy::parse) else { return Ok(()) };
            let Some(call) = state.store.get_call(&call.id).await? else { return Ok(()) };
            // Only the verdict that was stored (the first) is acted upon.
            if call.answered_by == Some(verdict) {
                let state2 = state.clone();
                state.spawn(async move { crate::amd::apply(&state2, &call, verdict).await });
            }
        }
        "stream" if new && req.get("StreamEvent") == Some("stream-error") => {
            // The call's error says why there was no conversation (unless something said so first).
            let message = format!(
                "Twilio could not open or keep the media stream: {}",
                req.get("StreamError").unwrap_or("no detail")
            );
            let fields = SetOnce {
                error: Some(CallError { code: "STREAM_ERROR".into(), message }),
                ..Default::default()
            };
            if let Some(call) = state.store.set_once(&call.id, &fields).await? {
                state.live.publish_call(&call, false);
            }
        }
        _ => {}
    }
    Ok(())
}

/// `/stream-status-callback?call=<id>`: the media stream started, stopped or failed (§2.6;
/// informational: the call's own status callbacks decide its state). Kept in the call's log; a
/// failure becomes the call's error.
pub async fn stream_callback(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    callback(state, method, uri, headers, body, "stream").await
}

/// `/call-status-callback`.
pub async fn status_callback(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    callback(state, method, uri, headers, body, "status").await
}

/// `/amd-status-callback`: the answering-machine verdict.
pub async fn amd_callback(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    callback(state, method, uri, headers, body, "amd").await
}

/// `/recording-status-callback`.
pub async fn recording_callback(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    callback(state, method, uri, headers, body, "recording").await
}
