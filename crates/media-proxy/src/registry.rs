//! Live calls of this instance and the concurrency limit.
//!
//! A [`CallSlot`] is taken before the WebSocket upgrade (so a full instance answers 503 and
//! Twilio never gets a stream we cannot serve) and held by the call task; registering the
//! verified call in the map is part of the same guard, and dropping the guard releases both. No
//! lock is held across an await. Shutdown waits on [`Registry::wait_idle`], which only watches
//! the count (it takes no permits, so `/healthz` stays right while a drain waits).
//!
//! Each registered call gets a [`StopSignal`]: [`Registry::stop_all`] (the drain deadline) fires
//! every one, and a call registered after it gets one that has already fired. One `oneshot` per
//! call rather than one shared token: the call loop polls its signal on every turn, and a
//! pending `oneshot` is one atomic load, where a shared `CancellationToken` took two mutexes
//! (its own and its `Notify`'s), 1 % of the proxy's CPU at 1,000 calls.

use common::ids::CallId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, oneshot};

/// One verified live call.
#[derive(Debug, Clone)]
pub struct LiveCall {
    /// Our call id.
    pub call_id: CallId,
    /// Twilio stream SID.
    pub stream_sid: String,
}

#[derive(Debug)]
struct Entry {
    call: LiveCall,
    stop: Option<oneshot::Sender<()>>,
}

#[derive(Debug, Default)]
struct Calls {
    map: HashMap<u64, Entry>,
    /// [`Registry::stop_all`] was called: calls registered from now on are stopped at once.
    stopped: bool,
}

#[derive(Debug)]
struct Inner {
    calls: Mutex<Calls>,
    next_key: AtomicU64,
    slots: Arc<Semaphore>,
    max: usize,
    /// Slots held; `idle` is notified when it drops to zero.
    active: AtomicUsize,
    idle: Notify,
}

/// Cheap-to-clone handle.
#[derive(Debug, Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

impl Registry {
    /// A registry admitting at most `max` concurrent streams.
    pub fn new(max: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                calls: Mutex::new(Calls::default()),
                next_key: AtomicU64::new(0),
                slots: Arc::new(Semaphore::new(max)),
                max,
                active: AtomicUsize::new(0),
                idle: Notify::new(),
            }),
        }
    }

    /// A slot for one more stream, or `None` at the limit.
    pub fn try_admit(&self) -> Option<CallSlot> {
        let permit = self.inner.slots.clone().try_acquire_owned().ok()?;
        self.inner.active.fetch_add(1, Ordering::SeqCst);
        Some(CallSlot { registry: self.clone(), _permit: permit })
    }

    /// Streams currently holding a slot (verified or not).
    pub fn active(&self) -> usize {
        self.inner.active.load(Ordering::SeqCst)
    }

    /// Verified calls currently registered.
    pub fn calls(&self) -> Vec<LiveCall> {
        self.inner.calls.lock().map(|c| c.map.values().map(|e| e.call.clone()).collect()).unwrap_or_default()
    }

    /// Fires every registered call's [`StopSignal`], and those of calls registered later.
    pub fn stop_all(&self) {
        let mut calls = self.inner.calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        calls.stopped = true;
        for entry in calls.map.values_mut() {
            if let Some(stop) = entry.stop.take() {
                // Err: the call has just ended and dropped its signal.
                let _ = stop.send(());
            }
        }
    }

    /// The configured limit.
    pub fn max(&self) -> usize {
        self.inner.max
    }

    /// Resolves when no stream holds a slot.
    pub async fn wait_idle(&self) {
        loop {
            let notified = self.inner.idle.notified();
            tokio::pin!(notified);
            // Registered before the check, so a release in between is not missed.
            notified.as_mut().enable();
            if self.inner.active.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// A stream's place under the limit; see [`CallSlot::register`].
#[derive(Debug)]
pub struct CallSlot {
    registry: Registry,
    _permit: OwnedSemaphorePermit,
}

impl CallSlot {
    /// Lists the verified call; the returned guard unlists it on drop, and the signal fires
    /// when [`Registry::stop_all`] is called.
    pub fn register(&self, call_id: CallId, stream_sid: String) -> (Registered, StopSignal) {
        let key = self.registry.inner.next_key.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        let mut calls = self.registry.inner.calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let stop = if calls.stopped {
            let _ = tx.send(()); // Err impossible: `rx` is right here.
            None
        } else {
            Some(tx)
        };
        calls.map.insert(key, Entry { call: LiveCall { call_id, stream_sid }, stop });
        (Registered { registry: self.registry.clone(), key }, StopSignal { rx, state: Signal::Waiting })
    }
}

impl Drop for CallSlot {
    fn drop(&mut self) {
        if self.registry.inner.active.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.registry.inner.idle.notify_waiters();
        }
    }
}

/// Removes its call from the registry when dropped.
#[derive(Debug)]
pub struct Registered {
    registry: Registry,
    key: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut calls = self.registry.inner.calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        calls.map.remove(&self.key);
    }
}

