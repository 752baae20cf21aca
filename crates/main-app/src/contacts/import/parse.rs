//! Reading a contacts CSV: column detection with the replaced system's aliases, per-row
//! validation (numbers to E.164 with the reason when impossible), duplicates within the file.
//! Synchronous and pure apart from the reader; the upload streams into it.
//!
//! Columns: phone = `Phone`, `Phone Number`, `Mobile`, `Cell`; first name = `FirstName`,
//! `First Name`, `First`; last name = `LastName`, `Last Name`, `Last`; full name = `Name`,
//! `Full Name`, `FullName`, `Contact Name`; email = `Email`, `Email Address`, `EmailAddress`,
//! `E-mail`; time zone = `Time Zone`, `TimeZone`, `tz` (matched ignoring case and surrounding
//! quotes). Every other column is kept as a custom field (usable as `{{variable}}`), up to
//! [`MAX_CUSTOM_FIELDS`]. The caller may name the columns instead.

use chrono::{DateTime, Utc};
use phonenumber::country::Id as Region;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use crate::contacts::model::Contact;
use crate::contacts::tz;
use crate::contacts::validate::{MAX_CUSTOM_FIELDS, MAX_FIELD_NAME, MAX_FIELD_VALUE, MAX_NAME, joined_name};
use common::ids::ContactId;
use common::phone::{PhoneError, PhoneNumber};

const PHONE: &[&str] = &["phone", "phone number", "mobile", "cell"];
const FIRST: &[&str] = &["firstname", "first name", "first"];
const LAST: &[&str] = &["lastname", "last name", "last"];
const NAME: &[&str] = &["name", "full name", "fullname", "contact name"];
const EMAIL: &[&str] = &["email", "email address", "emailaddress", "e-mail"];
const ZONE: &[&str] = &["time zone", "timezone", "time_zone", "tz"];

/// Reported problems kept per kind (the counts are always complete).
pub const MAX_REPORTED: usize = 1000;

/// Columns chosen by the caller (header names), overriding detection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ColumnChoice {
    /// The phone column.
    pub phone_column: Option<String>,
    /// The first-name column.
    pub first_name_column: Option<String>,
    /// The last-name column.
    pub last_name_column: Option<String>,
    /// The full-name column.
    pub name_column: Option<String>,
    /// The email column.
    pub email_column: Option<String>,
    /// The time-zone column.
    pub time_zone_column: Option<String>,
}

/// Which header feeds which field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mapping {
    /// Phone.
    pub phone: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Full name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Time zone.
    pub time_zone: Option<String>,
    /// Custom fields.
    pub custom_fields: Vec<String>,
    /// Columns ignored (beyond the custom-field limit, or with an empty header).
    pub ignored: Vec<String>,
}

/// A row that cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvalidRow {
    /// Line in the file (the header is line 1).
    pub line: u64,
    /// The phone cell as given.
    pub value: String,
    /// Why.
    pub reason: String,
}

/// A row whose number appeared earlier in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DuplicateRow {
    /// Line of this row.
    pub line: u64,
    /// The number (E.164).
    pub phone: String,
    /// Line where it was first seen.
    pub first_line: u64,
}

/// A valid row, as a contact to write.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidRow {
    /// Line in the file.
    pub line: u64,
    /// The contact it describes (fresh id; an existing contact with this number is merged).
    pub contact: Contact,
}

/// The whole file, read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedFile {
    /// Headers as given.
    pub headers: Vec<String>,
    /// How they were used.
    pub mapping: Mapping,
    /// Data rows read.
    pub rows: u64,
    /// Valid, first occurrences.
    pub valid: Vec<ValidRow>,
    /// Invalid rows (the first [`MAX_REPORTED`]).
    pub invalid: Vec<InvalidRow>,
    /// Invalid rows in all.
    pub invalid_count: u64,
    /// Duplicates (the first [`MAX_REPORTED`]).
    pub duplicates: Vec<DuplicateRow>,
    /// Duplicates in all.
    pub duplicate_count: u64,
}

