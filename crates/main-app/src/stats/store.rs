//! Aggregates over calls for the overview, computed by the store (never by paging through
//! calls in the application).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

use crate::store::StoreResult;

/// Counts over the calls created in a time range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Calls created in the range.
    pub total: u64,
    /// Count per telephony status (wire names).
    pub by_status: BTreeMap<String, u64>,
    /// Count per outcome (wire names) for calls that have one.
    pub by_outcome: BTreeMap<String, u64>,
    /// Calls that were answered (`answered_at` set).
    pub answered: u64,
    /// Sum of Twilio's duration over answered calls that report one.
    pub duration_total_secs: u64,
    /// How many answered calls report a duration.
    pub duration_count: u64,
}

/// Call aggregates.
#[async_trait]
pub trait StatsStore: Send + Sync {
    /// Counts over calls with `from <= created_at < to`.
    async fn call_stats(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<CallStats>;
}
