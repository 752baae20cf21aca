//! Campaigns: their settings and states, their members and attempts, the dialling engine, and
//! the API over them. See `docs/campaigns.md`.

pub mod engine;
pub mod model;
pub mod pacing;
pub mod progress;
pub mod settings;
pub mod settings_model;
pub mod store;
pub mod template;
pub mod window;
