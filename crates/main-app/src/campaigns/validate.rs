//! Validation of a campaign's name, description and settings at the API boundary; the first
//! problem is reported naming its field (`settings.windows[0].end`, ...).

use serde::Deserialize;

use super::settings_model::{
    CampaignSettings, MAX_ATTEMPTS, MAX_CONCURRENT, MAX_CPS, MAX_DELAY_MINUTES, MIN_CPS, RetryRule,
};
use super::template;
use crate::contacts::tz;
use crate::contacts::validate::text;
use crate::error::ApiError;
use crate::settings::Settings;

/// `POST /api/campaigns` and `PUT /api/campaigns/{id}` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CampaignInput {
    /// Name (required).
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Settings (defaults for what is left out).
    #[serde(default)]
    pub settings: CampaignSettings,
}

/// A validated input.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidCampaign {
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Settings.
    pub settings: CampaignSettings,
}

fn rule(field: &str, r: &RetryRule) -> Result<(), ApiError> {
    if r.max_attempts == 0 || r.max_attempts > MAX_ATTEMPTS {
        return Err(ApiError::invalid(
            &format!("{field}.maxAttempts"),
            format!("between 1 and {MAX_ATTEMPTS}"),
        ));
    }
    if r.delay_minutes > MAX_DELAY_MINUTES {
        return Err(ApiError::invalid(
            &format!("{field}.delayMinutes"),
            format!("at most {MAX_DELAY_MINUTES}"),
        ));
    }
    Ok(())
}

fn template_field(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    let value = text(field, value, max)?;
    if let Some(t) = &value {
        template::variables(t).map_err(|e| ApiError::invalid(field, format!("{field}: {e}")))?;
    }
    Ok(value)
}

/// Checks settings against the deployment (caller ids, default AMD policy).
pub fn settings(mut s: CampaignSettings, cfg: &Settings) -> Result<CampaignSettings, ApiError> {
    s.prompt = template_field("settings.prompt", s.prompt, 20_000)?;
    s.first_message = template_field("settings.firstMessage", s.first_message, 2_000)?;
    s.language = text("settings.language", s.language, 16)?;
    if s.language.as_ref().is_some_and(|l| !l.chars().all(|c| c.is_ascii_alphabetic() || c == '-')) {
        return Err(ApiError::invalid("settings.language", "a language code like en or pt-BR"));
    }
    if let Some(id) = &s.caller_id
        && !cfg.allowed_caller_ids.contains(id)
    {
        return Err(ApiError::invalid("settings.callerId", "not one of the configured caller ids"));
    }
    if s.max_concurrent == 0 || s.max_concurrent > MAX_CONCURRENT {
        return Err(ApiError::invalid("settings.maxConcurrent", format!("between 1 and {MAX_CONCURRENT}")));
    }
    if !(MIN_CPS..=MAX_CPS).contains(&s.calls_per_second) {
        return Err(ApiError::invalid("settings.callsPerSecond", format!("between {MIN_CPS} and {MAX_CPS}")));
    }
    s.time_zone = tz::parse_zone(&s.time_zone)
        .map_err(|e| ApiError::invalid("settings.timeZone", e))?
        .name()
        .to_owned();
    for (i, w) in s.windows.iter().enumerate() {
        if w.days.is_empty() {
            return Err(ApiError::invalid(&format!("settings.windows[{i}].days"), "at least one day"));
        }
        if w.end <= w.start {
            return Err(ApiError::invalid(
                &format!("settings.windows[{i}].end"),
                "the end must be after the start",
            ));
        }
    }
    if s.windows.len() > 28 {
        return Err(ApiError::invalid("settings.windows", "at most 28 windows"));
    }
    rule("settings.retry.noAnswer", &s.retry.no_answer)?;
    rule("settings.retry.busy", &s.retry.busy)?;
    rule("settings.retry.failed", &s.retry.failed)?;
    rule("settings.retry.voicemail", &s.retry.voicemail)?;
    if let Some(p) = &s.amd_policy {
        p.validate().map_err(|e| ApiError::invalid("settings.amdPolicy", e))?;
    }
    if let (Some(start), Some(end)) = (s.start_at, s.end_at)
        && end <= start
    {
        return Err(ApiError::invalid("settings.endAt", "the end date must be after the start date"));
    }
    Ok(s)
}

/// Validates a whole input.
pub fn campaign(input: CampaignInput, cfg: &Settings) -> Result<ValidCampaign, ApiError> {
    let name = text("name", input.name, 200)?.ok_or_else(|| ApiError::invalid("name", "name is required"))?;
    Ok(ValidCampaign {
        name,
        description: text("description", input.description, 2_000)?,
        settings: settings(input.settings, cfg)?,
    })
}
