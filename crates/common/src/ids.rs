//! Identifiers, parsed once at the boundary.
//!
//! Twilio SIDs have a fixed shape (two-letter prefix and 32 hex digits); our own ids are UUID v7
//! strings (time-ordered, so they sort by creation). Handlers and stores only ever see these
//! validated values.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a string was refused as an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind}: expected {expected}")]
pub struct IdError {
    /// Which identifier was being parsed.
    pub kind: &'static str,
    /// What a valid value looks like.
    pub expected: &'static str,
}

fn is_twilio_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

macro_rules! twilio_sid {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses a SID, refusing anything that is not the prefix followed by 32 hex digits.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                if is_twilio_sid(s, $prefix) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(IdError { kind: stringify!($name), expected: concat!($prefix, " followed by 32 hex digits") })
                }
            }

            /// A fresh random SID (used by the simulators).
            pub fn random() -> Self {
                Self(format!("{}{}", $prefix, uuid::Uuid::new_v4().simple()))
            }

            /// The SID as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
    };
}

twilio_sid!(
    /// Twilio Call SID (`CA` + 32 hex).
    CallSid,
    "CA"
);
twilio_sid!(
    /// Twilio Account SID (`AC` + 32 hex).
    AccountSid,
    "AC"
);
twilio_sid!(
    /// Twilio Media Stream SID (`MZ` + 32 hex).
    StreamSid,
    "MZ"
);
twilio_sid!(
    /// Twilio Recording SID (`RE` + 32 hex).
    RecordingSid,
    "RE"
);

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// A new time-ordered id.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }

            /// Parses an id, accepting only a canonical UUID string.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                match uuid::Uuid::parse_str(s) {
                    Ok(u) if u.hyphenated().to_string() == s => Ok(Self(s.to_owned())),
                    _ => Err(IdError { kind: stringify!($name), expected: "a UUID" }),
                }
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
    };
}

uuid_id!(
    /// Our internal id of a call, known before Twilio assigns a CallSid.
    CallId
);
uuid_id!(
    /// A campaign.
    CampaignId
);
uuid_id!(
    /// A contact.
    ContactId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_sid_accepts_only_the_twilio_shape() {
        assert!(CallSid::parse("CA0123456789abcdef0123456789abcdef").is_ok());
        assert!(CallSid::parse("CA0123456789ABCDEF0123456789ABCDEF").is_ok());
        assert!(CallSid::parse("CA0123456789abcdef0123456789abcde").is_err());
        assert!(CallSid::parse("RE0123456789abcdef0123456789abcdef").is_err());
        assert!(CallSid::parse("CA0123456789abcdef0123456789abcdeg").is_err());
        assert!(CallSid::random().as_str().starts_with("CA"));
        assert!(CallSid::parse(CallSid::random().as_str()).is_ok());
    }

    #[test]
    fn uuid_ids_round_trip_through_serde() {
        let id = CallId::new();
        let json = serde_json::to_string(&id).expect("serialize");
        let back: CallId = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(id, back);
        assert!(serde_json::from_str::<CallId>("\"not-a-uuid\"").is_err());
    }
}
