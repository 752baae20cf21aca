//! [`DialStore`] on SQLite, the engine's writes: claim, release, begin, dialled, finish, take
//! over. Each is one statement or one `BEGIN IMMEDIATE` transaction on the writer connection.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, TransactionBehavior, params_from_iter};

use super::rows::{ATTEMPT_COLUMNS, MEMBER_COLUMNS, attempt, attempt_values, member};
use super::{marks, select};
use crate::calls::model::{Page, Paged};
use crate::campaigns::model::{
    AfterAttempt, Attempt, AttemptEnd, AttemptStats, Member, MemberState, MemberStats, Release,
};
use crate::campaigns::store::DialStore;
use crate::store::StoreResult;
use crate::store::sqlite::calls_codec::{millis, opt_text, text};
use crate::store::sqlite::{SqliteStore, backend};
use common::call::Outcome;
use common::ids::{CallId, CampaignId, ContactId};

fn ms(t: DateTime<Utc>) -> SqlValue {
    SqlValue::Integer(millis(t))
}

fn immediate(conn: &mut Connection) -> StoreResult<rusqlite::Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)
}

fn exec(conn: &Connection, sql: &str, args: Vec<SqlValue>) -> StoreResult<usize> {
    conn.prepare_cached(sql).and_then(|mut s| s.execute(params_from_iter(args))).map_err(backend)
}

fn begin_blocking(
    conn: &mut Connection,
    a: &Attempt,
    owner: &str,
    lease_until: DateTime<Utc>,
) -> StoreResult<bool> {
    let tx = immediate(conn)?;
    let changed = exec(
        &tx,
        "UPDATE campaign_members SET state = 'dialing', due_at = NULL, lease_until = ?3, \
         attempts = attempts + 1, attempt_id = ?4, call_id = NULL, note = NULL, updated_at = ?5 \
         WHERE id = ?1 AND state = 'claimed' AND lease_owner = ?2 \
         AND EXISTS (SELECT 1 FROM campaigns WHERE id = ?6 AND status = 'running')",
        vec![
            text(&a.member_id),
            text(owner),
            ms(lease_until),
            text(&a.id),
            ms(a.started_at),
            text(a.campaign_id.as_str()),
        ],
    )?;
    if changed == 0 {
        return Ok(false);
    }
    let sql = format!("INSERT INTO campaign_attempts ({ATTEMPT_COLUMNS}) VALUES ({})", marks(0, 13));
    exec(&tx, &sql, attempt_values(a))?;
    tx.commit().map_err(backend)?;
    Ok(true)
}

fn finish_blocking(
    conn: &mut Connection,
    end: &AttemptEnd,
    after: &AfterAttempt,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let tx = immediate(conn)?;
    let (state, due) = match after {
        AfterAttempt::Retry(due) => (MemberState::Pending, ms(*due)),
        AfterAttempt::Done => (MemberState::Done, SqlValue::Null),
    };
    let changed = exec(
        &tx,
        "UPDATE campaign_members SET state = ?2, due_at = ?3, lease_owner = NULL, lease_until = NULL, \
         last_outcome = COALESCE(?4, last_outcome), attempts = attempts - ?5, note = ?6, updated_at = ?7 \
         WHERE attempt_id = ?1 AND state IN ('dialing', 'live')",
        vec![
            text(&end.attempt_id),
            text(state.as_str()),
            due,
            opt_text(end.outcome.map(Outcome::as_str)),
            SqlValue::Integer(i64::from(!end.counts)),
            opt_text(end.detail.as_deref()),
            ms(at),
        ],
    )?;
    if changed == 0 {
        return Ok(false);
    }
    exec(
        &tx,
        "UPDATE campaign_attempts SET ended_at = ?2, outcome = ?3, outcome_final = ?4, result = ?5, detail = ?6 \
         WHERE id = ?1",
        vec![
            text(&end.attempt_id),
            ms(end.ended_at),
            opt_text(end.outcome.map(Outcome::as_str)),
            SqlValue::Integer(i64::from(end.outcome_final)),
            text(end.result.as_str()),
            opt_text(end.detail.as_deref()),
        ],
    )?;
    tx.commit().map_err(backend)?;
    Ok(true)
}

