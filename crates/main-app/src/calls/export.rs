//! `GET /api/calls/export.csv`: the call log as CSV, with the list's filters.
//!
//! Rows are read from the store a page at a time and written into the response; cells that a
//! spreadsheet would run as a formula are prefixed with `'` (CSV injection).

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::handlers::{ListQuery, filter_from_query};
use super::model::{Call, Page};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Most rows one export returns.
pub const MAX_ROWS: u64 = 100_000;
const PAGE: u64 = 1_000;

const HEADER: [&str; 22] = [
    "id",
    "callSid",
    "conversationId",
    "status",
    "outcome",
    "from",
    "to",
    "direction",
    "createdAt",
    "answeredAt",
    "endedAt",
    "twilioDurationSecs",
    "answeredBy",
    "terminatedBy",
    "terminationReason",
    "terminationSource",
    "name",
    "prompt",
    "firstMessage",
    "campaignId",
    "contactId",
    "error",
];

/// Neutralises a cell a spreadsheet would evaluate.
pub fn safe_cell(value: &str) -> String {
    let mut chars = value.chars();
    let risky = match chars.next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !chars.next().is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    };
    if risky { format!("'{value}") } else { value.to_owned() }
}

fn row(call: &Call) -> Vec<String> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    let tb = call.terminated_by.as_ref();
    vec![
        call.id.to_string(),
        opt(call.call_sid.as_ref().map(ToString::to_string)),
        opt(call.conversation_id.clone()),
        call.status.to_string(),
        opt(call.outcome.map(|o| o.as_str().to_owned())),
        call.from.to_string(),
        call.to.to_string(),
        call.direction.clone(),
        call.created_at.to_rfc3339(),
        opt(call.answered_at.map(|t| t.to_rfc3339())),
        opt(call.ended_at.map(|t| t.to_rfc3339())),
        opt(call.twilio_duration_secs.map(|d| d.to_string())),
        opt(call.answered_by.map(|a| a.as_str().to_owned())),
        opt(tb.map(|t| t.party.as_str().to_owned())),
        opt(tb.map(|t| t.reason.clone())),
        opt(tb.map(|t| t.source.clone())),
        opt(call.name.clone()),
        opt(call.prompt.clone()),
        opt(call.first_message.clone()),
        opt(call.campaign_id.as_ref().map(ToString::to_string)),
        opt(call.contact_id.as_ref().map(ToString::to_string)),
        opt(call.error.as_ref().map(|e| format!("{}: {}", e.code, e.message))),
    ]
    .into_iter()
    .map(|c| safe_cell(&c))
    .collect()
}

/// Builds the whole CSV (bounded by [`MAX_ROWS`]).
pub async fn export(State(state): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let (filter, _) = filter_from_query(&q)?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(HEADER).map_err(ApiError::internal)?;
    let mut offset = 0;
    while offset < MAX_ROWS {
        let page = state.store.list_calls(&filter, Page { offset, limit: PAGE }).await?;
        for call in &page.items {
            writer.write_record(row(call)).map_err(ApiError::internal)?;
        }
        offset += PAGE;
        if page.items.len() < PAGE as usize || offset >= page.total {
            break;
        }
    }
    let bytes = writer.into_inner().map_err(ApiError::internal)?;
    let name = format!("calls-{}.csv", chrono::Utc::now().format("%Y%m%d-%H%M%S"));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        Body::from(bytes),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_cell;

    #[test]
    fn formulas_are_neutralised_but_numbers_kept() {
        assert_eq!(safe_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe_cell("@SUM(1)"), "'@SUM(1)");
        assert_eq!(safe_cell("+61491570101"), "+61491570101");
        assert_eq!(safe_cell("-5"), "-5");
        assert_eq!(safe_cell("-cmd"), "'-cmd");
        assert_eq!(safe_cell("plain"), "plain");
    }
}
