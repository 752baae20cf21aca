//! Issue #5 end to end: main-app, media-proxy and the sandbox on loopback. Live transcript
//! lines reach a real `socket.io-client` while the call runs; each scenario ends with the right
//! outcome and `terminatedBy`; a voicemail is left on the voicemail box; the recording streams
//! with a Range request and can be deleted; an `unknown` AMD verdict follows the policy and is
//! pushed live; a campaign dials with its own answering-machine policy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../crates/main-app/tests/sio/mod.rs"]
mod sio;
mod stack;

use common::call::{AnsweredBy, CallStatus, Outcome, Party};
use sandbox::scenario::builtin::{AGENT_ENDS, BUSY, NORMAL, SILENT, VOICEMAIL};
use serde_json::{Value, json};
use sio::SioClient;
use stack::{API_KEY, Stack};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_streams_live_lines_ends_held_and_its_recording_streams_with_range() {
    let stack = Stack::start(&[]).await;
    let mut client = SioClient::connect(&stack.main, json!({ "auth": { "token": API_KEY } })).await;
    client.connected().await;
    let placed = stack.place(json!({ "to": NORMAL, "name": "Ann" })).await;
    let id = placed["id"].as_str().unwrap().to_owned();
    client.subscribe("call", Some(&id)).await;

    // Whole lines arrive while the call is still in progress (no per-word events).
    let first = client.event("call:transcript", |e| e["line"]["role"] == "agent").await;
    assert_eq!(first["callId"], id.as_str());
    assert!(!first["line"]["text"].as_str().unwrap().is_empty());
    let user = client.event("call:transcript", |e| e["line"]["role"] == "user").await;
    assert!(user["line"]["timeInCallMs"].as_u64().is_some());
    let live = stack.state.store.get_call(&common::ids::CallId::parse(&id).unwrap()).await.unwrap().unwrap();
    assert_eq!(live.status, CallStatus::InProgress, "the lines came while the call ran");
    let heard = client.event("call:transcript", |e| e["line"]["heard"] == "heard").await;
    assert_eq!(heard["line"]["role"], "agent");
    let ended = client.event("call:ended", |_| true).await;
    assert_eq!(ended["id"], id.as_str());

    let call = stack.finalized(&id).await;
    assert_eq!(call.status, CallStatus::Completed);
    assert_eq!(call.outcome, Some(Outcome::ConversationHeld));
    let tb = call.terminated_by.clone().expect("terminatedBy");
    assert_eq!((tb.party, tb.source.as_str()), (Party::Caller, "media-proxy"), "{tb:?}");

    // The transcript API has the live lines (heard state) and ElevenLabs' post-call record.
    let transcript: Value = stack
        .api(reqwest::Method::GET, &format!("/api/calls/{id}/transcript"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(transcript["live"].as_array().unwrap().len() >= 2, "{transcript}");
    assert_eq!(transcript["postCall"]["conversationId"].as_str(), call.conversation_id.as_deref());
    assert!(!transcript["postCall"]["turns"].as_array().unwrap().is_empty());

    // The recording: stored from the callback, streamed from Twilio with Range, deletable.
    let recs = wait_recordings(&stack, &id).await;
    let sid = recs[0]["sid"].as_str().unwrap().to_owned();
    assert_eq!(recs[0]["status"], "completed");
    let wav = stack.sandbox.recording_wav(&sid).expect("the sandbox recorded the call");
    let audio = format!("/api/recordings/{sid}/audio?format=wav");
    let part =
        stack.api(reqwest::Method::GET, &audio).header("Range", "bytes=100-1099").send().await.unwrap();
    assert_eq!(part.status(), reqwest::StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers()["content-type"], "audio/wav");
    assert_eq!(part.headers()["accept-ranges"], "bytes");
    assert_eq!(part.headers()["content-range"].to_str().unwrap(), format!("bytes 100-1099/{}", wav.len()));
    assert_eq!(part.bytes().await.unwrap().as_ref(), &wav[100..1100]);
    let whole = stack.api(reqwest::Method::GET, &format!("{audio}&download=1")).send().await.unwrap();
    assert_eq!(whole.status(), reqwest::StatusCode::OK);
    assert!(whole.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(whole.bytes().await.unwrap().len(), wav.len());
    // Without ?format the default (mp3) is tried first; the sandbox only has WAV, which is served.
    let default =
        stack.api(reqwest::Method::GET, &format!("/api/recordings/{sid}/audio")).send().await.unwrap();
    assert_eq!(default.status(), reqwest::StatusCode::OK);
    assert_eq!(default.headers()["content-type"], "audio/wav");
    assert_eq!(default.bytes().await.unwrap().len(), wav.len());
    let mp3 = stack
        .api(reqwest::Method::GET, &format!("/api/recordings/{sid}/audio?format=mp3"))
        .send()
        .await
        .unwrap();
    assert_eq!(mp3.status(), reqwest::StatusCode::NOT_FOUND, "an explicit format is not replaced");
    let anonymous = stack.http.get(format!("{}{audio}", stack.main)).send().await.unwrap();
    assert_eq!(anonymous.status(), reqwest::StatusCode::UNAUTHORIZED);

    let deleted = stack.api(reqwest::Method::DELETE, &format!("/api/recordings/{sid}")).send().await.unwrap();
    assert_eq!(deleted.status(), reqwest::StatusCode::NO_CONTENT);
    let gone = stack.api(reqwest::Method::GET, &audio).send().await.unwrap();
    assert_eq!(gone.status(), reqwest::StatusCode::NOT_FOUND);
    assert!(stack.sandbox.recording_wav(&sid).is_none(), "the recording is deleted at Twilio too");
    client.close().await;
}

async fn wait_recordings(stack: &Stack, id: &str) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let page: Value = stack
            .api(reqwest::Method::GET, &format!("/api/calls/{id}/recordings"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = page["items"].as_array().unwrap().clone();
        if items.iter().any(|r| r["status"] == "completed") {
            return items;
        }
        assert!(tokio::time::Instant::now() < deadline, "no completed recording: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_ending_the_call_is_recorded_as_the_agent() {
    let stack = Stack::start(&[]).await;
    let placed = stack.place(json!({ "to": AGENT_ENDS, "name": "Bo" })).await;
    let call = stack.finalized(placed["id"].as_str().unwrap()).await;
    assert_eq!(call.outcome, Some(Outcome::ConversationHeld));
    let tb = call.terminated_by.expect("terminatedBy");
    assert_eq!(tb.party, Party::Agent, "{tb:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_line_is_busy_and_ended_by_the_system() {
    let stack = Stack::start(&[]).await;
    let placed = stack.place(json!({ "to": BUSY })).await;
    let call = stack.finalized(placed["id"].as_str().unwrap()).await;
    assert_eq!((call.status, call.outcome), (CallStatus::Busy, Some(Outcome::Busy)));
    assert_eq!(call.terminated_by.map(|t| (t.party, t.reason)), Some((Party::System, "busy".to_owned())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voicemail_box_gets_the_message_after_the_beep() {
    let stack = Stack::start(&[]).await;
    let policy = json!({
        "onMachine": "voicemail",
        "voicemailMessage": "Hi {name}, this is Acme. Please call us back.",
        "unknownAs": "human"
    });
    let placed = stack.place(json!({ "to": VOICEMAIL, "name": "Sam", "amdPolicy": policy })).await;
    let id = placed["id"].as_str().unwrap().to_owned();
    let sid = placed["callSid"].as_str().unwrap().to_owned();
    let record = stack.sandbox.wait_call_ended(&sid, Duration::from_secs(90)).await.expect("the call ended");
    assert!(record.voicemail_message_received, "a message was left after the greeting: {record:#?}");
    assert_eq!(record.says, vec!["Hi Sam, this is Acme. Please call us back.".to_owned()]);

    let call = stack.finalized(&id).await;
    assert_eq!(call.answered_by, Some(AnsweredBy::MachineEndBeep));
    assert_eq!(call.outcome, Some(Outcome::Voicemail));
    let tb = call.terminated_by.expect("terminatedBy");
    assert_eq!((tb.party, tb.reason.as_str(), tb.source.as_str()), (Party::System, "voicemail_left", "amd"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_hang_up_policy_a_machine_is_hung_up_without_a_message() {
    let stack = Stack::start(&[("AMD_ON_MACHINE", "hangup")]).await;
    let placed = stack.place(json!({ "to": VOICEMAIL, "name": "Sam" })).await;
    let sid = placed["callSid"].as_str().unwrap().to_owned();
    let record = stack.sandbox.wait_call_ended(&sid, Duration::from_secs(90)).await.expect("the call ended");
    assert!(!record.voicemail_message_received);
    let call = stack.finalized(placed["id"].as_str().unwrap()).await;
    assert_eq!(call.answered_by, Some(AnsweredBy::MachineStart));
    assert_eq!(call.outcome, Some(Outcome::Voicemail));
    let tb = call.terminated_by.expect("terminatedBy");
    assert_eq!((tb.party, tb.reason.as_str()), (Party::System, "answering_machine"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_post_call_webhooks_are_recovered_from_elevenlabs_on_demand_and_in_bulk() {
    let stack = Stack::start_with(&[("POST_CALL_WAIT_SECS", "2")], false).await;
    let one = stack.place(json!({ "to": NORMAL, "name": "Ann" })).await;
    let two = stack.place(json!({ "to": AGENT_ENDS, "name": "Bo" })).await;
    let (one, two) = (one["id"].as_str().unwrap().to_owned(), two["id"].as_str().unwrap().to_owned());
    // Finalized without post-call data once the wait elapsed.
    for id in [&one, &two] {
        stack.finalized(id).await;
        let t: Value = stack
            .api(reqwest::Method::GET, &format!("/api/calls/{id}/transcript"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(t["postCall"], Value::Null, "no webhook was sent");
    }

    let recovered = stack
        .api(reqwest::Method::POST, &format!("/api/calls/{one}/transcript/recover"))
        .send()
        .await
        .unwrap();
    assert_eq!(recovered.status(), reqwest::StatusCode::OK);
    let recovered: Value = recovered.json().await.unwrap();
    assert_eq!(recovered["postCall"]["source"], "recovered");
    assert!(!recovered["postCall"]["turns"].as_array().unwrap().is_empty());

    let bulk = stack
        .api(reqwest::Method::POST, "/api/transcripts/recover")
        .json(&json!({ "limit": 10 }))
        .send()
        .await
        .unwrap();
    assert_eq!(bulk.status(), reqwest::StatusCode::OK);
    let bulk: Value = bulk.json().await.unwrap();
    assert_eq!(
        bulk,
        json!({ "attempted": 1, "recovered": 1, "failed": [] }),
        "only the call still missing it"
    );
    let t: Value = stack
        .api(reqwest::Method::GET, &format!("/api/calls/{two}/transcript"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["postCall"]["source"], "recovered");
    let again: Value = stack
        .api(reqwest::Method::POST, "/api/transcripts/recover")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["attempted"], 0);
}

/// `GET /api/calls/active` lists a live call; `POST /api/calls/{id}/hangup` ends it through
/// Twilio's REST API with the operator recorded as the one who ended it; a second hang-up is a
/// conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_hangs_up_a_live_call() {
    use reqwest::{Method, StatusCode};
    let stack = Stack::start(&[]).await;
    let placed = stack.place(json!({ "to": NORMAL, "name": "Ann" })).await;
    let id = placed["id"].as_str().unwrap().to_owned();
    let sid = placed["callSid"].as_str().unwrap().to_owned();
    stack.call_when(&id, Duration::from_secs(30), |c| c.status == CallStatus::InProgress).await;

    let active: Value =
        stack.api(Method::GET, "/api/calls/active").send().await.unwrap().json().await.unwrap();
    let listed = active.as_array().or_else(|| active["items"].as_array()).expect("a list of live calls");
    assert!(listed.iter().any(|c| c["id"] == id.as_str()), "{active}");

    let r = stack.api(Method::POST, &format!("/api/calls/{id}/hangup")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let record = stack.sandbox.wait_call_ended(&sid, Duration::from_secs(30)).await.expect("ended at Twilio");
    assert_eq!(record.end_reason, Some(sandbox::twilio::record::EndReason::RestCompleted));

    let call = stack.finalized(&id).await;
    assert_eq!(call.status, CallStatus::Completed);
    let tb = call.terminated_by.expect("terminatedBy");
    assert_eq!((tb.party, tb.reason.as_str()), (Party::Operator, "operator_hangup"), "{tb:?}");
    let active: Value =
        stack.api(Method::GET, "/api/calls/active").send().await.unwrap().json().await.unwrap();
    assert!(!active.to_string().contains(&id), "no longer live: {active}");

    let again = stack.api(Method::POST, &format!("/api/calls/{id}/hangup")).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let err: Value = again.json().await.unwrap();
    assert_eq!(err["error"]["code"], "CALL_ALREADY_ENDED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_verdict_treated_as_a_machine_is_hung_up_and_pushed_live() {
    let stack = Stack::start(&[]).await;
    let mut client = SioClient::connect(&stack.main, json!({ "auth": { "token": API_KEY } })).await;
    client.connected().await;
    client.subscribe("calls", None).await;
    let policy = json!({ "onMachine": "hangup", "unknownAs": "machine" });
    let placed = stack.place(json!({ "to": SILENT, "name": "Sid", "amdPolicy": policy })).await;
    let id = placed["id"].as_str().unwrap().to_owned();
    // Twilio's verdict on a callee that never speaks is `unknown`; dashboards see it live.
    let live = client.event("call:updated", |c| c["id"] == id.as_str() && c["answeredBy"] == "unknown").await;
    assert_eq!(live["status"], "in-progress");
    let ended = client.event("call:ended", |c| c["id"] == id.as_str()).await;
    assert_eq!(ended["answeredBy"], "unknown");

    let call = stack.finalized(&id).await;
    assert_eq!(call.answered_by, Some(AnsweredBy::Unknown));
    let tb = call.terminated_by.expect("terminatedBy");
    assert_eq!(
        (tb.party, tb.reason.as_str(), tb.source.as_str()),
        (Party::System, "answering_machine", "amd")
    );
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_calls_with_its_own_answering_machine_policy() {
    // The default policy hangs up on machines; the campaign's leaves a message.
    let stack = Stack::start(&[("AMD_ON_MACHINE", "hangup")]).await;
    let settings = json!({ "amdPolicy": {
        "onMachine": "voicemail", "voicemailMessage": "Hi {name}, Acme here. Call us back.", "unknownAs": "human"
    }});
    let resp = stack
        .api(reqwest::Method::POST, "/api/campaigns")
        .json(&json!({"name": "VM", "settings": settings}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::CREATED);
    let campaign: Value = resp.json().await.unwrap();
    let cid = campaign["id"].as_str().unwrap().to_owned();
    let csv = format!("phone,name\n{VOICEMAIL},Sam\n");
    let import = stack
        .api(reqwest::Method::POST, &format!("/api/contacts/import?campaignId={cid}"))
        .body(csv)
        .send()
        .await
        .unwrap();
    assert!(import.status().is_success(), "{:?}", import.text().await);
    let start =
        stack.api(reqwest::Method::POST, &format!("/api/campaigns/{cid}/start")).send().await.unwrap();
    assert!(start.status().is_success(), "{:?}", start.text().await);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let call = loop {
        let page: Value = stack
            .api(reqwest::Method::GET, &format!("/api/calls?campaignId={cid}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(c) = page["items"].as_array().and_then(|i| i.first()).filter(|c| c["callSid"].is_string())
        {
            break c.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "the campaign placed no call: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let sid = call["callSid"].as_str().unwrap().to_owned();
    let record = stack.sandbox.wait_call_ended(&sid, Duration::from_secs(90)).await.expect("the call ended");
    assert!(record.voicemail_message_received, "the campaign's policy left a message: {record:#?}");
    assert_eq!(record.says, vec!["Hi Sam, Acme here. Call us back.".to_owned()]);
    let done = stack.finalized(call["id"].as_str().unwrap()).await;
    assert_eq!(done.outcome, Some(Outcome::Voicemail));
    let tb = done.terminated_by.expect("terminatedBy");
    assert_eq!((tb.party, tb.reason.as_str()), (Party::System, "voicemail_left"));
}
