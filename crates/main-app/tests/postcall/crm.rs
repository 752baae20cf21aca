//! A test CRM endpoint and the helpers of the CRM tests: settings with a fast backoff, Twilio
//! status callbacks, and waiting for finalization.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::eventually;
use crate::support::TestApp;

/// The CRM secret the tests configure.
pub const CRM_SECRET: &str = "crm-secret-for-tests";

/// A CRM endpoint that answers 503 while down and 200 while up, remembering every request.
#[derive(Clone, Default)]
pub struct Crm {
    pub up: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<(u16, HeaderMap, Bytes)>>>,
}

impl Crm {
    /// Starts it (down) on a port-0 listener; returns it and its URL.
    pub async fn start() -> (Self, String) {
        let crm = Self::default();
        let state = crm.clone();
        let router = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move {
                    let status = if state.up.load(Ordering::SeqCst) {
                        StatusCode::OK
                    } else {
                        StatusCode::SERVICE_UNAVAILABLE
                    };
                    state.requests.lock().unwrap().push((status.as_u16(), headers, body));
                    status
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (crm, url)
    }

    /// Every request so far: the status answered, the headers, the body.
    pub fn requests(&self) -> Vec<(u16, HeaderMap, Bytes)> {
        self.requests.lock().unwrap().clone()
    }

    /// The bodies of the requests answered 200, as JSON.
    pub fn accepted(&self) -> Vec<serde_json::Value> {
        self.requests()
            .into_iter()
            .filter(|(s, _, _)| *s == 200)
            .map(|(_, _, b)| serde_json::from_slice(&b).unwrap())
            .collect()
    }
}

/// CRM settings with a fast backoff.
pub fn crm_settings(url: &str, max_attempts: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CRM_WEBHOOK_URL", url.to_owned()),
        ("CRM_WEBHOOK_SECRET", CRM_SECRET.to_owned()),
        ("CRM_RETRY_BASE_MS", "100".to_owned()),
        ("CRM_RETRY_MAX_SECS", "1".to_owned()),
        ("CRM_POLL_MS", "50".to_owned()),
        ("CRM_MAX_ATTEMPTS", max_attempts.to_owned()),
    ]
}

/// Borrowed form of owned settings, for [`TestApp::spawn_with`].
pub fn refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Posts a signed Twilio status callback for `call`.
pub async fn status(
    app: &TestApp,
    call: &main_app::calls::model::Call,
    status: &str,
    seq: &str,
    extra: &[(&str, &str)],
) {
    let path = format!("/call-status-callback?call={}", call.id);
    let sid = call.call_sid.as_ref().unwrap().to_string();
    let mut params = vec![("CallSid", sid.as_str()), ("CallStatus", status), ("SequenceNumber", seq)];
    params.extend_from_slice(extra);
    let resp = app.twilio_post(&path, &params).await;
    assert!(resp.status().is_success());
}

/// The call once it is finalized.
pub async fn finalized(app: &TestApp, call: &main_app::calls::model::Call) -> main_app::calls::model::Call {
    eventually("finalization", Duration::from_secs(10), || async {
        app.state.store.finalized_at(&call.id).await.unwrap()?;
        Some(app.call(&call.id).await)
    })
    .await
}
