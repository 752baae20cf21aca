//! [`RecordingStore`] on MongoDB: `recordings` (`_id` = RecordingSid), migration 3. The upsert
//! inserts a new sid, or updates a known one only when `statusRank` rises (one conditional
//! `update_one`), so a late callback never moves a recording backwards.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{Bson, Document, doc};

use super::{RECORDINGS, collect, corrupt, opt_bson_str, opt_str, opt_u32, time, to_i64};
use crate::calls::model::{Page, Paged};
use crate::recordings::model::{Recording, RecordingStatus};
use crate::recordings::store::RecordingStore;
use crate::store::mongo::calls_codec::bson_time;
use crate::store::mongo::{MongoStore, deadline, insert_unless_duplicate};
use crate::store::{MAX_PAGE, StoreError, StoreResult};
use common::ids::{CallId, CallSid};

fn to_doc(r: &Recording) -> Document {
    doc! {
        "_id": &r.sid,
        "callId": r.call_id.as_str(),
        "callSid": opt_bson_str(r.call_sid.as_ref().map(CallSid::as_str)),
        "status": r.status.as_str(),
        "statusRank": i32::from(r.status.rank()),
        "durationSecs": r.duration_secs.map_or(Bson::Null, |v| Bson::Int64(i64::from(v))),
        "channels": r.channels.map_or(Bson::Null, |v| Bson::Int64(i64::from(v))),
        "createdAt": bson_time(r.created_at),
        "updatedAt": bson_time(r.updated_at),
        "to": opt_bson_str(r.to.as_deref()),
        "name": opt_bson_str(r.name.as_deref()),
        "errorCode": opt_bson_str(r.error_code.as_deref()),
    }
}

fn from_doc(d: &Document) -> StoreResult<Recording> {
    let c = |f: &str| corrupt(RECORDINGS, f);
    Ok(Recording {
        sid: d.get_str("_id").map_err(|_| c("_id"))?.to_owned(),
        call_id: CallId::parse(d.get_str("callId").map_err(|_| c("callId"))?).map_err(|_| c("callId"))?,
        call_sid: opt_str(d, "callSid").map(|s| CallSid::parse(&s).map_err(|_| c("callSid"))).transpose()?,
        status: RecordingStatus::parse(d.get_str("status").map_err(|_| c("status"))?)
            .ok_or_else(|| c("status"))?,
        duration_secs: opt_u32(d, "durationSecs", RECORDINGS)?,
        channels: opt_u32(d, "channels", RECORDINGS)?,
        created_at: time(d, "createdAt", RECORDINGS)?,
        updated_at: time(d, "updatedAt", RECORDINGS)?,
        to: opt_str(d, "to"),
        name: opt_str(d, "name"),
        error_code: opt_str(d, "errorCode"),
    })
}

fn if_null(field: &str, value: Bson) -> Bson {
    Bson::Document(doc! { "$ifNull": [format!("${field}"), { "$literal": value }] })
}

impl MongoStore {
    async fn find_recordings(
        &self,
        filter: Document,
        sort: Document,
        skip: u64,
        limit: u64,
    ) -> StoreResult<Vec<Recording>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let coll = self.coll(RECORDINGS);
        let find = coll.find(filter).sort(sort).skip(skip).limit(to_i64(limit));
        collect(deadline(find).await?).await?.iter().map(from_doc).collect()
    }
}

#[async_trait]
impl RecordingStore for MongoStore {
    async fn upsert_recording(&self, recording: &Recording) -> StoreResult<Recording> {
        let fresh = to_doc(recording);
        if !insert_unless_duplicate(self.coll(RECORDINGS).insert_one(fresh.clone())).await? {
            let rank = i32::from(recording.status.rank());
            let get = |f: &str| fresh.get(f).cloned().unwrap_or(Bson::Null);
            let stage = doc! { "$set": {
                "status": recording.status.as_str(),
                "statusRank": rank,
                "durationSecs": if_null("durationSecs", get("durationSecs")),
                "channels": if_null("channels", get("channels")),
                "errorCode": if_null("errorCode", get("errorCode")),
                "updatedAt": bson_time(recording.updated_at),
            }};
            let filter = doc! { "_id": &recording.sid, "statusRank": { "$lt": rank } };
            deadline(self.coll(RECORDINGS).update_one(filter, vec![stage])).await?;
        }
        self.get_recording(&recording.sid)
            .await?
            .ok_or_else(|| StoreError::Backend("mongodb: upserted recording not found".into()))
    }

    async fn get_recording(&self, sid: &str) -> StoreResult<Option<Recording>> {
        deadline(self.coll(RECORDINGS).find_one(doc! { "_id": sid }))
            .await?
            .as_ref()
            .map(from_doc)
            .transpose()
    }

    async fn list_recordings(&self, page: Page) -> StoreResult<Paged<Recording>> {
        let limit = page.limit.min(MAX_PAGE);
        let filter = doc! { "status": { "$ne": "deleted" } };
        let total = deadline(self.coll(RECORDINGS).count_documents(filter.clone())).await?;
        let items =
            self.find_recordings(filter, doc! { "createdAt": -1, "_id": -1 }, page.offset, limit).await?;
        Ok(Paged { items, total, offset: page.offset, limit })
    }

    async fn list_call_recordings(&self, call_id: &CallId) -> StoreResult<Vec<Recording>> {
        let filter = doc! { "callId": call_id.as_str(), "status": { "$ne": "deleted" } };
        self.find_recordings(filter, doc! { "createdAt": 1, "_id": 1 }, 0, MAX_PAGE).await
    }

    async fn mark_recording_deleted(&self, sid: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let set = doc! { "$set": {
            "status": RecordingStatus::Deleted.as_str(),
            "statusRank": i32::from(RecordingStatus::Deleted.rank()),
            "updatedAt": bson_time(crate::store::truncate_ms(at)),
        }};
        let result = deadline(self.coll(RECORDINGS).update_one(doc! { "_id": sid }, set)).await?;
        Ok(result.matched_count == 1)
    }
}
