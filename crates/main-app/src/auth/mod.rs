//! Authentication: API keys for machines, session cookies for the dashboard.
//!
//! Every `/api` route (except login) sits behind [`middleware::require_auth`], which accepts
//! `Authorization: Bearer <API_KEY>` (compared in constant time) or the `session` cookie set by
//! `POST /api/auth/login`. The dashboard password is only ever held as an Argon2 hash; logins are
//! rate-limited per client address and per username.

pub mod handlers;
pub mod limiter;
pub mod middleware;
pub mod store;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use secrecy::{ExposeSecret, SecretString};
use sha2::Digest as _;
use std::sync::Arc;
use std::time::Duration;
use subtle::ConstantTimeEq;

use crate::settings::{AuthSettings, DashboardPassword};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "session";

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A machine client with the API key.
    ApiKey,
    /// A dashboard user.
    User(String),
}

impl Principal {
    /// A short label for audit logs (`api-key`, `user:admin`).
    pub fn label(&self) -> String {
        match self {
            Self::ApiKey => "api-key".into(),
            Self::User(u) => format!("user:{u}"),
        }
    }
}

/// Authentication state shared by handlers.
#[derive(Clone)]
pub struct AuthState {
    api_key: Option<SecretString>,
    username: String,
    password_hash: Option<Arc<String>>,
    /// Login attempt limiter.
    pub limiter: limiter::LoginLimiter,
    /// Session lifetime.
    pub session_ttl: Duration,
    /// Whether the cookie gets `Secure`.
    pub cookie_secure: bool,
}

impl AuthState {
    /// Builds the state, hashing a plain dashboard password (and forgetting it).
    pub fn new(settings: &AuthSettings) -> anyhow::Result<Self> {
        let password_hash = match &settings.dashboard_password {
            None => None,
            Some(DashboardPassword::Hash(h)) => {
                PasswordHash::new(h)
                    .map_err(|e| anyhow::anyhow!("DASHBOARD_PASSWORD_HASH is not a PHC hash: {e}"))?;
                Some(Arc::new(h.clone()))
            }
            Some(DashboardPassword::Plain(p)) => Some(Arc::new(hash_password(p.expose_secret())?)),
        };
        Ok(Self {
            api_key: settings.api_key.clone(),
            username: settings.dashboard_username.clone(),
            password_hash,
            limiter: limiter::LoginLimiter::new(10, Duration::from_secs(300)),
            session_ttl: settings.session_ttl,
            cookie_secure: settings.cookie_secure,
        })
    }

    /// Whether `candidate` is the API key (constant time).
    pub fn is_api_key(&self, candidate: &str) -> bool {
        self.api_key.as_ref().is_some_and(|k| ct_eq(k.expose_secret(), candidate))
    }

    /// Checks dashboard credentials (constant-time username compare, Argon2 verify). Runs the
    /// hash even for a wrong username so timing does not reveal valid usernames.
    pub async fn check_password(&self, username: &str, password: &str) -> bool {
        let Some(hash) = self.password_hash.clone() else { return false };
        let user_ok = ct_eq(&self.username, username);
        let password = password.to_owned();
        let verified = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        user_ok && verified
    }
}

/// Hashes a password with Argon2id and a random salt.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut salt_bytes = [0u8; 16];
    rand::fill(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing the dashboard password: {e}"))
}

/// Hex SHA-256 of a session token: only this is stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}