#[async_trait]
impl DialStore for SqliteStore {
    async fn add_members(
        &self,
        campaign: &CampaignId,
        members: &[(ContactId, DateTime<Utc>)],
    ) -> StoreResult<u64> {
        super::members::add(self, campaign, members).await
    }

    async fn remove_members(&self, campaign: &CampaignId, contacts: &[ContactId]) -> StoreResult<u64> {
        super::members::remove(self, campaign, contacts).await
    }

    async fn get_member(&self, campaign: &CampaignId, contact: &ContactId) -> StoreResult<Option<Member>> {
        super::members::get(self, campaign, contact).await
    }

    async fn list_members(
        &self,
        campaign: &CampaignId,
        states: &[MemberState],
        page: Page,
    ) -> StoreResult<Paged<Member>> {
        super::members::list(self, campaign, states, page).await
    }

    async fn in_flight_elsewhere(
        &self,
        contact: &ContactId,
        except: &CampaignId,
    ) -> StoreResult<Option<CampaignId>> {
        let args = vec![text(contact.as_str()), text(except.as_str())];
        self.read(move |conn| {
            let sql = format!(
                "SELECT {MEMBER_COLUMNS} FROM campaign_members WHERE contact_id = ?1 AND campaign_id <> ?2 \
                 AND state IN ('dialing', 'live') LIMIT 1"
            );
            Ok(select(conn, &sql, &args, member)?.into_iter().next().map(|m| m.campaign_id))
        })
        .await
    }

    async fn member_stats(&self, campaign: &CampaignId) -> StoreResult<MemberStats> {
        super::members::stats(self, campaign).await
    }

    async fn attempt_stats(
        &self,
        campaign: &CampaignId,
        since: Option<DateTime<Utc>>,
    ) -> StoreResult<AttemptStats> {
        super::members::attempt_stats(self, campaign, since).await
    }

