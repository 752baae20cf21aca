//! Reading a [`SandboxConfig`] from environment variables (the `sandbox` binary; documented in
//! `docs/sandbox.md` and `.env.example`). Every variable is optional; a malformed value refuses
//! to start with a message naming the variable.

use crate::config::{CallbackTestModes, CpsMode, Limits, SandboxConfig, TwilioAccount};
use common::elevenlabs::AudioFormat;
use common::ids::AccountSid;
use common::phone::PhoneNumber;
use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// Default listen address of the binary.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4010";

/// What the binary needs besides the library configuration.
#[derive(Debug)]
pub struct BinSettings {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Custom scenarios to load.
    pub scenario_file: Option<PathBuf>,
}

/// A malformed variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {name}: {reason}")]
pub struct EnvError {
    /// The variable.
    pub name: String,
    /// What is wrong.
    pub reason: String,
}

fn err(name: &str, reason: impl Into<String>) -> EnvError {
    EnvError { name: name.to_owned(), reason: reason.into() }
}

struct Vars<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Vars<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    fn parse<T: FromStr>(&self, name: &str) -> Result<Option<T>, EnvError> {
        self.get(name).map(|v| v.parse().map_err(|_| err(name, format!("cannot parse {v:?}")))).transpose()
    }

    fn flag(&self, name: &str) -> Result<Option<bool>, EnvError> {
        match self.get(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => Ok(None),
            Some("1" | "true" | "yes" | "on") => Ok(Some(true)),
            Some("0" | "false" | "no" | "off") => Ok(Some(false)),
            Some(other) => Err(err(name, format!("expected true or false, got {other:?}"))),
        }
    }

    fn ms(&self, name: &str) -> Result<Option<Duration>, EnvError> {
        Ok(self.parse::<u64>(name)?.map(Duration::from_millis))
    }

    fn format(&self, name: &str) -> Result<Option<AudioFormat>, EnvError> {
        self.get(name)
            .map(|v| AudioFormat::parse(&v).ok_or_else(|| err(name, format!("unknown format {v:?}"))))
            .transpose()
    }
}

