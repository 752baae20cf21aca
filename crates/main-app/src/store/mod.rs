//! Persistence: one trait per resource, two implementations, one conformance suite.
//!
//! [`Store`] bundles the per-resource traits (`CallStore`, `SessionStore`, ...). [`open`] picks the
//! backend: MongoDB when `MONGODB_URI` is set, otherwise the embedded SQLite file under `DATA_DIR`
//! (WAL mode), so a fresh machine runs with no set-up. Both run their schema migrations and create
//! their indexes at start-up. No handler builds a query: everything goes through these traits.
//! `conformance` holds the tests every backend must pass.

use async_trait::async_trait;
use std::sync::Arc;

use crate::auth::store::SessionStore;
use crate::calls::store::CallStore;

pub mod mongo;
pub mod sqlite;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;

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
pub trait Store: CallStore + SessionStore + Send + Sync + 'static {
    /// Checks the backend answers (readiness probe).
    async fn ping(&self) -> StoreResult<()>;
    /// `sqlite` or `mongodb`, for logs.
    fn backend(&self) -> &'static str;
}

/// The shared store handle.
pub type DynStore = Arc<dyn Store>;

/// Opens the configured store and runs its migrations.
pub async fn open(settings: &crate::settings::Settings) -> anyhow::Result<DynStore> {
    // Skeleton until the backends implement `Store` (store helper replaces this body).
    match &settings.mongodb_uri {
        Some(_) => mongo::MongoStore::connect("", &settings.mongodb_database).await.map(|_| unreachable_store()),
        None => sqlite::SqliteStore::open(&settings.data_dir).await.map(|_| unreachable_store()),
    }
}

fn unreachable_store() -> DynStore {
    panic!("skeleton")
}
