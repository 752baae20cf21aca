//! Conformance cases of [`CallStore`](crate::calls::store::CallStore), split by concern. Every
//! case is re-exported here, under the `calls` group of `store_conformance_tests!`.

mod events;
mod insert;
mod list;
mod status;

pub use events::*;
pub use insert::*;
pub use list::*;
pub use status::*;

use crate::calls::model::Call;
use crate::calls::store::Inserted;
use crate::store::Store;

/// Inserts `call`, asserting it is new, and returns it as stored.
pub(crate) async fn insert_new(store: &dyn Store, call: &Call) -> Call {
    match store.insert_call(call).await.expect("insert_call") {
        Inserted::New(stored) => stored,
        Inserted::Existing(other) => panic!("expected a new call, got existing {}", other.id),
    }
}
