//! Converting calls and events to and from SQLite rows.
//!
//! Times are INTEGER milliseconds; enums are their wire strings; structured values are JSON text.
//! A value that no longer parses is reported as [`StoreError::Corrupt`] naming the column only.

use chrono::{DateTime, Utc};
use rusqlite::Row;
use rusqlite::types::Value as SqlValue;
use serde::de::DeserializeOwned;

use crate::calls::model::{Call, CallEvent};
use crate::store::{StoreError, StoreResult, from_millis};
use common::call::{AnsweredBy, CallStatus, Outcome};
use common::ids::{CallId, CallSid, CampaignId, ContactId};
use common::phone::PhoneNumber;

/// The columns of `calls`, in the order [`call_values`] produces them.
pub const CALL_COLUMNS: &str = "id, call_sid, to_number, from_number, direction, status, status_rank, \
     created_at, updated_at, answered_at, ended_at, twilio_duration_secs, answered_by, outcome, \
     terminated_by, conversation_id, stream_sid, name, prompt, first_message, language, \
     dynamic_variables, contact_id, campaign_id, idempotency_key, error";

/// Number of columns in [`CALL_COLUMNS`].
pub const CALL_COLUMN_COUNT: usize = 26;

/// The values of a call's row, in [`CALL_COLUMNS`] order.
pub fn call_values(c: &Call) -> StoreResult<Vec<SqlValue>> {
    Ok(vec![
        text(c.id.as_str()),
        opt_text(c.call_sid.as_ref().map(CallSid::as_str)),
        text(c.to.as_str()),
        text(c.from.as_str()),
        text(&c.direction),
        text(c.status.as_str()),
        SqlValue::Integer(i64::from(c.status.rank())),
        SqlValue::Integer(millis(c.created_at)),
        SqlValue::Integer(millis(c.updated_at)),
        opt_millis(c.answered_at),
        opt_millis(c.ended_at),
        c.twilio_duration_secs.map_or(SqlValue::Null, |d| SqlValue::Integer(i64::from(d))),
        opt_text(c.answered_by.map(AnsweredBy::as_str)),
        opt_text(c.outcome.map(Outcome::as_str)),
        opt_json(c.terminated_by.as_ref())?,
        opt_text(c.conversation_id.as_deref()),
        opt_text(c.stream_sid.as_deref()),
        opt_text(c.name.as_deref()),
        opt_text(c.prompt.as_deref()),
        opt_text(c.first_message.as_deref()),
        opt_text(c.language.as_deref()),
        SqlValue::Text(to_json(&c.dynamic_variables)?),
        opt_text(c.contact_id.as_ref().map(ContactId::as_str)),
        opt_text(c.campaign_id.as_ref().map(CampaignId::as_str)),
        opt_text(c.idempotency_key.as_deref()),
        opt_json(c.error.as_ref())?,
    ])
}

/// Reads a `calls` row selected with [`CALL_COLUMNS`].
pub fn call_from_row(r: &Row<'_>) -> StoreResult<Call> {
    Ok(Call {
        id: parse(r, "id", |s| CallId::parse(s).ok())?,
        call_sid: opt_parse(r, "call_sid", |s| CallSid::parse(s).ok())?,
        to: parse(r, "to_number", |s| PhoneNumber::parse_e164(s).ok())?,
        from: parse(r, "from_number", |s| PhoneNumber::parse_e164(s).ok())?,
        direction: get(r, "direction")?,
        status: parse(r, "status", CallStatus::parse)?,
        created_at: time(r, "created_at")?,
        updated_at: time(r, "updated_at")?,
        answered_at: opt_time(r, "answered_at")?,
        ended_at: opt_time(r, "ended_at")?,
        twilio_duration_secs: get::<Option<i64>>(r, "twilio_duration_secs")?
            .map(|d| u32::try_from(d).map_err(|_| corrupt("twilio_duration_secs")))
            .transpose()?,
        answered_by: opt_parse(r, "answered_by", AnsweredBy::parse)?,
        outcome: opt_parse(r, "outcome", Outcome::parse)?,
        terminated_by: opt_json_col(r, "terminated_by")?,
        conversation_id: get(r, "conversation_id")?,
        stream_sid: get(r, "stream_sid")?,
        name: get(r, "name")?,
        prompt: get(r, "prompt")?,
        first_message: get(r, "first_message")?,
        language: get(r, "language")?,
        dynamic_variables: json_col(r, "dynamic_variables")?,
        contact_id: opt_parse(r, "contact_id", |s| ContactId::parse(s).ok())?,
        campaign_id: opt_parse(r, "campaign_id", |s| CampaignId::parse(s).ok())?,
        idempotency_key: get(r, "idempotency_key")?,
        error: opt_json_col(r, "error")?,
    })
}

