//! Socket.IO with a real `socket.io-client`: who may connect, subscriptions with snapshots,
//! call updates and whole transcript lines pushed live, unsubscribe, a fresh snapshot after a
//! reconnect, resync after the forwarder lagged, and (with MongoDB) a call reported by Twilio to
//! one instance reaching a client of another.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod sio;
mod support;

use chrono::Utc;
use common::events::media::{MediaEvent, MediaEventBatch, MediaEventKind, SIGNATURE_HEADER};
use common::events::{HeardState, Role, TranscriptLine};
use serde_json::{Value, json};
use sio::SioClient;
use std::time::Duration;
use support::{API_KEY, PASSWORD, STREAM_SECRET, TestApp};

fn token() -> Value {
    json!({ "auth": { "token": API_KEY } })
}

async fn session_cookie(app: &TestApp) -> String {
    let ok = app
        .http
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = ok.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    cookie.split(';').next().unwrap().to_owned()
}

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

fn line(index: u32, role: Role, text: &str, heard: Option<HeardState>) -> TranscriptLine {
    TranscriptLine {
        index,
        role,
        text: text.into(),
        time_in_call_ms: 1000 + u64::from(index) * 2000,
        heard,
        heard_ms: None,
        audio_ms: None,
    }
}

#[tokio::test]
async fn connections_without_a_session_or_token_are_refused() {
    let app = TestApp::spawn().await;
    let mut anonymous = SioClient::connect(&app.base, json!({})).await;
    assert_eq!(anonymous.refused().await, "unauthorized");
    let mut wrong =
        SioClient::connect(&app.base, json!({ "auth": { "token": "not-the-key-0123456789" } })).await;
    assert_eq!(wrong.refused().await, "unauthorized");
    let mut forged =
        SioClient::connect(&app.base, json!({ "extraHeaders": { "cookie": "session=forged" } })).await;
    assert_eq!(forged.refused().await, "unauthorized");

    let mut with_token = SioClient::connect(&app.base, token()).await;
    with_token.connected().await;
    let cookie = session_cookie(&app).await;
    let mut with_session =
        SioClient::connect(&app.base, json!({ "extraHeaders": { "cookie": cookie } })).await;
    with_session.connected().await;
    with_session.subscribe("calls", None).await;
    for c in [anonymous, wrong, forged, with_token, with_session] {
        c.close().await;
    }
}

