//! Conformance cases of the post-call stores: transcripts, recordings, the CRM outbox, the
//! webhook inbox and per-call follow-ups. Every case inserts the calls it refers to first (the
//! embedded store enforces foreign keys).

pub mod crm;
pub mod followups;
pub mod recordings;
pub mod transcripts;
pub mod webhooks;

use crate::calls::model::Call;
use crate::calls::store::Inserted;
use crate::store::Store;
use crate::store::conformance::fixtures::call;

/// Inserts a fresh minimal call and returns it.
pub async fn stored_call(store: &dyn Store) -> Call {
    match store.insert_call(&call()).await.expect("insert call") {
        Inserted::New(c) => c,
        Inserted::Existing(c) => c,
    }
}
