//! [`SessionStore`] on SQLite: the `sessions` table (migration 2), keyed by token hash.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::calls_codec::millis;
use super::{SqliteStore, backend};
use crate::auth::store::{Session, SessionStore};
use crate::store::{StoreError, StoreResult, from_millis};

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(&self, session: &Session) -> StoreResult<()> {
        let s = session.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO sessions (token_hash, username, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut st| {
                st.execute(params![s.token_hash, s.username, millis(s.created_at), millis(s.expires_at)])
            })
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn get_session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        let token_hash = token_hash.to_owned();
        self.read(move |conn| {
            let row = conn
                .prepare_cached("SELECT username, created_at, expires_at FROM sessions WHERE token_hash = ?1")
                .and_then(|mut st| {
                    st.query_row([&token_hash], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))
                        .optional()
                })
                .map_err(backend)?;
            let Some((username, created, expires)) = row else { return Ok(None) };
            let time = |ms: i64, col: &str| {
                from_millis(ms).ok_or_else(|| StoreError::Corrupt(format!("sqlite column sessions.{col}")))
            };
            Ok(Some(Session {
                token_hash,
                username,
                created_at: time(created, "created_at")?,
                expires_at: time(expires, "expires_at")?,
            }))
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let token_hash = token_hash.to_owned();
        self.write(move |conn| {
            conn.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")
                .and_then(|mut st| st.execute([&token_hash]))
                .map(|_| ())
                .map_err(backend)
        })
        .await
    }
}
