//! Transcripts: live lines persisted as media-proxy reports them, the post-call record from
//! ElevenLabs, and its recovery from ElevenLabs' REST API for calls whose webhook never came.

pub mod handlers;
pub mod model;
pub mod store;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

/// Transcript routes (mounted behind authentication).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/calls/{id}/transcript", get(handlers::get))
        .route("/api/calls/{id}/transcript/recover", post(handlers::recover_one))
        .route("/api/transcripts/recover", post(handlers::recover_bulk))
}
