//! Placing a call and changing its state: the one implementation every path uses (the REST
//! API, the compatibility alias, the campaign engine, webhooks, media-proxy events).

use chrono::Utc;
use serde_json::{Value, json};
use std::collections::BTreeMap;

use super::model::{Call, CallError, CallEvent, SetOnce, StatusUpdate};
use super::store::Inserted;
use crate::contacts::model::DncEntry;
use crate::state::AppState;
use crate::store::StoreError;
use crate::twilio::{AmdMode, CreateCall, TwilioError};
use common::call::{CallStatus, Party, TerminatedBy};
use common::ids::{CallId, CallSid, CampaignId, ContactId};
use common::phone::PhoneNumber;

/// A validated request to place a call.
#[derive(Debug, Clone, Default)]
pub struct NewCall {
    /// Number to call.
    pub to: Option<PhoneNumber>,
    /// Caller id (must be one of the allowed ids; default `TWILIO_PHONE_NUMBER`).
    pub from: Option<PhoneNumber>,
    /// Contact name.
    pub name: Option<String>,
    /// Prompt override.
    pub prompt: Option<String>,
    /// First message override.
    pub first_message: Option<String>,
    /// Language override.
    pub language: Option<String>,
    /// Dynamic variables.
    pub dynamic_variables: BTreeMap<String, Value>,
    /// Contact reference.
    pub contact_id: Option<ContactId>,
    /// Campaign reference.
    pub campaign_id: Option<CampaignId>,
    /// Makes a retried request return the first call.
    pub idempotency_key: Option<String>,
    /// Answering-machine detection mode for this call (`None`: off).
    pub amd: Option<AmdMode>,
    /// What to do when AMD reports a machine (stored with the call; `None`: the configured
    /// default applies). Its detection mode should be the one in `amd`.
    pub amd_policy: Option<crate::amd::AmdPolicy>,
}

/// The result of [`place_call`].
#[derive(Debug, Clone)]
pub struct Placed {
    /// The stored call.
    pub call: Call,
    /// True when an earlier request with the same idempotency key created it.
    pub existing: bool,
}

/// Why a call could not be placed.
#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    /// The store failed; nothing was dialled.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The number is on the do-not-call list; nothing was stored or dialled.
    #[error("{} is on the do-not-call list", .0.phone.masked())]
    DoNotCall(Box<DncEntry>),
    /// Twilio refused or failed; the call is stored as `failed` (or, when the outcome is
    /// unknown, left `queued` for the status callbacks to settle).
    #[error("{error}")]
    Twilio {
        /// The stored call.
        call: Box<Call>,
        /// What Twilio said.
        error: TwilioError,
    },
}

/// The callback URL for `path`, carrying our call id so callbacks can be matched even before
/// the CallSid is stored.
pub fn callback_url(state: &AppState, path: &str, id: &CallId) -> String {
    format!("{}/{}?call={}", state.settings.server_url, path.trim_start_matches('/'), id)
}

/// [`place_call`] in a task of its own, for request handlers: if the client disconnects while
/// Twilio is being asked, the handler is dropped but the dial and its bookkeeping still finish
/// (a call half-placed would otherwise stay `queued` without its CallSid).
pub async fn place_call_detached(state: &AppState, new: NewCall) -> Result<Placed, PlaceError> {
    let state2 = state.clone();
    let task = state.tasks.spawn(async move { place_call(&state2, new).await });
    task.await.map_err(|e| PlaceError::Store(StoreError::Backend(format!("dial task failed: {e}"))))?
}

/// Stores the call as `queued`, then creates it at Twilio. Idempotent on `idempotency_key`.
/// Every dial, from the API or a campaign, is checked against the do-not-call list here.
pub async fn place_call(state: &AppState, new: NewCall) -> Result<Placed, PlaceError> {
    let now = Utc::now();
    let to = new.to.ok_or_else(|| StoreError::Backend("place_call without a number".into()))?;
    if let Some(entry) = state.store.get_dnc(&to).await? {
        return Err(PlaceError::DoNotCall(Box::new(entry)));
    }
    let call = Call {
        id: CallId::new(),
        call_sid: None,
        to,
        from: new.from.unwrap_or_else(|| state.settings.twilio.phone_number.clone()),
        direction: "outbound-api".into(),
        status: CallStatus::Queued,
        created_at: now,
        updated_at: now,
        answered_at: None,
        ended_at: None,
        twilio_duration_secs: None,
        answered_by: None,
        outcome: None,
        terminated_by: None,
        conversation_id: None,
        stream_sid: None,
        name: new.name,
        prompt: new.prompt,
        first_message: new.first_message,
        language: new.language,
        dynamic_variables: new.dynamic_variables,
        contact_id: new.contact_id,
        campaign_id: new.campaign_id,
        idempotency_key: new.idempotency_key,
        error: None,
    };
    let call = match state.store.insert_call(&call).await? {
        Inserted::Existing(existing) => return Ok(Placed { call: existing, existing: true }),
        Inserted::New(call) => call,
    };
    if let Some(policy) = &new.amd_policy {
        state.store.set_amd_policy(&call.id, policy).await?;
    }
    let created = CallEvent::new(&call.id, "created", "api", json!({ "to": call.to, "from": call.from }));
    state.store.append_event(&created).await?;
    state.live.publish_call(&call, true);
    tracing::info!(call_id = %call.id, to = %call.to.masked(), "placing call");

    let s = &state.settings;
    let req = CreateCall {
        to: call.to.to_string(),
        from: call.from.to_string(),
        url: callback_url(state, "outbound-call-twiml", &call.id),
        fallback_url: Some(callback_url(state, "fallback-twiml", &call.id)),
        status_callback: callback_url(state, "call-status-callback", &call.id),
        timeout_secs: s.calls.ring_timeout_secs,
        time_limit_secs: s.calls.time_limit_secs,
        recording_status_callback: s
            .calls
            .record
            .then(|| callback_url(state, "recording-status-callback", &call.id)),
        amd: new.amd.map(|mode| (mode, callback_url(state, "amd-status-callback", &call.id))),
    };
    match state.twilio.create_call(&req).await {
        Ok(created) => {
            let sid = CallSid::parse(&created.sid).map_err(|_| {
                StoreError::Backend(format!("Twilio returned an invalid CallSid {:?}", created.sid))
            })?;
            let fields = SetOnce { call_sid: Some(sid.clone()), ..Default::default() };
            let call = state.store.set_once(&call.id, &fields).await?.unwrap_or(call);
            let ev = CallEvent::new(
                &call.id,
                "dialled",
                "twilio",
                json!({ "callSid": sid, "status": created.status }),
            );
            state.store.append_event(&ev).await?;
            state.live.publish_call(&call, false);
            Ok(Placed { call, existing: false })
        }
        Err(error) => Err(record_dial_failure(state, call, error).await),
    }
}

