//! CSV import: `POST /api/contacts/import/preview` reads the uploaded file (streamed, up to
//! `CONTACT_IMPORT_MAX_MB`) and reports what an import would do: invalid numbers with the reason,
//! duplicates within the file, numbers on the do-not-call list, contacts that already exist;
//! nothing is written. `POST /api/contacts/import` reads it again and writes it (batched), and
//! with `campaignId` adds the contacts to that campaign (do-not-call numbers excepted). The
//! preview's `fileSha256` passed back as `expectSha256` guarantees the file committed is the
//! file reviewed. The body is the CSV itself (`Content-Type: text/csv`).

pub mod parse;
pub mod upload;

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

use self::parse::{ColumnChoice, DuplicateRow, FileError, InvalidRow, Mapping, ParsedFile};
use self::upload::{Received, UploadError};
use crate::campaigns::join;
use crate::contacts::model::{Contact, DncEntry};
use crate::contacts::validate;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::now_ms;
use common::ids::CampaignId;
use common::phone::PhoneNumber;

/// Contacts written per store batch.
const WRITE_BATCH: usize = 1000;
/// Rows shown in the preview's sample.
const SAMPLE: usize = 20;

/// Query of both import routes.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportQuery {
    /// Column names overriding detection.
    #[serde(flatten)]
    pub columns: ColumnChoice,
    /// Region for numbers without a country code (default `DEFAULT_PHONE_REGION`).
    pub default_region: Option<String>,
    /// Comma-separated tags given to every imported contact.
    pub tags: Option<String>,
    /// Commit only: add the contacts to this campaign.
    pub campaign_id: Option<String>,
    /// Commit only: refuse unless the file's SHA-256 is this (the previewed file).
    pub expect_sha256: Option<String>,
}

/// A do-not-call number in the file.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DncHit {
    /// Line in the file.
    pub line: u64,
    /// The number.
    pub phone: PhoneNumber,
    /// Why it is listed.
    pub reason: Option<String>,
}

/// A valid row as the preview shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SampleRow {
    /// Line in the file.
    pub line: u64,
    /// The contact it would write.
    pub contact: Contact,
}

/// What an import does (or did).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// SHA-256 of the file (pass it as `expectSha256` to commit exactly this file).
    pub file_sha256: String,
    /// Size.
    pub bytes: u64,
    /// Headers.
    pub headers: Vec<String>,
    /// How the columns are used.
    pub mapping: Mapping,
    /// Data rows.
    pub rows: u64,
    /// Valid distinct numbers.
    pub valid: u64,
    /// Of those, numbers no contact has yet.
    pub new_contacts: u64,
    /// Of those, numbers of existing contacts (they are updated).
    pub existing_contacts: u64,
    /// Invalid rows (first 1000).
    pub invalid: Vec<InvalidRow>,
    /// Invalid rows in all.
    pub invalid_count: u64,
    /// Duplicates within the file (first 1000).
    pub duplicates: Vec<DuplicateRow>,
    /// Duplicates in all.
    pub duplicate_count: u64,
    /// Numbers on the do-not-call list (first 1000).
    pub dnc: Vec<DncHit>,
    /// DNC numbers in all.
    pub dnc_count: u64,
    /// The first valid rows.
    pub sample: Vec<SampleRow>,
    /// Commit only: contacts created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<u64>,
    /// Commit only: existing contacts updated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<u64>,
    /// Commit only: contacts added to the campaign.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub added_to_campaign: Option<u64>,
}

fn file_error(e: FileError) -> ApiError {
    match e {
        FileError::NoPhoneColumn(_) => ApiError::invalid("phoneColumn", e.to_string()),
        FileError::UnknownColumn(_) => ApiError::invalid("columns", e.to_string()),
        FileError::Empty | FileError::Unreadable(_) => ApiError::invalid("file", e.to_string()),
    }
}

fn upload_error(e: UploadError) -> ApiError {
    match e {
        UploadError::TooLarge(_) => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "FILE_TOO_LARGE", e.to_string())
        }
        UploadError::Interrupted(_) => ApiError::bad_request(e.to_string()),
        UploadError::Parser => ApiError::internal(e),
    }
}

/// Streams and parses the uploaded file.
async fn read(state: &AppState, q: &ImportQuery, body: Body) -> ApiResult<(ParsedFile, Received)> {
    let region = match q.default_region.as_deref().filter(|r| !r.trim().is_empty()) {
        Some(r) => Some(
            common::phone::parse_region(r).map_err(|e| ApiError::invalid("defaultRegion", e.to_string()))?,
        ),
        None => state.settings.region(),
    };
    let tags = validate::tags(q.tags.as_deref().unwrap_or("").split(',').map(str::to_owned).collect())?;
    let choice = q.columns.clone();
    let limit = state.settings.campaigns.import_max_bytes;
    let now = now_ms();
    let (parsed, received) =
        upload::parse_body(body, limit, move |r| parse::parse(r, &choice, region, &tags, now))
            .await
            .map_err(upload_error)?;
    Ok((parsed.map_err(file_error)?, received))
}

