//! A campaign's settings: templates, caller id, pacing, calling windows, retry policy, the
//! answering-machine policy and optional start and end dates. Validated at the API boundary by
//! [`CampaignSettings::validate`]; stored as given.

use chrono::{DateTime, Utc, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::amd::AmdPolicy;
use common::call::Outcome;
use common::phone::PhoneNumber;

/// Most concurrent calls one campaign may hold.
pub const MAX_CONCURRENT: u32 = 200;
/// Fastest pacing accepted (Twilio's default account limit is 1 CPS; higher needs a raise).
pub const MAX_CPS: f64 = 50.0;
/// Slowest pacing accepted (one call every 100 s).
pub const MIN_CPS: f64 = 0.01;
/// Most attempts per outcome.
pub const MAX_ATTEMPTS: u32 = 10;
/// Longest retry delay (7 days).
pub const MAX_DELAY_MINUTES: u32 = 7 * 24 * 60;

/// Everything that decides how a campaign dials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CampaignSettings {
    /// Agent prompt template (`{{variable}}` placeholders are filled from each contact).
    #[serde(default)]
    pub prompt: Option<String>,
    /// First message template.
    #[serde(default)]
    pub first_message: Option<String>,
    /// Agent language override (`en`, `pt-BR`).
    #[serde(default)]
    pub language: Option<String>,
    /// Caller id (one of `ALLOWED_CALLER_IDS`; default `TWILIO_PHONE_NUMBER`).
    #[serde(default)]
    pub caller_id: Option<PhoneNumber>,
    /// Most calls of this campaign at once.
    #[serde(default = "default_concurrent")]
    pub max_concurrent: u32,
    /// Dials started per second at most (fractions allowed: 0.2 = one every 5 s).
    #[serde(default = "default_cps")]
    pub calls_per_second: f64,
    /// IANA zone for contacts whose own zone is unknown.
    #[serde(default = "default_zone")]
    pub time_zone: String,
    /// When contacts may be called, in their local time. Empty: any time.
    #[serde(default)]
    pub windows: Vec<CallingWindow>,
    /// Retries by outcome.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// What to do on an answering machine (`None`: the configured default).
    #[serde(default)]
    pub amd_policy: Option<AmdPolicy>,
    /// Do not dial before this instant (starting before it schedules the campaign).
    #[serde(default)]
    pub start_at: Option<DateTime<Utc>>,
    /// Complete the campaign at this instant, whatever is left.
    #[serde(default)]
    pub end_at: Option<DateTime<Utc>>,
}

fn default_concurrent() -> u32 {
    5
}

fn default_cps() -> f64 {
    1.0
}

fn default_zone() -> String {
    "UTC".into()
}

impl Default for CampaignSettings {
    fn default() -> Self {
        Self {
            prompt: None,
            first_message: None,
            language: None,
            caller_id: None,
            max_concurrent: default_concurrent(),
            calls_per_second: default_cps(),
            time_zone: default_zone(),
            windows: Vec::new(),
            retry: RetryPolicy::default(),
            amd_policy: None,
            start_at: None,
            end_at: None,
        }
    }
}

/// Days and hours when calls may start, in the contact's local time: `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallingWindow {
    /// Days of the week (`mon` … `sun`).
    pub days: Vec<Day>,
    /// Opening time, `HH:MM`.
    pub start: LocalTime,
    /// Closing time, `HH:MM` (`24:00` for midnight); after `start`.
    pub end: LocalTime,
}

/// A day of the week, `mon` … `sun` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Day {
    /// Chrono's weekday.
    pub fn weekday(self) -> Weekday {
        match self {
            Self::Mon => Weekday::Mon,
            Self::Tue => Weekday::Tue,
            Self::Wed => Weekday::Wed,
            Self::Thu => Weekday::Thu,
            Self::Fri => Weekday::Fri,
            Self::Sat => Weekday::Sat,
            Self::Sun => Weekday::Sun,
        }
    }
}

/// A time of day as minutes since midnight (0..=1440), `HH:MM` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime(pub u16);

impl LocalTime {
    /// Parses `HH:MM` (00:00 … 24:00).
    pub fn parse(s: &str) -> Option<Self> {
        let (h, m) = s.trim().split_once(':')?;
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        let minutes = h.checked_mul(60)?.checked_add(m)?;
        (h <= 24 && m < 60 && minutes <= 1440 && s.trim().len() == 5).then_some(Self(minutes))
    }
}

