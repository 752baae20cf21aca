//! Typed settings, read once from the environment at start-up.
//!
//! Every problem is collected and reported together, naming each variable, so a deployment is
//! fixed in one pass. Secrets are [`SecretString`]s (`Debug` prints `[REDACTED]`). `.env.example`
//! (section `# media-proxy`) documents every variable.

use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::time::Duration;

/// All of media-proxy's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `MEDIA_PROXY_PORT`, else `PORT`: listening port (default 8001). The first name lets one
    /// shared `.env` configure both binaries.
    pub port: u16,
    /// `MAIN_APP_URL`: internal base URL of main-app, for call context and events
    /// (default `http://127.0.0.1:8000`, no trailing slash).
    pub main_app_url: String,
    /// `ELEVENLABS_API_KEY`: sent as `xi-api-key` when fetching a signed URL.
    pub elevenlabs_api_key: SecretString,
    /// `ELEVENLABS_AGENT_ID`: the agent every call talks to.
    pub elevenlabs_agent_id: String,
    /// `ELEVENLABS_API_BASE`: default `https://api.elevenlabs.io`; tests point it at a simulator.
    pub elevenlabs_api_base: String,
    /// `STREAM_TOKEN_SECRET`: HMAC key shared with main-app (at least 32 characters); verifies
    /// stream tokens and signs event batches.
    pub stream_token_secret: SecretString,
    /// `MEDIA_PROXY_INSTANCE_ID`: name of this instance in event batches (default: random).
    pub instance_id: String,
    /// Limits and deadlines.
    pub limits: Limits,
    /// Per-call timing of the bridge itself.
    pub bridge: BridgeTiming,
}

/// Bounds on what one instance and one call may consume, and deadlines on every wait.
#[derive(Debug, Clone)]
pub struct Limits {
    /// `MAX_CONCURRENT_CALLS` (default 2000): streams beyond it are refused with 503.
    pub max_concurrent_calls: usize,
    /// `MAX_MESSAGE_BYTES` (default 262144): largest WebSocket message accepted on either socket.
    pub max_message_bytes: usize,
    /// `CONNECT_TIMEOUT_MS` (default 5000): TCP/TLS connect and WebSocket handshake to the agent,
    /// and connect to main-app / the signed-URL endpoint.
    pub connect_timeout: Duration,
    /// `REQUEST_TIMEOUT_MS` (default 5000): whole HTTP request (context, signed URL, events).
    pub request_timeout: Duration,
    /// `START_TIMEOUT_MS` (default 10000): from the WebSocket upgrade to Twilio's `start`.
    pub start_timeout: Duration,
    /// `AGENT_METADATA_TIMEOUT_MS` (default 5000): from the agent handshake to its
    /// `conversation_initiation_metadata`.
    pub metadata_timeout: Duration,
    /// `AGENT_IDLE_TIMEOUT_SECS` (default 90): no message at all from the agent (it pings
    /// regularly) ends the call as an agent error.
    pub agent_idle_timeout: Duration,
    /// `WRITE_TIMEOUT_MS` (default 5000): a socket that cannot take a message for this long is
    /// treated as dead.
    pub write_timeout: Duration,
    /// `INACTIVITY_TIMEOUT_SECS` (default 30): no media from Twilio for this long ends the call.
    pub inactivity_timeout: Duration,
    /// `MAX_CALL_DURATION_SECS` (default 3600): hard cap on one call (a call's context may lower it).
    pub max_call_duration: Duration,
    /// `DRAIN_TIMEOUT_SECS` (default 60): on SIGTERM, how long live calls may continue.
    pub drain_timeout: Duration,
    /// `EVENT_QUEUE_CAPACITY` (default 10000): events waiting for main-app; more are dropped
    /// and counted.
    pub event_queue_capacity: usize,
}

