//! media-proxy: the bridge between Twilio Media Streams and the ElevenLabs agent, one actor per
//! live call.
//!
//! - [`settings`]: typed settings from the environment.
//! - [`build_router`]: `GET /outbound-media-stream` (Twilio's WebSocket) and `GET /healthz`.
//! - [`run`]: serves on a bound listener until shutdown, then drains live calls.
//! - [`call`]: everything about one call (token check, set-up, the actor, playback tracking).
//! - [`audio`]: μ-law ⇄ PCM transcoding and resampling for PCM agents.
//! - [`events`]: the bounded, retrying, never-blocking event channel to main-app.
//! - [`registry`]: live calls and the concurrency limit.
//!
//! `docs/media-proxy.md` describes the design; `.env.example` every setting.

pub mod audio;
pub mod call;
pub mod error;
pub mod events;
pub mod registry;
pub mod settings;
pub mod state;
pub mod telemetry;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::future::Future;
use std::time::Duration;

pub use error::ApiError;
pub use settings::Settings;
pub use state::AppState;

/// Path Twilio's `<Stream url>` points at.
pub const STREAM_PATH: &str = "/outbound-media-stream";

/// Installs rustls' ring provider as the process default (idempotent). Every binary and test
/// harness must do this before building a TLS client (see stack notes: two providers panic).
pub fn install_crypto_provider() {
    // Err means a provider is already installed: ignoring is safe.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The HTTP surface.
pub fn build_router(state: AppState) -> Router {
    Router::new().route(STREAM_PATH, get(stream)).route("/healthz", get(healthz)).with_state(state)
}

async fn healthz(State(state): State<AppState>) -> Response {
    let draining = state.draining.is_cancelled();
    let body = serde_json::json!({
        "status": if draining { "draining" } else { "ok" },
        "activeStreams": state.registry.active(),
        "liveCalls": state.registry.calls().len(),
        "maxConcurrentCalls": state.registry.max(),
        "events": state.events.stats().snapshot(),
    });
    let status = if draining { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    (status, Json(body)).into_response()
}

async fn stream(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Result<Response, ApiError> {
    if state.draining.is_cancelled() {
        return Err(ApiError::Draining);
    }
    let slot = state.registry.try_admit().ok_or(ApiError::AtCapacity)?;
    let max = state.settings.limits.max_message_bytes;
    Ok(upgrade
        .max_message_size(max)
        .max_frame_size(max)
        .read_buffer_size(call::setup::READ_BUFFER_BYTES)
        .write_buffer_size(call::setup::WRITE_BUFFER_BYTES)
        .on_upgrade(move |socket| call::serve(socket, state, slot)))
}

/// Serves until `shutdown` resolves; then refuses new streams (503 `DRAINING`, `/healthz` 503)
/// while live calls run for up to `DRAIN_TIMEOUT_SECS`, ends the rest (reason `shutdown`), stops
/// listening and flushes queued events.
///
/// The listener stays open during the drain on purpose: a load balancer's health check must see
/// the 503 (a closed port looks like a crash), and a stream Twilio sends here meanwhile gets a
/// clear refusal instead of a connection error.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use axum::serve::ListenerExt as _;
    use std::future::IntoFuture as _;
    let app = build_router(state.clone());
    // Audio frames are small writes: Nagle's algorithm would hold them back for an ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(%err, "could not set TCP_NODELAY");
        }
    });
    let stop_listening = tokio_util::sync::CancellationToken::new();
    let server = axum::serve(listener, app)
        .with_graceful_shutdown(stop_listening.clone().cancelled_owned())
        .into_future();
    let drained = async {
        shutdown.await;
        state.draining.cancel();
        drain(&state).await;
        stop_listening.cancel();
    };
    tokio::pin!(server);
    tokio::select! {
        served = &mut server => {
            served?;
            anyhow::bail!("the server stopped before shutdown was asked for");
        }
        () = drained => {}
    }
    server.await?;
    state.finish_events(Duration::from_secs(5)).await;
    Ok(())
}

async fn drain(state: &AppState) {
    let live = state.registry.active();
    let limit = state.settings.limits.drain_timeout;
    tracing::info!(live, drain_secs = limit.as_secs(), "shutting down: no new streams, draining live calls");
    if tokio::time::timeout(limit, state.registry.wait_idle()).await.is_ok() {
        tracing::info!("all calls finished");
        return;
    }
    tracing::warn!(live = state.registry.active(), "drain deadline passed: ending the remaining calls");
    state.registry.stop_all();
    if tokio::time::timeout(Duration::from_secs(5), state.registry.wait_idle()).await.is_err() {
        tracing::error!(live = state.registry.active(), "calls still running after the hard stop");
    }
}
