//! Twilio request and response shapes, and its errors.

use serde::Deserialize;

/// Answering-machine detection mode (`MachineDetection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmdMode {
    /// Report as soon as the callee type is known (`machine_start`).
    Enable,
    /// Wait for the end of a machine greeting (`machine_end_beep`, ...), to leave a message.
    DetectMessageEnd,
}

/// Parameters of `POST /Calls.json` (protocol reference §1.3).
#[derive(Debug, Clone, PartialEq)]
pub struct CreateCall {
    /// Number to call.
    pub to: String,
    /// Caller id.
    pub from: String,
    /// Our TwiML endpoint for this call.
    pub url: String,
    /// Fetched when `url` fails.
    pub fallback_url: Option<String>,
    /// Status callbacks go here.
    pub status_callback: String,
    /// Ring timeout, seconds.
    pub timeout_secs: u32,
    /// Maximum call length, seconds.
    pub time_limit_secs: u32,
    /// Recording status callbacks go here when recording.
    pub recording_status_callback: Option<String>,
    /// AMD, asynchronous, with its callback.
    pub amd: Option<(AmdMode, String)>,
}

impl CreateCall {
    /// The form body, with repeated keys for list parameters.
    pub fn to_form(&self) -> Vec<(String, String)> {
        let mut f: Vec<(String, String)> = vec![
            ("To".into(), self.to.clone()),
            ("From".into(), self.from.clone()),
            ("Url".into(), self.url.clone()),
            ("Method".into(), "POST".into()),
            ("StatusCallback".into(), self.status_callback.clone()),
            ("StatusCallbackMethod".into(), "POST".into()),
            ("Timeout".into(), self.timeout_secs.to_string()),
            ("TimeLimit".into(), self.time_limit_secs.to_string()),
        ];
        for event in ["initiated", "ringing", "answered", "completed"] {
            f.push(("StatusCallbackEvent".into(), event.into()));
        }
        if let Some(fallback) = &self.fallback_url {
            f.push(("FallbackUrl".into(), fallback.clone()));
            f.push(("FallbackMethod".into(), "POST".into()));
        }
        if let Some(cb) = &self.recording_status_callback {
            f.push(("Record".into(), "true".into()));
            f.push(("RecordingChannels".into(), "dual".into()));
            f.push(("RecordingStatusCallback".into(), cb.clone()));
            f.push(("RecordingStatusCallbackMethod".into(), "POST".into()));
            for event in ["in-progress", "completed", "absent"] {
                f.push(("RecordingStatusCallbackEvent".into(), event.into()));
            }
        }
        if let Some((mode, cb)) = &self.amd {
            let mode = match mode {
                AmdMode::Enable => "Enable",
                AmdMode::DetectMessageEnd => "DetectMessageEnd",
            };
            f.push(("MachineDetection".into(), mode.into()));
            f.push(("AsyncAmd".into(), "true".into()));
            f.push(("AsyncAmdStatusCallback".into(), cb.clone()));
            f.push(("AsyncAmdStatusCallbackMethod".into(), "POST".into()));
            f.push(("MachineDetectionTimeout".into(), "20".into()));
        }
        f
    }
}

/// The call resource (§1.4), the fields we use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TwilioCall {
    /// CallSid.
    pub sid: String,
    /// Resource status (`queued`, `ringing`, `in-progress`, `completed`, ...).
    pub status: String,
    /// Seconds, as a string, once ended.
    #[serde(default)]
    pub duration: Option<String>,
    /// AMD result, if any.
    #[serde(default)]
    pub answered_by: Option<String>,
}

/// The recording resource (§1.6), the fields we use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TwilioRecording {
    /// RecordingSid.
    pub sid: String,
    /// The call.
    pub call_sid: String,
    /// Seconds, as a string.
    #[serde(default)]
    pub duration: Option<String>,
    /// `in-progress`, `completed`, `absent`, ...
    #[serde(default)]
    pub status: Option<String>,
    /// 1 or 2.
    #[serde(default)]
    pub channels: Option<u32>,
}

/// A Twilio failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TwilioError {
    /// Twilio answered with an error body (§1.8).
    #[error("Twilio error {code:?} (HTTP {status}): {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Twilio error code, e.g. 21211.
        code: Option<u32>,
        /// Twilio's message.
        message: String,
        /// Documentation link.
        more_info: Option<String>,
    },
    /// The request could not be sent (nothing happened at Twilio).
    #[error("cannot reach Twilio: {0}")]
    Transport(String),
    /// The request may or may not have been processed (timeout after sending a create).
    #[error("Twilio did not answer in time; the outcome is unknown: {0}")]
    OutcomeUnknown(String),
    /// Twilio answered 2xx with a body we could not read.
    #[error("unreadable Twilio response: {0}")]
    Decode(String),
}

impl TwilioError {
    /// Twilio's error code, if it gave one.
    pub fn code(&self) -> Option<u32> {
        match self {
            Self::Api { code, .. } => *code,
            _ => None,
        }
    }

    /// True when the account cannot pay for calls (campaigns pause on this).
    pub fn is_insufficient_balance(&self) -> bool {
        // 20003 is also "authentication error"; the message tells them apart.
        matches!(self, Self::Api { code: Some(21606 | 21608 | 20003), message, .. }
            if message.to_ascii_lowercase().contains("balance") || message.to_ascii_lowercase().contains("fund"))
    }

    /// True for 429 / 20429 (rate limited).
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, Self::Api { status: 429, .. } | Self::Api { code: Some(20429), .. })
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    code: Option<u32>,
    message: Option<String>,
    more_info: Option<String>,
}

/// Reads a Twilio error response.
pub(super) async fn api_error(resp: reqwest::Response) -> TwilioError {
    let status = resp.status().as_u16();
    let body = resp.bytes().await.unwrap_or_default();
    match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(b) => TwilioError::Api {
            status,
            code: b.code,
            message: b.message.unwrap_or_else(|| format!("HTTP {status}")),
            more_info: b.more_info,
        },
        Err(_) => TwilioError::Api { status, code: None, message: format!("HTTP {status}"), more_info: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_form_carries_callbacks_recording_and_amd() {
        let req = CreateCall {
            to: "+61491570101".into(),
            from: "+61298765432".into(),
            url: "https://app/outbound-call-twiml?call=1".into(),
            fallback_url: Some("https://app/fallback-twiml?call=1".into()),
            status_callback: "https://app/call-status-callback".into(),
            timeout_secs: 30,
            time_limit_secs: 600,
            recording_status_callback: Some("https://app/recording-status-callback".into()),
            amd: Some((AmdMode::DetectMessageEnd, "https://app/amd-status-callback".into())),
        };
        let form = req.to_form();
        let get = |k: &str| form.iter().filter(|(n, _)| n == k).map(|(_, v)| v.as_str()).collect::<Vec<_>>();
        assert_eq!(get("StatusCallbackEvent"), ["initiated", "ringing", "answered", "completed"]);
        assert_eq!(get("Record"), ["true"]);
        assert_eq!(get("MachineDetection"), ["DetectMessageEnd"]);
        assert_eq!(get("AsyncAmd"), ["true"]);
        assert_eq!(get("Timeout"), ["30"]);
        assert_eq!(get("TimeLimit"), ["600"]);
    }
}
