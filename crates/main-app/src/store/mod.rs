//! Persistence: one trait per resource, two implementations, one conformance suite.
//!
//! [`Store`] bundles the per-resource traits (`CallStore`, `SessionStore`, ...). [`open`] picks the
//! backend: MongoDB when `MONGODB_URI` is set, otherwise the embedded SQLite file
//! `DATA_DIR/voice-platform.sqlite` (WAL mode), so a fresh machine runs with no set-up. Both run
//! their versioned schema migrations and create their indexes at start-up. No handler builds a
//! query: everything goes through these traits. `conformance` holds the tests every backend must
//! pass (`cargo test -p main-app store::`).
//!
//! # Guarantees both backends give
//! - **Precision.** Timestamps are stored with millisecond precision (sub-millisecond parts are
//!   truncated), so a `Call` read back equals the one written once its times are truncated to the
//!   millisecond ([`truncate_ms`]). Everything else round-trips exactly. `insert_call` returns the
//!   call as stored (already truncated).
//! - **Idempotent insert.** A call's `idempotency_key` is unique (when present). `insert_call` with
//!   a key already stored writes nothing and returns `Inserted::Existing(stored call)`; two
//!   concurrent inserts with one key give exactly one `New`. A duplicate `id` or `call_sid` is a
//!   caller bug and fails with `StoreError::Backend`.
//! - **Monotonic status.** `advance_status` is one conditional write (`status_rank < new rank`),
//!   never read-modify-write: a late `ringing` never replaces `in-progress`, nothing replaces a
//!   terminal status (two terminal statuses have equal rank, so the first wins). `answered_at` is
//!   set on reaching `in-progress` and `ended_at` on reaching a terminal status, each only if still
//!   empty, in that same write. `updated_at` becomes the store's clock at the write.
//! - **Set once.** `set_once` writes each given field only where the stored value is empty, in one
//!   write; `updated_at` moves only when at least one field was actually filled.
//! - **Audit log.** `append_event` stores an event unless the call already has one with the same
//!   `dedupe_key` (or the same event `id`): then it writes nothing and returns `false`.
//!   `list_events` returns the oldest first (by `at`, then by id; ids are UUID v7).
//! - **Exactly once.** `mark_once(key)` returns `true` for the first caller only, even when callers
//!   race.
//! - **Listing.** `list_calls` orders by `created_at` descending, then id descending; `total`
//!   counts every match; the limit is capped at [`MAX_PAGE`] and the `Paged` says which limit was
//!   used.
//! - **Errors** are `StoreError::Backend` (driver failures, constraint violations other than the
//!   ones above) or `StoreError::Corrupt` (a stored value that no longer parses). Messages name
//!   tables, columns or collections, never stored values, credentials or phone numbers.
//!
//! # Adding a resource
//! Define its trait next to its handlers (`contacts/store.rs`), add it to [`Store`]'s supertraits,
//! then per backend add one file (`sqlite/contacts.rs`, `mongo/contacts.rs`) and one migration
//! (`sqlite/migrations/NNNN_contacts.sql` listed in `sqlite/migrations.rs`, a step in
//! `mongo/migrations.rs`), and add its cases to `conformance/` (see that module).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use std::sync::Arc;

use crate::auth::store::SessionStore;
use crate::calls::store::CallStore;
use crate::campaigns::store::{CampaignStore, DialStore};
use crate::contacts::store::{ContactStore, DncStore};
use crate::crm::store::CrmOutbox;
use crate::post_call::store::FollowupStore;
use crate::recordings::store::RecordingStore;
use crate::stats::store::StatsStore;
use crate::transcripts::store::TranscriptStore;
use crate::webhooks::inbox::WebhookInbox;

pub mod mongo;
pub mod sqlite;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;

/// File name of the embedded store inside `DATA_DIR`.
pub const SQLITE_FILE_NAME: &str = "voice-platform.sqlite";

/// Largest page `list_calls` returns; larger limits are capped.
pub const MAX_PAGE: u64 = 1000;

/// A storage failure. Handlers map it to a 500 (or 503 for readiness) without details.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend failed (I/O, connection, query).
    #[error("storage backend error: {0}")]
    Backend(String),
    /// A stored record could not be read back.
    #[error("corrupt stored record: {0}")]
    Corrupt(String),
}

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Every resource's storage, behind one object.
#[async_trait]
pub trait Store:
    CallStore
    + SessionStore
    + TranscriptStore
    + RecordingStore
    + CrmOutbox
    + WebhookInbox
    + FollowupStore
    + ContactStore
    + DncStore
    + CampaignStore
    + DialStore
    + StatsStore
    + Send
    + Sync
    + 'static
{
    /// Checks the backend answers (readiness probe).
    async fn ping(&self) -> StoreResult<()>;
    /// `sqlite` or `mongodb`, for logs.
    fn backend(&self) -> &'static str;
}

/// The shared store handle.
pub type DynStore = Arc<dyn Store>;

/// Opens the configured store and runs its migrations: MongoDB when `MONGODB_URI` is set,
/// otherwise SQLite at `DATA_DIR/voice-platform.sqlite` (the directory is created if missing).
pub async fn open(settings: &crate::settings::Settings) -> anyhow::Result<DynStore> {
    use anyhow::Context;
    match &settings.mongodb_uri {
        Some(uri) => {
            let store = mongo::MongoStore::connect(uri.expose_secret(), &settings.mongodb_database)
                .await
                .context("opening the MongoDB store (MONGODB_URI)")?;
            Ok(Arc::new(store))
        }
        None => {
            let dir = &settings.data_dir;
            tokio::fs::create_dir_all(dir)
                .await
                .with_context(|| format!("creating DATA_DIR {}", dir.display()))?;
            let path = dir.join(SQLITE_FILE_NAME);
            let store = sqlite::SqliteStore::open(&path)
                .await
                .with_context(|| format!("opening the embedded store {}", path.display()))?;
            Ok(Arc::new(store))
        }
    }
}

/// `t` with its sub-millisecond part dropped: the precision both backends store.
pub fn truncate_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    from_millis(t.timestamp_millis()).unwrap_or(t)
}

/// Milliseconds since the Unix epoch to a time (`None` when out of chrono's range).
pub(crate) fn from_millis(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp_millis(ms)
}

/// The store's clock, at stored precision.
pub(crate) fn now_ms() -> DateTime<Utc> {
    truncate_ms(Utc::now())
}
