//! [`StatsStore`] on MongoDB: one aggregation over `calls` (indexed by `createdAt`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::bson::{Bson, DateTime as BsonDateTime, Document, doc};

use super::{MongoStore, backend};
use crate::stats::store::{CallStats, StatsStore};
use crate::store::StoreResult;

fn count(d: &Document, key: &str) -> u64 {
    match d.get(key) {
        Some(Bson::Int32(n)) => u64::try_from(*n).unwrap_or(0),
        Some(Bson::Int64(n)) => u64::try_from(*n).unwrap_or(0),
        Some(Bson::Double(n)) if *n >= 0.0 => *n as u64,
        _ => 0,
    }
}

#[async_trait]
impl StatsStore for MongoStore {
    async fn call_stats(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<CallStats> {
        let answered = doc! { "$gt": ["$answeredAt", Bson::Null] };
        let timed = doc! { "$and": [answered.clone(), { "$gt": ["$twilioDurationSecs", Bson::Null] }] };
        let pipeline = vec![
            doc! { "$match": { "createdAt": {
            "$gte": BsonDateTime::from_millis(from.timestamp_millis()), "$lt": BsonDateTime::from_millis(to.timestamp_millis()) } } },
            doc! { "$group": {
                "_id": { "status": "$status", "outcome": "$outcome" },
                "n": { "$sum": 1 },
                "answered": { "$sum": { "$cond": [answered, 1, 0] } },
                "secs": { "$sum": { "$cond": [timed.clone(), "$twilioDurationSecs", 0] } },
                "timed": { "$sum": { "$cond": [timed, 1, 0] } },
            } },
        ];
        let groups: Vec<Document> =
            self.calls.aggregate(pipeline).await.map_err(backend)?.try_collect().await.map_err(backend)?;
        let mut stats = CallStats::default();
        for g in groups {
            let n = count(&g, "n");
            let id = g.get_document("_id").cloned().unwrap_or_default();
            stats.total += n;
            if let Ok(status) = id.get_str("status") {
                *stats.by_status.entry(status.to_owned()).or_default() += n;
            }
            if let Ok(outcome) = id.get_str("outcome") {
                *stats.by_outcome.entry(outcome.to_owned()).or_default() += n;
            }
            stats.answered += count(&g, "answered");
            stats.duration_total_secs += count(&g, "secs");
            stats.duration_count += count(&g, "timed");
        }
        Ok(stats)
    }
}
