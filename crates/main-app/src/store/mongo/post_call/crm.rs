//! [`CrmOutbox`] on MongoDB: `crm_deliveries` (`_id` = delivery id, unique `idempotencyKey`),
//! migrations 3 and 5. Claiming is one `find_one_and_update` per delivery (due, unleased → leased);
//! recording an attempt is an `update_one` conditioned on the lease holder, so a worker that
//! lost its lease writes nothing.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;

use super::{
    CRM_DELIVERIES, collect, corrupt, from_json, json, opt_bson_str, opt_bson_time, opt_str, opt_time, time,
    to_i64,
};
use crate::calls::model::{Page, Paged};
use crate::crm::model::{Attempt, AttemptNext, Delivery, DeliveryKind, DeliveryStatus, LOG_LIMIT};
use crate::crm::store::CrmOutbox;
use crate::store::mongo::calls_codec::bson_time;
use crate::store::mongo::{MongoStore, deadline, insert_unless_duplicate};
use crate::store::{MAX_PAGE, StoreResult, now_ms};
use common::ids::CallId;

fn to_doc(d: &Delivery) -> StoreResult<Document> {
    Ok(doc! {
        "_id": &d.id,
        "callId": d.call_id.as_str(),
        "kind": d.kind.as_str(),
        "idempotencyKey": &d.idempotency_key,
        "payload": json(&d.payload)?,
        "postCallConversation": opt_bson_str(d.post_call_conversation.as_deref()),
        "status": d.status.as_str(),
        "attempts": i64::from(d.attempts),
        "nextAttemptAt": bson_time(d.next_attempt_at),
        "createdAt": bson_time(d.created_at),
        "updatedAt": bson_time(d.updated_at),
        "deliveredAt": opt_bson_time(d.delivered_at),
        "lastError": opt_bson_str(d.last_error.as_deref()),
        "log": json(&d.log)?,
        "leaseOwner": Bson::Null,
        "leaseUntil": Bson::Null,
    })
}

fn from_doc(d: &Document) -> StoreResult<Delivery> {
    let c = |f: &str| corrupt(CRM_DELIVERIES, f);
    let s = |f: &str| d.get_str(f).map(str::to_owned).map_err(|_| c(f));
    let attempts = match d.get("attempts") {
        Some(Bson::Int32(v)) => u32::try_from(*v).map_err(|_| c("attempts"))?,
        Some(Bson::Int64(v)) => u32::try_from(*v).map_err(|_| c("attempts"))?,
        _ => return Err(c("attempts")),
    };
    Ok(Delivery {
        id: s("_id")?,
        call_id: CallId::parse(&s("callId")?).map_err(|_| c("callId"))?,
        // Deliveries written before migration 5 are all final reports.
        kind: match d.get_str("kind") {
            Ok(k) => DeliveryKind::parse(k).ok_or_else(|| c("kind"))?,
            Err(_) => DeliveryKind::Final,
        },
        idempotency_key: s("idempotencyKey")?,
        payload: from_json(d, "payload", CRM_DELIVERIES)?,
        post_call_conversation: opt_str(d, "postCallConversation"),
        status: DeliveryStatus::parse(&s("status")?).ok_or_else(|| c("status"))?,
        attempts,
        next_attempt_at: time(d, "nextAttemptAt", CRM_DELIVERIES)?,
        created_at: time(d, "createdAt", CRM_DELIVERIES)?,
        updated_at: time(d, "updatedAt", CRM_DELIVERIES)?,
        delivered_at: opt_time(d, "deliveredAt", CRM_DELIVERIES)?,
        last_error: opt_str(d, "lastError"),
        log: from_json(d, "log", CRM_DELIVERIES)?,
    })
}

#[async_trait]
impl CrmOutbox for MongoStore {
    async fn enqueue_delivery(&self, delivery: &Delivery) -> StoreResult<bool> {
        insert_unless_duplicate(self.coll(CRM_DELIVERIES).insert_one(to_doc(delivery)?)).await
    }

    async fn call_deliveries(&self, call_id: &CallId) -> StoreResult<Vec<Delivery>> {
        let coll = self.coll(CRM_DELIVERIES);
        let find = coll.find(doc! { "callId": call_id.as_str() }).sort(doc! { "createdAt": 1, "_id": 1 });
        collect(deadline(find).await?).await?.iter().map(from_doc).collect()
    }

    async fn refresh_unsent_delivery(
        &self,
        id: &str,
        payload: &serde_json::Value,
        post_call_conversation: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let never_claimed = doc! { "_id": id, "status": "pending", "leaseOwner": null, "log": "[]" };
        let set = doc! { "$set": {
            "payload": json(payload)?,
            "postCallConversation": post_call_conversation,
            "updatedAt": bson_time(crate::store::truncate_ms(now)),
        }};
        let result = deadline(self.coll(CRM_DELIVERIES).update_one(never_claimed, set)).await?;
        // Matched, not modified: an identical payload is still a successful refresh.
        Ok(result.matched_count == 1)
    }

