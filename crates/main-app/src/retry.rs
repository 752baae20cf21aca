//! Exponential backoff, as a small pure module: the Twilio client, the CRM outbox and anything
//! else that retries take their delays from here, so the policy is tested once.

use std::time::Duration;

/// An exponential backoff policy: `base * factor^attempt`, capped at `max`, with optional
/// "equal jitter" (half fixed, half random) to spread retries from many callers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Delay before the first retry.
    pub base: Duration,
    /// Growth per attempt.
    pub factor: f64,
    /// Upper bound on one delay.
    pub max: Duration,
    /// Attempts allowed in total (the first try included).
    pub max_attempts: u32,
}

impl Backoff {
    /// The delay before retry number `attempt` (0 = the first retry), without jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self.factor.powi(i32::try_from(attempt).unwrap_or(i32::MAX));
        let secs = (self.base.as_secs_f64() * exp).min(self.max.as_secs_f64());
        Duration::from_secs_f64(secs.max(0.0))
    }

    /// The delay with equal jitter: `d/2 + random(0..d/2)`, where `unit` is a random value in
    /// `[0, 1)` supplied by the caller (so this stays pure and testable).
    pub fn jittered(&self, attempt: u32, unit: f64) -> Duration {
        let d = self.delay(attempt).as_secs_f64();
        Duration::from_secs_f64(d / 2.0 + unit.clamp(0.0, 1.0) * d / 2.0)
    }

    /// Whether another attempt is allowed after `attempts_made` attempts.
    pub fn should_retry(&self, attempts_made: u32) -> bool {
        attempts_made < self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Backoff {
        Backoff {
            base: Duration::from_millis(100),
            factor: 2.0,
            max: Duration::from_secs(1),
            max_attempts: 4,
        }
    }

    #[test]
    fn grows_exponentially_and_caps() {
        let b = policy();
        assert_eq!(b.delay(0), Duration::from_millis(100));
        assert_eq!(b.delay(1), Duration::from_millis(200));
        assert_eq!(b.delay(3), Duration::from_millis(800));
        assert_eq!(b.delay(4), Duration::from_secs(1));
        assert_eq!(b.delay(60), Duration::from_secs(1));
    }

    #[test]
    fn jitter_stays_within_half_and_full_delay() {
        let b = policy();
        assert_eq!(b.jittered(1, 0.0), Duration::from_millis(100));
        assert_eq!(b.jittered(1, 1.0), Duration::from_millis(200));
        let mid = b.jittered(1, 0.5);
        assert!(mid > Duration::from_millis(100) && mid < Duration::from_millis(200));
    }

    #[test]
    fn attempts_are_bounded() {
        let b = policy();
        assert!(b.should_retry(3));
        assert!(!b.should_retry(4));
    }
}
