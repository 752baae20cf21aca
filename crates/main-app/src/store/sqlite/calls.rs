//! [`CallStore`] on SQLite: the `calls`, `call_events` and `once_keys` tables (migration 1).
//!
//! Each conditional write is one statement (`UPDATE … WHERE … RETURNING`), so it is atomic on
//! its own; `insert_call` uses one `BEGIN IMMEDIATE` transaction (look up the key, then insert).

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, TransactionBehavior, params, params_from_iter};

use super::calls_codec::{
    CALL_COLUMN_COUNT, CALL_COLUMNS, EVENT_COLUMNS, call_from_row, call_values, event_from_row, millis,
    opt_json, text, to_json,
};
use super::{SqliteStore, backend};
use crate::calls::model::{Call, CallEvent, CallFilter, Page, Paged, SetOnce, StatusUpdate};
use crate::calls::store::{CallStore, Inserted};
use crate::store::{MAX_PAGE, StoreError, StoreResult, now_ms};
use common::call::{CallStatus, Outcome};
use common::ids::{CallId, CallSid};

/// `status_rank` of the terminal statuses (`CallStatus::rank`); literal in SQL so the partial
/// index `calls_unfinished` (`WHERE status_rank < 4`) applies.
pub(super) const TERMINAL_RANK: i64 = 4;

/// Calls selected by `tail_sql` (`WHERE … ORDER BY … LIMIT …`, placeholders bound to `args`).
fn select_calls(conn: &Connection, tail_sql: &str, args: &[SqlValue]) -> StoreResult<Vec<Call>> {
    let sql = format!("SELECT {CALL_COLUMNS} FROM calls {tail_sql}");
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let mut rows = stmt.query(params_from_iter(args)).map_err(backend)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        out.push(call_from_row(row)?);
    }
    Ok(out)
}

fn select_call(conn: &Connection, where_sql: &str, arg: &str) -> StoreResult<Option<Call>> {
    Ok(select_calls(conn, &format!("WHERE {where_sql}"), &[text(arg)])?.into_iter().next())
}

/// Runs an `UPDATE … RETURNING {CALL_COLUMNS}` and reads the row it returns, if any.
fn update_returning(conn: &Connection, sql: &str, args: &[SqlValue]) -> StoreResult<Option<Call>> {
    let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
    let mut rows = stmt.query(params_from_iter(args)).map_err(backend)?;
    match rows.next().map_err(backend)? {
        Some(row) => Ok(Some(call_from_row(row)?)),
        None => Ok(None),
    }
}

fn insert_call_blocking(conn: &mut Connection, values: Vec<SqlValue>, call: &Call) -> StoreResult<Inserted> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
    if let Some(key) = &call.idempotency_key
        && let Some(existing) = select_call(&tx, "idempotency_key = ?1", key)?
    {
        return Ok(Inserted::Existing(existing));
    }
    let placeholders = vec!["?"; CALL_COLUMN_COUNT].join(", ");
    let sql = format!("INSERT INTO calls ({CALL_COLUMNS}) VALUES ({placeholders})");
    tx.prepare_cached(&sql).and_then(|mut s| s.execute(params_from_iter(values))).map_err(backend)?;
    let stored = select_call(&tx, "id = ?1", call.id.as_str())?
        .ok_or_else(|| StoreError::Backend("sqlite: inserted call not found".into()))?;
    tx.commit().map_err(backend)?;
    Ok(Inserted::New(stored))
}

