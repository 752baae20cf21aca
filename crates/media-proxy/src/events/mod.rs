//! Events to main-app: per-call emitters feeding one bounded queue drained by a background sender.
//!
//! The audio path only ever calls [`CallEvents::emit`], which is a non-blocking `try_send`: when
//! the queue is full the event is dropped and counted (per call and in [`EventStats`]) and the
//! call goes on. The [`sender`] task batches, signs, posts and retries (see [`retry`]); a batch
//! that still fails after the last attempt is counted as lost and logged. main-app deduplicates
//! on `(callId, seq)`, so a retried batch changes nothing.

pub mod retry;
pub mod sender;

use chrono::Utc;
use common::events::media::{MediaEvent, MediaEventKind};
use common::ids::CallId;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

/// Counters shared by the emitters and the sender (exposed on `/healthz`).
#[derive(Debug, Default)]
pub struct EventStats {
    /// Events accepted into the queue.
    pub queued: AtomicU64,
    /// Events main-app acknowledged.
    pub delivered: AtomicU64,
    /// Events dropped because the queue was full.
    pub dropped_queue_full: AtomicU64,
    /// Events given up after the last retry (or refused by main-app).
    pub lost_delivery: AtomicU64,
}

impl EventStats {
    fn bump(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Snapshot for `/healthz`.
    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "queued": self.queued.load(Ordering::Relaxed),
            "delivered": self.delivered.load(Ordering::Relaxed),
            "droppedQueueFull": self.dropped_queue_full.load(Ordering::Relaxed),
            "lostDelivery": self.lost_delivery.load(Ordering::Relaxed),
        })
    }
}

/// The sending side of the event queue; cheap to clone.
#[derive(Debug, Clone)]
pub struct EventQueue {
    tx: mpsc::Sender<MediaEvent>,
    stats: Arc<EventStats>,
}

impl EventQueue {
    /// A queue of `capacity` events and its receiving end (for [`sender::run`]).
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<MediaEvent>, Arc<EventStats>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let stats = Arc::new(EventStats::default());
        (Self { tx, stats: stats.clone() }, rx, stats)
    }

    /// Shared counters.
    pub fn stats(&self) -> &Arc<EventStats> {
        &self.stats
    }

    /// Emitter for a verified call; sequence numbers start at 0.
    pub fn for_call(&self, call_id: CallId) -> CallEvents {
        CallEvents { queue: self.clone(), call_id, next_seq: 0, dropped: 0 }
    }

    /// Best-effort report about a stream that was refused before it was trusted (bad, expired or
    /// reused token). The sequence number is random in `[2^40, 2^52)`, so it can never collide
    /// with (and be deduplicated against) the small sequence numbers of the call's genuine stream.
    pub fn report_refused(&self, call_id: CallId, code: &str, message: &str) {
        let seq = (1u64 << 40) + (uuid::Uuid::new_v4().as_u128() as u64 % ((1u64 << 52) - (1u64 << 40)));
        let event = MediaEvent {
            call_id,
            seq,
            at: Utc::now(),
            kind: MediaEventKind::Error { code: code.to_owned(), message: message.to_owned() },
        };
        self.push(event);
    }

    fn push(&self, event: MediaEvent) -> bool {
        match self.tx.try_send(event) {
            Ok(()) => {
                EventStats::bump(&self.stats.queued, 1);
                true
            }
            Err(_) => {
                EventStats::bump(&self.stats.dropped_queue_full, 1);
                false
            }
        }
    }
}

/// One call's event emitter: assigns `seq` and never blocks.
#[derive(Debug)]
pub struct CallEvents {
    queue: EventQueue,
    call_id: CallId,
    next_seq: u64,
    dropped: u64,
}

impl CallEvents {
    /// Queues an event; when the queue is full it is dropped and counted (never waits).
    pub fn emit(&mut self, kind: MediaEventKind) {
        let event = MediaEvent { call_id: self.call_id.clone(), seq: self.next_seq, at: Utc::now(), kind };
        self.next_seq += 1;
        if !self.queue.push(event) {
            self.dropped += 1;
            if self.dropped == 1 || self.dropped.is_power_of_two() {
                tracing::warn!(call_id = %self.call_id, dropped = self.dropped, "event queue full: event dropped");
            }
        }
    }

    /// Events of this call dropped so far because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The queue behind this emitter (for refused-stream reports).
    pub fn queue(&self) -> &EventQueue {
        &self.queue
    }

    /// The call these events are about.
    pub fn call_id(&self) -> &CallId {
        &self.call_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_count_from_zero_and_overflow_is_counted() {
        let (queue, mut rx, stats) = EventQueue::new(2);
        let mut call = queue.for_call(CallId::new());
        for _ in 0..3 {
            call.emit(MediaEventKind::Error { code: "x".into(), message: String::new() });
        }
        assert_eq!(rx.try_recv().expect("first").seq, 0);
        assert_eq!(rx.try_recv().expect("second").seq, 1);
        assert!(rx.try_recv().is_err(), "third was dropped");
        assert_eq!(call.dropped(), 1);
        assert_eq!(stats.dropped_queue_full.load(Ordering::Relaxed), 1);
        assert_eq!(stats.queued.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn refused_stream_reports_use_a_separate_sequence_range() {
        let (queue, mut rx, _) = EventQueue::new(4);
        queue.report_refused(CallId::new(), "token_expired", "expired");
        let e = rx.try_recv().expect("queued");
        assert!(e.seq >= 1 << 40 && e.seq < 1 << 52, "{}", e.seq);
    }
}
