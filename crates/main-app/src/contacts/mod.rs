//! Contacts and the do-not-call list: records, CSV import and export, and the API over them.

pub mod model;
pub mod store;
pub mod tz;
mod tz_table;
