//! The inbox of webhooks that are stored before they are processed (ElevenLabs' post-call
//! events): the raw body is persisted first, deduplicated, then processed once; an event whose
//! processing failed stays unprocessed and is retried by the post-call worker.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::StoreResult;

/// A webhook as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundWebhook {
    /// Id (UUID v7).
    pub id: String,
    /// Who sent it (`elevenlabs`).
    pub source: String,
    /// Its type (`post_call_transcription`, `call_initiation_failure`, ...).
    pub kind: String,
    /// Unique per logical event (`elevenlabs:<type>:<conversation id>`): a redelivery has the
    /// same key and is not stored twice.
    pub dedupe_key: String,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// The raw body, exactly as signed.
    pub body: String,
    /// When it was processed (successfully or not worth retrying).
    pub processed_at: Option<DateTime<Utc>>,
    /// Why processing gave up, if it did.
    pub error: Option<String>,
}

/// Webhook persistence.
#[async_trait]
pub trait WebhookInbox: Send + Sync {
    /// Stores a webhook unless one with the same `dedupe_key` exists (atomically). Returns true
    /// when stored.
    async fn record_webhook(&self, webhook: &InboundWebhook) -> StoreResult<bool>;

    /// Marks a webhook processed at `at`, with the reason it gave up, if it did.
    async fn mark_webhook_processed(
        &self,
        id: &str,
        at: DateTime<Utc>,
        error: Option<&str>,
    ) -> StoreResult<()>;

    /// Webhooks not yet processed, oldest first, at most `limit`.
    async fn unprocessed_webhooks(&self, limit: u64) -> StoreResult<Vec<InboundWebhook>>;
}
