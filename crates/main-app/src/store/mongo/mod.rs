//! The MongoDB store. (Skeleton: the store helper implements it.)

/// MongoDB-backed [`crate::store::Store`].
pub struct MongoStore;

impl MongoStore {
    /// Connects and runs migrations (indexes).
    pub async fn connect(_uri: &str, _database: &str) -> anyhow::Result<Self> {
        anyhow::bail!("the MongoDB store is being built")
    }
}
