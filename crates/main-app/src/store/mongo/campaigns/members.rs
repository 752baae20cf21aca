//! Members and attempts on MongoDB: joining, leaving, listing and the aggregates progress is
//! computed from.

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use mongodb::error::{ErrorKind, InsertManyError};

use super::codec::{AttemptDoc, MemberDoc};
use super::{ATTEMPTS, MEMBERS, all, timed_out};
use crate::calls::model::{Page, Paged};
use crate::campaigns::model::{Attempt, AttemptStats, Member, MemberState, MemberStats, seq_base};
use crate::store::mongo::calls_codec::{bson_time, chrono_time};
use crate::store::mongo::{MongoStore, OP_TIMEOUT, backend, deadline};
use crate::store::{MAX_PAGE, StoreError, StoreResult, now_ms};
use common::call::Outcome;
use common::ids::{CampaignId, ContactId};

/// Members inserted per `insert_many`.
const BATCH: usize = 1000;

pub(super) async fn add(
    store: &MongoStore,
    campaign: &CampaignId,
    members: &[(ContactId, DateTime<Utc>)],
) -> StoreResult<u64> {
    let now = now_ms();
    let coll = store.typed::<MemberDoc>(MEMBERS);
    let last = coll.find_one(doc! { "campaignId": campaign.as_str() }).sort(doc! { "seq": -1 });
    let last = deadline(last).await?.map(|m| m.seq + 1).unwrap_or(0);
    let base = seq_base(now).max(last);
    let mut added = 0;
    for (chunk_no, chunk) in members.chunks(BATCH).enumerate() {
        let docs: Vec<MemberDoc> = chunk
            .iter()
            .enumerate()
            .map(|(i, (contact, due))| MemberDoc {
                id: uuid::Uuid::now_v7().to_string(),
                campaign_id: campaign.clone(),
                contact_id: contact.clone(),
                seq: base + i64::try_from(chunk_no * BATCH + i).unwrap_or(i64::MAX),
                state: MemberState::Pending,
                due_at: Some(bson_time(*due)),
                lease_owner: None,
                lease_until: None,
                attempts: 0,
                attempt_id: None,
                call_id: None,
                last_outcome: None,
                note: None,
                updated_at: bson_time(now),
            })
            .collect();
        let n = docs.len() as u64;
        let coll = store.typed::<MemberDoc>(MEMBERS);
        let op = coll.insert_many(docs).ordered(false);
        added += match tokio::time::timeout(OP_TIMEOUT, op).await {
            Ok(Ok(_)) => n,
            // Duplicates are members already there: left alone.
            Ok(Err(e)) => match *e.kind {
                ErrorKind::InsertMany(InsertManyError { write_errors: Some(ref errors), .. })
                    if errors.iter().all(|w| w.code == 11000) =>
                {
                    n - errors.len() as u64
                }
                _ => return Err(backend(e)),
            },
            Err(_) => return Err(timed_out()),
        };
    }
    Ok(added)
}

pub(super) async fn remove(
    store: &MongoStore,
    campaign: &CampaignId,
    contacts: &[ContactId],
) -> StoreResult<u64> {
    let ids: Vec<Bson> = contacts.iter().map(|c| Bson::String(c.to_string())).collect();
    let q = doc! { "campaignId": campaign.as_str(), "state": { "$in": ["pending", "skipped"] }, "contactId": { "$in": ids } };
    Ok(deadline(store.typed::<Document>(MEMBERS).delete_many(q)).await?.deleted_count)
}

pub(super) async fn list(
    store: &MongoStore,
    campaign: &CampaignId,
    states: &[MemberState],
    page: Page,
) -> StoreResult<Paged<Member>> {
    let mut q = doc! { "campaignId": campaign.as_str() };
    if !states.is_empty() {
        q.insert("state", doc! { "$in": states.iter().map(|s| s.as_str()).collect::<Vec<_>>() });
    }
    let limit = page.limit.clamp(1, MAX_PAGE);
    let coll = store.typed::<MemberDoc>(MEMBERS);
    let total = deadline(coll.count_documents(q.clone())).await?;
    let find = coll
        .find(q)
        .sort(doc! { "seq": 1 })
        .skip(page.offset)
        .limit(i64::try_from(limit).unwrap_or(i64::MAX));
    let items = all(deadline(find).await?)
        .await?
        .into_iter()
        .map(MemberDoc::into_member)
        .collect::<StoreResult<_>>()?;
    Ok(Paged { items, total, offset: page.offset, limit })
}