/// The `SET` clause and arguments of a `set_once`: `x = COALESCE(x, ?)` for each given field,
/// and `updated_at` moved only if one of them is still empty (expressions see the old row).
fn set_once_sql(fields: &SetOnce, id: &CallId) -> StoreResult<Option<(String, Vec<SqlValue>)>> {
    let mut given: Vec<(&str, SqlValue)> = Vec::new();
    if let Some(v) = &fields.call_sid {
        given.push(("call_sid", text(v.as_str())));
    }
    if let Some(v) = &fields.conversation_id {
        given.push(("conversation_id", text(v)));
    }
    if let Some(v) = &fields.stream_sid {
        given.push(("stream_sid", text(v)));
    }
    if let Some(v) = fields.answered_by {
        given.push(("answered_by", text(v.as_str())));
    }
    if let Some(v) = fields.twilio_duration_secs {
        given.push(("twilio_duration_secs", SqlValue::Integer(i64::from(v))));
    }
    if let Some(v) = &fields.terminated_by {
        given.push(("terminated_by", opt_json(Some(v))?));
    }
    if let Some(v) = &fields.error {
        given.push(("error", opt_json(Some(v))?));
    }
    if given.is_empty() {
        return Ok(None);
    }
    let mut sets = Vec::new();
    let mut empties = Vec::new();
    let mut args = vec![text(id.as_str()), SqlValue::Integer(millis(now_ms()))];
    for (column, value) in given {
        args.push(value);
        sets.push(format!("{column} = COALESCE({column}, ?{})", args.len()));
        empties.push(format!("{column} IS NULL"));
    }
    let sql = format!(
        "UPDATE calls SET {}, updated_at = CASE WHEN {} THEN ?2 ELSE updated_at END \
         WHERE id = ?1 RETURNING {CALL_COLUMNS}",
        sets.join(", "),
        empties.join(" OR ")
    );
    Ok(Some((sql, args)))
}

/// `WHERE` clause and arguments of a [`CallFilter`].
fn filter_sql(filter: &CallFilter) -> (String, Vec<SqlValue>) {
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<SqlValue> = Vec::new();
    let mut any_of = |column: &str, values: Vec<&str>, clauses: &mut Vec<String>| {
        if values.is_empty() {
            return;
        }
        let marks = values.iter().map(|_| "?").collect::<Vec<_>>().join(", ");
        clauses.push(format!("{column} IN ({marks})"));
        args.extend(values.into_iter().map(text));
    };
    any_of("status", filter.statuses.iter().map(|s| s.as_str()).collect(), &mut clauses);
    any_of("outcome", filter.outcomes.iter().map(|o| o.as_str()).collect(), &mut clauses);
    if let Some(phone) = &filter.phone {
        // instr() rather than LIKE: no wildcard escaping needed.
        clauses.push("instr(to_number, ?) > 0".into());
        args.push(text(phone));
    }
    if let Some(c) = &filter.campaign_id {
        clauses.push("campaign_id = ?".into());
        args.push(text(c.as_str()));
    }
    if let Some(c) = &filter.contact_id {
        clauses.push("contact_id = ?".into());
        args.push(text(c.as_str()));
    }
    if let Some(t) = filter.created_from {
        clauses.push("created_at >= ?".into());
        args.push(SqlValue::Integer(millis(t)));
    }
    if let Some(t) = filter.created_to {
        clauses.push("created_at < ?".into());
        args.push(SqlValue::Integer(millis(t)));
    }
    let where_sql =
        if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
    (where_sql, args)
}

fn list_calls_blocking(conn: &mut Connection, filter: &CallFilter, page: Page) -> StoreResult<Paged<Call>> {
    let limit = page.limit.min(MAX_PAGE);
    let (where_sql, mut args) = filter_sql(filter);
    // One read transaction: the count and the page come from the same snapshot.
    let tx = conn.transaction().map_err(backend)?;
    let count_sql = format!("SELECT COUNT(*) FROM calls {where_sql}");
    let total: i64 = tx
        .prepare_cached(&count_sql)
        .and_then(|mut s| s.query_row(params_from_iter(&args), |r| r.get(0)))
        .map_err(backend)?;
    args.push(SqlValue::Integer(to_i64(limit)));
    args.push(SqlValue::Integer(to_i64(page.offset)));
    let items =
        select_calls(&tx, &format!("{where_sql} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"), &args)?;
    Ok(Paged { items, total: u64::try_from(total).unwrap_or(0), offset: page.offset, limit })
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait]
impl CallStore for SqliteStore {
    async fn insert_call(&self, call: &Call) -> StoreResult<Inserted> {
        let values = call_values(call)?;
        let call = call.clone();
        self.write(move |conn| insert_call_blocking(conn, values, &call)).await
    }

    async fn get_call(&self, id: &CallId) -> StoreResult<Option<Call>> {
        let id = id.clone();
        self.read(move |conn| select_call(conn, "id = ?1", id.as_str())).await
    }

