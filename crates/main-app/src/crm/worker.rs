//! The outbox worker: claims due deliveries under a lease, sends them, records each attempt and
//! schedules the next one (exponential backoff with jitter) or dead-letters the delivery.
//! Started by [`crate::run`]; it stops between attempts when the server shuts down, and an
//! attempt in flight is bounded by `CRM_TIMEOUT_SECS`.

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

use super::model::{Attempt, AttemptNext, Delivery, DeliveryKind, DeliveryStatus};
use super::{IDEMPOTENCY_HEADER, SIGNATURE_HEADER};
use crate::calls::model::CallEvent;
use crate::state::AppState;
use crate::store::StoreError;

/// Deliveries claimed at once.
const BATCH: u64 = 10;

/// Runs until `stop`: delivers what is due, then waits for a wake-up or the poll interval.
pub async fn run(state: AppState, stop: CancellationToken) {
    let owner = format!("crm-{}", uuid::Uuid::new_v4());
    let http = match reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(state.settings.post_call.crm.timeout)
        .user_agent(concat!("voice-platform/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(http) => http,
        Err(e) => return tracing::error!(error = %e, "CRM worker cannot build its HTTP client"),
    };
    loop {
        if let Err(e) = deliver_due(&state, &http, &owner, &stop).await {
            tracing::error!(error = %e, "CRM outbox pass failed");
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = state.wakeups.crm.notified() => {}
            _ = tokio::time::sleep(state.settings.post_call.crm.poll_interval) => {}
        }
    }
}

/// Claims and attempts every due delivery. Returns how many attempts were made.
pub async fn deliver_due(
    state: &AppState,
    http: &reqwest::Client,
    owner: &str,
    stop: &CancellationToken,
) -> Result<usize, StoreError> {
    let Some(url) = state.settings.crm_webhook_url.clone() else { return Ok(0) };
    // Long enough for every attempt of a batch, so the lease never expires under us.
    let lease = state.settings.post_call.crm.timeout * (BATCH as u32 + 1) + Duration::from_secs(30);
    let mut attempts = 0;
    while !stop.is_cancelled() {
        let now = Utc::now();
        let lease_until = now + chrono::Duration::from_std(lease).unwrap_or_default();
        let due = state.store.claim_due_deliveries(now, owner, lease_until, BATCH).await?;
        if due.is_empty() {
            break;
        }
        for delivery in due {
            if let Some(until) = wait_for_final(state, &delivery).await? {
                state.store.postpone_delivery(&delivery.id, owner, until).await?;
                continue;
            }
            attempt(state, http, &url, owner, &delivery).await?;
            attempts += 1;
        }
    }
    Ok(attempts)
}

/// An update is not sent while its call's final report is still pending (being retried), so
/// the CRM never gets the older report after the newer one: returns when to look again. A
/// dead final report does not hold the update back.
async fn wait_for_final(state: &AppState, delivery: &Delivery) -> Result<Option<DateTime<Utc>>, StoreError> {
    if delivery.kind != DeliveryKind::Update {
        return Ok(None);
    }
    let deliveries = state.store.call_deliveries(&delivery.call_id).await?;
    let pending_final =
        deliveries.iter().find(|d| d.kind == DeliveryKind::Final && d.status == DeliveryStatus::Pending);
    Ok(pending_final.map(|f| {
        let poll = chrono::Duration::from_std(state.settings.post_call.crm.poll_interval).unwrap_or_default();
        f.next_attempt_at.max(Utc::now()) + poll
    }))
}

/// Sends one delivery once and records the result.
async fn attempt(
    state: &AppState,
    http: &reqwest::Client,
    url: &str,
    owner: &str,
    delivery: &Delivery,
) -> Result<(), StoreError> {
    let at = Utc::now();
    let started = Instant::now();
    let body = serde_json::to_vec(&delivery.payload).unwrap_or_default();
    let mut req = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(IDEMPOTENCY_HEADER, &delivery.idempotency_key);
    if let Some(secret) = &state.settings.crm_webhook_secret {
        let signature =
            common::signature::timestamped_signature(secret.expose_secret(), at.timestamp(), &body);
        req = req.header(SIGNATURE_HEADER, signature);
    }
    let (status_code, error) = match req.body(body).send().await {
        Ok(resp) if resp.status().is_success() => (Some(resp.status().as_u16()), None),
        Ok(resp) => {
            (Some(resp.status().as_u16()), Some(format!("CRM answered HTTP {}", resp.status().as_u16())))
        }
        Err(e) if e.is_timeout() => (None, Some("CRM did not answer in time".to_owned())),
        Err(e) => (None, Some(format!("cannot reach the CRM: {}", without_url(&e)))),
    };
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let made = delivery.attempts + 1;
    let backoff = state.settings.post_call.crm.backoff;
    let next = match &error {
        None => AttemptNext::Delivered,
        Some(_) if !backoff.should_retry(made) => AttemptNext::Dead,
        Some(_) => {
            let delay = backoff.jittered(delivery.attempts, rand::random());
            AttemptNext::RetryAt(Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default())
        }
    };
    let record =
        Attempt { at: crate::store::truncate_ms(at), status_code, error: error.clone(), duration_ms };
    if !state.store.complete_attempt(&delivery.id, owner, &record, next).await? {
        tracing::warn!(delivery = %delivery.id, "lost the lease on a CRM delivery; attempt not recorded");
        return Ok(());
    }
    let (kind, level_error) = match next {
        AttemptNext::Delivered => ("crm_delivered", false),
        AttemptNext::RetryAt(_) => ("crm_attempt_failed", false),
        AttemptNext::Dead => ("crm_dead_letter", true),
    };
    if level_error {
        tracing::error!(delivery = %delivery.id, call_id = %delivery.call_id, attempts = made, "CRM delivery dead-lettered");
    } else {
        tracing::info!(delivery = %delivery.id, call_id = %delivery.call_id, attempt = made, kind, "CRM attempt");
    }
    let data =
        json!({ "deliveryId": delivery.id, "attempt": made, "statusCode": status_code, "error": error });
    state.store.append_event(&CallEvent::new(&delivery.call_id, kind, "crm", data)).await?;
    Ok(())
}

/// A transport error's text without the URL (it may carry credentials in its query).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "<CRM_WEBHOOK_URL>");
    }
    text
}
