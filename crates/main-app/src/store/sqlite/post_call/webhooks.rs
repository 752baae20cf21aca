//! [`WebhookInbox`] on SQLite: the `webhook_inbox` table (migration 3), deduplicated by its
//! unique `dedupe_key`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::params;

use super::rows::{opt_time, time};
use crate::store::StoreResult;
use crate::store::sqlite::calls_codec::millis;
use crate::store::sqlite::{SqliteStore, backend};
use crate::webhooks::inbox::{InboundWebhook, WebhookInbox};

#[async_trait]
impl WebhookInbox for SqliteStore {
    async fn record_webhook(&self, w: &InboundWebhook) -> StoreResult<bool> {
        let w = w.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO webhook_inbox (id, source, kind, dedupe_key, received_at, body, processed_at, error) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
            )
            .and_then(|mut st| {
                st.execute(params![
                    w.id,
                    w.source,
                    w.kind,
                    w.dedupe_key,
                    millis(w.received_at),
                    w.body,
                    w.processed_at.map(millis),
                    w.error
                ])
            })
            .map(|n| n == 1)
            .map_err(backend)
        })
        .await
    }

    async fn mark_webhook_processed(
        &self,
        id: &str,
        at: DateTime<Utc>,
        error: Option<&str>,
    ) -> StoreResult<()> {
        let (id, error) = (id.to_owned(), error.map(str::to_owned));
        self.write(move |conn| {
            conn.prepare_cached("UPDATE webhook_inbox SET processed_at = ?2, error = ?3 WHERE id = ?1")
                .and_then(|mut st| st.execute(params![id, millis(at), error]))
                .map(|_| ())
                .map_err(backend)
        })
        .await
    }

    async fn unprocessed_webhooks(&self, limit: u64) -> StoreResult<Vec<InboundWebhook>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let mut st = conn
                .prepare_cached(
                    "SELECT id, source, kind, dedupe_key, received_at, body, processed_at, error FROM webhook_inbox \
                     WHERE processed_at IS NULL ORDER BY received_at, id LIMIT ?1",
                )
                .map_err(backend)?;
            let mut rows = st.query([limit]).map_err(backend)?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(backend)? {
                out.push(InboundWebhook {
                    id: r.get(0).map_err(backend)?,
                    source: r.get(1).map_err(backend)?,
                    kind: r.get(2).map_err(backend)?,
                    dedupe_key: r.get(3).map_err(backend)?,
                    received_at: time(r.get(4).map_err(backend)?, "webhook_inbox.received_at")?,
                    body: r.get(5).map_err(backend)?,
                    processed_at: opt_time(r.get(6).map_err(backend)?, "webhook_inbox.processed_at")?,
                    error: r.get(7).map_err(backend)?,
                });
            }
            Ok(out)
        })
        .await
    }
}
