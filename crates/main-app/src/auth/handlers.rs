//! `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/auth/me`.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Instant;

use super::middleware::cookie;
use super::store::Session;
use super::{Principal, SESSION_COOKIE, token_hash};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Login body.
#[derive(Deserialize)]
pub struct LoginRequest {
    username: String,
    password: String,
}

/// Who is logged in.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    /// Username, or `api-key`.
    pub username: String,
    /// `session` or `api_key`.
    pub method: &'static str,
}

/// The peer address when the server recorded it (absent in `oneshot` tests).
pub struct ClientAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<axum::extract::ConnectInfo<SocketAddr>>().map(|c| c.0)))
    }
}

fn client_key(addr: Option<SocketAddr>) -> String {
    addr.map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into())
}

/// Checks credentials and sets the session cookie.
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    body: Result<Json<LoginRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Response> {
    let Json(body) = body.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let now = Instant::now();
    let ip_key = format!("ip:{}", client_key(addr));
    let user_key = format!("user:{}", body.username);
    if !state.auth.limiter.allowed(&ip_key, now) || !state.auth.limiter.allowed(&user_key, now) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_LOGIN_ATTEMPTS",
            "too many failed logins; try again in a few minutes",
        ));
    }
    if !state.auth.check_password(&body.username, &body.password).await {
        state.auth.limiter.failed(&ip_key, now);
        state.auth.limiter.failed(&user_key, now);
        tracing::warn!("failed dashboard login");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
            "wrong username or password",
        ));
    }
    state.auth.limiter.succeeded(&ip_key);
    state.auth.limiter.succeeded(&user_key);
    let token = uuid::Uuid::new_v4().simple().to_string() + &uuid::Uuid::new_v4().simple().to_string();
    let ttl = chrono::Duration::from_std(state.auth.session_ttl).unwrap_or(chrono::Duration::hours(12));
    let session = Session {
        token_hash: token_hash(&token),
        username: body.username.clone(),
        created_at: Utc::now(),
        expires_at: Utc::now() + ttl,
    };
    state.store.create_session(&session).await?;
    let secure = if state.auth.cookie_secure { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        state.auth.session_ttl.as_secs()
    );
    let mut resp = Json(Me { username: body.username, method: "session" }).into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(ApiError::internal)?);
    Ok(resp)
}

/// Ends the session (if any) and clears the cookie.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.store.delete_session(&token_hash(token)).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(resp)
}

/// The current principal.
pub async fn me(Extension(principal): Extension<Principal>) -> Json<Me> {
    match principal {
        Principal::ApiKey => Json(Me { username: "api-key".into(), method: "api_key" }),
        Principal::User(username) => Json(Me { username, method: "session" }),
    }
}
