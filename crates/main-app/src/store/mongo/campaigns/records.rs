//! [`CampaignStore`] on MongoDB: `campaigns`. State changes are one conditional
//! `find_one_and_update` on `{_id, status: {$in: from}}`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;

use super::codec::{CampaignDoc, settings_json};
use super::{ATTEMPTS, CAMPAIGNS, MEMBERS, all, regex_literal};
use crate::calls::model::{Page, Paged};
use crate::campaigns::model::{Campaign, CampaignFilter, CampaignStatus};
use crate::campaigns::settings_model::CampaignSettings;
use crate::campaigns::store::CampaignStore;
use crate::store::mongo::calls_codec::bson_time;
use crate::store::mongo::{MongoStore, deadline};
use crate::store::{MAX_PAGE, StoreResult};
use common::ids::CampaignId;

fn statuses(list: &[CampaignStatus]) -> Vec<&'static str> {
    list.iter().map(|s| s.as_str()).collect()
}

/// `{$literal: v}`, so a reason starting with `$` is never read as a field path.
fn literal(v: Bson) -> Bson {
    Bson::Document(doc! { "$literal": v })
}

impl MongoStore {
    async fn campaign_update(
        &self,
        filter: Document,
        update: Vec<Document>,
    ) -> StoreResult<Option<Campaign>> {
        let coll = self.typed::<CampaignDoc>(CAMPAIGNS);
        let op = coll.find_one_and_update(filter, update).return_document(ReturnDocument::After);
        deadline(op).await?.map(CampaignDoc::into_campaign).transpose()
    }

    async fn unfinished_members(&self, id: &CampaignId) -> StoreResult<u64> {
        let q =
            doc! { "campaignId": id.as_str(), "state": { "$in": ["pending", "claimed", "dialing", "live"] } };
        deadline(self.typed::<Document>(MEMBERS).count_documents(q)).await
    }
}

#[async_trait]
impl CampaignStore for MongoStore {
    async fn insert_campaign(&self, campaign: &Campaign) -> StoreResult<()> {
        let d = CampaignDoc::from_campaign(campaign)?;
        deadline(self.typed::<CampaignDoc>(CAMPAIGNS).insert_one(d)).await.map(|_| ())
    }

    async fn get_campaign(&self, id: &CampaignId) -> StoreResult<Option<Campaign>> {
        let d = deadline(self.typed::<CampaignDoc>(CAMPAIGNS).find_one(doc! { "_id": id.as_str() })).await?;
        d.map(CampaignDoc::into_campaign).transpose()
    }

    async fn list_campaigns(&self, filter: &CampaignFilter, page: Page) -> StoreResult<Paged<Campaign>> {
        let mut q = Document::new();
        if !filter.statuses.is_empty() {
            q.insert("status", doc! { "$in": statuses(&filter.statuses) });
        }
        if let Some(s) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let re = regex_literal(s);
            q.insert(
                "$or",
                vec![
                    doc! { "name": { "$regex": &re, "$options": "i" } },
                    doc! { "description": { "$regex": &re, "$options": "i" } },
                ],
            );
        }
        let limit = page.limit.clamp(1, MAX_PAGE);
        let coll = self.typed::<CampaignDoc>(CAMPAIGNS);
        let total = deadline(coll.count_documents(q.clone())).await?;
        let find = coll
            .find(q)
            .sort(doc! { "createdAt": -1, "_id": -1 })
            .skip(page.offset)
            .limit(i64::try_from(limit).unwrap_or(i64::MAX));
        let items = all(deadline(find).await?)
            .await?
            .into_iter()
            .map(CampaignDoc::into_campaign)
            .collect::<StoreResult<_>>()?;
        Ok(Paged { items, total, offset: page.offset, limit })
    }

    async fn update_campaign(
        &self,
        id: &CampaignId,
        name: &str,
        description: Option<&str>,
        settings: &CampaignSettings,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Campaign>> {
        let filter = doc! { "_id": id.as_str(), "status": { "$nin": ["completed", "canceled"] } };
        let description = description.map_or(Bson::Null, |d| Bson::String(d.to_owned()));
        let set = doc! { "$set": {
            "name": literal(Bson::String(name.to_owned())),
            "description": literal(description),
            "settings": literal(Bson::String(settings_json(settings)?)),
            "updatedAt": bson_time(at),
        } };
        self.campaign_update(filter, vec![set]).await
    }

    async fn set_status(
        &self,
        id: &CampaignId,
        from: &[CampaignStatus],
        to: CampaignStatus,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Campaign>> {
        if from.is_empty() {
            return Ok(None);
        }
        let at = bson_time(at);
        let started: Bson = if to == CampaignStatus::Running {
            doc! { "$ifNull": ["$startedAt", at] }.into()
        } else {
            "$startedAt".into()
        };
        let finished: Bson = if to.is_final() { at.into() } else { "$finishedAt".into() };
        let reason = reason.map_or(Bson::Null, |r| Bson::String(r.to_owned()));
        let set = doc! { "$set": {
            "status": to.as_str(),
            "statusReason": literal(reason),
            "updatedAt": at,
            "startedAt": started,
            "finishedAt": finished,
        } };
        let filter = doc! { "_id": id.as_str(), "status": { "$in": statuses(from) } };
        self.campaign_update(filter, vec![set]).await
    }

    async fn complete_if_drained(&self, id: &CampaignId, at: DateTime<Utc>) -> StoreResult<Option<Campaign>> {
        if self.unfinished_members(id).await? > 0 {
            return Ok(None);
        }
        let running = [CampaignStatus::Running];
        let Some(done) = self.set_status(id, &running, CampaignStatus::Completed, None, at).await? else {
            return Ok(None);
        };
        // Members added between the count and the write: reopen (see the module docs).
        if self.unfinished_members(id).await? > 0 {
            self.set_status(id, &[CampaignStatus::Completed], CampaignStatus::Running, None, at).await?;
            return Ok(None);
        }
        Ok(Some(done))
    }

    async fn delete_campaign(&self, id: &CampaignId) -> StoreResult<bool> {
        let r = deadline(self.typed::<Document>(CAMPAIGNS).delete_one(doc! { "_id": id.as_str() })).await?;
        deadline(self.typed::<Document>(MEMBERS).delete_many(doc! { "campaignId": id.as_str() })).await?;
        deadline(self.typed::<Document>(ATTEMPTS).delete_many(doc! { "campaignId": id.as_str() })).await?;
        Ok(r.deleted_count == 1)
    }
}
