//! What the calls resource needs from storage. Implemented by both stores and checked by one
//! conformance suite (`store::conformance`).

use async_trait::async_trait;

use super::model::{Call, CallEvent, CallFilter, Page, Paged, SetOnce, StatusUpdate};
use crate::store::StoreResult;
use common::call::Outcome;
use common::ids::{CallId, CallSid};

/// Result of inserting a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Inserted {
    /// Stored as new.
    New(Call),
    /// A call with the same idempotency key already exists; here it is, unchanged.
    Existing(Call),
}

/// Call records and their audit log.
#[async_trait]
pub trait CallStore: Send + Sync {
    /// Stores a new call. If `idempotency_key` is set and another call already has it, nothing is
    /// written and that call is returned (atomically: two concurrent inserts with one key yield
    /// one `New` and one `Existing`).
    async fn insert_call(&self, call: &Call) -> StoreResult<Inserted>;

    /// A call by internal id.
    async fn get_call(&self, id: &CallId) -> StoreResult<Option<Call>>;

    /// A call by Twilio CallSid.
    async fn get_call_by_sid(&self, sid: &CallSid) -> StoreResult<Option<Call>>;

    /// Calls matching `filter`, newest first, with the total count.
    async fn list_calls(&self, filter: &CallFilter, page: Page) -> StoreResult<Paged<Call>>;

    /// Every call whose status is not terminal (rebuilds the live registry at start-up).
    async fn list_unfinished_calls(&self) -> StoreResult<Vec<Call>>;

    /// Moves the call to `update.status` in one conditional write, only if the new status ranks
    /// strictly higher than the stored one (see `CallStatus::rank`). Reaching `in-progress` sets
    /// `answered_at` and reaching a terminal status sets `ended_at` (each only if still empty).
    /// Returns the updated call when it changed, `None` when the write was refused (late,
    /// repeated or unknown call).
    async fn advance_status(&self, id: &CallId, update: &StatusUpdate) -> StoreResult<Option<Call>>;

    /// Writes each `Some` field of `fields` only where the stored value is empty, in one write.
    /// Returns the call after the write (`None` if the call does not exist).
    async fn set_once(&self, id: &CallId, fields: &SetOnce) -> StoreResult<Option<Call>>;

    /// Sets the outcome (may be refined as post-call data arrives). Returns false if no such call.
    async fn set_outcome(&self, id: &CallId, outcome: Outcome) -> StoreResult<bool>;

    /// Appends to the audit log. Returns false (and writes nothing) if an event with the same
    /// `dedupe_key` already exists for that call.
    async fn append_event(&self, event: &CallEvent) -> StoreResult<bool>;

    /// A call's events in time order (oldest first).
    async fn list_events(&self, call_id: &CallId, limit: u64) -> StoreResult<Vec<CallEvent>>;

    /// Records that `key` has been used; returns true the first time and false forever after.
    /// Used for single-use stream tokens and other exactly-once decisions.
    async fn mark_once(&self, key: &str) -> StoreResult<bool>;
}
