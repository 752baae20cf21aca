//! One clock for every paced sender in the generator.
//!
//! Each simulated Twilio stream and each simulated agent sends one frame every 20 ms. Instead of a
//! timer per sender (thousands of wake-ups per 20 ms), senders sit in one of 20 one-millisecond
//! slots and a single task wakes every millisecond and has the due slot's senders write their
//! frame (a non-blocking write each). A late wake-up catches up every slot it passed, so no
//! sender skips a frame unless the generator falls a whole 20 ms period behind (the `pacing`
//! figure shows it).

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Slots per 20 ms period.
pub const SLOTS: usize = 20;

/// Something that sends one frame per period.
pub trait Talker: Send + Sync {
    /// Sends this period's frame; `false` when it is done (it is then dropped from its slot).
    fn tick(&self) -> bool;
}

/// The shared ticker.
pub struct Ticker {
    slots: Mutex<Vec<Vec<Arc<dyn Talker>>>>,
    origin: tokio::time::Instant,
}

impl Ticker {
    /// A ticker with empty slots (run it with [`Ticker::run`]).
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            slots: Mutex::new((0..SLOTS).map(|_| Vec::new()).collect()),
            origin: tokio::time::Instant::now(),
        })
    }

    /// The slot of the current millisecond: a talker that has just sent a frame and joins this
    /// slot sends its next one a period later.
    pub fn slot_now(&self) -> usize {
        (self.origin.elapsed().as_millis() % SLOTS as u128) as usize
    }

    /// Adds a talker to `slot` (taken modulo [`SLOTS`]).
    pub fn add(&self, slot: usize, talker: Arc<dyn Talker>) {
        if let Ok(mut slots) = self.slots.lock() {
            slots[slot % SLOTS].push(talker);
        }
    }

    /// Talkers registered now.
    pub fn len(&self) -> usize {
        self.slots.lock().map(|s| s.iter().map(Vec::len).sum()).unwrap_or(0)
    }

    /// Whether no talker is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drives the slots until `stop`.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let origin = self.origin;
        let mut ticks = tokio::time::interval(Duration::from_millis(1));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut next_ms: u64 = 0;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = ticks.tick() => {}
            }
            let now_ms = origin.elapsed().as_millis() as u64;
            // More than a period behind: the skipped frames are not sent (pacing shows it).
            next_ms = next_ms.max(now_ms.saturating_sub(SLOTS as u64 - 1));
            while next_ms <= now_ms {
                let slot = (next_ms % SLOTS as u64) as usize;
                // Taken out while it runs, so a talker may register others meanwhile.
                let mut due = self.slots.lock().map(|mut s| std::mem::take(&mut s[slot])).unwrap_or_default();
                due.retain(|talker| talker.tick());
                if let Ok(mut slots) = self.slots.lock() {
                    due.append(&mut slots[slot]);
                    slots[slot] = due;
                }
                next_ms += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    struct Count(AtomicU32, u32);
    impl Talker for Count {
        fn tick(&self) -> bool {
            self.0.fetch_add(1, Ordering::Relaxed) + 1 < self.1
        }
    }

    #[tokio::test(start_paused = true)]
    async fn every_talker_ticks_once_per_period_until_done() {
        let ticker = Ticker::new();
        let a = Arc::new(Count(AtomicU32::new(0), u32::MAX));
        let b = Arc::new(Count(AtomicU32::new(0), 3));
        ticker.add(5, a.clone());
        ticker.add(25, b.clone());
        let stop = CancellationToken::new();
        let run = tokio::spawn(ticker.clone().run(stop.clone()));
        tokio::time::sleep(Duration::from_millis(200)).await;
        stop.cancel();
        run.await.expect("ticker");
        assert_eq!(a.0.load(Ordering::Relaxed), 10, "200 ms = 10 periods");
        assert_eq!(b.0.load(Ordering::Relaxed), 3, "dropped after it said it was done");
        assert_eq!(ticker.len(), 1);
    }
}