/// The columns of `call_events`.
pub const EVENT_COLUMNS: &str = "id, call_id, at, kind, source, data, dedupe_key";

/// Reads a `call_events` row selected with [`EVENT_COLUMNS`].
pub fn event_from_row(r: &Row<'_>) -> StoreResult<CallEvent> {
    Ok(CallEvent {
        id: get(r, "id")?,
        call_id: parse(r, "call_id", |s| CallId::parse(s).ok())?,
        at: time(r, "at")?,
        kind: get(r, "kind")?,
        source: get(r, "source")?,
        data: json_col(r, "data")?,
        dedupe_key: get(r, "dedupe_key")?,
    })
}

/// A time as stored (milliseconds since the epoch).
pub fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// JSON text of `v`.
pub fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(format!("encoding JSON: {e}")))
}

/// A text value.
pub fn text(s: &str) -> SqlValue {
    SqlValue::Text(s.to_owned())
}

/// A nullable text value.
pub fn opt_text(s: Option<&str>) -> SqlValue {
    s.map_or(SqlValue::Null, text)
}

/// A nullable JSON value.
pub fn opt_json<T: serde::Serialize>(v: Option<&T>) -> StoreResult<SqlValue> {
    v.map_or(Ok(SqlValue::Null), |v| Ok(SqlValue::Text(to_json(v)?)))
}

fn opt_millis(t: Option<DateTime<Utc>>) -> SqlValue {
    t.map_or(SqlValue::Null, |t| SqlValue::Integer(millis(t)))
}

fn corrupt(column: &str) -> StoreError {
    StoreError::Corrupt(format!("sqlite column {column}"))
}

fn get<T: rusqlite::types::FromSql>(r: &Row<'_>, column: &str) -> StoreResult<T> {
    r.get(column).map_err(|e| StoreError::Corrupt(format!("sqlite column {column}: {e}")))
}

fn parse<T>(r: &Row<'_>, column: &str, f: impl FnOnce(&str) -> Option<T>) -> StoreResult<T> {
    let s: String = get(r, column)?;
    f(&s).ok_or_else(|| corrupt(column))
}

fn opt_parse<T>(r: &Row<'_>, column: &str, f: impl FnOnce(&str) -> Option<T>) -> StoreResult<Option<T>> {
    match get::<Option<String>>(r, column)? {
        Some(s) => f(&s).map(Some).ok_or_else(|| corrupt(column)),
        None => Ok(None),
    }
}

fn time(r: &Row<'_>, column: &str) -> StoreResult<DateTime<Utc>> {
    from_millis(get(r, column)?).ok_or_else(|| corrupt(column))
}

fn opt_time(r: &Row<'_>, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
    get::<Option<i64>>(r, column)?.map(|ms| from_millis(ms).ok_or_else(|| corrupt(column))).transpose()
}

fn json_col<T: DeserializeOwned>(r: &Row<'_>, column: &str) -> StoreResult<T> {
    let s: String = get(r, column)?;
    serde_json::from_str(&s).map_err(|_| corrupt(column))
}

fn opt_json_col<T: DeserializeOwned>(r: &Row<'_>, column: &str) -> StoreResult<Option<T>> {
    get::<Option<String>>(r, column)?
        .map(|s| serde_json::from_str(&s).map_err(|_| corrupt(column)))
        .transpose()
}
