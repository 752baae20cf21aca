//! Call recordings: Twilio's recording callbacks stored and linked to the call
//! ([`callback`]), and the API to list them, stream their audio to an authenticated user (with
//! HTTP Range, so the browser can seek) and delete them ([`handlers`]). The audio itself is
//! never copied: it is streamed from Twilio with our credentials on each request and nothing is
//! cached on disk.

pub mod callback;
pub mod handlers;
pub mod model;
pub mod store;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

/// Recording routes (mounted behind authentication).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/recordings", get(handlers::list))
        .route("/api/recordings/{sid}", get(handlers::get).delete(handlers::delete))
        .route("/api/recordings/{sid}/audio", get(handlers::audio))
        .route("/api/calls/{id}/recordings", get(handlers::list_for_call))
}