    async fn claim_member(
        &self,
        campaign: &CampaignId,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<Member>> {
        let args = vec![text(campaign.as_str()), text(owner), ms(now), ms(lease_until)];
        self.write(move |conn| {
            let tx = immediate(conn)?;
            let sql = format!(
                "UPDATE campaign_members SET state = 'claimed', lease_owner = ?2, lease_until = ?4, due_at = ?4, \
                 updated_at = ?3 WHERE id = (SELECT id FROM campaign_members WHERE campaign_id = ?1 \
                 AND due_at IS NOT NULL AND due_at <= ?3 ORDER BY due_at, seq LIMIT 1) RETURNING {MEMBER_COLUMNS}"
            );
            let claimed = select(&tx, &sql, &args, member)?.into_iter().next();
            tx.commit().map_err(backend)?;
            Ok(claimed)
        })
        .await
    }

    async fn release_member(
        &self,
        member_id: &str,
        owner: &str,
        release: &Release,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (state, due, note) = match release {
            Release::Defer { due_at, note } => (MemberState::Pending, ms(*due_at), note.clone()),
            Release::Skip { note } => (MemberState::Skipped, SqlValue::Null, note.clone()),
        };
        let args = vec![text(member_id), text(owner), text(state.as_str()), due, text(&note), ms(at)];
        self.write(move |conn| {
            let sql = "UPDATE campaign_members SET state = ?3, due_at = ?4, note = ?5, lease_owner = NULL, \
                       lease_until = NULL, updated_at = ?6 WHERE id = ?1 AND state = 'claimed' AND lease_owner = ?2";
            Ok(exec(conn, sql, args)? == 1)
        })
        .await
    }

    async fn begin_attempt(
        &self,
        attempt: &Attempt,
        owner: &str,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (a, owner) = (attempt.clone(), owner.to_owned());
        self.write(move |conn| begin_blocking(conn, &a, &owner, lease_until)).await
    }

    async fn attempt_dialled(
        &self,
        attempt_id: &str,
        call_id: &CallId,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let args = vec![text(attempt_id), text(call_id.as_str()), ms(at)];
        self.write(move |conn| {
            let tx = immediate(conn)?;
            let sql = "UPDATE campaign_members SET state = 'live', call_id = ?2, updated_at = ?3 \
                       WHERE attempt_id = ?1 AND state = 'dialing'";
            if exec(&tx, sql, args.clone())? == 0 {
                return Ok(false);
            }
            let sql = "UPDATE campaign_attempts SET call_id = ?2, result = 'dialled' WHERE id = ?1";
            exec(&tx, sql, args[..2].to_vec())?;
            tx.commit().map_err(backend)?;
            Ok(true)
        })
        .await
    }

    async fn finish_attempt(
        &self,
        end: &AttemptEnd,
        after: &AfterAttempt,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (end, after) = (end.clone(), after.clone());
        self.write(move |conn| finish_blocking(conn, &end, &after, at)).await
    }

    async fn list_in_flight(&self, limit: u64) -> StoreResult<Vec<Member>> {
        let args = vec![SqlValue::Integer(i64::try_from(limit).unwrap_or(i64::MAX))];
        self.read(move |conn| {
            let sql = format!(
                "SELECT {MEMBER_COLUMNS} FROM campaign_members WHERE state IN ('dialing', 'live') \
                 ORDER BY updated_at LIMIT ?1"
            );
            select(conn, &sql, &args, member)
        })
        .await
    }

    async fn take_over(
        &self,
        member_id: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let args = vec![text(member_id), text(owner), ms(now), ms(lease_until)];
        self.write(move |conn| {
            let sql = "UPDATE campaign_members SET lease_owner = ?2, lease_until = ?4, updated_at = ?3 \
                       WHERE id = ?1 AND state = 'dialing' AND (lease_until IS NULL OR lease_until < ?3)";
            Ok(exec(conn, sql, args)? == 1)
        })
        .await
    }

    async fn ensure_attempt(&self, attempt: &Attempt) -> StoreResult<bool> {
        let args = attempt_values(attempt);
        self.write(move |conn| {
            let sql = format!(
                "INSERT INTO campaign_attempts ({ATTEMPT_COLUMNS}) VALUES ({}) ON CONFLICT (id) DO NOTHING",
                marks(0, 13)
            );
            Ok(exec(conn, &sql, args)? == 1)
        })
        .await
    }

    async fn get_attempt(&self, id: &str) -> StoreResult<Option<Attempt>> {
        let id = id.to_owned();
        self.read(move |conn| {
            let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM campaign_attempts WHERE id = ?1");
            Ok(select(conn, &sql, &[text(&id)], attempt)?.into_iter().next())
        })
        .await
    }

    async fn list_attempts(
        &self,
        campaign: &CampaignId,
        contact: Option<&ContactId>,
        page: Page,
    ) -> StoreResult<Paged<Attempt>> {
        super::members::list_attempts(self, campaign, contact, page).await
    }

    async fn unsettled_attempts(&self, limit: u64) -> StoreResult<Vec<Attempt>> {
        let args = vec![SqlValue::Integer(i64::try_from(limit).unwrap_or(i64::MAX))];
        self.read(move |conn| {
            let sql = format!(
                "SELECT {ATTEMPT_COLUMNS} FROM campaign_attempts WHERE outcome_final = 0 AND ended_at IS NOT NULL \
                 ORDER BY ended_at LIMIT ?1"
            );
            select(conn, &sql, &args, attempt)
        })
        .await
    }

    async fn settle_attempt(&self, attempt_id: &str, outcome: Outcome) -> StoreResult<bool> {
        let args = vec![text(attempt_id), text(outcome.as_str())];
        self.write(move |conn| {
            let tx = immediate(conn)?;
            let sql = "UPDATE campaign_attempts SET outcome = ?2, outcome_final = 1 WHERE id = ?1 AND ended_at IS NOT NULL";
            if exec(&tx, sql, args.clone())? == 0 {
                return Ok(false);
            }
            let sql = "UPDATE campaign_members SET last_outcome = ?2 WHERE attempt_id = ?1 \
                       AND state NOT IN ('dialing', 'live') AND last_outcome IS NOT NULL";
            exec(&tx, sql, args)?;
            tx.commit().map_err(backend)?;
            Ok(true)
        })
        .await
    }
}
