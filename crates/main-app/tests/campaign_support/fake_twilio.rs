//! A minimal stand-in for Twilio's Calls REST API that records every dial, for campaign tests
//! that need controlled outcomes (the sandbox plays real scenarios in real time; these tests
//! drive time themselves). Each number gets a [`Behaviour`]; calls that end post Twilio's signed
//! status callback to the URL the dial gave (or to a replacement base, for restarts).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What happens when a number is dialled.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// Accepted; stays queued until the test ends it.
    Hold,
    /// Refused with this HTTP status, Twilio code and message.
    Reject(u16, u32, &'static str),
    /// Accepted, then ends by itself after the delay with this status and AMD verdict.
    Auto(Duration, &'static str, Option<&'static str>),
}

/// One accepted dial.
#[derive(Debug, Clone)]
pub struct FakeCall {
    pub sid: String,
    pub to: String,
    pub status_callback: String,
    pub created: Instant,
    pub ended: Option<Instant>,
    pub status: String,
    pub answered_by: Option<String>,
}

#[derive(Default)]
struct Inner {
    calls: Mutex<Vec<FakeCall>>,
    refused: Mutex<Vec<String>>,
    behaviours: Mutex<HashMap<String, Behaviour>>,
    default: Mutex<Option<Behaviour>>,
    app_base: Mutex<Option<String>>,
    latency: Mutex<Duration>,
}

/// The fake. Cheap to clone.
#[derive(Clone)]
pub struct FakeTwilio {
    pub base: String,
    inner: Arc<Inner>,
    http: reqwest::Client,
    token: String,
}

impl FakeTwilio {
    /// Starts on 127.0.0.1:0; callbacks are signed with `auth_token`.
    pub async fn start(auth_token: &str) -> Self {
        main_app::install_crypto_provider();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let fake =
            Self { base, inner: Arc::default(), http: reqwest::Client::new(), token: auth_token.to_owned() };
        let app = Router::new()
            .route("/2010-04-01/Accounts/{acc}/Calls.json", post(create))
            .route("/2010-04-01/Accounts/{acc}/Calls/{sid}", post(update).get(fetch))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    /// Sets what dialling `to` does.
    pub fn on(&self, to: &str, b: Behaviour) {
        self.inner.behaviours.lock().unwrap().insert(to.to_owned(), b);
    }

    /// Sets what dialling any other number does (default: hold).
    pub fn by_default(&self, b: Behaviour) {
        *self.inner.default.lock().unwrap() = Some(b);
    }

    /// Makes every create take this long before Twilio "receives" it (network latency).
    pub fn set_latency(&self, latency: Duration) {
        *self.inner.latency.lock().unwrap() = latency;
    }

    /// Sends callbacks to this base instead of the one in the dial (a restarted app).
    pub fn redirect_callbacks(&self, base: &str) {
        *self.inner.app_base.lock().unwrap() = Some(base.to_owned());
    }

    /// Every accepted dial, in order.
    pub fn calls(&self) -> Vec<FakeCall> {
        self.inner.calls.lock().unwrap().clone()
    }

    /// Numbers whose dial was refused, in order.
    pub fn refused(&self) -> Vec<String> {
        self.inner.refused.lock().unwrap().clone()
    }

    /// Accepted dials of `to`.
    pub fn dials_of(&self, to: &str) -> usize {
        self.calls().iter().filter(|c| c.to == to).count()
    }

    /// Ends a call and posts its final status callback (retried until the app takes it, for a
    /// few seconds).
    pub async fn end(&self, sid: &str, status: &str, answered_by: Option<&str>) {
        let call = {
            let mut calls = self.inner.calls.lock().unwrap();
            let Some(c) = calls.iter_mut().find(|c| c.sid == sid) else { return };
            if c.ended.is_some() {
                return;
            }
            c.ended = Some(Instant::now());
            c.status = status.to_owned();
            c.answered_by = answered_by.map(str::to_owned);
            c.clone()
        };
        self.post_callback(&call).await;
    }

    async fn post_callback(&self, call: &FakeCall) {
        let mut params = vec![
            ("CallSid".to_owned(), call.sid.clone()),
            ("AccountSid".to_owned(), "AC0123456789abcdef0123456789abcdef".to_owned()),
            ("CallStatus".to_owned(), call.status.clone()),
            ("CallDuration".to_owned(), "3".to_owned()),
        ];
        if let Some(a) = &call.answered_by {
            params.push(("AnsweredBy".to_owned(), a.clone()));
        }
        for _ in 0..50 {
            let url = match self.inner.app_base.lock().unwrap().clone() {
                Some(base) => {
                    let path = call.status_callback.splitn(4, '/').nth(3).unwrap_or_default().to_owned();
                    format!("{base}/{path}")
                }
                None => call.status_callback.clone(),
            };
            let sig = common::signature::twilio_signature(&self.token, &url, &params);
            let sent = self.http.post(&url).header("X-Twilio-Signature", sig).form(&params).send().await;
            if sent.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn behaviour(&self, to: &str) -> Behaviour {
        let specific = self.inner.behaviours.lock().unwrap().get(to).cloned();
        specific.or_else(|| self.inner.default.lock().unwrap().clone()).unwrap_or(Behaviour::Hold)
    }
}

fn error(status: u16, code: u32, message: &str) -> Response {
    let http = StatusCode::from_u16(status).unwrap();
    (http, Json(json!({ "code": code, "message": message, "status": status }))).into_response()
}

async fn create(State(fake): State<FakeTwilio>, Form(form): Form<HashMap<String, String>>) -> Response {
    let latency = *fake.inner.latency.lock().unwrap();
    tokio::time::sleep(latency).await;
    let to = form.get("To").cloned().unwrap_or_default();
    let behaviour = fake.behaviour(&to);
    if let Behaviour::Reject(status, code, message) = behaviour {
        fake.inner.refused.lock().unwrap().push(to);
        return error(status, code, message);
    }
    let call = FakeCall {
        sid: format!("CA{}", uuid::Uuid::new_v4().simple()),
        to,
        status_callback: form.get("StatusCallback").cloned().unwrap_or_default(),
        created: Instant::now(),
        ended: None,
        status: "queued".into(),
        answered_by: None,
    };
    fake.inner.calls.lock().unwrap().push(call.clone());
    if let Behaviour::Auto(after, status, answered_by) = behaviour {
        let f = fake.clone();
        let sid = call.sid.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            f.end(&sid, status, answered_by).await;
        });
    }
    (StatusCode::CREATED, Json(json!({ "sid": call.sid, "status": "queued" }))).into_response()
}

async fn update(
    State(fake): State<FakeTwilio>,
    Path((_acc, sid)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let sid = sid.trim_end_matches(".json").to_owned();
    let status = form.get("Status").cloned().unwrap_or_else(|| "completed".into());
    let f = fake.clone();
    let s = sid.clone();
    tokio::spawn(async move { f.end(&s, &status, None).await });
    Json(json!({ "sid": sid, "status": "in-progress" })).into_response()
}

async fn fetch(State(fake): State<FakeTwilio>, Path((_acc, sid)): Path<(String, String)>) -> Response {
    let sid = sid.trim_end_matches(".json");
    match fake.calls().into_iter().find(|c| c.sid == sid) {
        Some(c) => Json(json!({ "sid": c.sid, "status": c.status, "duration": c.ended.map(|_| "3"), "answered_by": c.answered_by }))
            .into_response(),
        None => error(404, 20404, "not found"),
    }
}
