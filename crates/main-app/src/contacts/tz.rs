//! Which clock a contact lives by, for calling windows.
//!
//! In order: the contact's explicit zone; else a zone inferred from the number, **only when the
//! number says it unambiguously**; else the campaign's default zone. Inference uses the number's
//! region (libphonenumber metadata) and [`SINGLE_ZONE_REGIONS`] (countries with one clock). For
//! Australia, where the country has several clocks, two numbering areas map to one clock without
//! exception: geographic `+61 2` (NSW/ACT) and `+61 3` (VIC/TAS), which follow identical rules
//! (Australia/Sydney), except `+61 2 6563` (Lord Howe Island, its own half-hour zone). `+61 7`
//! is not used (Tweed Heads, in NSW, has 07 numbers but New South Wales' daylight saving) and
//! `+61 8` spans three clocks. Mobile numbers (`+61 4`) say nothing about where the person is.
//! No area code of the US, Canada, Mexico, Brazil or Russia is used: several cross zone
//! boundaries and numbers move with their owners, so a wrong guess would mean calling at
//! night; those fall back to the campaign's zone.

use chrono_tz::Tz;
use serde::Serialize;

use super::tz_table::SINGLE_ZONE_REGIONS;
use common::phone::PhoneNumber;

/// Where an effective zone came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneSource {
    /// Given explicitly on the contact.
    Contact,
    /// Inferred from the number.
    Number,
    /// The campaign's default zone.
    Campaign,
}

/// Parses an IANA zone name (`Australia/Sydney`), refusing anything else.
pub fn parse_zone(name: &str) -> Result<Tz, String> {
    name.trim().parse::<Tz>().map_err(|_| format!("{name:?} is not an IANA time zone like Australia/Sydney"))
}

/// The zone a number implies, when it implies exactly one clock.
pub fn infer(phone: &PhoneNumber) -> Option<Tz> {
    let e164 = phone.as_str();
    if let Some(rest) = e164.strip_prefix("+61") {
        return match rest.as_bytes().first() {
            _ if rest.starts_with("26563") => Some(Tz::Australia__Lord_Howe),
            Some(b'2' | b'3') => Some(Tz::Australia__Sydney),
            _ => None,
        };
    }
    let region = phone.region()?;
    let code = region.as_ref();
    let i = SINGLE_ZONE_REGIONS.binary_search_by(|(r, _)| (*r).cmp(code)).ok()?;
    SINGLE_ZONE_REGIONS[i].1.parse().ok()
}

/// The zone used for a contact: explicit, else inferred from the number, else `default`.
pub fn effective(explicit: Option<&str>, phone: &PhoneNumber, default: Tz) -> (Tz, ZoneSource) {
    if let Some(tz) = explicit.and_then(|z| parse_zone(z).ok()) {
        return (tz, ZoneSource::Contact);
    }
    match infer(phone) {
        Some(tz) => (tz, ZoneSource::Number),
        None => (default, ZoneSource::Campaign),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(s: &str) -> PhoneNumber {
        PhoneNumber::parse_e164(s).expect("valid test number")
    }

    #[test]
    fn every_table_zone_exists_and_the_table_is_sorted() {
        for (region, zone) in SINGLE_ZONE_REGIONS {
            assert!(zone.parse::<Tz>().is_ok(), "{region}: {zone}");
            assert!(region.parse::<phonenumber::country::Id>().is_ok(), "{region}");
        }
        assert!(SINGLE_ZONE_REGIONS.windows(2).all(|w| w[0].0 < w[1].0), "binary search needs sorted rows");
    }

    #[test]
    fn single_zone_countries_are_inferred() {
        assert_eq!(infer(&phone("+442079460958")), Some(Tz::Europe__London));
        assert_eq!(infer(&phone("+33142685300")), Some(Tz::Europe__Paris));
        assert_eq!(infer(&phone("+819012345678")), Some(Tz::Asia__Tokyo));
        assert_eq!(infer(&phone("+4930123456")), Some(Tz::Europe__Berlin));
        // Jamaica shares +1 with the US but is its own region with one clock.
        assert_eq!(infer(&phone("+18765550123")), Some(Tz::America__Jamaica));
    }

    #[test]
    fn ambiguous_numbers_are_not_guessed() {
        assert_eq!(infer(&phone("+14155552671")), None, "US");
        assert_eq!(infer(&phone("+16135550123")), None, "Canada");
        assert_eq!(infer(&phone("+61412345678")), None, "AU mobile");
        assert_eq!(infer(&phone("+61892345678")), None, "AU 08: three clocks");
        assert_eq!(infer(&phone("+61732345678")), None, "AU 07: Tweed Heads keeps NSW time");
        assert_eq!(infer(&phone("+6421123456")), None, "NZ has the Chatham Islands");
    }

    #[test]
    fn australian_areas_with_one_clock_are_inferred() {
        assert_eq!(infer(&phone("+61298765432")), Some(Tz::Australia__Sydney));
        assert_eq!(infer(&phone("+61396543210")), Some(Tz::Australia__Sydney), "VIC/TAS keep NSW rules");
        assert_eq!(infer(&phone("+61265632000")), Some(Tz::Australia__Lord_Howe));
    }

    #[test]
    fn explicit_beats_number_beats_default() {
        let p = phone("+442079460958");
        assert_eq!(effective(Some("Asia/Tokyo"), &p, Tz::UTC), (Tz::Asia__Tokyo, ZoneSource::Contact));
        assert_eq!(effective(None, &p, Tz::UTC), (Tz::Europe__London, ZoneSource::Number));
        let us = phone("+14155552671");
        assert_eq!(effective(None, &us, Tz::America__Chicago), (Tz::America__Chicago, ZoneSource::Campaign));
        assert_eq!(effective(Some("Mars/Base"), &us, Tz::UTC), (Tz::UTC, ZoneSource::Campaign));
        assert!(parse_zone("Mars/Base").is_err());
    }
}
