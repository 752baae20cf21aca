//! Calls-per-second limiting per account (§1.9), as a small pure module.
//!
//! A generic cell rate algorithm: each call takes a slot `1/cps` seconds after the previous one.
//! In reject mode a call whose slot is not free now is refused (429 / 20429); in queue mode it is
//! accepted and the call stays `queued` until its slot, as real Twilio does.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Slot bookkeeping for one account.
#[derive(Debug, Clone)]
pub struct Gcra {
    interval: Duration,
    next_free: Option<Instant>,
}

impl Gcra {
    /// A limiter for `cps` calls per second.
    pub fn new(cps: u32) -> Self {
        Self { interval: Duration::from_secs(1) / cps.max(1), next_free: None }
    }

    /// Takes the slot at `now` if it is free.
    pub fn try_acquire(&mut self, now: Instant) -> bool {
        match self.next_free {
            Some(t) if t > now => false,
            _ => {
                self.next_free = Some(now + self.interval);
                true
            }
        }
    }

    /// Reserves the next free slot at or after `now` and returns its time.
    pub fn reserve(&mut self, now: Instant) -> Instant {
        let slot = self.next_free.map_or(now, |t| t.max(now));
        self.next_free = Some(slot + self.interval);
        slot
    }
}

/// Limiters of all accounts.
#[derive(Debug, Default)]
pub struct CpsLimiter {
    cps: Option<u32>,
    accounts: Mutex<HashMap<String, Gcra>>,
}

impl CpsLimiter {
    /// `None` = unlimited.
    pub fn new(cps: Option<u32>) -> Self {
        Self { cps, accounts: Mutex::new(HashMap::new()) }
    }

    fn with<T>(&self, account: &str, f: impl FnOnce(&mut Gcra) -> T) -> Option<T> {
        let cps = self.cps?;
        let mut map = self.accounts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Some(f(map.entry(account.to_owned()).or_insert_with(|| Gcra::new(cps))))
    }

    /// Reject mode: whether a call may start now.
    pub fn try_acquire(&self, account: &str) -> bool {
        self.with(account, |g| g.try_acquire(Instant::now())).unwrap_or(true)
    }

    /// Queue mode: when the call may leave the queue (`None` = at once).
    pub fn reserve(&self, account: &str) -> Option<Instant> {
        self.with(account, |g| g.reserve(Instant::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn reject_mode_allows_one_call_per_interval() {
        let mut g = Gcra::new(2);
        let t0 = Instant::now();
        assert!(g.try_acquire(t0));
        assert!(!g.try_acquire(t0));
        assert!(!g.try_acquire(t0 + Duration::from_millis(499)));
        assert!(g.try_acquire(t0 + Duration::from_millis(500)));
    }

    #[tokio::test(start_paused = true)]
    async fn queue_mode_spaces_slots() {
        let mut g = Gcra::new(1);
        let t0 = Instant::now();
        assert_eq!(g.reserve(t0), t0);
        assert_eq!(g.reserve(t0), t0 + Duration::from_secs(1));
        assert_eq!(g.reserve(t0), t0 + Duration::from_secs(2));
        assert_eq!(g.reserve(t0 + Duration::from_secs(10)), t0 + Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn limiter_is_per_account_and_optional() {
        let l = CpsLimiter::new(Some(1));
        assert!(l.try_acquire("AC1"));
        assert!(!l.try_acquire("AC1"));
        assert!(l.try_acquire("AC2"));
        let unlimited = CpsLimiter::new(None);
        assert!((0..100).all(|_| unlimited.try_acquire("AC1")));
        assert_eq!(unlimited.reserve("AC1"), None);
    }
}
