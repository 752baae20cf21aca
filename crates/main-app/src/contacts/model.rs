//! A contact and a do-not-call entry, as stored and as the API returns them (camelCase JSON).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use common::ids::ContactId;
use common::phone::PhoneNumber;

/// A person the platform may call.
///
/// The number is unique among contacts (it is what an import matches on). The time zone is
/// only what was given explicitly; the zone used for calling windows is derived by
/// [`super::tz::effective`] (explicit, else inferred from the number, else the campaign's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    /// Internal id.
    pub id: ContactId,
    /// Number in E.164.
    pub phone: PhoneNumber,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Full name (given, or first and last joined).
    pub name: Option<String>,
    /// Email address (lower-cased).
    pub email: Option<String>,
    /// Explicit IANA time zone (`Australia/Sydney`), if one was given.
    pub time_zone: Option<String>,
    /// Free-form labels (trimmed, unique, in insertion order).
    pub tags: Vec<String>,
    /// Any other columns of an import, usable as `{{variables}}` in campaign templates.
    pub custom_fields: BTreeMap<String, String>,
    /// Operator notes.
    pub notes: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl Contact {
    /// The lower-cased text a search matches: number, names and email.
    pub fn search_text(&self) -> String {
        let parts = [
            self.name.as_deref(),
            self.first_name.as_deref(),
            self.last_name.as_deref(),
            self.email.as_deref(),
        ];
        let mut s = self.phone.as_str().to_owned();
        for p in parts.into_iter().flatten() {
            s.push(' ');
            s.push_str(&p.to_lowercase());
        }
        s
    }

    /// This (stored) contact with an import row applied: each non-empty field of `given`
    /// replaces the stored one, custom fields are merged key by key, tags are united; id, number
    /// and `created_at` are kept, `updated_at` is `given`'s.
    pub fn merged_with(&self, given: &Contact) -> Contact {
        let pick = |new: &Option<String>, old: &Option<String>| new.clone().or_else(|| old.clone());
        let mut tags = self.tags.clone();
        for t in &given.tags {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
        let mut custom_fields = self.custom_fields.clone();
        custom_fields.extend(given.custom_fields.clone());
        Contact {
            id: self.id.clone(),
            phone: self.phone.clone(),
            first_name: pick(&given.first_name, &self.first_name),
            last_name: pick(&given.last_name, &self.last_name),
            name: pick(&given.name, &self.name),
            email: pick(&given.email, &self.email),
            time_zone: pick(&given.time_zone, &self.time_zone),
            tags,
            custom_fields,
            notes: pick(&given.notes, &self.notes),
            created_at: self.created_at,
            updated_at: given.updated_at,
        }
    }
}

/// Filters for listing contacts; every field narrows the result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactFilter {
    /// Case-insensitive substring of the name, number or email.
    pub search: Option<String>,
    /// Carries this tag (exact).
    pub tag: Option<String>,
}

/// Result of inserting a contact.
#[derive(Debug, Clone, PartialEq)]
pub enum ContactInsert {
    /// Stored.
    New(Box<Contact>),
    /// Another contact already has this number; nothing was written.
    PhoneTaken(ContactId),
}

/// Result of updating a contact.
#[derive(Debug, Clone, PartialEq)]
pub enum ContactUpdate {
    /// Stored; here it is.
    Updated(Box<Contact>),
    /// No such contact.
    NotFound,
    /// Another contact already has the new number; nothing was written.
    PhoneTaken(ContactId),
}

/// What an import wrote for one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upserted {
    /// The contact (new or existing).
    pub id: ContactId,
    /// True when the contact was created, false when an existing one (same number) was updated.
    pub created: bool,
}

/// A number that must never be dialled, with why and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DncEntry {
    /// The number.
    pub phone: PhoneNumber,
    /// Why (free text: "asked not to be called", "complaint", ...).
    pub reason: Option<String>,
    /// Where it came from: `manual`, `contact`, `import`, `api`.
    pub source: String,
    /// When it was listed.
    pub created_at: DateTime<Utc>,
}
