//! Calling windows, evaluated in a contact's own time zone.
//!
//! A window is a set of weekdays and a `[start, end)` time of day. [`next_opening`] answers "when
//! may this contact be called, at the earliest from `now`": `now` itself when a window is open,
//! otherwise the next opening, converted through the zone's rules for that very date (so a
//! daylight-saving change moves the UTC instant, not the local hour). A local time that does not
//! exist (skipped by a spring-forward change) opens at the first minute that exists after it; a
//! local time that exists twice (autumn) opens at its first occurrence.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::settings_model::{CallingWindow, LocalTime};

/// How far ahead an opening is searched (a week covers every weekly pattern).
const HORIZON_DAYS: i64 = 8;
/// Longest daylight-saving gap in the tz database is one hour (Lord Howe's is 30 min); three
/// hours of search is ample.
const MAX_GAP_MINUTES: i64 = 180;

/// The instant `time` on local `date` in `tz`, resolving gaps forward and overlaps to the first.
fn instant(tz: Tz, date: NaiveDate, time: LocalTime) -> Option<DateTime<Utc>> {
    let midnight: NaiveDateTime = date.and_hms_opt(0, 0, 0)?;
    let local = midnight + Duration::minutes(i64::from(time.0));
    for shift in 0..=MAX_GAP_MINUTES {
        match tz.from_local_datetime(&(local + Duration::minutes(shift))) {
            LocalResult::Single(t) => return Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(first, _) => return Some(first.with_timezone(&Utc)),
            LocalResult::None => continue,
        }
    }
    None
}

/// The earliest instant at or after `now` inside one of `windows`, in `tz`. With no windows,
/// `now`. `None` only if no window opens within the next week (a window with no days).
pub fn next_opening(windows: &[CallingWindow], tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if windows.is_empty() {
        return Some(now);
    }
    let today = now.with_timezone(&tz).date_naive();
    let mut best: Option<DateTime<Utc>> = None;
    for offset in -1..=HORIZON_DAYS {
        let date = today + Duration::days(offset);
        for w in windows.iter().filter(|w| w.days.iter().any(|d| d.weekday() == date.weekday())) {
            let (Some(open), Some(close)) = (instant(tz, date, w.start), instant(tz, date, w.end)) else {
                continue;
            };
            if now >= close || open >= close {
                continue;
            }
            let candidate = open.max(now);
            best = Some(best.map_or(candidate, |b| b.min(candidate)));
        }
        if best == Some(now) {
            break;
        }
    }
    best
}

