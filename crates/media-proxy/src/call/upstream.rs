//! The two HTTP requests of call set-up: the call's context from main-app (which consumes the
//! stream token) and the agent's signed URL from ElevenLabs. Both run under the client's connect
//! and request deadlines; errors are small typed values the set-up turns into events.

use common::elevenlabs::SignedUrlResponse;
use common::events::media::{CONTEXT_PATH, CallContext};
use common::ids::CallId;
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::settings::Settings;

/// Why the call's context could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    /// main-app refused the token (401/403): reused, expired, unknown call...
    #[error("main-app refused the stream token ({code})")]
    Refused {
        /// main-app's error code, lower-cased (`token_reused`, ...).
        code: String,
    },
    /// main-app could not be reached or answered something unusable.
    #[error("call context unavailable: {0}")]
    Unavailable(String),
}

/// Why the signed URL could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signed URL unavailable: {0}")]
pub struct SignedUrlError(pub String);

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
}

/// `GET {MAIN_APP_URL}/internal/stream-context?callId=…` with the token as bearer.
pub async fn fetch_context(
    http: &reqwest::Client,
    settings: &Settings,
    call_id: &CallId,
    token: &str,
) -> Result<CallContext, ContextError> {
    let url = format!("{}{CONTEXT_PATH}", settings.main_app_url);
    let resp = http
        .get(url)
        .query(&[("callId", call_id.as_str())])
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| ContextError::Unavailable(without_url(&e)))?;
    let status = resp.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        let code = resp
            .json::<ErrorBody>()
            .await
            .map(|b| b.error.code.to_ascii_lowercase())
            .unwrap_or_else(|_| format!("http_{}", status.as_u16()));
        return Err(ContextError::Refused { code });
    }
    if !status.is_success() {
        return Err(ContextError::Unavailable(format!("main-app answered {status}")));
    }
    let ctx: CallContext =
        resp.json().await.map_err(|e| ContextError::Unavailable(format!("bad context body: {e}")))?;
    if &ctx.call_id != call_id {
        return Err(ContextError::Unavailable("context is for another call".to_owned()));
    }
    Ok(ctx)
}

/// `GET {ELEVENLABS_API_BASE}/v1/convai/conversation/get-signed-url?agent_id=…` with `xi-api-key`.
pub async fn fetch_signed_url(http: &reqwest::Client, settings: &Settings) -> Result<String, SignedUrlError> {
    let url = format!("{}/v1/convai/conversation/get-signed-url", settings.elevenlabs_api_base);
    let resp = http
        .get(url)
        .query(&[("agent_id", settings.elevenlabs_agent_id.as_str())])
        .header("xi-api-key", settings.elevenlabs_api_key.expose_secret())
        .send()
        .await
        .map_err(|e| SignedUrlError(without_url(&e)))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(SignedUrlError(format!("ElevenLabs answered {status}")));
    }
    let body: SignedUrlResponse = resp.json().await.map_err(|e| SignedUrlError(format!("bad body: {e}")))?;
    match url::Url::parse(&body.signed_url) {
        Ok(u) if matches!(u.scheme(), "wss" | "ws") => Ok(body.signed_url),
        _ => Err(SignedUrlError("signed_url is not a ws(s) URL".to_owned())),
    }
}

/// A request error's text without its URL (the signed-URL request carries the agent id only, but
/// context requests carry nothing secret either; this keeps logs short and uniform).
fn without_url(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connect error"
    } else {
        "request error"
    };
    format!("{kind}: {}", err.without_url_ref())
}

trait WithoutUrlRef {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrlRef for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let mut text = self.to_string();
        if let Some(url) = self.url() {
            text = text.replace(url.as_str(), "<url>");
        }
        text
    }
}
