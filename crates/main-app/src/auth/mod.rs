//! Authentication: API keys for machines, session cookies for the dashboard.

pub mod store;
