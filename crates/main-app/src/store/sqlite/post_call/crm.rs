//! [`CrmOutbox`] on SQLite: the `crm_deliveries` table (migrations 3 and 5). One delivery per
//! idempotency key (unique); claiming is one `UPDATE … WHERE id IN (due, unleased) RETURNING`, and an
//! attempt is recorded in one `BEGIN IMMEDIATE` transaction that first checks the lease.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, Row, TransactionBehavior, params, params_from_iter};

use super::rows::{json, opt_time, time, to_u32};
use crate::calls::model::{Page, Paged};
use crate::crm::model::{Attempt, AttemptNext, Delivery, DeliveryKind, DeliveryStatus, LOG_LIMIT};
use crate::crm::store::CrmOutbox;
use crate::store::sqlite::calls_codec::{millis, text, to_json};
use crate::store::sqlite::{SqliteStore, backend};
use crate::store::{MAX_PAGE, StoreError, StoreResult, now_ms};
use common::ids::CallId;

const COLUMNS: &str = "id, call_id, idempotency_key, payload, status, attempts, next_attempt_at, created_at, \
     updated_at, delivered_at, last_error, log, kind, post_call_conversation";

fn from_row(r: &Row<'_>) -> StoreResult<Delivery> {
    let corrupt = |c: &str| StoreError::Corrupt(format!("sqlite column crm_deliveries.{c}"));
    let call_id: String = r.get(1).map_err(backend)?;
    let payload: String = r.get(3).map_err(backend)?;
    let status: String = r.get(4).map_err(backend)?;
    let log: String = r.get(11).map_err(backend)?;
    let kind: String = r.get(12).map_err(backend)?;
    Ok(Delivery {
        id: r.get(0).map_err(backend)?,
        call_id: CallId::parse(&call_id).map_err(|_| corrupt("call_id"))?,
        kind: DeliveryKind::parse(&kind).ok_or_else(|| corrupt("kind"))?,
        idempotency_key: r.get(2).map_err(backend)?,
        payload: json(&payload, "crm_deliveries.payload")?,
        post_call_conversation: r.get(13).map_err(backend)?,
        status: DeliveryStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        attempts: to_u32(r.get(5).map_err(backend)?, "crm_deliveries.attempts")?,
        next_attempt_at: time(r.get(6).map_err(backend)?, "crm_deliveries.next_attempt_at")?,
        created_at: time(r.get(7).map_err(backend)?, "crm_deliveries.created_at")?,
        updated_at: time(r.get(8).map_err(backend)?, "crm_deliveries.updated_at")?,
        delivered_at: opt_time(r.get(9).map_err(backend)?, "crm_deliveries.delivered_at")?,
        last_error: r.get(10).map_err(backend)?,
        log: json(&log, "crm_deliveries.log")?,
    })
}

fn select(conn: &Connection, tail: &str, args: &[SqlValue]) -> StoreResult<Vec<Delivery>> {
    let mut st =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM crm_deliveries {tail}")).map_err(backend)?;
    let mut rows = st.query(params_from_iter(args)).map_err(backend)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        out.push(from_row(row)?);
    }
    Ok(out)
}

fn one(conn: &Connection, id: &str) -> StoreResult<Option<Delivery>> {
    Ok(select(conn, "WHERE id = ?1", &[text(id)])?.into_iter().next())
}

fn complete_blocking(
    conn: &mut Connection,
    id: &str,
    owner: &str,
    attempt: &Attempt,
    next: AttemptNext,
) -> StoreResult<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
    let held =
        select(&tx, "WHERE id = ?1 AND lease_owner = ?2 AND status = 'pending'", &[text(id), text(owner)])?;
    let Some(mut delivery) = held.into_iter().next() else { return Ok(false) };
    delivery.log.push(attempt.clone());
    let excess = delivery.log.len().saturating_sub(LOG_LIMIT);
    delivery.log.drain(..excess);
    let now = now_ms();
    let (status, next_at, delivered_at) = match next {
        AttemptNext::Delivered => (DeliveryStatus::Delivered, delivery.next_attempt_at, Some(now)),
        AttemptNext::RetryAt(at) => (DeliveryStatus::Pending, at, None),
        AttemptNext::Dead => (DeliveryStatus::Dead, delivery.next_attempt_at, None),
    };
    let last_error = attempt.error.clone().or(delivery.last_error);
    tx.execute(
        "UPDATE crm_deliveries SET status = ?2, attempts = attempts + 1, next_attempt_at = ?3, updated_at = ?4, \
         delivered_at = ?5, last_error = ?6, log = ?7, lease_owner = NULL, lease_until = NULL WHERE id = ?1",
        params![
            id,
            status.as_str(),
            millis(next_at),
            millis(now),
            delivered_at.map(millis),
            last_error,
            to_json(&delivery.log)?
        ],
    )
    .map_err(backend)?;
    tx.commit().map_err(backend)?;
    Ok(true)
}

