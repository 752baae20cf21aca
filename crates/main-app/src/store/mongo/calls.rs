//! [`CallStore`] on MongoDB: the `calls`, `call_events` and `once` collections (migration 1).
//! Each conditional write is one single-document operation (see the module docs of `mongo`).

use async_trait::async_trait;
use futures_util::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;

use super::calls_codec::{CallDoc, EventDoc, bson_time, to_bson};
use super::{MongoStore, deadline, insert_unless_duplicate, is_duplicate_key};
use crate::calls::model::{Call, CallEvent, CallFilter, Page, Paged, SetOnce, StatusUpdate};
use crate::calls::store::{CallStore, Inserted};
use crate::store::{MAX_PAGE, StoreError, StoreResult, now_ms};
use common::call::{CallStatus, Outcome};
use common::ids::{CallId, CallSid};

/// `statusRank` of the terminal statuses (`CallStatus::rank`).
const TERMINAL_RANK: i32 = 4;

/// `{$literal: v}`: a value a pipeline stage must not interpret (a string starting with `$` would
/// otherwise be read as a field path, a document key starting with `$` as an operator).
fn literal(v: Bson) -> Bson {
    Bson::Document(doc! { "$literal": v })
}

/// The `$set` stage of a set-once pipeline, or `None` when no field is given.
fn set_once_stage(fields: &SetOnce) -> StoreResult<Option<Document>> {
    let mut given: Vec<(&str, Bson)> = Vec::new();
    if let Some(v) = &fields.call_sid {
        given.push(("callSid", to_bson(v)?));
    }
    if let Some(v) = &fields.conversation_id {
        given.push(("conversationId", to_bson(v)?));
    }
    if let Some(v) = &fields.stream_sid {
        given.push(("streamSid", to_bson(v)?));
    }
    if let Some(v) = &fields.answered_by {
        given.push(("answeredBy", to_bson(v)?));
    }
    if let Some(v) = fields.twilio_duration_secs {
        given.push(("twilioDurationSecs", Bson::Int64(i64::from(v))));
    }
    if let Some(v) = &fields.terminated_by {
        given.push(("terminatedBy", to_bson(v)?));
    }
    if let Some(v) = &fields.error {
        given.push(("error", to_bson(v)?));
    }
    if given.is_empty() {
        return Ok(None);
    }
    let mut set = Document::new();
    let mut empty_checks = Vec::new();
    for (field, value) in given {
        let path = format!("${field}");
        // `$ifNull` turns a missing field into null, so `$eq` sees it as empty.
        empty_checks.push(Bson::Document(doc! { "$eq": [{ "$ifNull": [&path, Bson::Null] }, Bson::Null] }));
        set.insert(field, doc! { "$ifNull": [path, literal(value)] });
    }
    // Expressions in one `$set` stage all see the document as it was before the stage.
    let now = bson_time(now_ms());
    set.insert("updatedAt", doc! { "$cond": [{ "$or": empty_checks }, now, "$updatedAt"] });
    Ok(Some(doc! { "$set": set }))
}

/// The query document of a [`CallFilter`].
fn filter_doc(filter: &CallFilter) -> Document {
    let mut q = Document::new();
    if !filter.statuses.is_empty() {
        let values: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
        q.insert("status", doc! { "$in": values });
    }
    if !filter.outcomes.is_empty() {
        let values: Vec<&str> = filter.outcomes.iter().map(|o| o.as_str()).collect();
        q.insert("outcome", doc! { "$in": values });
    }
    if let Some(phone) = &filter.phone {
        q.insert("to", doc! { "$regex": regex_escape(phone) });
    }
    if let Some(c) = &filter.campaign_id {
        q.insert("campaignId", c.as_str());
    }
    if let Some(c) = &filter.contact_id {
        q.insert("contactId", c.as_str());
    }
    let mut created = Document::new();
    if let Some(t) = filter.created_from {
        created.insert("$gte", bson_time(t));
    }
    if let Some(t) = filter.created_to {
        created.insert("$lt", bson_time(t));
    }
    if !created.is_empty() {
        q.insert("createdAt", created);
    }
    q
}

