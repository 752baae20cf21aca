//! What the CRM outbox needs from storage. Implemented by both stores and checked by the
//! conformance suite (`store::conformance::crm`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::model::{Attempt, AttemptNext, Delivery, DeliveryStatus};
use crate::calls::model::{Page, Paged};
use crate::store::StoreResult;
use common::ids::CallId;

/// The durable outbox.
#[async_trait]
pub trait CrmOutbox: Send + Sync {
    /// Enqueues `delivery` unless one with its idempotency key exists (atomically: two
    /// concurrent enqueues with one key store one), which keeps a call to one final report and
    /// one update per conversation. Returns true when stored.
    async fn enqueue_delivery(&self, delivery: &Delivery) -> StoreResult<bool>;

    /// A call's deliveries, oldest first.
    async fn call_deliveries(&self, call_id: &CallId) -> StoreResult<Vec<Delivery>>;

    /// Replaces the payload of a pending delivery that no worker ever claimed (no lease owner,
    /// empty log), recording the conversation whose post-call data it now carries: one
    /// conditional write. Returns false, writing nothing, otherwise: once a delivery may have
    /// reached the CRM, a different body under the same idempotency key could be dropped there
    /// as a repeat.
    async fn refresh_unsent_delivery(
        &self,
        id: &str,
        payload: &Value,
        post_call_conversation: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Claims up to `limit` pending deliveries due at `now` whose lease is free or expired, for
    /// `owner` until `lease_until`, oldest due first. A delivery is held by one owner at a time,
    /// so two workers (or two instances) never attempt it at once.
    async fn claim_due_deliveries(
        &self,
        now: DateTime<Utc>,
        owner: &str,
        lease_until: DateTime<Utc>,
        limit: u64,
    ) -> StoreResult<Vec<Delivery>>;

    /// Records an attempt by the lease holder `owner`: appends it to the log (keeping the newest
    /// [`super::model::LOG_LIMIT`]), counts it, applies `next`, and frees the lease. Returns
    /// false (and writes nothing) when `owner` no longer holds the lease.
    async fn complete_attempt(
        &self,
        id: &str,
        owner: &str,
        attempt: &Attempt,
        next: AttemptNext,
    ) -> StoreResult<bool>;

    /// Frees the lease of `owner` on a pending delivery and makes it due at `until`, counting no
    /// attempt (an update waiting for its call's final report). Returns false, writing
    /// nothing, when `owner` no longer holds the lease.
    async fn postpone_delivery(&self, id: &str, owner: &str, until: DateTime<Utc>) -> StoreResult<bool>;

    /// Deliveries, newest first, optionally with one status, with the total.
    async fn list_deliveries(
        &self,
        status: Option<DeliveryStatus>,
        page: Page,
    ) -> StoreResult<Paged<Delivery>>;

    /// One delivery.
    async fn get_delivery(&self, id: &str) -> StoreResult<Option<Delivery>>;

    /// Makes a delivery due again at `now` with a fresh attempt budget (attempts back to 0, log
    /// kept). A delivery currently leased is left alone. Returns the delivery after the write,
    /// `None` when it does not exist.
    async fn replay_delivery(&self, id: &str, now: DateTime<Utc>) -> StoreResult<Option<Delivery>>;
}
