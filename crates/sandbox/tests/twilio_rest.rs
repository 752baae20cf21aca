//! The simulated Twilio REST API: authentication, validation errors with Twilio codes, resource
//! shapes, CPS limiting and update rules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use sandbox::config::{CpsMode, DEFAULT_ACCOUNT_SID, DEFAULT_FROM_NUMBER};
use support::*;

#[tokio::test]
async fn bad_credentials_are_20003_with_the_twilio_error_shape() {
    let sb = sandbox(20.0).await;
    let tw = Twilio::new(&sb);
    let res = tw
        .http
        .post(tw.calls_url())
        .basic_auth(DEFAULT_ACCOUNT_SID, Some("wrong"))
        .form(&[("To", "+61491570101")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers().contains_key("www-authenticate"));
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], 20003);
    assert_eq!(body["status"], 401);
    assert_eq!(body["more_info"], "https://www.twilio.com/docs/errors/20003");
    let res = tw.http.get(tw.calls_url()).send().await.unwrap();
    assert_eq!(res.status(), 401, "no credentials at all");
    let other = tw.calls_url().replace(DEFAULT_ACCOUNT_SID, "AC00000000000000000000000000000000");
    let res = tw
        .http
        .get(other)
        .basic_auth(DEFAULT_ACCOUNT_SID, Some(sandbox::config::DEFAULT_AUTH_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "credentials of another account");
}

#[tokio::test]
async fn invalid_to_and_unowned_from_are_refused() {
    let sb = sandbox(20.0).await;
    let tw = Twilio::new(&sb);
    let (status, body) = tw
        .post(&tw.calls_url(), &[("To", "+1555"), ("From", DEFAULT_FROM_NUMBER), ("Url", "http://a/")])
        .await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(21211)), "{body}");
    let (status, body) = tw
        .post(&tw.calls_url(), &[("To", "+61491570101"), ("From", "+61491570199"), ("Url", "http://a/")])
        .await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(21210)), "{body}");
    assert!(sb.calls().is_empty(), "refused calls are not created");
}

#[tokio::test]
async fn created_call_has_the_documented_shape_and_can_be_fetched_and_listed() {
    let sb = sandbox(20.0).await;
    let app = App::start().await;
    let tw = Twilio::new(&sb);
    let (status, body) = tw
        .post(
            &tw.calls_url(),
            &[("To", "+61491570101"), ("From", DEFAULT_FROM_NUMBER), ("Url", &app.url("/t"))],
        )
        .await;
    assert_eq!(status, 201);
    let sid = body["sid"].as_str().unwrap();
    assert!(common::ids::CallSid::parse(sid).is_ok());
    assert_eq!(body["status"], "queued");
    assert_eq!(body["direction"], "outbound-api");
    assert_eq!(body["account_sid"], DEFAULT_ACCOUNT_SID);
    assert_eq!(body["to"], "+61491570101");
    assert_eq!(body["api_version"], "2010-04-01");
    assert!(body["date_created"].as_str().unwrap().ends_with("+0000"), "RFC 2822: {}", body["date_created"]);
    assert_eq!(body["uri"], format!("/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Calls/{sid}.json"));
    let fetched: serde_json::Value = tw.get(&tw.call_url(sid)).await.json().await.unwrap();
    assert_eq!(fetched["sid"], sid);
    let list: serde_json::Value =
        tw.get(&format!("{}?To=%2B61491570101", tw.calls_url())).await.json().await.unwrap();
    assert_eq!(list["calls"].as_array().unwrap().len(), 1);
    assert!(list["next_page_uri"].is_null());
    let missing = tw.get(&tw.call_url("CA00000000000000000000000000000000")).await;
    assert_eq!(missing.status(), 404);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["code"], 20404);
}

#[tokio::test]
async fn cps_limit_rejects_with_20429() {
    let sb = sandbox_with(|c| {
        c.speed = 20.0;
        c.cps_limit = Some(1);
        c.cps_mode = CpsMode::Reject;
    })
    .await;
    let app = App::start().await;
    let tw = Twilio::new(&sb);
    let form = [("To", "+61491570102"), ("From", DEFAULT_FROM_NUMBER), ("Url", &app.url("/t"))];
    let (first, _) = tw.post(&tw.calls_url(), &form).await;
    let (second, body) = tw.post(&tw.calls_url(), &form).await;
    assert_eq!(first, 201);
    assert_eq!((second, body["code"].as_u64()), (429, Some(20429)), "{body}");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (third, _) = tw.post(&tw.calls_url(), &form).await;
    assert_eq!(third, 201, "a slot is free again after a second");
}

#[tokio::test]
async fn cps_queue_mode_spaces_initiated_callbacks() {
    let sb = sandbox_with(|c| {
        c.speed = 20.0;
        c.cps_limit = Some(2);
        c.cps_mode = CpsMode::Queue;
    })
    .await;
    let app = App::start().await;
    let tw = Twilio::new(&sb);
    let a = tw.create(&app, "+61491570102", &[]).await;
    let b = tw.create(&app, "+61491570102", &[]).await;
    for sid in [&a, &b] {
        sb.wait_call(sid, 5 * SECS, |c| c.status_history.iter().any(|s| s.status == "initiated"))
            .await
            .unwrap();
    }
    let initiated =
        |sid: &str| sb.call(sid).unwrap().status_history.iter().find(|s| s.status == "initiated").unwrap().at;
    let gap = (initiated(&b) - initiated(&a)).num_milliseconds();
    assert!(gap >= 450, "second call left the queue {gap} ms after the first (2 CPS)");
}

#[tokio::test]
async fn updates_on_an_ended_call_are_21220_and_bad_updates_are_refused() {
    let sb = sandbox(50.0).await;
    let app = App::start().await;
    let tw = Twilio::new(&sb);
    let sid = tw.create(&app, "+61491570102", &[]).await;
    sb.wait_call_ended(&sid, 5 * SECS).await.expect("busy call ends");
    let (status, body) = tw.post(&tw.call_url(&sid), &[("Status", "completed")]).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(21220)), "{body}");
    let (status, _) = tw.post(&tw.call_url(&sid), &[("Status", "busy")]).await;
    assert_eq!(status, 400);
    let res = tw
        .http
        .delete(tw.call_url(&sid))
        .basic_auth(DEFAULT_ACCOUNT_SID, Some(sandbox::config::DEFAULT_AUTH_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(tw.get(&tw.call_url(&sid)).await.status(), 404);
}
