//! Conformance cases of [`SessionStore`](crate::auth::store::SessionStore).

use chrono::Duration;

use crate::auth::store::Session;
use crate::store::Store;
use crate::store::conformance::fixtures::t0;

fn session(hash: &str, expires_in: Duration) -> Session {
    Session {
        token_hash: hash.to_owned(),
        username: "admin".into(),
        created_at: t0(),
        expires_at: t0() + expires_in,
    }
}

/// Sessions round-trip by token hash (expired ones too), and logout removes only its own.
pub async fn create_get_delete(store: &dyn Store) {
    let live = session(&"a".repeat(64), Duration::hours(12));
    let expired = session(&"b".repeat(64), Duration::hours(-1));
    store.create_session(&live).await.expect("create");
    store.create_session(&expired).await.expect("create");

    assert_eq!(store.get_session(&live.token_hash).await.expect("get"), Some(live.clone()));
    assert_eq!(
        store.get_session(&expired.token_hash).await.expect("get"),
        Some(expired.clone()),
        "expired sessions are returned; the caller checks expires_at"
    );
    assert_eq!(store.get_session(&"c".repeat(64)).await.expect("get unknown"), None);

    store.delete_session(&live.token_hash).await.expect("delete");
    assert_eq!(store.get_session(&live.token_hash).await.expect("get"), None);
    store.delete_session(&live.token_hash).await.expect("deleting a missing session is not an error");
    assert_eq!(store.get_session(&expired.token_hash).await.expect("get"), Some(expired), "others kept");
}