/// Why a file cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// No header row.
    #[error("the file is empty")]
    Empty,
    /// No column is (or was named as) the phone column.
    #[error("no phone column: name one of the headers as the phone column (headers: {0})")]
    NoPhoneColumn(String),
    /// A named column does not exist.
    #[error("there is no column {0:?}")]
    UnknownColumn(String),
    /// Not readable as CSV (or the upload failed).
    #[error("unreadable CSV: {0}")]
    Unreadable(String),
}

/// A cell without surrounding whitespace and quotes.
fn clean(s: &str) -> String {
    s.trim().trim_matches(|c| c == '"' || c == '\'').trim().to_owned()
}

fn find(headers: &[String], aliases: &[&str], chosen: Option<&str>) -> Result<Option<usize>, FileError> {
    if let Some(name) = chosen.filter(|n| !n.trim().is_empty()) {
        let i = headers
            .iter()
            .position(|h| h == name.trim())
            .ok_or_else(|| FileError::UnknownColumn(name.into()))?;
        return Ok(Some(i));
    }
    Ok(headers.iter().position(|h| aliases.contains(&h.to_lowercase().as_str())))
}

/// Column indexes of the known fields.
struct Columns {
    phone: usize,
    first: Option<usize>,
    last: Option<usize>,
    name: Option<usize>,
    email: Option<usize>,
    zone: Option<usize>,
    custom: Vec<usize>,
}

fn columns(headers: &[String], choice: &ColumnChoice) -> Result<(Columns, Mapping), FileError> {
    let phone = find(headers, PHONE, choice.phone_column.as_deref())?
        .ok_or_else(|| FileError::NoPhoneColumn(headers.join(", ")))?;
    let cols = Columns {
        phone,
        first: find(headers, FIRST, choice.first_name_column.as_deref())?,
        last: find(headers, LAST, choice.last_name_column.as_deref())?,
        name: find(headers, NAME, choice.name_column.as_deref())?,
        email: find(headers, EMAIL, choice.email_column.as_deref())?,
        zone: find(headers, ZONE, choice.time_zone_column.as_deref())?,
        custom: Vec::new(),
    };
    let known = [Some(cols.phone), cols.first, cols.last, cols.name, cols.email, cols.zone];
    let header = |i: Option<usize>| i.map(|i| headers[i].clone());
    let mut mapping = Mapping {
        phone: header(Some(cols.phone)),
        first_name: header(cols.first),
        last_name: header(cols.last),
        name: header(cols.name),
        email: header(cols.email),
        time_zone: header(cols.zone),
        ..Mapping::default()
    };
    let mut cols = cols;
    for (i, h) in headers.iter().enumerate().filter(|(i, _)| !known.contains(&Some(*i))) {
        let usable =
            !h.is_empty() && h.chars().count() <= MAX_FIELD_NAME && !mapping.custom_fields.contains(h);
        if usable && cols.custom.len() < MAX_CUSTOM_FIELDS {
            cols.custom.push(i);
            mapping.custom_fields.push(h.clone());
        } else {
            mapping.ignored.push(h.clone());
        }
    }
    Ok((cols, mapping))
}

fn truncated(s: String, max: usize) -> String {
    if s.chars().count() > max { s.chars().take(max).collect() } else { s }
}

fn why(e: &PhoneError) -> String {
    match e {
        PhoneError::NoRegion => "no country code (+…) and no default region to read it in".into(),
        PhoneError::Invalid => "not a valid number for its country".into(),
        PhoneError::Unparseable => "not a phone number".into(),
        PhoneError::UnknownRegion(r) => format!("unknown region {r}"),
    }
}

