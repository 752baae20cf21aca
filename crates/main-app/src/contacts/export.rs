//! `GET /api/contacts/export.csv`: contacts as CSV with the list's filters, in a shape the
//! import reads back (phone, names, email, time zone, then one column per custom field). Cells a
//! spreadsheet would evaluate are neutralised.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::collections::{BTreeSet, HashSet};

use super::handlers::ListQuery;
use super::model::Contact;
use crate::calls::export::safe_cell;
use crate::calls::model::Page;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Most contacts one export returns.
pub const MAX_ROWS: u64 = 200_000;
const PAGE: u64 = 1_000;

const FIXED: [&str; 9] =
    ["Phone", "First Name", "Last Name", "Name", "Email", "Time Zone", "Tags", "Do Not Call", "Created At"];

fn row(c: &Contact, custom: &[String], dnc: bool) -> Vec<String> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut r = vec![
        c.phone.to_string(),
        opt(&c.first_name),
        opt(&c.last_name),
        opt(&c.name),
        opt(&c.email),
        opt(&c.time_zone),
        c.tags.join(";"),
        if dnc { "yes".into() } else { String::new() },
        c.created_at.to_rfc3339(),
    ];
    r.extend(custom.iter().map(|k| c.custom_fields.get(k).cloned().unwrap_or_default()));
    r.into_iter().map(|v| safe_cell(&v)).collect()
}

/// `GET /api/contacts/export.csv`.
pub async fn export(State(state): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let filter = q.filter();
    let mut contacts = Vec::new();
    let mut offset = 0;
    while offset < MAX_ROWS {
        let page = state.store.list_contacts(&filter, Page { offset, limit: PAGE }).await?;
        let n = page.items.len() as u64;
        contacts.extend(page.items);
        if n < PAGE {
            break;
        }
        offset += n;
    }
    let custom: Vec<String> = contacts
        .iter()
        .flat_map(|c| c.custom_fields.keys().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let phones: Vec<_> = contacts.iter().map(|c| c.phone.clone()).collect();
    let dnc: HashSet<String> =
        state.store.dnc_among(&phones).await?.into_iter().map(|e| e.phone.to_string()).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let header: Vec<String> =
        FIXED.iter().map(|h| (*h).to_owned()).chain(custom.iter().map(|k| safe_cell(k))).collect();
    w.write_record(&header).map_err(ApiError::internal)?;
    for c in &contacts {
        w.write_record(row(c, &custom, dnc.contains(c.phone.as_str()))).map_err(ApiError::internal)?;
    }
    let bytes = w.into_inner().map_err(|e| ApiError::internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"contacts.csv\""),
        ],
        Body::from(bytes),
    )
        .into_response())
}
