//! A small typed Twilio Voice client on reqwest (protocol reference §1).
//!
//! The `twilio` crate was rejected (no `<Stream>`, no escaping, wrong signature check), so this
//! is ours: create a call, hang up or redirect it, fetch it, list and fetch its recordings, and
//! stream recording media. Errors keep Twilio's code, message and HTTP status. HTTP 429 (code
//! 20429: "not processed, safe to retry") is retried with backoff; a create whose outcome is
//! unknown (timeout, connection lost after sending) is never retried blindly, because it may have
//! dialled.

pub mod model;

use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

use crate::retry::Backoff;
use crate::settings::TwilioSettings;
pub use model::{AmdMode, CreateCall, TwilioCall, TwilioError, TwilioRecording};

/// Client for one Twilio account.
#[derive(Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    /// For recording media: no total deadline (a long recording streams for a while), but a
    /// deadline on connecting and on every read.
    media_http: reqwest::Client,
    base: String,
    account_sid: String,
    auth_token: SecretString,
    backoff: Backoff,
}

impl std::fmt::Debug for TwilioClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioClient")
            .field("base", &self.base)
            .field("account_sid", &self.account_sid)
            .finish()
    }
}

/// How long one REST request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

impl TwilioClient {
    /// A client for the configured account and API base.
    pub fn new(settings: &TwilioSettings) -> Result<Self, TwilioError> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("voice-platform/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TwilioError::Transport(e.to_string()))?;
        let media_http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("voice-platform/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TwilioError::Transport(e.to_string()))?;
        Ok(Self {
            http,
            media_http,
            base: settings.api_base.trim_end_matches('/').to_owned(),
            account_sid: settings.account_sid.clone(),
            auth_token: settings.auth_token.clone(),
            backoff: Backoff {
                base: Duration::from_millis(250),
                factor: 2.0,
                max: Duration::from_secs(4),
                max_attempts: 5,
            },
        })
    }

    /// Overrides the 429 retry policy (tests use short delays).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    fn url(&self, path: &str) -> String {
        format!("{}/2010-04-01/Accounts/{}/{}", self.base, self.account_sid, path)
    }

    /// `POST …/Calls.json`: places a call. Retried only on 429; a timeout is reported as
    /// [`TwilioError::OutcomeUnknown`].
    pub async fn create_call(&self, req: &CreateCall) -> Result<TwilioCall, TwilioError> {
        let form = req.to_form();
        self.send_json(reqwest::Method::POST, &self.url("Calls.json"), Some(&form), false).await
    }

    /// `POST …/Calls/{sid}.json Status=completed`: hangs up an answered call, or
    /// `Status=canceled` for one not yet answered.
    pub async fn end_call(&self, call_sid: &str, canceled: bool) -> Result<TwilioCall, TwilioError> {
        let status = if canceled { "canceled" } else { "completed" };
        let form = vec![("Status".to_owned(), status.to_owned())];
        self.send_json(reqwest::Method::POST, &self.url(&format!("Calls/{call_sid}.json")), Some(&form), true)
            .await
    }

    /// `POST …/Calls/{sid}.json Twiml=…`: replaces the TwiML the call is running.
    pub async fn redirect_twiml(&self, call_sid: &str, twiml: &str) -> Result<TwilioCall, TwilioError> {
        let form = vec![("Twiml".to_owned(), twiml.to_owned())];
        self.send_json(reqwest::Method::POST, &self.url(&format!("Calls/{call_sid}.json")), Some(&form), true)
            .await
    }

    /// `GET …/Calls/{sid}.json`.
    pub async fn fetch_call(&self, call_sid: &str) -> Result<TwilioCall, TwilioError> {
        self.send_json(reqwest::Method::GET, &self.url(&format!("Calls/{call_sid}.json")), None, true).await
    }

