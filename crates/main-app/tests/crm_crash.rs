//! A CRM delivery survives main-app being killed (SIGKILL, no graceful shutdown) in the middle
//! of an attempt: the real binary runs as a child process, the CRM holds the request open, the
//! process is killed, the CRM comes back, a new process takes the delivery over once the dead
//! worker's lease expires, and the CRM accepts it exactly once. On the embedded store and, when
//! `TEST_MONGODB_URI` is set, on MongoDB.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod postcall;
mod support;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use main_app::crm::model::DeliveryStatus;
use postcall::eventually;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A CRM that holds every request open (never answers) until `up`, then answers 200.
#[derive(Clone, Default)]
struct HangingCrm {
    up: Arc<AtomicBool>,
    /// (answered 200, idempotency key) per request.
    requests: Arc<Mutex<Vec<(bool, String)>>>,
}

impl HangingCrm {
    async fn start() -> (Self, String) {
        let crm = Self::default();
        let state = crm.clone();
        let router = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, _body: Bytes| {
                let state = state.clone();
                async move {
                    let key = headers["idempotency-key"].to_str().unwrap().to_owned();
                    let up = state.up.load(Ordering::SeqCst);
                    state.requests.lock().unwrap().push((up, key));
                    if !up {
                        std::future::pending::<()>().await;
                    }
                    StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (crm, url)
    }

    fn requests(&self) -> Vec<(bool, String)> {
        self.requests.lock().unwrap().clone()
    }
}

/// The main-app binary on `port`, with `vars`.
async fn spawn_binary(vars: &HashMap<String, String>, base: &str) -> tokio::process::Child {
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_main-app"))
        .env_clear()
        .envs(vars)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start main-app");
    let http = reqwest::Client::new();
    eventually("main-app to answer", Duration::from_secs(30), || async {
        let resp = http.get(format!("{base}/readyz")).send().await.ok()?;
        resp.status().is_success().then_some(())
    })
    .await;
    child
}

async fn killed_mid_attempt_then_delivered_once(extra: &[(&str, &str)]) {
    main_app::install_crypto_provider();
    let (crm, url) = HangingCrm::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let port = port.to_string();
    let mut overrides = vec![
        ("PORT", port.as_str()),
        ("CRM_WEBHOOK_URL", url.as_str()),
        ("CRM_TIMEOUT_SECS", "1"),
        ("CRM_RETRY_BASE_MS", "100"),
        ("CRM_POLL_MS", "50"),
    ];
    overrides.extend_from_slice(extra);
    let vars = support::vars(&base, dir.path().to_str().unwrap(), &overrides);
    let mut child = spawn_binary(&vars, &base).await;

    // The test reads and seeds the same store as the process (a second handle).
    let settings = main_app::settings::Settings::from_vars(&vars).unwrap();
    let store = main_app::store::open(&settings).await.unwrap();
    let call = support::new_call(Some("CA00000000000000000000000000000f61"));
    store.insert_call(&call).await.unwrap();
    let sid = call.call_sid.as_ref().unwrap().to_string();
    let path = format!("/call-status-callback?call={}", call.id);
    let params = [("CallSid", sid.as_str()), ("CallStatus", "busy"), ("SequenceNumber", "2")];
    let owned: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
    let signature =
        common::signature::twilio_signature(support::AUTH_TOKEN, &format!("{base}{path}"), &owned);
    let resp = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("X-Twilio-Signature", signature)
        .form(&owned)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());

    // The first attempt is in flight (the CRM holds it): kill the process.
    eventually("the attempt", Duration::from_secs(15), || async {
        (!crm.requests().is_empty()).then_some(())
    })
    .await;
    child.kill().await.unwrap();
    let pending = store.call_deliveries(&call.id).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].status, DeliveryStatus::Pending, "the delivery waits in the store");

    crm.up.store(true, Ordering::SeqCst);
    let _restarted = spawn_binary(&vars, &base).await;
    let delivered = eventually("delivered after the lease expired", Duration::from_secs(120), || async {
        let d = store.get_delivery(&pending[0].id).await.unwrap()?;
        (d.status == DeliveryStatus::Delivered).then_some(d)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let requests = crm.requests();
    assert_eq!(requests.iter().filter(|(ok, _)| *ok).count(), 1, "accepted exactly once: {requests:?}");
    assert!(requests.iter().all(|(_, key)| *key == format!("call-{}", call.id)), "one idempotency key");
    assert_eq!(delivered.log.last().and_then(|a| a.status_code), Some(200));
    assert_eq!(store.call_deliveries(&call.id).await.unwrap().len(), 1, "nothing enqueued twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_attempt_on_the_embedded_store() {
    killed_mid_attempt_then_delivered_once(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_attempt_on_mongodb() {
    let Some(uri) = std::env::var("TEST_MONGODB_URI").ok().filter(|u| !u.is_empty()) else {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI must run this against TEST_MONGODB_URI");
        return;
    };
    let db = format!("vp_test_{}", uuid::Uuid::new_v4().simple());
    killed_mid_attempt_then_delivered_once(&[
        ("MONGODB_URI", uri.as_str()),
        ("MONGODB_DATABASE", db.as_str()),
    ])
    .await;
    // Best effort: the server is a throw-away one.
    if let Ok(client) = mongodb::Client::with_uri_str(&uri).await {
        let _ = client.database(&db).drop().await;
    }
}
