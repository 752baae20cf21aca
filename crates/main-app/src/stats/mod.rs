//! `GET /api/stats/overview?tz=<IANA zone>`: the overview's figures for today and the last 7
//! days (both in the operator's time zone), from store aggregates, plus the live call count.

pub mod store;

use axum::Json;
use axum::extract::{Query, State};
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use store::CallStats;

/// Query.
#[derive(Debug, Deserialize)]
pub struct OverviewQuery {
    /// IANA time zone the periods are counted in (default UTC).
    tz: Option<String>,
}

/// Figures of one period.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Period {
    /// Start (inclusive).
    pub from: DateTime<Utc>,
    /// End (exclusive).
    pub to: DateTime<Utc>,
    /// Calls created.
    pub total: u64,
    /// Calls answered (by a person or a machine).
    pub answered: u64,
    /// `answered / finished calls` (calls that are still queued or ringing are not counted),
    /// `None` when no call has finished.
    pub answer_rate: Option<f64>,
    /// Calls with outcome `conversation_held`.
    pub conversations: u64,
    /// Calls with outcome `voicemail`.
    pub voicemail: u64,
    /// Calls with outcome `no_answer`.
    pub no_answer: u64,
    /// Calls with outcome `failed`.
    pub failed: u64,
    /// Mean of Twilio's duration over answered calls, `None` without any.
    pub average_duration_secs: Option<f64>,
    /// Count per status.
    pub by_status: BTreeMap<String, u64>,
    /// Count per outcome.
    pub by_outcome: BTreeMap<String, u64>,
}

/// Response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    /// When it was computed.
    pub generated_at: DateTime<Utc>,
    /// The time zone used.
    pub time_zone: String,
    /// Calls live now.
    pub live_now: usize,
    /// `today` and `last7Days`.
    pub periods: BTreeMap<&'static str, Period>,
}

fn period(from: DateTime<Utc>, to: DateTime<Utc>, s: CallStats) -> Period {
    let get = |k: &str| s.by_outcome.get(k).copied().unwrap_or(0);
    let unfinished: u64 =
        ["queued", "initiated", "ringing"].iter().map(|k| s.by_status.get(*k).copied().unwrap_or(0)).sum();
    let finished = s.total.saturating_sub(unfinished);
    Period {
        from,
        to,
        total: s.total,
        answered: s.answered,
        answer_rate: (finished > 0).then(|| s.answered as f64 / finished as f64),
        conversations: get("conversation_held"),
        voicemail: get("voicemail"),
        no_answer: get("no_answer"),
        failed: get("failed"),
        average_duration_secs: (s.duration_count > 0)
            .then(|| s.duration_total_secs as f64 / s.duration_count as f64),
        by_status: s.by_status,
        by_outcome: s.by_outcome,
    }
}

/// The first instant of `date` in `tz` (midnight, or the first valid time on a DST gap day).
pub fn start_of_day(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&midnight).earliest() {
        Some(t) => t.with_timezone(&Utc),
        // Midnight skipped by a DST change: the day starts an hour later.
        None => tz
            .from_local_datetime(&(midnight + chrono::Duration::hours(1)))
            .earliest()
            .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc)),
    }
}

/// `GET /api/stats/overview`.
pub async fn overview(
    State(state): State<AppState>,
    Query(q): Query<OverviewQuery>,
) -> ApiResult<Json<Overview>> {
    let tz: Tz = match q.tz.as_deref().filter(|t| !t.is_empty()) {
        None => Tz::UTC,
        Some(name) => {
            name.parse().map_err(|_| ApiError::invalid("tz", format!("unknown time zone {name:?}")))?
        }
    };
    let now = Utc::now();
    let today = now.with_timezone(&tz).date_naive();
    let today_start = start_of_day(tz, today);
    let week_start = start_of_day(tz, today.checked_sub_days(Days::new(6)).unwrap_or(today));
    let (day, week) =
        tokio::try_join!(state.store.call_stats(today_start, now), state.store.call_stats(week_start, now))?;
    let mut periods = BTreeMap::new();
    periods.insert("today", period(today_start, now, day));
    periods.insert("last7Days", period(week_start, now, week));
    Ok(Json(Overview {
        generated_at: now,
        time_zone: tz.name().to_owned(),
        live_now: state.live.len(),
        periods,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_start_at_local_midnight_even_across_dst() {
        let sydney: Tz = "Australia/Sydney".parse().expect("zone");
        // 2026-10-04: clocks go forward at 02:00 in Sydney; midnight exists (UTC+10 until then).
        let d = NaiveDate::from_ymd_opt(2026, 10, 4).expect("date");
        assert_eq!(start_of_day(sydney, d).to_rfc3339(), "2026-10-03T14:00:00+00:00");
        let d = NaiveDate::from_ymd_opt(2026, 10, 5).expect("date");
        assert_eq!(start_of_day(sydney, d).to_rfc3339(), "2026-10-04T13:00:00+00:00");
        // Santiago skips midnight on its DST start (2026-09-06): the day starts at 01:00.
        let santiago: Tz = "America/Santiago".parse().expect("zone");
        let d = NaiveDate::from_ymd_opt(2026, 9, 6).expect("date");
        assert_eq!(start_of_day(santiago, d).to_rfc3339(), "2026-09-06T04:00:00+00:00");
    }

    #[test]
    fn rates_count_only_finished_calls() {
        let mut s = CallStats { total: 4, answered: 1, ..Default::default() };
        s.by_status.insert("ringing".into(), 2);
        s.by_status.insert("completed".into(), 1);
        s.by_status.insert("busy".into(), 1);
        let p = period(Utc::now(), Utc::now(), s);
        assert_eq!(p.answer_rate, Some(0.5));
        assert_eq!(p.average_duration_secs, None);
    }
}