/// One call's hard-stop signal (see [`Registry::stop_all`]). Once fired it stays fired.
#[derive(Debug)]
pub struct StopSignal {
    rx: oneshot::Receiver<()>,
    state: Signal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Waiting,
    Fired,
    /// The sender went with the registry entry without firing: no stop will come (and the
    /// receiver, having reported that, must not be polled again).
    Never,
}

impl StopSignal {
    /// Resolves when the call must stop (at once if it already had to).
    pub async fn fired(&mut self) {
        if self.state == Signal::Waiting {
            self.state = if (&mut self.rx).await.is_ok() { Signal::Fired } else { Signal::Never };
        }
        if self.state == Signal::Never {
            std::future::pending::<()>().await;
        }
    }

    /// Whether it has fired (without waiting).
    pub fn is_fired(&mut self) -> bool {
        if self.state == Signal::Waiting {
            match self.rx.try_recv() {
                Ok(()) => self.state = Signal::Fired,
                Err(oneshot::error::TryRecvError::Closed) => self.state = Signal::Never,
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
        }
        self.state == Signal::Fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slots_are_limited_and_guards_clean_up() {
        let registry = Registry::new(2);
        let a = registry.try_admit().expect("first");
        let b = registry.try_admit().expect("second");
        assert!(registry.try_admit().is_none(), "limit reached");
        let (registered, _stop) = a.register(CallId::new(), "MZ1".into());
        assert_eq!(registry.calls().len(), 1);
        drop(registered);
        assert!(registry.calls().is_empty());
        assert_eq!(registry.active(), 2);
        drop(a);
        drop(b);
        assert_eq!(registry.active(), 0);
        tokio::time::timeout(std::time::Duration::from_secs(1), registry.wait_idle()).await.expect("idle");
        assert!(registry.try_admit().is_some(), "permits came back after wait_idle");
    }

    #[tokio::test]
    async fn stop_all_fires_live_calls_and_those_registered_after() {
        let registry = Registry::new(3);
        let slot = registry.try_admit().expect("slot");
        let (_live, mut live_stop) = slot.register(CallId::new(), "MZ1".into());
        assert!(!live_stop.is_fired(), "nothing stops a call before stop_all");
        let wait = std::time::Duration::from_secs(1);
        assert!(tokio::time::timeout(wait / 10, live_stop.fired()).await.is_err(), "and waiting blocks");
        registry.stop_all();
        tokio::time::timeout(wait, live_stop.fired()).await.expect("a live call is stopped");
        tokio::time::timeout(wait, live_stop.fired()).await.expect("and stays stopped");
        let late = registry.try_admit().expect("slot");
        let (_late, mut late_stop) = late.register(CallId::new(), "MZ2".into());
        assert!(late_stop.is_fired(), "a call registered after stop_all is stopped at once");
    }

    #[tokio::test]
    async fn a_signal_without_its_entry_never_fires() {
        let registry = Registry::new(1);
        let slot = registry.try_admit().expect("slot");
        let (registered, mut stop) = slot.register(CallId::new(), "MZ1".into());
        drop(registered);
        registry.stop_all();
        assert!(!stop.is_fired(), "an unlisted call is not stopped by a later stop_all");
        let wait = std::time::Duration::from_millis(100);
        assert!(tokio::time::timeout(wait, stop.fired()).await.is_err());
    }

    #[tokio::test]
    async fn waiting_for_idle_leaves_the_count_alone_and_wakes_on_the_last_release() {
        let registry = Registry::new(3);
        let a = registry.try_admit().expect("a");
        let b = registry.try_admit().expect("b");
        let waiter = tokio::spawn({
            let registry = registry.clone();
            async move { registry.wait_idle().await }
        });
        tokio::task::yield_now().await;
        assert_eq!(registry.active(), 2, "a waiting drain does not change the count");
        assert!(registry.try_admit().is_some(), "nor takes free slots");
        drop(a);
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "one call still live");
        drop(b);
        tokio::time::timeout(std::time::Duration::from_secs(1), waiter).await.expect("woken").expect("join");
    }
}
