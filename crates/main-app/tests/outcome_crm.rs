//! Outcomes and `terminatedBy` from real signals, finalization, and the CRM outbox: retried
//! while the CRM is down, delivered exactly once after it comes back — across a main-app
//! restart — signed, with one idempotency key; dead-lettered after N attempts; replayable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod postcall;
mod support;

use common::call::{Outcome, Party};
use common::events::media::{EndReason, MediaEventKind};
use common::events::{Role, TranscriptLine};
use postcall::crm::{CRM_SECRET, Crm, crm_settings, finalized, refs, status};
use postcall::{agent_connected, eventually, get_json, media_events};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::TestApp;

#[tokio::test]
async fn unanswered_calls_end_with_their_outcome_and_a_system_termination() {
    let app = TestApp::spawn().await;
    for (n, (twilio, outcome, reason)) in [
        ("busy", Outcome::Busy, "busy"),
        ("no-answer", Outcome::NoAnswer, "no_answer"),
        ("failed", Outcome::Failed, "dial_failed"),
        ("canceled", Outcome::Canceled, "canceled"),
    ]
    .into_iter()
    .enumerate()
    {
        let call = app.insert_call(Some(&format!("CA{:032x}", 0xe00 + n))).await;
        status(&app, &call, "ringing", "1", &[]).await;
        status(&app, &call, twilio, "2", &[]).await;
        let done = finalized(&app, &call).await;
        assert_eq!(done.outcome, Some(outcome), "{twilio}");
        let tb = done.terminated_by.expect("terminatedBy");
        assert_eq!((tb.party, tb.reason.as_str()), (Party::System, reason), "{twilio}");
    }
}

#[tokio::test]
async fn answered_calls_are_held_only_when_the_callee_spoke_and_machines_are_voicemail() {
    // AMD_ON_MACHINE=voicemail without a message: the agent leaves it, no Twilio request needed.
    let app = TestApp::spawn_with(&[("AMD_ON_MACHINE", "voicemail")]).await;
    let spoke = app.insert_call(Some("CA00000000000000000000000000000f01")).await;
    let silent = app.insert_call(Some("CA00000000000000000000000000000f02")).await;
    let machine = app.insert_call(Some("CA00000000000000000000000000000f03")).await;
    for call in [&spoke, &silent, &machine] {
        status(&app, call, "in-progress", "2", &[]).await;
    }
    let user_line = TranscriptLine {
        index: 1,
        role: Role::User,
        text: "Yes, go on.".into(),
        time_in_call_ms: 3000,
        heard: None,
        heard_ms: None,
        audio_ms: None,
    };
    media_events(&app, &spoke.id, 0, vec![MediaEventKind::Transcript { line: user_line.clone() }]).await;
    let ended = MediaEventKind::ConversationEnded {
        reason: EndReason::CallerHungUp,
        detail: None,
        hangup_requested: false,
    };
    media_events(&app, &spoke.id, 1, vec![ended.clone()]).await;
    media_events(&app, &silent.id, 0, vec![ended.clone()]).await;
    let path = format!("/amd-status-callback?call={}", machine.id);
    let sid = machine.call_sid.as_ref().unwrap().to_string();
    app.twilio_post(
        &path,
        &[("CallSid", &sid), ("AnsweredBy", "machine_end_beep"), ("MachineDetectionDuration", "4100")],
    )
    .await;
    // The greeting is transcribed as user speech; AMD still decides.
    media_events(&app, &machine.id, 0, vec![MediaEventKind::Transcript { line: user_line }]).await;
    for call in [&spoke, &silent, &machine] {
        status(&app, call, "completed", "3", &[("CallDuration", "20")]).await;
    }
    let spoke = finalized(&app, &spoke).await;
    assert_eq!(spoke.outcome, Some(Outcome::ConversationHeld));
    let tb = spoke.terminated_by.unwrap();
    assert_eq!(
        (tb.party, tb.reason.as_str(), tb.source.as_str()),
        (Party::Caller, "caller_hung_up", "media-proxy")
    );
    assert_eq!(finalized(&app, &silent).await.outcome, Some(Outcome::NoConversation));
    let machine = finalized(&app, &machine).await;
    assert_eq!(machine.outcome, Some(Outcome::Voicemail));
    assert_eq!(machine.answered_by, Some(common::call::AnsweredBy::MachineEndBeep));
    let events = app.state.store.list_events(&machine.id, 100).await.unwrap();
    assert!(events.iter().any(|e| e.kind == "voicemail_by_agent"), "the policy ran: {events:?}");
}

#[tokio::test]
async fn a_conversation_is_finalized_when_its_post_call_data_arrives_not_before() {
    let (crm, url) = Crm::start().await;
    crm.up.store(true, Ordering::SeqCst);
    let mut settings = crm_settings(&url, "5");
    settings.push(("ELEVENLABS_WEBHOOK_SECRET", postcall::WEBHOOK_SECRET.to_owned()));
    settings.push(("POST_CALL_WAIT_SECS", "600".to_owned()));
    let app = TestApp::spawn_with(&refs(&settings)).await;
    let call = app.insert_call(Some("CA00000000000000000000000000000f11")).await;
    status(&app, &call, "in-progress", "2", &[]).await;
    agent_connected(&app, &call.id, 0, "conv_final").await;
    status(&app, &call, "completed", "3", &[("CallDuration", "44")]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.state.store.finalized_at(&call.id).await.unwrap(), None, "waits for the post-call data");
    assert!(crm.requests().is_empty());

    let body = postcall::post_call_body("conv_final", json!({}), "Sounds good", "success");
    postcall::post_webhook(&app, &body, Some(postcall::sign(&body))).await;
    finalized(&app, &call).await;
    let sent = eventually("the CRM delivery", Duration::from_secs(10), || async {
        crm.requests().into_iter().find(|(s, _, _)| *s == 200)
    })
    .await;
    let payload: Value = serde_json::from_slice(&sent.2).unwrap();
    assert_eq!(payload["type"], "conversationAICall");
    assert_eq!(payload["status"], "held");
    assert_eq!(payload["summary"], "Ann agreed to a callback.");
    assert_eq!(payload["duration"], 44);
    assert_eq!(payload["to"], "+61491570101");
    assert_eq!(payload["name"], "Ann");
    assert_eq!(payload["subject"], "Outbound Call");
    assert_eq!(payload["callId"], call.id.as_str());
    assert_eq!(payload["callSid"], "CA00000000000000000000000000000f11");
    assert_eq!(payload["conversationId"], "conv_final");
    assert_eq!(payload["analysis"]["callSuccessful"], "success");
    assert_eq!(payload["outcome"], "conversation_held");
}

