//! Calls: placing them, their lifecycle, their audit log, and the API over them.

pub mod export;
pub mod handlers;
pub mod media_events;
pub mod model;
pub mod outcome;
pub mod reconcile;
pub mod service;
pub mod store;
pub mod validate;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

/// `/api/calls…` routes (mounted behind authentication).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/calls", post(handlers::create).get(handlers::list))
        .route("/api/calls/active", get(handlers::active))
        .route("/api/calls/export.csv", get(export::export))
        .route("/api/calls/{id}", get(handlers::get))
        .route("/api/calls/{id}/events", get(handlers::events))
        .route("/api/calls/{id}/hangup", post(handlers::hangup))
        .route("/api/outbound-call", post(handlers::outbound_call_alias))
}
