//! Campaigns: their settings and states, their members and attempts, the dialling engine, and
//! the API over them. See `docs/campaigns.md`.

pub mod actions;
pub mod engine;
pub mod handlers;
pub mod join;
pub mod model;
pub mod pacing;
pub mod progress;
pub mod settings;
pub mod settings_model;
pub mod store;
pub mod template;
pub mod validate;
pub mod window;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

/// `/api/campaigns…` routes (mounted behind authentication).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/campaigns", get(handlers::list).post(handlers::create))
        .route("/api/campaigns/{id}", get(handlers::get).put(handlers::update).delete(handlers::delete))
        .route(
            "/api/campaigns/{id}/contacts",
            get(handlers::members).post(handlers::add_contacts).delete(handlers::remove_contacts),
        )
        .route("/api/campaigns/{id}/attempts", get(handlers::attempts))
        .route("/api/campaigns/{id}/progress", get(actions::progress))
        .route("/api/campaigns/{id}/check", post(actions::check))
        .route("/api/campaigns/{id}/start", post(actions::start))
        .route("/api/campaigns/{id}/pause", post(actions::pause))
        .route("/api/campaigns/{id}/resume", post(actions::resume))
        .route("/api/campaigns/{id}/cancel", post(actions::cancel))
}