#[tokio::test]
async fn crm_down_then_up_across_a_restart_is_delivered_exactly_once() {
    let (crm, url) = Crm::start().await;
    let settings = crm_settings(&url, "50");
    let app = TestApp::spawn_with(&refs(&settings)).await;
    let call = app.insert_call(Some("CA00000000000000000000000000000f21")).await;
    status(&app, &call, "busy", "2", &[]).await;
    eventually("two failed attempts", Duration::from_secs(10), || async {
        (crm.requests().len() >= 2).then_some(())
    })
    .await;

    // main-app stops while the CRM is still down; the delivery waits in the store.
    let dir = app.stop().await;
    let failed_before = crm.requests().len();
    crm.up.store(true, Ordering::SeqCst);
    let app = TestApp::spawn_in(dir, &refs(&settings)).await;
    let delivered = eventually("delivered", Duration::from_secs(15), || async {
        let page = get_json(&app, "/api/crm/deliveries?status=delivered").await;
        (page["total"] == 1).then_some(page["items"][0].clone())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let requests = crm.requests();
    let accepted: Vec<_> = requests.iter().filter(|(s, _, _)| *s == 200).collect();
    assert_eq!(
        accepted.len(),
        1,
        "delivered exactly once: {:?}",
        requests.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert!(failed_before >= 2);
    let keys: Vec<&str> = requests.iter().map(|(_, h, _)| h["idempotency-key"].to_str().unwrap()).collect();
    assert!(keys.iter().all(|k| *k == format!("call-{}", call.id)), "one idempotency key: {keys:?}");
    for (_, headers, body) in &requests {
        let sig = headers["x-signature"].to_str().unwrap();
        common::signature::verify_timestamped(
            CRM_SECRET,
            Some(sig),
            body,
            chrono::Utc::now().timestamp(),
            300,
        )
        .expect("every attempt is signed over its body");
    }
    let payload: Value = serde_json::from_slice(&accepted[0].2).unwrap();
    assert_eq!(
        (payload["status"].as_str(), payload["summary"].as_str()),
        (Some("no answer"), Some("Call was not answered."))
    );

    assert_eq!(delivered["attempts"].as_u64().unwrap() as usize, requests.len());
    let log = delivered["log"].as_array().unwrap();
    assert_eq!(log.last().unwrap()["statusCode"], 200);
    assert_eq!(log[0]["statusCode"], 503);
    assert_eq!(log[0]["error"], "CRM answered HTTP 503");
    let events = app.state.store.list_events(&call.id, 1000).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == "crm_delivered").count(), 1);

    // Replay sends it again (same key), on request only.
    let id = delivered["id"].as_str().unwrap();
    let resp =
        app.api(reqwest::Method::POST, &format!("/api/crm/deliveries/{id}/replay")).send().await.unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    eventually("the replay", Duration::from_secs(10), || async {
        (crm.requests().iter().filter(|(s, _, _)| *s == 200).count() == 2).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_delivery_is_dead_lettered_after_its_attempts_and_can_be_replayed() {
    let (crm, url) = Crm::start().await;
    let app = TestApp::spawn_with(&refs(&crm_settings(&url, "3"))).await;
    let call = app.insert_call(Some("CA00000000000000000000000000000f31")).await;
    status(&app, &call, "no-answer", "2", &[]).await;
    let dead = eventually("the dead letter", Duration::from_secs(15), || async {
        let page = get_json(&app, "/api/crm/deliveries?status=dead").await;
        (page["total"] == 1).then_some(page["items"][0].clone())
    })
    .await;
    assert_eq!(dead["attempts"], 3);
    assert_eq!(dead["lastError"], "CRM answered HTTP 503");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(crm.requests().len(), 3, "no attempt after the dead letter");
    let bad = app.api(reqwest::Method::GET, "/api/crm/deliveries?status=lost").send().await.unwrap();
    assert_eq!(bad.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);

    crm.up.store(true, Ordering::SeqCst);
    let id = dead["id"].as_str().unwrap();
    let replayed: Value = app
        .api(reqwest::Method::POST, &format!("/api/crm/deliveries/{id}/replay"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((replayed["status"].as_str(), replayed["attempts"].as_u64()), (Some("pending"), Some(0)));
    eventually("delivered after the replay", Duration::from_secs(10), || async {
        let d = get_json(&app, &format!("/api/crm/deliveries/{id}")).await;
        (d["status"] == "delivered").then_some(())
    })
    .await;
    let missing = app.api(reqwest::Method::POST, "/api/crm/deliveries/nope/replay").send().await.unwrap();
    assert_eq!(missing.status(), reqwest::StatusCode::NOT_FOUND);
}