/// True when a window is open at `now` in `tz` (always, with no windows).
pub fn is_open(windows: &[CallingWindow], tz: Tz, now: DateTime<Utc>) -> bool {
    next_opening(windows, tz, now) == Some(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaigns::settings_model::Day;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("test time").with_timezone(&Utc)
    }

    fn window(days: &[Day], start: &str, end: &str) -> CallingWindow {
        CallingWindow {
            days: days.to_vec(),
            start: LocalTime::parse(start).expect("start"),
            end: LocalTime::parse(end).expect("end"),
        }
    }

    const WEEKDAYS: [Day; 5] = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri];

    #[test]
    fn open_inside_and_next_opening_outside() {
        let w = [window(&WEEKDAYS, "09:00", "17:00")];
        let sydney = Tz::Australia__Sydney;
        // Tue 2025-06-10 10:00 AEST (UTC+10) = 00:00 UTC: open.
        assert!(is_open(&w, sydney, utc("2025-06-10T00:00:00Z")));
        // Tue 17:00 AEST: closed (end excluded); next is Wed 09:00 AEST = Tue 23:00 UTC.
        let at = utc("2025-06-10T07:00:00Z");
        assert!(!is_open(&w, sydney, at));
        assert_eq!(next_opening(&w, sydney, at), Some(utc("2025-06-10T23:00:00Z")));
        // Fri 18:00 AEST: next is Mon 09:00 AEST.
        assert_eq!(next_opening(&w, sydney, utc("2025-06-13T08:00:00Z")), Some(utc("2025-06-15T23:00:00Z")));
    }

    #[test]
    fn the_same_instant_is_open_in_one_zone_and_closed_in_another() {
        let w = [window(&WEEKDAYS, "09:00", "17:00")];
        let at = utc("2025-06-10T14:00:00Z"); // Tue: 15:00 in London, 00:00 Wed in Sydney.
        assert!(is_open(&w, Tz::Europe__London, at));
        assert!(!is_open(&w, Tz::Australia__Sydney, at));
        assert_eq!(next_opening(&w, Tz::Australia__Sydney, at), Some(utc("2025-06-10T23:00:00Z")));
        // New York: 10:00 EDT, open.
        assert!(is_open(&w, Tz::America__New_York, at));
    }

    #[test]
    fn daylight_saving_moves_the_utc_instant_not_the_local_hour() {
        let w = [window(&WEEKDAYS, "09:00", "17:00")];
        let sydney = Tz::Australia__Sydney;
        // Sydney leaves daylight saving on Sun 2025-04-06 (03:00 AEDT -> 02:00 AEST).
        // Fri 2025-04-04 09:00 AEDT (UTC+11) = Thu 22:00 UTC.
        assert_eq!(next_opening(&w, sydney, utc("2025-04-03T12:00:00Z")), Some(utc("2025-04-03T22:00:00Z")));
        // Mon 2025-04-07 09:00 AEST (UTC+10) = Sun 23:00 UTC, asked from Friday evening.
        assert_eq!(next_opening(&w, sydney, utc("2025-04-04T08:00:00Z")), Some(utc("2025-04-06T23:00:00Z")));
    }

    #[test]
    fn a_window_opening_in_a_spring_forward_gap_opens_when_the_clock_resumes() {
        // New York skips 02:00-03:00 on Sun 2025-03-09.
        let w = [window(&[Day::Sun], "02:30", "04:00")];
        let ny = Tz::America__New_York;
        // 03:00 EDT = 07:00 UTC.
        assert_eq!(next_opening(&w, ny, utc("2025-03-09T05:00:00Z")), Some(utc("2025-03-09T07:00:00Z")));
        // The window is one hour long that day: closed at 04:00 EDT = 08:00 UTC.
        assert!(is_open(&w, ny, utc("2025-03-09T07:59:00Z")));
        assert!(!is_open(&w, ny, utc("2025-03-09T08:00:00Z")));
    }

    #[test]
    fn an_autumn_overlap_opens_at_the_first_occurrence() {
        // New York repeats 01:00-02:00 on Sun 2025-11-02 (EDT then EST).
        let w = [window(&[Day::Sun], "01:30", "03:00")];
        let ny = Tz::America__New_York;
        // First 01:30 is EDT (UTC-4) = 05:30 UTC.
        assert_eq!(next_opening(&w, ny, utc("2025-11-02T03:00:00Z")), Some(utc("2025-11-02T05:30:00Z")));
    }

    #[test]
    fn several_windows_and_empty_lists() {
        let w = [window(&[Day::Sat], "10:00", "12:00"), window(&WEEKDAYS, "18:00", "20:00")];
        let london = Tz::Europe__London;
        // Fri 2025-06-13 13:00 BST: next is Fri 18:00 BST = 17:00 UTC.
        assert_eq!(next_opening(&w, london, utc("2025-06-13T12:00:00Z")), Some(utc("2025-06-13T17:00:00Z")));
        // Fri 21:00 BST: next is Sat 10:00 BST = 09:00 UTC.
        assert_eq!(next_opening(&w, london, utc("2025-06-13T20:00:00Z")), Some(utc("2025-06-14T09:00:00Z")));
        let now = utc("2025-06-13T20:00:00Z");
        assert_eq!(next_opening(&[], london, now), Some(now));
        assert_eq!(next_opening(&[window(&[], "09:00", "17:00")], london, now), None);
    }

    #[test]
    fn midnight_end_is_inclusive_of_the_last_minute() {
        let w = [window(&[Day::Tue], "22:00", "24:00")];
        assert!(is_open(&w, Tz::UTC, utc("2025-06-10T23:59:00Z")));
        assert!(!is_open(&w, Tz::UTC, utc("2025-06-11T00:00:00Z")));
    }
}
