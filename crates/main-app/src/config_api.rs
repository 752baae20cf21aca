//! `GET /api/config`: what the dashboard needs to build its forms (caller ids, default region).

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::state::AppState;

/// Public configuration (nothing secret).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicConfig {
    /// Numbers a call may present.
    pub caller_ids: Vec<String>,
    /// The default caller id.
    pub default_caller_id: String,
    /// Region for national-format numbers, if configured.
    pub default_region: Option<String>,
}

/// `GET /api/config`.
pub async fn get(State(state): State<AppState>) -> Json<PublicConfig> {
    let s = &state.settings;
    Json(PublicConfig {
        caller_ids: s.allowed_caller_ids.iter().map(ToString::to_string).collect(),
        default_caller_id: s.twilio.phone_number.to_string(),
        default_region: s.default_region.clone(),
    })
}
