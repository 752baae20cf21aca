//! Contacts, the do-not-call list, campaigns, members and attempts on MongoDB (migration 4).
//!
//! Every write is a single-document operation (atomic without transactions) except where a
//! trait method spans documents:
//! - `begin_attempt` first increments the campaign's `fence` with `{_id, status: "running"}` as
//!   the condition. MongoDB orders writes to one document, so an attempt whose fence write
//!   comes after a pause's status write is refused; one whose fence came first was decided
//!   before the pause, and its dial goes ahead. Then the member moves from claimed (by this
//!   owner) to dialing, then the attempt is inserted; a crash between those two leaves a
//!   `dialing` member whose attempt the recovery recreates (`ensure_attempt`).
//! - `complete_if_drained` counts unfinished members, then completes the campaign; if members
//!   were added in between, it recounts after the write and puts the campaign back to running.
//! - `finish_attempt`, `attempt_dialled` and `settle_attempt` write the member (conditionally)
//!   first and the attempt second; the attempt write is idempotent, and a crash between them
//!   leaves an attempt whose member moved on, which `unsettled_attempts`/progress tolerate.

mod codec;
mod contacts;
mod dial;
mod dnc;
mod members;
mod records;

use futures_util::TryStreamExt;
use futures_util::future::BoxFuture;
use mongodb::bson::{Document, doc};
use mongodb::options::IndexOptions;
use mongodb::{Collection, Cursor, Database, IndexModel};
use serde::de::DeserializeOwned;

use crate::store::StoreResult;
use crate::store::mongo::{MongoStore, deadline};

/// Contacts (`_id` = contact id, unique `phone`).
pub const CONTACTS: &str = "contacts";
/// The do-not-call list (`_id` = number).
pub const DNC: &str = "dnc";
/// Campaigns (`_id` = campaign id).
pub const CAMPAIGNS: &str = "campaigns";
/// Members (`_id` = member id, unique `(campaignId, contactId)`).
pub const MEMBERS: &str = "campaign_members";
/// Attempts (`_id` = attempt id).
pub const ATTEMPTS: &str = "campaign_attempts";

impl MongoStore {
    /// A typed collection of this module.
    fn typed<T: Send + Sync>(&self, name: &str) -> Collection<T> {
        self.database().collection(name)
    }
}

/// Collects a cursor under the operation deadline.
async fn all<T: DeserializeOwned + Send + Sync + Unpin>(cursor: Cursor<T>) -> StoreResult<Vec<T>> {
    deadline(cursor.try_collect()).await
}

/// The error of an operation that outlived [`OP_TIMEOUT`](crate::store::mongo::OP_TIMEOUT).
fn timed_out() -> crate::store::StoreError {
    let secs = crate::store::mongo::OP_TIMEOUT.as_secs();
    crate::store::StoreError::Backend(format!("mongodb: no answer within {secs}s"))
}

/// A regular expression matching `s` literally, anywhere.
fn regex_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for ch in s.chars() {
        if "\\^$.|?*+()[]{}/-".contains(ch) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

fn index(keys: Document, name: &str, unique: bool) -> IndexModel {
    let options = IndexOptions::builder().name(name.to_owned()).unique(unique).build();
    IndexModel::builder().keys(keys).options(options).build()
}

/// Migration 4: the indexes of these collections (idempotent).
pub fn campaigns_v4(db: &Database) -> BoxFuture<'_, anyhow::Result<()>> {
    Box::pin(async move {
        let plan: [(&str, Vec<IndexModel>); 5] = [
            (
                CONTACTS,
                vec![
                    index(doc! { "phone": 1 }, "contacts_phone", true),
                    index(doc! { "createdAt": -1, "_id": -1 }, "contacts_created", false),
                    index(doc! { "tags": 1 }, "contacts_tags", false),
                ],
            ),
            (DNC, vec![index(doc! { "createdAt": -1, "_id": -1 }, "dnc_created", false)]),
            (
                CAMPAIGNS,
                vec![
                    index(doc! { "createdAt": -1, "_id": -1 }, "campaigns_created", false),
                    index(doc! { "status": 1, "createdAt": -1 }, "campaigns_status", false),
                ],
            ),
            (
                MEMBERS,
                vec![
                    index(doc! { "campaignId": 1, "contactId": 1 }, "campaign_members_contact", true),
                    index(doc! { "campaignId": 1, "dueAt": 1, "seq": 1 }, "campaign_members_due", false),
                    index(doc! { "campaignId": 1, "state": 1, "seq": 1 }, "campaign_members_state", false),
                    index(doc! { "state": 1, "updatedAt": 1 }, "campaign_members_in_flight", false),
                    index(doc! { "attemptId": 1 }, "campaign_members_attempt", false),
                    index(doc! { "contactId": 1, "state": 1 }, "campaign_members_contact_state", false),
                ],
            ),
            (
                ATTEMPTS,
                vec![
                    index(
                        doc! { "campaignId": 1, "startedAt": 1, "_id": 1 },
                        "campaign_attempts_campaign",
                        false,
                    ),
                    index(
                        doc! { "campaignId": 1, "contactId": 1, "startedAt": 1 },
                        "campaign_attempts_contact",
                        false,
                    ),
                    index(
                        doc! { "campaignId": 1, "result": 1, "endedAt": 1 },
                        "campaign_attempts_ended",
                        false,
                    ),
                    index(doc! { "outcomeFinal": 1, "endedAt": 1 }, "campaign_attempts_unsettled", false),
                ],
            ),
        ];
        for (name, indexes) in plan {
            deadline(db.collection::<Document>(name).create_indexes(indexes)).await?;
        }
        Ok(())
    })
}
