//! A small typed client for the ElevenLabs REST API (protocol reference §7.6): only what
//! post-call recovery needs, `GET /v1/convai/conversations/{id}`, authenticated with the
//! `xi-api-key` header. Errors keep the HTTP status so callers can tell "no such conversation"
//! from "ElevenLabs is down".

use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

use crate::settings::ElevenLabsSettings;
use common::elevenlabs::Conversation;

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// An ElevenLabs REST failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElevenLabsError {
    /// ElevenLabs answered with an error status.
    #[error("ElevenLabs answered HTTP {status}")]
    Status {
        /// HTTP status.
        status: u16,
    },
    /// The request could not be made or timed out.
    #[error("cannot reach ElevenLabs: {0}")]
    Transport(String),
    /// A 2xx body we could not read.
    #[error("unreadable ElevenLabs response: {0}")]
    Decode(String),
}

impl ElevenLabsError {
    /// True for 404: the conversation does not exist (or was deleted).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Status { status: 404 })
    }
}

/// Client for one ElevenLabs account. Cheap to clone.
#[derive(Clone)]
pub struct ElevenLabsClient {
    http: reqwest::Client,
    base: String,
    api_key: SecretString,
}

impl std::fmt::Debug for ElevenLabsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ElevenLabsClient").field("base", &self.base).finish()
    }
}

impl ElevenLabsClient {
    /// A client for the configured account and API base.
    pub fn new(settings: &ElevenLabsSettings) -> Result<Self, ElevenLabsError> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("voice-platform/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ElevenLabsError::Transport(e.to_string()))?;
        Ok(Self {
            http,
            base: settings.api_base.trim_end_matches('/').to_owned(),
            api_key: settings.api_key.clone(),
        })
    }

    /// `GET /v1/convai/conversations/{id}`: the transcript, analysis and metadata.
    pub async fn conversation(&self, conversation_id: &str) -> Result<Conversation, ElevenLabsError> {
        let mut url = url::Url::parse(&self.base).map_err(|e| ElevenLabsError::Transport(e.to_string()))?;
        url.path_segments_mut()
            .map_err(|()| ElevenLabsError::Transport("ELEVENLABS_API_BASE cannot be a base".into()))?
            .extend(["v1", "convai", "conversations", conversation_id]);
        let resp = self
            .http
            .get(url)
            .header("xi-api-key", self.api_key.expose_secret())
            .send()
            .await
            .map_err(|e| ElevenLabsError::Transport(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(ElevenLabsError::Status { status: resp.status().as_u16() });
        }
        resp.json::<Conversation>().await.map_err(|e| ElevenLabsError::Decode(e.to_string()))
    }
}
