//! Twilio's requests: signatures verified exactly (valid, forged, missing, replayed with changed
//! parameters), status applied monotonically and idempotently, TwiML bridging with a token.
#![allow(clippy::unwrap_used)]

mod support;

use common::call::CallStatus;
use reqwest::StatusCode;
use support::{AUTH_TOKEN, STREAM_SECRET, TestApp};

const SID: &str = "CA0123456789abcdef0123456789abcdef";

fn status_params<'a>(status: &'a str, seq: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("CallSid", SID),
        ("CallStatus", status),
        ("SequenceNumber", seq),
        ("CallbackSource", "call-progress-events"),
        ("To", "+61491570101"),
        ("From", "+61298765432"),
        ("Direction", "outbound-api"),
    ]
}

#[tokio::test]
async fn callbacks_with_bad_signatures_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let call = app.insert_call(Some(SID)).await;
    let path = format!("/call-status-callback?call={}", call.id);
    let params = status_params("ringing", "1");
    let owned: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
    let good = common::signature::twilio_signature(AUTH_TOKEN, &app.url(&path), &owned);
    let before = app.event_count(&call.id).await;

    // Missing signature.
    let r = app.http.post(app.url(&path)).form(&owned).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Forged (signed with another token).
    let forged = common::signature::twilio_signature("not-the-token", &app.url(&path), &owned);
    let r =
        app.http.post(app.url(&path)).header("X-Twilio-Signature", forged).form(&owned).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Replayed with a changed parameter.
    let mut changed = owned.clone();
    changed[2].1 = "completed".into();
    let r = app
        .http
        .post(app.url(&path))
        .header("X-Twilio-Signature", &good)
        .form(&changed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Replayed against another call's URL.
    let other = format!("/call-status-callback?call={}", common::ids::CallId::new());
    let r =
        app.http.post(app.url(&other)).header("X-Twilio-Signature", &good).form(&owned).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    assert_eq!(app.event_count(&call.id).await, before, "nothing stored for refused requests");
    assert_eq!(app.call(&call.id).await.status, CallStatus::Queued);

    // The genuine request is accepted.
    let r =
        app.http.post(app.url(&path)).header("X-Twilio-Signature", &good).form(&owned).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(app.call(&call.id).await.status, CallStatus::Ringing);
}

#[tokio::test]
async fn status_is_monotonic_and_repeats_change_nothing() {
    let app = TestApp::spawn().await;
    let call = app.insert_call(None).await;
    let path = format!("/call-status-callback?call={}", call.id);
    for (status, seq) in [("initiated", "0"), ("ringing", "1"), ("in-progress", "2")] {
        assert_eq!(app.twilio_post(&path, &status_params(status, seq)).await.status(), StatusCode::OK);
    }
    let c = app.call(&call.id).await;
    assert_eq!(c.status, CallStatus::InProgress);
    assert_eq!(c.call_sid.as_ref().map(|s| s.as_str()), Some(SID), "CallSid learned from the callback");
    assert!(c.answered_at.is_some());

    // A late ringing (delivered out of order) is stored but does not move the status back.
    app.twilio_post(&path, &status_params("ringing", "1")).await;
    assert_eq!(app.call(&call.id).await.status, CallStatus::InProgress);

    let mut done = status_params("completed", "3");
    done.push(("CallDuration", "49"));
    app.twilio_post(&path, &done).await;
    let c = app.call(&call.id).await;
    assert_eq!(c.status, CallStatus::Completed);
    assert_eq!(c.twilio_duration_secs, Some(49), "duration is Twilio's CallDuration");
    let ended = c.ended_at;
    assert!(ended.is_some());

    let events = app.event_count(&call.id).await;
    app.twilio_post(&path, &done).await;
    app.twilio_post(&path, &status_params("in-progress", "2")).await;
    let c = app.call(&call.id).await;
    assert_eq!(c.status, CallStatus::Completed);
    assert_eq!(c.ended_at, ended);
    assert_eq!(app.event_count(&call.id).await, events, "repeated callbacks add nothing");
}

