//! The MongoDB store (`MONGODB_URI`), for production and for several main-app instances.
//!
//! # Collections
//! `calls` (`_id` = call id), `call_events` (`_id` = event id), `once` (`_id` = key),
//! `sessions` (`_id` = token hash) and `migrations` (applied schema versions; see
//! [`migrations`]). Field names are camelCase; see `calls_codec` for the document shape.
//!
//! # How the guarantees of [`crate::store`] are met
//! Every write below is a single-document operation, which MongoDB applies atomically; no
//! transaction is needed, so it works on a standalone server as well as on a replica set.
//! - idempotent insert: `insert_one`; on a duplicate-key error, the call holding the key (partial
//!   unique index on `idempotencyKey`) is read and returned as `Existing`;
//! - monotonic status: `find_one_and_update({_id, statusRank: {$lt: r}}, pipeline)` returning
//!   the new document; the pipeline sets `answeredAt`/`endedAt` with `$ifNull`;
//! - set once: one `find_one_and_update` whose pipeline sets `x: {$ifNull: ["$x", {$literal: v}]}`
//!   per field (`$literal` so a value starting with `$` is never read as a field path), and moves
//!   `updatedAt` only when one of the fields was empty (`$cond`, evaluated on the old document);
//! - event dedupe: partial unique index `(callId, dedupeKey)`; a duplicate-key error means
//!   "already stored" and `append_event` returns false;
//! - `mark_once`: `insert_one({_id: key})`, false on a duplicate key.
//!
//! `list_calls` counts and reads with two queries, so under concurrent inserts `total` may differ
//! from the items by the calls inserted in between (SQLite reads both from one snapshot). Unlike
//! SQLite, an event for an unknown call is stored (no foreign keys). Every operation runs under
//! [`OP_TIMEOUT`]; server selection and connecting are bounded by the client options.

use async_trait::async_trait;
use mongodb::bson::{Document, doc};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Database};
use std::future::IntoFuture;
use std::time::Duration;

use crate::store::{Store, StoreError, StoreResult};
use calls_codec::{CallDoc, EventDoc};

mod calls;
mod calls_codec;
mod campaigns;
pub mod migrations;
mod post_call;
mod sessions;
mod stats;

/// Longest any single store operation may take before it fails with `StoreError::Backend`.
pub const OP_TIMEOUT: Duration = Duration::from_secs(15);

/// How long to look for a usable server, and to open a connection, before failing.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// MongoDB's duplicate-key error code.
const DUPLICATE_KEY: i32 = 11000;

/// MongoDB-backed [`crate::store::Store`]. Cheap to clone (the driver pools connections).
#[derive(Clone)]
pub struct MongoStore {
    db: Database,
    calls: Collection<CallDoc>,
    events: Collection<EventDoc>,
    once: Collection<Document>,
    sessions: Collection<Document>,
}

impl MongoStore {
    /// Connects to `uri`, checks the server answers, and runs pending migrations on `database`.
    pub async fn connect(uri: &str, database: &str) -> anyhow::Result<Self> {
        let mut options = ClientOptions::parse(uri).await.map_err(|e| anyhow::anyhow!("MONGODB_URI: {e}"))?;
        options.app_name = Some("main-app".into());
        options.server_selection_timeout = Some(CONNECT_TIMEOUT);
        options.connect_timeout = Some(CONNECT_TIMEOUT);
        let client = Client::with_options(options)?;
        let db = client.database(database);
        deadline(db.run_command(doc! { "ping": 1 })).await?;
        let applied = migrations::run(&db).await?;
        if applied > 0 {
            tracing::info!(applied, database, "mongodb migrations applied");
        }
        Ok(Self {
            calls: db.collection(CALLS),
            events: db.collection(EVENTS),
            once: db.collection(ONCE),
            sessions: db.collection(SESSIONS),
            db,
        })
    }

    /// The database (for tests, and for components that share the connection, such as the
    /// Socket.IO adapter).
    pub fn database(&self) -> &Database {
        &self.db
    }
}

/// Collection names.
pub(crate) const CALLS: &str = "calls";
pub(crate) const EVENTS: &str = "call_events";
pub(crate) const ONCE: &str = "once";
pub(crate) const SESSIONS: &str = "sessions";

/// Awaits a driver operation under [`OP_TIMEOUT`], mapping its error.
pub(crate) async fn deadline<T>(op: impl IntoFuture<Output = mongodb::error::Result<T>>) -> StoreResult<T> {
    match tokio::time::timeout(OP_TIMEOUT, op).await {
        Ok(result) => result.map_err(backend),
        Err(_) => Err(StoreError::Backend(format!("mongodb: no answer within {}s", OP_TIMEOUT.as_secs()))),
    }
}

/// Maps a driver error. A document that no longer decodes is `Corrupt`; duplicate keys are
/// named without the key value; everything else is the driver's message (which never contains
/// the URI's credentials).
pub(crate) fn backend(e: mongodb::error::Error) -> StoreError {
    if is_duplicate_key(&e) {
        return StoreError::Backend("mongodb: duplicate key".into());
    }
    match *e.kind {
        ErrorKind::BsonDeserialization(ref d) => StoreError::Corrupt(format!("mongodb document: {d}")),
        _ => StoreError::Backend(format!("mongodb: {e}")),
    }
}

/// True for a duplicate-key error (a unique index refused the write).
pub(crate) fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    match *e.kind {
        ErrorKind::Write(WriteFailure::WriteError(ref w)) => w.code == DUPLICATE_KEY,
        ErrorKind::Command(ref c) => c.code == DUPLICATE_KEY,
        _ => false,
    }
}

/// Awaits an insert under [`OP_TIMEOUT`]: `Ok(true)` when written, `Ok(false)` when a unique
/// index refused it.
pub(crate) async fn insert_unless_duplicate(
    op: impl IntoFuture<Output = mongodb::error::Result<mongodb::results::InsertOneResult>>,
) -> StoreResult<bool> {
    match tokio::time::timeout(OP_TIMEOUT, op).await {
        Ok(Ok(_)) => Ok(true),
        Ok(Err(e)) if is_duplicate_key(&e) => Ok(false),
        Ok(Err(e)) => Err(backend(e)),
        Err(_) => Err(StoreError::Backend(format!("mongodb: no answer within {}s", OP_TIMEOUT.as_secs()))),
    }
}

#[async_trait]
impl Store for MongoStore {
    async fn ping(&self) -> StoreResult<()> {
        deadline(self.db.run_command(doc! { "ping": 1 })).await.map(|_| ())
    }

    fn backend(&self) -> &'static str {
        "mongodb"
    }
}

#[cfg(test)]
mod tests;