/// The report of `parsed` against the store (DNC list, existing contacts), and every number of
/// the file that is on the do-not-call list.
async fn report(
    state: &AppState,
    parsed: &ParsedFile,
    received: Received,
) -> ApiResult<(Report, HashSet<String>)> {
    let phones: Vec<PhoneNumber> = parsed.valid.iter().map(|r| r.contact.phone.clone()).collect();
    let listed: HashMap<String, DncEntry> =
        state.store.dnc_among(&phones).await?.into_iter().map(|e| (e.phone.to_string(), e)).collect();
    let existing = state.store.contacts_by_phones(&phones).await?.len() as u64;
    let hits: Vec<DncHit> = parsed
        .valid
        .iter()
        .filter_map(|r| {
            listed.get(r.contact.phone.as_str()).map(|e| DncHit {
                line: r.line,
                phone: e.phone.clone(),
                reason: e.reason.clone(),
            })
        })
        .collect();
    let all_dnc: HashSet<String> = hits.iter().map(|h| h.phone.to_string()).collect();
    let rep = Report {
        file_sha256: received.sha256,
        bytes: received.bytes,
        headers: parsed.headers.clone(),
        mapping: parsed.mapping.clone(),
        rows: parsed.rows,
        valid: parsed.valid.len() as u64,
        new_contacts: parsed.valid.len() as u64 - existing,
        existing_contacts: existing,
        invalid: parsed.invalid.clone(),
        invalid_count: parsed.invalid_count,
        duplicates: parsed.duplicates.clone(),
        duplicate_count: parsed.duplicate_count,
        dnc_count: hits.len() as u64,
        dnc: hits.into_iter().take(parse::MAX_REPORTED).collect(),
        sample: parsed
            .valid
            .iter()
            .take(SAMPLE)
            .map(|r| SampleRow { line: r.line, contact: r.contact.clone() })
            .collect(),
        created: None,
        updated: None,
        added_to_campaign: None,
    };
    Ok((rep, all_dnc))
}

/// `POST /api/contacts/import/preview`: what importing the body would do; writes nothing.
pub async fn preview(
    State(state): State<AppState>,
    Query(q): Query<ImportQuery>,
    body: Body,
) -> ApiResult<Json<Report>> {
    let (parsed, received) = read(&state, &q, body).await?;
    Ok(Json(report(&state, &parsed, received).await?.0))
}

/// `POST /api/contacts/import`: imports the body (see the module docs).
pub async fn commit(
    State(state): State<AppState>,
    Query(q): Query<ImportQuery>,
    body: Body,
) -> ApiResult<Json<Report>> {
    let campaign = match q.campaign_id.as_deref().filter(|c| !c.is_empty()) {
        Some(raw) => {
            let id = CampaignId::parse(raw)
                .map_err(|_| ApiError::invalid("campaignId", "campaignId is not a campaign id"))?;
            let c = state
                .store
                .get_campaign(&id)
                .await?
                .ok_or_else(|| ApiError::invalid("campaignId", "no such campaign"))?;
            if c.status.is_final() {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "CAMPAIGN_FINISHED",
                    "the campaign is completed or canceled",
                ));
            }
            Some(c)
        }
        None => None,
    };
    let (parsed, received) = read(&state, &q, body).await?;
    if let Some(expected) = q.expect_sha256.as_deref().filter(|e| !e.is_empty())
        && !expected.eq_ignore_ascii_case(&received.sha256)
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "IMPORT_CHANGED",
            "the file differs from the one previewed",
        ));
    }
    let (mut rep, dnc) = report(&state, &parsed, received).await?;
    let (mut created, mut updated, mut joining) = (0, 0, Vec::new());
    for batch in parsed.valid.chunks(WRITE_BATCH) {
        let contacts: Vec<Contact> = batch.iter().map(|r| r.contact.clone()).collect();
        let written = state.store.upsert_contacts(&contacts).await?;
        for (contact, w) in contacts.into_iter().zip(written) {
            if w.created {
                created += 1
            } else {
                updated += 1
            }
            if !dnc.contains(contact.phone.as_str()) {
                joining.push(Contact { id: w.id, ..contact });
            }
        }
    }
    if let Some(c) = &campaign {
        rep.added_to_campaign = Some(join::join(&state, c, &joining, now_ms()).await?);
    }
    tracing::info!(rows = rep.rows, created, updated, invalid = rep.invalid_count, "contacts imported");
    rep.created = Some(created);
    rep.updated = Some(updated);
    Ok(Json(rep))
}
