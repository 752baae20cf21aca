//! Verification of requests from Twilio (`X-Twilio-Signature`, protocol reference §3).
//!
//! The signed URL is rebuilt from `SERVER_URL` (the public base Twilio was given) plus the path
//! and raw query of the request, never from the `Host` header. Form parameters are decoded from
//! the raw body, keeping empty values. Anything that does not verify is answered 403 and nothing
//! about it is stored.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use secrecy::ExposeSecret;

use crate::state::AppState;

/// A verified Twilio request: its decoded form parameters and query.
#[derive(Debug, Clone)]
pub struct TwilioRequest {
    /// Body parameters (POST) in order, duplicates kept.
    pub params: Vec<(String, String)>,
    /// Query parameters.
    pub query: Vec<(String, String)>,
}

impl TwilioRequest {
    /// The first value of a body parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The first value of a query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A body parameter, falling back to the query (GET callbacks carry everything there).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.param(name).or_else(|| self.query(name))
    }
}

/// Verifies the signature of a Twilio request; `Err(403)` when missing or wrong.
pub fn verify(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<TwilioRequest, StatusCode> {
    let signature = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    let path_and_query = uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
    let url = format!("{}{}", state.settings.server_url, path_and_query);
    let params: Vec<(String, String)> =
        if method == Method::POST { form_urlencoded::parse(body).into_owned().collect() } else { Vec::new() };
    let token = state.settings.twilio.auth_token.expose_secret();
    if !common::signature::validate_twilio(token, &url, &params, signature) {
        tracing::warn!(
            path = uri.path(),
            has_signature = !signature.is_empty(),
            "rejected unsigned or forged Twilio request"
        );
        return Err(StatusCode::FORBIDDEN);
    }
    let query =
        uri.query().map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    Ok(TwilioRequest { params, query })
}
