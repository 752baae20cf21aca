//! [`TranscriptStore`] on MongoDB: `transcript_lines` (`_id` = `<call id>:<index>`) and
//! `conversations` (`_id` = call id, unique `conversationId`), migrations 3 and 6. Recovery
//! bookkeeping (`recoveryAttempts`, `recoveryError`, `recoveryGivenUpAt`) is absent until the
//! first failed recovery.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{Bson, doc};
use mongodb::options::ReturnDocument;

use super::{CONVERSATIONS, TRANSCRIPT_LINES, collect, from_json, json, opt_str, opt_time, opt_u32, to_i64};
use crate::store::mongo::calls_codec::bson_time;
use crate::store::mongo::{MongoStore, deadline, insert_unless_duplicate};
use crate::store::{StoreError, StoreResult, now_ms};
use crate::transcripts::model::{PostCall, RecoveryState};
use crate::transcripts::store::TranscriptStore;
use common::events::TranscriptLine;
use common::ids::CallId;

fn call_id(raw: &str) -> StoreResult<CallId> {
    CallId::parse(raw).map_err(|_| StoreError::Corrupt(format!("mongodb field {CONVERSATIONS}._id")))
}

#[async_trait]
impl TranscriptStore for MongoStore {
    async fn upsert_live_line(&self, call_id: &CallId, line: &TranscriptLine) -> StoreResult<()> {
        let id = format!("{call_id}:{}", line.index);
        let set = doc! {
            "callId": call_id.as_str(),
            "idx": i64::from(line.index),
            "line": json(line)?,
            "updatedAt": bson_time(now_ms()),
        };
        let coll = self.coll(TRANSCRIPT_LINES);
        let op = coll.update_one(doc! { "_id": id }, doc! { "$set": set }).upsert(true);
        deadline(op).await.map(|_| ())
    }

    async fn live_lines(&self, call_id: &CallId) -> StoreResult<Vec<TranscriptLine>> {
        let coll = self.coll(TRANSCRIPT_LINES);
        let find = coll.find(doc! { "callId": call_id.as_str() }).sort(doc! { "idx": 1 });
        let docs = collect(deadline(find).await?).await?;
        docs.iter().map(|d| from_json(d, "line", TRANSCRIPT_LINES)).collect()
    }

    async fn link_conversation(&self, call_id: &CallId, conversation_id: &str) -> StoreResult<bool> {
        let record = doc! {
            "_id": call_id.as_str(),
            "conversationId": conversation_id,
            "linkedAt": bson_time(now_ms()),
        };
        insert_unless_duplicate(self.coll(CONVERSATIONS).insert_one(record)).await
    }

    async fn call_for_conversation(&self, conversation_id: &str) -> StoreResult<Option<CallId>> {
        let found =
            deadline(self.coll(CONVERSATIONS).find_one(doc! { "conversationId": conversation_id })).await?;
        found
            .map(|d| {
                d.get_str("_id")
                    .map_err(|_| StoreError::Corrupt("mongodb field conversations._id".into()))
                    .and_then(call_id)
            })
            .transpose()
    }

    async fn save_post_call(&self, call_id: &CallId, post_call: &PostCall) -> StoreResult<()> {
        let at = bson_time(post_call.received_at);
        let update = doc! {
            "$set": { "postCall": json(post_call)?, "postCallAt": at },
            "$setOnInsert": { "conversationId": &post_call.conversation_id, "linkedAt": at },
        };
        let coll = self.coll(CONVERSATIONS);
        let op = coll.update_one(doc! { "_id": call_id.as_str() }, update).upsert(true);
        deadline(op).await.map(|_| ())
    }

    async fn get_post_call(&self, call_id: &CallId) -> StoreResult<Option<PostCall>> {
        let found = deadline(self.coll(CONVERSATIONS).find_one(doc! { "_id": call_id.as_str() })).await?;
        match found {
            Some(d) if d.get_str("postCall").is_ok() => from_json(&d, "postCall", CONVERSATIONS).map(Some),
            _ => Ok(None),
        }
    }

    async fn conversations_missing_post_call(&self, limit: u64) -> StoreResult<Vec<(CallId, String)>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let coll = self.coll(CONVERSATIONS);
        let find = coll
            .find(doc! { "postCall": { "$exists": false }, "recoveryGivenUpAt": { "$exists": false } })
            .sort(doc! { "recoveryAttempts": 1, "linkedAt": 1, "_id": 1 })
            .limit(to_i64(limit));
        let docs = collect(deadline(find).await?).await?;
        docs.iter()
            .map(|d| {
                let id = d
                    .get_str("_id")
                    .map_err(|_| StoreError::Corrupt("mongodb field conversations._id".into()))?;
                let conv = d
                    .get_str("conversationId")
                    .map_err(|_| StoreError::Corrupt("mongodb field conversations.conversationId".into()))?;
                Ok((call_id(id)?, conv.to_owned()))
            })
            .collect()
    }

    async fn record_recovery_failure(
        &self,
        call_id: &CallId,
        error: &str,
        permanent: bool,
        max_attempts: u32,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let coll = self.coll(CONVERSATIONS);
        let counted = coll
            .find_one_and_update(
                doc! { "_id": call_id.as_str() },
                doc! { "$inc": { "recoveryAttempts": 1_i64 }, "$set": { "recoveryError": error } },
            )
            .return_document(ReturnDocument::After);
        let Some(d) = deadline(counted).await? else { return Ok(false) };
        if matches!(d.get("recoveryGivenUpAt"), Some(Bson::DateTime(_))) {
            return Ok(true);
        }
        let attempts = opt_u32(&d, "recoveryAttempts", CONVERSATIONS)?.unwrap_or(0);
        if !permanent && attempts < max_attempts {
            return Ok(false);
        }
        // A crash between the two writes only delays giving up to the next failure.
        let give_up = doc! { "$set": { "recoveryGivenUpAt": bson_time(crate::store::truncate_ms(at)) } };
        let filter = doc! { "_id": call_id.as_str(), "recoveryGivenUpAt": { "$exists": false } };
        deadline(coll.update_one(filter, give_up)).await?;
        Ok(true)
    }

    async fn recovery_state(&self, call_id: &CallId) -> StoreResult<Option<RecoveryState>> {
        let found = deadline(self.coll(CONVERSATIONS).find_one(doc! { "_id": call_id.as_str() })).await?;
        found
            .map(|d| {
                Ok(RecoveryState {
                    attempts: opt_u32(&d, "recoveryAttempts", CONVERSATIONS)?.unwrap_or(0),
                    last_error: opt_str(&d, "recoveryError"),
                    given_up_at: opt_time(&d, "recoveryGivenUpAt", CONVERSATIONS)?,
                })
            })
            .transpose()
    }
}