/// Builds the contact of one row, or why the row is invalid.
fn row_contact(
    cells: &[String],
    cols: &Columns,
    headers: &[String],
    region: Option<Region>,
    tags: &[String],
    now: DateTime<Utc>,
) -> Result<Contact, (String, String)> {
    let cell = |i: Option<usize>| i.and_then(|i| cells.get(i)).map(|c| clean(c)).filter(|c| !c.is_empty());
    let raw = cell(Some(cols.phone)).unwrap_or_default();
    if raw.is_empty() {
        return Err((raw, "no phone number".into()));
    }
    if raw.chars().filter(char::is_ascii_digit).count() < 3 {
        return Err((raw, "not a phone number".into()));
    }
    let phone = PhoneNumber::parse(&raw, region).map_err(|e| (raw.clone(), why(&e)))?;
    let first_name = cell(cols.first).map(|s| truncated(s, MAX_NAME));
    let last_name = cell(cols.last).map(|s| truncated(s, MAX_NAME));
    let name = cell(cols.name)
        .map(|s| truncated(s, MAX_NAME))
        .or_else(|| joined_name(first_name.as_deref(), last_name.as_deref()));
    let email = cell(cols.email)
        .map(|e| e.to_lowercase())
        .filter(|e| e.contains('@') && !e.contains(char::is_whitespace));
    let time_zone = cell(cols.zone).and_then(|z| tz::parse_zone(&z).ok()).map(|z| z.name().to_owned());
    let custom_fields: BTreeMap<String, String> = cols
        .custom
        .iter()
        .filter_map(|i| cell(Some(*i)).map(|v| (headers[*i].clone(), truncated(v, MAX_FIELD_VALUE))))
        .collect();
    Ok(Contact {
        id: ContactId::new(),
        phone,
        first_name,
        last_name,
        name,
        email,
        time_zone,
        tags: tags.to_vec(),
        custom_fields,
        notes: None,
        created_at: now,
        updated_at: now,
    })
}

