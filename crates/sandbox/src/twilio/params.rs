//! Form parameters of the Calls API (§1.3, §1.5), parsed and validated.
//!
//! Bodies are `application/x-www-form-urlencoded` with PascalCase names; list parameters come as
//! repeated keys, and `RecordingStatusCallbackEvent` may also be space-separated.

use super::error::TwilioError;
use crate::config::TwilioAccount;
use common::phone::PhoneNumber;

/// `GET` or `POST` for a callback or TwiML URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// Parameters in the query string, signature over the URL only.
    Get,
    /// Parameters in the form body (default).
    Post,
}

impl HttpMethod {
    fn parse(name: &'static str, v: Option<&str>) -> Result<Self, TwilioError> {
        match v.map(str::to_ascii_uppercase).as_deref() {
            None | Some("") | Some("POST") => Ok(Self::Post),
            Some("GET") => Ok(Self::Get),
            Some(other) => {
                Err(TwilioError::invalid_param(format!("{name} must be GET or POST, got {other}")))
            }
        }
    }

    /// `GET` / `POST`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// A URL with the method to request it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    /// Absolute http(s) URL, exactly as given (it is what gets signed).
    pub url: String,
    /// Method.
    pub method: HttpMethod,
}

/// Where a call's TwiML comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwimlSource {
    /// Fetched from a URL.
    Url(Hook),
    /// Given inline (`Twiml=`).
    Inline(String),
}

/// Answering-machine detection mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmdMode {
    /// Decide as soon as possible.
    Enable,
    /// Wait for the end of a machine greeting.
    DetectMessageEnd,
}

/// Validated create-call parameters.
#[derive(Debug, Clone)]
pub struct CreateCall {
    /// Callee.
    pub to: PhoneNumber,
    /// Caller id (owned by the account).
    pub from: PhoneNumber,
    /// TwiML source.
    pub twiml: TwimlSource,
    /// Fallback URL.
    pub fallback: Option<Hook>,
    /// Status callback.
    pub status_callback: Option<Hook>,
    /// Subscribed events (`initiated`, `ringing`, `answered`, `completed`); empty = `completed`.
    pub status_events: Vec<String>,
    /// Ring timeout in seconds.
    pub timeout_secs: u32,
    /// Maximum call length in seconds.
    pub time_limit_secs: u32,
    /// Whether to record.
    pub record: bool,
    /// `RecordingChannels`: 1 (`mono`, default) or 2 (`dual`).
    pub recording_channels: u16,
    /// Recording status callback.
    pub recording_callback: Option<Hook>,
    /// Recording events (`in-progress`, `completed`, `absent`); empty = `completed`.
    pub recording_events: Vec<String>,
    /// AMD mode.
    pub amd: Option<AmdMode>,
    /// `MachineDetectionTimeout` in seconds.
    pub amd_timeout_secs: u32,
    /// Whether AMD is asynchronous.
    pub async_amd: bool,
    /// AMD result callback.
    pub amd_callback: Option<Hook>,
}

/// Parameters as decoded from the body.
pub type Form = Vec<(String, String)>;

fn first<'a>(form: &'a Form, name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn all(form: &Form, name: &str) -> Vec<String> {
    form.iter()
        .filter(|(k, _)| k == name)
        .flat_map(|(_, v)| v.split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_owned))
        .collect()
}

/// Parses an absolute http(s) URL parameter; `None` when absent or empty.
pub fn hook(form: &Form, name: &'static str, method: &'static str) -> Result<Option<Hook>, TwilioError> {
    let Some(url) = first(form, name).filter(|u| !u.is_empty()) else { return Ok(None) };
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
        _ => return Err(TwilioError::invalid_url(&format!("{name} is not a valid URL: {url}"))),
    }
    Ok(Some(Hook { url: url.to_owned(), method: HttpMethod::parse(method, first(form, method))? }))
}

fn number(form: &Form, name: &str, default: u32, max: u32) -> Result<u32, TwilioError> {
    match first(form, name).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<u32>() {
            Ok(n) => Ok(n.clamp(1, max)),
            Err(_) => Err(TwilioError::invalid_param(format!("{name} must be a number, got {v}"))),
        },
    }
}

