//! Values the conformance cases (and other tests) build records from. Times are truncated to the
//! millisecond, the precision every backend stores.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;
use std::collections::BTreeMap;

use crate::calls::model::{Call, CallError, CallEvent};
use common::call::{AnsweredBy, CallStatus, Outcome, Party, TerminatedBy};
use common::ids::{CallId, CallSid, CampaignId, ContactId};
use common::phone::PhoneNumber;

/// A fixed instant with a millisecond part (2025-03-04 05:06:07.089 UTC).
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).single().expect("valid date") + Duration::milliseconds(89)
}

/// A valid E.164 number (panics on a typo in a test).
pub fn phone(e164: &str) -> PhoneNumber {
    PhoneNumber::parse_e164(e164).expect("test phone number is valid")
}

/// A freshly accepted call: `queued`, created at `created_at`, every optional field empty.
pub fn call_at(created_at: DateTime<Utc>) -> Call {
    Call {
        id: CallId::new(),
        call_sid: None,
        to: phone("+14155552671"),
        from: phone("+61412345678"),
        direction: "outbound-api".into(),
        status: CallStatus::Queued,
        created_at,
        updated_at: created_at,
        answered_at: None,
        ended_at: None,
        twilio_duration_secs: None,
        answered_by: None,
        outcome: None,
        terminated_by: None,
        conversation_id: None,
        stream_sid: None,
        name: None,
        prompt: None,
        first_message: None,
        language: None,
        dynamic_variables: BTreeMap::new(),
        contact_id: None,
        campaign_id: None,
        idempotency_key: None,
        error: None,
    }
}

/// A minimal call created at [`t0`].
pub fn call() -> Call {
    call_at(t0())
}

/// A call with every field set (and non-ASCII text and nested JSON), to check round trips.
pub fn full_call() -> Call {
    let t = t0();
    let mut vars = BTreeMap::new();
    vars.insert("customer_name".to_owned(), json!("Zoë O'Brien"));
    vars.insert("balance".to_owned(), json!(1234.5));
    vars.insert("attempt".to_owned(), json!(3));
    vars.insert("tags".to_owned(), json!(["vip", {"since": 2019, "ok": true, "none": null}]));
    Call {
        call_sid: Some(CallSid::random()),
        status: CallStatus::Completed,
        updated_at: t + Duration::seconds(95),
        answered_at: Some(t + Duration::milliseconds(12_345)),
        ended_at: Some(t + Duration::seconds(95)),
        twilio_duration_secs: Some(83),
        answered_by: Some(AnsweredBy::Human),
        outcome: Some(Outcome::ConversationHeld),
        terminated_by: Some(TerminatedBy {
            party: Party::Agent,
            reason: "agent_ended_conversation".into(),
            source: "media-proxy".into(),
        }),
        conversation_id: Some("conv_01jabcdef".into()),
        stream_sid: Some(format!("MZ{}", uuid::Uuid::new_v4().simple())),
        name: Some("Zoë".into()),
        prompt: Some("You are polite.\nLine two with \"quotes\" and 'apostrophes'.".into()),
        first_message: Some("G'day {{customer_name}}!".into()),
        language: Some("en".into()),
        dynamic_variables: vars,
        contact_id: Some(ContactId::new()),
        campaign_id: Some(CampaignId::new()),
        idempotency_key: Some(format!("key-{}", uuid::Uuid::new_v4())),
        error: Some(CallError { code: "TWILIO_21211".into(), message: "Invalid 'To' number".into() }),
        ..call_at(t)
    }
}

/// An event of `call` at `at`.
pub fn event(call: &CallId, kind: &str, at: DateTime<Utc>) -> CallEvent {
    CallEvent { at, ..CallEvent::new(call, kind, "twilio", json!({"kind": kind, "n": [1, 2.5, "x"]})) }
}
