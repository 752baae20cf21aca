//! The embedded store: one SQLite file (`DATA_DIR/voice-platform.sqlite`) in WAL mode.
//!
//! # Threading
//! rusqlite is synchronous, so every query runs on tokio's blocking pool
//! (`spawn_blocking`), never on a runtime worker. The store holds one **writer** connection and
//! [`READERS`] **reader** connections, each behind its own `std::sync::Mutex` that is only locked
//! inside the blocking closure (never across an `.await`). All writes are therefore serialised in
//! this process; with WAL, readers see the last committed state without waiting for the writer.
//! Multi-statement writes run in `BEGIN IMMEDIATE` transactions, and `busy_timeout` makes a second
//! process on the same file wait for the lock instead of failing at once. This backend serves
//! one instance; several instances share MongoDB instead.
//!
//! # How the guarantees of [`crate::store`] are met
//! - idempotent insert: inside one immediate transaction, look the key up, insert if absent; a
//!   partial unique index on `idempotency_key` backs it up;
//! - monotonic status: `UPDATE … WHERE id = ? AND status_rank < ?`, one statement;
//! - set once: `SET x = COALESCE(x, ?)`, one statement;
//! - event dedupe: `INSERT … ON CONFLICT DO NOTHING` against a partial unique index on
//!   `(call_id, dedupe_key)` (and the primary key `id`);
//! - `mark_once`: `INSERT … ON CONFLICT DO NOTHING` on a primary key, then `changes() == 1`.
//!
//! Timestamps are INTEGER milliseconds since the Unix epoch; structured values (`terminated_by`,
//! `error`, `dynamic_variables`, event `data`) are JSON text. Foreign keys are enforced: an event
//! for an unknown call is refused with `StoreError::Backend` (MongoDB, which has no foreign keys,
//! stores it), so callers insert the call first.
//!
//! # Adding a resource
//! Add `sqlite/<resource>.rs` implementing the trait with [`SqliteStore::read`] /
//! [`SqliteStore::write`], and a migration file listed in [`migrations`].

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::store::{Store, StoreError, StoreResult};

mod calls;
mod calls_codec;
mod campaigns;
pub mod migrations;
mod post_call;
mod sessions;
mod stats;

/// Read connections kept open (the machine has 2 cores; more would only queue on the CPU).
pub const READERS: usize = 4;

/// How long a statement waits for another connection's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// SQLite-backed [`crate::store::Store`]. Cheap to clone (shares the connections).
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and runs pending migrations.
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        let path = path.to_owned();
        let inner = tokio::task::spawn_blocking(move || open_blocking(&path)).await??;
        Ok(Self { inner: Arc::new(inner) })
    }

    /// Runs `f` with the writer connection on the blocking pool.
    pub(crate) async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            // A panic in an earlier closure leaves no open transaction (rusqlite rolls back on
            // drop), so a poisoned connection is still usable.
            let mut conn = inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("sqlite task failed: {e}")))?
    }

    /// Runs `f` with a reader connection on the blocking pool. `f` must not write.
    pub(crate) async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let n = inner.readers.len();
            let start = inner.next_reader.fetch_add(1, Ordering::Relaxed);
            // Take the first idle reader starting from a rotating position; if all are busy,
            // wait for the one at that position.
            let idle = (0..n).find_map(|i| inner.readers[(start + i) % n].try_lock().ok());
            let mut conn = match idle {
                Some(guard) => guard,
                None => inner.readers[start % n].lock().unwrap_or_else(PoisonError::into_inner),
            };
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("sqlite task failed: {e}")))?
    }
}

fn open_blocking(path: &Path) -> anyhow::Result<Inner> {
    let mut writer = Connection::open(path)?;
    configure(&writer)?;
    let mode: String = writer.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    anyhow::ensure!(mode.eq_ignore_ascii_case("wal"), "could not switch to WAL mode (got {mode})");
    writer.execute_batch("PRAGMA synchronous = NORMAL;")?;
    let applied = migrations::run(&mut writer)?;
    if applied > 0 {
        tracing::info!(applied, "sqlite migrations applied");
    }
    let readers = (0..READERS)
        .map(|_| {
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let conn = Connection::open_with_flags(path, flags)?;
            configure(&conn)?;
            Ok(Mutex::new(conn))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Inner { writer: Mutex::new(writer), readers, next_reader: AtomicUsize::new(0) })
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch("PRAGMA foreign_keys = ON;")
}

/// Maps a driver error to [`StoreError::Backend`]. SQLite messages name tables and columns,
/// never bound values.
pub(crate) fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(format!("sqlite: {e}"))
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.read(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(backend)).await
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

#[cfg(test)]
mod tests;
