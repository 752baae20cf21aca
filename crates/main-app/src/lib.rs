//! main-app: the platform's source of truth about calls, campaigns and contacts.
//!
//! It serves the REST API and the dashboard, answers Twilio's TwiML requests and callbacks and
//! ElevenLabs' webhooks, holds the live-calls registry, runs the campaign engine, and forwards
//! summaries to the CRM. Audio never passes through it (that is media-proxy's job).
//!
//! Entry points: [`build_router`] (used by tests with `oneshot`) and [`run`] (serves a bound
//! listener until the shutdown future resolves, then drains background work).

pub mod amd;
pub mod auth;
pub mod calls;
pub mod campaigns;
pub mod config_api;
pub mod contacts;
pub mod crm;
pub mod elevenlabs;
pub mod error;
pub mod health;
pub mod internal;
pub mod live;
pub mod post_call;
pub mod recordings;
pub mod retry;
pub mod settings;
pub mod state;
pub mod stats;
pub mod store;
pub mod telemetry;
pub mod transcripts;
pub mod twilio;
pub mod twiml;
pub mod webhooks;

use axum::Router;
use axum::http::{HeaderValue, Method};
use axum::middleware::from_fn_with_state;
use axum::routing::{any, get, post};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::cors::CorsLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

pub use state::AppState;

/// Largest request body accepted by default (routes that take uploads raise it themselves).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Installs the process-wide rustls crypto provider (ring). Must run before any TLS client is
/// built: with both mongodb and reqwest in one binary rustls cannot pick one itself and panics.
pub fn install_crypto_provider() {
    // Err means a provider is already installed (tests call this repeatedly): safe to ignore.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Every route, with its layers and the dashboard as the fallback.
pub fn build_router(state: AppState) -> Router {
    let protected = Router::new()
        .merge(calls::router())
        .merge(transcripts::router())
        .merge(recordings::router())
        .merge(crm::router())
        .merge(contacts::router())
        .merge(campaigns::router())
        .route("/api/auth/me", get(auth::handlers::me))
        .route("/api/config", get(config_api::get))
        .route("/api/stats/overview", get(stats::overview))
        .route("/api/{*rest}", any(health::api_not_found))
        .route_layer(from_fn_with_state(state.clone(), auth::middleware::require_auth));

    let public = Router::new()
        .route("/api/auth/login", post(auth::handlers::login))
        .route("/api/auth/logout", post(auth::handlers::logout))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(
            "/outbound-call-twiml",
            get(webhooks::twilio::outbound_twiml).post(webhooks::twilio::outbound_twiml),
        )
        .route(
            "/fallback-twiml",
            get(webhooks::twilio::fallback_twiml).post(webhooks::twilio::fallback_twiml),
        )
        .route(
            "/call-status-callback",
            get(webhooks::twilio::status_callback).post(webhooks::twilio::status_callback),
        )
        .route("/amd-status-callback", post(webhooks::twilio::amd_callback))
        .route("/recording-status-callback", post(webhooks::twilio::recording_callback))
        .route("/stream-status-callback", post(webhooks::twilio::stream_callback))
        .route("/webhooks/elevenlabs", post(webhooks::elevenlabs::receive))
        .route(common::events::media::CONTEXT_PATH, get(internal::stream_context))
        .route(common::events::media::EVENTS_PATH, post(internal::media_events));

    let dashboard_dir = state.settings.dashboard_dir.clone();
    let dashboard = ServeDir::new(&dashboard_dir)
        .append_index_html_on_directories(true)
        .not_found_service(ServeFile::new(dashboard_dir.join("404.html")));

    let mut router = Router::new()
        .merge(protected)
        .merge(public)
        .fallback_service(dashboard)
        .layer(axum::extract::DefaultBodyLimit::max(DEFAULT_BODY_LIMIT))
        .layer(TraceLayer::new_for_http());
    if !state.settings.cors_allowed_origins.is_empty() {
        let origins: Vec<HeaderValue> = state
            .settings
            .cors_allowed_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        router = router.layer(
            CorsLayer::new()
                .allow_origin(origins)
                .allow_credentials(true)
                .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
                .allow_headers([
                    axum::http::header::CONTENT_TYPE,
                    axum::http::header::AUTHORIZATION,
                    axum::http::HeaderName::from_static("idempotency-key"),
                ]),
        );
    }
    router.with_state(state)
}

/// How long background work may continue after the server stops accepting requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);
/// How often stale live calls are checked with Twilio.
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Serves `listener` until `shutdown` resolves: rebuilds the live registry first, runs the
/// reconciliation sweep, then drains background tasks (bounded by a deadline).
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    match calls::reconcile::rebuild(&state).await {
        Ok(n) => tracing::info!(live_calls = n, "live registry rebuilt from the store"),
        Err(e) => tracing::error!(error = %e, "could not rebuild the live registry"),
    }
    let stop = tokio_util::sync::CancellationToken::new();
    let mut workers = vec![tokio::spawn(sweep_loop(state.clone(), stop.clone()))];
    workers.extend(post_call_workers(&state, &stop));
    workers.push(tokio::spawn(campaigns::engine::run(state.clone(), stop.clone())));
    // Cancelled as soon as shutdown is requested: Socket.IO then closes its clients, so that
    // long-polling requests do not hold the graceful shutdown open.
    let serving = tokio_util::sync::CancellationToken::new();
    let (router, live_task) =
        live::socketio::attach(build_router(state.clone()), &state, serving.clone()).await?;
    workers.push(live_task);
    let addr = listener.local_addr()?;
    tracing::info!(%addr, store = state.store.backend(), "main-app listening");
    let app = router.into_make_service_with_connect_info::<SocketAddr>();
    let requested = serving.clone();
    let shutdown = async move {
        shutdown.await;
        requested.cancel();
    };
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
    serving.cancel();
    stop.cancel();
    // Workers only end through cancellation; a join error would mean one panicked.
    for worker in workers {
        let _ = worker.await;
    }
    state.tasks.close();
    if tokio::time::timeout(DRAIN_TIMEOUT, state.tasks.wait()).await.is_err() {
        tracing::warn!("background tasks still running at the drain deadline");
    }
    Ok(())
}

/// The post-call background work: finalization, its live-hub listener, stored-webhook retries
/// and the CRM outbox.
fn post_call_workers(
    state: &AppState,
    stop: &tokio_util::sync::CancellationToken,
) -> Vec<tokio::task::JoinHandle<()>> {
    vec![
        tokio::spawn(post_call::worker::finalize_loop(state.clone(), stop.clone())),
        tokio::spawn(post_call::worker::ended_listener(state.clone(), stop.clone())),
        tokio::spawn(post_call::worker::inbox_loop(state.clone(), stop.clone())),
        tokio::spawn(crm::worker::run(state.clone(), stop.clone())),
    ]
}

async fn sweep_loop(state: AppState, stop: tokio_util::sync::CancellationToken) {
    let mut tick = tokio::time::interval(SWEEP_INTERVAL);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {
                if let Err(e) = calls::reconcile::sweep(&state).await {
                    tracing::error!(error = %e, "reconciliation sweep failed");
                }
            }
        }
    }
}