fn boolean(form: &Form, name: &str) -> bool {
    first(form, name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn check_events(name: &str, events: &[String], allowed: &[&str]) -> Result<(), TwilioError> {
    match events.iter().find(|e| !allowed.contains(&e.as_str())) {
        Some(bad) => Err(TwilioError::invalid_param(format!("{name} has an invalid value: {bad}"))),
        None => Ok(()),
    }
}

impl CreateCall {
    /// Validates a create request for `account`.
    pub fn parse(form: &Form, account: &TwilioAccount) -> Result<Self, TwilioError> {
        let to_raw = first(form, "To").filter(|v| !v.is_empty()).ok_or_else(TwilioError::missing_to)?;
        let to = PhoneNumber::parse_e164(to_raw.trim()).map_err(|_| TwilioError::invalid_to(to_raw))?;
        let from_raw = first(form, "From").filter(|v| !v.is_empty()).ok_or_else(TwilioError::missing_from)?;
        let from = PhoneNumber::parse_e164(from_raw.trim())
            .ok()
            .filter(|f| account.numbers.contains(f))
            .ok_or_else(|| TwilioError::from_not_owned(from_raw))?;
        let twiml = match (hook(form, "Url", "Method")?, first(form, "Twiml").filter(|t| !t.is_empty())) {
            (Some(h), _) => TwimlSource::Url(h),
            (None, Some(t)) if t.chars().count() > 4000 => {
                return Err(TwilioError::invalid_param("Twiml exceeds 4000 characters"));
            }
            (None, Some(t)) => TwimlSource::Inline(t.to_owned()),
            (None, None) if first(form, "ApplicationSid").is_some() => {
                return Err(TwilioError::invalid_param("ApplicationSid is not supported by the sandbox"));
            }
            (None, None) => return Err(TwilioError::invalid_url("Url parameter is required")),
        };
        let status_events = all(form, "StatusCallbackEvent");
        check_events(
            "StatusCallbackEvent",
            &status_events,
            &["initiated", "ringing", "answered", "completed"],
        )?;
        let recording_events = all(form, "RecordingStatusCallbackEvent");
        check_events(
            "RecordingStatusCallbackEvent",
            &recording_events,
            &["in-progress", "completed", "absent"],
        )?;
        let amd = match first(form, "MachineDetection").filter(|v| !v.is_empty()) {
            None => None,
            Some("Enable") => Some(AmdMode::Enable),
            Some("DetectMessageEnd") => Some(AmdMode::DetectMessageEnd),
            Some(other) => {
                return Err(TwilioError::invalid_param(format!("Invalid MachineDetection: {other}")));
            }
        };
        Ok(Self {
            to,
            from,
            twiml,
            fallback: hook(form, "FallbackUrl", "FallbackMethod")?,
            status_callback: hook(form, "StatusCallback", "StatusCallbackMethod")?,
            status_events,
            timeout_secs: number(form, "Timeout", 60, 600)?,
            time_limit_secs: number(form, "TimeLimit", 4 * 3600, 24 * 3600)?,
            record: boolean(form, "Record"),
            recording_channels: match first(form, "RecordingChannels").filter(|v| !v.is_empty()) {
                None | Some("mono") => 1,
                Some("dual") => 2,
                Some(other) => {
                    return Err(TwilioError::invalid_param(format!("Invalid RecordingChannels: {other}")));
                }
            },
            recording_callback: hook(form, "RecordingStatusCallback", "RecordingStatusCallbackMethod")?,
            recording_events,
            amd,
            amd_timeout_secs: number(form, "MachineDetectionTimeout", 30, 120)?,
            async_amd: boolean(form, "AsyncAmd"),
            amd_callback: hook(form, "AsyncAmdStatusCallback", "AsyncAmdStatusCallbackMethod")?,
        })
    }

    /// Whether a status callback event (`initiated`, …, `completed`) is subscribed.
    pub fn wants_status(&self, event: &str) -> bool {
        self.status_callback.is_some()
            && if self.status_events.is_empty() {
                event == "completed"
            } else {
                self.status_events.iter().any(|e| e == event)
            }
    }

    /// Whether a recording callback event is subscribed.
    pub fn wants_recording(&self, event: &str) -> bool {
        self.recording_callback.is_some()
            && if self.recording_events.is_empty() {
                event == "completed"
            } else {
                self.recording_events.iter().any(|e| e == event)
            }
    }
}

/// What a REST update asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// `Status=completed` or `Status=canceled`.
    End {
        /// `true` for `canceled`.
        cancel: bool,
    },
    /// New `Url` or `Twiml` (and optionally a new status callback is ignored).
    Redirect(TwimlSource),
}

impl Update {
    /// Validates an update request.
    pub fn parse(form: &Form) -> Result<Self, TwilioError> {
        let redirect = match (hook(form, "Url", "Method")?, first(form, "Twiml").filter(|t| !t.is_empty())) {
            (Some(_), Some(_)) => {
                return Err(TwilioError::invalid_param("Url and Twiml are mutually exclusive"));
            }
            (Some(h), None) => Some(TwimlSource::Url(h)),
            (None, Some(t)) => Some(TwimlSource::Inline(t.to_owned())),
            (None, None) => None,
        };
        match (first(form, "Status"), redirect) {
            (Some("completed"), _) => Ok(Self::End { cancel: false }),
            (Some("canceled"), _) => Ok(Self::End { cancel: true }),
            (Some(other), _) => Err(TwilioError::invalid_param(format!("Invalid Status: {other}"))),
            (None, Some(r)) => Ok(Self::Redirect(r)),
            (None, None) => Err(TwilioError::invalid_param("Nothing to update: give Status, Url or Twiml")),
        }
    }
}

#[cfg(test)]
mod tests;
