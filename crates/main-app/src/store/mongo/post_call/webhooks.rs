//! [`WebhookInbox`] on MongoDB: `webhook_inbox` (`_id` = webhook id, unique `dedupeKey`),
//! migration 3.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::doc;

use super::{WEBHOOK_INBOX, collect, corrupt, opt_bson_str, opt_bson_time, opt_str, opt_time, time, to_i64};
use crate::store::StoreResult;
use crate::store::mongo::calls_codec::bson_time;
use crate::store::mongo::{MongoStore, deadline, insert_unless_duplicate};
use crate::webhooks::inbox::{InboundWebhook, WebhookInbox};

#[async_trait]
impl WebhookInbox for MongoStore {
    async fn record_webhook(&self, w: &InboundWebhook) -> StoreResult<bool> {
        let record = doc! {
            "_id": &w.id,
            "source": &w.source,
            "kind": &w.kind,
            "dedupeKey": &w.dedupe_key,
            "receivedAt": bson_time(w.received_at),
            "body": &w.body,
            "processedAt": opt_bson_time(w.processed_at),
            "error": opt_bson_str(w.error.as_deref()),
        };
        insert_unless_duplicate(self.coll(WEBHOOK_INBOX).insert_one(record)).await
    }

    async fn mark_webhook_processed(
        &self,
        id: &str,
        at: DateTime<Utc>,
        error: Option<&str>,
    ) -> StoreResult<()> {
        let set = doc! { "$set": { "processedAt": bson_time(at), "error": opt_bson_str(error) } };
        deadline(self.coll(WEBHOOK_INBOX).update_one(doc! { "_id": id }, set)).await.map(|_| ())
    }

    async fn unprocessed_webhooks(&self, limit: u64) -> StoreResult<Vec<InboundWebhook>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let coll = self.coll(WEBHOOK_INBOX);
        let find = coll
            .find(doc! { "processedAt": null })
            .sort(doc! { "receivedAt": 1, "_id": 1 })
            .limit(to_i64(limit));
        let docs = collect(deadline(find).await?).await?;
        let s = |d: &mongodb::bson::Document, f: &str| {
            d.get_str(f).map(str::to_owned).map_err(|_| corrupt(WEBHOOK_INBOX, f))
        };
        docs.iter()
            .map(|d| {
                Ok(InboundWebhook {
                    id: s(d, "_id")?,
                    source: s(d, "source")?,
                    kind: s(d, "kind")?,
                    dedupe_key: s(d, "dedupeKey")?,
                    received_at: time(d, "receivedAt", WEBHOOK_INBOX)?,
                    body: s(d, "body")?,
                    processed_at: opt_time(d, "processedAt", WEBHOOK_INBOX)?,
                    error: opt_str(d, "error"),
                })
            })
            .collect()
    }
}
