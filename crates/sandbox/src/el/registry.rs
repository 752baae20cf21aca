//! The registry of agent conversations, bounded like the call registry.

use super::record::ConversationRecord;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::watch;

/// Entries by id, and ids in insertion order.
type Table = (HashMap<String, Arc<ConversationEntry>>, VecDeque<String>);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One conversation.
pub(crate) struct ConversationEntry {
    record: Mutex<ConversationRecord>,
    changes: watch::Sender<u64>,
}

impl ConversationEntry {
    /// Changes the record (never across an await) and tells observers.
    pub fn update<T>(&self, f: impl FnOnce(&mut ConversationRecord) -> T) -> T {
        let out = f(&mut lock(&self.record));
        self.changes.send_modify(|v| *v = v.wrapping_add(1));
        out
    }

    /// Reads the record.
    pub fn read<T>(&self, f: impl FnOnce(&ConversationRecord) -> T) -> T {
        f(&lock(&self.record))
    }

    /// A copy of the record.
    pub fn snapshot(&self) -> ConversationRecord {
        lock(&self.record).clone()
    }
}

/// All conversations.
pub(crate) struct ConversationRegistry {
    inner: Mutex<Table>,
    max_kept: usize,
}

impl ConversationRegistry {
    pub(crate) fn new(max_kept: usize) -> Self {
        Self { inner: Mutex::new((HashMap::new(), VecDeque::new())), max_kept }
    }

    /// Adds a conversation, evicting the oldest finished ones beyond the bound.
    pub fn insert(&self, record: ConversationRecord, changes: watch::Sender<u64>) -> Arc<ConversationEntry> {
        let id = record.conversation_id.clone();
        let entry = Arc::new(ConversationEntry { record: Mutex::new(record), changes });
        let mut guard = lock(&self.inner);
        let (map, order) = &mut *guard;
        map.insert(id.clone(), entry.clone());
        order.push_back(id);
        let mut i = 0;
        while map.len() > self.max_kept && i < order.len() {
            if map.get(&order[i]).is_none_or(|e| e.read(ConversationRecord::is_finished)) {
                if let Some(old) = order.remove(i) {
                    map.remove(&old);
                }
            } else {
                i += 1;
            }
        }
        entry
    }

    /// One conversation.
    pub fn get(&self, id: &str) -> Option<Arc<ConversationEntry>> {
        lock(&self.inner).0.get(id).cloned()
    }

    /// All conversations, oldest first.
    pub fn all(&self) -> Vec<Arc<ConversationEntry>> {
        let guard = lock(&self.inner);
        guard.1.iter().filter_map(|id| guard.0.get(id).cloned()).collect()
    }
}