/// Reads a whole CSV. `tags` are given to every row's contact.
pub fn parse(
    reader: impl Read,
    choice: &ColumnChoice,
    region: Option<Region>,
    tags: &[String],
    now: DateTime<Utc>,
) -> Result<ParsedFile, FileError> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(reader);
    let unreadable = |e: csv::Error| FileError::Unreadable(e.to_string());
    let headers: Vec<String> =
        csv.byte_headers().map_err(unreadable)?.iter().map(|h| clean(&String::from_utf8_lossy(h))).collect();
    if headers.iter().all(String::is_empty) {
        return Err(FileError::Empty);
    }
    let (cols, mapping) = columns(&headers, choice)?;
    let mut out = ParsedFile { headers: headers.clone(), mapping, ..ParsedFile::default() };
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut record = csv::ByteRecord::new();
    while csv.read_byte_record(&mut record).map_err(unreadable)? {
        let line = record.position().map_or(0, csv::Position::line);
        let cells: Vec<String> = record.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        out.rows += 1;
        match row_contact(&cells, &cols, &headers, region, tags, now) {
            Err((value, reason)) => {
                out.invalid_count += 1;
                if out.invalid.len() < MAX_REPORTED {
                    out.invalid.push(InvalidRow { line, value, reason });
                }
            }
            Ok(contact) => match seen.get(contact.phone.as_str()) {
                Some(first) => {
                    out.duplicate_count += 1;
                    if out.duplicates.len() < MAX_REPORTED {
                        out.duplicates.push(DuplicateRow {
                            line,
                            phone: contact.phone.to_string(),
                            first_line: *first,
                        });
                    }
                }
                None => {
                    seen.insert(contact.phone.to_string(), line);
                    out.valid.push(ValidRow { line, contact });
                }
            },
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(csv: &str, choice: &ColumnChoice) -> Result<ParsedFile, FileError> {
        let au = common::phone::parse_region("AU").ok();
        parse(csv.as_bytes(), choice, au, &["imported".to_owned()], Utc::now())
    }

    #[test]
    fn aliases_quotes_names_and_custom_fields() {
        let csv = "First Name,Last Name,Mobile,E-mail,Company Name,tz\n\
                   \"'Zoë'\",O'Brien,'0412 345 678',ZOE@Example.com,Acme,Australia/Perth\n\
                   Bob,,+44 20 7946 0958,not-an-email,,Mars/Base\n";
        let f = read(csv, &ColumnChoice::default()).expect("parsed");
        assert_eq!(f.mapping.phone.as_deref(), Some("Mobile"));
        assert_eq!(f.mapping.custom_fields, vec!["Company Name"]);
        assert_eq!((f.rows, f.valid.len(), f.invalid_count), (2, 2, 0));
        let zoe = &f.valid[0].contact;
        assert_eq!(zoe.phone.as_str(), "+61412345678");
        assert_eq!(zoe.first_name.as_deref(), Some("Zoë"), "surrounding quotes stripped");
        assert_eq!(zoe.name.as_deref(), Some("Zoë O'Brien"));
        assert_eq!(zoe.email.as_deref(), Some("zoe@example.com"));
        assert_eq!(zoe.time_zone.as_deref(), Some("Australia/Perth"));
        assert_eq!(zoe.custom_fields.get("Company Name").map(String::as_str), Some("Acme"));
        assert_eq!(zoe.tags, vec!["imported"]);
        let bob = &f.valid[1].contact;
        assert_eq!(
            (bob.phone.as_str(), bob.email.as_ref(), bob.time_zone.as_ref()),
            ("+442079460958", None, None)
        );
        assert!(bob.custom_fields.is_empty(), "empty cells are not fields");
        assert_eq!(f.valid[1].line, 3);
    }

    #[test]
    fn invalid_numbers_and_duplicates_are_reported_with_lines() {
        let csv = "phone,name\n0412345678,A\nhello,B\n+1555,C\n,D\n+61 412 345 678,E\n\n0412345679,F\n";
        let f = read(csv, &ColumnChoice::default()).expect("parsed");
        assert_eq!((f.rows, f.valid.len(), f.invalid_count, f.duplicate_count), (6, 2, 3, 1));
        let reasons: Vec<(u64, &str)> = f.invalid.iter().map(|i| (i.line, i.reason.as_str())).collect();
        assert_eq!(reasons[0], (3, "not a phone number"));
        assert_eq!(reasons[1].0, 4);
        assert_eq!(reasons[2], (5, "no phone number"));
        assert_eq!(f.duplicates, vec![DuplicateRow { line: 6, phone: "+61412345678".into(), first_line: 2 }]);
    }

    #[test]
    fn columns_can_be_named_and_a_missing_phone_column_is_an_error() {
        let csv = "Tel,Who\n0412345678,Ann\n";
        let no_region = parse(
            "phone\nnot a number\n0412345678\n".as_bytes(),
            &ColumnChoice::default(),
            None,
            &[],
            Utc::now(),
        )
        .expect("parsed");
        let reasons: Vec<&str> = no_region.invalid.iter().map(|i| i.reason.as_str()).collect();
        assert_eq!(
            reasons,
            ["not a phone number", "no country code (+…) and no default region to read it in"]
        );
        assert!(
            matches!(read(csv, &ColumnChoice::default()), Err(FileError::NoPhoneColumn(h)) if h == "Tel, Who")
        );
        let choice = ColumnChoice {
            phone_column: Some("Tel".into()),
            name_column: Some("Who".into()),
            ..Default::default()
        };
        let f = read(csv, &choice).expect("parsed");
        assert_eq!(f.valid[0].contact.name.as_deref(), Some("Ann"));
        let bad = ColumnChoice { phone_column: Some("Nope".into()), ..Default::default() };
        assert_eq!(read(csv, &bad), Err(FileError::UnknownColumn("Nope".into())));
        assert_eq!(read("", &ColumnChoice::default()), Err(FileError::Empty));
    }
}
