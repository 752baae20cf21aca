//! Typed settings, read once from the environment (and `.env` when present) at start-up.
//!
//! Every problem is collected and reported together, naming each variable, so an operator fixes
//! a deployment in one pass. Secrets are [`SecretString`]s: `Debug` prints `[REDACTED]`.
//! `.env.example` documents every variable; the replaced system's names are kept where they exist.

use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use common::phone::PhoneNumber;

/// All of main-app's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `PORT`: HTTP port (default 8000).
    pub port: u16,
    /// `SERVER_URL`: public base URL Twilio uses to reach us (no trailing slash). Signatures are
    /// checked against URLs built from it.
    pub server_url: String,
    /// `MEDIA_PROXY_URL`: public `wss://` (or `ws://` locally) base URL of media-proxy.
    pub media_proxy_url: String,
    /// Twilio account and API location.
    pub twilio: TwilioSettings,
    /// ElevenLabs account and API location.
    pub elevenlabs: ElevenLabsSettings,
    /// `MONGODB_URI`: when set, MongoDB is the store; otherwise the embedded store under `DATA_DIR`.
    pub mongodb_uri: Option<SecretString>,
    /// `MONGODB_DATABASE`: database name (default `voice_platform`).
    pub mongodb_database: String,
    /// `DATA_DIR`: directory of the embedded store (default `./data`).
    pub data_dir: PathBuf,
    /// `STREAM_TOKEN_SECRET`: HMAC key shared with media-proxy (at least 32 characters).
    pub stream_token_secret: SecretString,
    /// `STREAM_TOKEN_TTL_SECS`: lifetime of a stream token (default 120).
    pub stream_token_ttl: Duration,
    /// Who may use the API and the dashboard.
    pub auth: AuthSettings,
    /// `ALLOWED_CALLER_IDS`: numbers a call may present (comma-separated E.164; default
    /// `TWILIO_PHONE_NUMBER`). Anything else is refused, so a stolen key cannot spoof ids.
    pub allowed_caller_ids: Vec<PhoneNumber>,
    /// `DEFAULT_PHONE_REGION`: ISO region for national-format numbers (e.g. `AU`, `US`).
    pub default_region: Option<String>,
    /// `CRM_WEBHOOK_URL`: where call summaries are delivered, if anywhere.
    pub crm_webhook_url: Option<String>,
    /// `CRM_WEBHOOK_SECRET`: HMAC key for the CRM delivery signature header, if any.
    pub crm_webhook_secret: Option<SecretString>,
    /// `CORS_ALLOWED_ORIGINS`: extra origins allowed to call the API (comma-separated);
    /// empty means same-origin only.
    pub cors_allowed_origins: Vec<String>,
    /// `DASHBOARD_DIR`: the built dashboard (default `frontend/out`).
    pub dashboard_dir: PathBuf,
    /// Call defaults.
    pub calls: CallDefaults,
    /// Live events and post-call processing (AMD policy, CRM outbox, webhook tolerance, ...).
    pub post_call: crate::post_call::settings::PostCallSettings,
    /// The campaign engine and contact imports.
    pub campaigns: crate::campaigns::settings::CampaignSettings,
}

/// Twilio settings.
#[derive(Debug, Clone)]
pub struct TwilioSettings {
    /// `TWILIO_ACCOUNT_SID`.
    pub account_sid: String,
    /// `TWILIO_AUTH_TOKEN`: Basic-auth password and webhook signing key.
    pub auth_token: SecretString,
    /// `TWILIO_PHONE_NUMBER`: default caller id.
    pub phone_number: PhoneNumber,
    /// `TWILIO_API_BASE`: default `https://api.twilio.com`; tests point it at the sandbox.
    pub api_base: String,
}

/// ElevenLabs settings.
#[derive(Debug, Clone)]
pub struct ElevenLabsSettings {
    /// `ELEVENLABS_API_KEY`.
    pub api_key: SecretString,
    /// `ELEVENLABS_AGENT_ID`.
    pub agent_id: String,
    /// `ELEVENLABS_WEBHOOK_SECRET`: HMAC key of post-call webhooks. Unset: webhooks are refused.
    pub webhook_secret: Option<SecretString>,
    /// `ELEVENLABS_API_BASE`: default `https://api.elevenlabs.io`.
    pub api_base: String,
}

