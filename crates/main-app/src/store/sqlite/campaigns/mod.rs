//! Contacts, the do-not-call list, campaigns, members and attempts on SQLite (migration 4).
//!
//! Every conditional write of the engine is one statement or one `BEGIN IMMEDIATE`
//! transaction, and all writes of this process go through the one writer connection, so a
//! claim, the start of an attempt and a pause are totally ordered. A second process on the same
//! file waits for the write lock (`busy_timeout`) and then sees the committed state.

mod contacts;
mod dial;
mod dnc;
mod members;
mod records;
mod rows;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, Row, params_from_iter};

use crate::store::sqlite::backend;
use crate::store::{StoreError, StoreResult};

/// Rows of `sql` decoded by `decode`.
pub(super) fn select<T>(
    conn: &Connection,
    sql: &str,
    args: &[SqlValue],
    decode: impl Fn(&Row<'_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
    let mut rows = stmt.query(params_from_iter(args)).map_err(backend)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        out.push(decode(row)?);
    }
    Ok(out)
}

/// A count.
pub(super) fn count(conn: &Connection, sql: &str, args: &[SqlValue]) -> StoreResult<u64> {
    let n: i64 = conn.query_row(sql, params_from_iter(args), |r| r.get(0)).map_err(backend)?;
    u64::try_from(n).map_err(|_| StoreError::Corrupt("sqlite: negative count".into()))
}

/// `?, ?, …` for `n` values starting after `offset` placeholders: `?{offset+1}, …`.
pub(super) fn marks(offset: usize, n: usize) -> String {
    (1..=n).map(|i| format!("?{}", offset + i)).collect::<Vec<_>>().join(", ")
}

/// `%text%` for LIKE with `\` escaping, lower-cased.
pub(super) fn like(text: &str) -> String {
    let escaped = text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// Largest number of bound values per statement used here (SQLite allows 32766).
pub(super) const CHUNK: usize = 500;

/// A millisecond time column.
pub(super) fn time(ms: i64, column: &str) -> StoreResult<chrono::DateTime<chrono::Utc>> {
    crate::store::from_millis(ms).ok_or_else(|| StoreError::Corrupt(format!("sqlite column {column}")))
}

/// A nullable millisecond time column.
pub(super) fn opt_time(ms: Option<i64>, column: &str) -> StoreResult<Option<chrono::DateTime<chrono::Utc>>> {
    ms.map(|ms| time(ms, column)).transpose()
}

/// A JSON text column.
pub(super) fn json<T: serde::de::DeserializeOwned>(raw: &str, column: &str) -> StoreResult<T> {
    serde_json::from_str(raw).map_err(|_| StoreError::Corrupt(format!("sqlite column {column}")))
}

/// A nullable time value.
pub(super) fn opt_millis(t: Option<chrono::DateTime<chrono::Utc>>) -> SqlValue {
    t.map_or(SqlValue::Null, |t| SqlValue::Integer(crate::store::sqlite::calls_codec::millis(t)))
}
