//! The registry of calls: the record observed for each (for REST and inspection) and the channel
//! to its actor (for REST updates). Finished calls are evicted oldest first beyond a bound.

use super::params::TwimlSource;
use super::record::CallRecord;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::{mpsc, oneshot, watch};

/// A request from the REST API to a call's actor. The actor replies once it has applied it.
#[derive(Debug)]
pub(crate) enum Control {
    /// `Status=completed` (`cancel: false`) or `Status=canceled`.
    End {
        /// Whether `canceled` was asked.
        cancel: bool,
        /// Acknowledgement.
        done: oneshot::Sender<()>,
    },
    /// New TwiML for the call.
    Redirect {
        /// Where it comes from.
        source: TwimlSource,
        /// Acknowledgement.
        done: oneshot::Sender<()>,
    },
}

/// One call.
pub(crate) struct CallEntry {
    record: Mutex<CallRecord>,
    /// To the call's actor.
    pub control: mpsc::Sender<Control>,
    changes: watch::Sender<u64>,
}

/// Entries by id, and ids in insertion order.
type Table = (HashMap<String, Arc<CallEntry>>, VecDeque<String>);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl CallEntry {
    pub(crate) fn new(
        record: CallRecord,
        control: mpsc::Sender<Control>,
        changes: watch::Sender<u64>,
    ) -> Self {
        Self { record: Mutex::new(record), control, changes }
    }

    /// Changes the record (never across an await) and tells observers.
    pub fn update<T>(&self, f: impl FnOnce(&mut CallRecord) -> T) -> T {
        let out = f(&mut lock(&self.record));
        self.changes.send_modify(|v| *v = v.wrapping_add(1));
        out
    }

    /// Reads the record.
    pub fn read<T>(&self, f: impl FnOnce(&CallRecord) -> T) -> T {
        f(&lock(&self.record))
    }

    /// A copy of the record.
    pub fn snapshot(&self) -> CallRecord {
        lock(&self.record).clone()
    }
}

/// All calls.
pub(crate) struct CallRegistry {
    calls: Mutex<Table>,
    max_kept: usize,
    live: Arc<AtomicUsize>,
}

/// Counts a live call; dropping it (when the actor ends) frees the slot.
pub(crate) struct LiveGuard(Arc<AtomicUsize>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl CallRegistry {
    pub(crate) fn new(max_kept: usize) -> Self {
        Self { calls: Mutex::new((HashMap::new(), VecDeque::new())), max_kept, live: Arc::default() }
    }

    /// Takes a live-call slot if fewer than `max` are in use.
    pub fn try_live(&self, max: usize) -> Option<LiveGuard> {
        self.live
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < max).then_some(n + 1))
            .ok()
            .map(|_| LiveGuard(self.live.clone()))
    }

    /// Adds a call, evicting the oldest finished calls beyond the bound.
    pub fn insert(&self, sid: String, entry: Arc<CallEntry>) {
        let mut guard = lock(&self.calls);
        let (map, order) = &mut *guard;
        map.insert(sid.clone(), entry);
        order.push_back(sid);
        let mut i = 0;
        while map.len() > self.max_kept && i < order.len() {
            let finished = map.get(&order[i]).is_none_or(|e| e.read(CallRecord::is_finished));
            if finished {
                if let Some(old) = order.remove(i) {
                    map.remove(&old);
                }
            } else {
                i += 1;
            }
        }
    }

    /// Forgets a call.
    pub fn remove(&self, sid: &str) {
        let mut guard = lock(&self.calls);
        guard.0.remove(sid);
        guard.1.retain(|s| s != sid);
    }

    /// One call.
    pub fn get(&self, sid: &str) -> Option<Arc<CallEntry>> {
        lock(&self.calls).0.get(sid).cloned()
    }

    /// All calls, oldest first.
    pub fn all(&self) -> Vec<Arc<CallEntry>> {
        let guard = lock(&self.calls);
        guard.1.iter().filter_map(|sid| guard.0.get(sid).cloned()).collect()
    }

    /// The newest unfinished call to `number` (to attach an agent conversation to its call).
    pub fn live_call_to(&self, number: &str) -> Option<Arc<CallEntry>> {
        self.all().into_iter().rev().find(|e| e.read(|r| r.to == number && !r.is_finished()))
    }
}
