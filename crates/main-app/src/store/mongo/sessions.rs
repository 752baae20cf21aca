//! [`SessionStore`] on MongoDB: the `sessions` collection (`_id` = token hash, migration 2).

use async_trait::async_trait;
use mongodb::bson::{DateTime as BsonDateTime, doc};

use super::calls_codec::{bson_time, chrono_time};
use super::{MongoStore, deadline};
use crate::auth::store::{Session, SessionStore};
use crate::store::{StoreError, StoreResult};

#[async_trait]
impl SessionStore for MongoStore {
    async fn create_session(&self, session: &Session) -> StoreResult<()> {
        let record = doc! {
            "_id": &session.token_hash,
            "username": &session.username,
            "createdAt": bson_time(session.created_at),
            "expiresAt": bson_time(session.expires_at),
        };
        deadline(self.sessions.insert_one(record)).await.map(|_| ())
    }

    async fn get_session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        let Some(d) = deadline(self.sessions.find_one(doc! { "_id": token_hash })).await? else {
            return Ok(None);
        };
        let corrupt = |field: &str| StoreError::Corrupt(format!("mongodb field sessions.{field}"));
        let time = |field: &str| -> StoreResult<_> {
            let t: BsonDateTime = *d.get_datetime(field).map_err(|_| corrupt(field))?;
            chrono_time(t, field)
        };
        Ok(Some(Session {
            token_hash: token_hash.to_owned(),
            username: d.get_str("username").map_err(|_| corrupt("username"))?.to_owned(),
            created_at: time("createdAt")?,
            expires_at: time("expiresAt")?,
        }))
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        deadline(self.sessions.delete_one(doc! { "_id": token_hash })).await.map(|_| ())
    }
}
