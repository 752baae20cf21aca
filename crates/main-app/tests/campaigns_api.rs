//! Campaigns over real HTTP: settings validation naming the field, joining contacts, the
//! template check before a start, the state machine (start, schedule, pause, resume, cancel),
//! and, with the engine running against a fake Twilio, live progress over Socket.IO, a pause
//! after which Twilio receives no new call, and a cancel that hangs up live calls.
#![allow(clippy::unwrap_used)]

mod campaign_support;
mod sio;
mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

use campaign_support::fake_twilio::{Behaviour, FakeTwilio};
use sio::SioClient;
use support::{API_KEY, AUTH_TOKEN, TestApp};

async fn send(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = app.api(method, path);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn contact(app: &TestApp, body: Value) -> String {
    let (status, c) = send(app, Method::POST, "/api/contacts", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    c["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn settings_are_validated_and_a_start_needs_contacts_with_every_variable() {
    let app = TestApp::spawn_with(&[("CAMPAIGN_ENGINE", "false")]).await;
    let window = |end: &str| json!([{"days": ["mon"], "start": "09:00", "end": end}]);
    for (settings, field) in [
        (json!({"callerId": "+61212345678"}), "settings.callerId"),
        (json!({"maxConcurrent": 0}), "settings.maxConcurrent"),
        (json!({"callsPerSecond": 500}), "settings.callsPerSecond"),
        (json!({"timeZone": "Mars/Base"}), "settings.timeZone"),
        (json!({"windows": window("08:00")}), "settings.windows[0].end"),
        (json!({"prompt": "Hi {{name"}), "settings.prompt"),
        (
            json!({"retry": {"noAnswer": {"maxAttempts": 0, "delayMinutes": 5}, "busy": {"maxAttempts": 1, "delayMinutes": 1},
                "failed": {"maxAttempts": 1, "delayMinutes": 1}, "voicemail": {"maxAttempts": 1, "delayMinutes": 1}}}),
            "settings.retry.noAnswer.maxAttempts",
        ),
    ] {
        let (status, err) =
            send(&app, Method::POST, "/api/campaigns", Some(json!({"name": "x", "settings": settings})))
                .await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{settings}"
        );
    }
    let (status, _) = send(&app, Method::POST, "/api/campaigns", Some(json!({"settings": {}}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a name is required");

    let settings = json!({"prompt": "Call {{first_name}} about {{ Company }}", "firstMessage": "Hi {{first_name}}",
                          "windows": window("17:00"), "timeZone": "Australia/Sydney", "callerId": "+61255501234"});
    let (status, c) =
        send(&app, Method::POST, "/api/campaigns", Some(json!({"name": "Spring", "settings": settings})))
            .await;
    assert_eq!((status, c["status"].as_str()), (StatusCode::CREATED, Some("draft")), "{c}");
    let id = c["id"].as_str().unwrap();
    let (status, err) = send(&app, Method::POST, &format!("/api/campaigns/{id}/start"), None).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("NO_CONTACTS"))
    );

    let ann = contact(
        &app,
        json!({"phone": "0491570101", "firstName": "Ann", "customFields": {"Company": "Acme"}}),
    )
    .await;
    let bob = contact(&app, json!({"phone": "0491570102", "firstName": "Bob", "tags": ["b"]})).await;
    let (_, added) = send(
        &app,
        Method::POST,
        &format!("/api/campaigns/{id}/contacts"),
        Some(json!({"contactIds": [ann]})),
    )
    .await;
    assert_eq!(added["added"], 1);
    let (_, added) =
        send(&app, Method::POST, &format!("/api/campaigns/{id}/contacts"), Some(json!({"tag": "b"}))).await;
    assert_eq!(added["added"], 1);
    let (_, added) =
        send(&app, Method::POST, &format!("/api/campaigns/{id}/contacts"), Some(json!({"all": true}))).await;
    assert_eq!(added["added"], 0, "already members");

    let (status, err) = send(&app, Method::POST, &format!("/api/campaigns/{id}/start"), None).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("TEMPLATE_VARIABLES_MISSING"))
    );
    let missing = &err["error"]["details"]["missing"];
    assert_eq!(
        (missing[0]["contactId"].as_str(), missing[0]["variables"].clone()),
        (Some(bob.as_str()), json!(["company"]))
    );
    send(
        &app,
        Method::PUT,
        &format!("/api/contacts/{bob}"),
        Some(json!({"phone": "0491570102", "firstName": "Bob", "customFields": {"company": "Beta"}})),
    )
    .await;
    let (_, check) = send(&app, Method::POST, &format!("/api/campaigns/{id}/check"), None).await;
    assert_eq!((check["ok"].clone(), check["checked"].clone()), (json!(true), json!(2)));

    let (status, started) = send(&app, Method::POST, &format!("/api/campaigns/{id}/start"), None).await;
    assert_eq!((status, started["status"].as_str()), (StatusCode::OK, Some("running")), "{started}");
    assert_eq!(
        (started["progress"]["total"].clone(), started["progress"]["remaining"].clone()),
        (json!(2), json!(2))
    );
    let (_, members) = send(&app, Method::GET, &format!("/api/campaigns/{id}/contacts"), None).await;
    assert_eq!(members["items"][0]["phone"], "+61491570101");
    assert_eq!(members["items"][0]["state"], "pending");

    let act = |a: &str| format!("/api/campaigns/{id}/{a}");
    assert_eq!(send(&app, Method::POST, &act("pause"), None).await.1["status"], "paused");
    let (status, err) = send(&app, Method::POST, &act("pause"), None).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("INVALID_STATE")));
    assert_eq!(send(&app, Method::POST, &act("resume"), None).await.1["status"], "running");
    let (status, err) = send(&app, Method::DELETE, &format!("/api/campaigns/{id}"), None).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("CAMPAIGN_ACTIVE")));
    let (status, canceled) = send(&app, Method::POST, &act("cancel"), Some(json!({}))).await;
    assert_eq!((status, canceled["campaign"]["status"].as_str()), (StatusCode::OK, Some("canceled")));
    assert_eq!(send(&app, Method::POST, &act("resume"), None).await.0, StatusCode::CONFLICT);
    let (status, err) =
        send(&app, Method::PUT, &format!("/api/campaigns/{id}"), Some(json!({"name": "again"}))).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("CAMPAIGN_FINISHED")));
    assert_eq!(
        send(&app, Method::DELETE, &format!("/api/campaigns/{id}"), None).await.0,
        StatusCode::NO_CONTENT
    );

    let (_, later) = send(&app, Method::POST, "/api/campaigns", Some(json!({"name": "Later"}))).await;
    let lid = later["id"].as_str().unwrap();
    send(&app, Method::POST, &format!("/api/campaigns/{lid}/contacts"), Some(json!({"all": true}))).await;
    let (_, s) = send(
        &app,
        Method::POST,
        &format!("/api/campaigns/{lid}/start"),
        Some(json!({"at": "2099-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(
        (s["status"].as_str(), s["settings"]["startAt"].as_str()),
        (Some("scheduled"), Some("2099-01-01T00:00:00Z"))
    );
    let (_, list) = send(&app, Method::GET, "/api/campaigns?status=scheduled,running", None).await;
    assert_eq!((list["total"].clone(), list["items"][0]["id"].as_str()), (json!(1), Some(lid)));
}

async fn live_app(fake: &FakeTwilio) -> TestApp {
    TestApp::spawn_with(&[("TWILIO_API_BASE", &fake.base), ("CAMPAIGN_TICK_MS", "50")]).await
}

async fn campaign_with(app: &TestApp, n: usize, settings: Value) -> String {
    let csv: String = std::iter::once("phone,name\n".to_owned())
        .chain((0..n).map(|i| format!("+614915701{:02},Person {i}\n", i + 10)))
        .collect();
    let (_, c) =
        send(app, Method::POST, "/api/campaigns", Some(json!({"name": "Live", "settings": settings}))).await;
    let id = c["id"].as_str().unwrap().to_owned();
    let r = app
        .api(Method::POST, &format!("/api/contacts/import?campaignId={id}"))
        .body(csv)
        .send()
        .await
        .unwrap();
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["addedToCampaign"], n, "{report}");
    id
}

#[tokio::test]
async fn progress_is_pushed_live_and_after_a_pause_twilio_receives_no_new_call() {
    let fake = FakeTwilio::start(AUTH_TOKEN).await;
    fake.by_default(Behaviour::Auto(Duration::from_millis(300), "completed", Some("human")));
    // Creates reach "Twilio" 150 ms after they are sent: a pause answered while a dial is on its
    // way would show up as a call created after the answer.
    fake.set_latency(Duration::from_millis(150));
    let app = live_app(&fake).await;
    // Dialling continuously (20 per second, no concurrency limit in the way), so dials are on
    // their way when the pause arrives.
    let id = campaign_with(&app, 40, json!({"maxConcurrent": 40, "callsPerSecond": 20})).await;
    let mut client = SioClient::connect(&app.base, json!({ "auth": { "token": API_KEY } })).await;
    client.connected().await;
    client.subscribe("campaign", Some(&id)).await;
    client.subscribe("campaigns", None).await;
    send(&app, Method::POST, &format!("/api/campaigns/{id}/start"), None).await;
    let p = client
        .event("campaign:progress", |d| d["campaignId"] == id.as_str() && d["dialled"].as_u64() >= Some(4))
        .await;
    assert_eq!(p["status"], "running");

    // Pause exactly while a dial is on its way to Twilio.
    loop {
        let (_, dialing) =
            send(&app, Method::GET, &format!("/api/campaigns/{id}/contacts?state=dialing"), None).await;
        if dialing["total"].as_u64() > Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (status, paused) = send(&app, Method::POST, &format!("/api/campaigns/{id}/pause"), None).await;
    let answered = Instant::now();
    assert_eq!((status, paused["status"].as_str()), (StatusCode::OK, Some("paused")));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let calls = fake.calls();
    assert!(calls.len() < 40, "paused before the end");
    assert!(
        calls.iter().all(|c| c.created < answered),
        "a call was created at Twilio after the pause answered"
    );
    let settled = client
        .event("campaign:progress", |d| {
            d["campaignId"] == id.as_str() && d["status"] == "paused" && d["inFlight"] == 0
        })
        .await;
    assert_eq!(settled["dialled"], calls.len());

    send(&app, Method::POST, &format!("/api/campaigns/{id}/resume"), None).await;
    let done = client
        .event("campaign:progress", |d| d["campaignId"] == id.as_str() && d["status"] == "completed")
        .await;
    assert_eq!(
        (done["dialled"].clone(), done["answered"].clone(), done["done"].clone(), done["remaining"].clone()),
        (json!(40), json!(40), json!(40), json!(0))
    );
    for i in 0..40 {
        assert_eq!(fake.dials_of(&format!("+614915701{:02}", i + 10)), 1);
    }
    client.close().await;
}

#[tokio::test]
async fn cancel_can_hang_up_the_live_calls() {
    let fake = FakeTwilio::start(AUTH_TOKEN).await;
    let app = live_app(&fake).await;
    let id = campaign_with(&app, 10, json!({"maxConcurrent": 3, "callsPerSecond": 20})).await;
    send(&app, Method::POST, &format!("/api/campaigns/{id}/start"), None).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.calls().len() < 3 {
        assert!(Instant::now() < deadline, "three calls expected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, r) =
        send(&app, Method::POST, &format!("/api/campaigns/{id}/cancel"), Some(json!({"hangUp": true}))).await;
    assert_eq!(
        (status, r["hungUp"].clone(), r["campaign"]["status"].as_str()),
        (StatusCode::OK, json!(3), Some("canceled"))
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, p) = send(&app, Method::GET, &format!("/api/campaigns/{id}/progress"), None).await;
        if p["inFlight"] == 0 && p["done"] == 3 {
            break;
        }
        assert!(Instant::now() < deadline, "the hung-up calls end and their contacts are done: {p}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(fake.calls().len(), 3, "nothing dialled after the cancel");
    assert!(fake.calls().iter().all(|c| c.ended.is_some()));
}

#[tokio::test]
async fn campaigns_snapshot_lists_the_active_campaigns_and_drops_a_canceled_one() {
    let app = TestApp::spawn_with(&[("CAMPAIGN_TICK_MS", "50")]).await;
    let active = campaign_with(&app, 2, json!({})).await;
    let draft = campaign_with(&app, 1, json!({})).await;
    let start = format!("/api/campaigns/{active}/start");
    let (status, started) =
        send(&app, Method::POST, &start, Some(json!({"at": "2099-01-01T00:00:00Z"}))).await;
    assert_eq!((status, started["status"].as_str()), (StatusCode::OK, Some("scheduled")), "{started}");

    let mut client = SioClient::connect(&app.base, json!({ "auth": { "token": API_KEY } })).await;
    client.connected().await;
    client.subscribe("campaigns", None).await;
    let snapshot = client.event("campaigns:snapshot", |_| true).await;
    let items = snapshot.as_array().expect("an array of progress");
    assert_eq!(items.len(), 1, "only the scheduled campaign, not the draft {draft}: {snapshot}");
    assert_eq!(
        (items[0]["campaignId"].as_str(), items[0]["status"].as_str(), items[0]["total"].as_u64()),
        (Some(active.as_str()), Some("scheduled"), Some(2))
    );

    let (status, _) =
        send(&app, Method::POST, &format!("/api/campaigns/{active}/cancel"), Some(json!({}))).await;
    assert_eq!(status, StatusCode::OK);
    client
        .event("campaign:progress", |d| d["campaignId"] == active.as_str() && d["status"] == "canceled")
        .await;
    // A canceled campaign is no longer active: a fresh subscription's snapshot leaves it out.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        client.subscribe("campaigns", None).await;
        let again = client.event("campaigns:snapshot", |_| true).await;
        if again.as_array().is_some_and(Vec::is_empty) {
            break;
        }
        assert!(Instant::now() < deadline, "the canceled campaign stays in the snapshot: {again}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client.close().await;
}
