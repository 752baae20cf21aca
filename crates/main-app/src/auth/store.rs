//! Dashboard sessions in the store, so a restart does not log operators out.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::store::StoreResult;

/// A logged-in dashboard session. Only the SHA-256 of the cookie token is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Hex SHA-256 of the session token.
    pub token_hash: String,
    /// Who logged in.
    pub username: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// After this the session is refused.
    pub expires_at: DateTime<Utc>,
}

/// Session persistence.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session.
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    /// A session by token hash (expired ones may be returned; the caller checks `expires_at`).
    async fn get_session(&self, token_hash: &str) -> StoreResult<Option<Session>>;
    /// Removes a session (logout). Removing a missing session is not an error.
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
}
