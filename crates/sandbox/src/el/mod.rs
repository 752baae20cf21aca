//! Simulated ElevenLabs Agents: the signed-URL endpoint, the conversation WebSocket with a
//! scripted agent, the post-call webhook and the conversations REST API.

use crate::state::AppState;
use axum::Router;
use axum::routing::get;

pub mod error;
pub mod record;
pub(crate) mod registry;
pub(crate) mod signed_url;

/// Routes under `/v1`.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/convai/conversation/get-signed-url", get(signed_url::get_signed_url))
        .route("/v1/convai/conversation/get_signed_url", get(signed_url::get_signed_url))
}
