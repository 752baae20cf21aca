//! A fixed-window login limiter: at most N failed attempts per key (client address, username)
//! per window. In memory: login throttling only needs to slow guessing on one instance.

use dashmap::DashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Counts failed logins per key.
#[derive(Clone)]
pub struct LoginLimiter {
    max_failures: u32,
    window: Duration,
    failures: Arc<DashMap<String, (Instant, u32)>>,
}

impl LoginLimiter {
    /// At most `max_failures` per `window` per key.
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self { max_failures, window, failures: Arc::new(DashMap::new()) }
    }

    /// Whether `key` may try now.
    pub fn allowed(&self, key: &str, now: Instant) -> bool {
        match self.failures.get(key) {
            Some(entry) => {
                let (start, count) = *entry.value();
                now.duration_since(start) >= self.window || count < self.max_failures
            }
            None => true,
        }
    }

    /// Records a failure for `key`.
    pub fn failed(&self, key: &str, now: Instant) {
        let mut entry = self.failures.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        drop(entry);
        if self.failures.len() > 10_000 {
            let window = self.window;
            self.failures.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
    }

    /// Clears `key` after a success.
    pub fn succeeded(&self, key: &str) {
        self.failures.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_failures_until_the_window_passes() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.allowed("ip", t0));
            l.failed("ip", t0);
        }
        assert!(!l.allowed("ip", t0 + Duration::from_secs(30)));
        assert!(l.allowed("other", t0));
        assert!(l.allowed("ip", t0 + Duration::from_secs(61)));
        l.succeeded("ip");
        assert!(l.allowed("ip", t0));
    }
}