/// Authentication settings.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `API_KEY`: bearer token for machine clients and media-proxy's context fetches.
    pub api_key: Option<SecretString>,
    /// `DASHBOARD_USERNAME` (default `admin`).
    pub dashboard_username: String,
    /// `DASHBOARD_PASSWORD`: plain password, hashed with Argon2 at start-up and then forgotten;
    /// or `DASHBOARD_PASSWORD_HASH`: a PHC Argon2 hash.
    pub dashboard_password: Option<DashboardPassword>,
    /// `SESSION_TTL_HOURS` (default 12).
    pub session_ttl: Duration,
    /// `COOKIE_SECURE` (default: true when `SERVER_URL` is https).
    pub cookie_secure: bool,
}

/// How the dashboard password was given.
#[derive(Debug, Clone)]
pub enum DashboardPassword {
    /// Plain text from `DASHBOARD_PASSWORD` (hashed before use).
    Plain(SecretString),
    /// A PHC string from `DASHBOARD_PASSWORD_HASH`.
    Hash(String),
}

/// Defaults applied to every call.
#[derive(Debug, Clone)]
pub struct CallDefaults {
    /// `CALL_RING_TIMEOUT_SECS`: Twilio `Timeout` (default 60).
    pub ring_timeout_secs: u32,
    /// `CALL_TIME_LIMIT_SECS`: Twilio `TimeLimit` (default 600).
    pub time_limit_secs: u32,
    /// `CALL_RECORDING`: record calls (default true).
    pub record: bool,
    /// `AMD_ENABLED`: async answering-machine detection (default true).
    pub amd: bool,
}

/// A settings problem, naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n{}", .problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct SettingsError {
    /// One line per problem.
    pub problems: Vec<String>,
}

/// Reads variables, collecting problems.
pub struct Env<'a> {
    vars: &'a HashMap<String, String>,
    /// Problems so far.
    pub problems: Vec<String>,
}

impl<'a> Env<'a> {
    /// Wraps a variable map.
    pub fn new(vars: &'a HashMap<String, String>) -> Self {
        Self { vars, problems: Vec::new() }
    }

    /// A non-empty value, if set.
    pub fn optional(&self, name: &str) -> Option<String> {
        self.vars.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// A required value; records a problem when missing.
    pub fn required(&mut self, name: &str, what: &str) -> String {
        self.optional(name).unwrap_or_else(|| {
            self.problems.push(format!("{name} is missing ({what})"));
            String::new()
        })
    }

    /// A parsed value with a default.
    pub fn parsed<T: std::str::FromStr>(&mut self, name: &str, default: T) -> T {
        match self.optional(name) {
            None => default,
            Some(v) => v.parse().unwrap_or_else(|_| {
                self.problems.push(format!("{name} is malformed: {v:?}"));
                default
            }),
        }
    }

    /// A boolean (`true/false/1/0/yes/no`) with a default.
    pub fn flag(&mut self, name: &str, default: bool) -> bool {
        match self.optional(name).map(|v| v.to_ascii_lowercase()) {
            None => default,
            Some(v) if matches!(v.as_str(), "true" | "1" | "yes" | "on") => true,
            Some(v) if matches!(v.as_str(), "false" | "0" | "no" | "off") => false,
            Some(v) => {
                self.problems.push(format!("{name} must be true or false, got {v:?}"));
                default
            }
        }
    }

    /// An absolute http(s)/ws(s) URL without a trailing slash.
    pub fn url(&mut self, name: &str, default: Option<&str>, schemes: &[&str]) -> String {
        let Some(v) = self.optional(name).or_else(|| default.map(str::to_owned)) else {
            self.problems.push(format!("{name} is missing"));
            return String::new();
        };
        match url::Url::parse(&v) {
            Ok(u) if schemes.contains(&u.scheme()) && u.host().is_some() => {
                v.trim_end_matches('/').to_owned()
            }
            _ => {
                self.problems
                    .push(format!("{name} must be an absolute {} URL, got {v:?}", schemes.join("/")));
                String::new()
            }
        }
    }

    /// A comma-separated list.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.optional(name)
            .map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    }

    /// An E.164 number; records a problem when malformed.
    pub fn phone(&mut self, name: &str, value: &str) -> Option<PhoneNumber> {
        match PhoneNumber::parse_e164(value) {
            Ok(p) => Some(p),
            Err(e) => {
                self.problems
                    .push(format!("{name} must be an E.164 number like +14155550100 ({e}): {value:?}"));
                None
            }
        }
    }
}

