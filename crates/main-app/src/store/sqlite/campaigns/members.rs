//! Members and attempts on SQLite: joining, leaving, listing and the aggregates progress is
//! computed from.

use chrono::{DateTime, Utc};
use rusqlite::TransactionBehavior;
use rusqlite::types::Value as SqlValue;

use super::rows::{ATTEMPT_COLUMNS, MEMBER_COLUMNS, attempt, member};
use super::{CHUNK, count, marks, select, time};
use crate::calls::model::{Page, Paged};
use crate::campaigns::model::{Attempt, AttemptStats, Member, MemberState, MemberStats, seq_base};
use crate::store::sqlite::calls_codec::{millis, text};
use crate::store::sqlite::{SqliteStore, backend};
use crate::store::{MAX_PAGE, StoreError, StoreResult, now_ms};
use common::call::Outcome;
use common::ids::{CampaignId, ContactId};

pub(super) async fn add(
    store: &SqliteStore,
    campaign: &CampaignId,
    members: &[(ContactId, DateTime<Utc>)],
) -> StoreResult<u64> {
    let campaign = campaign.to_string();
    let members = members.to_vec();
    store
        .write(move |conn| {
            let now = now_ms();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            let last: Option<i64> = tx
                .query_row("SELECT MAX(seq) FROM campaign_members WHERE campaign_id = ?1", [&campaign], |r| r.get(0))
                .map_err(backend)?;
            let base = seq_base(now).max(last.map_or(0, |l| l + 1));
            let mut added = 0;
            {
                let mut stmt = tx
                    .prepare_cached(
                        "INSERT INTO campaign_members (id, campaign_id, contact_id, seq, state, due_at, attempts, updated_at) \
                         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, 0, ?6) ON CONFLICT (campaign_id, contact_id) DO NOTHING",
                    )
                    .map_err(backend)?;
                for (i, (contact, due)) in members.iter().enumerate() {
                    let id = uuid::Uuid::now_v7().to_string();
                    let seq = base + i64::try_from(i).unwrap_or(i64::MAX);
                    added += stmt
                        .execute(rusqlite::params![id, campaign, contact.as_str(), seq, millis(*due), millis(now)])
                        .map_err(backend)? as u64;
                }
            }
            tx.commit().map_err(backend)?;
            Ok(added)
        })
        .await
}

pub(super) async fn remove(
    store: &SqliteStore,
    campaign: &CampaignId,
    contacts: &[ContactId],
) -> StoreResult<u64> {
    let campaign = campaign.to_string();
    let contacts: Vec<String> = contacts.iter().map(ToString::to_string).collect();
    store
        .write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            let mut n = 0;
            for chunk in contacts.chunks(CHUNK) {
                let sql = format!(
                    "DELETE FROM campaign_members WHERE campaign_id = ?1 AND state IN ('pending', 'skipped') \
                     AND contact_id IN ({})",
                    marks(1, chunk.len())
                );
                let mut args = vec![text(&campaign)];
                args.extend(chunk.iter().map(|c| text(c)));
                n += tx.execute(&sql, rusqlite::params_from_iter(args)).map_err(backend)? as u64;
            }
            tx.commit().map_err(backend)?;
            Ok(n)
        })
        .await
}

pub(super) async fn get(
    store: &SqliteStore,
    campaign: &CampaignId,
    contact: &ContactId,
) -> StoreResult<Option<Member>> {
    let args = vec![text(campaign.as_str()), text(contact.as_str())];
    store
        .read(move |conn| {
            let sql = format!(
                "SELECT {MEMBER_COLUMNS} FROM campaign_members WHERE campaign_id = ?1 AND contact_id = ?2"
            );
            Ok(select(conn, &sql, &args, member)?.into_iter().next())
        })
        .await
}

pub(super) async fn list(
    store: &SqliteStore,
    campaign: &CampaignId,
    states: &[MemberState],
    page: Page,
) -> StoreResult<Paged<Member>> {
    let mut args = vec![text(campaign.as_str())];
    let mut where_sql = "WHERE campaign_id = ?1".to_owned();
    if !states.is_empty() {
        where_sql.push_str(&format!(" AND state IN ({})", marks(1, states.len())));
        args.extend(states.iter().map(|s| text(s.as_str())));
    }
    let limit = page.limit.clamp(1, MAX_PAGE);
    store
        .read(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            let total = count(&tx, &format!("SELECT COUNT(*) FROM campaign_members {where_sql}"), &args)?;
            let n = args.len();
            args.push(SqlValue::Integer(limit as i64));
            args.push(SqlValue::Integer(page.offset as i64));
            let sql = format!(
                "SELECT {MEMBER_COLUMNS} FROM campaign_members {where_sql} ORDER BY seq LIMIT ?{} OFFSET ?{}",
                n + 1,
                n + 2
            );
            let items = select(&tx, &sql, &args, member)?;
            Ok(Paged { items, total, offset: page.offset, limit })
        })
        .await
}

