//! `POST /webhooks/elevenlabs`: forged, unsigned and stale webhooks are refused and change
//! nothing; a valid one is stored and linked to its call (by the conversation reported at stream
//! start, else the `call_sid` variable); a redelivery changes nothing; the AI verdict never
//! touches the telephony status; `call_initiation_failure` marks the call.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod postcall;
mod support;

use chrono::Utc;
use postcall::{WEBHOOK_SECRET, agent_connected, eventually, get_json, post_call_body, post_webhook, sign};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use support::TestApp;

async fn app() -> TestApp {
    TestApp::spawn_with(&[("ELEVENLABS_WEBHOOK_SECRET", WEBHOOK_SECRET), ("POST_CALL_WAIT_SECS", "600")])
        .await
}

#[tokio::test]
async fn forged_unsigned_and_stale_webhooks_are_rejected_and_change_nothing() {
    let app = app().await;
    let call = app.insert_call(Some("CA00000000000000000000000000000d01")).await;
    agent_connected(&app, &call.id, 0, "conv_forged").await;
    let events_before = app.event_count(&call.id).await;
    let body = post_call_body("conv_forged", json!({}), "Yes please", "success");
    let now = Utc::now().timestamp();
    let cases = [
        ("unsigned", None),
        (
            "wrong secret",
            Some(common::signature::timestamped_signature("not-the-secret", now, body.as_bytes())),
        ),
        ("signed another body", Some(common::signature::timestamped_signature(WEBHOOK_SECRET, now, b"{}"))),
        (
            "stale",
            Some(common::signature::timestamped_signature(WEBHOOK_SECRET, now - 1801, body.as_bytes())),
        ),
        (
            "from the future",
            Some(common::signature::timestamped_signature(WEBHOOK_SECRET, now + 1801, body.as_bytes())),
        ),
        ("malformed", Some("v0=deadbeef".to_owned())),
    ];
    for (what, signature) in cases {
        let resp = post_webhook(&app, &body, signature).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{what}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(app.state.store.unprocessed_webhooks(10).await.unwrap().is_empty(), "nothing stored");
    assert_eq!(app.state.store.get_post_call(&call.id).await.unwrap(), None);
    assert_eq!(app.event_count(&call.id).await, events_before);

    // The same body, properly signed, is accepted: the refusals were about the signature.
    assert_eq!(post_webhook(&app, &body, Some(sign(&body))).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_a_configured_secret_every_webhook_is_refused() {
    let app = TestApp::spawn().await;
    let body = post_call_body("conv_x", json!({}), "hi", "success");
    assert_eq!(post_webhook(&app, &body, Some(sign(&body))).await.status(), StatusCode::UNAUTHORIZED);
    assert!(app.state.store.unprocessed_webhooks(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn post_call_data_is_stored_once_and_the_telephony_status_stays_its_own() {
    let app = app().await;
    let sid = "CA00000000000000000000000000000d02";
    let call = app.insert_call(Some(sid)).await;
    let path = format!("/call-status-callback?call={}", call.id);
    app.twilio_post(&path, &[("CallSid", sid), ("CallStatus", "in-progress"), ("SequenceNumber", "2")]).await;
    agent_connected(&app, &call.id, 0, "conv_stored").await;
    app.twilio_post(
        &path,
        &[("CallSid", sid), ("CallStatus", "completed"), ("CallDuration", "31"), ("SequenceNumber", "3")],
    )
    .await;

    // The AI says "failure"; the call still completed and a conversation was held.
    let body = post_call_body("conv_stored", json!({ "call_sid": sid }), "I'm not interested", "failure");
    let resp = post_webhook(&app, &body, Some(sign(&body))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({ "received": true }));

    let transcript = eventually("the post-call record", Duration::from_secs(10), || async {
        let t = get_json(&app, &format!("/api/calls/{}/transcript", call.id)).await;
        (!t["postCall"].is_null()).then_some(t)
    })
    .await;
    let post = &transcript["postCall"];
    assert_eq!(post["conversationId"], "conv_stored");
    assert_eq!(post["turns"].as_array().unwrap().len(), 3);
    assert_eq!(
        post["turns"][1],
        json!({ "role": "user", "message": "I'm not interested", "timeInCallSecs": 2.5 })
    );
    assert_eq!(post["turns"][0]["interrupted"], false);
    assert_eq!(post["turns"][2]["message"], "", "a tool turn has no text");
    assert_eq!(post["analysis"]["callSuccessful"], "failure");
    assert_eq!(post["analysis"]["transcriptSummary"], "Ann agreed to a callback.");
    assert_eq!(
        post["analysis"]["evaluationCriteria"]["goal"],
        json!({ "result": "failure", "rationale": "asked" })
    );
    assert_eq!(
        post["analysis"]["dataCollection"]["email"],
        json!({ "value": "ann@example.com", "rationale": "said it" })
    );
    assert_eq!(
        post["metadata"],
        json!({ "callDurationSecs": 22.0, "cost": 296.0, "terminationReason": "end_call tool was called" })
    );

    let stored = eventually("the final outcome", Duration::from_secs(10), || async {
        let c = app.call(&call.id).await;
        app.state.store.finalized_at(&call.id).await.unwrap().map(|_| c)
    })
    .await;
    assert_eq!(stored.status, common::call::CallStatus::Completed, "the AI verdict is not a status");
    assert_eq!(stored.outcome, Some(common::call::Outcome::ConversationHeld));

    // A redelivery: answered, and nothing changes.
    let events = app.event_count(&call.id).await;
    let again = post_webhook(&app, &body, Some(sign(&body))).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<Value>().await.unwrap(), json!({ "received": true, "duplicate": true }));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.event_count(&call.id).await, events);
    let after = get_json(&app, &format!("/api/calls/{}/transcript", call.id)).await;
    assert_eq!(after, transcript);
}

#[tokio::test]
async fn a_conversation_never_reported_is_found_by_the_call_sid_variable() {
    let app = app().await;
    let sid = "CA00000000000000000000000000000d03";
    let call = app.insert_call(Some(sid)).await;
    let body =
        post_call_body("conv_unreported", json!({ "call_sid": sid, "name": "Ann" }), "Hello", "success");
    assert_eq!(post_webhook(&app, &body, Some(sign(&body))).await.status(), StatusCode::OK);
    let post = eventually("the post-call record", Duration::from_secs(10), || async {
        app.state.store.get_post_call(&call.id).await.unwrap()
    })
    .await;
    assert_eq!(post.conversation_id, "conv_unreported");
    assert_eq!(
        app.state.store.call_for_conversation("conv_unreported").await.unwrap(),
        Some(call.id.clone())
    );
    assert_eq!(app.call(&call.id).await.conversation_id.as_deref(), Some("conv_unreported"));

    // A conversation that matches no call is kept with the reason, not retried forever.
    let body = post_call_body(
        "conv_nobody",
        json!({ "call_sid": "CA00000000000000000000000000000fff" }),
        "x",
        "success",
    );
    assert_eq!(post_webhook(&app, &body, Some(sign(&body))).await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(app.state.store.unprocessed_webhooks(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn call_initiation_failure_marks_the_call() {
    let app = app().await;
    let call = app.insert_call(Some("CA00000000000000000000000000000d04")).await;
    agent_connected(&app, &call.id, 0, "conv_failed").await;
    let body = json!({
        "type": "call_initiation_failure",
        "event_timestamp": Utc::now().timestamp(),
        "data": { "agent_id": "agent_test", "conversation_id": "conv_failed", "failure_reason": "busy",
                  "metadata": { "type": "twilio", "body": {} } }
    })
    .to_string();
    assert_eq!(post_webhook(&app, &body, Some(sign(&body))).await.status(), StatusCode::OK);
    let error =
        eventually("the call's error", Duration::from_secs(10), || async { app.call(&call.id).await.error })
            .await;
    assert_eq!(error.code, "ELEVENLABS_INITIATION_FAILURE");
    assert!(error.message.contains("busy"), "{}", error.message);
}
