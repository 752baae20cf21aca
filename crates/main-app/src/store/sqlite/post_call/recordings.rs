//! [`RecordingStore`] on SQLite: the `recordings` table (migration 3). The upsert is one
//! `INSERT … ON CONFLICT (sid) DO UPDATE … WHERE excluded.status_rank > status_rank`, so a late
//! or repeated callback never moves a recording backwards.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, Row, params, params_from_iter};

use super::rows::{opt_int, time, to_u32};
use crate::calls::model::{Page, Paged};
use crate::recordings::model::{Recording, RecordingStatus};
use crate::recordings::store::RecordingStore;
use crate::store::sqlite::calls_codec::{millis, opt_text, text};
use crate::store::sqlite::{SqliteStore, backend};
use crate::store::{MAX_PAGE, StoreError, StoreResult};
use common::ids::{CallId, CallSid};

const COLUMNS: &str = "sid, call_id, call_sid, status, duration_secs, channels, created_at, updated_at, \
     to_number, name, error_code";

fn from_row(r: &Row<'_>) -> StoreResult<Recording> {
    let corrupt = |c: &str| StoreError::Corrupt(format!("sqlite column recordings.{c}"));
    let get = |e: rusqlite::Error| backend(e);
    let call_id: String = r.get(1).map_err(get)?;
    let call_sid: Option<String> = r.get(2).map_err(get)?;
    let status: String = r.get(3).map_err(get)?;
    let duration: Option<i64> = r.get(4).map_err(get)?;
    let channels: Option<i64> = r.get(5).map_err(get)?;
    Ok(Recording {
        sid: r.get(0).map_err(get)?,
        call_id: CallId::parse(&call_id).map_err(|_| corrupt("call_id"))?,
        call_sid: call_sid.map(|s| CallSid::parse(&s).map_err(|_| corrupt("call_sid"))).transpose()?,
        status: RecordingStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        duration_secs: duration.map(|d| to_u32(d, "recordings.duration_secs")).transpose()?,
        channels: channels.map(|c| to_u32(c, "recordings.channels")).transpose()?,
        created_at: time(r.get(6).map_err(get)?, "recordings.created_at")?,
        updated_at: time(r.get(7).map_err(get)?, "recordings.updated_at")?,
        to: r.get(8).map_err(get)?,
        name: r.get(9).map_err(get)?,
        error_code: r.get(10).map_err(get)?,
    })
}

fn select(conn: &Connection, tail: &str, args: &[SqlValue]) -> StoreResult<Vec<Recording>> {
    let mut st = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM recordings {tail}")).map_err(backend)?;
    let mut rows = st.query(params_from_iter(args)).map_err(backend)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        out.push(from_row(row)?);
    }
    Ok(out)
}

fn values(r: &Recording) -> Vec<SqlValue> {
    vec![
        text(&r.sid),
        text(r.call_id.as_str()),
        opt_text(r.call_sid.as_ref().map(CallSid::as_str)),
        text(r.status.as_str()),
        SqlValue::Integer(i64::from(r.status.rank())),
        opt_int(r.duration_secs),
        opt_int(r.channels),
        SqlValue::Integer(millis(r.created_at)),
        SqlValue::Integer(millis(r.updated_at)),
        opt_text(r.to.as_deref()),
        opt_text(r.name.as_deref()),
        opt_text(r.error_code.as_deref()),
    ]
}

#[async_trait]
impl RecordingStore for SqliteStore {
    async fn upsert_recording(&self, recording: &Recording) -> StoreResult<Recording> {
        let args = values(recording);
        let sid = recording.sid.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO recordings (sid, call_id, call_sid, status, status_rank, duration_secs, channels, \
                 created_at, updated_at, to_number, name, error_code) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
                 ON CONFLICT (sid) DO UPDATE SET status = excluded.status, status_rank = excluded.status_rank, \
                 duration_secs = COALESCE(duration_secs, excluded.duration_secs), \
                 channels = COALESCE(channels, excluded.channels), \
                 error_code = COALESCE(error_code, excluded.error_code), updated_at = excluded.updated_at \
                 WHERE excluded.status_rank > recordings.status_rank",
            )
            .and_then(|mut st| st.execute(params_from_iter(args)))
            .map_err(backend)?;
            select(conn, "WHERE sid = ?1", &[text(&sid)])?
                .into_iter()
                .next()
                .ok_or_else(|| StoreError::Backend("sqlite: upserted recording not found".into()))
        })
        .await
    }

    async fn get_recording(&self, sid: &str) -> StoreResult<Option<Recording>> {
        let sid = sid.to_owned();
        self.read(move |conn| Ok(select(conn, "WHERE sid = ?1", &[text(&sid)])?.into_iter().next())).await
    }

    async fn list_recordings(&self, page: Page) -> StoreResult<Paged<Recording>> {
        let limit = page.limit.min(MAX_PAGE);
        self.read(move |conn| {
            let tx = conn.unchecked_transaction().map_err(backend)?;
            let total: i64 = tx
                .query_row("SELECT COUNT(*) FROM recordings WHERE status <> 'deleted'", [], |r| r.get(0))
                .map_err(backend)?;
            let args = [
                SqlValue::Integer(i64::try_from(limit).unwrap_or(i64::MAX)),
                SqlValue::Integer(i64::try_from(page.offset).unwrap_or(i64::MAX)),
            ];
            let items = select(
                &tx,
                "WHERE status <> 'deleted' ORDER BY created_at DESC, sid DESC LIMIT ?1 OFFSET ?2",
                &args,
            )?;
            Ok(Paged { items, total: u64::try_from(total).unwrap_or(0), offset: page.offset, limit })
        })
        .await
    }

    async fn list_call_recordings(&self, call_id: &CallId) -> StoreResult<Vec<Recording>> {
        let id = call_id.to_string();
        self.read(move |conn| {
            select(conn, "WHERE call_id = ?1 AND status <> 'deleted' ORDER BY created_at, sid", &[text(&id)])
        })
        .await
    }

    async fn mark_recording_deleted(&self, sid: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let sid = sid.to_owned();
        let rank = i64::from(RecordingStatus::Deleted.rank());
        self.write(move |conn| {
            conn.prepare_cached(
                "UPDATE recordings SET status = 'deleted', status_rank = ?2, updated_at = ?3 WHERE sid = ?1",
            )
            .and_then(|mut st| st.execute(params![sid, rank, millis(at)]))
            .map(|n| n == 1)
            .map_err(backend)
        })
        .await
    }
}