pub(super) async fn stats(store: &SqliteStore, campaign: &CampaignId) -> StoreResult<MemberStats> {
    let id = campaign.to_string();
    store
        .read(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            let sql = "SELECT state, COUNT(*) FROM campaign_members WHERE campaign_id = ?1 GROUP BY state";
            let rows = select(&tx, sql, &[text(&id)], |r| {
                let state: String = r.get(0).map_err(backend)?;
                let n: i64 = r.get(1).map_err(backend)?;
                Ok((state, u64::try_from(n).unwrap_or(0)))
            })?;
            let mut s = MemberStats::default();
            for (state, n) in rows {
                let slot = match MemberState::parse(&state) {
                    Some(MemberState::Pending) => &mut s.pending,
                    Some(MemberState::Claimed) => &mut s.claimed,
                    Some(MemberState::Dialing) => &mut s.dialing,
                    Some(MemberState::Live) => &mut s.live,
                    Some(MemberState::Done) => &mut s.done,
                    Some(MemberState::Skipped) => &mut s.skipped,
                    None => return Err(StoreError::Corrupt("sqlite column campaign_members.state".into())),
                };
                *slot += n;
                s.total += n;
            }
            let sql = "SELECT due_at FROM campaign_members WHERE campaign_id = ?1 AND due_at IS NOT NULL \
                       AND state = 'pending' ORDER BY due_at LIMIT 1";
            let next: Option<i64> =
                select(&tx, sql, &[text(&id)], |r| r.get(0).map_err(backend))?.into_iter().next();
            s.next_due = next.map(|ms| time(ms, "campaign_members.due_at")).transpose()?;
            Ok(s)
        })
        .await
}

pub(super) async fn attempt_stats(
    store: &SqliteStore,
    campaign: &CampaignId,
    since: Option<DateTime<Utc>>,
) -> StoreResult<AttemptStats> {
    let mut args = vec![text(campaign.as_str())];
    let mut sql =
        "SELECT outcome, COUNT(*) FROM campaign_attempts WHERE campaign_id = ?1 AND result = 'dialled'"
            .to_owned();
    if let Some(since) = since {
        args.push(SqlValue::Integer(millis(since)));
        sql.push_str(" AND ended_at >= ?2");
    }
    sql.push_str(" GROUP BY outcome");
    store
        .read(move |conn| {
            let rows = select(conn, &sql, &args, |r| {
                let outcome: Option<String> = r.get(0).map_err(backend)?;
                let n: i64 = r.get(1).map_err(backend)?;
                Ok((outcome, u64::try_from(n).unwrap_or(0)))
            })?;
            let mut s = AttemptStats::default();
            for (outcome, n) in rows {
                let outcome = outcome
                    .map(|o| {
                        Outcome::parse(&o).ok_or_else(|| {
                            StoreError::Corrupt("sqlite column campaign_attempts.outcome".into())
                        })
                    })
                    .transpose()?;
                s.add(outcome, n);
            }
            Ok(s)
        })
        .await
}

pub(super) async fn list_attempts(
    store: &SqliteStore,
    campaign: &CampaignId,
    contact: Option<&ContactId>,
    page: Page,
) -> StoreResult<Paged<Attempt>> {
    let mut args = vec![text(campaign.as_str())];
    let mut where_sql = "WHERE campaign_id = ?1".to_owned();
    if let Some(c) = contact {
        args.push(text(c.as_str()));
        where_sql.push_str(" AND contact_id = ?2");
    }
    let limit = page.limit.clamp(1, MAX_PAGE);
    store
        .read(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            let total = count(&tx, &format!("SELECT COUNT(*) FROM campaign_attempts {where_sql}"), &args)?;
            let n = args.len();
            args.push(SqlValue::Integer(limit as i64));
            args.push(SqlValue::Integer(page.offset as i64));
            let sql = format!(
                "SELECT {ATTEMPT_COLUMNS} FROM campaign_attempts {where_sql} ORDER BY started_at, id LIMIT ?{} OFFSET ?{}",
                n + 1,
                n + 2
            );
            let items = select(&tx, &sql, &args, attempt)?;
            Ok(Paged { items, total, offset: page.offset, limit })
        })
        .await
}
