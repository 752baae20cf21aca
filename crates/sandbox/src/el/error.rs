//! ElevenLabs-shaped REST errors (§7.6): `{"detail":{"status":…,"message":…}}` for auth and
//! lookups, `{"detail":[{"loc":…,"msg":…,"type":…}]}` (422) for validation.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// One REST error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElError {
    /// Missing or wrong `xi-api-key` (401).
    #[error("invalid api key")]
    InvalidApiKey,
    /// A required query parameter is missing (422).
    #[error("missing query parameter {0}")]
    MissingQuery(&'static str),
    /// The signed-URL token is missing, unknown or expired (403).
    #[error("invalid signature")]
    InvalidSignature,
    /// No such agent or conversation (404).
    #[error("{0} not found")]
    NotFound(&'static str),
}

impl IntoResponse for ElError {
    fn into_response(self) -> Response {
        match self {
            Self::InvalidApiKey => (
                StatusCode::UNAUTHORIZED,
                Json(json!({"detail": {"status": "invalid_api_key", "message": "Invalid API key"}})),
            )
                .into_response(),
            Self::InvalidSignature => (
                StatusCode::FORBIDDEN,
                Json(json!({"detail": {"status": "invalid_signature", "message": "Invalid or expired signed URL"}})),
            )
                .into_response(),
            Self::MissingQuery(name) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({"detail": [{"loc": ["query", name], "msg": "field required", "type": "value_error.missing"}]})),
            )
                .into_response(),
            Self::NotFound(what) => (
                StatusCode::NOT_FOUND,
                Json(json!({"detail": {"status": format!("{what}_not_found"), "message": format!("{what} not found")}})),
            )
                .into_response(),
        }
    }
}
