//! Starting and stopping a sandbox: [`Sandbox::start`] serves the simulated Twilio
//! (`/2010-04-01/…`), the simulated ElevenLabs (`/v1/…`) and the inspection API (`/sandbox/…`)
//! on one listener and returns a [`SandboxHandle`].

use crate::config::{ConfigError, SandboxConfig};
use crate::el::record::ConversationRecord;
use crate::state::{AppState, Shared};
use crate::twilio::record::CallRecord;
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Entry point of the library.
#[derive(Debug)]
pub struct Sandbox;

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listener has no local address.
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Http(#[from] reqwest::Error),
}

/// A running sandbox.
pub struct SandboxHandle {
    state: AppState,
    local_addr: SocketAddr,
    server: JoinHandle<()>,
}

/// All routes (exposed for `oneshot` tests).
pub(crate) fn build_router(state: AppState) -> Router {
    Router::new()
        .merge(crate::twilio::router())
        .merge(crate::el::router())
        .merge(crate::inspect::router())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

impl Sandbox {
    /// Serves on `listener` until [`SandboxHandle::shutdown`].
    pub async fn start(listener: TcpListener, config: SandboxConfig) -> Result<SandboxHandle, StartError> {
        config.validate()?;
        // Another part of the process may have installed it already; either way one is set.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let local_addr = listener.local_addr()?;
        let base_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{local_addr}"))
            .trim_end_matches('/')
            .to_owned();
        let state: AppState = Arc::new(Shared::new(config, base_url)?);
        let router = build_router(state.clone());
        let shutdown = state.shutdown.clone();
        let server = tokio::spawn(async move {
            let served =
                axum::serve(listener, router).with_graceful_shutdown(shutdown.cancelled_owned()).await;
            if let Err(e) = served {
                tracing::error!(error = %e, "sandbox server stopped");
            }
        });
        tracing::info!(%local_addr, base_url = %state.base_url, "sandbox started");
        Ok(SandboxHandle { state, local_addr, server })
    }
}

impl SandboxHandle {
    /// `http://host:port` (or the configured public URL): use it as `TWILIO_API_BASE` and
    /// `ELEVENLABS_API_BASE`.
    pub fn base_url(&self) -> &str {
        &self.state.base_url
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The configuration in use.
    pub fn config(&self) -> &SandboxConfig {
        &self.state.config
    }

    /// Every call, oldest first.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.state.calls.all().iter().map(|e| e.snapshot()).collect()
    }

    /// One call by SID.
    pub fn call(&self, sid: &str) -> Option<CallRecord> {
        self.state.calls.get(sid).map(|e| e.snapshot())
    }

    /// Every conversation, oldest first.
    pub fn conversations(&self) -> Vec<ConversationRecord> {
        self.state.conversations.all().iter().map(|e| e.snapshot()).collect()
    }

    /// One conversation by id.
    pub fn conversation(&self, id: &str) -> Option<ConversationRecord> {
        self.state.conversations.get(id).map(|e| e.snapshot())
    }

    /// The WAV of a completed recording.
    pub fn recording_wav(&self, sid: &str) -> Option<Vec<u8>> {
        self.state.recordings.get(sid).filter(|r| !r.wav.is_empty()).map(|r| r.wav.to_vec())
    }

    /// Refuses the next `n` agent WebSocket upgrades with HTTP 503.
    pub fn refuse_agent_connections(&self, n: u32) {
        self.state.faults.refuse_agent_connections.store(n, Ordering::SeqCst);
    }

    /// Re-evaluates `check` after every change until it returns `Some` or `timeout` passes.
    pub async fn wait_for<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&Self) -> Option<T>,
    ) -> Option<T> {
        let mut changes = self.state.changes.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(found) = check(self) {
                return Some(found);
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return check(self),
            }
        }
    }

    /// Waits until the call satisfies `pred`.
    pub async fn wait_call(
        &self,
        sid: &str,
        timeout: Duration,
        pred: impl Fn(&CallRecord) -> bool,
    ) -> Option<CallRecord> {
        self.wait_for(timeout, |h| h.call(sid).filter(|c| pred(c))).await
    }

    /// Waits until the call has ended.
    pub async fn wait_call_ended(&self, sid: &str, timeout: Duration) -> Option<CallRecord> {
        self.wait_call(sid, timeout, CallRecord::is_finished).await
    }

    /// Waits until some conversation satisfies `pred`.
    pub async fn wait_conversation(
        &self,
        timeout: Duration,
        pred: impl Fn(&ConversationRecord) -> bool,
    ) -> Option<ConversationRecord> {
        self.wait_for(timeout, |h| h.conversations().into_iter().find(|c| pred(c))).await
    }

    /// Stops serving: live calls end (`shutdown`), the listener closes.
    pub async fn shutdown(self) {
        self.state.shutdown.cancel();
        if tokio::time::timeout(Duration::from_secs(5), self.server).await.is_err() {
            tracing::warn!("sandbox server did not stop within 5 s");
        }
    }
}
