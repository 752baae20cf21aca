//! The embedded store: one SQLite file (WAL mode) under `DATA_DIR`.
//! (Skeleton: the store helper implements it.)

/// SQLite-backed [`crate::store::Store`].
pub struct SqliteStore;

impl SqliteStore {
    /// Opens (creating if needed) the database file and runs migrations.
    pub async fn open(_path: &std::path::Path) -> anyhow::Result<Self> {
        anyhow::bail!("the embedded store is being built")
    }
}