impl Serialize for LocalTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:02}:{:02}", self.0 / 60, self.0 % 60))
    }
}

impl<'de> Deserialize<'de> for LocalTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a time like 09:30")))
    }
}

/// How many attempts an outcome allows and how long to wait before the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryRule {
    /// Attempts in all while calls keep ending this way (1: no retry).
    pub max_attempts: u32,
    /// Minutes between the end of a call and the next attempt.
    pub delay_minutes: u32,
}

/// Retries per outcome. An answered call (conversation or not) and a canceled one are never
/// retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryPolicy {
    /// Rang out.
    pub no_answer: RetryRule,
    /// Busy.
    pub busy: RetryRule,
    /// Could not be placed or failed.
    pub failed: RetryRule,
    /// An answering machine answered.
    pub voicemail: RetryRule,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            no_answer: RetryRule { max_attempts: 3, delay_minutes: 60 },
            busy: RetryRule { max_attempts: 3, delay_minutes: 15 },
            failed: RetryRule { max_attempts: 2, delay_minutes: 30 },
            voicemail: RetryRule { max_attempts: 1, delay_minutes: 240 },
        }
    }
}

impl RetryPolicy {
    /// The rule of a retryable outcome (`None`: never retried).
    pub fn rule(&self, outcome: Outcome) -> Option<RetryRule> {
        match outcome {
            Outcome::NoAnswer => Some(self.no_answer),
            Outcome::Busy => Some(self.busy),
            Outcome::Failed => Some(self.failed),
            Outcome::Voicemail => Some(self.voicemail),
            Outcome::ConversationHeld | Outcome::NoConversation | Outcome::Canceled => None,
        }
    }

    /// Whether a member that made `attempts` attempts, the last ending with `outcome`, is dialled
    /// again, and after how long.
    pub fn next(&self, outcome: Outcome, attempts: u32) -> Option<chrono::Duration> {
        let rule = self.rule(outcome)?;
        (attempts < rule.max_attempts).then(|| chrono::Duration::minutes(i64::from(rule.delay_minutes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_parse_strictly() {
        assert_eq!(LocalTime::parse("09:30"), Some(LocalTime(570)));
        assert_eq!(LocalTime::parse("24:00"), Some(LocalTime(1440)));
        assert_eq!(LocalTime::parse("00:00"), Some(LocalTime(0)));
        for bad in ["9:30", "24:01", "12:60", "noon", "12-30", "123:00"] {
            assert_eq!(LocalTime::parse(bad), None, "{bad}");
        }
        let json = serde_json::to_string(&LocalTime(545)).expect("json");
        assert_eq!(json, "\"09:05\"");
    }

    #[test]
    fn retries_follow_the_rule_of_the_last_outcome() {
        let p = RetryPolicy::default();
        assert_eq!(p.next(Outcome::NoAnswer, 1), Some(chrono::Duration::minutes(60)));
        assert_eq!(p.next(Outcome::NoAnswer, 2), Some(chrono::Duration::minutes(60)));
        assert_eq!(p.next(Outcome::NoAnswer, 3), None, "three attempts in all");
        assert_eq!(p.next(Outcome::Busy, 1), Some(chrono::Duration::minutes(15)));
        assert_eq!(p.next(Outcome::Voicemail, 1), None, "one voicemail is enough by default");
        assert_eq!(p.next(Outcome::ConversationHeld, 1), None);
        assert_eq!(p.next(Outcome::NoConversation, 1), None);
        assert_eq!(p.next(Outcome::Canceled, 1), None);
    }

    #[test]
    fn missing_fields_take_defaults_and_unknown_ones_are_refused() {
        let s: CampaignSettings = serde_json::from_str("{}").expect("defaults");
        assert_eq!(s, CampaignSettings::default());
        assert!(serde_json::from_str::<CampaignSettings>(r#"{"maxConcurent": 3}"#).is_err());
        let w: CallingWindow =
            serde_json::from_str(r#"{"days":["mon","fri"],"start":"09:00","end":"17:30"}"#).expect("window");
        assert_eq!(w.days, vec![Day::Mon, Day::Fri]);
        assert_eq!(w.end, LocalTime(17 * 60 + 30));
    }
}
