//! Live calls of this instance and the concurrency limit.
//!
//! A [`CallSlot`] is taken before the WebSocket upgrade (so a full instance answers 503 and
//! Twilio never gets a stream we cannot serve) and held by the call task; registering the
//! verified call in the map is part of the same guard, and dropping the guard releases both. No
//! lock is held across an await. Shutdown waits on [`Registry::wait_idle`], which only watches
//! the count (it takes no permits, so `/healthz` stays right while a drain waits).

use common::ids::CallId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// One verified live call.
#[derive(Debug, Clone)]
pub struct LiveCall {
    /// Our call id.
    pub call_id: CallId,
    /// Twilio stream SID.
    pub stream_sid: String,
}

#[derive(Debug)]
struct Inner {
    calls: Mutex<HashMap<u64, LiveCall>>,
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
                calls: Mutex::new(HashMap::new()),
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
        self.inner.calls.lock().map(|m| m.values().cloned().collect()).unwrap_or_default()
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
    /// Lists the verified call; the returned guard unlists it on drop.
    pub fn register(&self, call_id: CallId, stream_sid: String) -> Registered {
        let key = self.registry.inner.next_key.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut calls) = self.registry.inner.calls.lock() {
            calls.insert(key, LiveCall { call_id, stream_sid });
        }
        Registered { registry: self.registry.clone(), key }
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
        if let Ok(mut calls) = self.registry.inner.calls.lock() {
            calls.remove(&self.key);
        }
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
        let registered = a.register(CallId::new(), "MZ1".into());
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
