//! Simulated ElevenLabs Agents: the signed-URL endpoint, the conversation WebSocket with a
//! scripted agent (`ws.rs` sets a conversation up, `agent.rs` runs it), the post-call webhook and
//! the conversations REST API.

use crate::state::AppState;
use axum::Router;
use axum::routing::get;

mod agent;
mod conversation;
pub mod error;
pub mod overrides;
pub mod record;
pub(crate) mod registry;
pub(crate) mod signed_url;
pub mod speech;
mod webhook;
mod ws;

/// Routes under `/v1`.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/convai/conversation/get-signed-url", get(signed_url::get_signed_url))
        .route("/v1/convai/conversation/get_signed_url", get(signed_url::get_signed_url))
        .route("/v1/convai/conversation", get(ws::upgrade))
        .route("/v1/convai/conversations", get(conversation::list))
        .route("/v1/convai/conversations/{id}", get(conversation::get))
}