#[tokio::test]
async fn subscribers_get_snapshots_updates_and_whole_transcript_lines() {
    let app = TestApp::spawn().await;
    let call = app.insert_call(Some("CA00000000000000000000000000000a01")).await;
    let mut client = SioClient::connect(&app.base, token()).await;
    client.connected().await;

    let ack = client.emit("subscribe", json!({ "topic": "nonsense" })).await;
    assert_eq!(ack, json!({ "ok": false, "error": "UNKNOWN_TOPIC" }));
    let ack = client.emit("subscribe", json!({ "topic": "call" })).await;
    assert_eq!(ack, json!({ "ok": false, "error": "ID_REQUIRED" }));
    let ack = client
        .emit("subscribe", json!({ "topic": "call", "id": "CA00000000000000000000000000000fff" }))
        .await;
    assert_eq!(ack, json!({ "ok": false, "error": "CALL_NOT_FOUND" }));

    client.subscribe("calls", None).await;
    let snapshot = client.event("calls:snapshot", |_| true).await;
    assert_eq!(snapshot.as_array().unwrap().len(), 1);
    assert_eq!(snapshot[0]["id"], call.id.as_str());
    assert_eq!(snapshot[0]["status"], "queued");

    // Subscribing by CallSid joins the call's room (by id) and sends its snapshot.
    client.subscribe("call", call.call_sid.as_ref().map(|s| s.as_str())).await;
    let one = client.event("call:snapshot", |_| true).await;
    assert_eq!(one["call"]["id"], call.id.as_str());
    assert_eq!(one["transcript"], json!([]));

    let path = format!("/call-status-callback?call={}", call.id);
    let sid = call.call_sid.as_ref().unwrap().to_string();
    app.twilio_post(&path, &[("CallSid", &sid), ("CallStatus", "in-progress"), ("SequenceNumber", "2")])
        .await;
    let updated = client.event("call:updated", |c| c["status"] == "in-progress").await;
    assert_eq!(updated["id"], call.id.as_str());

    // Whole lines, with heard state; an update of a line reuses its index.
    let agent = line(0, Role::Agent, "Hi Ann, it's Acme.", Some(HeardState::Pending));
    let user = line(1, Role::User, "Oh hi.", None);
    let heard = TranscriptLine { heard: Some(HeardState::Heard), audio_ms: Some(1400), ..agent.clone() };
    let kinds = vec![
        MediaEventKind::Transcript { line: agent.clone() },
        MediaEventKind::Transcript { line: user.clone() },
        MediaEventKind::Transcript { line: heard.clone() },
    ];
    media_events(&app, &call.id, 0, kinds).await;
    let first = client.event("call:transcript", |e| e["line"]["index"] == 0).await;
    assert_eq!(first, json!({ "callId": call.id.as_str(), "line": serde_json::to_value(&agent).unwrap() }));
    let second = client.event("call:transcript", |e| e["line"]["index"] == 1).await;
    assert_eq!(second["line"]["text"], "Oh hi.");
    let third = client.event("call:transcript", |e| e["line"]["heard"] == "heard").await;
    assert_eq!(third["line"]["index"], 0);

    // The lines are persisted: a new subscriber's snapshot has them, and so does the API.
    let mut late = SioClient::connect(&app.base, token()).await;
    late.connected().await;
    late.subscribe("call", Some(call.id.as_str())).await;
    let snap = late.event("call:snapshot", |_| true).await;
    assert_eq!(
        snap["transcript"],
        json!([serde_json::to_value(&heard).unwrap(), serde_json::to_value(&user).unwrap()])
    );
    let api: Value = app
        .api(reqwest::Method::GET, &format!("/api/calls/{}/transcript", call.id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api["live"], snap["transcript"]);
    assert_eq!(api["postCall"], Value::Null);

    // Unsubscribed from both rooms, the first client hears nothing more about the call.
    let ack = client.emit("unsubscribe", json!({ "topic": "calls" })).await;
    assert_eq!(ack, json!({ "ok": true }));
    let ack = client.emit("unsubscribe", json!({ "topic": "call", "id": sid })).await;
    assert_eq!(ack, json!({ "ok": true }));
    let kinds = vec![MediaEventKind::Transcript { line: line(2, Role::Agent, "Still there?", None) }];
    media_events(&app, &call.id, 3, kinds).await;
    late.event("call:transcript", |e| e["line"]["index"] == 2).await;
    let after = client.drain(Duration::from_millis(500)).await;
    assert!(after.iter().all(|m| m["type"] != "event"), "unsubscribed client still got {after:?}");
    client.close().await;
    late.close().await;
}

#[tokio::test]
async fn a_client_that_reconnects_gets_a_fresh_snapshot() {
    let app = TestApp::spawn().await;
    let first_call = app.insert_call(Some("CA00000000000000000000000000000b01")).await;
    let mut client = SioClient::connect(&app.base, token()).await;
    client.connected().await;
    client.subscribe("calls", None).await;
    assert_eq!(client.event("calls:snapshot", |_| true).await.as_array().unwrap().len(), 1);
    client.close().await;

    // While it is away: one call ends, another starts.
    let path = format!("/call-status-callback?call={}", first_call.id);
    let sid = first_call.call_sid.as_ref().unwrap().to_string();
    app.twilio_post(&path, &[("CallSid", &sid), ("CallStatus", "busy"), ("SequenceNumber", "3")]).await;
    let second = app.insert_call(Some("CA00000000000000000000000000000b02")).await;

    let mut again = SioClient::connect(&app.base, token()).await;
    again.connected().await;
    again.subscribe("calls", None).await;
    let snapshot = again.event("calls:snapshot", |_| true).await;
    let ids: Vec<&str> = snapshot.as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![second.id.as_str()]);
    again.close().await;
}

#[tokio::test]
async fn a_lagging_forwarder_resends_snapshots_instead_of_dying() {
    let app = TestApp::spawn().await;
    let call = app.insert_call(Some("CA00000000000000000000000000000c01")).await;
    let mut client = SioClient::connect(&app.base, token()).await;
    client.connected().await;
    client.subscribe("calls", None).await;
    client.event("calls:snapshot", |_| true).await;

    // Far more events than the channel holds, sent without yielding: the forwarder must lag.
    let other = common::ids::CallId::new();
    for i in 0..200_000u32 {
        app.state.live.publish_transcript(&other, line(i, Role::User, "x", None));
    }
    let resent = client.event("calls:snapshot", |_| true).await;
    assert_eq!(resent[0]["id"], call.id.as_str());

    // And it still forwards afterwards.
    let path = format!("/call-status-callback?call={}", call.id);
    let sid = call.call_sid.as_ref().unwrap().to_string();
    app.twilio_post(&path, &[("CallSid", &sid), ("CallStatus", "ringing"), ("SequenceNumber", "1")]).await;
    client.event("call:updated", |c| c["status"] == "ringing").await;
    client.close().await;
}

