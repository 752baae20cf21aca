//! [`DialStore`] on MongoDB, the engine's writes (see the module docs of `campaigns` for the
//! ones spanning two documents).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;

use super::codec::{AttemptDoc, MemberDoc};
use super::{ATTEMPTS, CAMPAIGNS, MEMBERS, all};
use crate::calls::model::{Page, Paged};
use crate::campaigns::model::{
    AfterAttempt, Attempt, AttemptEnd, AttemptStats, Member, MemberState, MemberStats, Release,
};
use crate::campaigns::store::DialStore;
use crate::store::StoreResult;
use crate::store::mongo::calls_codec::bson_time;
use crate::store::mongo::{MongoStore, deadline, insert_unless_duplicate};
use common::call::Outcome;
use common::ids::{CallId, CampaignId, ContactId};

fn opt_str(v: Option<&str>) -> Bson {
    v.map_or(Bson::Null, |s| Bson::String(s.to_owned()))
}

impl MongoStore {
    async fn update_member(&self, filter: Document, update: Document) -> StoreResult<bool> {
        Ok(deadline(self.typed::<Document>(MEMBERS).update_one(filter, update)).await?.matched_count == 1)
    }

    async fn update_attempt(&self, id: &str, set: Document) -> StoreResult<()> {
        deadline(self.typed::<Document>(ATTEMPTS).update_one(doc! { "_id": id }, doc! { "$set": set }))
            .await
            .map(|_| ())
    }
}