#[tokio::test]
async fn twiml_bridges_to_media_proxy_with_a_token_bound_to_the_call() {
    let app = TestApp::spawn().await;
    let call = app.insert_call(Some(SID)).await;
    let path = format!("/outbound-call-twiml?call={}", call.id);
    let r = app.http.post(app.url(&path)).form(&status_params("in-progress", "0")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "unsigned TwiML fetch");

    let r = app.twilio_post(&path, &status_params("in-progress", "0")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/xml"));
    let xml = r.text().await.unwrap();
    assert!(
        xml.contains(r#"<Stream url="ws://127.0.0.1:1/outbound-media-stream" statusCallback=""#),
        "{xml}"
    );
    assert!(
        xml.contains(&format!(r#"/stream-status-callback?call={}" statusCallbackMethod="POST">"#, call.id)),
        "the stream reports to us: {xml}"
    );
    assert!(xml.contains(&format!(r#"<Parameter name="callId" value="{}"/>"#, call.id)), "{xml}");
    assert!(!xml.contains("Be brief"), "prompts never travel through Twilio: {xml}");
    let token = xml.split(r#"name="token" value=""#).nth(1).unwrap().split('"').next().unwrap();
    let claims = common::stream_token::verify(
        STREAM_SECRET.as_bytes(),
        token,
        Some(call.id.as_str()),
        chrono::Utc::now().timestamp(),
    )
    .unwrap();
    assert_eq!(claims.call_id, call.id);
}

#[tokio::test]
async fn fallback_apologises_and_marks_the_call_failed() {
    let app = TestApp::spawn().await;
    let call = app.insert_call(Some(SID)).await;
    let mut params = status_params("in-progress", "2");
    params.push(("ErrorCode", "11200"));
    let r = app.twilio_post(&format!("/fallback-twiml?call={}", call.id), &params).await;
    assert_eq!(r.status(), StatusCode::OK);
    let xml = r.text().await.unwrap();
    assert!(xml.contains("<Say>") && xml.contains("<Hangup/>"), "{xml}");
    let c = app.call(&call.id).await;
    assert_eq!(c.status, CallStatus::Failed);
    assert_eq!(c.error.unwrap().code, "FALLBACK_TWIML");
}

#[tokio::test]
async fn stream_callbacks_are_logged_once_and_a_stream_error_becomes_the_calls_error() {
    let app = TestApp::spawn().await;
    let call = app.insert_call(Some(SID)).await;
    let path = format!("/stream-status-callback?call={}", call.id);
    let params = |event: &'static str| {
        let mut p = vec![
            ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
            ("CallSid", SID),
            ("StreamSid", "MZ0123456789abcdef0123456789abcdef"),
            ("StreamName", "MZ0123456789abcdef0123456789abcdef"),
            ("StreamEvent", event),
            ("Timestamp", "2026-12-07T11:00:00Z"),
        ];
        if event == "stream-error" {
            p.push(("StreamError", "31920: the WebSocket upgrade was answered with HTTP 503"));
        }
        p
    };
    let r = app.http.post(app.url(&path)).form(&params("stream-error")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "unsigned");
    assert!(app.call(&call.id).await.error.is_none(), "a refused callback changes nothing");

    for event in ["stream-started", "stream-started", "stream-error", "stream-error"] {
        let r = app.twilio_post(&path, &params(event)).await;
        assert_eq!(r.status(), StatusCode::OK, "{event}");
    }
    let events = app.state.store.list_events(&call.id, 100).await.unwrap();
    let logged: Vec<&str> =
        events.iter().filter(|e| e.kind == "stream").filter_map(|e| e.data["StreamEvent"].as_str()).collect();
    assert_eq!(logged, ["stream-started", "stream-error"], "each once");
    let c = app.call(&call.id).await;
    let error = c.error.expect("the stream error is the call's error");
    assert_eq!(error.code, "STREAM_ERROR");
    assert!(error.message.contains("31920"), "{}", error.message);
    assert_eq!(c.status, CallStatus::Queued, "informational: the call's own callbacks decide its status");
}