async fn grouped(
    store: &MongoStore,
    collection: &str,
    pipeline: Vec<Document>,
) -> StoreResult<Vec<Document>> {
    let cursor = deadline(store.typed::<Document>(collection).aggregate(pipeline)).await?;
    deadline(cursor.try_collect()).await
}

fn count_of(d: &Document) -> u64 {
    match d.get("n") {
        Some(Bson::Int32(n)) => u64::try_from(*n).unwrap_or(0),
        Some(Bson::Int64(n)) => u64::try_from(*n).unwrap_or(0),
        _ => 0,
    }
}

pub(super) async fn stats(store: &MongoStore, campaign: &CampaignId) -> StoreResult<MemberStats> {
    let pipeline = vec![
        doc! { "$match": { "campaignId": campaign.as_str() } },
        doc! { "$group": { "_id": "$state", "n": { "$sum": 1 } } },
    ];
    let mut s = MemberStats::default();
    for d in grouped(store, MEMBERS, pipeline).await? {
        let n = count_of(&d);
        let slot = match d.get_str("_id").ok().and_then(MemberState::parse) {
            Some(MemberState::Pending) => &mut s.pending,
            Some(MemberState::Claimed) => &mut s.claimed,
            Some(MemberState::Dialing) => &mut s.dialing,
            Some(MemberState::Live) => &mut s.live,
            Some(MemberState::Done) => &mut s.done,
            Some(MemberState::Skipped) => &mut s.skipped,
            None => return Err(StoreError::Corrupt("mongodb field campaign_members.state".into())),
        };
        *slot += n;
        s.total += n;
    }
    let coll = store.typed::<MemberDoc>(MEMBERS);
    let next = coll
        .find_one(
            doc! { "campaignId": campaign.as_str(), "state": "pending", "dueAt": { "$ne": Bson::Null } },
        )
        .sort(doc! { "dueAt": 1 });
    s.next_due = match deadline(next).await?.and_then(|m| m.due_at) {
        Some(t) => Some(chrono_time(t, "campaign_members.dueAt")?),
        None => None,
    };
    Ok(s)
}

pub(super) async fn attempt_stats(
    store: &MongoStore,
    campaign: &CampaignId,
    since: Option<DateTime<Utc>>,
) -> StoreResult<AttemptStats> {
    let mut m = doc! { "campaignId": campaign.as_str(), "result": "dialled" };
    if let Some(since) = since {
        // `$gt since - 1 ms` rather than `$gte since`: see `claim_member`.
        m.insert("endedAt", doc! { "$gt": bson_time(since - chrono::Duration::milliseconds(1)) });
    }
    let pipeline = vec![doc! { "$match": m }, doc! { "$group": { "_id": "$outcome", "n": { "$sum": 1 } } }];
    let mut s = AttemptStats::default();
    for d in grouped(store, ATTEMPTS, pipeline).await? {
        let outcome = match d.get("_id") {
            Some(Bson::String(o)) => Some(
                Outcome::parse(o)
                    .ok_or_else(|| StoreError::Corrupt("mongodb field campaign_attempts.outcome".into()))?,
            ),
            _ => None,
        };
        s.add(outcome, count_of(&d));
    }
    Ok(s)
}

pub(super) async fn list_attempts(
    store: &MongoStore,
    campaign: &CampaignId,
    contact: Option<&ContactId>,
    page: Page,
) -> StoreResult<Paged<Attempt>> {
    let mut q = doc! { "campaignId": campaign.as_str() };
    if let Some(c) = contact {
        q.insert("contactId", c.as_str());
    }
    let limit = page.limit.clamp(1, MAX_PAGE);
    let coll = store.typed::<AttemptDoc>(ATTEMPTS);
    let total = deadline(coll.count_documents(q.clone())).await?;
    let find = coll
        .find(q)
        .sort(doc! { "startedAt": 1, "_id": 1 })
        .skip(page.offset)
        .limit(i64::try_from(limit).unwrap_or(i64::MAX));
    let items = all(deadline(find).await?)
        .await?
        .into_iter()
        .map(AttemptDoc::into_attempt)
        .collect::<StoreResult<_>>()?;
    Ok(Paged { items, total, offset: page.offset, limit })
}