    async fn claim_due_deliveries(
        &self,
        now: DateTime<Utc>,
        owner: &str,
        lease_until: DateTime<Utc>,
        limit: u64,
    ) -> StoreResult<Vec<Delivery>> {
        let now = bson_time(now);
        let mut claimed = Vec::new();
        while (claimed.len() as u64) < limit {
            let filter = doc! {
                "status": "pending",
                "nextAttemptAt": { "$lte": now },
                "$or": [ { "leaseUntil": null }, { "leaseUntil": { "$lt": now } } ],
            };
            let update = doc! { "$set": { "leaseOwner": owner, "leaseUntil": bson_time(lease_until) } };
            let coll = self.coll(CRM_DELIVERIES);
            let op = coll
                .find_one_and_update(filter, update)
                .sort(doc! { "nextAttemptAt": 1, "_id": 1 })
                .return_document(ReturnDocument::After);
            match deadline(op).await? {
                Some(d) => claimed.push(from_doc(&d)?),
                None => break,
            }
        }
        Ok(claimed)
    }

    async fn complete_attempt(
        &self,
        id: &str,
        owner: &str,
        attempt: &Attempt,
        next: AttemptNext,
    ) -> StoreResult<bool> {
        let held = doc! { "_id": id, "leaseOwner": owner, "status": "pending" };
        let Some(current) = deadline(self.coll(CRM_DELIVERIES).find_one(held.clone())).await? else {
            return Ok(false);
        };
        let mut delivery = from_doc(&current)?;
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
        let set = doc! { "$set": {
            "status": status.as_str(),
            "attempts": i64::from(delivery.attempts) + 1,
            "nextAttemptAt": bson_time(next_at),
            "updatedAt": bson_time(now),
            "deliveredAt": opt_bson_time(delivered_at),
            "lastError": opt_bson_str(last_error.as_deref()),
            "log": json(&delivery.log)?,
            "leaseOwner": Bson::Null,
            "leaseUntil": Bson::Null,
        }};
        let result = deadline(self.coll(CRM_DELIVERIES).update_one(held, set)).await?;
        Ok(result.modified_count == 1)
    }

    async fn postpone_delivery(&self, id: &str, owner: &str, until: DateTime<Utc>) -> StoreResult<bool> {
        let held = doc! { "_id": id, "leaseOwner": owner, "status": "pending" };
        let set = doc! { "$set": {
            "nextAttemptAt": bson_time(crate::store::truncate_ms(until)),
            "leaseOwner": Bson::Null,
            "leaseUntil": Bson::Null,
        }};
        Ok(deadline(self.coll(CRM_DELIVERIES).update_one(held, set)).await?.matched_count == 1)
    }

    async fn list_deliveries(
        &self,
        status: Option<DeliveryStatus>,
        page: Page,
    ) -> StoreResult<Paged<Delivery>> {
        let limit = page.limit.min(MAX_PAGE);
        let filter = match status {
            Some(s) => doc! { "status": s.as_str() },
            None => doc! {},
        };
        let total = deadline(self.coll(CRM_DELIVERIES).count_documents(filter.clone())).await?;
        let items = if limit == 0 {
            Vec::new()
        } else {
            let coll = self.coll(CRM_DELIVERIES);
            let find = coll
                .find(filter)
                .sort(doc! { "createdAt": -1, "_id": -1 })
                .skip(page.offset)
                .limit(to_i64(limit));
            collect(deadline(find).await?).await?.iter().map(from_doc).collect::<StoreResult<Vec<_>>>()?
        };
        Ok(Paged { items, total, offset: page.offset, limit })
    }

    async fn get_delivery(&self, id: &str) -> StoreResult<Option<Delivery>> {
        deadline(self.coll(CRM_DELIVERIES).find_one(doc! { "_id": id }))
            .await?
            .as_ref()
            .map(from_doc)
            .transpose()
    }

    async fn replay_delivery(&self, id: &str, now: DateTime<Utc>) -> StoreResult<Option<Delivery>> {
        let now = bson_time(crate::store::truncate_ms(now));
        let filter = doc! {
            "_id": id,
            "$nor": [ { "status": "pending", "leaseUntil": { "$gte": now } } ],
        };
        let set = doc! { "$set": {
            "status": "pending", "attempts": 0_i64, "nextAttemptAt": now, "updatedAt": now, "deliveredAt": Bson::Null,
        }};
        deadline(self.coll(CRM_DELIVERIES).update_one(filter, set)).await?;
        self.get_delivery(id).await
    }
}