/// Timing of the bridge's own behaviour.
#[derive(Debug, Clone)]
pub struct BridgeTiming {
    /// `EARLY_AUDIO_BUFFER_MS` (default 2000): caller audio kept while the agent connects.
    pub early_audio_buffer: Duration,
    /// `GOODBYE_DRAIN_MAX_MS` (default 5000): after the agent ends, how long to wait for its last
    /// audio to play (the final mark's echo) before hanging up.
    pub goodbye_drain_max: Duration,
    /// `MARK_INTERVAL_MS` (default 200): a Twilio mark is sent after at most this much agent audio,
    /// and at the end of every burst; marks tell what the caller actually heard.
    pub mark_interval: Duration,
}

/// A settings problem, naming the variable(s).
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n{}", .problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct SettingsError {
    /// One line per problem.
    pub problems: Vec<String>,
}

/// Reads variables from a map, collecting problems.
struct Env<'a> {
    vars: &'a HashMap<String, String>,
    problems: Vec<String>,
}

impl Env<'_> {
    fn optional(&self, name: &str) -> Option<String> {
        self.vars.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    fn required(&mut self, name: &str, what: &str) -> String {
        self.optional(name).unwrap_or_else(|| {
            self.problems.push(format!("{name} is required ({what})"));
            String::new()
        })
    }

    fn number<T>(&mut self, name: &str, default: T, min: T) -> T
    where
        T: std::str::FromStr + Copy + PartialOrd + std::fmt::Display,
    {
        match self.optional(name) {
            None => default,
            Some(raw) => match raw.parse::<T>() {
                Ok(v) if v >= min => v,
                _ => {
                    self.problems.push(format!("{name} must be a number ≥ {min}, got {raw:?}"));
                    default
                }
            },
        }
    }

    fn millis(&mut self, name: &str, default: u64, min: u64) -> Duration {
        Duration::from_millis(self.number(name, default, min))
    }

    fn secs(&mut self, name: &str, default: u64, min: u64) -> Duration {
        Duration::from_secs(self.number(name, default, min))
    }

    fn base_url(&mut self, name: &str, default: &str, schemes: &[&str]) -> String {
        let raw = self.optional(name).unwrap_or_else(|| default.to_owned());
        match url::Url::parse(&raw) {
            Ok(u) if schemes.contains(&u.scheme()) && u.host().is_some() => {
                raw.trim_end_matches('/').to_owned()
            }
            _ => {
                self.problems
                    .push(format!("{name} must be an absolute {} URL, got {raw:?}", schemes.join("/")));
                String::new()
            }
        }
    }
}

impl Settings {
    /// Reads the process environment (after loading `.env` if present).
    pub fn from_env() -> Result<Self, SettingsError> {
        // A missing .env file is the normal case in production: ignoring is safe.
        let _ = dotenvy::dotenv();
        Self::from_map(&std::env::vars().collect())
    }

