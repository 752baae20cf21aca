//! Calls-per-second pacing: a token bucket per campaign (per instance) that halves its rate
//! when Twilio answers 429 and climbs back slowly once the 429s stop.
//!
//! Pure: time is passed in, so tests drive it without sleeping. The bucket holds at most one
//! second's worth of tokens (at least one), so a campaign that was idle does not burst.

use chrono::{DateTime, Duration, Utc};

use super::settings_model::MIN_CPS;

/// After a 429, the rate stays reduced at least this long.
pub const RECOVER_AFTER: Duration = Duration::seconds(30);
/// Then it grows by [`RECOVER_FACTOR`] at most this often, up to the configured rate.
pub const RECOVER_EVERY: Duration = Duration::seconds(10);
/// Growth per recovery step.
pub const RECOVER_FACTOR: f64 = 1.25;

/// One campaign's pacing state.
#[derive(Debug, Clone, PartialEq)]
pub struct Pacer {
    configured: f64,
    rate: f64,
    tokens: f64,
    last_refill: Option<DateTime<Utc>>,
    last_limited: Option<DateTime<Utc>>,
    last_step: Option<DateTime<Utc>>,
}

impl Pacer {
    /// A full bucket at `cps`.
    pub fn new(cps: f64) -> Self {
        let cps = cps.max(MIN_CPS);
        Self {
            configured: cps,
            rate: cps,
            tokens: cps.max(1.0),
            last_refill: None,
            last_limited: None,
            last_step: None,
        }
    }

    /// The rate now in force.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Applies an edited setting (the current reduction, if any, is kept below it).
    pub fn configure(&mut self, cps: f64) {
        let cps = cps.max(MIN_CPS);
        if (cps - self.configured).abs() > f64::EPSILON {
            self.configured = cps;
            self.rate = self.rate.min(cps);
            if self.last_limited.is_none() {
                self.rate = cps;
            }
        }
    }

    fn capacity(&self) -> f64 {
        self.rate.max(1.0)
    }

    fn refill(&mut self, now: DateTime<Utc>) {
        if let Some(limited) = self.last_limited
            && now - limited >= RECOVER_AFTER
            && self.last_step.is_none_or(|s| now - s >= RECOVER_EVERY)
        {
            self.rate = (self.rate * RECOVER_FACTOR).min(self.configured);
            self.last_step = Some(now);
            if self.rate >= self.configured {
                self.last_limited = None;
                self.last_step = None;
            }
        }
        if let Some(last) = self.last_refill {
            let secs = (now - last).num_milliseconds().max(0) as f64 / 1000.0;
            self.tokens = (self.tokens + secs * self.rate).min(self.capacity());
        }
        self.last_refill = Some(now);
    }

    /// Takes a token for one dial at `now`, if one is available.
    pub fn try_take(&mut self, now: DateTime<Utc>) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Gives back a token taken for a dial that did not happen.
    pub fn give_back(&mut self) {
        self.tokens = (self.tokens + 1.0).min(self.capacity());
    }

    /// Twilio answered 429: halve the rate (not below the minimum; at most once per second, so
    /// a burst of refusals of dials sent together counts once) and empty the bucket.
    pub fn rate_limited(&mut self, now: DateTime<Utc>) {
        if self.last_limited.is_none_or(|l| now - l >= Duration::seconds(1)) {
            self.rate = (self.rate / 2.0).max(MIN_CPS);
        }
        self.tokens = 0.0;
        self.last_limited = Some(now);
        self.last_step = None;
        self.last_refill = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(ms: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(1_750_000_000_000 + ms).single().expect("time")
    }

    /// Dials granted when asking every 10 ms from `from` to `to`.
    fn granted(p: &mut Pacer, from: i64, to: i64) -> usize {
        (from..to).step_by(10).filter(|ms| p.try_take(t(*ms))).count()
    }

    #[test]
    fn the_rate_is_respected_without_bursts() {
        let mut p = Pacer::new(2.0);
        // Capacity 2 tokens, starting full; 10 s at 2/s adds 20.
        let n = granted(&mut p, 0, 10_000);
        assert!((21..=22).contains(&n), "{n}");
        let mut slow = Pacer::new(0.2);
        assert_eq!(granted(&mut slow, 0, 10_000), 2, "one at once, one after 5 s");
    }

    #[test]
    fn a_429_halves_the_rate_and_it_recovers_slowly() {
        let mut p = Pacer::new(4.0);
        p.rate_limited(t(0));
        assert_eq!(p.rate(), 2.0);
        assert!(!p.try_take(t(0)), "the bucket is emptied");
        p.rate_limited(t(100));
        assert_eq!(p.rate(), 2.0, "refusals of one burst count once");
        p.rate_limited(t(1_100));
        assert_eq!(p.rate(), 1.0);
        // No recovery before RECOVER_AFTER.
        let _ = p.try_take(t(30_000));
        assert_eq!(p.rate(), 1.0);
        // Then one step per RECOVER_EVERY.
        let _ = p.try_take(t(31_200));
        assert_eq!(p.rate(), 1.25);
        let _ = p.try_take(t(36_000));
        assert_eq!(p.rate(), 1.25, "steps are RECOVER_EVERY apart");
        for s in 1..=10 {
            let _ = p.try_take(t(31_200 + s * 10_000));
        }
        assert_eq!(p.rate(), 4.0, "back to the configured rate, never above");
    }

    #[test]
    fn the_rate_never_drops_below_the_minimum_and_settings_apply() {
        let mut p = Pacer::new(0.02);
        for i in 0..10 {
            p.rate_limited(t(i * 1000));
        }
        assert_eq!(p.rate(), MIN_CPS);
        let mut q = Pacer::new(1.0);
        q.configure(5.0);
        assert_eq!(q.rate(), 5.0);
        q.rate_limited(t(0));
        q.configure(10.0);
        assert_eq!(q.rate(), 2.5, "a reduction survives an edit");
        q.give_back();
        assert!(q.try_take(t(0)));
    }
}