    async fn get_call_by_sid(&self, sid: &CallSid) -> StoreResult<Option<Call>> {
        let sid = sid.clone();
        self.read(move |conn| select_call(conn, "call_sid = ?1", sid.as_str())).await
    }

    async fn list_calls(&self, filter: &CallFilter, page: Page) -> StoreResult<Paged<Call>> {
        let filter = filter.clone();
        self.read(move |conn| list_calls_blocking(conn, &filter, page)).await
    }

    async fn list_unfinished_calls(&self) -> StoreResult<Vec<Call>> {
        let tail = format!("WHERE status_rank < {TERMINAL_RANK} ORDER BY created_at, id");
        self.read(move |conn| select_calls(conn, &tail, &[])).await
    }

    async fn advance_status(&self, id: &CallId, update: &StatusUpdate) -> StoreResult<Option<Call>> {
        let status: CallStatus = update.status;
        let args = vec![
            text(id.as_str()),
            text(status.as_str()),
            SqlValue::Integer(i64::from(status.rank())),
            SqlValue::Integer(millis(now_ms())),
            SqlValue::Integer(i64::from(status == CallStatus::InProgress)),
            SqlValue::Integer(millis(update.at)),
            SqlValue::Integer(i64::from(status.is_terminal())),
        ];
        let sql = format!(
            "UPDATE calls SET status = ?2, status_rank = ?3, updated_at = ?4, \
             answered_at = CASE WHEN ?5 THEN COALESCE(answered_at, ?6) ELSE answered_at END, \
             ended_at = CASE WHEN ?7 THEN COALESCE(ended_at, ?6) ELSE ended_at END \
             WHERE id = ?1 AND status_rank < ?3 RETURNING {CALL_COLUMNS}"
        );
        self.write(move |conn| update_returning(conn, &sql, &args)).await
    }

    async fn set_once(&self, id: &CallId, fields: &SetOnce) -> StoreResult<Option<Call>> {
        match set_once_sql(fields, id)? {
            Some((sql, args)) => self.write(move |conn| update_returning(conn, &sql, &args)).await,
            None => self.get_call(id).await,
        }
    }

    async fn set_outcome(&self, id: &CallId, outcome: Outcome) -> StoreResult<bool> {
        let (id, now) = (id.clone(), millis(now_ms()));
        self.write(move |conn| {
            conn.prepare_cached("UPDATE calls SET outcome = ?2, updated_at = ?3 WHERE id = ?1")
                .and_then(|mut s| s.execute(params![id.as_str(), outcome.as_str(), now]))
                .map(|changed| changed > 0)
                .map_err(backend)
        })
        .await
    }

    async fn append_event(&self, event: &CallEvent) -> StoreResult<bool> {
        let e = event.clone();
        let data = to_json(&e.data)?;
        self.write(move |conn| {
            // No conflict target: any uniqueness violation (event id, or (call_id, dedupe_key))
            // makes it a no-op. A foreign-key violation (unknown call) still fails.
            let sql = format!("INSERT INTO call_events ({EVENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING");
            let args = params![e.id, e.call_id.as_str(), millis(e.at), e.kind, e.source, data, e.dedupe_key];
            conn.prepare_cached(&sql).and_then(|mut s| s.execute(args)).map(|n| n == 1).map_err(backend)
        })
        .await
    }

    async fn list_events(&self, call_id: &CallId, limit: u64) -> StoreResult<Vec<CallEvent>> {
        let call_id = call_id.clone();
        self.read(move |conn| {
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM call_events WHERE call_id = ?1 ORDER BY at, id LIMIT ?2"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
            let mut rows = stmt.query(params![call_id.as_str(), to_i64(limit)]).map_err(backend)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(backend)? {
                out.push(event_from_row(row)?);
            }
            Ok(out)
        })
        .await
    }

    async fn mark_once(&self, key: &str) -> StoreResult<bool> {
        let (key, now) = (key.to_owned(), millis(now_ms()));
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO once_keys (key, created_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![key, now]))
            .map(|n| n == 1)
            .map_err(backend)
        })
        .await
    }
}
