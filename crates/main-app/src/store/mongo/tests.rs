//! The conformance suite on MongoDB, when `TEST_MONGODB_URI` is set (`scripts/secantusdb start`
//! prints it). Each case gets a fresh database with a random name, dropped afterwards. Without
//! the variable the cases skip, except under `CI=true`, where they fail.

use std::sync::Arc;

use super::{MongoStore, migrations};
use crate::calls::store::CallStore;
use crate::store::Store;
use crate::store::conformance::fixtures::full_call;
use crate::store::conformance::{TestStore, external_backend};

fn fresh_database_name() -> String {
    format!("vp_test_{}", uuid::Uuid::new_v4().simple())
}

async fn harness() -> Option<TestStore> {
    let uri = external_backend("TEST_MONGODB_URI")?;
    let store = MongoStore::connect(&uri, &fresh_database_name()).await.expect("connect to TEST_MONGODB_URI");
    let db = store.database().clone();
    Some(TestStore::new(Arc::new(store)).with_cleanup(async move {
        // Best effort: a leftover test database is harmless (the server is a throw-away one).
        let _ = db.drop().await;
    }))
}

crate::store_conformance_tests!(harness);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_recorded_and_not_rerun() {
    let Some(uri) = external_backend("TEST_MONGODB_URI") else { return };
    let name = fresh_database_name();
    let store = MongoStore::connect(&uri, &name).await.expect("connect");
    let c = full_call();
    store.insert_call(&c).await.expect("insert");
    let expected: Vec<i64> = migrations::MIGRATIONS.iter().map(|m| m.version).collect();
    assert_eq!(migrations::applied_versions(store.database()).await.expect("versions"), expected);

    // A second start applies nothing and keeps the data.
    let again = MongoStore::connect(&uri, &name).await.expect("reconnect");
    assert_eq!(migrations::run(again.database()).await.expect("rerun"), 0);
    assert_eq!(again.get_call(&c.id).await.expect("get"), Some(c));
    assert_eq!(again.backend(), "mongodb");
    again.ping().await.expect("ping");

    // A newer schema than this build knows is refused.
    let records = store.database().collection::<mongodb::bson::Document>(migrations::MIGRATIONS_COLLECTION);
    records.insert_one(mongodb::bson::doc! { "_id": 9999_i64, "name": "future" }).await.expect("insert");
    let err = MongoStore::connect(&uri, &name).await.err().expect("a newer schema must be refused");
    assert!(err.to_string().contains("9999"), "{err}");
    store.database().drop().await.expect("drop test database");
}
