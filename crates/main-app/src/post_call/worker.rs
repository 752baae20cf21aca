//! The post-call background work, started by [`crate::run`] and stopped by its shutdown:
//!
//! - [`finalize_loop`]: claims calls due for finalization (leased, so two instances never
//!   finalize one call at once), decides the outcome and enqueues the CRM delivery;
//! - [`ended_listener`]: turns every `CallEnded` of the live hub (whatever path ended the call:
//!   status callback, reconciler, dial failure) into a scheduled finalization;
//! - [`inbox_loop`]: retries stored webhooks whose processing failed (e.g. the store was down).

use chrono::Utc;
use serde_json::json;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::calls::model::CallEvent;
use crate::crm::model::{Delivery, DeliveryKind};
use crate::live::LiveEvent;
use crate::state::AppState;
use crate::store::StoreError;
use common::ids::CallId;

/// How long a claimed finalization is held before another worker may take it over.
const LEASE: Duration = Duration::from_secs(60);
/// How often due finalizations are looked for without a wake-up.
const POLL: Duration = Duration::from_secs(5);
/// Calls finalized per claim.
const BATCH: u64 = 20;
/// How often unprocessed webhooks are retried.
const INBOX_RETRY: Duration = Duration::from_secs(60);

/// Finalizes due calls until `stop`.
pub async fn finalize_loop(state: AppState, stop: CancellationToken) {
    loop {
        if let Err(e) = run_due(&state).await {
            tracing::error!(error = %e, "finalization pass failed");
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = state.wakeups.finalize.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

/// One pass: claims and finalizes every due call.
pub async fn run_due(state: &AppState) -> Result<usize, StoreError> {
    let mut done = 0;
    loop {
        let now = Utc::now();
        let lease_until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
        let due = state.store.claim_due_finalizations(now, lease_until, BATCH).await?;
        if due.is_empty() {
            return Ok(done);
        }
        for id in due {
            match finalize(state, &id).await {
                Ok(()) => done += 1,
                Err(e) => {
                    tracing::error!(call_id = %id, error = %e, "finalization failed; retried after the lease")
                }
            }
        }
    }
}

/// Decides the final outcome and enqueues the call's final CRM report, then marks it finalized.
pub async fn finalize(state: &AppState, id: &CallId) -> Result<(), StoreError> {
    let Some(call) = super::refresh_outcome(state, id).await? else {
        return state.store.mark_finalized(id, Utc::now()).await;
    };
    if !call.status.is_terminal() {
        tracing::warn!(call_id = %id, "finalization claimed for a call that has not ended");
        return Ok(());
    }
    let mut enqueued = false;
    if state.settings.crm_webhook_url.is_some() {
        let report = crate::crm::payload::build(state, &call, DeliveryKind::Final).await?;
        let delivery =
            Delivery::new(&call.id, report.body, Utc::now()).with_post_call(report.post_call_conversation);
        enqueued = state.store.enqueue_delivery(&delivery).await?;
        if enqueued {
            let data = json!({ "deliveryId": delivery.id, "outcome": call.outcome });
            let event = CallEvent::new(&call.id, "crm_enqueued", "system", data).dedupe("crm_enqueued");
            state.store.append_event(&event).await?;
            state.wakeups.crm.notify_one();
        }
        // Post-call data stored while the report was being built would otherwise be missed (its
        // own path found no final report yet). Before `mark_finalized`, so a failure here is
        // retried with the finalization.
        crate::crm::update::forward_post_call(state, id).await?;
    }
    // The finalization itself is recorded in the follow-up store (`finalized_at`), not in the
    // call's audit log, which stays the record of what the outside world reported.
    state.store.mark_finalized(id, Utc::now()).await?;
    tracing::info!(call_id = %id, outcome = ?call.outcome, crm = enqueued, "call finalized");
    Ok(())
}

/// Schedules finalization for every call the live hub reports ended. A lagging receiver only
/// loses promptness: the status callback path schedules durably too.
pub async fn ended_listener(state: AppState, stop: CancellationToken) {
    let mut rx = state.live.subscribe();
    loop {
        let event = tokio::select! {
            _ = stop.cancelled() => return,
            event = rx.recv() => event,
        };
        match event {
            Ok(LiveEvent::CallEnded(live)) => {
                let Ok(id) = CallId::parse(&live.id) else { continue };
                if let Err(e) = super::on_call_ended(&state, &id).await {
                    tracing::error!(call_id = %id, error = %e, "cannot schedule finalization");
                }
            }
            Ok(_) => {}
            Err(RecvError::Lagged(n)) => tracing::warn!(missed = n, "post-call listener lagged"),
            Err(RecvError::Closed) => return,
        }
    }
}

/// Retries unprocessed stored webhooks at start-up and then every [`INBOX_RETRY`].
pub async fn inbox_loop(state: AppState, stop: CancellationToken) {
    loop {
        match crate::webhooks::elevenlabs::process_pending(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(processed = n, "stored webhooks processed"),
            Err(e) => tracing::error!(error = %e, "cannot process stored webhooks"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(INBOX_RETRY) => {}
        }
    }
}
