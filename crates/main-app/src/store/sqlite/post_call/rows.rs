//! Small decoding helpers for the post-call tables: times and JSON columns, with a
//! [`StoreError::Corrupt`] naming the column (never the value) when something no longer parses.

use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;
use serde::de::DeserializeOwned;

use crate::store::{StoreError, StoreResult, from_millis};

/// A millisecond time column.
pub fn time(ms: i64, column: &str) -> StoreResult<DateTime<Utc>> {
    from_millis(ms).ok_or_else(|| StoreError::Corrupt(format!("sqlite column {column}")))
}

/// A nullable millisecond time column.
pub fn opt_time(ms: Option<i64>, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
    ms.map(|ms| time(ms, column)).transpose()
}

/// A JSON text column.
pub fn json<T: DeserializeOwned>(raw: &str, column: &str) -> StoreResult<T> {
    serde_json::from_str(raw).map_err(|_| StoreError::Corrupt(format!("sqlite column {column}")))
}

/// A nullable integer.
pub fn opt_int(v: Option<u32>) -> SqlValue {
    v.map_or(SqlValue::Null, |v| SqlValue::Integer(i64::from(v)))
}

/// An integer column that must fit a `u32`.
pub fn to_u32(v: i64, column: &str) -> StoreResult<u32> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("sqlite column {column}")))
}
