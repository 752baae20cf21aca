//! [`FollowupStore`] on SQLite: the `call_followups` table (migration 3). Scheduling keeps the
//! earliest due time and ignores finalized calls; claiming is one `UPDATE … RETURNING`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::rows::{json, opt_time};
use crate::amd::AmdPolicy;
use crate::post_call::store::FollowupStore;
use crate::store::sqlite::calls_codec::{millis, to_json};
use crate::store::sqlite::{SqliteStore, backend};
use crate::store::{StoreError, StoreResult};
use common::ids::CallId;

#[async_trait]
impl FollowupStore for SqliteStore {
    async fn set_amd_policy(&self, call_id: &CallId, policy: &AmdPolicy) -> StoreResult<()> {
        let (id, policy) = (call_id.to_string(), to_json(policy)?);
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO call_followups (call_id, amd_policy) VALUES (?1, ?2) \
                 ON CONFLICT (call_id) DO UPDATE SET amd_policy = excluded.amd_policy",
            )
            .and_then(|mut st| st.execute(params![id, policy]))
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn amd_policy(&self, call_id: &CallId) -> StoreResult<Option<AmdPolicy>> {
        let id = call_id.to_string();
        self.read(move |conn| {
            let raw: Option<Option<String>> = conn
                .prepare_cached("SELECT amd_policy FROM call_followups WHERE call_id = ?1")
                .and_then(|mut st| st.query_row([&id], |r| r.get(0)).optional())
                .map_err(backend)?;
            raw.flatten().map(|raw| json(&raw, "call_followups.amd_policy")).transpose()
        })
        .await
    }

    async fn schedule_finalize(&self, call_id: &CallId, due_at: DateTime<Utc>) -> StoreResult<()> {
        let id = call_id.to_string();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO call_followups (call_id, finalize_due_at) VALUES (?1, ?2) \
                 ON CONFLICT (call_id) DO UPDATE SET finalize_due_at = CASE \
                   WHEN finalized_at IS NOT NULL THEN finalize_due_at \
                   WHEN finalize_due_at IS NULL OR excluded.finalize_due_at < finalize_due_at \
                     THEN excluded.finalize_due_at \
                   ELSE finalize_due_at END",
            )
            .and_then(|mut st| st.execute(params![id, millis(due_at)]))
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn claim_due_finalizations(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u64,
    ) -> StoreResult<Vec<CallId>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.write(move |conn| {
            let mut st = conn
                .prepare_cached(
                    "UPDATE call_followups SET lease_until = ?2 WHERE call_id IN (\
                     SELECT call_id FROM call_followups WHERE finalized_at IS NULL AND finalize_due_at <= ?1 \
                     AND (lease_until IS NULL OR lease_until < ?1) ORDER BY finalize_due_at, call_id LIMIT ?3) \
                     RETURNING call_id, finalize_due_at",
                )
                .map_err(backend)?;
            let rows = st
                .query_map(params![millis(now), millis(lease_until), limit], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                })
                .map_err(backend)?;
            let mut due = rows.collect::<Result<Vec<_>, _>>().map_err(backend)?;
            due.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
            due.into_iter()
                .map(|(id, _)| {
                    CallId::parse(&id).map_err(|_| StoreError::Corrupt("sqlite column call_followups.call_id".into()))
                })
                .collect()
        })
        .await
    }

    async fn mark_finalized(&self, call_id: &CallId, at: DateTime<Utc>) -> StoreResult<()> {
        let id = call_id.to_string();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO call_followups (call_id, finalized_at) VALUES (?1, ?2) \
                 ON CONFLICT (call_id) DO UPDATE SET finalized_at = COALESCE(finalized_at, excluded.finalized_at), \
                 lease_until = NULL",
            )
            .and_then(|mut st| st.execute(params![id, millis(at)]))
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn finalized_at(&self, call_id: &CallId) -> StoreResult<Option<DateTime<Utc>>> {
        let id = call_id.to_string();
        self.read(move |conn| {
            let raw: Option<Option<i64>> = conn
                .prepare_cached("SELECT finalized_at FROM call_followups WHERE call_id = ?1")
                .and_then(|mut st| st.query_row([&id], |r| r.get(0)).optional())
                .map_err(backend)?;
            opt_time(raw.flatten(), "call_followups.finalized_at")
        })
        .await
    }
}
