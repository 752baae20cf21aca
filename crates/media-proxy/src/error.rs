//! The web layer's error type: JSON `{"error":{"code","message"}}` with stable codes.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// `MAX_CONCURRENT_CALLS` streams are live.
    #[error("this instance is at its concurrent call limit")]
    AtCapacity,
    /// Shutting down: no new streams.
    #[error("this instance is shutting down")]
    Draining,
}

impl ApiError {
    fn code(&self) -> &'static str {
        match self {
            Self::AtCapacity => "AT_CAPACITY",
            Self::Draining => "DRAINING",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        tracing::warn!(code = self.code(), "stream refused");
        let body = serde_json::json!({"error": {"code": self.code(), "message": self.to_string()}});
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}
