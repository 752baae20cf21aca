//! `GET /v1/convai/conversation/get-signed-url?agent_id=…` (§6.1): checks `xi-api-key` and
//! returns a WebSocket URL on this sandbox carrying a one-off token valid for 15 minutes. The
//! deprecated `/get_signed_url` path is served too.

use super::error::ElError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use common::elevenlabs::SignedUrlResponse;
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use subtle::ConstantTimeEq;
use tokio::time::Instant;

/// How long a signed URL is valid.
pub const TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// Tokens issued and not yet expired.
#[derive(Default)]
pub(crate) struct TokenStore {
    tokens: Mutex<HashMap<String, (String, Instant)>>,
}

impl TokenStore {
    /// Issues a token for `agent_id` (and forgets expired ones).
    pub fn issue(&self, agent_id: &str) -> String {
        let token = format!("tok_{}", uuid::Uuid::new_v4().simple());
        let now = Instant::now();
        let mut map = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, (_, expires)| *expires > now);
        map.insert(token.clone(), (agent_id.to_owned(), now + TOKEN_TTL));
        token
    }

    /// Whether `token` was issued for `agent_id` and is still valid.
    pub fn check(&self, token: &str, agent_id: &str) -> bool {
        let map = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(token).is_some_and(|(agent, expires)| agent == agent_id && *expires > Instant::now())
    }
}

/// Checks the `xi-api-key` header.
pub(crate) fn check_api_key(state: &AppState, headers: &HeaderMap) -> Result<(), ElError> {
    let given = headers.get("xi-api-key").and_then(|v| v.to_str().ok()).unwrap_or("");
    let expected = state.config.elevenlabs.api_key.expose_secret();
    if given.len() == expected.len() && bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(ElError::InvalidApiKey)
    }
}

/// The handler.
pub(crate) async fn get_signed_url(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Json<SignedUrlResponse>, ElError> {
    check_api_key(&state, &headers)?;
    let agent_id = q.get("agent_id").filter(|a| !a.is_empty()).ok_or(ElError::MissingQuery("agent_id"))?;
    if *agent_id != state.config.elevenlabs.agent_id {
        return Err(ElError::NotFound("agent"));
    }
    let token = state.tokens.issue(agent_id);
    let signed_url =
        format!("{}/v1/convai/conversation?agent_id={agent_id}&token={token}", state.ws_base_url());
    Ok(Json(SignedUrlResponse { signed_url }))
}