#[async_trait]
impl CrmOutbox for SqliteStore {
    async fn enqueue_delivery(&self, d: &Delivery) -> StoreResult<bool> {
        let args = vec![
            text(&d.id),
            text(d.call_id.as_str()),
            text(&d.idempotency_key),
            text(&to_json(&d.payload)?),
            text(d.status.as_str()),
            SqlValue::Integer(i64::from(d.attempts)),
            SqlValue::Integer(millis(d.next_attempt_at)),
            SqlValue::Integer(millis(d.created_at)),
            SqlValue::Integer(millis(d.updated_at)),
            d.delivered_at.map_or(SqlValue::Null, |t| SqlValue::Integer(millis(t))),
            d.last_error.as_deref().map_or(SqlValue::Null, text),
            text(&to_json(&d.log)?),
            text(d.kind.as_str()),
            d.post_call_conversation.as_deref().map_or(SqlValue::Null, text),
        ];
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "INSERT INTO crm_deliveries ({COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) ON CONFLICT DO NOTHING"
            ))
            .and_then(|mut st| st.execute(params_from_iter(args)))
            .map(|n| n == 1)
            .map_err(backend)
        })
        .await
    }

    async fn call_deliveries(&self, call_id: &CallId) -> StoreResult<Vec<Delivery>> {
        let call_id = text(call_id.as_str());
        self.read(move |conn| select(conn, "WHERE call_id = ?1 ORDER BY created_at, id", &[call_id])).await
    }

    async fn refresh_unsent_delivery(
        &self,
        id: &str,
        payload: &serde_json::Value,
        post_call_conversation: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let args = [
            text(id),
            text(&to_json(payload)?),
            text(post_call_conversation),
            SqlValue::Integer(millis(now)),
        ];
        self.write(move |conn| {
            conn.execute(
                "UPDATE crm_deliveries SET payload = ?2, post_call_conversation = ?3, updated_at = ?4 \
                 WHERE id = ?1 AND status = 'pending' AND lease_owner IS NULL AND log = '[]'",
                params_from_iter(args),
            )
            .map(|n| n == 1)
            .map_err(backend)
        })
        .await
    }

    async fn claim_due_deliveries(
        &self,
        now: DateTime<Utc>,
        owner: &str,
        lease_until: DateTime<Utc>,
        limit: u64,
    ) -> StoreResult<Vec<Delivery>> {
        let owner = owner.to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.write(move |conn| {
            let sql = format!(
                "UPDATE crm_deliveries SET lease_owner = ?1, lease_until = ?2 WHERE id IN (\
                 SELECT id FROM crm_deliveries WHERE status = 'pending' AND next_attempt_at <= ?3 \
                 AND (lease_until IS NULL OR lease_until < ?3) ORDER BY next_attempt_at, id LIMIT ?4) \
                 RETURNING {COLUMNS}"
            );
            let mut st = conn.prepare_cached(&sql).map_err(backend)?;
            let mut rows =
                st.query(params![owner, millis(lease_until), millis(now), limit]).map_err(backend)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(backend)? {
                out.push(from_row(row)?);
            }
            out.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
            Ok(out)
        })
        .await
    }

    async fn complete_attempt(
        &self,
        id: &str,
        owner: &str,
        attempt: &Attempt,
        next: AttemptNext,
    ) -> StoreResult<bool> {
        let (id, owner, attempt) = (id.to_owned(), owner.to_owned(), attempt.clone());
        self.write(move |conn| complete_blocking(conn, &id, &owner, &attempt, next)).await
    }

    async fn postpone_delivery(&self, id: &str, owner: &str, until: DateTime<Utc>) -> StoreResult<bool> {
        let (id, owner) = (id.to_owned(), owner.to_owned());
        self.write(move |conn| {
            conn.execute(
                "UPDATE crm_deliveries SET next_attempt_at = ?3, lease_owner = NULL, lease_until = NULL \
                 WHERE id = ?1 AND lease_owner = ?2 AND status = 'pending'",
                params![id, owner, millis(until)],
            )
            .map(|n| n == 1)
            .map_err(backend)
        })
        .await
    }

    async fn list_deliveries(
        &self,
        status: Option<DeliveryStatus>,
        page: Page,
    ) -> StoreResult<Paged<Delivery>> {
        let limit = page.limit.min(MAX_PAGE);
        self.read(move |conn| {
            let tx = conn.unchecked_transaction().map_err(backend)?;
            let (filter, mut args) = match status {
                Some(s) => ("WHERE status = ?1", vec![text(s.as_str())]),
                None => ("WHERE ?1 IS NULL", vec![SqlValue::Null]),
            };
            let total: i64 = tx
                .query_row(
                    &format!("SELECT COUNT(*) FROM crm_deliveries {filter}"),
                    params_from_iter(&args),
                    |r| r.get(0),
                )
                .map_err(backend)?;
            args.push(SqlValue::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
            args.push(SqlValue::Integer(i64::try_from(page.offset).unwrap_or(i64::MAX)));
            let items = select(
                &tx,
                &format!("{filter} ORDER BY created_at DESC, id DESC LIMIT ?2 OFFSET ?3"),
                &args,
            )?;
            Ok(Paged { items, total: u64::try_from(total).unwrap_or(0), offset: page.offset, limit })
        })
        .await
    }

    async fn get_delivery(&self, id: &str) -> StoreResult<Option<Delivery>> {
        let id = id.to_owned();
        self.read(move |conn| one(conn, &id)).await
    }

    async fn replay_delivery(&self, id: &str, now: DateTime<Utc>) -> StoreResult<Option<Delivery>> {
        let id = id.to_owned();
        let now = millis(now);
        self.write(move |conn| {
            conn.execute(
                "UPDATE crm_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?2, updated_at = ?2, \
                 delivered_at = NULL WHERE id = ?1 \
                 AND NOT (status = 'pending' AND lease_until IS NOT NULL AND lease_until >= ?2)",
                params![id, now],
            )
            .map_err(backend)?;
            one(conn, &id)
        })
        .await
    }
}
