//! The whole platform on loopback: the sandbox (simulated Twilio and ElevenLabs), media-proxy
//! and main-app, each on its own port-0 listener, wired to each other as in production.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use sandbox::config::{
    DEFAULT_ACCOUNT_SID, DEFAULT_AGENT_ID, DEFAULT_AUTH_TOKEN, DEFAULT_FROM_NUMBER, DEFAULT_WEBHOOK_SECRET,
    DEFAULT_XI_API_KEY,
};
use sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
use tokio::net::TcpListener;

pub const API_KEY: &str = "e2e-api-key-0123456789abcdef";
const STREAM_SECRET: &str = "e2e-stream-secret-0123456789abcdef0123";

/// A running platform.
pub struct Stack {
    pub sandbox: SandboxHandle,
    pub main: String,
    pub state: main_app::AppState,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

impl Stack {
    /// Starts the three servers; `main_overrides` are extra main-app settings.
    pub async fn start(main_overrides: &[(&str, &str)]) -> Self {
        Self::start_with(main_overrides, true).await
    }

    /// Like [`Stack::start`]; without `webhook` the simulated ElevenLabs sends no post-call
    /// webhook (as when a delivery is lost).
    pub async fn start_with(main_overrides: &[(&str, &str)], webhook: bool) -> Self {
        Self::start_configured(main_overrides, webhook, |_| {}).await
    }

    /// Like [`Stack::start_with`], with `sandbox` adjusting the simulators' configuration
    /// (the agent's audio formats, scenarios, ...) before they start.
    pub async fn start_configured(
        main_overrides: &[(&str, &str)],
        webhook: bool,
        sandbox: impl FnOnce(&mut SandboxConfig),
    ) -> Self {
        main_app::install_crypto_provider();
        let (sb_l, mp_l, main_l) = (bind().await, bind().await, bind().await);
        let sandbox_base = format!("http://{}", sb_l.local_addr().unwrap());
        let media_base = format!("ws://{}", mp_l.local_addr().unwrap());
        let main = format!("http://{}", main_l.local_addr().unwrap());

        let mut config = SandboxConfig::default();
        config.elevenlabs.webhook_url = webhook.then(|| format!("{main}/webhooks/elevenlabs"));
        // Ringing and AMD four times faster; audio stays real time.
        config.speed = 4.0;
        sandbox(&mut config);
        let sandbox = Sandbox::start(sb_l, config).await.unwrap();

        let media = media_proxy::Settings::from_map(&map(&[
            ("MAIN_APP_URL", &main),
            ("ELEVENLABS_API_KEY", DEFAULT_XI_API_KEY),
            ("ELEVENLABS_AGENT_ID", DEFAULT_AGENT_ID),
            ("ELEVENLABS_API_BASE", &sandbox_base),
            ("STREAM_TOKEN_SECRET", STREAM_SECRET),
        ]))
        .unwrap();
        let media_state = media_proxy::AppState::new(media).unwrap();
        tokio::spawn(media_proxy::run(mp_l, media_state, std::future::pending()));

        let dir = tempfile::tempdir().unwrap();
        let mut vars = map(&[
            ("SERVER_URL", &main),
            ("MEDIA_PROXY_URL", &media_base),
            ("TWILIO_ACCOUNT_SID", DEFAULT_ACCOUNT_SID),
            ("TWILIO_AUTH_TOKEN", DEFAULT_AUTH_TOKEN),
            ("TWILIO_PHONE_NUMBER", DEFAULT_FROM_NUMBER),
            ("TWILIO_API_BASE", &sandbox_base),
            ("ELEVENLABS_API_KEY", DEFAULT_XI_API_KEY),
            ("ELEVENLABS_AGENT_ID", DEFAULT_AGENT_ID),
            ("ELEVENLABS_API_BASE", &sandbox_base),
            ("ELEVENLABS_WEBHOOK_SECRET", DEFAULT_WEBHOOK_SECRET),
            ("STREAM_TOKEN_SECRET", STREAM_SECRET),
            ("API_KEY", API_KEY),
            ("DATA_DIR", dir.path().to_str().unwrap()),
            ("CALL_RING_TIMEOUT_SECS", "20"),
            ("POST_CALL_WAIT_SECS", "30"),
        ]);
        vars.extend(map(main_overrides));
        let settings = main_app::settings::Settings::from_vars(&vars).unwrap();
        let store = main_app::store::open(&settings).await.unwrap();
        let state = main_app::AppState::new(settings, store).unwrap();
        tokio::spawn(main_app::run(main_l, state.clone(), std::future::pending()));
        Self { sandbox, main, state, http: reqwest::Client::new(), _dir: dir }
    }

    /// An authenticated request to main-app.
    pub fn api(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.main)).bearer_auth(API_KEY)
    }

    /// `POST /api/calls` with `body`; returns the created call.
    pub async fn place(&self, body: Value) -> Value {
        let resp = self.api(reqwest::Method::POST, "/api/calls").json(&body).send().await.unwrap();
        assert_eq!(resp.status(), reqwest::StatusCode::CREATED, "{:?}", resp.text().await);
        resp.json().await.unwrap()
    }

    /// The stored call, once `pred` holds (polled).
    pub async fn call_when(
        &self,
        id: &str,
        timeout: Duration,
        pred: impl Fn(&main_app::calls::model::Call) -> bool,
    ) -> main_app::calls::model::Call {
        let id = common::ids::CallId::parse(id).unwrap();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let call = self.state.store.get_call(&id).await.unwrap().unwrap();
            if pred(&call) {
                return call;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "call never reached the expected state: {call:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The call once it has been finalized (outcome decided, CRM enqueued).
    pub async fn finalized(&self, id: &str) -> main_app::calls::model::Call {
        let call_id = common::ids::CallId::parse(id).unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        while self.state.store.finalized_at(&call_id).await.unwrap().is_none() {
            assert!(tokio::time::Instant::now() < deadline, "call {id} never finalized");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.call_when(id, Duration::from_secs(1), |_| true).await
    }
}

async fn bind() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.unwrap()
}
