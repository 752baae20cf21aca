//! The `/api` guard: a valid API key or session, or 401 with a JSON error.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use chrono::Utc;

use super::{Principal, SESSION_COOKIE, token_hash};
use crate::error::ApiError;
use crate::state::AppState;

/// Reads a cookie value from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Who the request comes from, or `None` when it carries no valid credentials.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Option<Principal>, ApiError> {
    if let Some(value) = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(token) = value.strip_prefix("Bearer ")
    {
        return Ok(state.auth.is_api_key(token.trim()).then_some(Principal::ApiKey));
    }
    if let Some(token) = cookie(headers, SESSION_COOKIE) {
        return session_principal(state, token).await;
    }
    Ok(None)
}

/// The user of a session token, when the session exists and has not expired.
pub async fn session_principal(state: &AppState, token: &str) -> Result<Option<Principal>, ApiError> {
    let session = state.store.get_session(&token_hash(token)).await?;
    Ok(session.filter(|s| s.expires_at > Utc::now()).map(|s| Principal::User(s.username)))
}

/// Middleware: rejects unauthenticated requests, otherwise attaches the [`Principal`].
pub async fn require_auth(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    match authenticate(&state, req.headers()).await? {
        Some(principal) => {
            req.extensions_mut().insert(principal);
            Ok(next.run(req).await)
        }
        None => Err(ApiError::unauthorized()),
    }
}
