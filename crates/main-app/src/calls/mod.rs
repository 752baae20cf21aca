//! Calls: placing them, their lifecycle, their audit log, and the API over them.

pub mod model;
pub mod store;