/// Stores why Twilio did not take the call.
async fn record_dial_failure(state: &AppState, call: Call, error: TwilioError) -> PlaceError {
    let code = match error.code() {
        Some(code) => format!("TWILIO_{code}"),
        None if matches!(error, TwilioError::OutcomeUnknown(_)) => "TWILIO_OUTCOME_UNKNOWN".into(),
        None => "TWILIO_UNAVAILABLE".into(),
    };
    tracing::warn!(call_id = %call.id, %code, error = %error, "Twilio did not accept the call");
    let result = async {
        let fields = SetOnce {
            error: Some(CallError { code: code.clone(), message: error.to_string() }),
            ..Default::default()
        };
        let mut stored = state.store.set_once(&call.id, &fields).await?.unwrap_or_else(|| call.clone());
        // With an unknown outcome the call may exist at Twilio: its callbacks (which carry our
        // id) will settle the status, so it stays queued.
        if !matches!(error, TwilioError::OutcomeUnknown(_)) {
            let update = StatusUpdate { status: CallStatus::Failed, at: Utc::now() };
            if let Some(updated) = state.store.advance_status(&call.id, &update).await? {
                stored = updated;
            }
            let tb =
                TerminatedBy { party: Party::System, reason: "dial_failed".into(), source: "api".into() };
            let fields = SetOnce { terminated_by: Some(tb), ..Default::default() };
            stored = state.store.set_once(&call.id, &fields).await?.unwrap_or(stored);
        }
        let ev = CallEvent::new(
            &call.id,
            "dial_failed",
            "twilio",
            json!({ "code": code, "message": error.to_string() }),
        );
        state.store.append_event(&ev).await?;
        Ok::<Call, StoreError>(stored)
    }
    .await;
    match result {
        Ok(stored) => {
            state.live.publish_call(&stored, false);
            PlaceError::Twilio { call: Box::new(stored), error }
        }
        Err(e) => PlaceError::Store(e),
    }
}

/// Why an operator hang-up was refused.
#[derive(Debug, thiserror::Error)]
pub enum HangupError {
    /// The call already ended.
    #[error("the call has already ended")]
    AlreadyEnded,
    /// Twilio has not given the call a CallSid yet.
    #[error("the call is not yet known to Twilio")]
    NotDialled,
    /// Twilio refused.
    #[error(transparent)]
    Twilio(#[from] TwilioError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Ends a call through Twilio's REST API on behalf of `who`.
///
/// The intent is registered before the request: Twilio then stops the media stream, and
/// media-proxy reports that as "caller hung up"; [`record_termination`] consults the intent so
/// the operator (or the system) is recorded, not the caller. The intent is dropped if Twilio
/// refuses.
pub async fn hang_up(state: &AppState, call: &Call, who: TerminatedBy) -> Result<(), HangupError> {
    if call.status.is_terminal() {
        return Err(HangupError::AlreadyEnded);
    }
    let sid = call.call_sid.as_ref().ok_or(HangupError::NotDialled)?;
    state.hangups.insert(call.id.clone(), who.clone());
    let not_answered = call.status.rank() < CallStatus::InProgress.rank();
    let result = state.twilio.end_call(sid.as_str(), not_answered).await;
    let data = json!({ "by": who, "result": result.as_ref().map(|c| c.status.clone()).map_err(ToString::to_string) });
    state.store.append_event(&CallEvent::new(&call.id, "hangup_requested", &who.source, data)).await?;
    match result {
        // 21220: the call is no longer in progress (it ended on its own meanwhile).
        Err(e) if e.code() != Some(21220) => {
            state.hangups.remove(&call.id);
            Err(e.into())
        }
        _ => {
            record_termination(state, &call.id, who).await?;
            Ok(())
        }
    }
}

/// Records who ended the call, once: the first authoritative observer wins and later reports
/// change nothing. A pending hang-up intent (operator, system policy) takes precedence over an
/// observed "caller hung up", because the caller's side only saw the stream stop we caused.
pub async fn record_termination(
    state: &AppState,
    call_id: &CallId,
    observed: TerminatedBy,
) -> Result<Option<Call>, StoreError> {
    let who = match state.hangups.get(call_id) {
        Some(intent) if observed.party == Party::Caller => intent.value().clone(),
        _ => observed,
    };
    let fields = SetOnce { terminated_by: Some(who), ..Default::default() };
    state.store.set_once(call_id, &fields).await
}