    /// Parses settings from a variable map (tests pass their own).
    pub fn from_map(vars: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let mut env = Env { vars, problems: Vec::new() };
        let port = if env.optional("MEDIA_PROXY_PORT").is_some() {
            env.number("MEDIA_PROXY_PORT", 8001u16, 0)
        } else {
            env.number("PORT", 8001u16, 0)
        };
        let main_app_url = env.base_url("MAIN_APP_URL", "http://127.0.0.1:8000", &["http", "https"]);
        let api_key = env.required("ELEVENLABS_API_KEY", "ElevenLabs API key for signed URLs");
        let agent_id = env.required("ELEVENLABS_AGENT_ID", "the agent every call talks to");
        let api_base = env.base_url("ELEVENLABS_API_BASE", "https://api.elevenlabs.io", &["http", "https"]);
        let secret = env.required("STREAM_TOKEN_SECRET", "HMAC key shared with main-app");
        if !secret.is_empty() && secret.chars().count() < 32 {
            env.problems.push("STREAM_TOKEN_SECRET must be at least 32 characters".to_owned());
        }
        let instance_id = env
            .optional("MEDIA_PROXY_INSTANCE_ID")
            .unwrap_or_else(|| format!("media-proxy-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]));
        let limits = Limits {
            max_concurrent_calls: env.number("MAX_CONCURRENT_CALLS", 2000usize, 1),
            max_message_bytes: env.number("MAX_MESSAGE_BYTES", 262_144usize, 4096),
            connect_timeout: env.millis("CONNECT_TIMEOUT_MS", 5000, 1),
            request_timeout: env.millis("REQUEST_TIMEOUT_MS", 5000, 1),
            start_timeout: env.millis("START_TIMEOUT_MS", 10_000, 1),
            metadata_timeout: env.millis("AGENT_METADATA_TIMEOUT_MS", 5000, 1),
            agent_idle_timeout: env.secs("AGENT_IDLE_TIMEOUT_SECS", 90, 1),
            write_timeout: env.millis("WRITE_TIMEOUT_MS", 5000, 1),
            inactivity_timeout: env.secs("INACTIVITY_TIMEOUT_SECS", 30, 1),
            max_call_duration: env.secs("MAX_CALL_DURATION_SECS", 3600, 1),
            drain_timeout: env.secs("DRAIN_TIMEOUT_SECS", 60, 0),
            event_queue_capacity: env.number("EVENT_QUEUE_CAPACITY", 10_000usize, 1),
        };
        let bridge = BridgeTiming {
            early_audio_buffer: env.millis("EARLY_AUDIO_BUFFER_MS", 2000, 0),
            goodbye_drain_max: env.millis("GOODBYE_DRAIN_MAX_MS", 5000, 0),
            mark_interval: env.millis("MARK_INTERVAL_MS", 200, 20),
        };
        if !env.problems.is_empty() {
            return Err(SettingsError { problems: env.problems });
        }
        Ok(Self {
            port,
            main_app_url,
            elevenlabs_api_key: SecretString::from(api_key),
            elevenlabs_agent_id: agent_id,
            elevenlabs_api_base: api_base,
            stream_token_secret: SecretString::from(secret),
            instance_id,
            limits,
            bridge,
        })
    }

    /// The stream-token secret as bytes (for `stream_token::verify`).
    pub fn token_secret(&self) -> &[u8] {
        self.stream_token_secret.expose_secret().as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> HashMap<String, String> {
        [
            ("ELEVENLABS_API_KEY", "xi-key"),
            ("ELEVENLABS_AGENT_ID", "agent_1"),
            ("STREAM_TOKEN_SECRET", "0123456789abcdef0123456789abcdef"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn defaults_apply_and_secrets_are_redacted() {
        let s = Settings::from_map(&base()).expect("valid");
        assert_eq!(s.port, 8001);
        assert_eq!(s.main_app_url, "http://127.0.0.1:8000");
        assert_eq!(s.elevenlabs_api_base, "https://api.elevenlabs.io");
        assert_eq!(s.bridge.early_audio_buffer, Duration::from_millis(2000));
        let debug = format!("{s:?}");
        assert!(!debug.contains("xi-key") && !debug.contains("0123456789abcdef"), "{debug}");
    }

    #[test]
    fn every_problem_is_named() {
        let mut vars = base();
        vars.remove("ELEVENLABS_API_KEY");
        vars.insert("STREAM_TOKEN_SECRET".into(), "short".into());
        vars.insert("MAX_CONCURRENT_CALLS".into(), "many".into());
        vars.insert("MAIN_APP_URL".into(), "not a url".into());
        let err = Settings::from_map(&vars).expect_err("invalid").to_string();
        for name in ["ELEVENLABS_API_KEY", "STREAM_TOKEN_SECRET", "MAX_CONCURRENT_CALLS", "MAIN_APP_URL"] {
            assert!(err.contains(name), "{name} missing from {err}");
        }
    }

    #[test]
    fn trailing_slashes_are_trimmed() {
        let mut vars = base();
        vars.insert("MAIN_APP_URL".into(), "http://main:8000/".into());
        let s = Settings::from_map(&vars).expect("valid");
        assert_eq!(s.main_app_url, "http://main:8000");
    }
}
