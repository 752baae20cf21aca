//! [`ContactStore`] on MongoDB: `contacts` (unique `phone`). An import batch reads the existing
//! contacts of its numbers, inserts the new ones in one unordered `insert_many`, and replaces
//! the merged existing ones one by one; a number inserted concurrently by another import (a
//! duplicate-key refusal) is merged on a second pass.

use async_trait::async_trait;
use mongodb::bson::{Bson, Document, doc};
use mongodb::error::{ErrorKind, InsertManyError};
use std::collections::HashMap;

use super::codec::ContactDoc;
use super::timed_out;
use super::{CONTACTS, all, regex_literal};
use crate::calls::model::{Page, Paged};
use crate::contacts::model::{Contact, ContactFilter, ContactInsert, ContactUpdate, Upserted};
use crate::contacts::store::ContactStore;
use crate::store::mongo::{MongoStore, backend, deadline, insert_unless_duplicate};
use crate::store::{MAX_PAGE, StoreError, StoreResult};
use common::ids::ContactId;
use common::phone::PhoneNumber;

fn filter_doc(f: &ContactFilter) -> Document {
    let mut q = Document::new();
    if let Some(s) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.insert("search", doc! { "$regex": regex_literal(&s.to_lowercase()) });
    }
    if let Some(tag) = &f.tag {
        q.insert("tags", tag.as_str());
    }
    q
}

fn ids_bson(ids: &[ContactId]) -> Vec<Bson> {
    ids.iter().map(|i| Bson::String(i.to_string())).collect()
}

impl MongoStore {
    async fn contacts_where(&self, filter: Document) -> StoreResult<Vec<Contact>> {
        let docs = all(deadline(self.typed::<ContactDoc>(CONTACTS).find(filter)).await?).await?;
        docs.into_iter().map(ContactDoc::into_contact).collect()
    }

    async fn by_phones(&self, phones: &[&str]) -> StoreResult<Vec<Contact>> {
        self.contacts_where(doc! { "phone": { "$in": phones } }).await
    }

    /// Inserts new contacts; returns the numbers refused as duplicates (inserted meanwhile).
    async fn insert_new(&self, fresh: &[&Contact]) -> StoreResult<Vec<String>> {
        if fresh.is_empty() {
            return Ok(Vec::new());
        }
        let docs = fresh.iter().map(|c| ContactDoc::from_contact(c)).collect::<StoreResult<Vec<_>>>()?;
        let coll = self.typed::<ContactDoc>(CONTACTS);
        let op = coll.insert_many(docs).ordered(false);
        match tokio::time::timeout(crate::store::mongo::OP_TIMEOUT, op).await {
            Ok(Ok(_)) => Ok(Vec::new()),
            Ok(Err(e)) => match *e.kind {
                ErrorKind::InsertMany(InsertManyError { write_errors: Some(ref errors), .. })
                    if errors.iter().all(|w| w.code == 11000) =>
                {
                    Ok(errors
                        .iter()
                        .filter_map(|w| fresh.get(w.index))
                        .map(|c| c.phone.to_string())
                        .collect())
                }
                _ => Err(backend(e)),
            },
            Err(_) => Err(timed_out()),
        }
    }

    async fn replace(&self, c: &Contact) -> StoreResult<bool> {
        let d = ContactDoc::from_contact(c)?;
        let r = deadline(self.typed::<ContactDoc>(CONTACTS).replace_one(doc! { "_id": c.id.as_str() }, d))
            .await?;
        Ok(r.matched_count == 1)
    }
}

#[async_trait]
impl ContactStore for MongoStore {
    async fn insert_contact(&self, contact: &Contact) -> StoreResult<ContactInsert> {
        let d = ContactDoc::from_contact(contact)?;
        if insert_unless_duplicate(self.typed::<ContactDoc>(CONTACTS).insert_one(d)).await? {
            return Ok(ContactInsert::New(Box::new(contact.clone())));
        }
        match self.by_phones(&[contact.phone.as_str()]).await?.into_iter().next() {
            Some(other) => Ok(ContactInsert::PhoneTaken(other.id)),
            None => Err(StoreError::Backend("mongodb: duplicate contact id".into())),
        }
    }

    async fn get_contact(&self, id: &ContactId) -> StoreResult<Option<Contact>> {
        Ok(self.contacts_where(doc! { "_id": id.as_str() }).await?.into_iter().next())
    }

    async fn get_contacts(&self, ids: &[ContactId]) -> StoreResult<Vec<Contact>> {
        self.contacts_where(doc! { "_id": { "$in": ids_bson(ids) } }).await
    }

