//! Validation of a call request at the boundary: every field is checked and normalised here, and
//! the first problem is reported naming its field.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

use super::service::NewCall;
use crate::error::ApiError;
use crate::settings::Settings;
use common::ids::{CampaignId, ContactId};
use common::phone::{PhoneError, PhoneNumber};

/// `POST /api/calls` body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallRequest {
    /// Number to call (E.164, or national in the default region).
    pub to: Option<String>,
    /// Contact name.
    pub name: Option<String>,
    /// Prompt override.
    pub prompt: Option<String>,
    /// First message override.
    pub first_message: Option<String>,
    /// Language override (`en`, `de`, ...).
    pub language: Option<String>,
    /// Caller id; must be configured in `ALLOWED_CALLER_IDS`.
    pub caller_id: Option<String>,
    /// Contact reference.
    pub contact_id: Option<String>,
    /// Campaign reference.
    pub campaign_id: Option<String>,
    /// Extra variables for the agent (string, number or boolean values).
    pub dynamic_variables: Option<BTreeMap<String, Value>>,
    /// Answering-machine policy (default: `AMD_ON_MACHINE` / `AMD_VOICEMAIL_MESSAGE` /
    /// `AMD_UNKNOWN_AS`).
    pub amd_policy: Option<crate::amd::AmdPolicy>,
}

const MAX_NAME: usize = 200;
const MAX_PROMPT: usize = 20_000;
const MAX_FIRST_MESSAGE: usize = 2_000;
const MAX_VARIABLES: usize = 50;
const MAX_VARIABLE_VALUE: usize = 2_000;

fn text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    match value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        Some(v) if v.chars().count() > max => {
            Err(ApiError::invalid(field, format!("{field} is longer than {max} characters")))
        }
        other => Ok(other),
    }
}

/// Parses a number to dial, with the reason it cannot be dialled.
pub fn phone(field: &str, raw: &str, settings: &Settings) -> Result<PhoneNumber, ApiError> {
    PhoneNumber::parse(raw, settings.region()).map_err(|e| {
        let why = match e {
            PhoneError::NoRegion => {
                "has no country code (+…) and no DEFAULT_PHONE_REGION is configured".to_owned()
            }
            other => other.to_string(),
        };
        ApiError::invalid(field, format!("{field} {raw:?} is not a valid phone number: {why}"))
    })
}

fn variables(raw: Option<BTreeMap<String, Value>>) -> Result<BTreeMap<String, Value>, ApiError> {
    let vars = raw.unwrap_or_default();
    if vars.len() > MAX_VARIABLES {
        return Err(ApiError::invalid("dynamicVariables", format!("at most {MAX_VARIABLES} variables")));
    }
    for (key, value) in &vars {
        let valid_key = !key.is_empty()
            && key.len() <= 64
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !key.starts_with("system__");
        if !valid_key {
            return Err(ApiError::invalid(
                "dynamicVariables",
                format!(
                    "variable name {key:?} must be letters, digits or _, up to 64, not starting with system__"
                ),
            ));
        }
        let ok = match value {
            Value::String(s) => s.chars().count() <= MAX_VARIABLE_VALUE,
            Value::Number(_) | Value::Bool(_) => true,
            _ => false,
        };
        if !ok {
            return Err(ApiError::invalid(
                "dynamicVariables",
                format!(
                    "variable {key:?} must be a string (up to {MAX_VARIABLE_VALUE} characters), number or boolean"
                ),
            ));
        }
    }
    Ok(vars)
}

/// Validates a request into a [`NewCall`].
pub fn new_call(
    req: CallRequest,
    idempotency_key: Option<String>,
    settings: &Settings,
) -> Result<NewCall, ApiError> {
    let to_raw =
        req.to.filter(|t| !t.trim().is_empty()).ok_or_else(|| ApiError::invalid("to", "to is required"))?;
    let to = phone("to", &to_raw, settings)?;
    let from = match req.caller_id.filter(|c| !c.trim().is_empty()) {
        None => None,
        Some(raw) => {
            let number = phone("callerId", &raw, settings)?;
            if !settings.allowed_caller_ids.contains(&number) {
                return Err(ApiError::invalid(
                    "callerId",
                    "callerId is not one of the configured caller ids",
                ));
            }
            Some(number)
        }
    };
    let contact_id = match req.contact_id.filter(|c| !c.is_empty()) {
        Some(c) => Some(
            ContactId::parse(&c)
                .map_err(|_| ApiError::invalid("contactId", "contactId is not a valid id"))?,
        ),
        None => None,
    };
    let campaign_id = match req.campaign_id.filter(|c| !c.is_empty()) {
        Some(c) => Some(
            CampaignId::parse(&c)
                .map_err(|_| ApiError::invalid("campaignId", "campaignId is not a valid id"))?,
        ),
        None => None,
    };
    let language = text("language", req.language, 16)?;
    if language.as_ref().is_some_and(|l| !l.chars().all(|c| c.is_ascii_alphabetic() || c == '-')) {
        return Err(ApiError::invalid("language", "language must be a code like en or pt-BR"));
    }
    let amd_policy = req.amd_policy.unwrap_or_else(|| settings.post_call.amd_policy.clone());
    amd_policy.validate().map_err(|e| ApiError::invalid("amdPolicy", e))?;
    if idempotency_key.as_ref().is_some_and(|k| k.len() > 200 || k.chars().any(|c| c.is_control())) {
        return Err(ApiError::bad_request("Idempotency-Key must be at most 200 printable characters"));
    }
    Ok(NewCall {
        to: Some(to),
        from,
        name: text("name", req.name, MAX_NAME)?,
        prompt: text("prompt", req.prompt, MAX_PROMPT)?,
        first_message: text("firstMessage", req.first_message, MAX_FIRST_MESSAGE)?,
        language,
        dynamic_variables: variables(req.dynamic_variables)?,
        contact_id,
        campaign_id,
        idempotency_key,
        amd: settings.calls.amd.then_some(amd_policy.detection_mode()),
        amd_policy: Some(amd_policy),
    })
}
