//! Versioned migrations of the MongoDB store (mostly index creation), run at start-up by [`run`].
//!
//! The `migrations` collection holds one document per applied version (`_id` = version). Each
//! pending migration runs, then its record is inserted. Several instances may start together and
//! run the same migration at once, so **every migration must be idempotent** (creating an index
//! that already exists with the same options is a no-op; a data change must be written so that
//! running it twice is harmless). A database with a version this build does not know is refused.
//! Append only: never edit or renumber a migration that has shipped.

use futures_util::TryStreamExt;
use futures_util::future::BoxFuture;
use mongodb::bson::{Document, doc};
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};

use super::{CALLS, EVENTS, SESSIONS, deadline, insert_unless_duplicate};

/// The collection recording applied versions.
pub const MIGRATIONS_COLLECTION: &str = "migrations";

/// A schema change.
pub struct Migration {
    /// Strictly increasing, starting at 1.
    pub version: i64,
    /// Short name, recorded for humans.
    pub name: &'static str,
    /// The change (idempotent).
    pub apply: for<'a> fn(&'a Database) -> BoxFuture<'a, anyhow::Result<()>>,
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "calls", apply: calls_v1 },
    Migration { version: 2, name: "sessions", apply: sessions_v2 },
    Migration { version: 3, name: "post_call", apply: super::post_call::post_call_v3 },
    Migration { version: 4, name: "campaigns", apply: super::campaigns::campaigns_v4 },
    Migration { version: 5, name: "crm_updates", apply: super::post_call::crm_updates_v5 },
    Migration { version: 6, name: "recovery_attempts", apply: super::post_call::recovery_attempts_v6 },
];

/// Applies every pending migration; returns how many this call applied.
pub async fn run(db: &Database) -> anyhow::Result<usize> {
    let records = db.collection::<Document>(MIGRATIONS_COLLECTION);
    let applied: Vec<i64> = deadline(records.find(doc! {}))
        .await?
        .try_collect::<Vec<Document>>()
        .await?
        .iter()
        .filter_map(|d| d.get_i64("_id").ok())
        .collect();
    let known = MIGRATIONS.last().map_or(0, |m| m.version);
    if let Some(newer) = applied.iter().find(|v| **v > known) {
        anyhow::bail!("the database is at schema version {newer} but this build only knows up to {known}");
    }
    let mut count = 0;
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        (m.apply)(db).await.map_err(|e| anyhow::anyhow!("migration {} ({}): {e}", m.version, m.name))?;
        let record = doc! { "_id": m.version, "name": m.name, "appliedAt": mongodb::bson::DateTime::now() };
        // A duplicate means another instance recorded it first: fine, the change is idempotent.
        if insert_unless_duplicate(records.insert_one(record)).await? {
            count += 1;
        }
    }
    Ok(count)
}

/// Versions recorded as applied, oldest first (for tests and diagnostics).
pub async fn applied_versions(db: &Database) -> anyhow::Result<Vec<i64>> {
    let records = db.collection::<Document>(MIGRATIONS_COLLECTION);
    let docs: Vec<Document> =
        deadline(records.find(doc! {}).sort(doc! { "_id": 1 })).await?.try_collect().await?;
    Ok(docs.iter().filter_map(|d| d.get_i64("_id").ok()).collect())
}

fn index(keys: Document, name: &str) -> IndexModel {
    IndexModel::builder().keys(keys).options(IndexOptions::builder().name(name.to_owned()).build()).build()
}

/// A unique index over documents where `field` is a string (absent fields are not indexed, so
/// any number of documents may lack it).
fn unique_when_set(keys: Document, field: &str, name: &str) -> IndexModel {
    let options = IndexOptions::builder()
        .name(name.to_owned())
        .unique(true)
        .partial_filter_expression(doc! { field: { "$type": "string" } })
        .build();
    IndexModel::builder().keys(keys).options(options).build()
}

fn calls_v1(db: &Database) -> BoxFuture<'_, anyhow::Result<()>> {
    Box::pin(async move {
        let calls = db.collection::<Document>(CALLS);
        let indexes = vec![
            unique_when_set(doc! { "callSid": 1 }, "callSid", "calls_call_sid"),
            unique_when_set(doc! { "idempotencyKey": 1 }, "idempotencyKey", "calls_idempotency_key"),
            index(doc! { "createdAt": -1, "_id": -1 }, "calls_created_at"),
            index(doc! { "status": 1, "createdAt": -1 }, "calls_status"),
            index(doc! { "campaignId": 1, "createdAt": -1 }, "calls_campaign"),
            index(doc! { "contactId": 1, "createdAt": -1 }, "calls_contact"),
            index(doc! { "statusRank": 1, "createdAt": 1 }, "calls_status_rank"),
        ];
        deadline(calls.create_indexes(indexes)).await?;
        let events = db.collection::<Document>(EVENTS);
        let indexes = vec![
            index(doc! { "callId": 1, "at": 1, "_id": 1 }, "call_events_call_at"),
            unique_when_set(doc! { "callId": 1, "dedupeKey": 1 }, "dedupeKey", "call_events_dedupe"),
        ];
        deadline(events.create_indexes(indexes)).await?;
        // `once` keys are the `_id`, unique by construction: nothing to create.
        Ok(())
    })
}

fn sessions_v2(db: &Database) -> BoxFuture<'_, anyhow::Result<()>> {
    // Sessions are looked up by `_id` (the token hash), always indexed. `expiresAt` is indexed for
    // purging expired sessions; deliberately not a TTL index, so expiry stays the caller's check
    // (the contract lets `get_session` return expired sessions).
    Box::pin(async move {
        let sessions = db.collection::<Document>(SESSIONS);
        deadline(sessions.create_index(index(doc! { "expiresAt": 1 }, "sessions_expires_at"))).await?;
        Ok(())
    })
}
