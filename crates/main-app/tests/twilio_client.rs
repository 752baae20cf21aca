//! The Twilio client against a local stand-in of Twilio's REST API: 429 is retried with backoff,
//! a create whose outcome is unknown is never retried, errors keep Twilio's code; and a call left
//! in progress by a crash is reconciled with Twilio at start-up.
#![allow(clippy::unwrap_used)]

mod support;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use common::call::CallStatus;
use main_app::retry::Backoff;
use main_app::settings::TwilioSettings;
use main_app::twilio::{AmdMode, CreateCall, TwilioClient, TwilioError};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use support::TestApp;

const SID: &str = "CA0123456789abcdef0123456789abcdef";

#[derive(Clone, Default)]
struct Twilio {
    creates: Arc<AtomicU32>,
    /// How many creates answer 429 before one succeeds.
    throttle: u32,
    /// Answer creates only after this long.
    slow: Option<Duration>,
}

async fn create(State(t): State<Twilio>) -> (StatusCode, Json<Value>) {
    let n = t.creates.fetch_add(1, Ordering::SeqCst);
    if let Some(d) = t.slow {
        tokio::time::sleep(d).await;
    }
    if n < t.throttle {
        let body = json!({"code": 20429, "message": "Too Many Requests", "status": 429});
        return (StatusCode::TOO_MANY_REQUESTS, Json(body));
    }
    (StatusCode::CREATED, Json(json!({"sid": SID, "status": "queued"})))
}

async fn fetch() -> Json<Value> {
    Json(json!({"sid": SID, "status": "completed", "duration": "42", "answered_by": "human"}))
}

async fn serve(t: Twilio) -> String {
    let app = axum::Router::new()
        .route("/2010-04-01/Accounts/{ac}/Calls.json", post(create))
        .route("/2010-04-01/Accounts/{ac}/Calls/{sid}", get(fetch))
        .with_state(t);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

fn client(base: &str) -> TwilioClient {
    main_app::install_crypto_provider();
    let settings = TwilioSettings {
        account_sid: "AC0123456789abcdef0123456789abcdef".into(),
        auth_token: "token".to_owned().into(),
        phone_number: common::phone::PhoneNumber::parse_e164("+61298765432").unwrap(),
        api_base: base.into(),
    };
    TwilioClient::new(&settings).unwrap().with_backoff(Backoff {
        base: Duration::from_millis(10),
        factor: 2.0,
        max: Duration::from_millis(50),
        max_attempts: 4,
    })
}

fn request() -> CreateCall {
    CreateCall {
        to: "+61491570101".into(),
        from: "+61298765432".into(),
        url: "https://app/outbound-call-twiml?call=1".into(),
        fallback_url: None,
        status_callback: "https://app/call-status-callback?call=1".into(),
        timeout_secs: 30,
        time_limit_secs: 600,
        recording_status_callback: None,
        amd: Some((AmdMode::Enable, "https://app/amd-status-callback?call=1".into())),
    }
}

#[tokio::test]
async fn rate_limited_creates_are_retried_with_backoff() {
    let t = Twilio { throttle: 2, ..Default::default() };
    let base = serve(t.clone()).await;
    let call = client(&base).create_call(&request()).await.unwrap();
    assert_eq!(call.sid, SID);
    assert_eq!(t.creates.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_persistent_429_becomes_a_typed_error_after_the_last_attempt() {
    let t = Twilio { throttle: 100, ..Default::default() };
    let base = serve(t.clone()).await;
    let err = client(&base).create_call(&request()).await.unwrap_err();
    assert!(err.is_rate_limited(), "{err:?}");
    assert_eq!(err.code(), Some(20429));
    assert_eq!(t.creates.load(Ordering::SeqCst), 4, "max_attempts requests in all");
}

#[tokio::test]
async fn a_create_that_times_out_is_not_retried() {
    // The stand-in answers after the client's 15 s request timeout.
    let t = Twilio { slow: Some(Duration::from_secs(20)), ..Default::default() };
    let base = serve(t.clone()).await;
    let err = client(&base).create_call(&request()).await.unwrap_err();
    assert!(matches!(err, TwilioError::OutcomeUnknown(_)), "{err:?}");
    assert_eq!(t.creates.load(Ordering::SeqCst), 1, "never dialled twice");
}

#[tokio::test]
async fn a_call_left_in_progress_by_a_crash_is_reconciled_at_start_up() {
    let base = serve(Twilio::default()).await;
    let app = TestApp::spawn().await;
    let call = app.insert_call(Some(SID)).await;
    let update =
        main_app::calls::model::StatusUpdate { status: CallStatus::InProgress, at: chrono::Utc::now() };
    app.state.store.advance_status(&call.id, &update).await.unwrap();
    let dir = app.stop().await;

    // The new instance finds the unfinished call and asks Twilio, which says it completed.
    let app = TestApp::spawn_in(dir, &[("TWILIO_API_BASE", &base)]).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let c = app.call(&call.id).await;
        // Reconciled at start-up, before the post-call listener runs: it still gets its outcome.
        if c.status == CallStatus::Completed && c.outcome.is_some() {
            assert_eq!(c.twilio_duration_secs, Some(42));
            assert_eq!(c.outcome, Some(common::call::Outcome::NoConversation));
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not reconciled: {c:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(app.state.live.get(&call.id).is_none(), "no longer live");
}
