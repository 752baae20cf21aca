//! Applies a verified `/recording-status-callback` (protocol reference §2.4) to the store: the
//! recording is upserted by its sid with a monotonic status, linked to the call, and the change
//! pushed live as a call update.

use chrono::{DateTime, Utc};

use super::model::{Recording, RecordingStatus};
use crate::calls::model::Call;
use crate::state::AppState;
use crate::store::StoreError;
use crate::webhooks::signed::TwilioRequest;

/// Stores the recording the callback reports. Returns it, or `None` when the callback carries
/// no usable `RecordingSid` / `RecordingStatus`.
pub async fn apply(
    state: &AppState,
    call: &Call,
    req: &TwilioRequest,
) -> Result<Option<Recording>, StoreError> {
    let Some(sid) = req.get("RecordingSid").filter(|s| valid_sid(s)) else {
        tracing::warn!(call_id = %call.id, "recording callback without a valid RecordingSid");
        return Ok(None);
    };
    let Some(status) = req.get("RecordingStatus").and_then(RecordingStatus::parse) else {
        tracing::warn!(call_id = %call.id, "recording callback with an unknown RecordingStatus");
        return Ok(None);
    };
    if status == RecordingStatus::Deleted {
        return Ok(None);
    }
    let now = crate::store::truncate_ms(Utc::now());
    let created_at = req.get("RecordingStartTime").and_then(parse_time).unwrap_or(now);
    let recording = Recording {
        sid: sid.to_owned(),
        call_id: call.id.clone(),
        call_sid: call.call_sid.clone(),
        status,
        duration_secs: req.get("RecordingDuration").and_then(|d| d.parse().ok()),
        channels: req.get("RecordingChannels").and_then(|c| c.parse().ok()),
        created_at: crate::store::truncate_ms(created_at),
        updated_at: now,
        to: Some(call.to.to_string()),
        name: call.name.clone(),
        error_code: req.get("ErrorCode").filter(|c| !c.is_empty() && *c != "0").map(str::to_owned),
    };
    let stored = state.store.upsert_recording(&recording).await?;
    // A recording changes what the call shows (its recordings list): tell live views.
    state.live.publish_call(call, false);
    Ok(Some(stored))
}

/// `RE` followed by 32 hex digits.
pub fn valid_sid(s: &str) -> bool {
    s.len() == 34 && s.starts_with("RE") && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Twilio sends RFC 2822 times (`Tue, 14 Apr 2026 09:27:40 +0000`); RFC 3339 is accepted too.
fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(raw)
        .or_else(|_| DateTime::parse_from_rfc3339(raw))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_and_times_are_checked() {
        assert!(valid_sid("RE0123456789abcdef0123456789abcdef"));
        assert!(!valid_sid("RE0123"));
        assert!(!valid_sid("CA0123456789abcdef0123456789abcdef"));
        assert!(!valid_sid("RE0123456789abcdef0123456789abcdeg"));
        let t = parse_time("Tue, 14 Apr 2026 09:27:40 +0000").expect("rfc 2822");
        assert_eq!(t.to_rfc3339(), "2026-04-14T09:27:40+00:00");
        assert!(parse_time("yesterday").is_none());
    }
}
