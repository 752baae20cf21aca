//! Recording endpoints: metadata (`.json`), media (`.wav` or no extension) with HTTP `Range`
//! support so a browser can seek, and listings. `.mp3` answers 404 with a Twilio-shaped error:
//! the sandbox only produces WAV.

use super::auth::authenticate;
use super::error::TwilioError;
use super::recording::resource;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

/// A byte range request resolved against a length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable `Range` header: serve everything.
    Full,
    /// Serve `start..=end`.
    Partial(u64, u64),
    /// 416 Range Not Satisfiable.
    Unsatisfiable,
}

/// Parses a single `bytes=` range (`a-b`, `a-`, `-n`); anything else is ignored (served in full).
pub fn parse_range(value: Option<&str>, len: u64) -> RangeRequest {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else { return RangeRequest::Full };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else { return RangeRequest::Full };
    let (a, b) = (a.trim(), b.trim());
    let parsed = match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
        (Some(start), Some(end)) if start <= end => Some((start, end.min(len.saturating_sub(1)))),
        (Some(_), Some(_)) => return RangeRequest::Full,
        (Some(start), None) if b.is_empty() => Some((start, len.saturating_sub(1))),
        (None, Some(n)) if a.is_empty() => {
            if n == 0 {
                return RangeRequest::Unsatisfiable;
            }
            Some((len.saturating_sub(n), len.saturating_sub(1)))
        }
        _ => None,
    };
    match parsed {
        None => RangeRequest::Full,
        Some((start, _)) if start >= len => RangeRequest::Unsatisfiable,
        Some((start, end)) => RangeRequest::Partial(start, end),
    }
}

/// `GET /2010-04-01/Accounts/{AC}/Recordings/{RE}[.json|.wav|.mp3]`.
pub(crate) async fn get(
    State(state): State<AppState>,
    Path((account, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, TwilioError> {
    authenticate(&state.config.accounts, &account, &headers)?;
    let (sid, ext) = file.split_once('.').unwrap_or((file.as_str(), ""));
    let rec = state
        .recordings
        .get(sid)
        .filter(|r| r.account_sid == account)
        .ok_or_else(|| TwilioError::not_found(&format!("/Recordings/{file}")))?;
    match ext {
        "json" => Ok(Json(resource(&state.base_url, &rec)).into_response()),
        "" | "wav" if rec.status == "completed" => Ok(media(&rec.wav, &headers)),
        "" | "wav" => Err(TwilioError::not_found("recording media (still in progress)")),
        "mp3" => Err(TwilioError::not_found("recording media as MP3 (the sandbox serves WAV only)")),
        _ => Err(TwilioError::not_found(&format!("/Recordings/{file}"))),
    }
}

fn media(wav: &bytes::Bytes, headers: &HeaderMap) -> Response {
    let len = wav.len() as u64;
    let range = parse_range(headers.get(header::RANGE).and_then(|v| v.to_str().ok()), len);
    let mut res = match range {
        RangeRequest::Full => (StatusCode::OK, wav.clone()).into_response(),
        RangeRequest::Partial(start, end) => {
            let body = wav.slice(start as usize..=end as usize);
            let mut res = (StatusCode::PARTIAL_CONTENT, body).into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")) {
                res.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            res
        }
        RangeRequest::Unsatisfiable => {
            let mut res = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                res.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return res;
        }
    };
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/x-wav"));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    res
}

/// `DELETE /2010-04-01/Accounts/{AC}/Recordings/{RE}.json`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path((account, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, TwilioError> {
    authenticate(&state.config.accounts, &account, &headers)?;
    let sid = file.strip_suffix(".json").unwrap_or(&file);
    let owned = state.recordings.get(sid).is_some_and(|r| r.account_sid == account);
    if owned && state.recordings.remove(sid) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(TwilioError::not_found(&format!("/Recordings/{file}")))
    }
}

/// The paging envelope of list endpoints (single page).
pub(crate) fn page(key: &str, uri: &str, items: Vec<serde_json::Value>) -> serde_json::Value {
    let n = items.len();
    serde_json::json!({
        key: items,
        "first_page_uri": uri,
        "next_page_uri": null,
        "previous_page_uri": null,
        "page": 0,
        "page_size": n.max(50),
        "start": 0,
        "end": n.saturating_sub(1),
        "uri": uri,
    })
}

/// `GET /2010-04-01/Accounts/{AC}/Recordings.json?CallSid=…`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Path(account): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, TwilioError> {
    authenticate(&state.config.accounts, &account, &headers)?;
    let items = state.recordings.list(&account, query.get("CallSid").map(String::as_str));
    let items = items.iter().map(|r| resource(&state.base_url, r)).collect();
    Ok(Json(page("recordings", &format!("/2010-04-01/Accounts/{account}/Recordings.json"), items)))
}

/// `GET /2010-04-01/Accounts/{AC}/Calls/{CA}/Recordings.json`.
pub(crate) async fn list_for_call(
    State(state): State<AppState>,
    Path((account, call)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, TwilioError> {
    authenticate(&state.config.accounts, &account, &headers)?;
    let items = state.recordings.list(&account, Some(&call));
    let items = items.iter().map(|r| resource(&state.base_url, r)).collect();
    let uri = format!("/2010-04-01/Accounts/{account}/Calls/{call}/Recordings.json");
    Ok(Json(page("recordings", &uri, items)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeRequest::*;
        assert_eq!(parse_range(None, 100), Full);
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Partial(0, 9));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Partial(90, 99));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Partial(90, 99));
        assert_eq!(parse_range(Some("bytes=-1000"), 100), Partial(0, 99));
        assert_eq!(parse_range(Some("bytes=50-1000"), 100), Partial(50, 99));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Full);
        assert_eq!(parse_range(Some("items=0-1"), 100), Full);
        assert_eq!(parse_range(Some("bytes=9-1"), 100), Full);
    }
}
