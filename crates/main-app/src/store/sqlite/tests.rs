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

#[tokio::test]
async fn migration_5_keeps_existing_deliveries_as_final_reports() {
    use crate::crm::model::{Delivery, DeliveryKind, DeliveryStatus};
    use crate::crm::store::CrmOutbox;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(SQLITE_FILE_NAME);
    let c = call();
    {
        // A database as version 4 left it, with one call and its delivery.
        let mut conn = rusqlite::Connection::open(&path).expect("raw open");
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL, \
             applied_at INTEGER NOT NULL) STRICT;",
        )
        .expect("records");
        let tx = conn.transaction().expect("tx");
        for m in migrations::MIGRATIONS.iter().filter(|m| m.version <= 4) {
            tx.execute_batch(m.sql).expect("old migration");
            tx.execute(
                "INSERT INTO schema_migrations VALUES (?1, ?2, 0)",
                rusqlite::params![m.version, m.name],
            )
            .expect("record");
        }
        tx.execute(
            "INSERT INTO calls (id, to_number, from_number, direction, status, status_rank, created_at, \
             updated_at, dynamic_variables) VALUES (?1, '+61491570101', '+61298765432', 'outbound-api', \
             'busy', 4, 0, 0, '{}')",
            rusqlite::params![c.id.as_str()],
        )
        .expect("call");
        tx.execute(
            "INSERT INTO crm_deliveries (id, call_id, idempotency_key, payload, status, attempts, \
             next_attempt_at, created_at, updated_at, delivered_at, last_error, log) \
             VALUES ('d1', ?1, ?2, '{\"status\":\"no answer\"}', 'delivered', 1, 0, 0, 5, 5, NULL, '[]')",
            rusqlite::params![c.id.as_str(), format!("call-{}", c.id)],
        )
        .expect("delivery");
        tx.commit().expect("commit");
    }
    let store = SqliteStore::open(&path).await.expect("migrates");
    let kept = store.get_delivery("d1").await.expect("get").expect("kept");
    assert_eq!(
        (kept.kind, kept.status, kept.post_call_conversation, kept.payload),
        (DeliveryKind::Final, DeliveryStatus::Delivered, None, serde_json::json!({"status": "no answer"}))
    );
    assert!(
        !store
            .enqueue_delivery(&Delivery::new(&c.id, serde_json::json!({}), chrono::Utc::now()))
            .await
            .expect("enqueue"),
        "its key still holds"
    );
    let update = Delivery::update(&c.id, "conv_1", serde_json::json!({}), chrono::Utc::now());
    assert!(store.enqueue_delivery(&update).await.expect("enqueue"), "an update can follow it");
}