    /// `GET …/Calls/{sid}/Recordings.json`.
    pub async fn list_recordings(&self, call_sid: &str) -> Result<Vec<TwilioRecording>, TwilioError> {
        #[derive(serde::Deserialize)]
        struct Page {
            recordings: Vec<TwilioRecording>,
        }
        let url = self.url(&format!("Calls/{call_sid}/Recordings.json"));
        let page: Page = self.send_json(reqwest::Method::GET, &url, None, true).await?;
        Ok(page.recordings)
    }

    /// `GET …/Recordings/{sid}.json`.
    pub async fn fetch_recording(&self, recording_sid: &str) -> Result<TwilioRecording, TwilioError> {
        self.send_json(
            reqwest::Method::GET,
            &self.url(&format!("Recordings/{recording_sid}.json")),
            None,
            true,
        )
        .await
    }

    /// `DELETE …/Recordings/{sid}.json`.
    pub async fn delete_recording(&self, recording_sid: &str) -> Result<(), TwilioError> {
        let url = self.url(&format!("Recordings/{recording_sid}.json"));
        let resp = self.send(reqwest::Method::DELETE, &url, None, true).await?;
        if resp.status().is_success() || resp.status() == reqwest::StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(model::api_error(resp).await)
        }
    }

    /// Starts a download of a recording's media (`.wav` or `.mp3`), forwarding an optional HTTP
    /// `Range` header. The caller streams the body.
    pub async fn recording_media(
        &self,
        recording_sid: &str,
        extension: &str,
        range: Option<&str>,
    ) -> Result<reqwest::Response, TwilioError> {
        let url = self.url(&format!("Recordings/{recording_sid}.{extension}"));
        let mut req =
            self.media_http.get(&url).basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()));
        if let Some(range) = range {
            req = req.header(reqwest::header::RANGE, range);
        }
        let resp = req.send().await.map_err(|e| TwilioError::Transport(e.to_string()))?;
        if resp.status().is_success() { Ok(resp) } else { Err(model::api_error(resp).await) }
    }

    async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: &str,
        form: Option<&[(String, String)]>,
        idempotent: bool,
    ) -> Result<T, TwilioError> {
        let resp = self.send(method, url, form, idempotent).await?;
        if !resp.status().is_success() {
            return Err(model::api_error(resp).await);
        }
        resp.json::<T>().await.map_err(|e| TwilioError::Decode(e.to_string()))
    }

    /// Sends with Basic auth; retries 429 always and transport errors only when `idempotent`.
    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        form: Option<&[(String, String)]>,
        idempotent: bool,
    ) -> Result<reqwest::Response, TwilioError> {
        let mut attempt = 0;
        loop {
            let mut req = self
                .http
                .request(method.clone(), url)
                .basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()));
            if let Some(form) = form {
                req = req.form(form);
            }
            let result = req.send().await;
            attempt += 1;
            let retry_allowed = self.backoff.should_retry(attempt);
            match result {
                Ok(resp) if resp.status() == reqwest::StatusCode::TOO_MANY_REQUESTS && retry_allowed => {
                    tracing::warn!(attempt, "Twilio answered 429; backing off");
                }
                Ok(resp) => return Ok(resp),
                // Nothing was sent on a connect failure, so even a create may be retried.
                Err(e) if e.is_connect() && retry_allowed => {
                    tracing::warn!(attempt, error = %e, "cannot reach Twilio; retrying");
                }
                Err(e) if e.is_connect() => return Err(TwilioError::Transport(e.to_string())),
                Err(e) if idempotent && retry_allowed && e.is_timeout() => {
                    tracing::warn!(attempt, error = %e, "Twilio request timed out; retrying");
                }
                // The request may have reached Twilio: a create may have dialled.
                Err(e) if !idempotent => return Err(TwilioError::OutcomeUnknown(e.to_string())),
                Err(e) => return Err(TwilioError::Transport(e.to_string())),
            }
            let jitter: f64 = rand::random();
            tokio::time::sleep(self.backoff.jittered(attempt - 1, jitter)).await;
        }
    }
}
