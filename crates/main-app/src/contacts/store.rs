//! What contacts and the do-not-call list need from storage. Implemented by both stores and
//! checked by one conformance suite (`store::conformance::contacts`).

use async_trait::async_trait;

use super::model::{Contact, ContactFilter, ContactInsert, ContactUpdate, DncEntry, Upserted};
use crate::calls::model::{Page, Paged};
use crate::store::StoreResult;
use common::ids::ContactId;
use common::phone::PhoneNumber;

/// Contact records. The number is unique among contacts.
#[async_trait]
pub trait ContactStore: Send + Sync {
    /// Stores a new contact, unless another one has its number (then nothing is written).
    async fn insert_contact(&self, contact: &Contact) -> StoreResult<ContactInsert>;

    /// A contact by id.
    async fn get_contact(&self, id: &ContactId) -> StoreResult<Option<Contact>>;

    /// The contacts among `ids` that exist (any order).
    async fn get_contacts(&self, ids: &[ContactId]) -> StoreResult<Vec<Contact>>;

    /// Replaces every field but `id` and `created_at`, unless the new number belongs to another
    /// contact.
    async fn update_contact(&self, contact: &Contact) -> StoreResult<ContactUpdate>;

    /// Deletes the contacts among `ids`; returns how many existed.
    async fn delete_contacts(&self, ids: &[ContactId]) -> StoreResult<u64>;

    /// Contacts matching `filter`, newest first (then id descending), with the total count.
    async fn list_contacts(&self, filter: &ContactFilter, page: Page) -> StoreResult<Paged<Contact>>;

    /// Ids of every contact matching `filter`, oldest first, at most `limit`.
    async fn contact_ids(&self, filter: &ContactFilter, limit: u64) -> StoreResult<Vec<ContactId>>;

    /// The contacts whose number is among `phones`.
    async fn contacts_by_phones(&self, phones: &[PhoneNumber]) -> StoreResult<Vec<Contact>>;

    /// Writes an import batch, matching on the number: a new number creates the contact as
    /// given; an existing one is merged (each non-empty given field replaces the stored one,
    /// custom fields are merged key by key, tags are united; id and `created_at` are kept).
    /// Returns one entry per input, in order. Numbers within one batch are distinct.
    async fn upsert_contacts(&self, batch: &[Contact]) -> StoreResult<Vec<Upserted>>;
}

/// The do-not-call list, keyed by number.
#[async_trait]
pub trait DncStore: Send + Sync {
    /// Lists a number; returns false (and changes nothing) when it is already listed.
    async fn add_dnc(&self, entry: &DncEntry) -> StoreResult<bool>;

    /// Unlists a number; returns false when it was not listed.
    async fn remove_dnc(&self, phone: &PhoneNumber) -> StoreResult<bool>;

    /// The entry of a number, if listed.
    async fn get_dnc(&self, phone: &PhoneNumber) -> StoreResult<Option<DncEntry>>;

    /// The entries of those of `phones` that are listed.
    async fn dnc_among(&self, phones: &[PhoneNumber]) -> StoreResult<Vec<DncEntry>>;

    /// Entries whose number or reason contains `search`, newest first.
    async fn list_dnc(&self, search: Option<&str>, page: Page) -> StoreResult<Paged<DncEntry>>;
}
