//! What happens once a call has ended: its outcome is decided from real signals
//! ([`crate::calls::outcome`]), and when the call is *final* — telephony ended, and ElevenLabs'
//! post-call data arrived or `POST_CALL_WAIT_SECS` elapsed — it is finalized once: the outcome
//! is written and one CRM delivery enters the durable outbox ([`crate::crm`]).
//!
//! Finalization is driven by the store, not by memory: a terminal status schedules the call
//! (`FollowupStore::schedule_finalize`), the worker ([`worker`]) claims due calls with a lease,
//! and a crash before `mark_finalized` only means the call is claimed again after the lease —
//! finalizing twice is harmless because the outbox holds one delivery per call.

pub mod settings;
pub mod store;
pub mod worker;

use chrono::Utc;
use std::sync::Arc;
use tokio::sync::Notify;

use crate::calls::model::Call;
use crate::calls::outcome::{self, Signals};
use crate::state::AppState;
use crate::store::StoreError;
use crate::transcripts::model::caller_spoke_live;
use common::ids::CallId;

/// Wake-ups for the background workers, so new work is picked up at once instead of at the
/// next poll. Cheap to clone.
#[derive(Clone, Default)]
pub struct Wakeups {
    /// Calls became due for finalization.
    pub finalize: Arc<Notify>,
    /// Deliveries entered the outbox.
    pub crm: Arc<Notify>,
}

/// Whether the callee said anything, from the live lines and the post-call turns.
pub async fn caller_spoke(state: &AppState, call_id: &CallId) -> Result<bool, StoreError> {
    if caller_spoke_live(&state.store.live_lines(call_id).await?) {
        return Ok(true);
    }
    Ok(state.store.get_post_call(call_id).await?.is_some_and(|p| p.caller_spoke()))
}

/// Recomputes the outcome of an ended call and stores it when it changed (it may be refined as
/// post-call data arrives), pushing the change live. Returns the call as it now is.
pub async fn refresh_outcome(state: &AppState, call_id: &CallId) -> Result<Option<Call>, StoreError> {
    let (call, changed) = decide_outcome(state, call_id).await?;
    if changed && let Some(call) = &call {
        state.live.publish_call(call, false);
    }
    Ok(call)
}

/// Like [`refresh_outcome`] without pushing: returns the call and whether its outcome changed.
async fn decide_outcome(state: &AppState, call_id: &CallId) -> Result<(Option<Call>, bool), StoreError> {
    let Some(mut call) = state.store.get_call(call_id).await? else { return Ok((None, false)) };
    let signals = Signals {
        status: call.status,
        answered_by: call.answered_by,
        caller_spoke: caller_spoke(state, call_id).await?,
    };
    let mut changed = false;
    if let Some(decided) = outcome::decide(signals)
        && call.outcome != Some(decided)
        && state.store.set_outcome(call_id, decided).await?
    {
        call.outcome = Some(decided);
        changed = true;
    }
    Ok((Some(call), changed))
}

/// How long finalization waits for media-proxy's end-of-stream report of a bridged call.
pub const STREAM_END_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// A call reached a terminal status: decide its outcome now (pushing it live if it changed),
/// and schedule its finalization — at once when no post-call data is expected (no
/// conversation, or the data is already here), otherwise after `POST_CALL_WAIT_SECS`.
pub async fn on_call_ended(state: &AppState, call_id: &CallId) -> Result<(), StoreError> {
    if let (Some(call), true) = ended(state, call_id).await? {
        state.live.publish_call(&call, false);
    }
    Ok(())
}

/// What [`on_call_ended`] does, without pushing: for a caller that publishes the call itself
/// right after (the status callback). Returns the call and whether its outcome changed.
pub async fn ended(state: &AppState, call_id: &CallId) -> Result<(Option<Call>, bool), StoreError> {
    let (call, changed) = decide_outcome(state, call_id).await?;
    let Some(call) = call else { return Ok((None, false)) };
    if !call.status.is_terminal() {
        return Ok((Some(call), changed));
    }
    let expecting = call.conversation_id.is_some() && state.store.get_post_call(call_id).await?.is_none();
    // media-proxy reports how a bridged call ended through its event queue, which may arrive
    // just after Twilio's final callback: give it a moment so the record is complete.
    let awaiting_stream_end = call.stream_sid.is_some() && call.terminated_by.is_none();
    let wait = if expecting {
        state.settings.post_call.post_call_wait
    } else if awaiting_stream_end {
        STREAM_END_GRACE
    } else {
        std::time::Duration::ZERO
    };
    let due = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
    state.store.schedule_finalize(call_id, due).await?;
    if !expecting && !awaiting_stream_end {
        state.wakeups.finalize.notify_one();
    }
    Ok((Some(call), changed))
}

/// Post-call data was stored for a call: refine its outcome and, if it has ended, finalize now
/// — or, when it was finalized already, forward the data to the CRM ([`crate::crm::update`]).
pub async fn on_post_call(state: &AppState, call_id: &CallId) -> Result<(), StoreError> {
    let Some(call) = refresh_outcome(state, call_id).await? else { return Ok(()) };
    if call.status.is_terminal() {
        state.store.schedule_finalize(call_id, Utc::now()).await?;
        state.wakeups.finalize.notify_one();
        crate::crm::update::forward_post_call(state, call_id).await?;
    }
    Ok(())
}
