//! E.164 phone numbers.
//!
//! Every number we dial or store goes through [`PhoneNumber::parse`], which uses Google's
//! libphonenumber metadata (the `phonenumber` crate): national formats are read in the configured
//! default region, and only numbers the metadata calls valid are accepted. The replaced system
//! stored digits without `+` and dialled whatever it was given; we never do.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a string is not a dialable phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// The text could not be read as a phone number at all.
    #[error("not a phone number")]
    Unparseable,
    /// A national number was given but no default region is configured to read it in.
    #[error("national number without a country code and no default region")]
    NoRegion,
    /// It parses, but the number plan says no such number can exist.
    #[error("not a valid number for its country")]
    Invalid,
    /// The configured region code is unknown.
    #[error("unknown region code {0}")]
    UnknownRegion(String),
}

/// A validated phone number in E.164 form (`+14155551234`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

/// Parses an ISO 3166 region code ("AU", "us") for [`PhoneNumber::parse`].
pub fn parse_region(code: &str) -> Result<phonenumber::country::Id, PhoneError> {
    code.trim()
        .to_ascii_uppercase()
        .parse::<phonenumber::country::Id>()
        .map_err(|_| PhoneError::UnknownRegion(code.to_owned()))
}

impl PhoneNumber {
    /// Parses user input. Numbers starting with `+` (or `00`) are international; anything else is
    /// read as a national number of `default_region`.
    pub fn parse(input: &str, default_region: Option<phonenumber::country::Id>) -> Result<Self, PhoneError> {
        let trimmed = input.trim().trim_matches(|c| c == '"' || c == '\'');
        if trimmed.is_empty() {
            return Err(PhoneError::Unparseable);
        }
        let international = trimmed.starts_with('+') || trimmed.starts_with("00");
        if !international && default_region.is_none() {
            return Err(PhoneError::NoRegion);
        }
        let normalised =
            if let Some(rest) = trimmed.strip_prefix("00") { format!("+{rest}") } else { trimmed.to_owned() };
        let parsed = phonenumber::parse(if international { None } else { default_region }, &normalised)
            .map_err(|_| PhoneError::Unparseable)?;
        if !parsed.is_valid() {
            return Err(PhoneError::Invalid);
        }
        Ok(Self(parsed.format().mode(phonenumber::Mode::E164).to_string()))
    }

    /// Parses a string that must already be E.164 (what the store and Twilio hold).
    pub fn parse_e164(input: &str) -> Result<Self, PhoneError> {
        if !input.starts_with('+') {
            return Err(PhoneError::Unparseable);
        }
        Self::parse(input, None)
    }

    /// The ISO region this number belongs to, when the number plan says so unambiguously.
    pub fn region(&self) -> Option<phonenumber::country::Id> {
        phonenumber::parse(None, &self.0).ok().and_then(|p| p.country().id())
    }

    /// The number as E.164 text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with all but the last three digits hidden, for logs.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// Masks a phone-number-like string for logs: keeps a leading `+` and the last three characters.
pub fn mask(number: &str) -> String {
    let n = number.chars().count();
    if n <= 4 {
        return "***".to_owned();
    }
    let tail: String = number.chars().skip(n - 3).collect();
    let plus = if number.starts_with('+') { "+" } else { "" };
    format!("{plus}***{tail}")
}

impl TryFrom<String> for PhoneNumber {
    type Error = PhoneError;
    fn try_from(s: String) -> Result<Self, PhoneError> {
        Self::parse_e164(&s)
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> String {
        p.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_numbers_use_the_default_region() {
        let au = parse_region("AU").expect("AU");
        let n = PhoneNumber::parse("0412 345 678", Some(au)).expect("valid AU mobile");
        assert_eq!(n.as_str(), "+61412345678");
        let us = parse_region("us").expect("US");
        let n = PhoneNumber::parse("(415) 555-2671", Some(us)).expect("valid US number");
        assert_eq!(n.as_str(), "+14155552671");
    }

    #[test]
    fn international_numbers_ignore_the_region() {
        let au = parse_region("AU").expect("AU");
        let n = PhoneNumber::parse("+1 415 555 2671", Some(au)).expect("valid");
        assert_eq!(n.as_str(), "+14155552671");
        let n = PhoneNumber::parse("0044 20 7946 0958", None).expect("valid UK");
        assert_eq!(n.as_str(), "+442079460958");
    }

    #[test]
    fn rejects_garbage_and_impossible_numbers() {
        assert_eq!(PhoneNumber::parse("", None), Err(PhoneError::Unparseable));
        assert_eq!(PhoneNumber::parse("0412345678", None), Err(PhoneError::NoRegion));
        assert!(PhoneNumber::parse("+1555", None).is_err());
        assert!(PhoneNumber::parse("hello", Some(parse_region("AU").expect("AU"))).is_err());
        assert!(PhoneNumber::parse_e164("61412345678").is_err());
    }

    #[test]
    fn masks_all_but_the_tail() {
        assert_eq!(mask("+61412345678"), "+***678");
        assert_eq!(mask("123"), "***");
    }
}
