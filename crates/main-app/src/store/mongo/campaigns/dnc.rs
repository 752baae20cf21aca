//! [`DncStore`] on MongoDB: `dnc`, keyed by number (`_id`).

use async_trait::async_trait;
use mongodb::bson::{Bson, doc};

use super::codec::DncDoc;
use super::{DNC, all, regex_literal};
use crate::calls::model::{Page, Paged};
use crate::contacts::model::DncEntry;
use crate::contacts::store::DncStore;
use crate::store::mongo::{MongoStore, deadline, insert_unless_duplicate};
use crate::store::{MAX_PAGE, StoreResult};
use common::phone::PhoneNumber;

#[async_trait]
impl DncStore for MongoStore {
    async fn add_dnc(&self, entry: &DncEntry) -> StoreResult<bool> {
        insert_unless_duplicate(self.typed::<DncDoc>(DNC).insert_one(DncDoc::from_entry(entry))).await
    }

    async fn remove_dnc(&self, phone: &PhoneNumber) -> StoreResult<bool> {
        let r = deadline(self.typed::<DncDoc>(DNC).delete_one(doc! { "_id": phone.as_str() })).await?;
        Ok(r.deleted_count == 1)
    }

    async fn get_dnc(&self, phone: &PhoneNumber) -> StoreResult<Option<DncEntry>> {
        deadline(self.typed::<DncDoc>(DNC).find_one(doc! { "_id": phone.as_str() }))
            .await?
            .map(DncDoc::into_entry)
            .transpose()
    }

    async fn dnc_among(&self, phones: &[PhoneNumber]) -> StoreResult<Vec<DncEntry>> {
        let list: Vec<Bson> = phones.iter().map(|p| Bson::String(p.to_string())).collect();
        let docs =
            all(deadline(self.typed::<DncDoc>(DNC).find(doc! { "_id": { "$in": list } })).await?).await?;
        docs.into_iter().map(DncDoc::into_entry).collect()
    }

    async fn list_dnc(&self, search: Option<&str>, page: Page) -> StoreResult<Paged<DncEntry>> {
        let q = match search.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => {
                let re = regex_literal(s);
                doc! { "$or": [ { "_id": { "$regex": &re } }, { "reason": { "$regex": &re, "$options": "i" } } ] }
            }
            None => doc! {},
        };
        let limit = page.limit.clamp(1, MAX_PAGE);
        let coll = self.typed::<DncDoc>(DNC);
        let total = deadline(coll.count_documents(q.clone())).await?;
        let find = coll
            .find(q)
            .sort(doc! { "createdAt": -1, "_id": -1 })
            .skip(page.offset)
            .limit(i64::try_from(limit).unwrap_or(i64::MAX));
        let items = all(deadline(find).await?)
            .await?
            .into_iter()
            .map(DncDoc::into_entry)
            .collect::<StoreResult<_>>()?;
        Ok(Paged { items, total, offset: page.offset, limit })
    }
}
