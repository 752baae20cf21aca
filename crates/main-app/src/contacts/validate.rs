//! Validation of contact fields at the boundary (API bodies and import rows): numbers to E.164,
//! lower-cased emails, IANA zones, bounded text, tags and custom fields.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

use super::model::Contact;
use super::tz;
use crate::error::ApiError;
use crate::settings::Settings;
use common::ids::ContactId;

/// Longest name.
pub const MAX_NAME: usize = 200;
/// Longest notes.
pub const MAX_NOTES: usize = 5_000;
/// Most tags per contact.
pub const MAX_TAGS: usize = 50;
/// Longest tag.
pub const MAX_TAG: usize = 64;
/// Most custom fields per contact.
pub const MAX_CUSTOM_FIELDS: usize = 100;
/// Longest custom field name.
pub const MAX_FIELD_NAME: usize = 100;
/// Longest custom field value.
pub const MAX_FIELD_VALUE: usize = 2_000;

/// `POST /api/contacts` and `PUT /api/contacts/{id}` body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContactInput {
    /// Number (E.164, or national in the default region).
    pub phone: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Full name (default: first and last joined).
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Custom fields (string values).
    #[serde(default)]
    pub custom_fields: BTreeMap<String, String>,
    /// Notes.
    pub notes: Option<String>,
}

/// Trimmed text, `None` when empty, refused when longer than `max`.
pub fn text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    match value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        Some(v) if v.chars().count() > max => {
            Err(ApiError::invalid(field, format!("{field} is longer than {max} characters")))
        }
        other => Ok(other),
    }
}

/// A plausible email, lower-cased.
pub fn email(value: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(e) = text("email", value, 254)? else { return Ok(None) };
    let ok = e.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
    }) && !e.chars().any(char::is_whitespace);
    if ok {
        Ok(Some(e.to_lowercase()))
    } else {
        Err(ApiError::invalid("email", format!("{e:?} is not an email address")))
    }
}

/// Trimmed, unique, bounded tags.
pub fn tags(raw: Vec<String>) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    for t in raw.into_iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) {
        if t.chars().count() > MAX_TAG {
            return Err(ApiError::invalid("tags", format!("a tag is longer than {MAX_TAG} characters")));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > MAX_TAGS {
        return Err(ApiError::invalid("tags", format!("at most {MAX_TAGS} tags")));
    }
    Ok(out)
}

/// Bounded custom fields (empty values dropped).
pub fn custom_fields(raw: BTreeMap<String, String>) -> Result<BTreeMap<String, String>, ApiError> {
    let fields: BTreeMap<String, String> = raw
        .into_iter()
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .collect();
    if fields.len() > MAX_CUSTOM_FIELDS {
        return Err(ApiError::invalid("customFields", format!("at most {MAX_CUSTOM_FIELDS} custom fields")));
    }
    for (k, v) in &fields {
        if k.chars().count() > MAX_FIELD_NAME || v.chars().count() > MAX_FIELD_VALUE {
            return Err(ApiError::invalid(
                "customFields",
                format!(
                    "custom field {k:?}: names up to {MAX_FIELD_NAME} and values up to {MAX_FIELD_VALUE} characters"
                ),
            ));
        }
    }
    Ok(fields)
}

/// A valid IANA zone name, if given.
pub fn zone(value: Option<String>) -> Result<Option<String>, ApiError> {
    match text("timeZone", value, 64)? {
        Some(z) => tz::parse_zone(&z)
            .map(|tz| Some(tz.name().to_owned()))
            .map_err(|e| ApiError::invalid("timeZone", e)),
        None => Ok(None),
    }
}

/// `first last`, when either is given.
pub fn joined_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = [first, last].into_iter().flatten().collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Validates an input into a contact with `id`, created at `created_at`.
pub fn contact(
    input: ContactInput,
    id: ContactId,
    created_at: DateTime<Utc>,
    settings: &Settings,
) -> Result<Contact, ApiError> {
    let raw = input
        .phone
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("phone", "phone is required"))?;
    let phone = crate::calls::validate::phone("phone", &raw, settings)?;
    let first_name = text("firstName", input.first_name, MAX_NAME)?;
    let last_name = text("lastName", input.last_name, MAX_NAME)?;
    let name = text("name", input.name, MAX_NAME)?
        .or_else(|| joined_name(first_name.as_deref(), last_name.as_deref()));
    Ok(Contact {
        id,
        phone,
        first_name,
        last_name,
        name,
        email: email(input.email)?,
        time_zone: zone(input.time_zone)?,
        tags: tags(input.tags)?,
        custom_fields: custom_fields(input.custom_fields)?,
        notes: text("notes", input.notes, MAX_NOTES)?,
        created_at,
        updated_at: crate::store::truncate_ms(Utc::now()),
    })
}
