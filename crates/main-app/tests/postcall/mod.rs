//! Helpers of the post-call tests: signed media-proxy events, signed ElevenLabs webhooks,
//! conversation payloads, and polling the store until something happened.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use common::events::media::{MediaEvent, MediaEventBatch, MediaEventKind, SIGNATURE_HEADER};
use serde_json::{Value, json};
use std::future::Future;
use std::time::Duration;

use super::support::{STREAM_SECRET, TestApp};

pub mod crm;

/// The webhook secret the tests configure.
pub const WEBHOOK_SECRET: &str = "wsec_test_secret";

/// Posts media-proxy events for `call`, signed as media-proxy does.
pub async fn media_events(app: &TestApp, call: &common::ids::CallId, seq0: u64, kinds: Vec<MediaEventKind>) {
    let events = kinds
        .into_iter()
        .enumerate()
        .map(|(i, kind)| MediaEvent { call_id: call.clone(), seq: seq0 + i as u64, at: Utc::now(), kind })
        .collect();
    let body = serde_json::to_vec(&MediaEventBatch { instance: "test".into(), events }).unwrap();
    let sig = common::signature::timestamped_signature(STREAM_SECRET, Utc::now().timestamp(), &body);
    let resp = app
        .http
        .post(app.url(common::events::media::EVENTS_PATH))
        .header(SIGNATURE_HEADER, sig)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "media events refused: {}", resp.status());
}

/// Reports the agent connected with `conversation_id` (links the conversation to the call).
pub async fn agent_connected(app: &TestApp, call: &common::ids::CallId, seq: u64, conversation_id: &str) {
    let kind = MediaEventKind::AgentConnected {
        conversation_id: conversation_id.into(),
        agent_output_format: "ulaw_8000".into(),
        user_input_format: "ulaw_8000".into(),
        setup_ms: 300,
    };
    media_events(app, call, seq, vec![kind]).await;
}

/// A `post_call_transcription` webhook body for `conversation_id`.
pub fn post_call_body(conversation_id: &str, vars: Value, user_says: &str, success: &str) -> String {
    json!({
        "type": "post_call_transcription",
        "event_timestamp": Utc::now().timestamp(),
        "data": {
            "agent_id": "agent_test",
            "conversation_id": conversation_id,
            "status": "done",
            "transcript": [
                { "role": "agent", "message": "Hi Ann, it's Acme.", "time_in_call_secs": 0, "interrupted": false },
                { "role": "user", "message": user_says, "time_in_call_secs": 2.5 },
                { "role": "agent", "message": null, "time_in_call_secs": 5, "tool_calls": [{"tool_name": "end_call"}] }
            ],
            "metadata": {
                "start_time_unix_secs": Utc::now().timestamp() - 30,
                "call_duration_secs": 22,
                "cost": 296,
                "termination_reason": "end_call tool was called",
                "phone_call": { "type": "twilio", "call_sid": null }
            },
            "analysis": {
                "evaluation_criteria_results": { "goal": { "criteria_id": "goal", "result": success, "rationale": "asked" } },
                "data_collection_results": { "email": { "data_collection_id": "email", "value": "ann@example.com", "rationale": "said it" } },
                "call_successful": success,
                "transcript_summary": "Ann agreed to a callback.",
                "call_summary_title": "Callback"
            },
            "conversation_initiation_client_data": { "dynamic_variables": vars },
            "has_audio": true
        }
    })
    .to_string()
}

/// POSTs a webhook body with the given signature header (if any).
pub async fn post_webhook(app: &TestApp, body: &str, signature: Option<String>) -> reqwest::Response {
    let mut req = app.http.post(app.url("/webhooks/elevenlabs")).header("content-type", "application/json");
    if let Some(sig) = signature {
        req = req.header("ElevenLabs-Signature", sig);
    }
    req.body(body.to_owned()).send().await.unwrap()
}

/// A valid signature of `body` now.
pub fn sign(body: &str) -> String {
    common::signature::timestamped_signature(WEBHOOK_SECRET, Utc::now().timestamp(), body.as_bytes())
}

/// Polls `check` every 50 ms until it returns `Some`, for at most `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// GETs an API path (API key) and returns the JSON.
pub async fn get_json(app: &TestApp, path: &str) -> Value {
    let resp = app.api(reqwest::Method::GET, path).send().await.unwrap();
    assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
    resp.json().await.unwrap()
}