fn numbers(name: &str, list: &str) -> Result<Vec<PhoneNumber>, EnvError> {
    list.split([',', '|'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| PhoneNumber::parse_e164(n).map_err(|e| err(name, format!("{n}: {e}"))))
        .collect()
}

fn account(name: &str, sid: &str, token: &str, nums: &str) -> Result<TwilioAccount, EnvError> {
    Ok(TwilioAccount {
        sid: AccountSid::parse(sid).map_err(|e| err(name, e.to_string()))?,
        auth_token: SecretString::from(token.to_owned()),
        numbers: numbers(name, nums)?,
    })
}

fn accounts(v: &Vars<'_>, config: &mut SandboxConfig) -> Result<(), EnvError> {
    let default = TwilioAccount::default_account();
    let primary = &mut config.accounts[0];
    if let Some(sid) = v.get("SANDBOX_TWILIO_ACCOUNT_SID") {
        primary.sid =
            AccountSid::parse(&sid).map_err(|e| err("SANDBOX_TWILIO_ACCOUNT_SID", e.to_string()))?;
    }
    if let Some(token) = v.get("SANDBOX_TWILIO_AUTH_TOKEN") {
        primary.auth_token = SecretString::from(token);
    }
    primary.numbers = match v.get("SANDBOX_TWILIO_NUMBERS") {
        Some(list) => numbers("SANDBOX_TWILIO_NUMBERS", &list)?,
        None => default.numbers,
    };
    for spec in
        v.get("SANDBOX_TWILIO_EXTRA_ACCOUNTS").unwrap_or_default().split(';').filter(|s| !s.trim().is_empty())
    {
        let parts: Vec<&str> = spec.trim().splitn(3, ':').collect();
        let [sid, token, nums] = parts[..] else {
            return Err(err("SANDBOX_TWILIO_EXTRA_ACCOUNTS", "expected SID:TOKEN:+61…|+61…; entries"));
        };
        config.accounts.push(account("SANDBOX_TWILIO_EXTRA_ACCOUNTS", sid, token, nums)?);
    }
    Ok(())
}

fn elevenlabs(v: &Vars<'_>, config: &mut SandboxConfig) -> Result<(), EnvError> {
    let el = &mut config.elevenlabs;
    if let Some(key) = v.get("SANDBOX_EL_API_KEY") {
        el.api_key = SecretString::from(key);
    }
    if let Some(agent) = v.get("SANDBOX_EL_AGENT_ID") {
        el.agent_id = agent;
    }
    if let Some(list) = v.get("SANDBOX_EL_ALLOWED_OVERRIDES") {
        el.allowed_overrides = if list.eq_ignore_ascii_case("none") {
            Default::default()
        } else {
            list.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
        };
    }
    if let Some(f) = v.format("SANDBOX_EL_AUDIO_FORMAT")? {
        (el.output_format, el.input_format) = (f, f);
    }
    el.output_format = v.format("SANDBOX_EL_OUTPUT_FORMAT")?.unwrap_or(el.output_format);
    el.input_format = v.format("SANDBOX_EL_INPUT_FORMAT")?.unwrap_or(el.input_format);
    el.webhook_url = v.get("SANDBOX_EL_WEBHOOK_URL").or(el.webhook_url.take());
    if let Some(secret) = v.get("SANDBOX_EL_WEBHOOK_SECRET") {
        el.webhook_secret = SecretString::from(secret);
    }
    el.require_signed_url = v.flag("SANDBOX_EL_REQUIRE_SIGNED_URL")?.unwrap_or(el.require_signed_url);
    el.ping_interval = v.ms("SANDBOX_EL_PING_INTERVAL_MS")?.unwrap_or(el.ping_interval);
    el.pong_timeout = v.ms("SANDBOX_EL_PONG_TIMEOUT_MS")?.unwrap_or(el.pong_timeout);
    el.idle_timeout = v.ms("SANDBOX_EL_IDLE_TIMEOUT_MS")?.unwrap_or(el.idle_timeout);
    if let Some(secs) = v.parse::<u64>("SANDBOX_EL_MAX_DURATION_SECS")? {
        el.max_duration = Duration::from_secs(secs);
    }
    Ok(())
}

/// Reads the configuration through `lookup` (e.g. `|k| std::env::var(k).ok()`).
pub fn from_vars(lookup: &dyn Fn(&str) -> Option<String>) -> Result<(SandboxConfig, BinSettings), EnvError> {
    let v = Vars(lookup);
    let defaults = SandboxConfig::default();
    let cps_mode = match v.get("SANDBOX_CPS_MODE").as_deref() {
        None | Some("reject") => CpsMode::Reject,
        Some("queue") => CpsMode::Queue,
        Some(other) => {
            return Err(err("SANDBOX_CPS_MODE", format!("expected reject or queue, got {other:?}")));
        }
    };
    let test_modes = CallbackTestModes {
        duplicate: v.flag("SANDBOX_TEST_DUPLICATE_CALLBACKS")?.unwrap_or(false),
        shuffle: v.flag("SANDBOX_TEST_SHUFFLE_CALLBACKS")?.unwrap_or(false),
        delay_ms: v.parse("SANDBOX_TEST_CALLBACK_DELAY_MS")?.unwrap_or(0),
    };
    let limits = Limits {
        max_kept: v.parse("SANDBOX_MAX_KEPT")?.unwrap_or(defaults.limits.max_kept),
        max_recording_secs: v
            .parse("SANDBOX_MAX_RECORDING_SECS")?
            .unwrap_or(defaults.limits.max_recording_secs),
        max_live_calls: v.parse("SANDBOX_MAX_LIVE_CALLS")?.unwrap_or(defaults.limits.max_live_calls),
    };
    let mut config = SandboxConfig {
        public_url: v.get("SANDBOX_PUBLIC_URL"),
        speed: v.parse("SANDBOX_SPEED")?.unwrap_or(1.0),
        cps_limit: v.parse("SANDBOX_CPS_LIMIT")?,
        cps_mode,
        test_modes,
        limits,
        stream_connect_timeout: v
            .ms("SANDBOX_STREAM_CONNECT_TIMEOUT_MS")?
            .unwrap_or(defaults.stream_connect_timeout),
        ..defaults
    };
    accounts(&v, &mut config)?;
    elevenlabs(&v, &mut config)?;
    let listen =
        v.parse("SANDBOX_LISTEN")?.unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("default address parses"));
    let scenario_file = v.get("SANDBOX_SCENARIO_FILE").map(PathBuf::from);
    config.validate().map_err(|e| match e {
        crate::config::ConfigError::Invalid { name, reason } => err(name, reason),
    })?;
    Ok((config, BinSettings { listen, scenario_file }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn read(pairs: &[(&str, &str)]) -> Result<(SandboxConfig, BinSettings), EnvError> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        from_vars(&move |k| map.get(k).cloned())
    }

    #[test]
    fn empty_environment_gives_working_defaults() {
        let (c, bin) = read(&[]).expect("defaults");
        assert_eq!(bin.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.accounts[0].sid.as_str(), crate::config::DEFAULT_ACCOUNT_SID);
        assert_eq!(c.accounts[0].numbers[0].as_str(), crate::config::DEFAULT_FROM_NUMBER);
        assert_eq!(c.elevenlabs.output_format, AudioFormat::Ulaw8000);
        assert!(c.elevenlabs.webhook_url.is_none());
        assert_eq!(c.speed, 1.0);
    }

    #[test]
    fn reads_every_kind_of_setting() {
        let (c, bin) = read(&[
            ("SANDBOX_LISTEN", "0.0.0.0:5000"),
            ("SANDBOX_SPEED", "10"),
            ("SANDBOX_CPS_LIMIT", "2"),
            ("SANDBOX_CPS_MODE", "queue"),
            ("SANDBOX_TWILIO_AUTH_TOKEN", "tok"),
            ("SANDBOX_TWILIO_NUMBERS", "+61491571267, +61491571268"),
            ("SANDBOX_TWILIO_EXTRA_ACCOUNTS", "AC00000000000000000000000000000001:t2:+61491571300"),
            ("SANDBOX_EL_AUDIO_FORMAT", "pcm_16000"),
            ("SANDBOX_EL_ALLOWED_OVERRIDES", "none"),
            ("SANDBOX_EL_WEBHOOK_URL", "http://app/webhooks/elevenlabs"),
            ("SANDBOX_EL_PING_INTERVAL_MS", "500"),
            ("SANDBOX_TEST_DUPLICATE_CALLBACKS", "true"),
            ("SANDBOX_SCENARIO_FILE", "/tmp/s.json"),
            ("SANDBOX_STREAM_CONNECT_TIMEOUT_MS", "2500"),
        ])
        .expect("valid");
        assert_eq!(bin.listen.port(), 5000);
        assert_eq!(bin.scenario_file, Some(PathBuf::from("/tmp/s.json")));
        assert_eq!((c.speed, c.cps_limit, c.cps_mode), (10.0, Some(2), CpsMode::Queue));
        assert_eq!(c.accounts[0].auth_token.expose_secret(), "tok");
        assert_eq!(c.accounts[0].numbers.len(), 2);
        assert_eq!(c.accounts[1].numbers[0].as_str(), "+61491571300");
        assert_eq!(
            (c.elevenlabs.output_format, c.elevenlabs.input_format),
            (AudioFormat::Pcm(16000), AudioFormat::Pcm(16000))
        );
        assert!(c.elevenlabs.allowed_overrides.is_empty());
        assert_eq!(c.elevenlabs.ping_interval, Duration::from_millis(500));
        assert!(c.test_modes.duplicate);
        assert_eq!(c.stream_connect_timeout, Duration::from_millis(2500));
    }

    #[test]
    fn malformed_values_name_the_variable() {
        for (name, value) in [
            ("SANDBOX_SPEED", "fast"),
            ("SANDBOX_SPEED", "0"),
            ("SANDBOX_CPS_MODE", "drop"),
            ("SANDBOX_TWILIO_NUMBERS", "12345"),
            ("SANDBOX_TWILIO_ACCOUNT_SID", "ACnope"),
            ("SANDBOX_EL_AUDIO_FORMAT", "mp3"),
            ("SANDBOX_TEST_SHUFFLE_CALLBACKS", "maybe"),
            ("SANDBOX_TWILIO_EXTRA_ACCOUNTS", "AC1"),
            ("SANDBOX_STREAM_CONNECT_TIMEOUT_MS", "0"),
        ] {
            let e = read(&[(name, value)]).expect_err(name);
            assert_eq!(e.name, name, "{e}");
        }
    }
}
