//! Keeps the store's view of unfinished calls true to Twilio's.
//!
//! At start-up the live registry is rebuilt from the store's unfinished calls, and each of them
//! is checked with Twilio: a call that ended while we were down (its callbacks lost) is closed
//! with Twilio's status and duration. The same check runs periodically for calls that have not
//! changed for a while, so a lost callback never leaves a call "in progress" forever. A call that
//! never got a CallSid and is older than [`NEVER_DIALLED_AFTER`] is marked failed.

use chrono::{Duration, Utc};
use serde_json::json;

use super::model::{Call, CallError, CallEvent, SetOnce, StatusUpdate};
use crate::state::AppState;
use crate::store::StoreError;
use common::call::{AnsweredBy, CallStatus, Party, TerminatedBy};

/// A call without a CallSid this old was never dialled.
pub const NEVER_DIALLED_AFTER: Duration = Duration::minutes(10);
/// Calls unchanged for this long are checked with Twilio by the periodic sweep.
pub const STALE_AFTER: Duration = Duration::minutes(2);

/// Rebuilds the registry and reconciles every unfinished call. Returns how many were live.
pub async fn rebuild(state: &AppState) -> Result<usize, StoreError> {
    let calls = state.store.list_unfinished_calls().await?;
    for call in &calls {
        state.live.publish_call(call, false);
    }
    let count = calls.len();
    for call in calls {
        reconcile_one(state, call).await?;
    }
    Ok(count)
}

/// Checks stale live calls with Twilio (run periodically).
pub async fn sweep(state: &AppState) -> Result<(), StoreError> {
    let cutoff = Utc::now() - STALE_AFTER;
    for call in state.store.list_unfinished_calls().await? {
        if call.updated_at < cutoff {
            reconcile_one(state, call).await?;
        }
    }
    Ok(())
}

async fn reconcile_one(state: &AppState, call: Call) -> Result<(), StoreError> {
    let Some(sid) = call.call_sid.clone() else {
        if Utc::now() - call.created_at > NEVER_DIALLED_AFTER {
            let fields = SetOnce {
                error: Some(CallError {
                    code: "NEVER_DIALLED".into(),
                    message: "Twilio never confirmed the call".into(),
                }),
                terminated_by: Some(TerminatedBy {
                    party: Party::System,
                    reason: "never_dialled".into(),
                    source: "reconciler".into(),
                }),
                ..Default::default()
            };
            state.store.set_once(&call.id, &fields).await?;
            finish(state, &call, CallStatus::Failed, json!({ "reason": "no CallSid" })).await?;
        }
        return Ok(());
    };
    let remote = match state.twilio.fetch_call(sid.as_str()).await {
        Ok(remote) => remote,
        Err(e) => {
            tracing::warn!(call_id = %call.id, error = %e, "reconcile: cannot fetch the call from Twilio");
            return Ok(());
        }
    };
    let Some(status) = CallStatus::parse(&remote.status) else { return Ok(()) };
    let fields = SetOnce {
        twilio_duration_secs: remote.duration.as_deref().and_then(|d| d.parse().ok()),
        answered_by: remote.answered_by.as_deref().and_then(AnsweredBy::parse),
        ..Default::default()
    };
    state.store.set_once(&call.id, &fields).await?;
    if status.rank() > call.status.rank() {
        finish(state, &call, status, json!({ "twilioStatus": remote.status })).await?;
    }
    Ok(())
}

async fn finish(
    state: &AppState,
    call: &Call,
    status: CallStatus,
    data: serde_json::Value,
) -> Result<(), StoreError> {
    let update = StatusUpdate { status, at: Utc::now() };
    if let Some(updated) = state.store.advance_status(&call.id, &update).await? {
        state.store.append_event(&CallEvent::new(&call.id, "reconciled", "reconciler", data)).await?;
        // At start-up this runs before the post-call listener subscribes to the live hub, so the
        // ended call is handed to post-call processing here (scheduling is idempotent): it still
        // gets its outcome, its finalization and its CRM delivery.
        let (decided, _) = crate::post_call::ended(state, &call.id).await?;
        state.live.publish_call(decided.as_ref().unwrap_or(&updated), false);
    }
    Ok(())
}