impl Settings {
    /// Loads `.env` (if present) and the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        // A missing .env is normal; a malformed one is reported by from_vars' checks.
        let _ = dotenvy::dotenv();
        Self::from_vars(&std::env::vars().collect())
    }

    /// Parses settings from a variable map (tests pass their own).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let mut env = Env::new(vars);
        let port: u16 = env.parsed("PORT", 8000);
        let server_url = env.url("SERVER_URL", None, &["http", "https"]);
        let media_proxy_url = env.url("MEDIA_PROXY_URL", None, &["ws", "wss"]);

        let account_sid = env.required("TWILIO_ACCOUNT_SID", "Twilio account SID, AC…");
        if !account_sid.is_empty() && common::ids::AccountSid::parse(&account_sid).is_err() {
            env.problems.push("TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits".into());
        }
        let auth_token = env.required("TWILIO_AUTH_TOKEN", "Twilio auth token");
        let phone_raw = env.required("TWILIO_PHONE_NUMBER", "default caller id, E.164");
        let phone_number =
            if phone_raw.is_empty() { None } else { env.phone("TWILIO_PHONE_NUMBER", &phone_raw) };
        let twilio_api_base = env.url("TWILIO_API_BASE", Some("https://api.twilio.com"), &["http", "https"]);

        let el_key = env.required("ELEVENLABS_API_KEY", "ElevenLabs API key");
        let agent_id = env.required("ELEVENLABS_AGENT_ID", "ElevenLabs agent id");
        let webhook_secret = env.optional("ELEVENLABS_WEBHOOK_SECRET").map(SecretString::from);
        let el_api_base =
            env.url("ELEVENLABS_API_BASE", Some("https://api.elevenlabs.io"), &["http", "https"]);

        let stream_secret = env.required("STREAM_TOKEN_SECRET", "random secret shared with media-proxy");
        if !stream_secret.is_empty() && stream_secret.len() < 32 {
            env.problems.push("STREAM_TOKEN_SECRET must be at least 32 characters".into());
        }
        let ttl: u64 = env.parsed("STREAM_TOKEN_TTL_SECS", 120);

        let api_key = env.optional("API_KEY").map(SecretString::from);
        if api_key.as_ref().is_some_and(|k| k.expose_secret().len() < 16) {
            env.problems.push("API_KEY must be at least 16 characters".into());
        }
        let dashboard_password =
            match (env.optional("DASHBOARD_PASSWORD_HASH"), env.optional("DASHBOARD_PASSWORD")) {
                (Some(hash), _) => Some(DashboardPassword::Hash(hash)),
                (None, Some(plain)) => Some(DashboardPassword::Plain(SecretString::from(plain))),
                (None, None) => None,
            };
        if api_key.is_none() && dashboard_password.is_none() {
            env.problems.push(
                "set API_KEY and/or DASHBOARD_PASSWORD (or DASHBOARD_PASSWORD_HASH): nobody could log in"
                    .into(),
            );
        }
        let session_hours: u64 = env.parsed("SESSION_TTL_HOURS", 12);
        let cookie_secure = env.flag("COOKIE_SECURE", server_url.starts_with("https://"));

        let mut allowed_caller_ids = Vec::new();
        for raw in env.list("ALLOWED_CALLER_IDS") {
            if let Some(p) = env.phone("ALLOWED_CALLER_IDS", &raw) {
                allowed_caller_ids.push(p);
            }
        }
        if let Some(p) = &phone_number
            && !allowed_caller_ids.contains(p)
        {
            allowed_caller_ids.insert(0, p.clone());
        }
        let default_region = env.optional("DEFAULT_PHONE_REGION");
        if let Some(r) = &default_region
            && common::phone::parse_region(r).is_err()
        {
            env.problems
                .push(format!("DEFAULT_PHONE_REGION must be an ISO region code like AU or US, got {r:?}"));
        }
        let crm_webhook_url = env.optional("CRM_WEBHOOK_URL");
        if crm_webhook_url.is_some() {
            env.url("CRM_WEBHOOK_URL", None, &["http", "https"]);
        }
        let post_call = crate::post_call::settings::parse(&mut env);
        let campaigns = crate::campaigns::settings::parse(&mut env);
        let settings = Settings {
            port,
            server_url,
            media_proxy_url,
            twilio: TwilioSettings {
                account_sid,
                auth_token: SecretString::from(auth_token),
                phone_number: phone_number
                    .unwrap_or_else(|| PhoneNumber::parse_e164("+14155552671").expect("valid")),
                api_base: twilio_api_base,
            },
            elevenlabs: ElevenLabsSettings {
                api_key: SecretString::from(el_key),
                agent_id,
                webhook_secret,
                api_base: el_api_base,
            },
            mongodb_uri: env.optional("MONGODB_URI").map(SecretString::from),
            mongodb_database: env.optional("MONGODB_DATABASE").unwrap_or_else(|| "voice_platform".into()),
            data_dir: PathBuf::from(env.optional("DATA_DIR").unwrap_or_else(|| "./data".into())),
            stream_token_secret: SecretString::from(stream_secret),
            stream_token_ttl: Duration::from_secs(ttl),
            auth: AuthSettings {
                api_key,
                dashboard_username: env.optional("DASHBOARD_USERNAME").unwrap_or_else(|| "admin".into()),
                dashboard_password,
                session_ttl: Duration::from_secs(session_hours * 3600),
                cookie_secure,
            },
            allowed_caller_ids,
            default_region,
            crm_webhook_url,
            crm_webhook_secret: env.optional("CRM_WEBHOOK_SECRET").map(SecretString::from),
            cors_allowed_origins: env.list("CORS_ALLOWED_ORIGINS"),
            dashboard_dir: PathBuf::from(
                env.optional("DASHBOARD_DIR").unwrap_or_else(|| "frontend/out".into()),
            ),
            calls: CallDefaults {
                ring_timeout_secs: env.parsed("CALL_RING_TIMEOUT_SECS", 60),
                time_limit_secs: env.parsed("CALL_TIME_LIMIT_SECS", 600),
                record: env.flag("CALL_RECORDING", true),
                amd: env.flag("AMD_ENABLED", true),
            },
            post_call,
            campaigns,
        };
        if env.problems.is_empty() { Ok(settings) } else { Err(SettingsError { problems: env.problems }) }
    }

    /// The default region as a `phonenumber` id.
    pub fn region(&self) -> Option<phonenumber::country::Id> {
        self.default_region.as_deref().and_then(|r| common::phone::parse_region(r).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn minimal() -> HashMap<String, String> {
        [
            ("SERVER_URL", "https://app.example.com"),
            ("MEDIA_PROXY_URL", "wss://media.example.com"),
            ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
            ("TWILIO_AUTH_TOKEN", "tok-secret-value"),
            ("TWILIO_PHONE_NUMBER", "+61298765432"),
            ("ELEVENLABS_API_KEY", "xi-secret-value"),
            ("ELEVENLABS_AGENT_ID", "agent_1"),
            ("STREAM_TOKEN_SECRET", "stream-secret-stream-secret-stream-secret"),
            ("API_KEY", "key-0123456789abcdef"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn minimal_configuration_parses_with_defaults() {
        let s = Settings::from_vars(&minimal()).expect("valid");
        assert_eq!(s.port, 8000);
        assert_eq!(s.twilio.api_base, "https://api.twilio.com");
        assert_eq!(s.allowed_caller_ids[0].as_str(), "+61298765432");
        assert!(s.auth.cookie_secure);
    }

    #[test]
    fn every_problem_is_named() {
        let mut vars = minimal();
        vars.remove("TWILIO_AUTH_TOKEN");
        vars.insert("PORT".into(), "eighty".into());
        vars.insert("TWILIO_PHONE_NUMBER".into(), "0298765432".into());
        vars.insert("MEDIA_PROXY_URL".into(), "http://media".into());
        let err = Settings::from_vars(&vars).expect_err("invalid").to_string();
        for name in ["TWILIO_AUTH_TOKEN", "PORT", "TWILIO_PHONE_NUMBER", "MEDIA_PROXY_URL"] {
            assert!(err.contains(name), "{name} not named in: {err}");
        }
    }

    #[test]
    fn secrets_never_appear_in_debug_output() {
        let s = Settings::from_vars(&minimal()).expect("valid");
        let debug = format!("{s:?}");
        for secret in
            ["tok-secret-value", "xi-secret-value", "stream-secret-stream-secret", "key-0123456789abcdef"]
        {
            assert!(!debug.contains(secret), "secret leaked in Debug: {secret}");
        }
    }
}