/// POSTs a signed Twilio status callback for `call` to the instance at `base`.
async fn twilio_status(
    http: &reqwest::Client,
    base: &str,
    call: &main_app::calls::model::Call,
    status: &str,
    seq: &str,
) {
    let path = format!("/call-status-callback?call={}", call.id);
    let sid = call.call_sid.as_ref().unwrap().to_string();
    let params: Vec<(String, String)> =
        [("CallSid", sid.as_str()), ("CallStatus", status), ("SequenceNumber", seq)]
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
    let signature =
        common::signature::twilio_signature(support::AUTH_TOKEN, &format!("{base}{path}"), &params);
    let resp = http
        .post(format!("{base}{path}"))
        .header("X-Twilio-Signature", signature)
        .form(&params)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "status callback refused: {}", resp.status());
}

/// A main-app whose Socket.IO rooms go through MongoDB (`MONGODB_URI`), on its own SQLite file.
async fn instance_on_mongo(uri: &str, database: &str) -> (String, main_app::AppState, tempfile::TempDir) {
    main_app::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let overrides = [("MONGODB_URI", uri), ("MONGODB_DATABASE", database)];
    let vars = support::vars(&base, dir.path().to_str().unwrap(), &overrides);
    let settings = main_app::settings::Settings::from_vars(&vars).unwrap();
    let path = dir.path().join(main_app::store::SQLITE_FILE_NAME);
    let store: main_app::store::DynStore =
        std::sync::Arc::new(main_app::store::sqlite::SqliteStore::open(&path).await.unwrap());
    let state = main_app::AppState::new(settings, store).unwrap();
    tokio::spawn(main_app::run(listener, state.clone(), std::future::pending()));
    (base, state, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::print_stderr)] // says why the test is skipped
async fn with_mongodb_events_reach_clients_of_another_instance() {
    let Some(uri) = std::env::var("TEST_MONGODB_URI").ok().filter(|u| !u.is_empty()) else {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI must set TEST_MONGODB_URI");
        eprintln!("skipping: TEST_MONGODB_URI is not set (start one with `scripts/secantusdb start`)");
        return;
    };
    let database = format!("sio_{}", uuid::Uuid::new_v4().simple());
    let (a_base, a, _a_dir) = instance_on_mongo(&uri, &database).await;
    let (b_base, _b, _b_dir) = instance_on_mongo(&uri, &database).await;

    let mut client = SioClient::connect(&b_base, token()).await;
    client.connected().await;
    client.subscribe("calls", None).await;
    client.event("calls:snapshot", |_| true).await;

    // Twilio reports a call's progress to instance A only (the call is in A's store); the
    // client is connected to instance B. The adapter's nodes discover each other with
    // heartbeats, so until they have, a new call rings through A until its update crosses.
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut n = 0;
    let call = loop {
        n += 1;
        let call = support::new_call(Some(&format!("CA{:032x}", 0xc00 + n)));
        a.store.insert_call(&call).await.unwrap();
        twilio_status(&http, &a_base, &call, "ringing", "1").await;
        let got = client.drain(Duration::from_millis(500)).await;
        let id = call.id.to_string();
        if got.iter().any(|m| {
            m["event"] == "call:updated" && m["data"]["id"] == id.as_str() && m["data"]["status"] == "ringing"
        }) {
            break call;
        }
        assert!(tokio::time::Instant::now() < deadline, "no event crossed from A to B: {:?}", client.seen);
    };
    // Once the instances know each other, every change crosses: the answer, then the end.
    let id = call.id.to_string();
    twilio_status(&http, &a_base, &call, "in-progress", "2").await;
    client.event("call:updated", |d| d["id"] == id.as_str() && d["status"] == "in-progress").await;
    twilio_status(&http, &a_base, &call, "completed", "3").await;
    client.event("call:ended", |d| d["id"] == id.as_str()).await;
    client.close().await;
}
