//! Shared pieces of the post-call collections on MongoDB: their names, their migration
//! (indexes), and small codecs. Structured values (transcript lines, post-call records, CRM
//! payloads and logs, AMD policies) are stored as JSON strings: they round-trip exactly, and
//! user-defined keys (data-collection ids, CRM payload keys) never meet MongoDB's key rules.

mod crm;
mod followups;
mod recordings;
mod transcripts;
mod webhooks;

use futures_util::TryStreamExt;
use futures_util::future::BoxFuture;
use mongodb::bson::{Bson, DateTime as BsonDateTime, Document, doc};
use mongodb::options::IndexOptions;
use mongodb::{Collection, Cursor, Database, IndexModel};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::store::mongo::calls_codec::{bson_time, chrono_time};
use crate::store::mongo::{MongoStore, deadline};
use crate::store::{StoreError, StoreResult};

/// Live transcript lines (`_id` = `<call id>:<index>`).
pub const TRANSCRIPT_LINES: &str = "transcript_lines";
/// Conversation links and post-call records (`_id` = call id).
pub const CONVERSATIONS: &str = "conversations";
/// Recordings (`_id` = RecordingSid).
pub const RECORDINGS: &str = "recordings";
/// The CRM outbox (`_id` = delivery id).
pub const CRM_DELIVERIES: &str = "crm_deliveries";
/// The webhook inbox (`_id` = webhook id).
pub const WEBHOOK_INBOX: &str = "webhook_inbox";
/// Per-call follow-ups (`_id` = call id).
pub const CALL_FOLLOWUPS: &str = "call_followups";

impl MongoStore {
    /// A post-call collection of untyped documents.
    pub(super) fn coll(&self, name: &str) -> Collection<Document> {
        self.database().collection(name)
    }
}

fn index(keys: Document, name: &str, unique: bool) -> IndexModel {
    let options = IndexOptions::builder().name(name.to_owned()).unique(unique).build();
    IndexModel::builder().keys(keys).options(options).build()
}

/// Migration 3: the indexes of the post-call collections (idempotent).
pub fn post_call_v3(db: &Database) -> BoxFuture<'_, anyhow::Result<()>> {
    Box::pin(async move {
        let plan: [(&str, Vec<IndexModel>); 6] = [
            (TRANSCRIPT_LINES, vec![index(doc! { "callId": 1, "idx": 1 }, "transcript_lines_call", false)]),
            (
                CONVERSATIONS,
                vec![
                    index(doc! { "conversationId": 1 }, "conversations_conversation_id", true),
                    index(doc! { "linkedAt": 1, "_id": 1 }, "conversations_linked_at", false),
                ],
            ),
            (
                RECORDINGS,
                vec![
                    index(doc! { "callId": 1, "createdAt": 1 }, "recordings_call", false),
                    index(doc! { "createdAt": -1, "_id": -1 }, "recordings_created_at", false),
                ],
            ),
            (
                CRM_DELIVERIES,
                vec![
                    index(doc! { "callId": 1 }, "crm_deliveries_call", true),
                    index(doc! { "status": 1, "nextAttemptAt": 1 }, "crm_deliveries_due", false),
                    index(doc! { "createdAt": -1, "_id": -1 }, "crm_deliveries_created_at", false),
                ],
            ),
            (
                WEBHOOK_INBOX,
                vec![
                    index(doc! { "dedupeKey": 1 }, "webhook_inbox_dedupe", true),
                    index(doc! { "processedAt": 1, "receivedAt": 1 }, "webhook_inbox_unprocessed", false),
                ],
            ),
            (
                CALL_FOLLOWUPS,
                vec![index(doc! { "finalizedAt": 1, "finalizeDueAt": 1 }, "call_followups_due", false)],
            ),
        ];
        for (name, indexes) in plan {
            deadline(db.collection::<Document>(name).create_indexes(indexes)).await?;
        }
        Ok(())
    })
}

