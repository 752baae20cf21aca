//! Per-call follow-up state: the call's answering-machine policy, and when it is due to be
//! finalized (outcome decided, CRM delivery enqueued). Implemented by both stores and checked by
//! the conformance suite (`store::conformance::followups`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::amd::AmdPolicy;
use crate::store::StoreResult;
use common::ids::CallId;

/// Follow-up persistence.
#[async_trait]
pub trait FollowupStore: Send + Sync {
    /// Stores the AMD policy a call was placed with (replacing any earlier one).
    async fn set_amd_policy(&self, call_id: &CallId, policy: &AmdPolicy) -> StoreResult<()>;

    /// The AMD policy a call was placed with.
    async fn amd_policy(&self, call_id: &CallId) -> StoreResult<Option<AmdPolicy>>;

    /// Makes the call due for finalization at `due_at`, or earlier if it already was due
    /// earlier. Does nothing once the call is finalized.
    async fn schedule_finalize(&self, call_id: &CallId, due_at: DateTime<Utc>) -> StoreResult<()>;

    /// Claims up to `limit` calls due at `now` that are not finalized and not leased (or whose
    /// lease expired), leasing them until `lease_until`; earliest due first.
    async fn claim_due_finalizations(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u64,
    ) -> StoreResult<Vec<CallId>>;

    /// Records that the call was finalized at `at` (it is never claimed again).
    async fn mark_finalized(&self, call_id: &CallId, at: DateTime<Utc>) -> StoreResult<()>;

    /// When the call was finalized, if it was.
    async fn finalized_at(&self, call_id: &CallId) -> StoreResult<Option<DateTime<Utc>>>;
}
