//! Post-call data that lands after a call was finalized. The final report was enqueued without
//! the transcript, analysis and AI summary (ElevenLabs was late, or they were recovered later),
//! so the CRM would never see them. When they land:
//!
//! - if the final report has not been claimed by any worker yet, its payload is rebuilt in place
//!   (the CRM then gets one report, complete);
//! - otherwise one `update` delivery is enqueued, keyed `call-<id>:update:<conversation id>`, so
//!   a retried webhook or a second recovery of the same conversation adds nothing.
//!   The worker holds an update back while the final report is still being retried, so the
//!   CRM never gets the older report last.
//!
//! Called after post-call data is stored ([`crate::post_call::on_post_call`]) and after a final
//! report is enqueued ([`crate::post_call::worker::finalize`]): whichever of the two writes comes
//! second sees the other, so data landing while the call is being finalized is not missed.

use chrono::Utc;
use serde_json::json;

use super::model::{Delivery, DeliveryKind};
use super::payload;
use crate::calls::model::CallEvent;
use crate::state::AppState;
use crate::store::StoreError;
use common::ids::CallId;

/// What [`forward_post_call`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forwarded {
    /// Nothing to do: no CRM, no post-call data, not finalized yet, or already forwarded.
    Nothing,
    /// The final report, not yet sent, now carries the data.
    Refreshed,
    /// An update delivery was enqueued.
    Update,
}

/// Forwards the call's post-call data to the CRM if no delivery of the call carries it yet.
pub async fn forward_post_call(state: &AppState, call_id: &CallId) -> Result<Forwarded, StoreError> {
    if state.settings.crm_webhook_url.is_none() {
        return Ok(Forwarded::Nothing);
    }
    let Some(post) = state.store.get_post_call(call_id).await? else { return Ok(Forwarded::Nothing) };
    let deliveries = state.store.call_deliveries(call_id).await?;
    // Not finalized yet: the final report will be built with the data.
    let Some(final_report) = deliveries.iter().find(|d| d.kind == DeliveryKind::Final) else {
        return Ok(Forwarded::Nothing);
    };
    let carried = |conv: &str| deliveries.iter().any(|d| d.post_call_conversation.as_deref() == Some(conv));
    if carried(&post.conversation_id) {
        return Ok(Forwarded::Nothing);
    }
    let Some(call) = state.store.get_call(call_id).await? else { return Ok(Forwarded::Nothing) };
    let now = Utc::now();
    let refreshed = payload::build(state, &call, DeliveryKind::Final).await?;
    let Some(conv) = refreshed.post_call_conversation.clone() else { return Ok(Forwarded::Nothing) };
    if state.store.refresh_unsent_delivery(&final_report.id, &refreshed.body, &conv, now).await? {
        let data = json!({ "deliveryId": final_report.id, "conversationId": conv });
        let event =
            CallEvent::new(call_id, "crm_refreshed", "system", data).dedupe(format!("crm_refreshed:{conv}"));
        state.store.append_event(&event).await?;
        tracing::info!(call_id = %call_id, "unsent CRM report now carries the post-call data");
        return Ok(Forwarded::Refreshed);
    }
    let update = payload::build(state, &call, DeliveryKind::Update).await?;
    let delivery = Delivery::update(call_id, &conv, update.body, now);
    if !state.store.enqueue_delivery(&delivery).await? {
        return Ok(Forwarded::Nothing);
    }
    let data = json!({ "deliveryId": delivery.id, "conversationId": conv, "outcome": call.outcome });
    let event =
        CallEvent::new(call_id, "crm_update_enqueued", "system", data).dedupe(format!("crm_update:{conv}"));
    state.store.append_event(&event).await?;
    state.wakeups.crm.notify_one();
    tracing::info!(call_id = %call_id, delivery = %delivery.id, "post-call data arrived after finalization; CRM update enqueued");
    Ok(Forwarded::Update)
}
