//! The state every handler and call shares: settings, the HTTP client, the live-call registry,
//! the event queue and the shutdown signals. Cheap to clone.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::events::sender::{self, SenderConfig};
use crate::events::{EventQueue, retry::Backoff};
use crate::registry::Registry;
use crate::settings::Settings;

/// Shared application state.
#[derive(Clone)]
pub struct AppState {
    /// Settings, parsed once.
    pub settings: Arc<Settings>,
    /// HTTP client for main-app and ElevenLabs (connect and request deadlines set).
    pub http: reqwest::Client,
    /// Live calls and the concurrency limit.
    pub registry: Registry,
    /// Events to main-app.
    pub events: EventQueue,
    /// Cancelled on SIGTERM: no new streams are accepted.
    pub draining: CancellationToken,
    sender: Arc<Mutex<Option<SenderTask>>>,
}

/// The event sender's task and the token that asks it to finish.
type SenderTask = (JoinHandle<()>, CancellationToken);

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl AppState {
    /// Builds the state and starts the event sender. Must run inside a Tokio runtime.
    pub fn new(settings: Settings) -> anyhow::Result<Self> {
        crate::install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(settings.limits.connect_timeout)
            .timeout(settings.limits.request_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            // Set-up bursts would otherwise leave many idle connections (and their buffers).
            .pool_max_idle_per_host(16)
            .build()
            .map_err(|e| anyhow::anyhow!("HTTP client: {e}"))?;
        let (events, rx, stats) = EventQueue::new(settings.limits.event_queue_capacity);
        let config = SenderConfig {
            url: format!("{}{}", settings.main_app_url, common::events::media::EVENTS_PATH),
            secret: settings.stream_token_secret.clone(),
            instance: settings.instance_id.clone(),
            backoff: Backoff::default(),
            max_batch: 200,
        };
        let finish = CancellationToken::new();
        let task = tokio::spawn(sender::run(rx, http.clone(), config, stats, finish.clone()));
        Ok(Self {
            registry: Registry::new(settings.limits.max_concurrent_calls),
            settings: Arc::new(settings),
            http,
            events,
            draining: CancellationToken::new(),
            sender: Arc::new(Mutex::new(Some((task, finish)))),
        })
    }

    /// Stops the event sender once what is queued has been delivered (or `deadline` passed).
    pub async fn finish_events(&self, deadline: Duration) {
        let taken = self.sender.lock().ok().and_then(|mut s| s.take());
        if let Some((task, finish)) = taken {
            finish.cancel();
            if tokio::time::timeout(deadline, task).await.is_err() {
                tracing::warn!("event sender did not finish before the deadline: remaining events lost");
            }
        }
    }
}