/// Migration 5: a call may have an update delivery besides its final one, so uniqueness moves
/// from `callId` to `idempotencyKey`. Idempotent: the old index is dropped only if present (and
/// an instance racing us to drop it is fine), creating existing indexes is a no-op.
pub fn crm_updates_v5(db: &Database) -> BoxFuture<'_, anyhow::Result<()>> {
    Box::pin(async move {
        let coll = db.collection::<Document>(CRM_DELIVERIES);
        let indexes = vec![
            index(doc! { "idempotencyKey": 1 }, "crm_deliveries_idempotency_key", true),
            index(doc! { "callId": 1, "createdAt": 1 }, "crm_deliveries_by_call", false),
        ];
        deadline(coll.create_indexes(indexes)).await?;
        if deadline(coll.list_index_names()).await?.iter().any(|n| n == "crm_deliveries_call") {
            match deadline(coll.drop_index("crm_deliveries_call")).await {
                Ok(()) => {}
                // Another instance dropped it between our look and our drop.
                Err(_)
                    if !deadline(coll.list_index_names())
                        .await?
                        .iter()
                        .any(|n| n == "crm_deliveries_call") => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    })
}

/// Migration 6: the order bulk transcript recovery reads conversations in (idempotent).
pub fn recovery_attempts_v6(db: &Database) -> BoxFuture<'_, anyhow::Result<()>> {
    Box::pin(async move {
        let keys = doc! { "recoveryAttempts": 1, "linkedAt": 1, "_id": 1 };
        let coll = db.collection::<Document>(CONVERSATIONS);
        deadline(coll.create_index(index(keys, "conversations_recovery_order", false))).await?;
        Ok(())
    })
}

/// A value as a JSON string.
pub fn json<T: Serialize + ?Sized>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(format!("encoding JSON: {e}")))
}

/// A JSON string field back as a value.
pub fn from_json<T: DeserializeOwned>(d: &Document, field: &str, coll: &str) -> StoreResult<T> {
    let raw = d.get_str(field).map_err(|_| corrupt(coll, field))?;
    serde_json::from_str(raw).map_err(|_| corrupt(coll, field))
}

/// A corrupt-field error naming the collection and field.
pub fn corrupt(coll: &str, field: &str) -> StoreError {
    StoreError::Corrupt(format!("mongodb field {coll}.{field}"))
}

/// A time field.
pub fn time(d: &Document, field: &str, coll: &str) -> StoreResult<chrono::DateTime<chrono::Utc>> {
    let t: BsonDateTime = *d.get_datetime(field).map_err(|_| corrupt(coll, field))?;
    chrono_time(t, field)
}

/// A nullable time field (missing or null is `None`).
pub fn opt_time(d: &Document, field: &str, coll: &str) -> StoreResult<Option<chrono::DateTime<chrono::Utc>>> {
    match d.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::DateTime(t)) => chrono_time(*t, field).map(Some),
        Some(_) => Err(corrupt(coll, field)),
    }
}

/// A nullable string field.
pub fn opt_str(d: &Document, field: &str) -> Option<String> {
    d.get_str(field).ok().map(str::to_owned)
}

/// A nullable non-negative integer field.
pub fn opt_u32(d: &Document, field: &str, coll: &str) -> StoreResult<Option<u32>> {
    match d.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::Int32(v)) => u32::try_from(*v).map(Some).map_err(|_| corrupt(coll, field)),
        Some(Bson::Int64(v)) => u32::try_from(*v).map(Some).map_err(|_| corrupt(coll, field)),
        Some(_) => Err(corrupt(coll, field)),
    }
}

/// `Some(t)` as a BSON time, `None` as null.
pub fn opt_bson_time(t: Option<chrono::DateTime<chrono::Utc>>) -> Bson {
    t.map_or(Bson::Null, |t| Bson::DateTime(bson_time(t)))
}

/// `Some(s)` as a string, `None` as null.
pub fn opt_bson_str(s: Option<&str>) -> Bson {
    s.map_or(Bson::Null, |s| Bson::String(s.to_owned()))
}

/// Every document of a cursor, under the operation deadline.
pub async fn collect(cursor: Cursor<Document>) -> StoreResult<Vec<Document>> {
    deadline(cursor.try_collect()).await
}

/// `n` as a BSON-sized count.
pub fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