/// `s` as a regular expression matching itself literally ("contains").
fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for ch in s.chars() {
        if "\\^$.|?*+()[]{}/-".contains(ch) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl MongoStore {
    async fn find_calls(
        &self,
        filter: Document,
        sort: Document,
        skip: u64,
        limit: u64,
    ) -> StoreResult<Vec<Call>> {
        if limit == 0 {
            return Ok(Vec::new()); // MongoDB reads limit 0 as "no limit".
        }
        let cursor = deadline(self.calls.find(filter).sort(sort).skip(skip).limit(to_i64(limit))).await?;
        let docs: Vec<CallDoc> = deadline(cursor.try_collect()).await?;
        docs.into_iter().map(CallDoc::into_call).collect()
    }

    async fn find_one_call(&self, filter: Document) -> StoreResult<Option<Call>> {
        deadline(self.calls.find_one(filter)).await?.map(CallDoc::into_call).transpose()
    }

    async fn update_returning(&self, filter: Document, pipeline: Vec<Document>) -> StoreResult<Option<Call>> {
        let op = self.calls.find_one_and_update(filter, pipeline).return_document(ReturnDocument::After);
        deadline(op).await?.map(CallDoc::into_call).transpose()
    }
}

#[async_trait]
impl CallStore for MongoStore {
    async fn insert_call(&self, call: &Call) -> StoreResult<Inserted> {
        let stored = CallDoc::from_call(call);
        match tokio::time::timeout(super::OP_TIMEOUT, self.calls.insert_one(&stored)).await {
            Ok(Ok(_)) => Ok(Inserted::New(stored.into_call()?)),
            Ok(Err(e)) if is_duplicate_key(&e) => match &call.idempotency_key {
                // The key's index refused it (or another index did: then no call has the key and
                // the duplicate is reported as an error).
                Some(key) => match self.find_one_call(doc! { "idempotencyKey": key }).await? {
                    Some(existing) => Ok(Inserted::Existing(existing)),
                    None => Err(super::backend(e)),
                },
                None => Err(super::backend(e)),
            },
            Ok(Err(e)) => Err(super::backend(e)),
            Err(_) => Err(StoreError::Backend("mongodb: insert_call timed out".into())),
        }
    }

    async fn get_call(&self, id: &CallId) -> StoreResult<Option<Call>> {
        self.find_one_call(doc! { "_id": id.as_str() }).await
    }

    async fn get_call_by_sid(&self, sid: &CallSid) -> StoreResult<Option<Call>> {
        self.find_one_call(doc! { "callSid": sid.as_str() }).await
    }

    async fn list_calls(&self, filter: &CallFilter, page: Page) -> StoreResult<Paged<Call>> {
        let limit = page.limit.min(MAX_PAGE);
        let query = filter_doc(filter);
        let total = deadline(self.calls.count_documents(query.clone())).await?;
        let items = self.find_calls(query, doc! { "createdAt": -1, "_id": -1 }, page.offset, limit).await?;
        Ok(Paged { items, total, offset: page.offset, limit })
    }

    async fn list_unfinished_calls(&self) -> StoreResult<Vec<Call>> {
        let query = doc! { "statusRank": { "$lt": TERMINAL_RANK } };
        self.find_calls(query, doc! { "createdAt": 1, "_id": 1 }, 0, u64::MAX).await
    }

    async fn advance_status(&self, id: &CallId, update: &StatusUpdate) -> StoreResult<Option<Call>> {
        let status: CallStatus = update.status;
        let rank = i32::from(status.rank());
        let at = bson_time(update.at);
        let mut set = doc! {
            "status": literal(to_bson(&status)?),
            "statusRank": rank,
            "updatedAt": bson_time(now_ms()),
        };
        if status == CallStatus::InProgress {
            set.insert("answeredAt", doc! { "$ifNull": ["$answeredAt", at] });
        }
        if status.is_terminal() {
            set.insert("endedAt", doc! { "$ifNull": ["$endedAt", at] });
        }
        let filter = doc! { "_id": id.as_str(), "statusRank": { "$lt": rank } };
        self.update_returning(filter, vec![doc! { "$set": set }]).await
    }

    async fn set_once(&self, id: &CallId, fields: &SetOnce) -> StoreResult<Option<Call>> {
        match set_once_stage(fields)? {
            Some(stage) => self.update_returning(doc! { "_id": id.as_str() }, vec![stage]).await,
            None => self.get_call(id).await,
        }
    }

    async fn set_outcome(&self, id: &CallId, outcome: Outcome) -> StoreResult<bool> {
        let update = doc! { "$set": { "outcome": outcome.as_str(), "updatedAt": bson_time(now_ms()) } };
        let result = deadline(self.calls.update_one(doc! { "_id": id.as_str() }, update)).await?;
        Ok(result.matched_count > 0)
    }

    async fn append_event(&self, event: &CallEvent) -> StoreResult<bool> {
        insert_unless_duplicate(self.events.insert_one(EventDoc::from_event(event))).await
    }

    async fn list_events(&self, call_id: &CallId, limit: u64) -> StoreResult<Vec<CallEvent>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let find = self
            .events
            .find(doc! { "callId": call_id.as_str() })
            .sort(doc! { "at": 1, "_id": 1 })
            .limit(to_i64(limit));
        let docs: Vec<EventDoc> = deadline(deadline(find).await?.try_collect()).await?;
        docs.into_iter().map(EventDoc::into_event).collect()
    }

    async fn mark_once(&self, key: &str) -> StoreResult<bool> {
        insert_unless_duplicate(self.once.insert_one(doc! { "_id": key, "createdAt": bson_time(now_ms()) }))
            .await
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn regex_escape_matches_literally() {
        assert_eq!(regex_escape("+1 (415).*"), "\\+1 \\(415\\)\\.\\*");
        assert_eq!(regex_escape("61412"), "61412");
    }

    #[test]
    fn terminal_rank_matches_call_status() {
        for s in CallStatus::ALL {
            assert_eq!(s.is_terminal(), i32::from(s.rank()) >= TERMINAL_RANK, "{s}");
        }
    }
}