#[async_trait]
impl DialStore for MongoStore {
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
        let q = doc! { "campaignId": campaign.as_str(), "contactId": contact.as_str() };
        deadline(self.typed::<MemberDoc>(MEMBERS).find_one(q)).await?.map(MemberDoc::into_member).transpose()
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
        let q = doc! {
            "contactId": contact.as_str(),
            "campaignId": { "$ne": except.as_str() },
            "state": { "$in": ["dialing", "live"] },
        };
        let found = deadline(self.typed::<MemberDoc>(MEMBERS).find_one(q)).await?;
        Ok(found.map(|m| m.into_member()).transpose()?.map(|m| m.campaign_id))
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
        let until = bson_time(lease_until);
        let coll = self.typed::<MemberDoc>(MEMBERS);
        let op = coll
            .find_one_and_update(
                // `$lt now + 1 ms` rather than `$lte now`: the same at stored precision, and SecantusDB
                // (the test server) misses equal values under `$lte` on a compound index.
                doc! { "campaignId": campaign.as_str(), "dueAt": { "$lt": bson_time(now + chrono::Duration::milliseconds(1)) } },
                doc! { "$set": { "state": "claimed", "leaseOwner": owner, "leaseUntil": until, "dueAt": until, "updatedAt": bson_time(now) } },
            )
            .sort(doc! { "dueAt": 1, "seq": 1 })
            .return_document(ReturnDocument::After);
        deadline(op).await?.map(MemberDoc::into_member).transpose()
    }

    async fn release_member(
        &self,
        member_id: &str,
        owner: &str,
        release: &Release,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (state, due, note): (&str, Bson, &str) = match release {
            Release::Defer { due_at, note } => ("pending", bson_time(*due_at).into(), note),
            Release::Skip { note } => ("skipped", Bson::Null, note),
        };
        self.update_member(
            doc! { "_id": member_id, "state": "claimed", "leaseOwner": owner },
            doc! { "$set": { "state": state, "dueAt": due, "note": note, "leaseOwner": Bson::Null, "leaseUntil": Bson::Null, "updatedAt": bson_time(at) } },
        )
        .await
    }

    async fn begin_attempt(
        &self,
        attempt: &Attempt,
        owner: &str,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let coll = self.typed::<Document>(CAMPAIGNS);
        let fence = coll.update_one(
            doc! { "_id": attempt.campaign_id.as_str(), "status": "running" },
            doc! { "$inc": { "fence": 1_i64 } },
        );
        if deadline(fence).await?.matched_count == 0 {
            return Ok(false);
        }
        let began = self
            .update_member(
                doc! { "_id": &attempt.member_id, "state": "claimed", "leaseOwner": owner },
                doc! {
                    "$set": { "state": "dialing", "dueAt": Bson::Null, "leaseUntil": bson_time(lease_until), "attemptId": &attempt.id,
                              "callId": Bson::Null, "note": Bson::Null, "updatedAt": bson_time(attempt.started_at) },
                    "$inc": { "attempts": 1_i64 },
                },
            )
            .await?;
        if began {
            insert_unless_duplicate(
                self.typed::<AttemptDoc>(ATTEMPTS).insert_one(AttemptDoc::from_attempt(attempt)),
            )
            .await?;
        }
        Ok(began)
    }

    async fn attempt_dialled(
        &self,
        attempt_id: &str,
        call_id: &CallId,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let moved = self
            .update_member(
                doc! { "attemptId": attempt_id, "state": "dialing" },
                doc! { "$set": { "state": "live", "callId": call_id.as_str(), "updatedAt": bson_time(at) } },
            )
            .await?;
        if moved {
            self.update_attempt(attempt_id, doc! { "callId": call_id.as_str(), "result": "dialled" }).await?;
        }
        Ok(moved)
    }

    async fn finish_attempt(
        &self,
        end: &AttemptEnd,
        after: &AfterAttempt,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (state, due): (&str, Bson) = match after {
            AfterAttempt::Retry(due) => ("pending", bson_time(*due).into()),
            AfterAttempt::Done => ("done", Bson::Null),
        };
        let mut set = doc! { "state": state, "dueAt": due, "leaseOwner": Bson::Null, "leaseUntil": Bson::Null,
        "note": opt_str(end.detail.as_deref()), "updatedAt": bson_time(at) };
        if let Some(o) = end.outcome {
            set.insert("lastOutcome", o.as_str());
        }
        let moved = self
            .update_member(
                doc! { "attemptId": &end.attempt_id, "state": { "$in": ["dialing", "live"] } },
                doc! { "$set": set, "$inc": { "attempts": if end.counts { 0_i64 } else { -1_i64 } } },
            )
            .await?;
        if moved {
            let set = doc! {
                "endedAt": bson_time(end.ended_at),
                "outcome": opt_str(end.outcome.map(Outcome::as_str)),
                "outcomeFinal": end.outcome_final,
                "result": end.result.as_str(),
                "detail": opt_str(end.detail.as_deref()),
            };
            self.update_attempt(&end.attempt_id, set).await?;
        }
        Ok(moved)
    }

    async fn list_in_flight(&self, limit: u64) -> StoreResult<Vec<Member>> {
        let coll = self.typed::<MemberDoc>(MEMBERS);
        let find = coll
            .find(doc! { "state": { "$in": ["dialing", "live"] } })
            .sort(doc! { "updatedAt": 1 })
            .limit(i64::try_from(limit).unwrap_or(i64::MAX));
        all(deadline(find).await?).await?.into_iter().map(MemberDoc::into_member).collect()
    }

    async fn take_over(
        &self,
        member_id: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let now = bson_time(now);
        self.update_member(
            doc! { "_id": member_id, "state": "dialing", "$or": [ { "leaseUntil": Bson::Null }, { "leaseUntil": { "$lt": now } } ] },
            doc! { "$set": { "leaseOwner": owner, "leaseUntil": bson_time(lease_until), "updatedAt": now } },
        )
        .await
    }

    async fn ensure_attempt(&self, attempt: &Attempt) -> StoreResult<bool> {
        insert_unless_duplicate(
            self.typed::<AttemptDoc>(ATTEMPTS).insert_one(AttemptDoc::from_attempt(attempt)),
        )
        .await
    }

    async fn get_attempt(&self, id: &str) -> StoreResult<Option<Attempt>> {
        deadline(self.typed::<AttemptDoc>(ATTEMPTS).find_one(doc! { "_id": id }))
            .await?
            .map(AttemptDoc::into_attempt)
            .transpose()
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
        let coll = self.typed::<AttemptDoc>(ATTEMPTS);
        let find = coll
            .find(doc! { "outcomeFinal": false, "endedAt": { "$ne": Bson::Null } })
            .sort(doc! { "endedAt": 1 })
            .limit(i64::try_from(limit).unwrap_or(i64::MAX));
        all(deadline(find).await?).await?.into_iter().map(AttemptDoc::into_attempt).collect()
    }

    async fn settle_attempt(&self, attempt_id: &str, outcome: Outcome) -> StoreResult<bool> {
        let coll = self.typed::<Document>(ATTEMPTS);
        let r = coll.update_one(
            doc! { "_id": attempt_id, "endedAt": { "$ne": Bson::Null } },
            doc! { "$set": { "outcome": outcome.as_str(), "outcomeFinal": true } },
        );
        if deadline(r).await?.matched_count == 0 {
            return Ok(false);
        }
        self.update_member(
            doc! { "attemptId": attempt_id, "state": { "$nin": ["dialing", "live"] }, "lastOutcome": { "$ne": Bson::Null } },
            doc! { "$set": { "lastOutcome": outcome.as_str() } },
        )
        .await?;
        Ok(true)
    }
}
