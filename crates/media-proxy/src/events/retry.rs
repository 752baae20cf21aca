//! Retry and backoff for event delivery: a small pure policy, unit-tested without I/O.
//!
//! Exponential backoff from `base`, doubling, capped at `max_delay`, with a deterministic
//! ±`jitter` fraction chosen by the caller (so tests are exact and live use can pass a random
//! value). After `max_attempts` the batch is given up and its events are counted as lost.

use std::time::Duration;

/// What to do after one delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Delivered.
    Done,
    /// Worth retrying (connection error, timeout, 408, 429, 5xx).
    Retry,
    /// Retrying cannot help (other 4xx: bad signature, bad body); give up now.
    GiveUp,
}

/// Classifies an HTTP status (`None` = no response: connect error or timeout).
pub fn classify(status: Option<u16>) -> Verdict {
    match status {
        None => Verdict::Retry,
        Some(s) if (200..300).contains(&s) => Verdict::Done,
        Some(408 | 425 | 429) => Verdict::Retry,
        Some(s) if s >= 500 => Verdict::Retry,
        Some(_) => Verdict::GiveUp,
    }
}

/// Exponential backoff policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Delay before the second attempt.
    pub base: Duration,
    /// Upper bound of any delay.
    pub max_delay: Duration,
    /// Attempts in all, including the first.
    pub max_attempts: u32,
    /// Jitter fraction in `0.0..=1.0`: a delay `d` becomes `d × (1 ± jitter)`.
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_attempts: 6,
            jitter: 0.2,
        }
    }
}

impl Backoff {
    /// Delay to wait after failed attempt number `attempt` (1-based), or `None` when no attempt
    /// is left. `unit` in `[-1.0, 1.0]` picks where in the jitter range the delay falls.
    pub fn delay_after(&self, attempt: u32, unit: f64) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let exp = attempt.saturating_sub(1).min(30);
        let raw = self.base.saturating_mul(1u32 << exp).min(self.max_delay);
        let factor = 1.0 + self.jitter.clamp(0.0, 1.0) * unit.clamp(-1.0, 1.0);
        Some(raw.mul_f64(factor).min(self.max_delay))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        assert_eq!(classify(Some(200)), Verdict::Done);
        assert_eq!(classify(Some(204)), Verdict::Done);
        assert_eq!(classify(None), Verdict::Retry);
        assert_eq!(classify(Some(503)), Verdict::Retry);
        assert_eq!(classify(Some(429)), Verdict::Retry);
        assert_eq!(classify(Some(401)), Verdict::GiveUp);
        assert_eq!(classify(Some(400)), Verdict::GiveUp);
    }

    #[test]
    fn delays_double_then_cap_then_stop() {
        let b = Backoff { jitter: 0.0, ..Backoff::default() };
        let delays: Vec<_> = (1..=6).map(|a| b.delay_after(a, 0.0)).collect();
        assert_eq!(
            delays,
            vec![
                Some(Duration::from_millis(200)),
                Some(Duration::from_millis(400)),
                Some(Duration::from_millis(800)),
                Some(Duration::from_millis(1600)),
                Some(Duration::from_millis(3200)),
                None
            ]
        );
        let capped = Backoff { max_attempts: 20, jitter: 0.0, ..Backoff::default() };
        assert_eq!(capped.delay_after(10, 0.0), Some(Duration::from_secs(5)));
    }

    #[test]
    fn jitter_stays_in_range() {
        let b = Backoff::default();
        assert_eq!(b.delay_after(1, 1.0), Some(Duration::from_millis(240)));
        assert_eq!(b.delay_after(1, -1.0), Some(Duration::from_millis(160)));
        assert_eq!(b.delay_after(1, 7.0), Some(Duration::from_millis(240)), "unit is clamped");
    }
}
