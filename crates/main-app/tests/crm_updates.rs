//! Post-call data that arrives after a call was finalized reaches the CRM once, as an `update`
//! delivery: the call is finalized without it after `POST_CALL_WAIT_SECS`, its final report is
//! delivered, then ElevenLabs' webhook lands; a redelivered webhook adds nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod postcall;
mod support;

use postcall::crm::{Crm, crm_settings, finalized, refs, status};
use postcall::{agent_connected, eventually, get_json, post_call_body, post_webhook, sign};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::TestApp;

#[tokio::test]
async fn late_post_call_data_is_forwarded_once_as_an_update() {
    let (crm, url) = Crm::start().await;
    crm.up.store(true, Ordering::SeqCst);
    let mut settings = crm_settings(&url, "5");
    settings.push(("ELEVENLABS_WEBHOOK_SECRET", postcall::WEBHOOK_SECRET.to_owned()));
    settings.push(("POST_CALL_WAIT_SECS", "1".to_owned()));
    let app = TestApp::spawn_with(&refs(&settings)).await;
    let call = app.insert_call(Some("CA00000000000000000000000000000f51")).await;
    status(&app, &call, "in-progress", "2", &[]).await;
    agent_connected(&app, &call.id, 0, "conv_late").await;
    status(&app, &call, "completed", "3", &[("CallDuration", "44")]).await;

    // The wait elapses with no post-call data: the final report goes out without it.
    finalized(&app, &call).await;
    let first = eventually("the final report", Duration::from_secs(10), || async {
        crm.accepted().into_iter().next()
    })
    .await;
    assert_eq!(first["event"], "final");
    assert_eq!(first["analysis"], Value::Null);
    assert_eq!(first["summary"], "Call completed. Duration: 0m 44s. Contact: Ann.");
    assert_eq!(first["status"], "no answer", "nobody was heard speaking yet");

    let body = post_call_body("conv_late", json!({}), "Sounds good", "success");
    assert!(post_webhook(&app, &body, Some(sign(&body))).await.status().is_success());
    let update =
        eventually("the update", Duration::from_secs(10), || async { crm.accepted().into_iter().nth(1) })
            .await;
    assert_eq!(update["event"], "update");
    assert_eq!(update["type"], "conversationAICall");
    assert_eq!(update["summary"], "Ann agreed to a callback.");
    assert_eq!(update["status"], "held", "the caller spoke in the post-call transcript");
    assert_eq!(update["analysis"]["callSuccessful"], "success");
    assert_eq!(
        (update["callId"].as_str(), update["conversationId"].as_str()),
        (Some(call.id.as_str()), Some("conv_late"))
    );
    let keys: Vec<String> =
        crm.requests().iter().map(|(_, h, _)| h["idempotency-key"].to_str().unwrap().to_owned()).collect();
    assert_eq!(keys, vec![format!("call-{}", call.id), format!("call-{}:update:conv_late", call.id)]);

    // ElevenLabs retries the webhook (re-signed): nothing more reaches the CRM.
    let again = post_webhook(&app, &body, Some(sign(&body))).await;
    assert_eq!(again.json::<Value>().await.unwrap()["duplicate"], true);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(crm.requests().len(), 2, "one final report and one update");
    let log = get_json(&app, "/api/crm/deliveries").await;
    assert_eq!(log["total"], 2);
    let kinds: Vec<&str> =
        log["items"].as_array().unwrap().iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["update", "final"], "newest first");
    let events = app.state.store.list_events(&call.id, 1000).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == "crm_update_enqueued").count(), 1);
    assert_eq!(events.iter().filter(|e| e.kind == "crm_delivered").count(), 2);
}

#[tokio::test]
async fn post_call_data_that_arrives_in_time_is_sent_once_in_the_final_report() {
    // Data on time: the final report carries it, and nothing follows it.
    let (crm, url) = Crm::start().await;
    crm.up.store(true, Ordering::SeqCst);
    let mut settings = crm_settings(&url, "5");
    settings.push(("ELEVENLABS_WEBHOOK_SECRET", postcall::WEBHOOK_SECRET.to_owned()));
    settings.push(("POST_CALL_WAIT_SECS", "600".to_owned()));
    let app = TestApp::spawn_with(&refs(&settings)).await;
    let call = app.insert_call(Some("CA00000000000000000000000000000f52")).await;
    status(&app, &call, "in-progress", "2", &[]).await;
    agent_connected(&app, &call.id, 0, "conv_on_time").await;
    status(&app, &call, "completed", "3", &[("CallDuration", "12")]).await;
    let body = post_call_body("conv_on_time", json!({}), "Yes", "success");
    post_webhook(&app, &body, Some(sign(&body))).await;
    finalized(&app, &call).await;
    let only =
        eventually("the report", Duration::from_secs(10), || async { crm.accepted().into_iter().next() })
            .await;
    assert_eq!(
        (only["event"].as_str(), only["summary"].as_str()),
        (Some("final"), Some("Ann agreed to a callback."))
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(crm.requests().len(), 1, "no update for data the final report carried");
}

#[tokio::test]
async fn an_update_waits_while_its_final_report_is_being_retried() {
    let (crm, url) = Crm::start().await;
    let mut settings = crm_settings(&url, "50");
    settings.push(("ELEVENLABS_WEBHOOK_SECRET", postcall::WEBHOOK_SECRET.to_owned()));
    settings.push(("POST_CALL_WAIT_SECS", "1".to_owned()));
    let app = TestApp::spawn_with(&refs(&settings)).await;
    let call = app.insert_call(Some("CA00000000000000000000000000000f53")).await;
    status(&app, &call, "in-progress", "2", &[]).await;
    agent_connected(&app, &call.id, 0, "conv_down").await;
    status(&app, &call, "completed", "3", &[("CallDuration", "20")]).await;
    finalized(&app, &call).await;
    eventually("the final report failing", Duration::from_secs(10), || async {
        (crm.requests().len() >= 2).then_some(())
    })
    .await;

    // The data lands while the CRM is down: the update is enqueued but held back.
    let body = post_call_body("conv_down", json!({}), "Sounds good", "success");
    post_webhook(&app, &body, Some(sign(&body))).await;
    eventually("the update enqueued", Duration::from_secs(10), || async {
        let page = get_json(&app, "/api/crm/deliveries").await;
        (page["total"] == 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    crm.up.store(true, Ordering::SeqCst);
    eventually("both delivered", Duration::from_secs(15), || async {
        (crm.accepted().len() == 2).then_some(())
    })
    .await;

    let update_key = format!("call-{}:update:conv_down", call.id);
    let requests = crm.requests();
    let first_update =
        requests.iter().position(|(_, h, _)| h["idempotency-key"] == update_key.as_str()).unwrap();
    let final_accepted = requests.iter().position(|(s, _, _)| *s == 200).unwrap();
    assert!(final_accepted < first_update, "the update was sent before the final report was accepted");
    assert_eq!(requests.iter().filter(|(_, h, _)| h["idempotency-key"] == update_key.as_str()).count(), 1);
    let events: Vec<String> =
        crm.accepted().iter().map(|p| p["event"].as_str().unwrap().to_owned()).collect();
    assert_eq!(events, ["final", "update"]);
}