    async fn update_contact(&self, contact: &Contact) -> StoreResult<ContactUpdate> {
        let d = ContactDoc::from_contact(contact)?;
        let coll = self.typed::<ContactDoc>(CONTACTS);
        match tokio::time::timeout(
            crate::store::mongo::OP_TIMEOUT,
            coll.replace_one(doc! { "_id": contact.id.as_str() }, d),
        )
        .await
        {
            Ok(Ok(r)) if r.matched_count == 0 => Ok(ContactUpdate::NotFound),
            Ok(Ok(_)) => Ok(self
                .get_contact(&contact.id)
                .await?
                .map_or(ContactUpdate::NotFound, |c| ContactUpdate::Updated(Box::new(c)))),
            Ok(Err(e)) if crate::store::mongo::is_duplicate_key(&e) => {
                match self.by_phones(&[contact.phone.as_str()]).await?.into_iter().next() {
                    Some(other) => Ok(ContactUpdate::PhoneTaken(other.id)),
                    None => Err(backend(e)),
                }
            }
            Ok(Err(e)) => Err(backend(e)),
            Err(_) => Err(timed_out()),
        }
    }

    async fn delete_contacts(&self, ids: &[ContactId]) -> StoreResult<u64> {
        let filter = doc! { "_id": { "$in": ids_bson(ids) } };
        Ok(deadline(self.typed::<Document>(CONTACTS).delete_many(filter)).await?.deleted_count)
    }

    async fn list_contacts(&self, filter: &ContactFilter, page: Page) -> StoreResult<Paged<Contact>> {
        let q = filter_doc(filter);
        let limit = page.limit.clamp(1, MAX_PAGE);
        let coll = self.typed::<ContactDoc>(CONTACTS);
        let total = deadline(coll.count_documents(q.clone())).await?;
        let find = coll
            .find(q)
            .sort(doc! { "createdAt": -1, "_id": -1 })
            .skip(page.offset)
            .limit(i64::try_from(limit).unwrap_or(i64::MAX));
        let items = all(deadline(find).await?)
            .await?
            .into_iter()
            .map(ContactDoc::into_contact)
            .collect::<StoreResult<_>>()?;
        Ok(Paged { items, total, offset: page.offset, limit })
    }

    async fn contact_ids(&self, filter: &ContactFilter, limit: u64) -> StoreResult<Vec<ContactId>> {
        let coll = self.typed::<Document>(CONTACTS);
        let find = coll
            .find(filter_doc(filter))
            .projection(doc! { "_id": 1 })
            .sort(doc! { "createdAt": 1, "_id": 1 })
            .limit(i64::try_from(limit).unwrap_or(i64::MAX));
        all(deadline(find).await?)
            .await?
            .iter()
            .map(|d| {
                d.get_str("_id")
                    .ok()
                    .and_then(|s| ContactId::parse(s).ok())
                    .ok_or_else(|| StoreError::Corrupt("mongodb field contacts._id".into()))
            })
            .collect()
    }

    async fn contacts_by_phones(&self, phones: &[PhoneNumber]) -> StoreResult<Vec<Contact>> {
        self.by_phones(&phones.iter().map(PhoneNumber::as_str).collect::<Vec<_>>()).await
    }

    async fn upsert_contacts(&self, batch: &[Contact]) -> StoreResult<Vec<Upserted>> {
        let phones: Vec<&str> = batch.iter().map(|c| c.phone.as_str()).collect();
        let mut existing: HashMap<String, Contact> =
            self.by_phones(&phones).await?.into_iter().map(|c| (c.phone.to_string(), c)).collect();
        let fresh: Vec<&Contact> =
            batch.iter().filter(|c| !existing.contains_key(c.phone.as_str())).collect();
        let raced = self.insert_new(&fresh).await?;
        if !raced.is_empty() {
            let raced: Vec<&str> = raced.iter().map(String::as_str).collect();
            existing.extend(self.by_phones(&raced).await?.into_iter().map(|c| (c.phone.to_string(), c)));
        }
        let mut out = Vec::with_capacity(batch.len());
        for c in batch {
            match existing.get(c.phone.as_str()) {
                Some(old) if old.id != c.id => {
                    self.replace(&old.merged_with(c)).await?;
                    out.push(Upserted { id: old.id.clone(), created: false });
                }
                _ => out.push(Upserted { id: c.id.clone(), created: true }),
            }
        }
        Ok(out)
    }
}
