//! Bulk transcript recovery against a fake ElevenLabs REST API: conversations ElevenLabs no
//! longer has (404 forever) are given up after one try instead of being fetched first on every
//! run, so the others get recovered; a transcript recovered after its call was finalized
//! reaches the CRM as one update.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod postcall;
mod support;

use axum::extract::Path;
use axum::http::StatusCode;
use postcall::crm::{Crm, crm_settings, finalized, refs, status};
use postcall::{agent_connected, eventually, get_json, post_call_body};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::TestApp;

/// `GET /v1/convai/conversations/{id}`: 404 for ids starting `conv_gone`, else a finished
/// conversation. Returns its base URL and the ids asked for, in order.
async fn fake_elevenlabs() -> (String, Arc<Mutex<Vec<String>>>) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    let router = axum::Router::new().route(
        "/v1/convai/conversations/{id}",
        axum::routing::get(move |Path(id): Path<String>| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push(id.clone());
                if id.starts_with("conv_gone") {
                    return Err(StatusCode::NOT_FOUND);
                }
                let envelope: Value =
                    serde_json::from_str(&post_call_body(&id, json!({}), "Sounds good", "success")).unwrap();
                Ok(axum::Json(envelope["data"].clone()))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (base, asked)
}

async fn recover(app: &TestApp, limit: u64) -> Value {
    let resp = app
        .api(reqwest::Method::POST, "/api/transcripts/recover")
        .json(&json!({ "limit": limit }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn conversations_elevenlabs_no_longer_has_do_not_starve_the_others() {
    let (el_base, asked) = fake_elevenlabs().await;
    let (crm, crm_url) = Crm::start().await;
    crm.up.store(true, Ordering::SeqCst);
    let mut settings = crm_settings(&crm_url, "5");
    settings.push(("ELEVENLABS_API_BASE", el_base));
    settings.push(("POST_CALL_WAIT_SECS", "1".to_owned()));
    let app = TestApp::spawn_with(&refs(&settings)).await;

    // Three conversations ElevenLabs lost, linked before the one it still has.
    let mut calls = Vec::new();
    for (n, conv) in ["conv_gone_1", "conv_gone_2", "conv_gone_3", "conv_kept"].into_iter().enumerate() {
        let call = app.insert_call(Some(&format!("CA{:032x}", 0xa10 + n))).await;
        status(&app, &call, "in-progress", "2", &[]).await;
        agent_connected(&app, &call.id, 0, conv).await;
        status(&app, &call, "completed", "3", &[("CallDuration", "30")]).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        calls.push(call);
    }
    let kept = calls.last().unwrap().clone();
    // The wait passes without a webhook: every call is finalized and reported without data.
    for call in &calls {
        finalized(&app, call).await;
    }
    eventually("four final reports", Duration::from_secs(10), || async {
        (crm.accepted().len() == 4).then_some(())
    })
    .await;

    // The first run reaches only the oldest three, all gone: each is given up.
    let first = recover(&app, 3).await;
    assert_eq!((first["attempted"].as_u64(), first["recovered"].as_u64()), (Some(3), Some(0)), "{first}");
    let failed = first["failed"].as_array().unwrap();
    assert!(
        failed
            .iter()
            .all(|f| f["gaveUp"] == true && f["conversationId"].as_str().unwrap().starts_with("conv_gone"))
    );

    // The next run reaches the one ElevenLabs still has.
    let second = recover(&app, 3).await;
    assert_eq!((second["attempted"].as_u64(), second["recovered"].as_u64()), (Some(1), Some(1)), "{second}");
    let third = recover(&app, 3).await;
    assert_eq!(third["attempted"], 0, "nothing left to try: {third}");
    assert_eq!(
        *asked.lock().unwrap(),
        ["conv_gone_1", "conv_gone_2", "conv_gone_3", "conv_kept"],
        "each conversation fetched once"
    );
    let transcript = get_json(&app, &format!("/api/calls/{}/transcript", calls[0].id)).await;
    assert_eq!(transcript["recovery"]["attempts"], 1);
    assert_eq!(transcript["recovery"]["lastError"], "ElevenLabs answered HTTP 404");
    assert!(transcript["recovery"]["givenUpAt"].is_string());
    let recovered = get_json(&app, &format!("/api/calls/{}/transcript", kept.id)).await;
    assert_eq!(recovered["postCall"]["source"], "recovered");

    // The recovered transcript reached the CRM once, as an update of the finalized call.
    let update = eventually("the update", Duration::from_secs(10), || async {
        crm.accepted().into_iter().find(|p| p["event"] == "update")
    })
    .await;
    assert_eq!(
        (update["callId"].as_str(), update["summary"].as_str()),
        (Some(kept.id.as_str()), Some("Ann agreed to a callback."))
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(crm.accepted().len(), 5, "four final reports and one update");
}
