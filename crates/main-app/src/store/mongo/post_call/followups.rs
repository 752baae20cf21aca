//! [`FollowupStore`] on MongoDB: `call_followups` (`_id` = call id), migration 3. Each write is a
//! conditional single-document update, falling back to an insert (a duplicate key then means
//! the document exists and the condition was false, which is the intended no-op).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::doc;
use mongodb::options::ReturnDocument;

use super::{CALL_FOLLOWUPS, corrupt, from_json, json, opt_time};
use crate::amd::AmdPolicy;
use crate::post_call::store::FollowupStore;
use crate::store::StoreResult;
use crate::store::mongo::calls_codec::bson_time;
use crate::store::mongo::{MongoStore, deadline, insert_unless_duplicate};
use common::ids::CallId;

#[async_trait]
impl FollowupStore for MongoStore {
    async fn set_amd_policy(&self, call_id: &CallId, policy: &AmdPolicy) -> StoreResult<()> {
        let update = doc! { "$set": { "amdPolicy": json(policy)? } };
        let coll = self.coll(CALL_FOLLOWUPS);
        let op = coll.update_one(doc! { "_id": call_id.as_str() }, update).upsert(true);
        deadline(op).await.map(|_| ())
    }

    async fn amd_policy(&self, call_id: &CallId) -> StoreResult<Option<AmdPolicy>> {
        match deadline(self.coll(CALL_FOLLOWUPS).find_one(doc! { "_id": call_id.as_str() })).await? {
            Some(d) if d.get_str("amdPolicy").is_ok() => from_json(&d, "amdPolicy", CALL_FOLLOWUPS).map(Some),
            _ => Ok(None),
        }
    }

    async fn schedule_finalize(&self, call_id: &CallId, due_at: DateTime<Utc>) -> StoreResult<()> {
        let due = bson_time(crate::store::truncate_ms(due_at));
        let filter = doc! {
            "_id": call_id.as_str(),
            "finalizedAt": null,
            "$or": [ { "finalizeDueAt": null }, { "finalizeDueAt": { "$gt": due } } ],
        };
        let set = doc! { "$set": { "finalizeDueAt": due } };
        let result = deadline(self.coll(CALL_FOLLOWUPS).update_one(filter, set)).await?;
        if result.matched_count == 0 {
            let fresh = doc! { "_id": call_id.as_str(), "finalizeDueAt": due, "finalizedAt": null, "leaseUntil": null };
            // A duplicate: the document exists, already due earlier or finalized. Nothing to do.
            insert_unless_duplicate(self.coll(CALL_FOLLOWUPS).insert_one(fresh)).await?;
        }
        Ok(())
    }

    async fn claim_due_finalizations(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u64,
    ) -> StoreResult<Vec<CallId>> {
        let now = bson_time(now);
        let mut claimed = Vec::new();
        while (claimed.len() as u64) < limit {
            let filter = doc! {
                "finalizedAt": null,
                "finalizeDueAt": { "$lte": now },
                "$or": [ { "leaseUntil": null }, { "leaseUntil": { "$lt": now } } ],
            };
            let coll = self.coll(CALL_FOLLOWUPS);
            let op = coll
                .find_one_and_update(filter, doc! { "$set": { "leaseUntil": bson_time(lease_until) } })
                .sort(doc! { "finalizeDueAt": 1, "_id": 1 })
                .return_document(ReturnDocument::After);
            let Some(d) = deadline(op).await? else { break };
            let id = d.get_str("_id").map_err(|_| corrupt(CALL_FOLLOWUPS, "_id"))?;
            claimed.push(CallId::parse(id).map_err(|_| corrupt(CALL_FOLLOWUPS, "_id"))?);
        }
        Ok(claimed)
    }

    async fn mark_finalized(&self, call_id: &CallId, at: DateTime<Utc>) -> StoreResult<()> {
        let at = bson_time(crate::store::truncate_ms(at));
        let filter = doc! { "_id": call_id.as_str(), "finalizedAt": null };
        let set = doc! { "$set": { "finalizedAt": at, "leaseUntil": null } };
        let result = deadline(self.coll(CALL_FOLLOWUPS).update_one(filter, set)).await?;
        if result.matched_count == 0 {
            let fresh = doc! { "_id": call_id.as_str(), "finalizedAt": at, "leaseUntil": null };
            // A duplicate: already finalized. Nothing to do.
            insert_unless_duplicate(self.coll(CALL_FOLLOWUPS).insert_one(fresh)).await?;
        }
        Ok(())
    }

    async fn finalized_at(&self, call_id: &CallId) -> StoreResult<Option<DateTime<Utc>>> {
        match deadline(self.coll(CALL_FOLLOWUPS).find_one(doc! { "_id": call_id.as_str() })).await? {
            Some(d) => opt_time(&d, "finalizedAt", CALL_FOLLOWUPS),
            None => Ok(None),
        }
    }
}
