//! Row codecs of `campaign_members` and `campaign_attempts`.

use rusqlite::Row;
use rusqlite::types::Value as SqlValue;

use super::{opt_millis, opt_time, time};
use crate::campaigns::model::{Attempt, AttemptResult, Member, MemberState};
use crate::store::sqlite::backend;
use crate::store::sqlite::calls_codec::{millis, opt_text, text};
use crate::store::{StoreError, StoreResult};
use common::call::Outcome;
use common::ids::{CallId, CampaignId, ContactId};

/// Columns of `campaign_members`, in [`member`]'s order.
pub const MEMBER_COLUMNS: &str = "id, campaign_id, contact_id, seq, state, due_at, lease_owner, lease_until, \
     attempts, attempt_id, call_id, last_outcome, note, updated_at";

/// Columns of `campaign_attempts`, in [`attempt`]'s order.
pub const ATTEMPT_COLUMNS: &str = "id, campaign_id, contact_id, member_id, number, instance_id, started_at, \
     call_id, ended_at, outcome, outcome_final, result, detail";

fn corrupt(column: &str) -> StoreError {
    StoreError::Corrupt(format!("sqlite column {column}"))
}

fn outcome(raw: Option<String>, column: &str) -> StoreResult<Option<Outcome>> {
    raw.map(|s| Outcome::parse(&s).ok_or_else(|| corrupt(column))).transpose()
}

fn call_id(raw: Option<String>, column: &str) -> StoreResult<Option<CallId>> {
    raw.map(|s| CallId::parse(&s).map_err(|_| corrupt(column))).transpose()
}

fn ids(r: &Row<'_>, table: &str) -> StoreResult<(CampaignId, ContactId)> {
    let campaign: String = r.get(1).map_err(backend)?;
    let contact: String = r.get(2).map_err(backend)?;
    Ok((
        CampaignId::parse(&campaign).map_err(|_| corrupt(&format!("{table}.campaign_id")))?,
        ContactId::parse(&contact).map_err(|_| corrupt(&format!("{table}.contact_id")))?,
    ))
}

/// Decodes a member row.
pub fn member(r: &Row<'_>) -> StoreResult<Member> {
    let (campaign_id, contact_id) = ids(r, "campaign_members")?;
    let state: String = r.get(4).map_err(backend)?;
    let attempts: i64 = r.get(8).map_err(backend)?;
    Ok(Member {
        id: r.get(0).map_err(backend)?,
        campaign_id,
        contact_id,
        seq: r.get(3).map_err(backend)?,
        state: MemberState::parse(&state).ok_or_else(|| corrupt("campaign_members.state"))?,
        due_at: opt_time(r.get(5).map_err(backend)?, "campaign_members.due_at")?,
        lease_owner: r.get(6).map_err(backend)?,
        lease_until: opt_time(r.get(7).map_err(backend)?, "campaign_members.lease_until")?,
        attempts: u32::try_from(attempts).map_err(|_| corrupt("campaign_members.attempts"))?,
        attempt_id: r.get(9).map_err(backend)?,
        call_id: call_id(r.get(10).map_err(backend)?, "campaign_members.call_id")?,
        last_outcome: outcome(r.get(11).map_err(backend)?, "campaign_members.last_outcome")?,
        note: r.get(12).map_err(backend)?,
        updated_at: time(r.get(13).map_err(backend)?, "campaign_members.updated_at")?,
    })
}

/// Decodes an attempt row.
pub fn attempt(r: &Row<'_>) -> StoreResult<Attempt> {
    let (campaign_id, contact_id) = ids(r, "campaign_attempts")?;
    let number: i64 = r.get(4).map_err(backend)?;
    let result: String = r.get(11).map_err(backend)?;
    let final_: i64 = r.get(10).map_err(backend)?;
    Ok(Attempt {
        id: r.get(0).map_err(backend)?,
        campaign_id,
        contact_id,
        member_id: r.get(3).map_err(backend)?,
        number: u32::try_from(number).map_err(|_| corrupt("campaign_attempts.number"))?,
        instance_id: r.get(5).map_err(backend)?,
        started_at: time(r.get(6).map_err(backend)?, "campaign_attempts.started_at")?,
        call_id: call_id(r.get(7).map_err(backend)?, "campaign_attempts.call_id")?,
        ended_at: opt_time(r.get(8).map_err(backend)?, "campaign_attempts.ended_at")?,
        outcome: outcome(r.get(9).map_err(backend)?, "campaign_attempts.outcome")?,
        outcome_final: final_ != 0,
        result: AttemptResult::parse(&result).ok_or_else(|| corrupt("campaign_attempts.result"))?,
        detail: r.get(12).map_err(backend)?,
    })
}

/// An attempt's values in [`ATTEMPT_COLUMNS`] order.
pub fn attempt_values(a: &Attempt) -> Vec<SqlValue> {
    vec![
        text(&a.id),
        text(a.campaign_id.as_str()),
        text(a.contact_id.as_str()),
        text(&a.member_id),
        SqlValue::Integer(i64::from(a.number)),
        text(&a.instance_id),
        SqlValue::Integer(millis(a.started_at)),
        opt_text(a.call_id.as_ref().map(CallId::as_str)),
        opt_millis(a.ended_at),
        opt_text(a.outcome.map(Outcome::as_str)),
        SqlValue::Integer(i64::from(a.outcome_final)),
        text(a.result.as_str()),
        opt_text(a.detail.as_deref()),
    ]
}
