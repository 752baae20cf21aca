//! [`StatsStore`] on SQLite: grouped counts over `calls` (indexed by `created_at`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::calls_codec::millis;
use super::{SqliteStore, backend};
use crate::stats::store::{CallStats, StatsStore};
use crate::store::StoreResult;

#[async_trait]
impl StatsStore for SqliteStore {
    async fn call_stats(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<CallStats> {
        let (from, to) = (millis(from), millis(to));
        self.read(move |conn| {
            let mut stats = CallStats::default();
            let mut st = conn
                .prepare_cached(
                    "SELECT status, outcome, COUNT(*), COUNT(answered_at), \
                     COALESCE(SUM(CASE WHEN answered_at IS NOT NULL THEN twilio_duration_secs END), 0), \
                     COUNT(CASE WHEN answered_at IS NOT NULL THEN twilio_duration_secs END) \
                     FROM calls WHERE created_at >= ?1 AND created_at < ?2 GROUP BY status, outcome",
                )
                .map_err(backend)?;
            let rows = st
                .query_map([from, to], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, i64>(5)?,
                    ))
                })
                .map_err(backend)?;
            for row in rows {
                let (status, outcome, n, answered, secs, with_duration) = row.map_err(backend)?;
                let n = n.unsigned_abs();
                stats.total += n;
                *stats.by_status.entry(status).or_default() += n;
                if let Some(outcome) = outcome {
                    *stats.by_outcome.entry(outcome).or_default() += n;
                }
                stats.answered += answered.unsigned_abs();
                stats.duration_total_secs += secs.unsigned_abs();
                stats.duration_count += with_duration.unsigned_abs();
            }
            Ok(stats)
        })
        .await
    }
}
