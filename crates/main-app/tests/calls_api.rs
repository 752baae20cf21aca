//! `POST /api/calls` validation (422 naming the field), the replaced system's alias, and what is
//! stored when Twilio cannot be reached.
#![allow(clippy::unwrap_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::TestApp;

async fn create(app: &TestApp, body: Value) -> (StatusCode, Value) {
    let r = app.api(Method::POST, "/api/calls").json(&body).send().await.unwrap();
    (r.status(), r.json().await.unwrap())
}

#[tokio::test]
async fn invalid_requests_name_the_field_and_store_nothing() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({}), "to"),
        (json!({"to": "hello"}), "to"),
        (json!({"to": "+1555"}), "to"),
        (json!({"to": "0491570101", "callerId": "+14155550100"}), "callerId"),
        (json!({"to": "+61491570101", "name": "x".repeat(201)}), "name"),
        (json!({"to": "+61491570101", "dynamicVariables": {"system__call_sid": "x"}}), "dynamicVariables"),
        (json!({"to": "+61491570101", "dynamicVariables": {"nested": {"a": 1}}}), "dynamicVariables"),
        (json!({"to": "+61491570101", "contactId": "not-an-id"}), "contactId"),
    ];
    for (body, field) in cases {
        let (status, err) = create(&app, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(err["error"]["field"], field, "{body}: {err}");
    }
    let (status, _) = create(&app, json!({"to": "+61491570101", "unknownField": 1})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let list: Value = app.api(Method::GET, "/api/calls").send().await.unwrap().json().await.unwrap();
    assert_eq!(list["total"], 0, "nothing stored for refused requests");
}

#[tokio::test]
async fn national_numbers_are_normalised_and_twilio_failures_are_recorded() {
    // Nothing listens at TWILIO_API_BASE: the call is accepted, stored, and marked failed.
    let app = TestApp::spawn().await;
    let (status, err) =
        create(&app, json!({"to": "0491 570 101", "name": "Ann", "callerId": "+61255501234"})).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
    assert_eq!(err["error"]["code"], "TWILIO_ERROR");
    let list: Value = app.api(Method::GET, "/api/calls").send().await.unwrap().json().await.unwrap();
    let call = &list["items"][0];
    assert_eq!(call["to"], "+61491570101");
    assert_eq!(call["from"], "+61255501234");
    assert_eq!(call["status"], "failed");
    assert_eq!(call["error"]["code"], "TWILIO_UNAVAILABLE");
    assert_eq!(call["terminatedBy"]["party"], "system");
    let events: Value = app
        .api(Method::GET, &format!("/api/calls/{}/events", call["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = events.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["created", "dial_failed"]);
}

#[tokio::test]
async fn the_legacy_alias_answers_in_the_old_shape() {
    let app = TestApp::spawn().await;
    let r = app
        .api(Method::POST, "/api/outbound-call")
        .json(&json!({"number": "nonsense"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(body["field"], "to");
    let r = app
        .api(Method::POST, "/api/outbound-call")
        .json(&json!({"number": "+61491570101", "first_message": "Hi"}))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["success"], false, "Twilio is unreachable in this test: {body}");
}

#[tokio::test]
async fn unknown_calls_are_404_and_lists_filter() {
    let app = TestApp::spawn().await;
    let r = app.api(Method::GET, "/api/calls/CA0123456789abcdef0123456789abcdef").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "CALL_NOT_FOUND");
    let call = app.insert_call(Some("CA0123456789abcdef0123456789abcdef")).await;
    let by_sid: Value = app
        .api(Method::GET, "/api/calls/CA0123456789abcdef0123456789abcdef")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_sid["id"], call.id.to_string());
    let queued: Value = app
        .api(Method::GET, "/api/calls?status=queued&phone=0101")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(queued["total"], 1);
    let none: Value =
        app.api(Method::GET, "/api/calls?status=completed").send().await.unwrap().json().await.unwrap();
    assert_eq!(none["total"], 0);
    let bad = app.api(Method::GET, "/api/calls?status=happy").send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let csv = app.api(Method::GET, "/api/calls/export.csv").send().await.unwrap().text().await.unwrap();
    assert!(csv.starts_with("id,callSid,"), "{csv}");
    assert!(csv.contains("+61491570101"));
}

/// A Twilio stand-in that answers call creation only after a delay.
async fn slow_twilio(delay: std::time::Duration) -> String {
    use axum::routing::post;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/2010-04-01/Accounts/{account}/Calls.json",
        post(move || async move {
            tokio::time::sleep(delay).await;
            (
                StatusCode::CREATED,
                axum::Json(json!({"sid": "CA0123456789abcdef0123456789abcdef", "status": "queued"})),
            )
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

#[tokio::test]
async fn a_client_that_disconnects_mid_dial_does_not_leave_a_half_placed_call() {
    let twilio = slow_twilio(std::time::Duration::from_millis(800)).await;
    let app = TestApp::spawn_with(&[("TWILIO_API_BASE", &twilio)]).await;
    let request = app.api(Method::POST, "/api/calls").json(&json!({"to": "+61491570101"})).send();
    // The client gives up while Twilio is still answering.
    assert!(tokio::time::timeout(std::time::Duration::from_millis(200), request).await.is_err());
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let list: Value = app.api(Method::GET, "/api/calls").send().await.unwrap().json().await.unwrap();
        if list["items"][0]["callSid"] == "CA0123456789abcdef0123456789abcdef" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the dial was abandoned with the request: {list}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_overview_counts_todays_calls_in_the_operators_time_zone() {
    let app = TestApp::spawn().await;
    app.insert_call(None).await;
    let r = app.api(Method::GET, "/api/stats/overview?tz=Australia/Sydney").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let o: Value = r.json().await.unwrap();
    assert_eq!(o["timeZone"], "Australia/Sydney");
    assert_eq!(o["periods"]["today"]["total"], 1);
    assert_eq!(o["periods"]["last7Days"]["total"], 1);
    assert_eq!(o["periods"]["today"]["byStatus"]["queued"], 1);
    assert_eq!(o["periods"]["today"]["answerRate"], Value::Null, "no call has finished");
    let bad = app.api(Method::GET, "/api/stats/overview?tz=Mars/Olympus").send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_number_on_the_do_not_call_list_is_never_dialled() {
    // Nothing listens at TWILIO_API_BASE: a dial that got that far would be stored as failed.
    let app = TestApp::spawn().await;
    let listed = json!({"phone": "+61491570101", "reason": "asked not to be called"});
    let r = app.api(Method::POST, "/api/dnc").json(&listed).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());

    let (status, err) = create(&app, json!({"to": "0491 570 101"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["error"]["code"], "DO_NOT_CALL");
    assert_eq!(err["error"]["field"], "to");
    assert!(err["error"]["message"].as_str().unwrap().contains("asked not to be called"), "{err}");

    let r = app.api(Method::POST, "/api/outbound-call").json(&json!({"number": "+61491570101"})).send().await;
    assert_eq!(r.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    let list: Value = app.api(Method::GET, "/api/calls").send().await.unwrap().json().await.unwrap();
    assert_eq!(list["total"], 0, "a refused dial stores no call");

    // Another number is still dialled (and fails here only because Twilio is unreachable).
    let (status, _) = create(&app, json!({"to": "+61491570102"})).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
}
