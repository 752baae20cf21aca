//! The conformance suite on SQLite (a fresh file in a temporary directory per case), plus what
//! only this backend has: migrations, WAL, persistence across reopen, two handles on one file.

use futures_util::future::join_all;
use std::sync::Arc;

use super::{SqliteStore, migrations};
use crate::calls::model::Call;
use crate::calls::store::{CallStore, Inserted};
use crate::store::conformance::TestStore;
use crate::store::conformance::fixtures::{call, full_call};
use crate::store::{SQLITE_FILE_NAME, Store};

async fn harness() -> Option<TestStore> {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join(SQLITE_FILE_NAME)).await.expect("open sqlite");
    Some(TestStore::new(Arc::new(store)).with_guard(dir))
}

crate::store_conformance_tests!(harness);

#[tokio::test]
async fn migrations_are_recorded_and_not_rerun() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(SQLITE_FILE_NAME);
    let store = SqliteStore::open(&path).await.expect("open");
    let c = full_call();
    store.insert_call(&c).await.expect("insert");
    drop(store);

    // Reopening applies nothing new and keeps the data.
    let store = SqliteStore::open(&path).await.expect("reopen");
    assert_eq!(store.get_call(&c.id).await.expect("get"), Some(c));
    let versions = store.read(|conn| migrations::applied_versions(conn).map_err(super::backend)).await;
    let expected: Vec<i64> = migrations::MIGRATIONS.iter().map(|m| m.version).collect();
    assert_eq!(versions.expect("versions"), expected);
    let mode: String = store
        .read(|conn| conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).map_err(super::backend))
        .await
        .expect("journal mode");
    assert_eq!(mode, "wal");
    assert_eq!(store.backend(), "sqlite");
    store.ping().await.expect("ping");
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(SQLITE_FILE_NAME);
    drop(SqliteStore::open(&path).await.expect("open"));
    let conn = rusqlite::Connection::open(&path).expect("raw open");
    conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)", [])
        .expect("insert future version");
    drop(conn);
    let err = SqliteStore::open(&path).await.err().expect("a newer schema must be refused");
    assert!(err.to_string().contains("9999"), "{err}");
}

#[tokio::test]
async fn the_terminal_rank_literal_matches_call_status() {
    for s in common::call::CallStatus::ALL {
        assert_eq!(s.is_terminal(), i64::from(s.rank()) >= super::calls::TERMINAL_RANK, "{s}");
    }
}

/// Two handles on one file (as two processes would be) racing with one idempotency key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_on_one_file_keep_the_key_unique() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(SQLITE_FILE_NAME);
    let a = SqliteStore::open(&path).await.expect("open a");
    let b = SqliteStore::open(&path).await.expect("open b");
    let calls: Vec<Call> = (0..10).map(|_| Call { idempotency_key: Some("k".into()), ..call() }).collect();
    let results = join_all(calls.iter().enumerate().map(|(i, c)| {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { store.insert_call(c).await }
    }))
    .await;
    let new = results.iter().filter(|r| matches!(r, Ok(Inserted::New(_)))).count();
    let existing = results.iter().filter(|r| matches!(r, Ok(Inserted::Existing(_)))).count();
    assert_eq!((new, existing), (1, 9), "{results:?}");
}

/// An event for a call that does not exist is refused (foreign key), documented divergence
/// from MongoDB.
#[tokio::test]
async fn events_need_their_call() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join(SQLITE_FILE_NAME)).await.expect("open");
    let orphan =
        crate::calls::model::CallEvent::new(&common::ids::CallId::new(), "x", "api", serde_json::json!({}));
    assert!(store.append_event(&orphan).await.is_err());
}
