//! [`TranscriptStore`] on SQLite: the `transcript_lines` and `conversations` tables (migrations 3
//! and 6).

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use chrono::{DateTime, Utc};

use super::rows::{json, opt_time, to_u32};
use crate::store::sqlite::calls_codec::{millis, to_json};
use crate::store::sqlite::{SqliteStore, backend};
use crate::store::{StoreError, StoreResult, now_ms};
use crate::transcripts::model::{PostCall, RecoveryState};
use crate::transcripts::store::TranscriptStore;
use common::events::TranscriptLine;
use common::ids::CallId;

#[async_trait]
impl TranscriptStore for SqliteStore {
    async fn upsert_live_line(&self, call_id: &CallId, line: &TranscriptLine) -> StoreResult<()> {
        let (id, idx, body) = (call_id.to_string(), i64::from(line.index), to_json(line)?);
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO transcript_lines (call_id, idx, line, updated_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (call_id, idx) DO UPDATE SET line = excluded.line, updated_at = excluded.updated_at",
            )
            .and_then(|mut st| st.execute(params![id, idx, body, millis(now_ms())]))
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn live_lines(&self, call_id: &CallId) -> StoreResult<Vec<TranscriptLine>> {
        let id = call_id.to_string();
        self.read(move |conn| {
            let mut st = conn
                .prepare_cached("SELECT line FROM transcript_lines WHERE call_id = ?1 ORDER BY idx")
                .map_err(backend)?;
            let rows = st.query_map([&id], |r| r.get::<_, String>(0)).map_err(backend)?;
            rows.map(|r| json(&r.map_err(backend)?, "transcript_lines.line")).collect()
        })
        .await
    }

    async fn link_conversation(&self, call_id: &CallId, conversation_id: &str) -> StoreResult<bool> {
        let (id, conv) = (call_id.to_string(), conversation_id.to_owned());
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO conversations (call_id, conversation_id, linked_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO NOTHING",
            )
            .and_then(|mut st| st.execute(params![id, conv, millis(now_ms())]))
            .map(|n| n == 1)
            .map_err(backend)
        })
        .await
    }

    async fn call_for_conversation(&self, conversation_id: &str) -> StoreResult<Option<CallId>> {
        let conv = conversation_id.to_owned();
        self.read(move |conn| {
            let id: Option<String> = conn
                .prepare_cached("SELECT call_id FROM conversations WHERE conversation_id = ?1")
                .and_then(|mut st| st.query_row([&conv], |r| r.get(0)).optional())
                .map_err(backend)?;
            id.map(|id| {
                CallId::parse(&id)
                    .map_err(|_| StoreError::Corrupt("sqlite column conversations.call_id".into()))
            })
            .transpose()
        })
        .await
    }

    async fn save_post_call(&self, call_id: &CallId, post_call: &PostCall) -> StoreResult<()> {
        let (id, conv, body) = (call_id.to_string(), post_call.conversation_id.clone(), to_json(post_call)?);
        let at = millis(post_call.received_at);
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO conversations (call_id, conversation_id, linked_at, post_call, post_call_at) \
                 VALUES (?1, ?2, ?3, ?4, ?3) \
                 ON CONFLICT (call_id) DO UPDATE SET post_call = excluded.post_call, post_call_at = excluded.post_call_at",
            )
            .and_then(|mut st| st.execute(params![id, conv, at, body]))
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn get_post_call(&self, call_id: &CallId) -> StoreResult<Option<PostCall>> {
        let id = call_id.to_string();
        self.read(move |conn| {
            let raw: Option<Option<String>> = conn
                .prepare_cached("SELECT post_call FROM conversations WHERE call_id = ?1")
                .and_then(|mut st| st.query_row([&id], |r| r.get(0)).optional())
                .map_err(backend)?;
            raw.flatten().map(|raw| json(&raw, "conversations.post_call")).transpose()
        })
        .await
    }

    async fn conversations_missing_post_call(&self, limit: u64) -> StoreResult<Vec<(CallId, String)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let mut st = conn
                .prepare_cached(
                    "SELECT call_id, conversation_id FROM conversations \
                     WHERE post_call IS NULL AND recovery_given_up_at IS NULL \
                     ORDER BY recovery_attempts, linked_at, call_id LIMIT ?1",
                )
                .map_err(backend)?;
            let rows = st
                .query_map([limit], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(backend)?;
            rows.map(|r| {
                let (id, conv) = r.map_err(backend)?;
                let id = CallId::parse(&id)
                    .map_err(|_| StoreError::Corrupt("sqlite column conversations.call_id".into()))?;
                Ok((id, conv))
            })
            .collect()
        })
        .await
    }

    async fn record_recovery_failure(
        &self,
        call_id: &CallId,
        error: &str,
        permanent: bool,
        max_attempts: u32,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (id, error) = (call_id.to_string(), error.to_owned());
        self.write(move |conn| {
            conn.prepare_cached(
                "UPDATE conversations SET recovery_attempts = recovery_attempts + 1, recovery_error = ?2, \
                 recovery_given_up_at = CASE WHEN recovery_given_up_at IS NOT NULL THEN recovery_given_up_at \
                 WHEN ?3 OR recovery_attempts + 1 >= ?4 THEN ?5 END \
                 WHERE call_id = ?1 RETURNING recovery_given_up_at IS NOT NULL",
            )
            .and_then(|mut st| {
                st.query_row(params![id, error, permanent, i64::from(max_attempts), millis(at)], |r| r.get(0))
                    .optional()
            })
            .map(|given_up| given_up.unwrap_or(false))
            .map_err(backend)
        })
        .await
    }

    async fn recovery_state(&self, call_id: &CallId) -> StoreResult<Option<RecoveryState>> {
        let id = call_id.to_string();
        self.read(move |conn| {
            let row = conn
                .prepare_cached(
                    "SELECT recovery_attempts, recovery_error, recovery_given_up_at FROM conversations \
                     WHERE call_id = ?1",
                )
                .and_then(|mut st| {
                    st.query_row([id], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<i64>>(2)?))
                    })
                    .optional()
                })
                .map_err(backend)?;
            row.map(|(attempts, last_error, given_up)| {
                Ok(RecoveryState {
                    attempts: to_u32(attempts, "conversations.recovery_attempts")?,
                    last_error,
                    given_up_at: opt_time(given_up, "conversations.recovery_given_up_at")?,
                })
            })
            .transpose()
        })
        .await
    }
}
