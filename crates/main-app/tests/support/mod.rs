//! Test harness: a real main-app on `127.0.0.1:0` with a fresh embedded store, talked to over
//! HTTP, plus helpers to sign requests the way Twilio and media-proxy do.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;

use chrono::Utc;
use main_app::AppState;
use main_app::calls::model::Call;
use main_app::settings::Settings;
use tokio::net::TcpListener;

pub const API_KEY: &str = "test-api-key-0123456789";
pub const AUTH_TOKEN: &str = "twilio-test-token";
pub const STREAM_SECRET: &str = "stream-secret-for-tests-0123456789abcdef";
pub const PASSWORD: &str = "correct horse battery staple";
pub const CALLER_ID: &str = "+61298765432";

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Settings for a test app at `base`, with `overrides` applied.
pub fn vars(base: &str, data_dir: &str, overrides: &[(&str, &str)]) -> HashMap<String, String> {
    let mut v: HashMap<String, String> = [
        ("SERVER_URL", base),
        ("MEDIA_PROXY_URL", "ws://127.0.0.1:1"),
        ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
        ("TWILIO_PHONE_NUMBER", CALLER_ID),
        // Nothing listens on port 1: dialling fails fast unless a test points this elsewhere.
        ("TWILIO_API_BASE", "http://127.0.0.1:1"),
        ("ELEVENLABS_API_KEY", "xi-test"),
        ("ELEVENLABS_AGENT_ID", "agent_test"),
        ("ELEVENLABS_API_BASE", "http://127.0.0.1:1"),
        ("STREAM_TOKEN_SECRET", STREAM_SECRET),
        ("API_KEY", API_KEY),
        ("DASHBOARD_USERNAME", "admin"),
        ("DASHBOARD_PASSWORD", PASSWORD),
        ("DATA_DIR", data_dir),
        ("DEFAULT_PHONE_REGION", "AU"),
        ("ALLOWED_CALLER_IDS", "+61298765432,+61255501234"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, val) in overrides {
        v.insert((*k).to_owned(), (*val).to_owned());
    }
    v
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    pub async fn spawn_with(overrides: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self::spawn_in(dir, overrides).await
    }

    pub async fn spawn_in(dir: tempfile::TempDir, overrides: &[(&str, &str)]) -> Self {
        main_app::install_crypto_provider();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let settings = Settings::from_vars(&vars(&base, dir.path().to_str().unwrap(), overrides)).unwrap();
        let store = main_app::store::open(&settings).await.unwrap();
        let state = AppState::new(settings, store).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(main_app::run(listener, state.clone(), async move {
            let _ = stopped.await;
        }));
        let http = reqwest::Client::new();
        Self { base, state, http, _dir: dir, stop: Some(stop), task: Some(task) }
    }

    /// Stops the server and returns the data directory (to restart on the same store).
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self._dir, dir)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// An authenticated request builder (API key).
    pub fn api(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path)).bearer_auth(API_KEY)
    }

    /// POSTs a form as Twilio would, signed over `SERVER_URL + path_and_query`.
    pub async fn twilio_post(&self, path_and_query: &str, params: &[(&str, &str)]) -> reqwest::Response {
        let owned: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        let sig = common::signature::twilio_signature(AUTH_TOKEN, &self.url(path_and_query), &owned);
        self.http
            .post(self.url(path_and_query))
            .header("X-Twilio-Signature", sig)
            .form(&owned)
            .send()
            .await
            .unwrap()
    }

    /// Inserts a call directly in the store (as if it had been dialled with `sid`).
    pub async fn insert_call(&self, sid: Option<&str>) -> Call {
        let call = new_call(sid);
        match self.state.store.insert_call(&call).await.unwrap() {
            main_app::calls::store::Inserted::New(c) => c,
            main_app::calls::store::Inserted::Existing(c) => c,
        }
    }

    pub async fn call(&self, id: &common::ids::CallId) -> Call {
        self.state.store.get_call(id).await.unwrap().unwrap()
    }

    pub async fn event_count(&self, id: &common::ids::CallId) -> usize {
        self.state.store.list_events(id, 10_000).await.unwrap().len()
    }
}

/// A queued call to Ann, as if it had been dialled with `sid`.
pub fn new_call(sid: Option<&str>) -> Call {
    let now = Utc::now();
    Call {
        id: common::ids::CallId::new(),
        call_sid: sid.map(|s| common::ids::CallSid::parse(s).unwrap()),
        to: common::phone::PhoneNumber::parse_e164("+61491570101").unwrap(),
        from: common::phone::PhoneNumber::parse_e164(CALLER_ID).unwrap(),
        direction: "outbound-api".into(),
        status: common::call::CallStatus::Queued,
        created_at: now,
        updated_at: now,
        answered_at: None,
        ended_at: None,
        twilio_duration_secs: None,
        answered_by: None,
        outcome: None,
        terminated_by: None,
        conversation_id: None,
        stream_sid: None,
        name: Some("Ann".into()),
        prompt: Some("Be brief".into()),
        first_message: Some("Hi {{name}}".into()),
        language: None,
        dynamic_variables: Default::default(),
        contact_id: None,
        campaign_id: None,
        idempotency_key: None,
        error: None,
    }
}
