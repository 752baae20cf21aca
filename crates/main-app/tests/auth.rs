//! Authentication: every `/api` route refuses anonymous and wrong credentials; dashboard login
//! works with a session cookie, logs out, and is rate-limited.
#![allow(clippy::unwrap_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{API_KEY, PASSWORD, TestApp};

/// Every protected route (and unknown `/api` paths, which must not reveal whether they exist).
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/auth/me"),
    ("GET", "/api/config"),
    ("GET", "/api/stats/overview"),
    ("GET", "/api/calls"),
    ("POST", "/api/calls"),
    ("GET", "/api/calls/active"),
    ("GET", "/api/calls/export.csv"),
    ("GET", "/api/calls/0190a0b0-0000-7000-8000-000000000000"),
    ("GET", "/api/calls/0190a0b0-0000-7000-8000-000000000000/events"),
    ("POST", "/api/calls/0190a0b0-0000-7000-8000-000000000000/hangup"),
    ("POST", "/api/outbound-call"),
    ("GET", "/api/crm/deliveries"),
    ("GET", "/api/crm/deliveries/0190a0b0-0000-7000-8000-000000000000"),
    ("POST", "/api/crm/deliveries/0190a0b0-0000-7000-8000-000000000000/replay"),
    ("GET", "/api/calls/0190a0b0-0000-7000-8000-000000000000/transcript"),
    ("POST", "/api/calls/0190a0b0-0000-7000-8000-000000000000/transcript/recover"),
    ("POST", "/api/transcripts/recover"),
    ("GET", "/api/recordings"),
    ("GET", "/api/recordings/RE00000000000000000000000000000000"),
    ("DELETE", "/api/recordings/RE00000000000000000000000000000000"),
    ("GET", "/api/recordings/RE00000000000000000000000000000000/audio"),
    ("GET", "/api/calls/0190a0b0-0000-7000-8000-000000000000/recordings"),
    ("GET", "/api/contacts"),
    ("POST", "/api/contacts"),
    ("POST", "/api/contacts/bulk-delete"),
    ("GET", "/api/contacts/export.csv"),
    ("POST", "/api/contacts/import/preview"),
    ("POST", "/api/contacts/import"),
    ("GET", "/api/contacts/0190a0b0-0000-7000-8000-000000000000"),
    ("PUT", "/api/contacts/0190a0b0-0000-7000-8000-000000000000"),
    ("DELETE", "/api/contacts/0190a0b0-0000-7000-8000-000000000000"),
    ("POST", "/api/contacts/0190a0b0-0000-7000-8000-000000000000/tags"),
    ("GET", "/api/contacts/0190a0b0-0000-7000-8000-000000000000/calls"),
    ("POST", "/api/contacts/0190a0b0-0000-7000-8000-000000000000/dnc"),
    ("DELETE", "/api/contacts/0190a0b0-0000-7000-8000-000000000000/dnc"),
    ("GET", "/api/dnc"),
    ("POST", "/api/dnc"),
    ("DELETE", "/api/dnc/%2B61491570101"),
    ("GET", "/api/campaigns"),
    ("POST", "/api/campaigns"),
    ("GET", "/api/campaigns/0190a0b0-0000-7000-8000-000000000000"),
    ("PUT", "/api/campaigns/0190a0b0-0000-7000-8000-000000000000"),
    ("DELETE", "/api/campaigns/0190a0b0-0000-7000-8000-000000000000"),
    ("GET", "/api/campaigns/0190a0b0-0000-7000-8000-000000000000/attempts"),
    ("GET", "/api/campaigns/0190a0b0-0000-7000-8000-000000000000/progress"),
    ("POST", "/api/campaigns/0190a0b0-0000-7000-8000-000000000000/check"),
    ("POST", "/api/campaigns/0190a0b0-0000-7000-8000-000000000000/start"),
    ("POST", "/api/campaigns/0190a0b0-0000-7000-8000-000000000000/pause"),
    ("POST", "/api/campaigns/0190a0b0-0000-7000-8000-000000000000/resume"),
    ("POST", "/api/campaigns/0190a0b0-0000-7000-8000-000000000000/cancel"),
    ("GET", "/api/no-such-route"),
    ("DELETE", "/api/calls"),
];

#[tokio::test]
async fn every_api_route_requires_credentials() {
    let app = TestApp::spawn().await;
    for (method, path) in ROUTES {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        for auth in [None, Some("Bearer wrong-key-0123456789"), Some("Basic YWRtaW46eA==")] {
            let mut req = app.http.request(method.clone(), app.url(path)).json(&json!({}));
            if let Some(a) = auth {
                req = req.header("Authorization", a);
            }
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{method} {path} with {auth:?}");
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["error"]["code"], "UNAUTHORIZED", "{method} {path}");
        }
        let resp = app
            .http
            .request(method.clone(), app.url(path))
            .header("Cookie", "session=forged")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{method} {path} with a forged cookie");
        let resp = app.api(method.clone(), path).json(&json!({})).send().await.unwrap();
        assert_ne!(resp.status(), StatusCode::UNAUTHORIZED, "{method} {path} with the API key");
    }
}

#[tokio::test]
async fn dashboard_login_session_and_logout() {
    let app = TestApp::spawn().await;
    let wrong = app
        .http
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "admin", "password": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get("set-cookie").is_none());

    let ok = app
        .http
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let cookie = ok.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_owned();

    let me = app.http.get(app.url("/api/auth/me")).header("Cookie", &session).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(me.json::<Value>().await.unwrap()["username"], "admin");

    let out = app.http.post(app.url("/api/auth/logout")).header("Cookie", &session).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let after = app.http.get(app.url("/api/auth/me")).header("Cookie", &session).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED, "the session must be gone after logout");
}

#[tokio::test]
async fn sessions_survive_a_restart() {
    let app = TestApp::spawn().await;
    let ok = app
        .http
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let session =
        ok.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_owned();
    let dir = app.stop().await;
    let app = TestApp::spawn_in(dir, &[]).await;
    let me = app.http.get(app.url("/api/auth/me")).header("Cookie", &session).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
}

#[tokio::test]
async fn logins_are_rate_limited() {
    let app = TestApp::spawn().await;
    for _ in 0..10 {
        let r = app
            .http
            .post(app.url("/api/auth/login"))
            .json(&json!({"username": "admin", "password": "guess"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let blocked = app
        .http
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        blocked.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits out the window"
    );
    // The API key is unaffected.
    let me = app.http.get(app.url("/api/auth/me")).bearer_auth(API_KEY).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
}
