//! The one cheap-to-clone application state passed to every handler.

use std::sync::Arc;
use tokio_util::task::TaskTracker;

use crate::auth::AuthState;
use crate::elevenlabs::ElevenLabsClient;
use crate::live::LiveHub;
use crate::settings::Settings;
use crate::store::DynStore;
use crate::twilio::TwilioClient;

/// Shared state: settings, store, clients, registries.
#[derive(Clone)]
pub struct AppState {
    /// Settings, parsed once.
    pub settings: Arc<Settings>,
    /// The store (embedded or MongoDB).
    pub store: DynStore,
    /// Twilio REST client.
    pub twilio: TwilioClient,
    /// Live calls and live events.
    pub live: LiveHub,
    /// Authentication.
    pub auth: AuthState,
    /// ElevenLabs REST client (post-call recovery).
    pub elevenlabs: ElevenLabsClient,
    /// Wake-ups of the post-call workers (finalization, CRM outbox).
    pub wakeups: crate::post_call::Wakeups,
    /// Hang-ups we requested and whose effect (the stream stopping) has not been reported yet.
    pub hangups: Arc<dashmap::DashMap<common::ids::CallId, common::call::TerminatedBy>>,
    /// Work started after a response was sent (callback processing, hang-ups): tracked so that
    /// shutdown waits for it.
    pub tasks: TaskTracker,
}

impl AppState {
    /// Builds the state from settings and an opened store.
    pub fn new(settings: Settings, store: DynStore) -> anyhow::Result<Self> {
        let twilio = TwilioClient::new(&settings.twilio)?;
        let auth = AuthState::new(&settings.auth)?;
        let elevenlabs = ElevenLabsClient::new(&settings.elevenlabs)?;
        Ok(Self {
            settings: Arc::new(settings),
            store,
            twilio,
            live: LiveHub::new(),
            auth,
            elevenlabs,
            wakeups: crate::post_call::Wakeups::default(),
            hangups: Arc::new(dashmap::DashMap::new()),
            tasks: TaskTracker::new(),
        })
    }

    /// Runs `fut` in the background, tracked for graceful shutdown.
    pub fn spawn<F>(&self, fut: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(fut);
    }
}
