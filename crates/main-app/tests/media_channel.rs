//! The media-proxy ⇄ main-app channel: single-use stream tokens, signed and idempotent events.
#![allow(clippy::unwrap_used)]

mod support;

use chrono::Utc;
use common::events::media::{EndReason, MediaEvent, MediaEventBatch, MediaEventKind, SIGNATURE_HEADER};
use common::events::{Role, TranscriptLine};
use reqwest::StatusCode;
use serde_json::Value;
use support::{STREAM_SECRET, TestApp};

fn token(call: &common::ids::CallId, ttl: i64) -> String {
    common::stream_token::issue(STREAM_SECRET.as_bytes(), call, Utc::now().timestamp(), ttl)
}

#[tokio::test]
async fn stream_context_is_served_once_per_token() {
    let app = TestApp::spawn().await;
    let call = app.insert_call(None).await;
    let path = format!("/internal/stream-context?callId={}", call.id);
    let t = token(&call.id, 60);

    let ctx = app.http.get(app.url(&path)).bearer_auth(&t).send().await.unwrap();
    assert_eq!(ctx.status(), StatusCode::OK);
    let ctx: Value = ctx.json().await.unwrap();
    assert_eq!(ctx["prompt"], "Be brief");
    assert_eq!(ctx["firstMessage"], "Hi {{name}}");
    assert_eq!(ctx["to"], "+61491570101");

    let again = app.http.get(app.url(&path)).bearer_auth(&t).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(again.json::<Value>().await.unwrap()["error"]["code"], "TOKEN_REUSED");

    let expired = app.http.get(app.url(&path)).bearer_auth(token(&call.id, -1)).send().await.unwrap();
    assert_eq!(expired.json::<Value>().await.unwrap()["error"]["code"], "TOKEN_EXPIRED");

    let other = app.insert_call(None).await;
    let wrong = app
        .http
        .get(app.url(&format!("/internal/stream-context?callId={}", other.id)))
        .bearer_auth(token(&call.id, 60))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.json::<Value>().await.unwrap()["error"]["code"], "TOKEN_WRONG_CALL");

    let forged = common::stream_token::issue(
        b"another-secret-another-secret-xx",
        &call.id,
        Utc::now().timestamp(),
        60,
    );
    let bad = app.http.get(app.url(&path)).bearer_auth(forged).send().await.unwrap();
    assert_eq!(bad.json::<Value>().await.unwrap()["error"]["code"], "TOKEN_INVALID");
}

fn batch(call: &common::ids::CallId) -> MediaEventBatch {
    let ev = |seq, kind| MediaEvent { call_id: call.clone(), seq, at: Utc::now(), kind };
    MediaEventBatch {
        instance: "test".into(),
        events: vec![
            ev(
                0,
                MediaEventKind::StreamStarted {
                    stream_sid: "MZ0123456789abcdef0123456789abcdef".into(),
                    call_sid: "CA0123456789abcdef0123456789abcdef".into(),
                },
            ),
            ev(
                1,
                MediaEventKind::AgentConnected {
                    conversation_id: "conv_1".into(),
                    agent_output_format: "ulaw_8000".into(),
                    user_input_format: "ulaw_8000".into(),
                    setup_ms: 12,
                },
            ),
            ev(
                2,
                MediaEventKind::Transcript {
                    line: TranscriptLine {
                        index: 0,
                        role: Role::Agent,
                        text: "Hi Ann".into(),
                        time_in_call_ms: 300,
                        heard: None,
                        heard_ms: None,
                        audio_ms: None,
                    },
                },
            ),
            ev(
                3,
                MediaEventKind::ConversationEnded {
                    reason: EndReason::CallerHungUp,
                    detail: None,
                    hangup_requested: false,
                },
            ),
        ],
    }
}

async fn post(app: &TestApp, body: &[u8], secret: &str, at: i64) -> StatusCode {
    app.http
        .post(app.url("/internal/media-events"))
        .header(SIGNATURE_HEADER, common::signature::timestamped_signature(secret, at, body))
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn media_events_are_signed_stored_once_and_applied() {
    let app = TestApp::spawn().await;
    let call = app.insert_call(None).await;
    let body = serde_json::to_vec(&batch(&call.id)).unwrap();
    let now = Utc::now().timestamp();

    let unsigned = app.http.post(app.url("/internal/media-events")).body(body.clone()).send().await.unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        post(&app, &body, "wrong-secret-wrong-secret-wrong-secret", now).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(post(&app, &body, STREAM_SECRET, now - 3600).await, StatusCode::UNAUTHORIZED, "stale");
    assert_eq!(app.event_count(&call.id).await, 0);

    let mut live = app.state.live.subscribe();
    assert_eq!(post(&app, &body, STREAM_SECRET, now).await, StatusCode::NO_CONTENT);
    let c = app.call(&call.id).await;
    assert_eq!(c.conversation_id.as_deref(), Some("conv_1"));
    assert_eq!(c.stream_sid.as_deref(), Some("MZ0123456789abcdef0123456789abcdef"));
    let tb = c.terminated_by.unwrap();
    assert_eq!(tb.party, common::call::Party::Caller);
    let count = app.event_count(&call.id).await;
    assert_eq!(count, 4);

    let mut saw_line = false;
    while let Ok(ev) = live.try_recv() {
        if let main_app::live::LiveEvent::Transcript { line, .. } = ev {
            saw_line = line.text == "Hi Ann";
        }
    }
    assert!(saw_line, "transcript lines are published live");

    // A retried batch (media-proxy did not see our answer) changes nothing.
    assert_eq!(post(&app, &body, STREAM_SECRET, now).await, StatusCode::NO_CONTENT);
    assert_eq!(app.event_count(&call.id).await, count);
}
