//! What recordings need from storage. Implemented by both stores and checked by the conformance
//! suite (`store::conformance::recordings`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::model::Recording;
use crate::calls::model::{Page, Paged};
use crate::store::StoreResult;
use common::ids::CallId;

/// Recording metadata.
#[async_trait]
pub trait RecordingStore: Send + Sync {
    /// Stores a recording reported by a callback, in one conditional write: a new sid is
    /// inserted; for a known sid the status moves only to a higher rank (then `duration_secs`,
    /// `channels` and `error_code` are filled where empty and `updated_at` moves), otherwise
    /// nothing changes. Returns the stored recording.
    async fn upsert_recording(&self, recording: &Recording) -> StoreResult<Recording>;

    /// A recording by sid (deleted ones included).
    async fn get_recording(&self, sid: &str) -> StoreResult<Option<Recording>>;

    /// Recordings that are not deleted, newest first, with the total.
    async fn list_recordings(&self, page: Page) -> StoreResult<Paged<Recording>>;

    /// A call's recordings that are not deleted, oldest first.
    async fn list_call_recordings(&self, call_id: &CallId) -> StoreResult<Vec<Recording>>;

    /// Marks a recording deleted (status `deleted`, `updated_at = at`). Returns false when no
    /// such recording exists.
    async fn mark_recording_deleted(&self, sid: &str, at: DateTime<Utc>) -> StoreResult<bool>;
}
