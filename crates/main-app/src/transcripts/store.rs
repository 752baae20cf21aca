//! What transcripts need from storage. Implemented by both stores and checked by the
//! conformance suite (`store::conformance::transcripts`).

use async_trait::async_trait;

use chrono::{DateTime, Utc};

use super::model::{PostCall, RecoveryState};
use crate::store::StoreResult;
use common::events::TranscriptLine;
use common::ids::CallId;

/// Live transcript lines, the conversation ↔ call link, and post-call records.
#[async_trait]
pub trait TranscriptStore: Send + Sync {
    /// Stores a live line, replacing the call's line with the same `index` (a later update of
    /// that line: heard state, corrected text). One write; concurrent upserts of one line leave
    /// one of them.
    async fn upsert_live_line(&self, call_id: &CallId, line: &TranscriptLine) -> StoreResult<()>;

    /// A call's live lines by `index`, ascending.
    async fn live_lines(&self, call_id: &CallId) -> StoreResult<Vec<TranscriptLine>>;

    /// Records that `conversation_id` belongs to `call_id`. Set once: a second link for the same
    /// call or the same conversation changes nothing. Returns true when this call wrote it.
    async fn link_conversation(&self, call_id: &CallId, conversation_id: &str) -> StoreResult<bool>;

    /// The call a conversation belongs to, if linked.
    async fn call_for_conversation(&self, conversation_id: &str) -> StoreResult<Option<CallId>>;

    /// Stores (or replaces) the post-call record of `call_id`, linking its conversation id too
    /// when the call has no link yet.
    async fn save_post_call(&self, call_id: &CallId, post_call: &PostCall) -> StoreResult<()>;

    /// The post-call record of a call.
    async fn get_post_call(&self, call_id: &CallId) -> StoreResult<Option<PostCall>>;

    /// Linked conversations that have no post-call record yet and whose recovery was not given
    /// up, fewest failed recoveries first, then oldest link first, at most `limit`: what bulk
    /// recovery fetches from ElevenLabs (so a conversation that keeps failing never starves
    /// the others).
    async fn conversations_missing_post_call(&self, limit: u64) -> StoreResult<Vec<(CallId, String)>>;

    /// Records a failed recovery of the call's conversation at `at`: counts it and keeps
    /// `error`; gives recovery up (the conversation leaves the missing list for good) when
    /// `permanent` (ElevenLabs has no such conversation) or this was failure number
    /// `max_attempts`. Returns true when recovery is now given up; false too when the call has
    /// no linked conversation.
    async fn record_recovery_failure(
        &self,
        call_id: &CallId,
        error: &str,
        permanent: bool,
        max_attempts: u32,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Where recovery of the call's conversation stands: failures so far, the last error, and
    /// when it was given up. `None` when the call has no linked conversation.
    async fn recovery_state(&self, call_id: &CallId) -> StoreResult<Option<RecoveryState>>;
}
